//! The HTTP shim, through a real HTTP client against the real daemon binary:
//! every route's success path, every error status, auth, the envelope, and a
//! full lifecycle seen by both doors (HTTP and `agentgate queue ... --json`).

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::web::http_addr;
use common::{Daemon, wait_for};
use serde_json::{Value, json};

const SECS_20: Duration = Duration::from_secs(20);
const ERROR_CODES: [&str; 6] = [
    "NOT_FOUND",
    "BAD_REQUEST",
    "UNAUTHORIZED",
    "CONFLICT",
    "SERVICE_UNAVAILABLE",
    "INTERNAL_ERROR",
];

/// A started daemon with the HTTP shim on an ephemeral loopback port.
fn daemon(extra: &[&str]) -> Daemon {
    Daemon::with_http(extra, &[])
}

struct Resp {
    status: u16,
    request_id: Option<String>,
    content_type: Option<String>,
    www_authenticate: Option<String>,
    body: Value,
}

impl Resp {
    /// The envelope's top-level keys, in order.
    fn keys(&self) -> Vec<&str> {
        self.body
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect()
    }

    /// A success envelope with this status; returns `data`.
    fn ok(&self, status: u16) -> &Value {
        assert_eq!(self.status, status, "unexpected status: {}", self.body);
        self.envelope();
        assert_eq!(self.body["success"], true, "{}", self.body);
        let keys = self.keys();
        assert_eq!(keys, ["success", "data", "requestId"], "{}", self.body);
        &self.body["data"]
    }

    /// An error envelope with this status and code; returns `error`.
    fn err(&self, status: u16, code: &str) -> &Value {
        assert_eq!(self.status, status, "unexpected status: {}", self.body);
        self.envelope();
        assert_eq!(self.body["success"], false, "{}", self.body);
        let keys = self.keys();
        assert_eq!(keys, ["success", "error", "requestId"], "{}", self.body);
        let error = &self.body["error"];
        assert!(ERROR_CODES.contains(&error["code"].as_str().unwrap_or("")));
        assert_eq!(error["code"], code, "{}", self.body);
        assert!(
            !error["message"].as_str().unwrap_or("").is_empty(),
            "{}",
            self.body
        );
        error
    }

    /// A 400 naming `field` in `error.details.field`; returns the message.
    /// The 401, in the shape the AgentGate dashboard shows: `error` is the
    /// message itself.
    fn unauthorized(&self) -> &Value {
        assert_eq!(self.status, 401, "unexpected status: {}", self.body);
        self.envelope();
        assert_eq!(
            self.keys(),
            ["success", "error", "code", "requestId"],
            "{}",
            self.body
        );
        assert_eq!(self.body["success"], false);
        assert_eq!(self.body["code"], "UNAUTHORIZED");
        assert!(
            self.body["error"]
                .as_str()
                .is_some_and(|m| m.contains("API key")),
            "{}",
            self.body
        );
        &self.body
    }

    fn bad(&self, field: &str) -> String {
        let e = self.err(400, "BAD_REQUEST");
        assert_eq!(e["details"]["field"], field, "{}", self.body);
        e["message"].as_str().unwrap().to_string()
    }

    fn envelope(&self) {
        let rid = self.body["requestId"].as_str().expect("requestId");
        assert!(!rid.is_empty());
        assert_eq!(self.request_id.as_deref(), Some(rid), "X-Request-ID header");
        assert!(
            self.content_type
                .as_deref()
                .is_some_and(|c| c.starts_with("application/json")),
            "content-type {:?}",
            self.content_type
        );
    }
}

struct Api {
    base: String,
    key: String,
    agent: ureq::Agent,
}

impl Api {
    fn of(d: &Daemon) -> Api {
        let addr = http_addr(d);
        let key = std::fs::read_to_string(d.root.join("api-key"))
            .map(|k| k.trim().to_string())
            .unwrap_or_default();
        Api::with_key(&addr, &key)
    }

    fn with_key(addr: &str, key: &str) -> Api {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(60)))
            .build()
            .into();
        Api {
            base: format!("http://{addr}"),
            key: key.to_string(),
            agent,
        }
    }

    /// One request; `auth` None sends no Authorization header.
    fn raw(
        &self,
        method: &str,
        path: &str,
        body: Option<Vec<u8>>,
        headers: &[(&str, &str)],
        auth: Option<&str>,
    ) -> Resp {
        let mut b = ureq::http::Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base));
        if let Some(a) = auth {
            b = b.header("Authorization", a);
        }
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        let resp = match body {
            Some(bytes) => {
                let req = b
                    .header("Content-Type", "application/json")
                    .body(bytes)
                    .unwrap();
                self.agent.run(req)
            }
            None => self.agent.run(b.body(()).unwrap()),
        };
        let mut resp = resp.unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let header = |n: &str| {
            resp.headers()
                .get(n)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let request_id = header("x-request-id");
        let content_type = header("content-type");
        let www_authenticate = header("www-authenticate");
        let status = resp.status().as_u16();
        let text = resp.body_mut().read_to_string().unwrap();
        let body = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{method} {path} -> {status}: not JSON ({e}): {text:?}"));
        Resp {
            status,
            request_id,
            content_type,
            www_authenticate,
            body,
        }
    }

    fn call(&self, method: &str, path: &str, body: Option<Vec<u8>>) -> Resp {
        let auth = format!("Bearer {}", self.key);
        self.raw(method, path, body, &[], Some(&auth))
    }

    fn get(&self, path: &str) -> Resp {
        self.call("GET", path, None)
    }
    fn post(&self, path: &str, body: Value) -> Resp {
        self.call("POST", path, Some(body.to_string().into_bytes()))
    }
    fn post_empty(&self, path: &str) -> Resp {
        self.call("POST", path, None)
    }
    fn delete(&self, path: &str) -> Resp {
        self.call("DELETE", path, None)
    }

    /// Submits a `shell` work order running `script` in `dir`; returns it.
    fn submit_shell(&self, script: &str, dir: &Path) -> Value {
        let r = self.post(
            "/api/v1/work-orders",
            json!({
                "taskPrompt": script,
                "agentType": "shell",
                "workspaceSource": {"type": "local", "path": dir},
            }),
        );
        r.ok(201).clone()
    }

    fn show(&self, id: &str) -> Value {
        self.get(&format!("/api/v1/work-orders/{id}"))
            .ok(200)
            .clone()
    }

    fn wait_status(&self, id: &str, status: &str) -> Value {
        wait_for(&format!("{id} to be {status} (HTTP)"), SECS_20, || {
            let v = self.show(id);
            (v["status"] == status).then_some(v)
        })
    }

    /// Starts a queued work order now (`--no-auto-process` daemons) and waits
    /// until its agent has a pid.
    fn start_running(&self, id: &str) -> Value {
        let s = self.post_empty(&format!("/api/v1/work-orders/{id}/runs"));
        s.ok(202);
        wait_for(&format!("{id} to have a pid"), SECS_20, || {
            let v = self.show(id);
            (v["status"] == "running" && v["pid"].is_u64()).then_some(v)
        })
    }
}

fn workdir(d: &Daemon) -> std::path::PathBuf {
    let p = d.dir.path().join("work");
    std::fs::create_dir_all(&p).unwrap();
    p
}

// ---- health and auth ------------------------------------------------------------

#[test]
fn health_routes_need_no_key() {
    let d = daemon(&[]);
    let api = Api::of(&d);
    for auth in [None, Some("Bearer wrong")] {
        let r = api.raw("GET", "/health", None, &[], auth);
        let data = r.ok(200);
        assert_eq!(data["status"], "ok");
        assert_eq!(data["version"], env!("CARGO_PKG_VERSION"));
        assert!(data["queue"].is_string());
        let r = api.raw("GET", "/health/live", None, &[], auth);
        assert_eq!(r.ok(200)["status"], "alive");
        let r = api.raw("GET", "/health/ready", None, &[], auth);
        assert_eq!(r.ok(200)["status"], "ready");
    }
}

#[test]
fn api_routes_require_the_key() {
    let d = daemon(&["--no-auto-process"]);
    let api = Api::of(&d);
    assert!(api.key.len() >= 32, "generated key is long: {:?}", api.key);
    let id = "AAAAAAAAAAAA";
    let routes: Vec<(&str, String)> = vec![
        ("POST", "/api/v1/work-orders".into()),
        ("GET", "/api/v1/work-orders".into()),
        (
            "DELETE",
            "/api/v1/work-orders?status=failed&purge=true".into(),
        ),
        ("POST", "/api/v1/work-orders/purge".into()),
        ("GET", format!("/api/v1/work-orders/{id}")),
        ("DELETE", format!("/api/v1/work-orders/{id}")),
        ("DELETE", format!("/api/v1/work-orders/{id}?purge=true")),
        ("POST", format!("/api/v1/work-orders/{id}/cancel")),
        ("POST", format!("/api/v1/work-orders/{id}/kill")),
        ("POST", format!("/api/v1/work-orders/{id}/runs")),
        ("GET", format!("/api/v1/runs/{id}")),
        ("GET", "/api/v1/queue/health".into()),
        // Unknown routes under the prefix are guarded too.
        ("GET", "/api/v1/no-such-route".into()),
        ("GET", "/api/v1".into()),
    ];
    let wrong_same_len = "x".repeat(api.key.len());
    let bad_headers = [
        None,
        Some("Bearer wrong".to_string()),
        Some(format!("Bearer {wrong_same_len}")),
        Some(format!("Bearer {}x", api.key)),
        Some(format!("Basic {}", api.key)),
        Some(api.key.clone()),
        Some("Bearer ".to_string()),
    ];
    let body = json!({"taskPrompt": "echo hi", "agentType": "shell",
        "workspaceSource": {"type": "local", "path": workdir(&d)}})
    .to_string();
    for (method, path) in &routes {
        for h in &bad_headers {
            let b = (*method == "POST").then(|| body.clone().into_bytes());
            let r = api.raw(method, path, b, &[], h.as_deref());
            r.unauthorized();
            assert_eq!(r.www_authenticate.as_deref(), Some("Bearer"));
        }
    }
    // Nothing got through.
    let list = api.get("/api/v1/work-orders");
    assert_eq!(list.ok(200)["total"], 0);
    // The scheme name is case-insensitive; the key is not.
    let lower = format!("bearer {}", api.key);
    let r = api.raw("GET", "/api/v1/queue/health", None, &[], Some(&lower));
    r.ok(200);
    let upper = format!("Bearer {}", api.key.to_uppercase());
    if upper != format!("Bearer {}", api.key) {
        let r = api.raw("GET", "/api/v1/queue/health", None, &[], Some(&upper));
        r.unauthorized();
    }
}

#[test]
fn request_id_is_echoed_or_generated() {
    let d = daemon(&[]);
    let api = Api::of(&d);
    let auth = format!("Bearer {}", api.key);
    let r = api.raw(
        "GET",
        "/api/v1/queue/health",
        None,
        &[("X-Request-ID", "trace-123")],
        Some(&auth),
    );
    r.ok(200);
    assert_eq!(r.body["requestId"], "trace-123");
    // Also on errors, and on routes that need no key.
    let r = api.raw(
        "GET",
        "/api/v1/work-orders/AAAAAAAAAAAA",
        None,
        &[("X-Request-ID", "trace-404")],
        Some(&auth),
    );
    r.err(404, "NOT_FOUND");
    assert_eq!(r.body["requestId"], "trace-404");
    let r = api.raw(
        "GET",
        "/api/v1/queue/health",
        None,
        &[("X-Request-ID", "trace-401")],
        None,
    );
    r.unauthorized();
    assert_eq!(r.body["requestId"], "trace-401");
    let r = api.raw("GET", "/nope", None, &[("X-Request-ID", "trace-x")], None);
    r.err(404, "NOT_FOUND");
    assert_eq!(r.body["requestId"], "trace-x");
    // Generated when absent, different each time.
    let a = api.get("/health/live");
    let b = api.get("/health/live");
    a.ok(200);
    b.ok(200);
    assert_ne!(a.body["requestId"], b.body["requestId"]);
}

#[test]
fn queue_health_route() {
    let d = daemon(&["--no-auto-process", "--max-concurrent", "3"]);
    let api = Api::of(&d);
    let dir = workdir(&d);
    for _ in 0..2 {
        api.submit_shell("true", &dir);
    }
    let r = api.get("/api/v1/queue/health");
    let h = r.ok(200);
    for key in common::HEALTH_FIELDS {
        assert!(h.get(key).is_some(), "health lacks {key}: {h}");
    }
    assert_eq!(h["queuedCount"], 2);
    assert_eq!(h["counts"]["queued"], 2);
    assert_eq!(h["runningCount"], 0);
    assert_eq!(h["maxConcurrent"], 3);
    assert_eq!(h["autoProcess"], false);
    assert_eq!(h["accepting"], true);
    assert!(h["oldestRunningAge"].is_null());
    assert!(matches!(
        h["status"].as_str(),
        Some("healthy" | "degraded" | "unhealthy")
    ));
    assert!(h["memory"].get("minMemoryMb").is_some());
    // Same payload as `agentgate queue health --json` (bar the clock).
    let mut cli = d.json(&["queue", "health", "--json"]);
    let mut http = api.get("/api/v1/queue/health").ok(200).clone();
    for v in [&mut cli, &mut http] {
        let m = v.as_object_mut().unwrap();
        m.remove("timestamp");
        m["memory"].as_object_mut().unwrap().remove("availableMb");
    }
    assert_eq!(cli, http);
}

// ---- submit, show, list --------------------------------------------------------------

#[test]
fn submit_show_and_list() {
    let d = daemon(&["--no-auto-process"]);
    let api = Api::of(&d);
    let dir = workdir(&d);
    let r = api.post(
        "/api/v1/work-orders",
        json!({
            "taskPrompt": "echo first",
            "agentType": "shell",
            "workspaceSource": {"type": "local", "path": dir},
            "maxTime": 60,
            "maxIterations": 5,
        }),
    );
    let first = r.ok(201).clone();
    let id = first["id"].as_str().unwrap().to_string();
    assert_eq!(id.len(), 12);
    assert!(
        id.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    );
    assert_eq!(first["taskPrompt"], "echo first");
    assert_eq!(first["status"], "queued");
    assert_eq!(first["agentType"], "shell");
    assert_eq!(
        first["workspaceSource"],
        json!({"type": "local", "path": dir})
    );
    assert_eq!(first["maxTime"], 60);
    assert_eq!(first["maxIterations"], 5);
    assert_eq!(first["runCount"], 0);
    let created = first["createdAt"].as_str().unwrap();
    assert_eq!(created.len(), "2026-01-02T03:04:05.678Z".len(), "{created}");
    assert!(created.ends_with('Z'));
    // Defaults.
    let second = api.submit_shell("echo second", &dir);
    assert_eq!(second["maxTime"], 3600);
    assert_eq!(second["maxIterations"], 3);
    let third = api.submit_shell("echo third", &dir);

    // Show: the object plus `runs`.
    let shown = api.show(&id);
    assert_eq!(shown["runs"], json!([]));
    // ... and, while it is queued, why it waits.
    assert_eq!(shown["queuedReason"], "auto-process off");
    let mut without_runs = shown.clone();
    without_runs.as_object_mut().unwrap().remove("runs");
    without_runs.as_object_mut().unwrap().remove("queuedReason");
    assert_eq!(without_runs, first);

    // List: newest first, paging.
    let ids = |v: &Value| -> Vec<String> {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["id"].as_str().unwrap().to_string())
            .collect()
    };
    let all = api.get("/api/v1/work-orders").ok(200).clone();
    assert_eq!(
        ids(&all),
        [
            third["id"].as_str().unwrap(),
            second["id"].as_str().unwrap(),
            id.as_str()
        ]
    );
    assert_eq!(all["total"], 3);
    assert_eq!(all["limit"], 20);
    assert_eq!(all["offset"], 0);
    assert_eq!(all["hasMore"], false);
    let page = api.get("/api/v1/work-orders?limit=2").ok(200).clone();
    assert_eq!(ids(&page), ids(&all)[..2]);
    assert_eq!(page["hasMore"], true);
    assert_eq!(page["limit"], 2);
    let page2 = api
        .get("/api/v1/work-orders?limit=2&offset=2")
        .ok(200)
        .clone();
    assert_eq!(ids(&page2), ids(&all)[2..]);
    assert_eq!(page2["hasMore"], false);
    assert_eq!(page2["offset"], 2);
    // Bounds of `limit` are accepted.
    for l in [1, 1000] {
        let p = api.get(&format!("/api/v1/work-orders?limit={l}"));
        assert_eq!(p.ok(200)["limit"], l);
    }
    // Status filter, as the AgentGate CLI sends it (empty values = not given).
    let q = api.get("/api/v1/work-orders?status=queued&limit=20");
    assert_eq!(q.ok(200)["total"], 3);
    let r = api.get("/api/v1/work-orders?status=running");
    assert_eq!(r.ok(200)["total"], 0);
    let e = api.get("/api/v1/work-orders?status=&limit=20");
    assert_eq!(ids(e.ok(200)), ids(&all));
    // An empty number is not a number (AgentGate's coercion makes it 0: a 400 too).
    for q in ["limit=", "offset="] {
        api.get(&format!("/api/v1/work-orders?{q}"))
            .err(400, "BAD_REQUEST");
    }
    api.delete(&format!("/api/v1/work-orders/{id}")).ok(200);
    let c = api.get("/api/v1/work-orders?status=canceled,running");
    assert_eq!(ids(c.ok(200)), [id.as_str()]);
    let c = api.get("/api/v1/work-orders?status=canceled&status=queued");
    assert_eq!(c.ok(200)["total"], 3);

    // The other door sees the same list.
    let cli = d.json(&["queue", "list", "--json"]);
    assert_eq!(cli, api.get("/api/v1/work-orders").ok(200).clone());
}

#[test]
fn submit_rejects_bad_input_with_the_field() {
    let d = daemon(&["--no-auto-process"]);
    let api = Api::of(&d);
    let dir = workdir(&d);
    let dir_s = dir.to_str().unwrap();
    let good = || {
        json!({"taskPrompt": "echo hi", "agentType": "shell",
            "workspaceSource": {"type": "local", "path": dir_s}})
    };
    let with = |k: &str, v: Value| {
        let mut g = good();
        g[k] = v;
        g
    };
    let without = |k: &str| {
        let mut g = good();
        g.as_object_mut().unwrap().remove(k);
        g
    };
    let submit = |b: &[u8]| api.call("POST", "/api/v1/work-orders", Some(b.to_vec()));

    // Not JSON, not an object, empty.
    for body in [
        &b"{"[..],
        b"not json",
        b"[1,2]",
        b"\"s\"",
        b"",
        b"{\"taskPrompt\": }",
    ] {
        submit(body).bad("body");
    }
    let cases: Vec<(Value, &str)> = vec![
        (without("taskPrompt"), "taskPrompt"),
        (with("taskPrompt", json!(5)), "taskPrompt"),
        (with("taskPrompt", json!("")), "taskPrompt"),
        (with("taskPrompt", json!("   ")), "taskPrompt"),
        (with("taskPrompt", json!(["echo"])), "taskPrompt"),
        (with("agentType", json!("no-such-agent")), "agentType"),
        (with("agentType", json!(7)), "agentType"),
        (with("maxTime", json!("60")), "maxTime"),
        (with("maxTime", json!(-1)), "maxTime"),
        (with("maxTime", json!(1.5)), "maxTime"),
        (with("maxTime", json!(0)), "maxTime"),
        (with("maxTime", json!(604_801)), "maxTime"),
        (with("maxTime", json!(u64::MAX)), "maxTime"),
        (with("maxIterations", json!("3")), "maxIterations"),
        (with("maxIterations", json!(0)), "maxIterations"),
        (with("maxIterations", json!(u64::MAX)), "maxIterations"),
        (without("workspaceSource"), "workspaceSource"),
        (with("workspaceSource", json!("/tmp")), "workspaceSource"),
        (
            with("workspaceSource", json!({"type": "local", "path": 5})),
            "workspaceSource",
        ),
        (
            with(
                "workspaceSource",
                json!({"type": "local", "path": "rel/dir"}),
            ),
            "workspaceSource",
        ),
        (
            with(
                "workspaceSource",
                json!({"type": "local", "path": "/no/such/dir/anywhere"}),
            ),
            "workspaceSource.path",
        ),
        (
            with("workspaceSource", json!({"type": "svn", "url": "x"})),
            "workspaceSource",
        ),
        (
            with("workspaceSource", json!({"type": "github"})),
            "workspaceSource",
        ),
        (
            with("workspaceSource", json!({"type": "github", "repo": "../x"})),
            "workspaceSource",
        ),
    ];
    for (body, field) in cases {
        let r = submit(body.to_string().as_bytes());
        assert_eq!(r.status, 400, "{body} -> {}", r.body);
        r.bad(field);
    }
    // Unknown agent: the message lists the known ones.
    let r = submit(with("agentType", json!("nope")).to_string().as_bytes());
    assert!(r.bad("agentType").contains("shell"));
    // Prompt too long (but the body is under 1 MiB): 400, not 413.
    let long = with("taskPrompt", json!("x".repeat(600 * 1024)));
    submit(long.to_string().as_bytes()).bad("taskPrompt");
    // A bare repo name with no AGENTGATE_GITHUB_OWNER: names every form.
    let r = submit(
        with("workspaceSource", json!({"type": "github", "repo": "r"}))
            .to_string()
            .as_bytes(),
    );
    let msg = r.bad("workspaceSource");
    assert!(msg.contains("AGENTGATE_GITHUB_OWNER"), "{msg}");
    // Nothing was created by any of it.
    assert_eq!(api.get("/api/v1/work-orders").ok(200)["total"], 0);
    // And the good one works.
    submit(good().to_string().as_bytes()).ok(201);
}

#[test]
fn list_rejects_bad_query() {
    let d = daemon(&[]);
    let api = Api::of(&d);
    for q in [
        "limit=0",
        "limit=1001",
        "limit=abc",
        "limit=-1",
        "limit=1.5",
    ] {
        let m = api.get(&format!("/api/v1/work-orders?{q}")).bad("limit");
        assert!(m.contains("1-1000"), "{m}");
    }
    for q in ["offset=x", "offset=-3"] {
        api.get(&format!("/api/v1/work-orders?{q}")).bad("offset");
    }
    for q in ["status=bogus", "status=queued,bogus"] {
        api.get(&format!("/api/v1/work-orders?{q}")).bad("status");
    }
}

#[test]
fn workspace_sources_over_http() {
    let d = Daemon::with_http(
        &["--no-auto-process"],
        &[("AGENTGATE_GITHUB_OWNER", "envowner")],
    );
    let api = Api::of(&d);
    let dir = workdir(&d);
    let cases = [
        (
            json!({"type": "github", "url": "https://github.com/o/r.git"}),
            json!({"type": "github", "repo": "o/r"}),
        ),
        (
            json!({"type": "github", "url": "https://github.com/o/r", "branch": "dev"}),
            json!({"type": "github", "repo": "o/r", "branch": "dev"}),
        ),
        (
            json!({"type": "github", "owner": "o2", "repo": "r2"}),
            json!({"type": "github", "repo": "o2/r2"}),
        ),
        (
            json!({"type": "github", "repo": "o3/r3"}),
            json!({"type": "github", "repo": "o3/r3"}),
        ),
        (
            json!({"type": "github", "repo": "r4"}),
            json!({"type": "github", "repo": "envowner/r4"}),
        ),
        // url first, then owner+repo.
        (
            json!({"type": "github", "url": "https://github.com/a/b", "owner": "o", "repo": "r"}),
            json!({"type": "github", "repo": "a/b"}),
        ),
        (
            json!({"type": "git", "url": "file:///srv/x.git", "branch": "main"}),
            json!({"type": "git", "url": "file:///srv/x.git", "branch": "main"}),
        ),
        (
            json!({"type": "git", "url": "https://example.org/x.git"}),
            json!({"type": "git", "url": "https://example.org/x.git"}),
        ),
        (
            json!({"type": "local", "path": dir}),
            json!({"type": "local", "path": dir}),
        ),
    ];
    for (input, want) in cases {
        let r = api.post(
            "/api/v1/work-orders",
            json!({"taskPrompt": "echo x", "agentType": "shell", "workspaceSource": input}),
        );
        let wo = r.ok(201);
        assert_eq!(wo["workspaceSource"], want, "{input}");
        // Stored so: the other door and a re-read agree.
        let id = wo["id"].as_str().unwrap();
        assert_eq!(d.show(id)["workspaceSource"], want);
    }
    // Not a GitHub URL: 400 naming every accepted form.
    for url in [
        "https://gitlab.com/o/r",
        "https://github.com/only-owner",
        "ftp://github.com/o/r",
    ] {
        let r = api.post(
            "/api/v1/work-orders",
            json!({"taskPrompt": "echo x", "agentType": "shell",
                "workspaceSource": {"type": "github", "url": url}}),
        );
        let msg = r.bad("workspaceSource");
        for form in [
            "\"type\":\"local\"",
            "https://github.com/OWNER/REPO",
            "\"owner\":\"OWNER\",\"repo\":\"REPO\"",
            "\"repo\":\"OWNER/REPO\"",
            "AGENTGATE_GITHUB_OWNER",
            "\"type\":\"git\"",
        ] {
            assert!(msg.contains(form), "{url}: {msg} lacks {form}");
        }
    }
}

// ---- error statuses ---------------------------------------------------------------------

#[test]
fn unknown_ids_and_routes_are_404() {
    let d = daemon(&[]);
    let api = Api::of(&d);
    let id = "AAAAAAAAAAAA";
    let r = api.get(&format!("/api/v1/work-orders/{id}"));
    assert!(
        r.err(404, "NOT_FOUND")["message"]
            .as_str()
            .unwrap()
            .contains(id)
    );
    api.delete(&format!("/api/v1/work-orders/{id}"))
        .err(404, "NOT_FOUND");
    api.delete(&format!("/api/v1/work-orders/{id}?purge=true"))
        .err(404, "NOT_FOUND");
    api.post_empty(&format!("/api/v1/work-orders/{id}/cancel"))
        .err(404, "NOT_FOUND");
    api.post(&format!("/api/v1/work-orders/{id}/kill"), json!({}))
        .err(404, "NOT_FOUND");
    api.post_empty(&format!("/api/v1/work-orders/{id}/runs"))
        .err(404, "NOT_FOUND");
    api.get(&format!("/api/v1/runs/{id}")).err(404, "NOT_FOUND");
    // Unknown routes, and known paths with a method they do not serve.
    for (m, p) in [
        ("GET", "/api/v1/nope"),
        ("GET", "/api/v2/work-orders"),
        ("GET", "/nope"),
        ("POST", "/"),
        ("GET", "/api/v1/work-orders/a/b/c"),
        ("PUT", "/api/v1/work-orders"),
        ("PATCH", "/api/v1/work-orders/AAAAAAAAAAAA"),
        ("GET", "/api/v1/work-orders/AAAAAAAAAAAA/kill"),
        ("POST", "/api/v1/queue/health"),
        ("DELETE", "/health"),
    ] {
        let r = api.call(m, p, None);
        r.err(404, "NOT_FOUND");
    }
    // Ids outside the alphabet never reach a path: 400 naming the id.
    for bad in ["bad.id", "..", "a%20b", "%FF%FE", &"a".repeat(65)] {
        let r = api.get(&format!("/api/v1/work-orders/{bad}"));
        r.bad("id");
        api.get(&format!("/api/v1/runs/{bad}")).bad("id");
    }
}

#[test]
fn wrong_state_is_409() {
    let d = daemon(&["--no-auto-process"]);
    let api = Api::of(&d);
    let dir = workdir(&d);
    let wo = api.submit_shell("true", &dir);
    let id = wo["id"].as_str().unwrap();
    api.post_empty(&format!("/api/v1/work-orders/{id}/runs"))
        .ok(202);
    api.wait_status(id, "succeeded");
    for r in [
        api.delete(&format!("/api/v1/work-orders/{id}")),
        api.post_empty(&format!("/api/v1/work-orders/{id}/cancel")),
        api.post_empty(&format!("/api/v1/work-orders/{id}/runs")),
    ] {
        r.err(409, "CONFLICT");
    }
    // A kill of an ended work order is AgentGate's 200 that stopped nothing.
    for r in [
        api.post(&format!("/api/v1/work-orders/{id}/kill"), json!({})),
        api.post(
            &format!("/api/v1/work-orders/{id}/kill?force=true"),
            json!({}),
        ),
    ] {
        let k = r.ok(200);
        assert_eq!(k["success"], true, "{k}");
        assert_eq!(k["forcedKill"], false);
        assert_eq!(k["durationMs"], 0);
        assert_eq!(k["status"], "succeeded");
        assert!(k["message"].as_str().unwrap().contains("already succeeded"));
    }
    assert_eq!(api.show(id)["status"], "succeeded");
    // Starting one that runs already.
    let long = api.submit_shell("sleep 60", &dir);
    let lid = long["id"].as_str().unwrap();
    api.start_running(lid);
    api.post_empty(&format!("/api/v1/work-orders/{lid}/runs"))
        .err(409, "CONFLICT");
}

/// Sends the head of a raw HTTP/1.1 request (no body: the server must answer
/// from the announced length alone) and returns the status and JSON body.
fn raw_request(addr: &str, head: &str) -> (u16, Value) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    s.write_all(head.as_bytes()).unwrap();
    read_response(&mut s)
}

/// Reads one response (headers + Content-Length body).
fn read_response(s: &mut TcpStream) -> (u16, Value) {
    let mut buf = Vec::new();
    let mut tmp = [0u8; 8192];
    loop {
        if let Some(done) = parse_response(&buf) {
            return done;
        }
        match s.read(&mut tmp) {
            Ok(0) | Err(_) => {
                return parse_response(&buf).unwrap_or_else(|| {
                    panic!("incomplete response: {}", String::from_utf8_lossy(&buf))
                });
            }
            Ok(n) => buf.extend_from_slice(&tmp[..n]),
        }
    }
}

fn parse_response(buf: &[u8]) -> Option<(u16, Value)> {
    let text = String::from_utf8_lossy(buf);
    let (head, body) = text.split_once("\r\n\r\n")?;
    let status: u16 = head.split_whitespace().nth(1)?.parse().ok()?;
    let len: usize = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse().ok())?
        })
        .unwrap_or(0);
    if body.len() < len {
        return None;
    }
    Some((status, serde_json::from_str(&body[..len]).ok()?))
}

#[test]
fn body_over_1mib_is_413() {
    let d = daemon(&[]);
    let api = Api::of(&d);
    let addr = http_addr(&d);
    let over = 1024 * 1024 + 1;
    for path in [
        "/api/v1/work-orders",
        "/api/v1/work-orders/AAAAAAAAAAAA/kill",
        "/api/v1/work-orders/purge",
    ] {
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {}\r\n\
             Content-Type: application/json\r\nContent-Length: {over}\r\n\r\n",
            api.key
        );
        let (status, body) = raw_request(&addr, &head);
        assert_eq!(status, 413, "{path}: {body}");
        assert_eq!(body["success"], false);
        assert_eq!(body["error"]["details"]["field"], "body");
        assert!(body["requestId"].is_string());
    }
    // Chunked, no length announced: still 413 once it passes the limit. The
    // client sends just over the limit and then waits for the answer.
    let head = format!(
        "POST /api/v1/work-orders HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {}\r\n\
         Transfer-Encoding: chunked\r\n\r\n",
        api.key
    );
    let mut s = TcpStream::connect(&addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    s.write_all(head.as_bytes()).unwrap();
    let chunk = vec![b' '; 64 * 1024];
    for _ in 0..17 {
        s.write_all(format!("{:x}\r\n", chunk.len()).as_bytes())
            .unwrap();
        s.write_all(&chunk).unwrap();
        s.write_all(b"\r\n").unwrap();
    }
    let (status, body) = read_response(&mut s);
    assert_eq!(status, 413, "{body}");
    assert_eq!(body["error"]["details"]["field"], "body");
    // The daemon is unaffected.
    api.get("/api/v1/queue/health").ok(200);
}

/// Answers that need no body (401, 404, routes that take none) still leave a
/// keep-alive connection usable: the body was read, nothing is left over.
#[test]
fn keep_alive_survives_answers_without_a_body() {
    let d = daemon(&[]);
    let api = Api::of(&d);
    let addr = http_addr(&d);
    let mut s = TcpStream::connect(&addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let body = format!("{{\"pad\":\"{}\"}}", "x".repeat(100_000));
    let auth = format!("Authorization: Bearer {}\r\n", api.key);
    let cases = [
        ("POST /api/v1/work-orders", "", 401),
        ("POST /api/v1/no-such-route", auth.as_str(), 404),
        ("POST /no-such-route", "", 404),
        (
            "POST /api/v1/work-orders/AAAAAAAAAAAA/cancel",
            auth.as_str(),
            404,
        ),
        (
            "POST /api/v1/work-orders/AAAAAAAAAAAA/runs",
            auth.as_str(),
            404,
        ),
        ("GET /health/live", "", 200),
    ];
    for (line, auth, want) in cases {
        let head = format!(
            "{line} HTTP/1.1\r\nHost: {addr}\r\n{auth}Content-Type: application/json\r\n\
             Content-Length: {}\r\n\r\n",
            body.len()
        );
        // Head and body in separate writes, as clients do.
        s.write_all(head.as_bytes()).unwrap();
        s.flush().unwrap();
        s.write_all(body.as_bytes()).unwrap();
        let (status, v) = read_response(&mut s);
        assert_eq!(status, want, "{line}: {v}");
    }
    // Still the same connection.
    s.write_all(format!("GET /health/live HTTP/1.1\r\nHost: {addr}\r\n\r\n").as_bytes())
        .unwrap();
    assert_eq!(read_response(&mut s).0, 200);
}

// ---- cancel, kill, start, runs, purge -------------------------------------------------

#[test]
fn cancel_routes() {
    let d = daemon(&["--no-auto-process"]);
    let api = Api::of(&d);
    let dir = workdir(&d);
    // DELETE /:id on a queued one.
    let a = api.submit_shell("echo a", &dir);
    let aid = a["id"].as_str().unwrap();
    let r = api.delete(&format!("/api/v1/work-orders/{aid}"));
    let mut c = r.ok(200).clone();
    // AgentGate's clients read `message` too.
    assert!(c["message"].as_str().is_some_and(|m| !m.is_empty()), "{c}");
    c.as_object_mut().unwrap().remove("message");
    assert_eq!(
        c,
        json!({"id": aid, "status": "canceled", "wasRunning": false, "killed": false})
    );
    // POST /:id/cancel on a running one stops its tree.
    let b = api.submit_shell("sleep 60", &dir);
    let bid = b["id"].as_str().unwrap();
    let running = api.start_running(bid);
    let pid = running["pid"].as_u64().unwrap() as i32;
    let r = api.post_empty(&format!("/api/v1/work-orders/{bid}/cancel"));
    let mut c = r.ok(200).clone();
    assert!(c["message"].as_str().is_some_and(|m| !m.is_empty()), "{c}");
    c.as_object_mut().unwrap().remove("message");
    assert_eq!(
        c,
        json!({"id": bid, "status": "canceled", "wasRunning": true, "killed": true})
    );
    assert!(common::group_alive(pid).is_empty());
    let shown = api.show(bid);
    assert_eq!(shown["status"], "canceled");
    assert_eq!(shown["result"], "canceled");
}

#[test]
fn kill_forms_of_the_agentgate_cli() {
    let d = daemon(&["--no-auto-process", "--max-concurrent", "4"]);
    let api = Api::of(&d);
    let dir = workdir(&d);
    let running = |script: &str| {
        let wo = api.submit_shell(script, &dir);
        let id = wo["id"].as_str().unwrap().to_string();
        let v = api.start_running(&id);
        (id, v["pid"].as_u64().unwrap() as i32)
    };
    // Body {immediate:true}.
    let (id, pid) = running("sleep 60");
    let r = api.post(
        &format!("/api/v1/work-orders/{id}/kill"),
        json!({"immediate": true}),
    );
    let k = r.ok(200);
    assert_eq!(k["id"], id.as_str());
    assert_eq!(k["success"], true);
    assert_eq!(k["forcedKill"], true);
    assert_eq!(k["status"], "canceled");
    assert!(k["durationMs"].is_u64());
    assert!(k["message"].is_string());
    assert!(common::group_alive(pid).is_empty());
    assert_eq!(api.show(&id)["result"], "killed");

    // ?force=true with no body at all.
    let (id, pid) = running("sleep 60");
    let r = api.post_empty(&format!("/api/v1/work-orders/{id}/kill?force=true"));
    assert_eq!(r.ok(200)["forcedKill"], true);
    assert!(common::group_alive(pid).is_empty());

    // A grace period and a reason; the agent leaves on SIGTERM.
    let (id, _) = running("sleep 60");
    let r = api.post(
        &format!("/api/v1/work-orders/{id}/kill"),
        json!({"gracePeriodMs": 2000, "reason": "stuck on input"}),
    );
    let k = r.ok(200);
    assert_eq!(k["forcedKill"], false);
    assert_eq!(k["status"], "canceled");
    let shown = api.show(&id);
    assert!(
        shown["error"].as_str().unwrap().contains("stuck on input"),
        "{shown}"
    );

    // A queued one is simply ended.
    let q = api.submit_shell("sleep 60", &dir);
    let qid = q["id"].as_str().unwrap();
    let r = api.post(&format!("/api/v1/work-orders/{qid}/kill"), json!({}));
    let k = r.ok(200);
    assert_eq!(k["status"], "canceled");
    assert_eq!(k["durationMs"], 0);

    // Bad kill bodies.
    let q = api.submit_shell("sleep 60", &dir);
    let qid = q["id"].as_str().unwrap();
    let path = format!("/api/v1/work-orders/{qid}/kill");
    api.post(&path, json!({"immediate": "yes"}))
        .bad("immediate");
    api.post(&path, json!({"gracePeriodMs": -5}))
        .bad("gracePeriodMs");
    api.post(&path, json!({"gracePeriodMs": u64::MAX}))
        .bad("gracePeriodMs");
    api.post(&path, json!({"reason": 5})).bad("reason");
    api.post_empty(&format!("{path}?force=")).bad("force");
    api.post_empty(&format!("{path}?force=1")).bad("force");
    api.post(&path, json!([true])).bad("body");
    api.call("POST", &path, Some(b"{nope".to_vec())).bad("body");
    // None of that touched it.
    assert_eq!(api.show(qid)["status"], "queued");
}

#[test]
fn manual_start_and_run_records() {
    let d = daemon(&["--no-auto-process"]);
    let api = Api::of(&d);
    let dir = workdir(&d);
    let wo = api.submit_shell("echo hello", &dir);
    let id = wo["id"].as_str().unwrap();
    let r = api.post_empty(&format!("/api/v1/work-orders/{id}/runs"));
    let s = r.ok(202).clone();
    let run_id = s["runId"].as_str().unwrap().to_string();
    assert_eq!(s["status"], "running");
    assert!(s["startedAt"].as_str().unwrap().ends_with('Z'));
    let done = api.wait_status(id, "succeeded");
    assert_eq!(done["runCount"], 1);
    assert_eq!(done["currentRunId"], run_id.as_str());
    assert_eq!(done["exitCode"], 0);
    assert_eq!(done["result"], "exited");
    let runs = done["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0]["id"], run_id.as_str());
    let run = api.get(&format!("/api/v1/runs/{run_id}"));
    let run = run.ok(200);
    assert_eq!(run["id"], run_id.as_str());
    assert_eq!(run["workOrderId"], id);
    assert_eq!(run["status"], "succeeded");
    assert_eq!(run["exitCode"], 0);
    assert_eq!(
        d.read_log_of(&done).trim(),
        "hello",
        "the agent ran in its workspace"
    );
    // A failed one may be started again (a retry, a new run).
    let f = api.submit_shell("exit 3", &dir);
    let fid = f["id"].as_str().unwrap();
    api.post_empty(&format!("/api/v1/work-orders/{fid}/runs"))
        .ok(202);
    let failed = api.wait_status(fid, "failed");
    assert_eq!(failed["exitCode"], 3);
    api.post_empty(&format!("/api/v1/work-orders/{fid}/runs"))
        .ok(202);
    let again = wait_for("second run to fail", SECS_20, || {
        let v = api.show(fid);
        (v["status"] == "failed" && v["runCount"] == 2).then_some(v)
    });
    assert_eq!(again["runs"].as_array().unwrap().len(), 2);
}

/// Issue 13 over HTTP: `dependsOn`, `priority` and `labels` in the create
/// body, `?label=`, why work waits, pause/resume and live settings.
#[test]
fn queue_order_and_control_routes() {
    let d = daemon(&["--max-concurrent", "1"]);
    let api = Api::of(&d);
    let dir = workdir(&d);
    let a = api.submit_shell("sleep 1000", &dir);
    let a_id = a["id"].as_str().unwrap().to_string();
    api.wait_status(&a_id, "running");
    let b = api
        .post(
            "/api/v1/work-orders",
            json!({"taskPrompt": "echo b", "agentType": "shell",
                "workspaceSource": {"type": "local", "path": dir},
                "dependsOn": [a_id], "priority": -4, "labels": ["nightly", "team=infra"]}),
        )
        .ok(201)
        .clone();
    assert_eq!(b["dependsOn"], json!([a_id]));
    assert_eq!(b["priority"], -4);
    assert_eq!(b["labels"], json!(["nightly", "team=infra"]));
    let b_id = b["id"].as_str().unwrap().to_string();
    assert_eq!(
        api.show(&b_id)["queuedReason"],
        format!("dependency {a_id}")
    );
    assert!(api.show(&a_id).get("queuedReason").is_none());
    let waiting = api.submit_shell("echo c", &dir);
    let waiting = waiting["id"].as_str().unwrap().to_string();
    assert_eq!(
        api.show(&waiting)["queuedReason"],
        "concurrency (1 of 1 running)"
    );
    // Filtered by label; the listing carries the reasons too.
    let page = api.get("/api/v1/work-orders?label=nightly").ok(200).clone();
    assert_eq!(page["total"], 1);
    assert_eq!(
        page["items"][0]["queuedReason"],
        format!("dependency {a_id}")
    );
    assert_eq!(
        api.get("/api/v1/work-orders?label=nightly,team%3Dinfra")
            .ok(200)["total"],
        1
    );
    assert_eq!(
        api.get("/api/v1/work-orders?label=other").ok(200)["total"],
        0
    );
    // Bad create fields name themselves.
    let base = || json!({"taskPrompt": "x", "agentType": "shell", "workspaceSource": {"type": "local", "path": dir}});
    for (field, value) in [
        ("dependsOn", json!(["nosuchid0000"])),
        ("dependsOn", json!("abc")),
        ("dependsOn", json!(["../x"])),
        ("priority", json!("high")),
        ("priority", json!(1u64 << 40)),
        ("labels", json!([1])),
        ("labels", json!(["has space"])),
    ] {
        let mut body = base();
        body[field] = value;
        api.post("/api/v1/work-orders", body).bad(field);
    }
    // Pause and resume; live settings.
    let p = api.post_empty("/api/v1/queue/pause").ok(200).clone();
    assert_eq!(p["paused"], true);
    let h = api.get("/api/v1/queue/health").ok(200).clone();
    assert_eq!(h["paused"], true);
    assert_eq!(h["queuedReason"], "paused");
    assert_eq!(api.get("/api/v1/queue/config").ok(200)["paused"], true);
    let c = api
        .call(
            "PATCH",
            "/api/v1/queue/config",
            Some(
                json!({"maxConcurrent": 3, "staggerDelayMs": 0})
                    .to_string()
                    .into_bytes(),
            ),
        )
        .ok(200)
        .clone();
    assert_eq!(c["maxConcurrent"], 3);
    assert_eq!(c["configured"]["maxConcurrent"], 1);
    assert_eq!(c["overrides"], json!(["maxConcurrent", "staggerDelayMs"]));
    for (body, field) in [
        (json!({"maxConcurrent": 0}), "maxConcurrent"),
        (json!({"maxConcurent": 2}), "maxConcurent"),
        (json!({"staggerDelayMs": "soon"}), "staggerDelayMs"),
        (json!({"paused": "yes"}), "paused"),
    ] {
        api.call(
            "PATCH",
            "/api/v1/queue/config",
            Some(body.to_string().into_bytes()),
        )
        .bad(field);
    }
    // Paused: nothing new starts, even with slots free; resumed, it does.
    assert_eq!(api.show(&waiting)["queuedReason"], "paused");
    let r = api.post_empty("/api/v1/queue/resume").ok(200).clone();
    assert_eq!(r["paused"], false);
    api.wait_status(&waiting, "succeeded");
    // The key guards them like every /api/v1 route.
    let open = Api::with_key(&http_addr(&d), "wrong");
    open.post_empty("/api/v1/queue/pause").unauthorized();
    api.post_empty(&format!("/api/v1/work-orders/{a_id}/kill?force=true"))
        .ok(200);
    let b_done = api.wait_status(&b_id, "canceled");
    assert_eq!(b_done["result"], "dependency_failed");
}

#[test]
fn purge_routes() {
    let d = daemon(&["--no-auto-process"]);
    let api = Api::of(&d);
    let dir = workdir(&d);
    let id_of = |v: &Value| v["id"].as_str().unwrap().to_string();
    let ok = id_of(&api.submit_shell("true", &dir));
    let bad = id_of(&api.submit_shell("exit 1", &dir));
    let canceled = id_of(&api.submit_shell("true", &dir));
    let queued = id_of(&api.submit_shell("true", &dir));
    for id in [&ok, &bad] {
        api.post_empty(&format!("/api/v1/work-orders/{id}/runs"))
            .ok(202);
    }
    api.wait_status(&ok, "succeeded");
    api.wait_status(&bad, "failed");
    api.delete(&format!("/api/v1/work-orders/{canceled}"))
        .ok(200);

    // Bad batch bodies.
    let purge = "/api/v1/work-orders/purge";
    api.post(purge, json!({"statuses": ["bogus"]}))
        .bad("statuses");
    api.post(purge, json!({"statuses": "failed"}))
        .bad("statuses");
    api.post(purge, json!({"statuses": [1]})).bad("statuses");
    api.post(purge, json!({"olderThanDays": -1}))
        .bad("olderThanDays");
    api.post(purge, json!({"olderThanDays": "7"}))
        .bad("olderThanDays");
    api.post(purge, json!({"dryRun": "yes"})).bad("dryRun");
    api.call("POST", purge, Some(b"[]".to_vec())).bad("body");
    api.delete("/api/v1/work-orders").bad("purge");
    api.delete("/api/v1/work-orders?status=bogus&purge=true")
        .bad("status");

    // Dry run lists, deletes nothing.
    let r = api.post(purge, json!({"statuses": ["failed"], "dryRun": true}));
    assert_eq!(
        *r.ok(200),
        json!({"deletedCount": 0, "deletedIds": [], "wouldDelete": [bad]})
    );
    api.show(&bad);
    // Older than a day: nothing is that old.
    let r = api.post(purge, json!({"olderThanDays": 1}));
    assert_eq!(r.ok(200)["deletedCount"], 0);

    // The AgentGate CLI's batch purge by status.
    let r = api.delete("/api/v1/work-orders?status=failed&purge=true");
    assert_eq!(*r.ok(200), json!({"deletedCount": 1, "deletedIds": [bad]}));
    api.get(&format!("/api/v1/work-orders/{bad}"))
        .err(404, "NOT_FOUND");

    // No filter: every terminal one, never the queued one.
    let r = api.post_empty(purge);
    let p = r.ok(200);
    assert_eq!(p["deletedCount"], 2);
    let mut got: Vec<&str> = p["deletedIds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    got.sort();
    let mut want = vec![ok.as_str(), canceled.as_str()];
    want.sort();
    assert_eq!(got, want);
    assert_eq!(api.show(&queued)["status"], "queued");

    // Purge one by id (queued: canceled first).
    let r = api.delete(&format!("/api/v1/work-orders/{queued}?purge=true"));
    assert_eq!(*r.ok(200), json!({"id": queued, "purged": true}));
    api.get(&format!("/api/v1/work-orders/{queued}"))
        .err(404, "NOT_FOUND");
    assert_eq!(api.get("/api/v1/work-orders").ok(200)["total"], 0);
    assert!(!d.root.join(format!("work-orders/{queued}.json")).exists());
}

/// SIGKILLs a process group this test started, when dropped (also on panic).
struct KillGroupOnDrop(i32);

impl Drop for KillGroupOnDrop {
    fn drop(&mut self) {
        let _ = nix::sys::signal::killpg(
            nix::unistd::Pid::from_raw(self.0),
            nix::sys::signal::Signal::SIGKILL,
        );
    }
}

#[test]
fn not_accepting_is_503() {
    let mut d = daemon(&["--no-auto-process", "--grace-period", "60s"]);
    let api = Api::of(&d);
    let dir = workdir(&d);
    // An agent that ignores SIGTERM holds the shutdown open.
    let wo = api.submit_shell("trap '' TERM; sleep 60", &dir);
    let id = wo["id"].as_str().unwrap();
    let pid = api.start_running(id)["pid"].as_u64().unwrap() as i32;
    let agent = KillGroupOnDrop(pid);
    // `daemon stop` (over RPC) waits for the daemon to go: run it alongside.
    let mut stop = d
        .command()
        .args(["daemon", "stop"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let r = wait_for("/health/ready to say 503", SECS_20, || {
        let r = api.get("/health/ready");
        (r.status == 503).then_some(r)
    });
    // AgentGate's shape: the success envelope, `ready: false`.
    let ready = r.ok(503);
    assert_eq!(ready["ready"], false, "{ready}");
    assert_eq!(ready["status"], "not_ready");
    assert!(
        ready["checks"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["healthy"] == false)
    );
    // Queue health too: unhealthy, 503, the same envelope.
    let h = api.get("/api/v1/queue/health");
    let data = h.ok(503);
    assert_eq!(data["status"], "unhealthy");
    assert_eq!(data["stats"]["accepting"], false);
    assert_eq!(
        api.get("/health").ok(200)["status"],
        "shutting_down",
        "liveness still answers"
    );
    let r = api.post(
        "/api/v1/work-orders",
        json!({"taskPrompt": "true", "agentType": "shell",
            "workspaceSource": {"type": "local", "path": dir}}),
    );
    r.err(503, "SERVICE_UNAVAILABLE");
    // End the agent's group (started by this test) so the daemon can finish.
    drop(agent);
    let child = d.child.as_mut().unwrap();
    let status = wait_for("the daemon to exit", SECS_20, || child.try_wait().unwrap());
    assert!(status.success());
    let stopped = wait_for("`daemon stop` to return", SECS_20, || {
        stop.try_wait().unwrap()
    });
    assert!(stopped.success());
}

// ---- both doors, one state --------------------------------------------------------------

#[test]
fn lifecycle_seen_by_both_doors() {
    let d = daemon(&[]);
    let api = Api::of(&d);
    let dir = workdir(&d);
    // Submit over HTTP; it starts by itself (auto-processing on).
    let wo = api.submit_shell("echo started; sleep 60", &dir);
    let id = wo["id"].as_str().unwrap().to_string();
    let running = wait_for("running with a pid (HTTP)", SECS_20, || {
        let v = api.show(&id);
        (v["status"] == "running" && v["pid"].is_u64()).then_some(v)
    });
    let pid = running["pid"].as_u64().unwrap();
    // The CLI sees the same work order, running, same pid and run.
    let list = d.json(&["queue", "list", "--json"]);
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["id"], id.as_str());
    assert_eq!(items[0]["status"], "running");
    assert_eq!(items[0]["pid"], pid);
    assert_eq!(items[0]["currentRunId"], running["currentRunId"]);
    let cli_health = d.json(&["queue", "health", "--json"]);
    assert_eq!(cli_health["runningCount"], 1);
    assert_eq!(api.get("/api/v1/queue/health").ok(200)["runningCount"], 1);

    // Kill over HTTP as the AgentGate CLI does.
    let r = api.post(
        &format!("/api/v1/work-orders/{id}/kill"),
        json!({"immediate": true}),
    );
    let k = r.ok(200);
    assert_eq!(k["forcedKill"], true);
    assert_eq!(k["status"], "canceled");
    assert!(common::group_alive(pid as i32).is_empty());
    // The CLI sees it killed.
    let shown = d.show(&id);
    assert_eq!(shown["status"], "canceled");
    assert_eq!(shown["result"], "killed");
    let mut http_view = api.show(&id);
    let mut cli_view = shown.clone();
    // Runs are read from disk by both; everything else is the same object.
    for v in [&mut http_view, &mut cli_view] {
        v.as_object_mut().unwrap().remove("runs");
    }
    assert_eq!(http_view, cli_view);
    let list = d.json(&["queue", "list", "--status", "canceled", "--json"]);
    assert_eq!(list["total"], 1);

    // A work order submitted with the CLI is visible over HTTP.
    let cli_id = d.submit_shell("true", &["--path", dir.to_str().unwrap()]);
    let v = api.wait_status(&cli_id, "succeeded");
    assert_eq!(v["id"], cli_id.as_str());

    // Purge over HTTP; gone for both doors.
    let r = api.delete(&format!("/api/v1/work-orders/{id}?purge=true"));
    assert_eq!(*r.ok(200), json!({"id": id, "purged": true}));
    api.get(&format!("/api/v1/work-orders/{id}"))
        .err(404, "NOT_FOUND");
    let out = d.run(&["queue", "show", &id, "--json"]);
    assert_eq!(out.status.code(), Some(1), "CLI: not found");
    let list = d.json(&["queue", "list", "--json"]);
    let ids: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [cli_id.as_str()]);
    // And a CLI purge is seen over HTTP.
    d.json(&["queue", "purge", &cli_id, "--yes", "--json"]);
    assert_eq!(api.get("/api/v1/work-orders").ok(200)["total"], 0);
}

// ---- startup: address, keys ---------------------------------------------------------------

/// A daemon process started by hand (for startups the harness must not wait
/// on); killed on drop.
struct Bare {
    child: Child,
}

impl Drop for Bare {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn bare_daemon(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Bare {
    let cfg = dir.join("empty.toml");
    std::fs::write(&cfg, "").unwrap();
    let mut c = Command::new(common::BIN);
    c.arg("daemon")
        .args(args)
        .env("AGENTGATE_ROOT", dir.join("root"))
        .env("AGENTGATE_SOCKET", dir.join("run/agentgate.sock"))
        .env("AGENTGATE_CONFIG", &cfg)
        .env_remove("AGENTGATE_API_KEY")
        .env_remove("AGENTGATE_API_KEY_FILE")
        .env_remove("AGENTGATE_HTTP")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        c.env(k, v);
    }
    Bare {
        child: c.spawn().unwrap(),
    }
}

#[test]
fn non_loopback_without_a_key_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut b = bare_daemon(
        dir.path(),
        &["--http", "0.0.0.0:0", "--min-memory", "0"],
        &[],
    );
    let status = wait_for("the daemon to refuse", SECS_20, || {
        b.child.try_wait().unwrap()
    });
    assert!(!status.success());
    let mut err = String::new();
    b.child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert!(
        err.contains("non-loopback") && err.contains("API key"),
        "{err}"
    );
    // With a key configured, the same address is served.
    let d = Daemon::with_http(
        &["--http", "0.0.0.0:0"],
        &[("AGENTGATE_API_KEY", "an-explicit-key")],
    );
    let addr = http_addr(&d);
    assert!(addr.starts_with("0.0.0.0:"), "{addr}");
    let port = addr.rsplit_once(':').unwrap().1;
    let api = Api::with_key(&format!("127.0.0.1:{port}"), "an-explicit-key");
    api.get("/api/v1/queue/health").ok(200);
}

#[test]
fn api_key_sources() {
    // Generated: <root>/api-key, 0600, kept across restarts.
    let mut d = daemon(&[]);
    let api = Api::of(&d);
    let key_path = d.root.join("api-key");
    let mode = std::fs::metadata(&key_path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    api.get("/api/v1/queue/health").ok(200);
    let key = api.key.clone();
    // A crash, not a stop: the key must survive anything. (A SIGTERM this soon
    // after start can also land before the daemon installs its handler.)
    d.crash();
    d.spawn();
    let api2 = Api::of(&d);
    assert_eq!(api2.key, key);
    api2.get("/api/v1/queue/health").ok(200);

    // AGENTGATE_API_KEY.
    let d = Daemon::with_http(&[], &[("AGENTGATE_API_KEY", "env-key-123")]);
    let addr = http_addr(&d);
    Api::with_key(&addr, "env-key-123")
        .get("/api/v1/queue/health")
        .ok(200);
    Api::with_key(&addr, &key)
        .get("/api/v1/queue/health")
        .unauthorized();

    // --api-key-file (trimmed) wins over the environment.
    let kdir = tempfile::tempdir().unwrap();
    let kfile = kdir.path().join("key");
    std::fs::write(&kfile, "  file-key-456 \n").unwrap();
    // Key files must be private (refused otherwise, as ssh refuses keys).
    std::fs::set_permissions(&kfile, std::fs::Permissions::from_mode(0o600)).unwrap();
    let d = Daemon::with_http(
        &["--api-key-file", kfile.to_str().unwrap()],
        &[("AGENTGATE_API_KEY", "env-key-123")],
    );
    let addr = http_addr(&d);
    Api::with_key(&addr, "file-key-456")
        .get("/api/v1/queue/health")
        .ok(200);
    Api::with_key(&addr, "env-key-123")
        .get("/api/v1/queue/health")
        .unauthorized();
}

#[test]
fn http_off_and_bound_address() {
    let d = Daemon::start(common::FAST);
    let pid = d.pid() as u64;
    let info = wait_for("daemon.json", SECS_20, || {
        let v: Value =
            serde_json::from_slice(&std::fs::read(d.root.join("daemon.json")).ok()?).ok()?;
        (v["pid"].as_u64() == Some(pid)).then_some(v)
    });
    assert!(info["httpAddr"].is_null(), "{info}");
    assert!(!d.root.join("api-key").exists());
    // The bound address (not the :0 asked for) is logged and written.
    let d = daemon(&[]);
    let addr = http_addr(&d);
    assert!(
        addr.starts_with("127.0.0.1:") && !addr.ends_with(":0"),
        "{addr}"
    );
    wait_for("the address in the log", SECS_20, || {
        d.log_text().contains(&addr).then_some(())
    });
}
