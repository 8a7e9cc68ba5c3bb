//! Speaking to the HTTP shim as AgentGate's clients do: plain requests with
//! exactly the headers given, a WebSocket client, and an SSE reader. No fixed
//! ports: the address comes from `<root>/daemon.json`.

use std::io::{BufRead, BufReader, Read};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::{Daemon, wait_for};

/// The address this daemon's HTTP shim bound (written once it listens; the
/// pid tells it from a file left by an earlier daemon).
pub fn http_addr(d: &Daemon) -> String {
    let pid = d.pid();
    wait_for("daemon.json with httpAddr", Duration::from_secs(20), || {
        let info: Value =
            serde_json::from_slice(&std::fs::read(d.root.join("daemon.json")).ok()?).ok()?;
        if info["pid"].as_u64() != Some(pid as u64) {
            return None;
        }
        info["httpAddr"].as_str().map(str::to_string)
    })
}

pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub text: String,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text)
            .unwrap_or_else(|e| panic!("not JSON ({e}), status {}: {:?}", self.status, self.text))
    }

    /// `data` of a success envelope with this status.
    pub fn data(&self, status: u16) -> Value {
        let v = self.json();
        assert_eq!(self.status, status, "{v}");
        assert_eq!(v["success"], true, "{v}");
        v["data"].clone()
    }

    /// `error` of an error envelope with this status.
    pub fn error(&self, status: u16) -> Value {
        let v = self.json();
        assert_eq!(self.status, status, "{v}");
        assert_eq!(v["success"], false, "{v}");
        assert!(v["error"]["message"].is_string(), "{v}");
        v["error"].clone()
    }

    /// A 401: `error` is the message itself (the AgentGate dashboard shows
    /// it as text), `code` says UNAUTHORIZED.
    pub fn unauthorized(&self) -> String {
        let v = self.json();
        assert_eq!(self.status, 401, "{v}");
        assert_eq!(v["success"], false, "{v}");
        assert_eq!(v["code"], "UNAUTHORIZED", "{v}");
        v["error"].as_str().expect("error is text").to_string()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .into()
}

/// One request with exactly these headers (and, with a body, nothing added
/// but its length).
pub fn request(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&[u8]>,
) -> Reply {
    let mut b = ureq::http::Request::builder()
        .method(method)
        .uri(format!("http://{addr}{path}"));
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    let resp = match body {
        Some(bytes) => agent().run(b.body(bytes.to_vec()).unwrap()),
        None => agent().run(b.body(()).unwrap()),
    };
    let mut resp = resp.unwrap_or_else(|e| panic!("{method} {path}: {e}"));
    let headers = resp
        .headers()
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_string()))
        .collect();
    Reply {
        status: resp.status().as_u16(),
        headers,
        text: resp.body_mut().read_to_string().unwrap_or_default(),
    }
}

/// A WebSocket client (tungstenite over a plain socket with a read timeout).
pub struct Ws {
    socket: tungstenite::WebSocket<TcpStream>,
}

impl Ws {
    /// Opens `ws://addr{path}` with these extra handshake headers; the HTTP
    /// status and body of a refused handshake as the error.
    pub fn connect(addr: &str, path: &str, headers: &[(&str, &str)]) -> Result<Ws, (u16, String)> {
        use tungstenite::client::IntoClientRequest;
        let mut req = format!("ws://{addr}{path}").into_client_request().unwrap();
        for (k, v) in headers {
            req.headers_mut().insert(
                tungstenite::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        let stream = TcpStream::connect(addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        match tungstenite::client(req, stream) {
            Ok((socket, _)) => Ok(Ws { socket }),
            Err(tungstenite::HandshakeError::Failure(tungstenite::Error::Http(resp))) => {
                let body = resp
                    .body()
                    .as_ref()
                    .map(|b| String::from_utf8_lossy(b).into_owned())
                    .unwrap_or_default();
                Err((resp.status().as_u16(), body))
            }
            Err(e) => panic!("WebSocket handshake: {e}"),
        }
    }

    pub fn send_text(&mut self, text: &str) {
        self.socket
            .send(tungstenite::Message::text(text.to_string()))
            .unwrap();
    }

    pub fn send_json(&mut self, v: Value) {
        self.send_text(&v.to_string());
    }

    /// The next JSON message before `deadline`, `None` on timeout; panics if
    /// the server closed the connection.
    pub fn next_json_until(&mut self, deadline: Instant) -> Option<Value> {
        loop {
            if Instant::now() > deadline {
                return None;
            }
            match self.socket.read() {
                Ok(tungstenite::Message::Text(t)) => {
                    return Some(serde_json::from_str(t.as_str()).unwrap());
                }
                Ok(tungstenite::Message::Close(c)) => panic!("closed by the server: {c:?}"),
                Ok(_) => continue,
                Err(tungstenite::Error::Io(e))
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) =>
                {
                    continue;
                }
                Err(e) => panic!("WebSocket read: {e}"),
            }
        }
    }

    /// Reads until a message satisfies `pred` (others are skipped); panics
    /// after `timeout`.
    #[track_caller]
    pub fn wait_for(&mut self, timeout: Duration, mut pred: impl FnMut(&Value) -> bool) -> Value {
        let deadline = Instant::now() + timeout;
        let mut seen = Vec::new();
        while let Some(v) = self.next_json_until(deadline) {
            if pred(&v) {
                return v;
            }
            seen.push(v);
        }
        panic!("timed out after {timeout:?}; messages seen: {seen:?}");
    }

    /// Every message that arrives within `window`.
    pub fn drain(&mut self, window: Duration) -> Vec<Value> {
        let deadline = Instant::now() + window;
        let mut out = Vec::new();
        while let Some(v) = self.next_json_until(deadline) {
            out.push(v);
        }
        out
    }

    /// True once the server has closed the connection (read within `timeout`).
    pub fn closed_within(&mut self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            match self.socket.read() {
                Ok(tungstenite::Message::Close(_)) => return true,
                Ok(_) => continue,
                Err(tungstenite::Error::Io(e))
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) =>
                {
                    continue;
                }
                Err(_) => return true,
            }
        }
        false
    }
}

/// One Server-Sent Event.
#[derive(Debug, Clone)]
pub struct SseEvent {
    pub event: String,
    pub data: Value,
}

/// An open event stream.
pub struct Sse {
    pub status: u16,
    pub content_type: String,
    reader: BufReader<Box<dyn Read + Send>>,
}

impl Sse {
    pub fn open(addr: &str, path: &str, headers: &[(&str, &str)]) -> Sse {
        let mut b = ureq::http::Request::builder()
            .method("GET")
            .uri(format!("http://{addr}{path}"));
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(60)))
            .build()
            .into();
        let resp = agent.run(b.body(()).unwrap()).unwrap();
        let status = resp.status().as_u16();
        let content_type = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let reader: Box<dyn Read + Send> = Box::new(resp.into_body().into_reader());
        Sse {
            status,
            content_type,
            reader: BufReader::new(reader),
        }
    }

    /// The next event, `None` at the end of the stream.
    pub fn next_event(&mut self) -> Option<SseEvent> {
        let mut event = String::new();
        let mut data = String::new();
        loop {
            let mut line = String::new();
            if self.reader.read_line(&mut line).ok()? == 0 {
                return None;
            }
            let line = line.trim_end_matches(['\r', '\n']);
            if line.is_empty() {
                if data.is_empty() && event.is_empty() {
                    continue;
                }
                let data = serde_json::from_str(&data)
                    .unwrap_or_else(|e| panic!("SSE data is not JSON ({e}): {data:?}"));
                return Some(SseEvent { event, data });
            }
            if let Some(v) = line.strip_prefix("event:") {
                event = v.trim().to_string();
            } else if let Some(v) = line.strip_prefix("data:") {
                data.push_str(v.strip_prefix(' ').unwrap_or(v));
            }
        }
    }

    /// Every event to the end of the stream.
    pub fn all(mut self) -> Vec<SseEvent> {
        let mut out = Vec::new();
        while let Some(e) = self.next_event() {
            out.push(e);
        }
        out
    }
}
