//! The dashboard: its login (`agentgate dashboard`'s one-time link, the
//! session cookie and its CSRF token) over real HTTP, the routes it relies
//! on, and the page itself driven in a real browser (headless Chromium by
//! Python's Playwright, from the venv `.ci/browser.sh` makes; without it
//! that test says SKIPPED).

mod common;

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::web::{Reply, Ws, http_addr, request};
use common::{BIN, Daemon, stderr, stdout, wait_for};
use serde_json::{Value, json};

const T: Duration = Duration::from_secs(30);

/// A fresh one-time login link from the CLI.
fn login_url(d: &Daemon) -> String {
    let v = d.json(&["dashboard", "--json"]);
    assert_eq!(v["expiresInSeconds"], 120, "{v}");
    v["url"].as_str().expect("url").to_string()
}

fn token_of(url: &str) -> String {
    url.split_once("#login=")
        .expect("a login fragment")
        .1
        .to_string()
}

fn login(addr: &str, body: Value, origin: Option<&str>) -> Reply {
    let text = body.to_string();
    let mut headers = vec![("content-type", "application/json")];
    if let Some(o) = origin {
        headers.push(("origin", o));
    }
    request(
        addr,
        "POST",
        "/dashboard/login",
        &headers,
        Some(text.as_bytes()),
    )
}

/// `GET path` with a session cookie and, if given, its CSRF token.
fn get(addr: &str, path: &str, cookie: &str, csrf: Option<&str>) -> Reply {
    let mut headers = vec![("cookie", cookie)];
    if let Some(token) = csrf {
        headers.push(("x-csrf-token", token));
    }
    request(addr, "GET", path, &headers, None)
}

/// The session a successful login answers: (`name=value` cookie, CSRF token).
fn session_of(r: &Reply) -> (String, String) {
    assert_eq!(r.status, 200, "{}", r.text);
    let set = r.header("set-cookie").expect("a session cookie");
    for attr in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(set.contains(attr), "{set}");
    }
    let cookie = set.split(';').next().unwrap().trim().to_string();
    let csrf = r.json()["csrf"].as_str().expect("csrf").to_string();
    (cookie, csrf)
}

#[test]
fn the_login_link_works_once_and_the_cookie_needs_its_csrf_token() {
    let d = Daemon::with_http(&[], &[]);
    let addr = http_addr(&d);
    let key = d.api_key();
    let own = format!("http://{addr}");

    // The page is the same for everyone and never holds the key.
    let page = request(&addr, "GET", "/", &[], None);
    assert_eq!(page.status, 200);
    assert!(
        page.header("content-type")
            .unwrap()
            .starts_with("text/html")
    );
    assert!(!page.text.contains(&key));
    let csp = page.header("content-security-policy").expect("a CSP");
    assert!(csp.contains("script-src 'self'"), "{csp}");

    let url = login_url(&d);
    assert!(url.starts_with(&format!("{own}/#login=")), "{url}");
    let token = token_of(&url);
    // Another site cannot use a link to log a browser in.
    let r = login(&addr, json!({"token": token}), Some("http://evil.example"));
    assert_eq!(r.error(403)["code"], "FORBIDDEN");
    let r = login(&addr, json!({"token": token}), Some(&own));
    let (cookie, csrf) = session_of(&r);
    // One-time: the same link again is refused, saying what to do.
    let again = login(&addr, json!({"token": token}), None);
    let msg = again.error(401)["message"].as_str().unwrap().to_string();
    assert!(msg.contains("already used or has expired"), "{msg}");
    assert!(msg.contains("agentgate dashboard"), "{msg}");
    let r = login(&addr, json!({"token": "made-up"}), None);
    r.error(401);

    let list = "/api/v1/work-orders";
    // The cookie alone is not enough: no CSRF token, no same Origin.
    let r = get(&addr, list, &cookie, None);
    let e = r.error(403);
    assert!(
        e["message"].as_str().unwrap().contains("X-CSRF-Token"),
        "{e}"
    );
    let r = get(&addr, list, &cookie, Some("not-it"));
    r.error(403);
    let r = request(
        &addr,
        "GET",
        list,
        &[("cookie", &cookie), ("origin", "http://evil.example")],
        None,
    );
    r.error(403);
    // With its CSRF token, or from the page's own origin: the API.
    let r = get(&addr, list, &cookie, Some(&csrf));
    r.data(200);
    let r = request(
        &addr,
        "GET",
        list,
        &[("cookie", &cookie), ("origin", &own)],
        None,
    );
    r.data(200);
    // A submit through the session works like one with the key.
    let body = json!({
        "taskPrompt": "echo from-the-dashboard",
        "agentType": "shell",
        "workspaceSource": {"type": "local", "path": d.dir.path()},
    })
    .to_string();
    let r = request(
        &addr,
        "POST",
        list,
        &[
            ("cookie", &cookie),
            ("x-csrf-token", &csrf),
            ("content-type", "application/json"),
        ],
        Some(body.as_bytes()),
    );
    let id = r.data(201)["id"].as_str().unwrap().to_string();
    assert_eq!(d.wait_terminal(&id, T)["status"], "succeeded");
    // `/mcp` is for programs holding the key: a session does not open it.
    let r = request(
        &addr,
        "POST",
        "/mcp",
        &[("cookie", &cookie), ("x-csrf-token", &csrf)],
        Some(b"{}"),
    );
    assert_eq!(r.status, 401, "{}", r.text);
    // A made-up cookie is no session.
    let r = request(
        &addr,
        "GET",
        list,
        &[
            ("cookie", &cookie.replace('=', "=x")),
            ("x-csrf-token", &csrf),
        ],
        None,
    );
    r.unauthorized();
    // The key still works, with or without a cookie.
    let bearer = format!("Bearer {key}");
    request(&addr, "GET", list, &[("authorization", &bearer)], None).data(200);
    request(&addr, "GET", list, &[("x-api-key", &key)], None).data(200);

    // The page finds its CSRF token again from its cookie.
    let r = get(&addr, "/dashboard/session", &cookie, None);
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["csrf"], csrf.as_str());
    assert_eq!(r.json()["idleSeconds"], 12 * 3600);
    let r = request(&addr, "GET", "/dashboard/session", &[], None);
    assert_eq!(r.json(), json!({"authenticated": false}), "{}", r.text);

    // A pasted API key opens a session too; a wrong one does not.
    login(&addr, json!({"apiKey": "wrong"}), None).error(401);
    let (cookie2, csrf2) = session_of(&login(&addr, json!({"apiKey": key}), None));
    login(&addr, json!({}), None).error(400);
    login(&addr, json!({"token": "a", "apiKey": "b"}), None).error(400);

    // Logging out ends this session only.
    let r = request(
        &addr,
        "POST",
        "/dashboard/logout",
        &[("cookie", &cookie2)],
        None,
    );
    r.error(403);
    let r = request(
        &addr,
        "POST",
        "/dashboard/logout",
        &[("cookie", &cookie2), ("x-csrf-token", &csrf2)],
        None,
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.header("set-cookie").unwrap().contains("Max-Age=0"));
    let r = request(
        &addr,
        "GET",
        "/dashboard/session",
        &[("cookie", &cookie2)],
        None,
    );
    assert_eq!(r.json()["authenticated"], false, "{}", r.text);
    get(&addr, list, &cookie, Some(&csrf)).data(200);

    // `--logout-all` ends every session and voids unused links.
    let unused = token_of(&login_url(&d));
    let v = d.json(&["dashboard", "--logout-all", "--json"]);
    assert_eq!(v["sessionsEnded"], 1, "{v}");
    get(&addr, list, &cookie, Some(&csrf)).unauthorized();
    login(&addr, json!({"token": unused}), None).error(401);
}

#[test]
fn the_page_is_served_from_the_binary_with_etags() {
    let d = Daemon::with_http(&[], &[]);
    let addr = http_addr(&d);
    for (path, kind) in [
        ("/", "text/html"),
        ("/assets/app.js", "text/javascript"),
        ("/assets/style.css", "text/css"),
    ] {
        let r = request(&addr, "GET", path, &[], None);
        assert_eq!(r.status, 200, "{path}");
        assert!(
            r.header("content-type").unwrap().starts_with(kind),
            "{path}"
        );
        assert_eq!(r.header("cache-control"), Some("no-cache"), "{path}");
        let etag = r.header("etag").expect("an ETag").to_string();
        let again = request(&addr, "GET", path, &[("if-none-match", &etag)], None);
        assert_eq!(again.status, 304, "{path}");
        assert!(again.text.is_empty());
    }
    for path in [
        "/assets/nope.js",
        "/assets/..%2FCargo.toml",
        "/assets/index.html",
    ] {
        assert_eq!(request(&addr, "GET", path, &[], None).status, 404, "{path}");
    }
}

#[test]
fn a_session_ends_when_idle_or_with_the_daemon() {
    // The idle limit reaches the sessions (their expiry itself is unit-tested
    // with a clock of its own in `service::dashboard`: no waiting here).
    let mut d = Daemon::with_http(&["--dashboard-idle", "90s"], &[]);
    let addr = http_addr(&d);
    let (cookie, csrf) = session_of(&login(
        &addr,
        json!({"token": token_of(&login_url(&d))}),
        None,
    ));
    let r = get(&addr, "/dashboard/session", &cookie, None);
    assert_eq!(r.json()["idleSeconds"], 90, "{}", r.text);
    get(&addr, "/api/v1/work-orders", &cookie, Some(&csrf)).data(200);

    // A daemon stop ends every session: a link minted before does not work after.
    let token = token_of(&login_url(&d));
    d.stop();
    d.spawn();
    d.wait_ready();
    let addr = http_addr(&d);
    login(&addr, json!({"token": token}), None).error(401);
}

#[test]
fn the_websocket_takes_the_session_from_its_own_origin_and_streams_every_work_order() {
    let d = Daemon::with_http(&[], &[]);
    let addr = http_addr(&d);
    let own = format!("http://{addr}");
    let (cookie, _) = session_of(&login(
        &addr,
        json!({"token": token_of(&login_url(&d))}),
        None,
    ));
    // A cookie from another origin (or none) opens nothing.
    let refused = Ws::connect(
        &addr,
        "/ws",
        &[("cookie", &cookie), ("origin", "http://localhost:1")],
    );
    assert_eq!(refused.err().map(|e| e.0), Some(403));
    let refused = Ws::connect(&addr, "/ws", &[("cookie", &cookie)]);
    assert_eq!(refused.err().map(|e| e.0), Some(403));
    let mut ws = Ws::connect(&addr, "/ws", &[("cookie", &cookie), ("origin", &own)])
        .unwrap_or_else(|e| panic!("handshake refused: {e:?}"));
    ws.send_json(json!({"type": "subscribe", "workOrderId": "*"}));
    ws.wait_for(T, |m| {
        m["type"] == "subscription_confirmed" && m["workOrderId"] == "*"
    });
    // Work orders nobody subscribed to by id: their lifecycle arrives.
    let id = d.submit_shell("echo hi", &[]);
    let done = ws.wait_for(T, |m| {
        m["type"] == "work_order_updated" && m["workOrderId"] == id && m["status"] == "succeeded"
    });
    assert_eq!(done["previousStatus"], "running", "{done}");
    ws.wait_for(T, |m| {
        m["type"] == "run_completed" || m["type"] == "run_started"
    });
    // Unsubscribing from `*` stops them (a ping's pong proves the order).
    ws.send_json(json!({"type": "unsubscribe", "workOrderId": "*"}));
    ws.wait_for(T, |m| m["type"] == "unsubscription_confirmed");
    let other = d.submit_shell("echo again", &[]);
    d.wait_terminal(&other, T);
    ws.send_json(json!({"type": "ping"}));
    let seen = {
        let mut seen = Vec::new();
        let deadline = Instant::now() + T;
        while let Some(m) = ws.next_json_until(deadline) {
            if m["type"] == "pong" {
                break;
            }
            seen.push(m);
        }
        seen
    };
    assert!(
        seen.iter()
            .all(|m| m["type"] == "work_order_created" || m["workOrderId"] != other.as_str()),
        "{seen:?}"
    );
}

#[test]
fn continue_and_restart_over_http() {
    let d = Daemon::with_http(&[], &[]);
    let addr = http_addr(&d);
    let key = d.api_key();
    let auth = [
        ("x-api-key", key.as_str()),
        ("content-type", "application/json"),
    ];
    let id = d.submit_shell("echo first", &["--label", "keep"]);
    d.wait_terminal(&id, T);
    let path = format!("/api/v1/work-orders/{id}/restart");
    let r = request(&addr, "POST", &path, &auth, Some(br#"{"priority": 5}"#));
    let copy = r.data(201);
    assert_ne!(copy["id"], id.as_str());
    assert_eq!(copy["priority"], 5, "{copy}");
    let copy_id = copy["id"].as_str().unwrap();
    assert_eq!(d.wait_terminal(copy_id, T)["status"], "succeeded");
    // Refusals are the CLI's: a shell run has no session to resume.
    let path = format!("/api/v1/work-orders/{id}/continue");
    let r = request(&addr, "POST", &path, &auth, Some(br#"{"prompt": "more"}"#));
    assert!(r.status == 409 || r.status == 400, "{}", r.text);
    let cli = d.run(&["queue", "continue", &id, "more"]);
    let said = r.error(r.status)["message"].as_str().unwrap().to_string();
    assert!(stderr(&cli).contains(&said), "{} vs {said}", stderr(&cli));
    let r = request(&addr, "POST", &path, &auth, Some(br#"{"prompt": 1}"#));
    assert_eq!(r.error(400)["details"]["field"], "prompt");
    let r = request(&addr, "POST", &path, &auth, Some(br#"{"nope": 1}"#));
    r.error(400);
    let r = request(
        &addr,
        "POST",
        "/api/v1/work-orders/NOSUCH/restart",
        &auth,
        Some(b"{}"),
    );
    r.error(404);
}

#[test]
fn dashboard_without_http_or_daemon_says_what_to_do() {
    let d = Daemon::fast(&[]);
    let out = d.run(&["dashboard"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("--http"), "{}", stderr(&out));
    let mut d = d;
    d.stop();
    let out = d.run(&["dashboard"]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
}

/// Python with Playwright: `AGENTGATE_BROWSER_PYTHON`, else the venv of
/// `.ci/browser.sh`; and Chromium. `None` (SKIPPED) when either is missing.
fn browser_python() -> Option<PathBuf> {
    let candidate = std::env::var_os("AGENTGATE_BROWSER_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/browser-venv/bin/python")
        });
    let ok = Command::new(&candidate)
        .args(["-c", "import playwright.sync_api"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok || !std::path::Path::new("/usr/bin/chromium").exists() {
        eprintln!(
            "SKIPPED: no Python with Playwright at {} or no /usr/bin/chromium (run `bash .ci/browser.sh`)",
            candidate.display()
        );
        return None;
    }
    Some(candidate)
}

#[test]
fn the_dashboard_in_a_real_browser() {
    let Some(py) = browser_python() else { return };
    let d = Daemon::with_http(&["--max-concurrent", "4"], &[]);
    let _ = http_addr(&d);
    let url = login_url(&d);
    // Screenshots are kept for people to look at (CI artifacts).
    let shots = std::env::var_os("AGENTGATE_SCREENSHOTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("agentgate-dashboard-shots"));
    std::fs::create_dir_all(&shots).unwrap();
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/dashboard/drive.py");
    let out = Command::new(&py)
        .arg(&script)
        .env("DASHBOARD_URL", &url)
        .env("AGENTGATE_BIN", BIN)
        .env("AGENTGATE_ROOT", &d.root)
        .env("AGENTGATE_SOCKET", &d.socket)
        .env("AGENTGATE_CONFIG", d.dir.path().join("no-config.toml"))
        .env("SHOT_DIR", &shots)
        .env("PYTHONUNBUFFERED", "1")
        .stdin(Stdio::null())
        .output()
        .expect("run the browser driver");
    let text = stdout(&out);
    let Some(line) = text
        .lines()
        .find_map(|l| l.strip_prefix("DASHBOARD-RESULT "))
    else {
        panic!(
            "the browser test failed (exit {:?}):\nstdout:\n{text}\nstderr:\n{}\ndaemon log:\n{}",
            out.status.code(),
            stderr(&out),
            d.log_text()
        );
    };
    assert!(out.status.success(), "{text}\n{}", stderr(&out));
    let seen: Value = serde_json::from_str(line).expect("result JSON");
    eprintln!("browser test: {seen}; screenshots in {}", shots.display());
    for shot in [
        "queue-1440.png",
        "queue-390.png",
        "work-order-1440.png",
        "work-order-390.png",
    ] {
        let size = std::fs::metadata(shots.join(shot))
            .map(|m| m.len())
            .unwrap_or(0);
        assert!(size > 1000, "{shot} missing or empty");
    }
    // What the page did, seen by the daemon.
    let list = d.json(&["queue", "list", "--json", "--all"]);
    let items = list["items"].as_array().cloned().unwrap_or_default();
    assert!(
        items.iter().any(|w| w["status"] == "canceled"),
        "nothing was canceled from the page: {list}"
    );
    wait_for("nothing left running", T, || {
        let v = d.json(&["queue", "list", "--json", "--status", "running"]);
        (v["items"].as_array().is_some_and(|a| a.is_empty())).then_some(())
    });
}
