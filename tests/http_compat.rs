//! What AgentGate's own server answers and its clients read, through the real
//! daemon over real HTTP: the `harness` object of a work order, GitHub
//! sources as `repo: "owner/repo"`, `waitForCI`, the audit summary's
//! `byInitiator` counts, stored harness profiles (created, changed, checked,
//! deleted, kept across a restart), `/health`'s limits and capabilities, the
//! readiness checks' latency, a 401 the dashboard can show, and request
//! bodies parsed by the very types the OpenAPI document is generated from.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::time::Duration;

use common::web::{Reply, Ws, http_addr, request};
use common::{Daemon, wait_for};
use serde_json::{Value, json};

const KEY: &str = "http-compat-key-0123456789abcdef";
const SECS_20: Duration = Duration::from_secs(20);

fn daemon(extra: &[&str], env: &[(&str, &str)]) -> (Daemon, String) {
    let mut env = env.to_vec();
    env.push(("AGENTGATE_API_KEY", KEY));
    let d = Daemon::with_http(extra, &env);
    let addr = http_addr(&d);
    (d, addr)
}

fn auth() -> String {
    format!("Bearer {KEY}")
}

fn get(addr: &str, path: &str) -> Reply {
    request(addr, "GET", path, &[("Authorization", &auth())], None)
}

fn send(addr: &str, method: &str, path: &str, body: &Value) -> Reply {
    let text = body.to_string();
    request(
        addr,
        method,
        path,
        &[
            ("Authorization", &auth()),
            ("Content-Type", "application/json"),
        ],
        Some(text.as_bytes()),
    )
}

fn raw(addr: &str, method: &str, path: &str, body: &[u8]) -> Reply {
    request(
        addr,
        method,
        path,
        &[
            ("Authorization", &auth()),
            ("Content-Type", "application/json"),
        ],
        Some(body),
    )
}

/// A 400 naming `field`.
fn bad(r: &Reply, field: &str) -> String {
    let e = r.error(400);
    assert_eq!(e["code"], "BAD_REQUEST", "{e}");
    assert_eq!(e["details"]["field"], field, "{e}");
    e["message"].as_str().unwrap().to_string()
}

fn workdir(d: &Daemon) -> PathBuf {
    let p = d.dir.path().join("work");
    std::fs::create_dir_all(&p).unwrap();
    p
}

fn harness(max_iterations: u64) -> Value {
    json!({
        "profile": null,
        "loopStrategy": {"mode": "fixed", "maxIterations": max_iterations},
        "verification": {"waitForCI": false, "skipLevels": []},
        "gitOps": {"mode": "local"},
    })
}

#[test]
fn work_orders_read_back_as_agentgate_returns_them() {
    let (d, addr) = daemon(&["--no-auto-process"], &[]);
    let addr = addr.as_str();
    // GitHub, in AgentGate's own form: read back the same way, not split.
    let wo = send(
        addr,
        "POST",
        "/api/v1/work-orders",
        &json!({"taskPrompt": "echo gh", "agentType": "shell",
            "workspaceSource": {"type": "github", "repo": "acme/widget", "branch": "dev"},
            "harness": {"loopStrategy": {"maxIterations": 5}}}),
    )
    .data(201);
    let gh = wo["id"].as_str().unwrap().to_string();
    let want_source = json!({"type": "github", "repo": "acme/widget", "branch": "dev"});
    assert_eq!(wo["workspaceSource"], want_source);
    assert_eq!(wo["harness"], harness(5));
    let detail = get(addr, &format!("/api/v1/work-orders/{gh}")).data(200);
    assert_eq!(detail["workspaceSource"], want_source);
    assert_eq!(detail["harness"], harness(5));
    assert_eq!(detail["maxIterations"], 5);
    // Owner and repo given apart are joined too.
    let wo = send(
        addr,
        "POST",
        "/api/v1/work-orders",
        &json!({"taskPrompt": "echo gh2", "agentType": "shell",
            "workspaceSource": {"type": "github", "owner": "o", "repo": "r"}}),
    )
    .data(201);
    assert_eq!(
        wo["workspaceSource"],
        json!({"type": "github", "repo": "o/r"})
    );
    // List items carry it as well, and the CLI's --json is the same view.
    let page = get(addr, "/api/v1/work-orders").data(200);
    let item = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == gh.as_str())
        .unwrap();
    assert_eq!(item["harness"], harness(5));
    assert_eq!(d.show(&gh)["workspaceSource"], want_source);

    // A run: its settings and audit in AgentGate's spelling.
    let dir = workdir(&d);
    let local = send(
        addr,
        "POST",
        "/api/v1/work-orders",
        &json!({"taskPrompt": "echo ran", "agentType": "shell",
            "workspaceSource": {"type": "local", "path": dir}}),
    )
    .data(201);
    let id = local["id"].as_str().unwrap().to_string();
    let run = send(
        addr,
        "POST",
        &format!("/api/v1/work-orders/{id}/runs"),
        &json!({}),
    )
    .data(202);
    let run_id = run["runId"].as_str().unwrap().to_string();
    wait_for("the run to end", SECS_20, || {
        (get(addr, &format!("/api/v1/work-orders/{id}")).data(200)["status"] == "succeeded")
            .then_some(())
    });
    let config = get(addr, &format!("/api/v1/runs/{run_id}/config")).data(200);
    assert_eq!(config["config"]["verification"]["waitForCI"], false);
    assert_eq!(config["config"]["workspaceSource"]["type"], "local");
    let snaps = get(addr, &format!("/api/v1/audit/runs/{run_id}/snapshots")).data(200);
    assert_eq!(
        snaps["items"][0]["config"]["verification"]["waitForCI"],
        false
    );
    // A bad iteration, an empty one too (found by schemathesis), is a 400.
    for q in ["iteration=", "iteration=x", "iteration=-1"] {
        let e = get(addr, &format!("/api/v1/audit/runs/{run_id}/snapshots?{q}")).error(400);
        assert!(e.to_string().contains("iteration"), "{q}: {e}");
    }
    assert_eq!(
        get(
            addr,
            &format!("/api/v1/audit/runs/{run_id}/snapshots?iteration=1")
        )
        .data(200)["items"][0]["iteration"],
        1
    );
    let changes = get(addr, &format!("/api/v1/audit/runs/{run_id}/changes")).data(200);
    assert_eq!(
        changes["summary"]["byInitiator"],
        json!({"user": 0, "strategy": 0, "system": 0})
    );
    // Nowhere the old spelling.
    for path in [
        format!("/api/v1/work-orders/{gh}"),
        format!("/api/v1/runs/{run_id}/config"),
        format!("/api/v1/audit/runs/{run_id}"),
        "/api/v1/profiles/default".to_string(),
        "/api/v1/openapi.json".to_string(),
    ] {
        let text = get(addr, &path).text;
        assert!(!text.contains("waitForCi"), "{path}: {text}");
    }
}

#[test]
fn bodies_are_parsed_by_their_types_and_name_the_field() {
    let (d, addr) = daemon(&["--no-auto-process"], &[]);
    let addr = addr.as_str();
    let dir = workdir(&d);
    let good = json!({"taskPrompt": "echo hi", "agentType": "shell",
        "workspaceSource": {"type": "local", "path": dir}});
    let with = |path: &[&str], v: Value| {
        let mut g = good.clone();
        let mut at = &mut g;
        for (i, k) in path.iter().enumerate() {
            if i + 1 == path.len() {
                at[*k] = v.clone();
            } else {
                if at.get(*k).is_none() {
                    at[*k] = json!({});
                }
                at = &mut at[*k];
            }
        }
        g
    };
    let submit = |b: &Value| send(addr, "POST", "/api/v1/work-orders", b);
    for (body, field) in [
        (
            with(&["harness", "loopStrategy", "maxIterations"], json!("5")),
            "harness.loopStrategy.maxIterations",
        ),
        (
            with(&["harness", "limits", "maxWallClockSeconds"], json!(-1)),
            "harness.limits.maxWallClockSeconds",
        ),
        (with(&["harness"], json!([])), "harness"),
        (with(&["env"], json!({"A": 1})), "env.A"),
        (with(&["dependsOn"], json!([1])), "dependsOn"),
        (with(&["labels"], json!("x")), "labels"),
        (with(&["priority"], json!(1u64 << 40)), "priority"),
        (with(&["worktree"], json!("yes")), "worktree"),
        (with(&["maxIterations"], json!(u64::MAX)), "maxIterations"),
    ] {
        let msg = bad(&submit(&body), field);
        assert!(msg.starts_with(&format!("{field}: ")), "{msg}");
    }
    // Malformed text, whatever follows: the body.
    for text in [
        &b"{\"taskPrompt\": \"x\"} trailing"[..],
        b"{\"taskPrompt\": tru}",
    ] {
        bad(&raw(addr, "POST", "/api/v1/work-orders", text), "body");
    }
    // What the schema documents is what the parser reads: every property of
    // the document's SubmitBody changes what is submitted.
    let doc = request(addr, "GET", "/api/v1/openapi.json", &[], None).json();
    let props = &doc["components"]["schemas"]["SubmitBody"]["properties"];
    let mut names: Vec<&str> = props
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "agentType",
            "dependsOn",
            "env",
            "harness",
            "labels",
            "maxIterations",
            "maxTime",
            "policies",
            "priority",
            "sandbox",
            "setup",
            "taskPrompt",
            "workspaceSource",
            "worktree"
        ]
    );
    let first = submit(&good).data(201);
    let full = json!({"taskPrompt": "echo all", "agentType": "shell",
        "workspaceSource": {"type": "local", "path": dir}, "maxTime": 120,
        "maxIterations": 2, "env": {"V": "1"}, "worktree": false,
        "dependsOn": [first["id"]], "priority": 4, "labels": ["l1"],
        "setup": "true", "sandbox": "off",
        "policies": {"networkAllowed": false, "allowedPaths": ["/srv/data"],
            "forbiddenPatterns": ["**/.env"]},
        "harness": {"limits": {"maxWallClockSeconds": 90}}});
    let wo = submit(&full).data(201);
    assert_eq!(wo["maxTime"], 90);
    assert_eq!(wo["maxIterations"], 2);
    assert_eq!(wo["env"], json!({"V": "1"}));
    assert_eq!(wo["dependsOn"], json!([first["id"]]));
    assert_eq!(wo["priority"], 4);
    assert_eq!(wo["labels"], json!(["l1"]));
    assert_eq!(wo["setup"], "true");
    assert_eq!(
        wo["sandbox"],
        json!({"mode": "off", "network": false, "allowedPaths": ["/srv/data"],
            "forbiddenPatterns": ["**/.env"]})
    );
    // The other bodies too.
    let kill = format!("/api/v1/work-orders/{}/kill", first["id"].as_str().unwrap());
    bad(
        &send(addr, "POST", &kill, &json!({"gracePeriodMs": -1})),
        "gracePeriodMs",
    );
    bad(
        &send(
            addr,
            "PATCH",
            "/api/v1/queue/config",
            &json!({"pausd": true}),
        ),
        "pausd",
    );
    bad(
        &send(
            addr,
            "POST",
            "/api/v1/work-orders/purge",
            &json!({"statuses": [7]}),
        ),
        "statuses",
    );
}

#[test]
fn profiles_are_stored_checked_and_kept() {
    let (mut d, addr) = daemon(&[], &[]);
    let a = addr.as_str();
    let list = get(a, "/api/v1/profiles").data(200);
    assert_eq!(list["total"], 1);
    assert_eq!(list["items"][0]["name"], "default");
    assert_eq!(list["items"][0]["isBuiltIn"], true);

    let created = send(
        a,
        "POST",
        "/api/v1/profiles",
        &json!({"name": "ci-fast", "description": "quick",
            "loopStrategy": {"mode": "fixed", "maxIterations": 5},
            "limits": {"maxWallClockSeconds": 600}}),
    )
    .data(201);
    assert_eq!(
        created,
        json!({"name": "ci-fast", "description": "quick", "extends": null,
            "isBuiltIn": false, "message": "Profile created successfully"})
    );
    // On disk, private, one file per profile.
    let file = d.root.join("profiles").join("ci-fast.json");
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&file), 0o600);
    assert_eq!(mode(&d.root.join("profiles")), 0o700);
    let stored: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(stored["executionLimits"]["maxWallClockSeconds"], 600);
    let e = send(a, "POST", "/api/v1/profiles", &json!({"name": "ci-fast"})).error(409);
    assert_eq!(e["code"], "CONFLICT");

    // Refused as AgentGate refuses them, naming the field.
    for (body, field) in [
        (json!({"name": "../api-key"}), "name"),
        (json!({"name": "Upper"}), "name"),
        (
            json!({"name": "x", "description": "d".repeat(257)}),
            "description",
        ),
        (
            json!({"name": "x", "loopStrategy": {"mode": "fixed", "maxIterations": 101}}),
            "loopStrategy.maxIterations",
        ),
        (
            json!({"name": "x", "loopStrategy": {"maxIterations": 3}}),
            "loopStrategy.mode",
        ),
        (
            json!({"name": "x", "loopStrategy": {"mode": "sometimes"}}),
            "loopStrategy.mode",
        ),
        (
            json!({"name": "x", "gitOps": {"mode": "force-push"}}),
            "gitOps.mode",
        ),
        (
            json!({"name": "x", "verification": {"skipLevels": ["L9"]}}),
            "verification.skipLevels",
        ),
        (
            json!({"name": "x", "executionLimits": {"maxWallClockSeconds": 10}}),
            "executionLimits.maxWallClockSeconds",
        ),
        // Beyond the document's int64 (a u64 would have held it).
        (
            json!({"name": "x", "executionLimits": {"maxDiskMb": 9_223_372_036_854_775_808u64}}),
            "executionLimits.maxDiskMb",
        ),
        (
            json!({"name": "x", "verification": {"timeoutMs": u64::MAX}}),
            "verification.timeoutMs",
        ),
        (json!({"name": "x", "extends": "nope"}), "extends"),
        (json!({"name": "x", "extends": "x"}), "extends"),
        (json!({"description": "no name"}), "name"),
    ] {
        bad(&send(a, "POST", "/api/v1/profiles", &body), field);
    }
    assert!(!d.root.join("profiles").join("x.json").exists());
    // A name in the path never reaches the file system unchecked.
    bad(&get(a, "/api/v1/profiles/..%2Fapi-key"), "name");
    assert_eq!(
        get(a, "/api/v1/profiles/absent").error(404)["code"],
        "NOT_FOUND"
    );
    bad(&get(a, "/api/v1/profiles/ci-fast?resolve="), "resolve");
    bad(&get(a, "/api/v1/profiles/ci-fast?resolve=yes"), "resolve");
    // An update needs a body (as its schema says).
    bad(&raw(a, "PUT", "/api/v1/profiles/ci-fast", b""), "body");

    // Inheritance: resolved, merged on update, no cycles.
    send(
        a,
        "POST",
        "/api/v1/profiles",
        &json!({"name": "ci-child", "extends": "ci-fast"}),
    )
    .data(201);
    let child = get(a, "/api/v1/profiles/ci-child?resolve=true").data(200);
    assert_eq!(child["extends"], "ci-fast");
    assert_eq!(
        child["resolved"]["inheritanceChain"],
        json!(["ci-fast", "ci-child"])
    );
    let hash = child["resolved"]["configHash"]
        .as_str()
        .unwrap()
        .to_string();
    let updated = send(
        a,
        "PUT",
        "/api/v1/profiles/ci-child",
        &json!({"loopStrategy": {"mode": "hybrid", "baseIterations": 4}}),
    )
    .data(200);
    assert_eq!(
        updated,
        json!({"name": "ci-child", "message": "Profile updated successfully"})
    );
    send(
        a,
        "PUT",
        "/api/v1/profiles/ci-child",
        &json!({"loopStrategy": {"maxBonusIterations": 2}}),
    )
    .data(200);
    let child = get(a, "/api/v1/profiles/ci-child?resolve=true").data(200);
    assert_eq!(
        child["loopStrategy"],
        json!({"mode": "hybrid", "baseIterations": 4, "maxBonusIterations": 2})
    );
    assert_ne!(child["resolved"]["configHash"], hash.as_str());
    bad(
        &send(
            a,
            "PUT",
            "/api/v1/profiles/ci-fast",
            &json!({"extends": "ci-child"}),
        ),
        "extends",
    );
    bad(
        &send(
            a,
            "PUT",
            "/api/v1/profiles/ci-child",
            &json!({"loopStrategy": {"windowSize": 1}}),
        ),
        "loopStrategy.windowSize",
    );
    // The built-in one stays as it is.
    for (method, path) in [
        ("PUT", "/api/v1/profiles/default"),
        ("DELETE", "/api/v1/profiles/default"),
    ] {
        let e = send(a, method, path, &json!({"description": "mine"})).error(403);
        assert_eq!(e["code"], "FORBIDDEN");
    }
    let e = send(a, "DELETE", "/api/v1/profiles/ci-fast", &json!({})).error(409);
    assert_eq!(e["details"]["dependents"], json!(["ci-child"]));

    // Validation: a sound profile, then one edited by hand into a cycle.
    let v = send(a, "POST", "/api/v1/profiles/ci-child/validate", &json!({})).data(200);
    assert_eq!(v["valid"], true, "{v}");
    assert_eq!(v["errors"], json!([]));
    assert_eq!(
        v["resolved"]["resolved"]["inheritanceChain"],
        json!(["ci-fast", "ci-child"])
    );
    let looped = d.root.join("profiles").join("looped.json");
    std::fs::write(&looped, r#"{"name":"looped","extends":"looped"}"#).unwrap();
    std::fs::set_permissions(&looped, std::fs::Permissions::from_mode(0o600)).unwrap();
    let v = send(a, "POST", "/api/v1/profiles/looped/validate", &json!({})).data(200);
    assert_eq!(v["valid"], false, "{v}");
    assert_eq!(v["errors"][0]["path"], "extends");
    std::fs::remove_file(&looped).unwrap();

    // Kept across a restart.
    d.stop();
    d.spawn();
    let a = http_addr(&d);
    let a = a.as_str();
    let names: Vec<Value> = get(a, "/api/v1/profiles").data(200)["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].clone())
        .collect();
    assert_eq!(
        names,
        [json!("default"), json!("ci-child"), json!("ci-fast")]
    );
    let fast = get(a, "/api/v1/profiles/ci-fast").data(200);
    assert_eq!(fast["loopStrategy"]["maxIterations"], 5);
    assert_eq!(fast["executionLimits"]["maxWallClockSeconds"], 600);

    // Deleted: the child first, then its parent.
    let gone = send(a, "DELETE", "/api/v1/profiles/ci-child", &json!({})).data(200);
    assert_eq!(
        gone,
        json!({"name": "ci-child", "message": "Profile deleted successfully"})
    );
    send(a, "DELETE", "/api/v1/profiles/ci-fast", &json!({})).data(200);
    assert!(!file.exists());
    assert_eq!(get(a, "/api/v1/profiles").data(200)["total"], 1);
    get(a, "/api/v1/profiles/ci-child").error(404);
}

#[test]
fn health_says_what_this_daemon_has() {
    let (_d, addr) = daemon(
        &["--max-concurrent", "3"],
        &[("ANTHROPIC_API_KEY", "sk-test")],
    );
    let h = request(&addr, "GET", "/health", &[], None).data(200);
    // `landlock` where this kernel can confine runs (ABI 2 or newer).
    let abi = agentgate::sandbox::apply::landlock_abi().unwrap_or(0);
    let provider = if abi >= 2 { "landlock" } else { "none" };
    assert_eq!(
        h["limits"],
        json!({"maxConcurrentRuns": 3, "maxSpawnDepth": 0, "maxChildrenPerParent": 0,
            "maxTreeSize": 1, "defaultTimeoutSeconds": 3600})
    );
    assert_eq!(
        h["config"],
        json!({"ci": {"enabled": false, "waitByDefault": false},
            "sdk": {"enableSandbox": false},
            "sandbox": {"provider": provider, "networkMode": "host"}})
    );
    assert_eq!(
        h["drivers"],
        json!({"sdk": {"apiKeySet": true, "sandboxEnabled": false}})
    );
    assert_eq!(
        h["sandbox"],
        json!({"provider": provider, "dockerAvailable": false, "activeSandboxes": 0,
            "lastCleanup": null, "lastError": null})
    );
    assert_eq!(h["status"], "ok");
    // A live change shows.
    send(
        &addr,
        "PATCH",
        "/api/v1/queue/config",
        &json!({"maxConcurrent": 5}),
    )
    .data(200);
    let h = request(&addr, "GET", "/health", &[], None).data(200);
    assert_eq!(h["limits"]["maxConcurrentRuns"], 5);
    let ready = request(&addr, "GET", "/health/ready", &[], None).data(200);
    let checks = ready["checks"].as_array().unwrap();
    assert!(checks.len() >= 2, "{ready}");
    for c in checks {
        assert!(c["latencyMs"].is_u64(), "{c}");
        assert_eq!(c["healthy"], true, "{c}");
    }

    // A key the runs do not get is not reported as set.
    let (_d2, addr2) = daemon(
        &["--env-remove", "ANTHROPIC_API_KEY"],
        &[("ANTHROPIC_API_KEY", "sk-test")],
    );
    let h = request(&addr2, "GET", "/health", &[], None).data(200);
    assert_eq!(h["drivers"]["sdk"]["apiKeySet"], false);
}

#[test]
fn the_401_is_text_the_dashboard_can_show() {
    let (_d, addr) = daemon(&[], &[]);
    let addr = addr.as_str();
    // The dashboard's request: Bearer from its settings, or none at all.
    for headers in [
        vec![("Content-Type", "application/json")],
        vec![
            ("Content-Type", "application/json"),
            ("Authorization", "Bearer wrong"),
        ],
    ] {
        let r = request(addr, "GET", "/api/v1/work-orders", &headers, None);
        let shown = r.unauthorized();
        assert!(shown.contains("Authorization: Bearer <key>"), "{shown}");
        let v = r.json();
        assert!(v["requestId"].is_string(), "{v}");
        assert_eq!(r.header("www-authenticate"), Some("Bearer"));
    }
    // The WebSocket: refused the same way.
    let (status, body) = Ws::connect(addr, "/ws?token=wrong", &[]).err().unwrap();
    assert_eq!(status, 401);
    let v: Value = serde_json::from_str(&body).unwrap();
    assert!(v["error"].is_string(), "{v}");
    assert_eq!(v["code"], "UNAUTHORIZED");
    // And the OpenAPI document says so for every route that needs the key.
    let doc = request(addr, "GET", "/api/v1/openapi.json", &[], None).json();
    let paths = doc["paths"].as_object().unwrap();
    let mut secured = 0;
    for (path, item) in paths {
        for (method, op) in item.as_object().unwrap() {
            let keyed = op["security"].as_array().is_some_and(|s| !s.is_empty());
            if keyed {
                secured += 1;
                assert_eq!(
                    op["responses"]["401"]["content"]["application/json"]["schema"]["$ref"],
                    "#/components/schemas/UnauthorizedEnvelope",
                    "{method} {path}"
                );
            }
        }
    }
    assert!(secured > 20, "{secured}");
    for p in [
        "/api/v1/profiles",
        "/api/v1/profiles/{name}",
        "/api/v1/profiles/{name}/validate",
    ] {
        assert!(paths.contains_key(p), "{p}");
    }
}
