//! AgentGate v0.2.23's own clients against the real daemon: exactly the
//! requests its `agentgate queue` CLI, its SDK (`packages/client`) and its
//! dashboard (`packages/dashboard/src/api`) send — paths, headers, bodies,
//! query strings — reading exactly the fields they read. Plus CORS as a
//! browser sees it.

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::web::{Reply, Sse, Ws, http_addr, request};
use common::{Daemon, wait_for};
use serde_json::{Value, json};

const KEY: &str = "agentgate-clients-key-0123456789abcdef";
const SECS_20: Duration = Duration::from_secs(20);
const FIVE: [&str; 5] = ["queued", "running", "succeeded", "failed", "canceled"];

/// A daemon with the HTTP shim, a known key, and the default agent type
/// (which AgentGate's SDK and dashboard submit) running its prompt with `sh`.
struct Setup {
    d: Daemon,
    addr: String,
    _config: tempfile::TempDir,
}

fn setup(extra: &[&str]) -> Setup {
    let config = tempfile::tempdir().unwrap();
    let path = config.path().join("config.toml");
    std::fs::write(
        &path,
        "[agents.claude-code-subscription]\ncommand = [\"sh\", \"-c\", \"{prompt}\"]\n",
    )
    .unwrap();
    let mut args = vec![
        "--stagger-delay",
        "0",
        "--min-memory",
        "0",
        "--http",
        "127.0.0.1:0",
        "--config",
        path.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let d = Daemon::start_env(&args, &[("AGENTGATE_API_KEY", KEY)]);
    let addr = http_addr(&d);
    Setup {
        d,
        addr,
        _config: config,
    }
}

fn workdir(d: &Daemon) -> PathBuf {
    let p = d.dir.path().join("work");
    std::fs::create_dir_all(&p).unwrap();
    p
}

fn is_time(v: &Value) -> bool {
    v.as_str()
        .is_some_and(|s| chrono::DateTime::parse_from_rfc3339(s).is_ok())
}

// ---- the CLI: `agentgate queue list|health|cancel|kill|purge` ----------------------

#[test]
fn agentgate_cli_requests() {
    let s = setup(&["--max-concurrent", "4"]);
    let (d, addr) = (&s.d, s.addr.as_str());
    let dir = workdir(d);
    let path = dir.to_str().unwrap();
    // The CLI sends the key as Bearer on every request; POSTs add a Content-Type.
    let bearer = format!("Bearer {KEY}");
    let get = |p: &str| request(addr, "GET", p, &[("Authorization", &bearer)], None);
    let post = |p: &str, body: Value| {
        request(
            addr,
            "POST",
            p,
            &[
                ("Authorization", &bearer),
                ("Content-Type", "application/json"),
            ],
            Some(body.to_string().as_bytes()),
        )
    };
    let delete = |p: &str| request(addr, "DELETE", p, &[("Authorization", &bearer)], None);

    let sleeper = d.submit_shell("sleep 60", &["--path", path]);
    let failed = d.submit_shell("exit 3", &["--path", path]);
    d.wait_status(&sleeper, "running", SECS_20);
    d.wait_status(&failed, "failed", SECS_20);

    // `queue list`: limit always sent (default 20); status only when given.
    for p in [
        "/api/v1/work-orders?limit=20",
        "/api/v1/work-orders?status=running&limit=5",
    ] {
        let r = get(p);
        assert_eq!(r.status, 200);
        let body = r.json();
        assert_eq!(body["success"], true);
        let items = body["data"]["items"].as_array().unwrap();
        assert!(!items.is_empty(), "{body}");
        for item in items {
            assert!(item["id"].as_str().unwrap().len() >= 12);
            assert!(FIVE.contains(&item["status"].as_str().unwrap()));
            assert!(is_time(&item["createdAt"]));
            assert!(
                item["agentType"].is_string(),
                "the CLI calls .substring on it"
            );
            assert!(item["taskPrompt"].is_string());
        }
    }
    let running = get("/api/v1/work-orders?status=running&limit=5").data(200);
    assert_eq!(running["items"][0]["id"], sleeper.as_str());

    // `queue health`: any non-2xx is an error for it; these fields are read.
    let h = get("/api/v1/queue/health").data(200);
    assert!(matches!(
        h["status"].as_str(),
        Some("healthy" | "degraded" | "unhealthy")
    ));
    assert_eq!(h["stats"]["running"], 1);
    assert_eq!(h["stats"]["maxConcurrent"], 4);
    assert_eq!(h["stats"]["waiting"], 0);
    assert!(h["utilization"].is_number());
    assert_eq!(h["stats"]["accepting"], true);
    assert!(h["stats"]["averageWaitMs"].is_u64());
    assert_eq!(h["indicators"]["canStartImmediately"], true);
    assert_eq!(h["indicators"]["queueDepth"], 0);

    // `queue kill ID` and `queue kill ID --force`.
    let k = post(
        &format!("/api/v1/work-orders/{sleeper}/kill"),
        json!({"immediate": false, "reason": "Killed via CLI"}),
    )
    .data(200);
    assert_eq!(k["success"], true);
    assert_eq!(k["forcedKill"], false);
    assert!(k["durationMs"].is_u64());
    let forced = d.submit_shell("sleep 60", &["--path", path]);
    d.wait_status(&forced, "running", SECS_20);
    let k = post(
        &format!("/api/v1/work-orders/{forced}/kill"),
        json!({"immediate": true, "reason": "Force killed via CLI (--force)"}),
    )
    .data(200);
    assert_eq!(
        (k["success"].clone(), k["forcedKill"].clone()),
        (json!(true), json!(true))
    );
    // Killing it again: the original's 200, `success` true (the CLI exits 0).
    let again = post(
        &format!("/api/v1/work-orders/{forced}/kill"),
        json!({"immediate": false, "reason": "Killed via CLI"}),
    )
    .data(200);
    assert_eq!(again["success"], true);
    assert_eq!(again["status"], "canceled");

    // `queue cancel ID`: no body, no Content-Type; reads wasRunning.
    let c = d.submit_shell("sleep 60", &["--path", path]);
    d.wait_status(&c, "running", SECS_20);
    let r = delete(&format!("/api/v1/work-orders/{c}"));
    assert_eq!(r.data(200)["wasRunning"], true);
    // A second cancel: non-2xx, and the CLI prints error.message.
    let e = delete(&format!("/api/v1/work-orders/{c}")).error(409);
    assert!(e["message"].as_str().unwrap().contains("already canceled"));

    // `queue purge --status failed -y`: count with limit=1000, then purge.
    let listed = get("/api/v1/work-orders?status=failed&limit=1000").data(200);
    let n = listed["items"].as_array().unwrap().len();
    assert_eq!(n, 1);
    let p = post("/api/v1/work-orders/purge", json!({"statuses": ["failed"]})).data(200);
    assert_eq!(p["deletedCount"], n);
    get(&format!("/api/v1/work-orders/{failed}")).error(404);

    // `queue purge ID -y`: DELETE (errors ignored), then POST purge `{}`.
    let r = delete(&format!("/api/v1/work-orders/{sleeper}"));
    assert!(r.status == 409 || r.status == 200);
    let r = post("/api/v1/work-orders/purge", json!({}));
    assert!((200..300).contains(&r.status), "{}", r.text);
    get(&format!("/api/v1/work-orders/{sleeper}")).error(404);
}

// ---- the SDK: `@agentgate/client` ------------------------------------------------

#[test]
fn agentgate_sdk_requests() {
    let s = setup(&[]);
    let (d, addr) = (&s.d, s.addr.as_str());
    let dir = workdir(d);
    // Every SDK call: Content-Type JSON and X-API-Key, GET and DELETE included.
    let sdk = [("Content-Type", "application/json"), ("X-API-Key", KEY)];
    let get = |p: &str| request(addr, "GET", p, &sdk, None);
    let body = |v: Value| v.to_string().into_bytes();

    // workOrders.create: exactly {taskPrompt, workspaceSource, agentType, harness}.
    let create = json!({
        "taskPrompt": "echo sdk-line-1; sleep 1; echo sdk-line-2",
        "workspaceSource": {"type": "local", "path": dir},
        "agentType": "claude-code-subscription",
        "harness": {"loopStrategy": {"mode": "fixed", "maxIterations": 7},
                    "limits": {"maxWallClockSeconds": 120}},
    });
    let wo = request(
        addr,
        "POST",
        "/api/v1/work-orders",
        &sdk,
        Some(&body(create)),
    )
    .data(201);
    let id = wo["id"].as_str().unwrap().to_string();
    for f in [
        "taskPrompt",
        "status",
        "workspaceSource",
        "agentType",
        "createdAt",
        "updatedAt",
    ] {
        assert!(wo.get(f).is_some(), "summary lacks {f}: {wo}");
    }
    assert!(wo["runCount"].as_u64().unwrap() <= 1);

    // workOrders.get: the typical flow reads runs[0].id.
    let detail = wait_for("a run", SECS_20, || {
        let v = get(&format!("/api/v1/work-orders/{id}")).data(200);
        v["runs"][0]["id"].is_string().then_some(v)
    });
    assert_eq!(
        detail["maxIterations"], 7,
        "harness.loopStrategy.maxIterations"
    );
    assert_eq!(detail["maxTime"], 120, "harness.limits.maxWallClockSeconds");
    assert!(detail["runs"][0]["iterationCount"].is_u64());
    let run_id = detail["runs"][0]["id"].as_str().unwrap().to_string();

    // runs.streamEvents(runId): EventSource with the same headers.
    let sse = Sse::open(addr, &format!("/api/v1/runs/{run_id}/stream"), &sdk);
    assert_eq!(sse.status, 200);
    assert!(sse.content_type.starts_with("text/event-stream"));
    let events = sse.all();
    let first = &events[0];
    assert_eq!(first.event, "connected");
    assert_eq!(first.data["type"], "connected");
    assert_eq!(first.data["runId"], run_id.as_str());
    assert!(is_time(&first.data["timestamp"]));
    assert!(first.data["data"]["clientId"].is_string());
    let output: String = events
        .iter()
        .filter(|e| e.event == "agent-output")
        .map(|e| e.data["data"]["content"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(output, "sdk-line-1\nsdk-line-2\n");
    let last = events.last().unwrap();
    assert_eq!(last.event, "run-complete", "{events:?}");
    assert_eq!(last.data["data"]["status"], "succeeded");
    assert_eq!(last.data["data"]["totalIterations"], 1);

    // runs.get and runs.list({workOrderId}).
    let run = get(&format!("/api/v1/runs/{run_id}")).data(200);
    assert_eq!(run["status"], "succeeded");
    assert!(is_time(&run["startedAt"]) && is_time(&run["completedAt"]));
    assert_eq!(run["iterationCount"], 1);
    assert_eq!(run["workOrderId"], id.as_str());
    assert_eq!(run["iterations"], json!([]));
    let runs = get(&format!("/api/v1/runs?workOrderId={id}")).data(200);
    assert_eq!(runs["items"][0]["id"], run_id.as_str());
    assert_eq!(runs["items"][0]["iterationCount"], 1);
    assert_eq!(
        (
            runs["total"].clone(),
            runs["limit"].clone(),
            runs["offset"].clone(),
            runs["hasMore"].clone()
        ),
        (json!(1), json!(20), json!(0), json!(false))
    );

    // runs.getConfig, workOrders.getAudit, profiles.list.
    let config = get(&format!("/api/v1/runs/{run_id}/config")).data(200);
    assert_eq!(config["runId"], run_id.as_str());
    assert!(config["config"].is_object());
    assert_eq!(config["config"]["maxIterations"], 7);
    let audit = get(&format!("/api/v1/work-orders/{id}/audit")).data(200);
    assert_eq!(audit["workOrderId"], id.as_str());
    let r0 = &audit["runs"][0];
    assert_eq!(r0["runId"], run_id.as_str());
    assert!(is_time(&r0["startedAt"]) && is_time(&r0["completedAt"]));
    assert!(r0["snapshotCount"].is_u64() && r0["changeCount"].is_u64());
    let profiles = get("/api/v1/profiles").data(200);
    let p0 = &profiles["items"][0];
    assert_eq!(p0["name"], "default");
    assert!(p0["description"].is_string());
    assert!(p0["extends"].is_null());
    assert_eq!(p0["isBuiltIn"], true);
    assert_eq!(profiles["total"], 1);

    // workOrders.list({limit, status}): only truthy params are set.
    let list = get("/api/v1/work-orders?limit=5&status=succeeded").data(200);
    assert_eq!(list["items"][0]["id"], id.as_str());
    for f in ["total", "limit", "offset", "hasMore"] {
        assert!(list.get(f).is_some());
    }

    // workOrders.cancel: DELETE with the Content-Type and no body.
    let other = json!({"taskPrompt": "sleep 60", "workspaceSource": {"type": "local", "path": dir},
        "agentType": "claude-code-subscription"});
    let o = request(
        addr,
        "POST",
        "/api/v1/work-orders",
        &sdk,
        Some(&body(other)),
    )
    .data(201);
    let oid = o["id"].as_str().unwrap();
    let c = request(
        addr,
        "DELETE",
        &format!("/api/v1/work-orders/{oid}"),
        &sdk,
        None,
    )
    .data(200);
    assert_eq!(c["id"], oid);
    assert_eq!(c["status"], "canceled");
    assert!(c["message"].is_string());
    // Errors are JSON too (the SDK always parses the body): ConflictError, NotFoundError.
    let e = request(
        addr,
        "DELETE",
        &format!("/api/v1/work-orders/{oid}"),
        &sdk,
        None,
    )
    .error(409);
    assert_eq!(e["code"], "CONFLICT");
    let e = get("/api/v1/work-orders/AAAAAAAAAAAA").error(404);
    assert_eq!(e["code"], "NOT_FOUND");

    // A browser's EventSource cannot send headers: `?token=` instead.
    let events = Sse::open(
        addr,
        &format!("/api/v1/runs/{run_id}/stream?token={KEY}"),
        &[],
    )
    .all();
    assert_eq!(events.last().unwrap().event, "run-complete");
    let refused = Sse::open(
        addr,
        &format!("/api/v1/runs/{run_id}/stream?token=wrong"),
        &[],
    );
    assert_eq!(refused.status, 401);
}

// ---- the dashboard: `packages/dashboard/src/api` ---------------------------------

/// A work order file as AgentGate wrote them, with a status the dashboard
/// cannot render (recovered at start like `running`).
fn legacy_integrating(root: &Path, dir: &Path) -> String {
    let id = "legacyInteg1".to_string();
    let wo = json!({
        "id": id, "taskPrompt": "merge the children", "status": "integrating",
        "agentType": "claude-code-subscription",
        "workspaceSource": {"type": "local", "path": dir},
        "createdAt": "2026-01-02T03:04:05.678Z",
    });
    std::fs::write(
        root.join("work-orders").join(format!("{id}.json")),
        serde_json::to_vec_pretty(&wo).unwrap(),
    )
    .unwrap();
    id
}

#[test]
fn agentgate_dashboard_requests() {
    let mut s = setup(&[]);
    let dir = workdir(&s.d);
    // Data from older AgentGate: a status the dashboard's StatusBadge would crash on.
    s.d.stop();
    let legacy = legacy_integrating(&s.d.root, &dir);
    s.d.spawn();
    let addr = http_addr(&s.d);
    let addr = addr.as_str();
    let origin = "http://localhost:5173";
    let bearer = format!("Bearer {KEY}");
    // Every dashboard request sends a Content-Type, so every one is preflighted.
    let preflight = |method: &str, path: &str| {
        let r = request(
            addr,
            "OPTIONS",
            path,
            &[
                ("Origin", origin),
                ("Access-Control-Request-Method", method),
                (
                    "Access-Control-Request-Headers",
                    "authorization,content-type",
                ),
            ],
            None,
        );
        assert_eq!(r.status, 204, "preflight {method} {path}");
        assert_eq!(r.header("access-control-allow-origin"), Some(origin));
        let allowed = r
            .header("access-control-allow-headers")
            .unwrap()
            .to_lowercase();
        assert!(allowed.contains("authorization") && allowed.contains("content-type"));
        assert!(
            r.header("access-control-allow-methods")
                .unwrap()
                .contains(method)
        );
    };
    let dash = [
        ("Origin", origin),
        ("Content-Type", "application/json"),
        ("Authorization", bearer.as_str()),
    ];
    let call = |method: &str, path: &str, body: Option<Value>| -> Reply {
        preflight(method, path);
        let body = body.map(|b| b.to_string().into_bytes());
        let r = request(addr, method, path, &dash, body.as_deref());
        assert_eq!(
            r.header("access-control-allow-origin"),
            Some(origin),
            "{method} {path}"
        );
        r
    };

    // App load: the WebSocket, with the key as ?token= (and the page's Origin).
    let mut ws = Ws::connect(addr, &format!("/ws?token={KEY}"), &[("Origin", origin)]).unwrap();

    // `/` and `/work-orders`: transformWorkOrder over the items, and `total`.
    let transform = |item: &Value| {
        assert!(item["id"].is_string());
        assert!(FIVE.contains(&item["status"].as_str().unwrap()), "{item}");
        assert!(item["taskPrompt"].is_string());
        assert_eq!(item["workspaceSource"]["type"], "local");
        assert!(item["workspaceSource"]["path"].is_string());
        assert!(is_time(&item["createdAt"]) && is_time(&item["updatedAt"]));
    };
    let list = call("GET", "/api/v1/work-orders", None).data(200);
    list["items"].as_array().unwrap().iter().for_each(transform);
    assert_eq!(list["total"], 1);
    assert_eq!(list["items"][0]["id"], legacy.as_str());
    // Recovered at start like a running one whose process is gone.
    assert_eq!(
        list["items"][0]["status"], "failed",
        "integrating is recovered as interrupted"
    );
    assert_eq!(list["items"][0]["result"], "interrupted");
    let running = call("GET", "/api/v1/work-orders?status=running", None).data(200);
    assert!(running["items"].as_array().is_some());

    // Create (the form sends no agentType): then the list is fetched again.
    let wo = call(
        "POST",
        "/api/v1/work-orders",
        Some(
            json!({"taskPrompt": "while true; do echo tick; sleep 0.2; done",
            "workspaceSource": {"type": "local", "path": dir}, "maxIterations": 5, "maxTime": 300}),
        ),
    )
    .data(201);
    transform(&wo);
    let id = wo["id"].as_str().unwrap().to_string();
    // Every connection hears of a new work order.
    let created = ws.wait_for(SECS_20, |m| m["type"] == "work_order_created");
    assert_eq!(created["workOrderId"], id.as_str());
    assert!(is_time(&created["timestamp"]));
    let list = call("GET", "/api/v1/work-orders", None).data(200);
    assert_eq!(list["total"], 2);

    // `/work-orders/:id`: the detail and its runs.
    let detail = wait_for("running", SECS_20, || {
        let v = call("GET", &format!("/api/v1/work-orders/{id}"), None).data(200);
        (v["status"] == "running").then_some(v)
    });
    transform(&detail);
    let runs = call("GET", &format!("/api/v1/runs?workOrderId={id}"), None).data(200);
    assert_eq!(runs["total"], 1);
    let run = &runs["items"][0];
    let run_id = run["id"].as_str().unwrap().to_string();
    assert_eq!(run["status"], "running");
    assert!(is_time(&run["startedAt"]));
    assert!(run["iterationCount"].is_u64(), "total_iterations");

    // It is running: the activity panel subscribes.
    ws.send_json(json!({"type": "subscribe", "workOrderId": id}));
    let ok = ws.wait_for(SECS_20, |m| m["type"] == "subscription_confirmed");
    assert_eq!(ok["workOrderId"], id.as_str());
    let out = ws.wait_for(SECS_20, |m| m["type"] == "agent_output");
    assert_eq!(out["workOrderId"], id.as_str());
    assert_eq!(out["runId"], run_id.as_str());
    assert!(out["content"].as_str().unwrap().contains("tick"));

    // The cancel button: DELETE, then the detail again.
    call("DELETE", &format!("/api/v1/work-orders/{id}"), None).data(200);
    let after = call("GET", &format!("/api/v1/work-orders/{id}"), None).data(200);
    assert_eq!(after["status"], "canceled");
    let updated = ws.wait_for(SECS_20, |m| m["type"] == "work_order_updated");
    assert_eq!(updated["workOrderId"], id.as_str());
    assert_eq!(updated["status"], "canceled");
    assert_eq!(updated["previousStatus"], "running");
    assert!(is_time(&updated["timestamp"]));
    let failed = ws.wait_for(SECS_20, |m| m["type"] == "run_failed");
    assert_eq!(failed["runId"], run_id.as_str());
    assert!(failed["error"].as_str().unwrap().contains("canceled"));

    // `/runs` and `/runs/:id`.
    let all = call("GET", "/api/v1/runs", None).data(200);
    assert!(all["total"].as_u64().unwrap() >= 1);
    for r in all["items"].as_array().unwrap() {
        assert!(r["id"].is_string() && r["status"].is_string() && r["iterationCount"].is_u64());
    }
    let one = call("GET", &format!("/api/v1/runs/{run_id}"), None).data(200);
    assert_eq!(one["workOrderId"], id.as_str());
    assert_eq!(one["status"], "canceled");
    assert!(is_time(&one["completedAt"]));
    assert!(one["iterationCount"].is_u64());
}

// ---- CORS ----------------------------------------------------------------------------

#[test]
fn cors_preflight_and_origins() {
    let s = setup(&[]);
    let addr = s.addr.as_str();
    let preflight = |origin: &str| {
        request(
            addr,
            "OPTIONS",
            "/api/v1/work-orders",
            &[
                ("Origin", origin),
                ("Access-Control-Request-Method", "POST"),
                ("Access-Control-Request-Headers", "content-type,x-api-key"),
            ],
            None,
        )
    };
    // A local dev server's page: 204 with the CORS headers, no key needed.
    let r = preflight("http://localhost:5173");
    assert_eq!(r.status, 204);
    assert_eq!(
        r.header("access-control-allow-origin"),
        Some("http://localhost:5173")
    );
    let methods = r.header("access-control-allow-methods").unwrap();
    for m in ["GET", "POST", "DELETE", "OPTIONS"] {
        assert!(methods.contains(m), "{methods}");
    }
    let headers = r
        .header("access-control-allow-headers")
        .unwrap()
        .to_lowercase();
    for h in ["content-type", "authorization", "x-api-key", "x-request-id"] {
        assert!(headers.contains(h), "{headers}");
    }
    assert!(
        r.header("access-control-allow-credentials").is_none(),
        "nothing is cookie-based"
    );
    assert_eq!(preflight("http://127.0.0.1:8080").status, 204);
    // Any other origin: answered, but nothing a browser would accept.
    for evil in ["https://evil.example", "http://localhost.evil.example:5173"] {
        let r = preflight(evil);
        assert_eq!(r.status, 204);
        assert!(r.header("access-control-allow-origin").is_none(), "{evil}");
        assert!(r.header("access-control-allow-methods").is_none());
    }
    // The key is still needed on the real request (the 401 readable by the page).
    let r = request(
        addr,
        "GET",
        "/api/v1/work-orders",
        &[("Origin", "http://localhost:5173")],
        None,
    );
    r.unauthorized();
    assert_eq!(
        r.header("access-control-allow-origin"),
        Some("http://localhost:5173")
    );
    assert_eq!(
        r.header("access-control-expose-headers"),
        Some("X-Request-ID")
    );
    let r = request(
        addr,
        "GET",
        "/api/v1/work-orders",
        &[("Origin", "https://evil.example"), ("X-API-Key", KEY)],
        None,
    );
    r.data(200);
    assert!(r.header("access-control-allow-origin").is_none());
    // A page from another origin gets no WebSocket, key or not.
    let refused = Ws::connect(
        addr,
        &format!("/ws?token={KEY}"),
        &[("Origin", "https://evil.example")],
    );
    assert_eq!(refused.err().map(|e| e.0), Some(403));

    // A configured list replaces the default.
    let s = setup(&[
        "--cors-origin",
        "https://dash.example.com, http://10.0.0.5:*",
    ]);
    let addr = s.addr.as_str();
    let allowed = |origin: &str| {
        request(
            addr,
            "OPTIONS",
            "/api/v1/queue/health",
            &[("Origin", origin), ("Access-Control-Request-Method", "GET")],
            None,
        )
        .header("access-control-allow-origin")
        .map(str::to_string)
    };
    assert_eq!(
        allowed("https://dash.example.com").as_deref(),
        Some("https://dash.example.com")
    );
    assert_eq!(
        allowed("http://10.0.0.5:3000").as_deref(),
        Some("http://10.0.0.5:3000")
    );
    assert_eq!(allowed("http://localhost:5173"), None);
}
