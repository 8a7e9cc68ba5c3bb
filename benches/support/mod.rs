//! Shared by the benchmarks: realistic work orders written straight into a
//! root in the exact on-disk format (through the crate's own serialiser).
#![allow(dead_code)]

use std::path::Path;

use agentgate::model::{ResultKind, Run, Status, Timestamp, WorkOrder, WorkspaceSource};
use serde_json::{Map, Value, json};

/// A realistic mix: mostly finished work, some queued, a few legacy fields;
/// every finished one carries what a Claude run reports about itself.
pub fn work_order(i: usize, all_finished: bool) -> (WorkOrder, Map<String, Value>) {
    work_order_with(i, all_finished, true)
}

/// `work_order`, with or without the agent's own result on finished ones.
pub fn work_order_with(
    i: usize,
    all_finished: bool,
    agent_results: bool,
) -> (WorkOrder, Map<String, Value>) {
    let id = format!("bench{i:07}");
    let created = Timestamp(1_767_323_045_678 + i as i64 * 1000);
    let status = match i % 10 {
        _ if all_finished => Status::Succeeded,
        0..=5 => Status::Succeeded,
        6 | 7 => Status::Failed,
        8 => Status::Canceled,
        _ => Status::Queued,
    };
    let finished = status.is_terminal();
    let wo = WorkOrder {
        id,
        task_prompt: format!(
            "Fix the flaky test number {i} in the payment module and open a pull request"
        ),
        status,
        agent_type: "claude-code-subscription".into(),
        workspace_source: if i.is_multiple_of(2) {
            WorkspaceSource::Local {
                path: "/srv/projects/payments".into(),
            }
        } else {
            WorkspaceSource::Github {
                owner: "acme".into(),
                repo: "payments".into(),
                branch: Some("main".into()),
            }
        },
        created_at: created,
        updated_at: created.plus_millis(60_000),
        started_at: finished.then(|| created.plus_millis(1_000)),
        completed_at: finished.then(|| created.plus_millis(60_000)),
        max_time: 3600,
        max_iterations: 3,
        timeout_at: finished.then(|| created.plus_millis(3_601_000)),
        last_activity_at: finished.then(|| created.plus_millis(59_000)),
        pid: None,
        pid_start_time: None,
        run_count: u32::from(finished),
        current_run_id: None,
        run_ids: vec![],
        result: match status {
            Status::Succeeded => Some(ResultKind::Exited),
            Status::Failed => Some(ResultKind::Exited),
            Status::Canceled => Some(ResultKind::Canceled),
            _ => None,
        },
        exit_code: match status {
            Status::Succeeded => Some(0),
            Status::Failed => Some(1),
            _ => None,
        },
        signal: None,
        error: (status == Status::Failed).then(|| "exited with code 1".to_string()),
        priority: 0,
        // What a finished Claude run reports about itself.
        agent_result: (finished && agent_results).then(|| {
            Box::new(agentgate::model::AgentResult {
            cost_usd: Some(0.0421 + i as f64 / 1e5),
            turns: Some(7),
            session_id: Some(format!("4f8c2d3e-{i:08}-4b1a-9c7e-2a6f1d0b3e5c")),
            duration_ms: Some(58_000),
            is_error: status == Status::Failed,
            summary: Some(
                "Fixed the flaky payment test by awaiting the ledger write before the assertion; all 214 tests pass."
                    .into(),
            ),
            subtype: Some("success".into()),
            agent: Some("claude".into()),
            model: Some("claude-sonnet-4-5".into()),
            input_tokens: Some(48_210),
            output_tokens: Some(3_904),
            cached_input_tokens: Some(41_000),
        })
        }),
        more: agentgate::model::work_order::MoreFields {
            ..Default::default()
        }
        .into(),
    };
    let mut extra = Map::new();
    if i.is_multiple_of(4) {
        extra.insert("gatePlanSource".into(), json!("auto"));
        extra.insert(
            "policies".into(),
            json!({"networkAllowed": false, "allowedPaths": [], "forbiddenPatterns": ["**/.env"]}),
        );
    }
    (wo, extra)
}

/// Writes `n` work orders into `<root>/work-orders` (all succeeded when
/// `all_finished`, else a mix with a tenth queued); with `with_runs`, finished
/// ones get a run directory as a long-lived root has.
pub fn populate(root: &Path, n: usize, all_finished: bool, with_runs: bool) {
    populate_with(root, n, all_finished, with_runs, true);
}

/// `populate`, with or without the agents' own results.
pub fn populate_with(
    root: &Path,
    n: usize,
    all_finished: bool,
    with_runs: bool,
    agent_results: bool,
) {
    let dir = root.join("work-orders");
    std::fs::create_dir_all(&dir).expect("work-orders dir");
    for i in 0..n {
        let (mut wo, extra) = work_order_with(i, all_finished, agent_results);
        if with_runs && wo.status.is_terminal() {
            let run = Run {
                id: format!("run{i:09}"),
                work_order_id: wo.id.clone(),
                status: wo.status,
                started_at: wo.started_at.unwrap_or(wo.created_at),
                completed_at: wo.completed_at,
                pid: Some(4242),
                pid_start_time: Some(123_456),
                workspace: Some("/srv/projects/payments".into()),
                result: wo.result,
                exit_code: wo.exit_code,
                signal: None,
                error: wo.error.clone(),
                // As the local executor writes it (older versions too).
                executor: serde_json::from_value(serde_json::json!({"local": {
                    "pid": 4241,
                    "startTime": 123_455,
                    "runDir": root.join("runs").join(format!("run{i:09}")),
                }}))
                .ok(),
                cgroup: None,
                peak_memory_bytes: Some(48 << 20),
                cpu_time_ms: Some(1234),
                executor_state: None,
                executor_reason: None,
                output_format: None,
                malformed_lines: None,
                changes: None,
                recorded_iterations: None,
            };
            let rdir = root.join("runs").join(&run.id);
            std::fs::create_dir_all(&rdir).expect("run dir");
            std::fs::write(rdir.join("run.json"), run.to_stored_json(None)).expect("run.json");
            std::fs::write(rdir.join("stdout.log"), b"done\n").expect("log");
            std::fs::write(rdir.join("stderr.log"), b"").expect("log");
            wo.current_run_id = Some(run.id.clone());
            wo.run_ids = vec![run.id];
        }
        std::fs::write(
            dir.join(format!("{}.json", wo.id)),
            wo.to_json_pretty_with(&extra),
        )
        .expect("write work order");
    }
}

/// A small deterministic mixer: varied but reproducible choices per index.
fn mix(i: usize, salt: u64) -> u64 {
    let mut x = (i as u64 ^ salt).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    x ^= x >> 31;
    x = x.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x ^ (x >> 29)
}

/// A 16-character id as AgentGate makes them (nanoid alphabet).
fn agentgate_id(i: usize, salt: u64) -> String {
    const ABC: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_-";
    let (mut a, mut b) = (mix(i, salt), mix(i, salt ^ 0x5555));
    (0..16)
        .map(|k| {
            let v = if k < 8 { &mut a } else { &mut b };
            let c = ABC[(*v & 63) as usize] as char;
            *v >>= 6;
            c
        })
        .collect()
}

/// One finished work order exactly as the original (TypeScript) AgentGate
/// writes it (see `tests/fixtures/agentgate-root`): `maxWallClockSeconds`,
/// `gatePlanSource`, `policies`, `runId`, `completedAt`, and for some the
/// other fields it keeps (`harnessProfile`, `waitForCI`, ...), none of which
/// this daemon models; plus the run record AgentGate writes beside it.
/// Returns (id, work-order JSON, run id, run JSON).
pub fn agentgate_work_order(i: usize) -> (String, Value, String, Value) {
    const TASKS: [&str; 8] = [
        "Fix the flaky test in the payment module",
        "Upgrade the logging library and fix every deprecation warning it reports",
        "Make the CI pipeline green again",
        "Refactor the billing module so invoices and credit notes share one code path",
        "Add pagination to the /orders endpoint",
        "Write integration tests for the webhook retry logic",
        "Port the nightly export job from cron to the scheduler service",
        "Remove the dead feature flags listed in FLAGS.md",
    ];
    const DETAILS: [&str; 6] = [
        "; keep the public API unchanged and open a pull request",
        " and document the change in CHANGELOG.md; all existing tests must keep passing",
        "",
        " (see issue #{n}); do not touch the generated code under src/gen",
        ", then run the full test suite twice to make sure nothing is flaky, and summarise what you changed",
        " without adding new dependencies",
    ];
    let r = mix(i, 7);
    let id = agentgate_id(i, 1);
    let run_id = agentgate_id(i, 2);
    let prompt = format!(
        "{}{} (work item {i})",
        TASKS[(r % 8) as usize],
        DETAILS[((r >> 8) % 6) as usize].replace("{n}", &(1000 + i % 9000).to_string())
    );
    let source = match (r >> 16) % 4 {
        0 => json!({"type": "local", "path": format!("/srv/projects/service-{}", i % 50)}),
        1 => {
            json!({"type": "git", "url": format!("https://git.example.com/team/service-{}.git", i % 50), "branch": "develop"})
        }
        _ => {
            json!({"type": "github", "owner": "acme", "repo": format!("repo-{}", i % 200), "branch": "main"})
        }
    };
    let agent = [
        "claude-code-subscription",
        "claude-code-api",
        "claude-agent-sdk",
    ][((r >> 20) % 3) as usize];
    let (status, error) = match (r >> 24) % 10 {
        0 | 1 => ("failed", Some("Verification failed after 3 iterations")),
        2 => ("canceled", None),
        _ => ("succeeded", None),
    };
    let created = Timestamp(1_730_000_000_000 + i as i64 * 60_000);
    let started = created.plus_millis(1_000);
    let completed = created.plus_millis(600_000 + (r >> 32) as i64 % 3_000_000);
    let gate = ["auto", "verify-profile", "ci-workflow", "default"][((r >> 28) % 4) as usize];
    let policies = if (r >> 36).is_multiple_of(3) {
        json!({"networkAllowed": true, "allowedPaths": ["/srv/cache"],
               "forbiddenPatterns": ["**/.env", "**/*.pem"], "maxDiskMb": 2048})
    } else {
        json!({"networkAllowed": false, "allowedPaths": [], "forbiddenPatterns": []})
    };
    let mut wo = Map::new();
    wo.insert("id".into(), json!(id));
    wo.insert("taskPrompt".into(), json!(prompt));
    wo.insert("workspaceSource".into(), source);
    wo.insert("agentType".into(), json!(agent));
    wo.insert("maxIterations".into(), json!(3 + (r >> 40) % 3));
    wo.insert(
        "maxWallClockSeconds".into(),
        json!([3600, 7200, 86400][((r >> 42) % 3) as usize]),
    );
    wo.insert("gatePlanSource".into(), json!(gate));
    wo.insert("policies".into(), policies);
    wo.insert("createdAt".into(), json!(created.to_rfc3339()));
    wo.insert("status".into(), json!(status));
    wo.insert("runId".into(), json!(run_id));
    wo.insert("completedAt".into(), json!(completed.to_rfc3339()));
    if let Some(e) = error {
        wo.insert("error".into(), json!(e));
    }
    match (r >> 44) % 4 {
        0 => {
            wo.insert("harnessProfile".into(), json!("strict"));
            wo.insert("loopStrategyMode".into(), json!("hybrid"));
        }
        1 => {
            wo.insert("waitForCI".into(), json!(true));
        }
        _ => {}
    }
    let run = json!({
        "id": run_id,
        "workOrderId": id,
        "workspaceId": format!("ws-{id}"),
        "iteration": 1,
        "maxIterations": 3,
        "state": status,
        "snapshotBeforeSha": "4b825dc642cb6eb9a060e54bf8d69288fbee4904",
        "snapshotAfterSha": null,
        "startedAt": started.to_rfc3339(),
        "completedAt": completed.to_rfc3339(),
        "result": if status == "succeeded" { "passed" } else { "failed" },
        "error": error,
        "sessionId": null,
        "warnings": [],
    });
    (id, Value::Object(wo), run_id, run)
}

/// Writes `n` finished work orders in the original AgentGate format into
/// `<root>/work-orders`, each with its run record under `<root>/runs`, as a
/// long-lived AgentGate root has them.
pub fn populate_agentgate(root: &Path, n: usize) {
    let dir = root.join("work-orders");
    std::fs::create_dir_all(&dir).expect("work-orders dir");
    for i in 0..n {
        let (id, wo, run_id, run) = agentgate_work_order(i);
        let rdir = root.join("runs").join(&run_id);
        std::fs::create_dir_all(&rdir).expect("run dir");
        std::fs::write(
            rdir.join("run.json"),
            serde_json::to_vec_pretty(&run).expect("run json"),
        )
        .expect("run.json");
        std::fs::write(
            dir.join(format!("{id}.json")),
            serde_json::to_vec_pretty(&wo).expect("work order json"),
        )
        .expect("write work order");
    }
}
