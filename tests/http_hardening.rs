//! Hostile and careless clients against the real daemon over real sockets:
//! half-sent requests at shutdown, parked unauthenticated bodies, descriptor
//! exhaustion, clients that send a too-large body before reading, slow
//! senders, too many connections, a WebSocket client that stops reading.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::web::{Ws, http_addr, request};
use common::{Daemon, wait_for};
use serde_json::json;

const KEY: &str = "hardening-key-0123456789abcdefghij";
const SECS_20: Duration = Duration::from_secs(20);

fn daemon(extra: &[&str], env: &[(&str, &str)]) -> Daemon {
    daemon_limited(extra, env, None)
}

fn daemon_limited(extra: &[&str], env: &[(&str, &str)], nofile: Option<u64>) -> Daemon {
    let mut env = env.to_vec();
    env.push(("AGENTGATE_API_KEY", KEY));
    Daemon::with_http_limited(extra, &env, nofile)
}

/// Lets this test process hold `n` sockets (raising its soft limit if needed).
fn allow_fds(n: u64) {
    use nix::sys::resource::{Resource, getrlimit, setrlimit};
    let (soft, hard) = getrlimit(Resource::RLIMIT_NOFILE).unwrap();
    assert!(
        hard >= n,
        "this test needs {n} file descriptors; the hard limit is {hard}"
    );
    if soft < n {
        setrlimit(Resource::RLIMIT_NOFILE, hard.min(n * 2), hard).unwrap();
    }
}

/// Resident memory of a process, in bytes.
fn rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap();
    kb * 1024
}

fn bearer() -> String {
    format!("Bearer {KEY}")
}

/// True once the peer has closed the connection (a read returns 0 or fails).
fn closed_by_peer(s: &mut TcpStream, within: Duration) -> bool {
    s.set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    let deadline = Instant::now() + within;
    let mut buf = [0u8; 4096];
    while Instant::now() < deadline {
        match s.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(_) => return true,
        }
    }
    false
}

/// The status line's code of the answer on `s` (read within `within`).
fn read_status(s: &mut TcpStream, within: Duration) -> Option<u16> {
    s.set_read_timeout(Some(within)).unwrap();
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(line_end) = buf.windows(2).position(|w| w == b"\r\n") {
            let line = String::from_utf8_lossy(&buf[..line_end]).to_string();
            return line.split_whitespace().nth(1)?.parse().ok();
        }
        match s.read(&mut chunk) {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

#[test]
fn stop_is_not_held_open_by_any_client() {
    let grace = Duration::from_secs(1);
    let mut d = daemon(&["--grace-period", "1s"], &[]);
    let addr = http_addr(&d);
    // Running work that ignores SIGTERM: its stop takes the whole grace period.
    let id = d.submit_shell("trap '' TERM; sleep 60", &[]);
    let wo = d.wait_status(&id, "running", SECS_20);
    let run_id = wo["currentRunId"].as_str().unwrap().to_string();
    // 100 half-sent requests.
    let mut parked: Vec<TcpStream> = (0..100)
        .map(|_| {
            let mut s = TcpStream::connect(&addr).unwrap();
            s.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n").unwrap();
            s
        })
        .collect();
    // A request in flight whose body never completes.
    let mut slow = TcpStream::connect(&addr).unwrap();
    slow.write_all(
        format!(
            "POST /api/v1/work-orders HTTP/1.1\r\nHost: x\r\nAuthorization: {}\r\nContent-Length: 1000\r\n\r\n{{\"task",
            bearer()
        )
        .as_bytes(),
    )
    .unwrap();
    parked.push(slow);
    // Live streams: a subscribed WebSocket and an SSE stream of the running run.
    let mut ws = Ws::connect(&addr, &format!("/ws?token={KEY}"), &[]).unwrap();
    ws.send_json(json!({"type": "subscribe", "workOrderId": id}));
    ws.wait_for(SECS_20, |m| m["type"] == "subscription_confirmed");
    let mut sse = TcpStream::connect(&addr).unwrap();
    sse.write_all(
        format!("GET /api/v1/runs/{run_id}/stream?token={KEY} HTTP/1.1\r\nHost: x\r\n\r\n")
            .as_bytes(),
    )
    .unwrap();
    assert_eq!(read_status(&mut sse, Duration::from_secs(10)), Some(200));

    let started = Instant::now();
    let out = d
        .command()
        .args(["daemon", "stop"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let took = started.elapsed();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let child = d.child.as_mut().unwrap();
    let status = wait_for("the daemon to exit", SECS_20, || child.try_wait().unwrap());
    assert!(status.success());
    assert!(
        took < grace + Duration::from_secs(2),
        "`daemon stop` took {took:?} (grace {grace:?})"
    );
    eprintln!(
        "`daemon stop` with 100 half-sent requests and live streams: {took:?} (grace {grace:?})"
    );
    assert!(ws.closed_within(Duration::from_secs(5)));
    assert!(closed_by_peer(&mut sse, Duration::from_secs(5)));
    // The lock is free: a new daemon starts on the same root at once.
    d.child = None;
    d.spawn();
    assert_eq!(d.status(&id), "failed");
    drop(parked);
}

#[test]
fn parked_unauthenticated_bodies_cost_little_memory() {
    const CONNECTIONS: usize = 1000;
    const MIB: usize = 1024 * 1024;
    allow_fds(CONNECTIONS as u64 + 200);
    let d = daemon(
        &[],
        &[
            ("AGENTGATE_HTTP_MAX_CONNECTIONS", "2000"),
            // Long enough for all of them to be parked at once.
            ("AGENTGATE_HTTP_TIMEOUT", "60s"),
        ],
    );
    let addr = http_addr(&d);
    // Warm up the paths the test takes, then the baseline.
    for _ in 0..3 {
        request(
            &addr,
            "GET",
            "/api/v1/queue/health",
            &[("Authorization", &bearer())],
            None,
        )
        .data(200);
    }
    let before = rss(d.pid());
    // Half to the API (401 without the key), half to a public path (404; no
    // public route takes a body).
    let head = |i: usize| {
        let path = if i.is_multiple_of(2) {
            "/api/v1/work-orders"
        } else {
            "/no-such-route"
        };
        format!(
            "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {MIB}\r\n\r\n"
        )
    };
    let body = vec![b'x'; MIB - 1];
    let mut peak = before;
    let mut conns = Vec::with_capacity(CONNECTIONS);
    for i in 0..CONNECTIONS {
        let mut s = TcpStream::connect(&addr).unwrap();
        s.write_all(head(i).as_bytes()).unwrap();
        s.write_all(&body).unwrap();
        conns.push(s);
        if i % 50 == 0 {
            peak = peak.max(rss(d.pid()));
        }
    }
    for _ in 0..20 {
        peak = peak.max(rss(d.pid()));
        std::thread::sleep(Duration::from_millis(50));
    }
    let grew = peak.saturating_sub(before);
    assert!(
        grew < 64 * MIB as u64,
        "RSS grew by {} MiB ({} -> {} MiB) with {CONNECTIONS} parked 1 MiB bodies",
        grew / MIB as u64,
        before / MIB as u64,
        peak / MIB as u64
    );
    // Each got its answer without the daemon reading the body into memory.
    assert_eq!(
        read_status(&mut conns[0], Duration::from_secs(10)),
        Some(401)
    );
    assert_eq!(
        read_status(&mut conns[1], Duration::from_secs(10)),
        Some(404)
    );
    // And the daemon serves on.
    request(
        &addr,
        "GET",
        "/api/v1/queue/health",
        &[("Authorization", &bearer())],
        None,
    )
    .data(200);
    assert!(d.run(&["queue", "health", "--json"]).status.success());
    eprintln!(
        "RSS {} MiB before, {} MiB peak with {CONNECTIONS} parked bodies",
        before / MIB as u64,
        peak / MIB as u64
    );
}

#[test]
fn idle_connections_at_the_descriptor_limit_leave_the_socket_working() {
    const IDLE: usize = 1100;
    allow_fds(IDLE as u64 + 200);
    let d = daemon_limited(&[], &[], Some(1024));
    let addr = http_addr(&d);
    let idle: Vec<TcpStream> = (0..IDLE)
        .map(|_| TcpStream::connect(&addr).unwrap())
        .collect();
    // The CLI over the Unix socket answers at once.
    let started = Instant::now();
    let out = d.run(&["queue", "health", "--json"]);
    let took = started.elapsed();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(took < Duration::from_secs(5), "queue health took {took:?}");
    // An HTTP client over the cap is refused at once, not left hanging.
    let mut extra = TcpStream::connect(&addr).unwrap();
    extra
        .write_all(b"GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    assert_eq!(read_status(&mut extra, Duration::from_secs(5)), Some(503));
    // Idle connections went away: served again.
    drop(idle);
    wait_for("HTTP to serve again", SECS_20, || {
        let r = request(&addr, "GET", "/health/live", &[], None);
        (r.status == 200).then_some(())
    });
    let log = d.log_text();
    let accept_failures = log.matches("accept failed").count();
    assert!(
        accept_failures <= 5,
        "{accept_failures} accept failures logged"
    );
}

#[test]
fn urllib_posting_2_mib_gets_the_413() {
    let d = daemon(&[], &[]);
    let addr = http_addr(&d);
    let script = r#"
import sys, urllib.request, urllib.error
url, auth, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
body = b"x" * (2 * 1024 * 1024)
codes = []
for _ in range(n):
    headers = {"Content-Type": "application/json"}
    if auth:
        headers["Authorization"] = auth
    req = urllib.request.Request(url, data=body, method="POST", headers=headers)
    try:
        urllib.request.urlopen(req, timeout=30)
        codes.append("2xx")
    except urllib.error.HTTPError as e:
        codes.append(str(e.code))
    except Exception as e:
        codes.append(type(e).__name__)
print(" ".join(codes))
"#;
    let run = |auth: &str, n: usize| -> Vec<String> {
        let out = Command::new("python3")
            .args([
                "-c",
                script,
                &format!("http://{addr}/api/v1/work-orders"),
                auth,
                &n.to_string(),
            ])
            .output()
            .expect("python3");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .map(str::to_string)
            .collect()
    };
    let codes = run(&bearer(), 40);
    assert_eq!(codes.len(), 40);
    assert!(codes.iter().all(|c| c == "413"), "{codes:?}");
    // Without the key: the 401, delivered the same way.
    let codes = run("", 10);
    assert!(codes.iter().all(|c| c == "401"), "{codes:?}");
}

#[test]
fn slow_senders_time_out() {
    let d = daemon(&[], &[("AGENTGATE_HTTP_TIMEOUT", "1s")]);
    let addr = http_addr(&d);
    // Half a request head: closed after the header timeout.
    let mut half = TcpStream::connect(&addr).unwrap();
    half.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    let started = Instant::now();
    assert!(closed_by_peer(&mut half, Duration::from_secs(10)));
    assert!(started.elapsed() < Duration::from_secs(5));
    // Nothing at all: closed too.
    let mut silent = TcpStream::connect(&addr).unwrap();
    assert!(closed_by_peer(&mut silent, Duration::from_secs(10)));
    // A body that stops coming: 408, and the connection is closed.
    let mut body = TcpStream::connect(&addr).unwrap();
    body.write_all(
        format!(
            "POST /api/v1/work-orders HTTP/1.1\r\nHost: x\r\nAuthorization: {}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"taskPr",
            bearer()
        )
        .as_bytes(),
    )
    .unwrap();
    assert_eq!(read_status(&mut body, Duration::from_secs(10)), Some(408));
    assert!(closed_by_peer(&mut body, Duration::from_secs(10)));
    // Everyone else is served.
    request(&addr, "GET", "/health/live", &[], None).data(200);
}

#[test]
fn connections_over_the_cap_are_refused_at_once() {
    let d = daemon(&[], &[("AGENTGATE_HTTP_MAX_CONNECTIONS", "8")]);
    let addr = http_addr(&d);
    let held: Vec<TcpStream> = (0..8)
        .map(|_| {
            let mut s = TcpStream::connect(&addr).unwrap();
            s.write_all(b"GET /health HTTP/1.1\r\n").unwrap();
            s
        })
        .collect();
    // The daemon has taken all eight before the ninth arrives.
    wait_for("eight connections held", SECS_20, || {
        let mut s = TcpStream::connect(&addr).ok()?;
        s.write_all(b"GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n")
            .ok()?;
        let started = Instant::now();
        let status = read_status(&mut s, Duration::from_secs(5));
        (status == Some(503) && started.elapsed() < Duration::from_secs(1)).then_some(())
    });
    drop(held);
    wait_for("served again", SECS_20, || {
        let r = request(&addr, "GET", "/health/live", &[], None);
        (r.status == 200).then_some(())
    });
}

#[test]
fn a_websocket_client_that_stops_reading_is_dropped() {
    const MIB: u64 = 1024 * 1024;
    let d = daemon(&[], &[]);
    let addr = http_addr(&d);
    // Floods its output a moment after it starts.
    let id = d.submit_shell(
        "sleep 1; head -c 60000000 /dev/zero | tr '\\0' x; sleep 60",
        &[],
    );
    d.wait_status(&id, "running", SECS_20);
    let before = rss(d.pid());
    let mut ws = Ws::connect(&addr, "/ws", &[("X-API-Key", KEY)]).unwrap();
    ws.send_json(json!({"type": "subscribe", "workOrderId": id}));
    // ... and never reads again.
    let mut peak = before;
    wait_for(
        "the slow client to be dropped",
        Duration::from_secs(60),
        || {
            peak = peak.max(rss(d.pid()));
            d.log_text()
                .contains("WebSocket client too slow or gone; dropped")
                .then_some(())
        },
    );
    assert!(
        peak.saturating_sub(before) < 64 * MIB,
        "RSS grew by {} MiB",
        (peak - before) / MIB
    );
    // Other clients are served meanwhile.
    let mut other = Ws::connect(&addr, "/ws", &[("X-API-Key", KEY)]).unwrap();
    other.send_json(json!({"type": "ping"}));
    other.wait_for(SECS_20, |m| m["type"] == "pong");
    // What the server sent before it gave up is there; then the end.
    assert!(ws.closed_within(Duration::from_secs(30)));
}
