//! The live and queue-side routes in detail: the WebSocket protocol (auth,
//! messages, filters, every event kind, runs after a retry), the SSE run
//! stream, queue statistics and positions with `maxQueueSize`, and the runs
//! listing.

mod common;

use std::time::Duration;

use common::web::{Sse, Ws, http_addr, request};
use common::{Daemon, wait_for};
use serde_json::{Value, json};

const KEY: &str = "live-key-0123456789abcdefghijklmn";
const SECS_20: Duration = Duration::from_secs(20);

fn daemon(extra: &[&str]) -> (Daemon, String) {
    let d = Daemon::with_http(extra, &[("AGENTGATE_API_KEY", KEY)]);
    let addr = http_addr(&d);
    (d, addr)
}

fn auth() -> [(&'static str, &'static str); 1] {
    [("X-API-Key", KEY)]
}

fn get(addr: &str, path: &str) -> common::web::Reply {
    request(addr, "GET", path, &auth(), None)
}

fn post(addr: &str, path: &str, body: Value) -> common::web::Reply {
    let headers = [("X-API-Key", KEY), ("Content-Type", "application/json")];
    request(
        addr,
        "POST",
        path,
        &headers,
        Some(body.to_string().as_bytes()),
    )
}

fn submit(addr: &str, d: &Daemon, script: &str) -> String {
    let dir = d.dir.path().join("work");
    std::fs::create_dir_all(&dir).unwrap();
    let wo = post(
        addr,
        "/api/v1/work-orders",
        json!({"taskPrompt": script, "agentType": "shell", "workspaceSource": {"type": "local", "path": dir}}),
    )
    .data(201);
    wo["id"].as_str().unwrap().to_string()
}

fn ws(addr: &str) -> Ws {
    Ws::connect(addr, "/ws", &auth()).unwrap()
}

fn of<'a>(kind: &'a str, id: &'a str) -> impl FnMut(&Value) -> bool + 'a {
    move |m| m["type"] == kind && m["workOrderId"] == id
}

/// Messages about `id` up to and including the first that satisfies `last`.
#[track_caller]
fn until(ws: &mut Ws, id: &str, mut last: impl FnMut(&Value) -> bool) -> Vec<Value> {
    let mut out = Vec::new();
    loop {
        let m = ws.wait_for(SECS_20, |m| m["workOrderId"] == id);
        let done = last(&m);
        out.push(m);
        if done {
            return out;
        }
    }
}

#[track_caller]
fn find(msgs: &[Value], kind: &str, mut pred: impl FnMut(&Value) -> bool) -> Value {
    msgs.iter()
        .find(|m| m["type"] == kind && pred(m))
        .cloned()
        .unwrap_or_else(|| panic!("no {kind} in {msgs:?}"))
}

/// The agent_output among `seen`, else the next one to arrive.
#[track_caller]
fn wait_output(ws: &mut Ws, seen: &[Value], id: &str) -> Value {
    match seen.iter().find(|m| m["type"] == "agent_output") {
        Some(m) => m.clone(),
        None => ws.wait_for(SECS_20, of("agent_output", id)),
    }
}

#[test]
fn websocket_authentication_and_messages() {
    let (_d, addr) = daemon(&[]);
    let addr = addr.as_str();
    // The key: a header, Bearer, or ?token=; nothing else.
    assert_eq!(Ws::connect(addr, "/ws", &[]).err().map(|e| e.0), Some(401));
    assert_eq!(
        Ws::connect(addr, "/ws?token=nope", &[]).err().map(|e| e.0),
        Some(401)
    );
    let bearer = format!("Bearer {KEY}");
    for c in [
        Ws::connect(addr, "/ws", &[("Authorization", &bearer)]),
        Ws::connect(addr, &format!("/ws?token={KEY}"), &[]),
        Ws::connect(addr, "/ws", &auth()),
    ] {
        assert!(c.is_ok());
    }
    // Not a WebSocket handshake: a 400 in the envelope.
    get(addr, "/ws").error(400);

    let mut c = ws(addr);
    c.send_json(json!({"type": "ping"}));
    let pong = c.wait_for(SECS_20, |m| m["type"] == "pong");
    assert!(pong["timestamp"].is_string());
    // Bad messages get an error; the connection stays.
    for bad in [
        "not json",
        "[1,2]",
        r#"{"no":"type"}"#,
        r#"{"type":"dance"}"#,
        r#"{"type":"subscribe"}"#,
        r#"{"type":"subscribe","workOrderId":"../etc"}"#,
        r#"{"type":"subscribe","workOrderId":"abc","filters":{"includeOutput":"no"}}"#,
        r#"{"type":"subscribe","workOrderId":"abc","filters":[]}"#,
    ] {
        c.send_text(bad);
        let e = c.wait_for(SECS_20, |m| m["type"] == "error");
        assert_eq!(e["code"], "INVALID_MESSAGE", "{bad}: {e}");
        assert!(e["message"].is_string());
    }
    c.send_json(json!({"type": "subscribe", "workOrderId": "AAAAAAAAAAAA"}));
    let ok = c.wait_for(SECS_20, |m| m["type"] == "subscription_confirmed");
    assert_eq!(ok["workOrderId"], "AAAAAAAAAAAA");
    c.send_json(json!({"type": "unsubscribe", "workOrderId": "AAAAAAAAAAAA"}));
    let ok = c.wait_for(SECS_20, |m| m["type"] == "unsubscription_confirmed");
    assert_eq!(ok["workOrderId"], "AAAAAAAAAAAA");
    c.send_json(json!({"type": "ping"}));
    c.wait_for(SECS_20, |m| m["type"] == "pong");
}

#[test]
fn websocket_events_follow_a_work_order_through_retries() {
    let (d, addr) = daemon(&["--no-auto-process"]);
    let addr = addr.as_str();
    let mut bystander = ws(addr);
    let mut watcher = ws(addr);
    let mut quiet = ws(addr);
    // Fails on its first run, succeeds on the second.
    let marker = d.dir.path().join("ran-once");
    let script = format!(
        "sleep 0.5; if [ -e {m} ]; then echo second-run; exit 0; fi; touch {m}; echo first-run; exit 3",
        m = marker.display()
    );
    let id = submit(addr, &d, &script);
    // Created: told to every connection, subscribed or not.
    let created = bystander.wait_for(SECS_20, of("work_order_created", &id));
    assert_eq!(created["status"], "queued");
    assert_eq!(created["taskPrompt"], script.as_str());
    watcher.send_json(json!({"type": "subscribe", "workOrderId": id}));
    watcher.wait_for(SECS_20, |m| m["type"] == "subscription_confirmed");
    quiet.send_json(
        json!({"type": "subscribe", "workOrderId": id, "filters": {"includeOutput": false}}),
    );
    quiet.wait_for(SECS_20, |m| m["type"] == "subscription_confirmed");

    // First run: queued -> running -> failed. Output is read from the log as
    // it grows, so it may arrive before or after the status changes.
    post(addr, &format!("/api/v1/work-orders/{id}/runs"), json!({})).data(202);
    let first = until(&mut watcher, &id, |m| m["type"] == "run_failed");
    let up = find(&first, "work_order_updated", |m| m["status"] == "running");
    assert_eq!(up["previousStatus"], "queued");
    let started = find(&first, "run_started", |_| true);
    assert_eq!(started["runNumber"], 1);
    let run1 = started["runId"].as_str().unwrap().to_string();
    let failed = find(&first, "run_failed", |_| true);
    assert_eq!(failed["runId"], run1.as_str());
    assert_eq!(failed["error"], "exited with code 3");
    let up = find(&first, "work_order_updated", |m| m["status"] == "failed");
    assert_eq!(up["previousStatus"], "running");
    let out = wait_output(&mut watcher, &first, &id);
    assert_eq!(out["runId"], run1.as_str());
    assert_eq!(out["content"], "first-run\n");

    // The retry: a new run, its output followed from its start.
    post(addr, &format!("/api/v1/work-orders/{id}/runs"), json!({})).data(202);
    let second = until(&mut watcher, &id, |m| m["type"] == "run_completed");
    let started = find(&second, "run_started", |_| true);
    assert_eq!(started["runNumber"], 2);
    let run2 = started["runId"].as_str().unwrap().to_string();
    assert_ne!(run1, run2);
    assert_eq!(
        find(&second, "run_completed", |_| true)["runId"],
        run2.as_str()
    );
    let out = wait_output(&mut watcher, &second, &id);
    assert_eq!(
        (out["runId"].as_str(), out["content"].as_str()),
        (Some(run2.as_str()), Some("second-run\n"))
    );

    // The subscription without output saw the lifecycle, never the output.
    let seen = quiet.drain(Duration::from_millis(500));
    let kinds: Vec<&str> = seen.iter().filter_map(|m| m["type"].as_str()).collect();
    assert!(!kinds.contains(&"agent_output"), "{kinds:?}");
    for k in [
        "work_order_updated",
        "run_started",
        "run_failed",
        "run_completed",
    ] {
        assert!(kinds.contains(&k), "{k} missing: {kinds:?}");
    }
    // Bystanders hear of creations only.
    let seen = bystander.drain(Duration::from_millis(300));
    assert!(
        seen.iter().all(|m| m["type"] == "work_order_created"),
        "{seen:?}"
    );

    // After unsubscribing, nothing more about it.
    watcher.send_json(json!({"type": "unsubscribe", "workOrderId": id}));
    watcher.wait_for(SECS_20, |m| m["type"] == "unsubscription_confirmed");
    request(
        addr,
        "DELETE",
        &format!("/api/v1/work-orders/{id}?purge=true"),
        &auth(),
        None,
    )
    .data(200);
    let seen = watcher.drain(Duration::from_millis(300));
    assert!(
        seen.iter().all(|m| m["workOrderId"] != id.as_str()),
        "{seen:?}"
    );
}

#[test]
fn sse_run_stream() {
    let (d, addr) = daemon(&["--no-auto-process"]);
    let addr = addr.as_str();
    let id = submit(addr, &d, "echo one; sleep 0.3; echo two; sleep 60");
    let run = post(addr, &format!("/api/v1/work-orders/{id}/runs"), json!({})).data(202);
    let run_id = run["runId"].as_str().unwrap().to_string();
    let path = format!("/api/v1/runs/{run_id}/stream");
    // Without the key: 401; an unknown run: 404; a bad id: 400 (all JSON).
    let r = request(addr, "GET", &path, &[], None);
    r.unauthorized();
    get(addr, "/api/v1/runs/AAAAAAAAAAAA/stream").error(404);
    get(addr, "/api/v1/runs/bad.id/stream").error(400);

    let mut sse = Sse::open(addr, &path, &auth());
    assert_eq!(sse.status, 200);
    let connected = sse.next_event().unwrap();
    assert_eq!(connected.event, "connected");
    assert_eq!(connected.data["data"]["runStatus"], "running");
    let mut text = String::new();
    while !text.contains("two\n") {
        let e = sse.next_event().expect("output before the end");
        assert_eq!(e.event, "agent-output", "{e:?}");
        assert_eq!(e.data["runId"], run_id.as_str());
        text.push_str(e.data["data"]["content"].as_str().unwrap());
    }
    assert_eq!(text, "one\ntwo\n");
    // Ended from outside: run-complete, then the stream closes.
    request(
        addr,
        "DELETE",
        &format!("/api/v1/work-orders/{id}"),
        &auth(),
        None,
    )
    .data(200);
    let done = sse.next_event().unwrap();
    assert_eq!(done.event, "run-complete");
    assert_eq!(done.data["data"]["status"], "canceled");
    assert!(sse.next_event().is_none());

    // An earlier run of a work order that ran again: its own log, its own end.
    let marker = d.dir.path().join("again");
    let script = format!(
        "if [ -e {m} ]; then echo later; exit 0; fi; touch {m}; echo earlier; exit 1",
        m = marker.display()
    );
    let id = submit(addr, &d, &script);
    let first = post(addr, &format!("/api/v1/work-orders/{id}/runs"), json!({})).data(202)["runId"]
        .as_str()
        .unwrap()
        .to_string();
    wait_for("failed", SECS_20, || {
        (get(addr, &format!("/api/v1/work-orders/{id}")).data(200)["status"] == "failed")
            .then_some(())
    });
    post(addr, &format!("/api/v1/work-orders/{id}/runs"), json!({})).data(202);
    wait_for("succeeded", SECS_20, || {
        (get(addr, &format!("/api/v1/work-orders/{id}")).data(200)["status"] == "succeeded")
            .then_some(())
    });
    let events = Sse::open(addr, &format!("/api/v1/runs/{first}/stream"), &auth()).all();
    let kinds: Vec<&str> = events.iter().map(|e| e.event.as_str()).collect();
    assert_eq!(kinds, ["connected", "agent-output", "run-complete"]);
    assert_eq!(events[1].data["data"]["content"], "earlier\n");
    assert_eq!(events[2].data["data"]["status"], "failed");
}

#[test]
fn queue_stats_position_and_max_queue_size() {
    let (d, addr) = daemon(&[
        "--no-auto-process",
        "--max-concurrent",
        "1",
        "--max-queue-size",
        "3",
    ]);
    let addr = addr.as_str();
    let ids: Vec<String> = (0..3)
        .map(|i| submit(addr, &d, &format!("sleep 60 # {i}")))
        .collect();
    // The fourth is refused, clearly, and over both doors.
    let dir = d.dir.path().join("work");
    let e = post(
        addr,
        "/api/v1/work-orders",
        json!({"taskPrompt": "true", "agentType": "shell", "workspaceSource": {"type": "local", "path": dir}}),
    )
    .error(503);
    assert!(
        e["message"].as_str().unwrap().contains("queue is full"),
        "{e}"
    );
    let out = d.run(&["submit", "--agent", "shell", "true"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("max_queue_size 3"));

    // Full: unhealthy and not accepting; AgentGate's 503 with the success envelope.
    let r = get(addr, "/api/v1/queue/health");
    let h = r.data(503);
    assert_eq!(h["status"], "unhealthy");
    assert_eq!(h["stats"]["maxQueueSize"], 3);
    assert_eq!(h["stats"]["waiting"], 3);
    assert_eq!(h["stats"]["accepting"], false);
    assert_eq!(h["utilization"], 1.0);
    assert_eq!(h["indicators"]["queueDepth"], 3);
    let stats = get(addr, "/api/v1/queue/stats").data(200);
    assert_eq!(
        stats,
        json!({"waiting": 3, "running": 0, "maxConcurrent": 1, "averageWaitMs": 0, "maxQueueSize": 3, "accepting": false})
    );
    let cli = d.json(&["queue", "health", "--json"]);
    assert_eq!(cli["stats"], h["stats"]);

    // Positions in the order admission takes them (FIFO); no estimate yet.
    for (i, id) in ids.iter().enumerate() {
        let p = get(addr, &format!("/api/v1/queue/position/{id}")).data(200);
        assert_eq!(p["position"], i + 1);
        assert_eq!(p["ahead"], i);
        assert_eq!(p["state"], "waiting");
        assert!(p["estimatedWaitMs"].is_null());
        assert!(p["enqueuedAt"].is_string());
    }
    // The first starts: running (position 0); the others move up, and now
    // the wait measured gives an estimate.
    post(
        addr,
        &format!("/api/v1/work-orders/{}/runs", ids[0]),
        json!({}),
    )
    .data(202);
    let p = get(addr, &format!("/api/v1/queue/position/{}", ids[0])).data(200);
    assert_eq!(
        (p["position"].clone(), p["state"].clone()),
        (json!(0), json!("running"))
    );
    let p = get(addr, &format!("/api/v1/queue/position/{}", ids[2])).data(200);
    assert_eq!(
        (p["position"].clone(), p["ahead"].clone()),
        (json!(2), json!(1))
    );
    assert!(p["estimatedWaitMs"].is_u64(), "{p}");
    let h = get(addr, "/api/v1/queue/health").data(200);
    assert_eq!(h["stats"]["accepting"], true);
    assert_eq!(
        h["indicators"]["canStartImmediately"], false,
        "no free slot"
    );
    // Not in the queue: 404; a bad id: 400.
    request(
        addr,
        "DELETE",
        &format!("/api/v1/work-orders/{}", ids[1]),
        &auth(),
        None,
    )
    .data(200);
    let e = get(addr, &format!("/api/v1/queue/position/{}", ids[1])).error(404);
    assert!(e["message"].as_str().unwrap().contains("not in the queue"));
    get(addr, "/api/v1/queue/position/AAAAAAAAAAAA").error(404);
    get(addr, "/api/v1/queue/position/no.such").error(400);
}

#[test]
fn runs_listing() {
    let (d, addr) = daemon(&["--no-auto-process", "--max-concurrent", "4"]);
    let addr = addr.as_str();
    let flaky_marker = d.dir.path().join("flaky");
    let flaky = submit(
        addr,
        &d,
        &format!(
            "if [ -e {m} ]; then exit 0; fi; touch {m}; exit 1",
            m = flaky_marker.display()
        ),
    );
    let ok = submit(addr, &d, "true");
    let never = submit(addr, &d, "true");
    let status =
        |id: &str| get(addr, &format!("/api/v1/work-orders/{id}")).data(200)["status"].clone();
    post(
        addr,
        &format!("/api/v1/work-orders/{flaky}/runs"),
        json!({}),
    )
    .data(202);
    wait_for("flaky failed", SECS_20, || {
        (status(&flaky) == "failed").then_some(())
    });
    post(
        addr,
        &format!("/api/v1/work-orders/{flaky}/runs"),
        json!({}),
    )
    .data(202);
    post(addr, &format!("/api/v1/work-orders/{ok}/runs"), json!({})).data(202);
    wait_for("both succeeded", SECS_20, || {
        (status(&flaky) == "succeeded" && status(&ok) == "succeeded").then_some(())
    });

    // Three runs, newest work order first, each one's newest run first.
    let all = get(addr, "/api/v1/runs").data(200);
    assert_eq!(
        (
            all["total"].clone(),
            all["limit"].clone(),
            all["hasMore"].clone()
        ),
        (json!(3), json!(20), json!(false))
    );
    let items = all["items"].as_array().unwrap();
    let owners: Vec<&str> = items
        .iter()
        .map(|r| r["workOrderId"].as_str().unwrap())
        .collect();
    assert_eq!(owners, [ok.as_str(), flaky.as_str(), flaky.as_str()]);
    let statuses: Vec<&str> = items
        .iter()
        .map(|r| r["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["succeeded", "succeeded", "failed"]);
    for r in items {
        assert_eq!(r["iterationCount"], 1);
        assert_eq!(r["iterations"], json!([]));
    }
    // Filters and pages.
    let flaky_runs = get(addr, &format!("/api/v1/runs?workOrderId={flaky}")).data(200);
    assert_eq!(flaky_runs["total"], 2);
    let failed = get(addr, "/api/v1/runs?status=failed").data(200);
    assert_eq!(failed["total"], 1);
    assert_eq!(failed["items"][0]["workOrderId"], flaky.as_str());
    let page = get(addr, "/api/v1/runs?limit=1&offset=1").data(200);
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    assert_eq!(page["items"][0]["id"], items[1]["id"]);
    assert_eq!(
        (page["hasMore"].clone(), page["offset"].clone()),
        (json!(true), json!(1))
    );
    let none = get(addr, &format!("/api/v1/runs?workOrderId={never}")).data(200);
    assert_eq!(none["total"], 0);
    // The same over RPC's door (`queue show` lists runs too) agrees on the ids.
    let shown = d.show(&flaky);
    let shown_ids: Vec<&str> = shown["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(shown_ids.len(), 2);
    assert!(
        flaky_runs["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| shown_ids.contains(&r["id"].as_str().unwrap()))
    );
    // Bad input.
    get(addr, "/api/v1/runs?limit=0").error(400);
    get(addr, "/api/v1/runs?offset=-1").error(400);
    get(addr, "/api/v1/runs?status=done").error(400);
    get(addr, "/api/v1/runs?workOrderId=AAAAAAAAAAAA").error(404);
    get(addr, "/api/v1/runs?workOrderId=../x").error(400);
}
