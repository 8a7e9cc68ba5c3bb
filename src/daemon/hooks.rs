//! Notifications: `[[hooks]]` run when a work order ends — a command with the
//! work order's facts in its environment, and/or a POST of the work order's
//! JSON to a URL. A hook runs off the actor, is killed (or given up) at its
//! timeout, and never changes the work order: failures are only logged.

use std::time::Duration;

use crate::config::Hook;
use crate::model::WorkOrder;
use crate::sys::proc;

/// Runs every hook that wants this work order's (terminal) status. A hook
/// command gets the daemon's environment less what runs do not get (its
/// secrets, `env_remove`), plus the work order's facts.
pub fn fire(hooks: &[Hook], env_remove: &[String], wo: &WorkOrder) {
    for hook in hooks.iter().filter(|h| h.on.contains(&wo.status)) {
        if !hook.command.is_empty() {
            let inherited = crate::executor::env::passed_on(env_remove);
            tokio::spawn(run_command(
                hook.clone(),
                inherited,
                env_of(wo),
                wo.id.clone(),
            ));
        }
        if let Some(url) = &hook.webhook {
            let (url, timeout, id) = (url.clone(), hook.timeout, wo.id.clone());
            let body = wo.to_json().to_string();
            tokio::task::spawn_blocking(move || post(&url, body, timeout, &id));
        }
    }
}

/// What a hook command learns about the work order.
fn env_of(wo: &WorkOrder) -> Vec<(&'static str, String)> {
    let r = wo.agent_result.as_deref();
    vec![
        ("AGENTGATE_WORK_ORDER_ID", wo.id.clone()),
        ("AGENTGATE_STATUS", wo.status.as_str().to_string()),
        (
            "AGENTGATE_RESULT",
            wo.result
                .map(|r| r.as_str().to_string())
                .unwrap_or_default(),
        ),
        (
            "AGENTGATE_EXIT_CODE",
            wo.exit_code.map(|c| c.to_string()).unwrap_or_default(),
        ),
        (
            "AGENTGATE_COST_USD",
            r.and_then(|r| r.cost_usd)
                .map(|c| format!("{c}"))
                .unwrap_or_default(),
        ),
        (
            "AGENTGATE_INPUT_TOKENS",
            r.and_then(|r| r.input_tokens)
                .map(|n| n.to_string())
                .unwrap_or_default(),
        ),
        (
            "AGENTGATE_OUTPUT_TOKENS",
            r.and_then(|r| r.output_tokens)
                .map(|n| n.to_string())
                .unwrap_or_default(),
        ),
        (
            "AGENTGATE_SUMMARY",
            r.and_then(|r| r.summary.clone()).unwrap_or_default(),
        ),
        ("AGENTGATE_ERROR", wo.error.clone().unwrap_or_default()),
        ("AGENTGATE_PROMPT", wo.task_prompt.clone()),
    ]
}

async fn run_command(
    hook: Hook,
    inherited: Vec<(std::ffi::OsString, std::ffi::OsString)>,
    env: Vec<(&'static str, String)>,
    id: String,
) {
    let (program, args) = match hook.command.split_first() {
        Some(p) => p,
        None => return,
    };
    let mut cmd = tokio::process::Command::new(program);
    cmd.args(args)
        .env_clear()
        .envs(inherited)
        .envs(env)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        // Its own group: a hook that hangs is killed with what it started.
        .process_group(0)
        .kill_on_drop(true);
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!(work_order = %id, command = ?hook.command, error = %e, "hook could not start");
            return;
        }
    };
    let pgid = child.id().map(|p| p as i32);
    match tokio::time::timeout(hook.timeout, child.wait()).await {
        Ok(Ok(st)) if st.success() => {
            tracing::info!(work_order = %id, command = ?hook.command, "hook ran");
        }
        Ok(Ok(st)) => {
            tracing::warn!(work_order = %id, command = ?hook.command, status = %st, "hook failed");
        }
        Ok(Err(e)) => {
            tracing::warn!(work_order = %id, command = ?hook.command, error = %e, "hook failed");
        }
        Err(_) => {
            tracing::warn!(work_order = %id, command = ?hook.command, timeout_s = hook.timeout.as_secs_f64(), "hook timed out; killed");
            if let Some(pgid) = pgid {
                proc::signal_group(pgid, nix::sys::signal::Signal::SIGKILL);
            }
            let _ = child.wait().await;
        }
    }
}

/// One POST, bounded in time; a failure is logged, never retried (no storm).
fn post(url: &str, body: String, timeout: Duration, id: &str) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .build()
        .into();
    match agent
        .post(url)
        .header("Content-Type", "application/json")
        .send(body)
    {
        Ok(_) => tracing::info!(work_order = %id, url, "webhook delivered"),
        Err(e) => tracing::warn!(work_order = %id, url, error = %e, "webhook failed"),
    }
}
