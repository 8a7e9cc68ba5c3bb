//! The tools: each one's arguments (their JSON Schema is derived from the
//! struct that parses them, so the two cannot drift), a description written
//! for a model, and what it does — one or two typed calls through the
//! `Backend`, as the CLI's command makes them. Refusals are the CLI's words.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use rmcp::model::{CallToolResult, ContentBlock, JsonObject, Tool};
use schemars::JsonSchema;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};

use super::backend::{Backend, ToolError};
use super::settings::McpSettings;
use crate::model::{Status, WorkOrder, WorkspaceInput};
use crate::ops::*;
use crate::rpc::proto::{Reply, Request};
use crate::service::{LogStreams, LogsRequest, WaitRequest};

/// Longest text a `logs` or `diff` answer carries (its end is kept).
const MAX_TEXT: usize = 256 * 1024;

/// Longest a `wait` may be asked to wait.
const MAX_WAIT: Duration = Duration::from_secs(3600);

/// What a tool call knows besides its arguments.
pub struct Call<'a> {
    pub backend: &'a Backend,
    pub settings: &'a McpSettings,
    /// Stamped on what this session submits; counts its active work orders.
    pub session_label: &'a str,
    /// The client's name as a label, if it gave one.
    pub client_label: Option<&'a str>,
    /// Relative paths are taken from here (`agentgate mcp` on stdio: the
    /// agent's working directory); `None` in the daemon, where a path must
    /// be absolute.
    pub cwd: Option<&'a std::path::Path>,
}

/// Reports a `wait`'s progress: (progress, total, message).
pub type Progress<'a> = &'a (dyn Fn(f64, f64, String) -> BoxFuture<'static, ()> + Send + Sync);

fn schema<T: JsonSchema>() -> Arc<JsonObject> {
    let v = serde_json::to_value(schemars::schema_for!(T)).unwrap_or(Value::Null);
    let mut obj = match v {
        Value::Object(o) => o,
        _ => JsonObject::new(),
    };
    // Clients want a plain object schema; the draft marker and the title
    // (the Rust struct's name) mean nothing to them.
    obj.remove("$schema");
    obj.remove("title");
    obj.entry("type").or_insert(json!("object"));
    Arc::new(obj)
}

/// Every tool, described for a model.
pub fn all() -> Vec<Tool> {
    vec![
        Tool::new(
            "submit",
            "Queue a coding-agent work order. It runs when a slot is free (the queue's \
             concurrency limit), in its workspace: a local directory (`path`), a GitHub \
             repository (`repo`, OWNER/NAME) or a git URL (`url`). With `worktree: true` a \
             local git repository gets a branch and worktree of its own, so parallel work \
             orders never touch each other's files; review it later with `diff` and land it \
             with `merge`. `after` holds ids that must succeed first. Answers the new work \
             order's id and status at once; use `wait` to wait for it.",
            schema::<SubmitArgs>(),
        ),
        Tool::new(
            "list",
            "List work orders, newest first: id, status, agent, labels, the prompt's start, \
             why a queued one waits, and how an ended one ended.",
            schema::<ListArgs>(),
        ),
        Tool::new(
            "show",
            "One work order in full: prompt, workspace, status, result, the agent's result \
             (summary, turns, tokens, cost), its runs and dependencies.",
            schema::<IdArgs>(),
        ),
        Tool::new(
            "logs",
            "The last lines of a work order's output. A structured agent's output (Claude, \
             Codex, Gemini) comes as a readable transcript: its messages, tool calls and \
             results. `raw: true` gives the output as written.",
            schema::<LogsArgs>(),
        ),
        Tool::new(
            "wait",
            "Wait until every given work order has ended (succeeded, failed or canceled), \
             reporting progress as each one ends, then return how each ended. Returns \
             `timedOut: true` with the current statuses if `timeout` passes first; call it \
             again to keep waiting.",
            schema::<WaitArgs>(),
        ),
        Tool::new(
            "cancel",
            "Cancel a work order: a queued one never starts; a running one is stopped \
             (its process tree is sent SIGTERM, then SIGKILL after the grace period).",
            schema::<IdArgs>(),
        ),
        Tool::new(
            "kill",
            "Stop a running work order now: SIGTERM to its process tree (SIGKILL with \
             `force`, or after the grace period). It ends failed.",
            schema::<KillArgs>(),
        ),
        Tool::new(
            "continue",
            "Give an ended agent work order a follow-up prompt: a new work order that \
             resumes the same agent session in the same workspace (or worktree).",
            schema::<ContinueArgs>(),
        ),
        Tool::new(
            "diff",
            "What a worktree work order changed, against the commit it started from: the \
             unified diff, or with `stat: true` the files changed with their line counts.",
            schema::<DiffArgs>(),
        ),
        Tool::new(
            "merge",
            "Land an ended worktree work order's changes on the branch it started from (a \
             merge commit, or one commit with `squash: true`). Refused, changing nothing, \
             when it conflicts or a run still uses the worktree.",
            schema::<MergeArgs>(),
        ),
        Tool::new(
            "stats",
            "Work orders, runs, outcomes, time, tokens and cost, grouped by agent, label, \
             day or status.",
            schema::<StatsArgs>(),
        ),
    ]
}

/// Parses a tool's arguments, naming the field that is wrong.
fn args<T: DeserializeOwned>(raw: Option<JsonObject>) -> Result<T, ToolError> {
    let v = Value::Object(raw.unwrap_or_default());
    serde_path_to_error::deserialize(v).map_err(|e| {
        let path = e.path().to_string();
        if path == "." {
            format!("bad arguments: {}", e.inner())
        } else {
            format!("bad argument `{path}`: {}", e.inner())
        }
    })
}

/// Runs tool `name`; a refusal comes back as a tool result with `isError`.
pub async fn call(
    c: &Call<'_>,
    name: &str,
    raw: Option<JsonObject>,
    progress: Progress<'_>,
) -> CallToolResult {
    match dispatch(c, name, raw, progress).await {
        Ok(r) => r,
        Err(message) => CallToolResult::error(vec![ContentBlock::text(message)]),
    }
}

async fn dispatch(
    c: &Call<'_>,
    name: &str,
    raw: Option<JsonObject>,
    progress: Progress<'_>,
) -> Result<CallToolResult, ToolError> {
    if !super::settings::TOOLS.contains(&name) {
        return Err(format!(
            "no tool {name:?}; the tools are {}",
            super::settings::TOOLS.join(", ")
        ));
    }
    if !c.settings.allows(name) {
        return Err(format!(
            "the tool {name:?} is not allowed here: the operator allows {} (`allow` in the \
             [mcp] section of agentgate's config file)",
            c.settings.allow.join(", ")
        ));
    }
    match name {
        "submit" => submit(c, args(raw)?).await,
        "list" => list(c, args(raw)?).await,
        "show" => show(c, args(raw)?).await,
        "logs" => logs(c, args(raw)?).await,
        "wait" => wait(c, args(raw)?, progress).await,
        "cancel" => cancel(c, args(raw)?).await,
        "kill" => kill(c, args(raw)?).await,
        "continue" => continue_session(c, args(raw)?).await,
        "diff" => diff(c, args(raw)?).await,
        "merge" => merge(c, args(raw)?).await,
        "stats" => stats(c, args(raw)?).await,
        _ => Err(format!("no tool {name:?}")),
    }
}
/// A result both as text for the model and as structured content.
fn structured(v: Value) -> Result<CallToolResult, ToolError> {
    Ok(CallToolResult::structured(v))
}

/// A result whose text is what a person would read (a log, a diff).
fn text_with(text: String, v: Value) -> Result<CallToolResult, ToolError> {
    let mut r = CallToolResult::structured(v);
    r.content = vec![ContentBlock::text(text)];
    Ok(r)
}

fn duration_arg(field: &str, s: &str) -> Result<Duration, ToolError> {
    crate::model::units::parse_duration(s).map_err(|e| format!("bad argument `{field}`: {e}"))
}

/// Typed ids (full ids or unique prefixes) to full ids, as the CLI takes them.
async fn resolve(c: &Call<'_>, ids: Vec<String>) -> Result<Vec<String>, ToolError> {
    if ids.is_empty() {
        return Ok(ids);
    }
    c.backend.run(ResolveRequest { ids, last: false }).await
}

async fn resolve_one(c: &Call<'_>, id: String) -> Result<String, ToolError> {
    resolve(c, vec![id])
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| "no work order matches".to_string())
}

/// A work order in a line's worth of fields: what a model needs to decide.
fn summary(wo: &WorkOrder, queued_reason: Option<&str>) -> Value {
    const KEEP: &[&str] = &[
        "id",
        "status",
        "agentType",
        "labels",
        "priority",
        "createdAt",
        "startedAt",
        "completedAt",
        "result",
        "exitCode",
        "error",
        "dependsOn",
        "parentId",
    ];
    let full = wo.to_json();
    let mut out = Map::new();
    if let Value::Object(o) = &full {
        for k in KEEP {
            if let Some(v) = o.get(*k) {
                out.insert(k.to_string(), v.clone());
            }
        }
        if let Some(Value::Object(w)) = o.get("worktree") {
            let keep = ["branch", "path"];
            let w: Map<String, Value> = w
                .iter()
                .filter(|(k, _)| keep.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            out.insert("worktree".into(), Value::Object(w));
        }
        if let Some(r) = o.get("agentResult") {
            out.insert("agentResult".into(), r.clone());
        }
    }
    let prompt: String = wo.task_prompt.chars().take(200).collect();
    out.insert("prompt".into(), json!(prompt));
    if let Some(r) = queued_reason {
        out.insert("queuedReason".into(), json!(r));
    }
    Value::Object(out)
}

// ---- submit ----

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct SubmitArgs {
    /// What the agent is to do.
    prompt: String,
    /// The agent type (as `agentgate submit --agent`): e.g. claude-code, codex, gemini, shell.
    /// Default: the daemon's default agent.
    agent: Option<String>,
    /// A local directory to work in (relative to the MCP server's working directory
    /// over stdio; absolute over HTTP). Default over stdio: that working directory.
    path: Option<String>,
    /// A GitHub repository to clone, OWNER/NAME.
    repo: Option<String>,
    /// A git URL to clone.
    url: Option<String>,
    /// The branch to clone (with `repo` or `url`).
    branch: Option<String>,
    /// A git worktree and branch of its own (a local git repository only).
    worktree: Option<bool>,
    /// Ids (or unique prefixes) of work orders that must succeed before this one starts.
    #[serde(default)]
    after: Vec<String>,
    /// Labels to find it by (letters, digits, . _ : / = + @ -).
    #[serde(default)]
    labels: Vec<String>,
    /// Higher starts first (default 0).
    priority: Option<i32>,
    /// Environment variables for this work order's agent only.
    #[serde(default)]
    env: BTreeMap<String, String>,
    /// Longest it may run, e.g. "30m", "2h" (default: the daemon's).
    max_time: Option<String>,
}

fn workspace(c: &Call<'_>, a: &SubmitArgs) -> Result<Option<WorkspaceInput>, ToolError> {
    let given = [a.path.is_some(), a.repo.is_some(), a.url.is_some()]
        .iter()
        .filter(|g| **g)
        .count();
    if given > 1 {
        return Err("bad arguments: give at most one of `path`, `repo` and `url`".into());
    }
    if a.branch.is_some() && a.repo.is_none() && a.url.is_none() {
        return Err(
            "bad argument `branch`: a branch is cloned, so it needs `repo` or `url`".into(),
        );
    }
    if let Some(url) = &a.url {
        let kind = if url.starts_with("https://github.com/") {
            "github"
        } else {
            "git"
        };
        return Ok(Some(WorkspaceInput {
            kind: Some(kind.into()),
            url: Some(url.clone()),
            branch: a.branch.clone(),
            ..Default::default()
        }));
    }
    if let Some(repo) = &a.repo {
        return Ok(Some(WorkspaceInput {
            kind: Some("github".into()),
            repo: Some(repo.clone()),
            branch: a.branch.clone(),
            ..Default::default()
        }));
    }
    let dir = match (&a.path, c.cwd) {
        (Some(p), Some(cwd)) => cwd.join(p),
        (Some(p), None) => std::path::PathBuf::from(p),
        (None, Some(cwd)) => cwd.to_path_buf(),
        (None, None) => return Ok(None),
    };
    if c.cwd.is_some() {
        let dir = std::fs::canonicalize(&dir)
            .map_err(|e| format!("bad argument `path`: {}: {e}", dir.display()))?;
        return Ok(Some(WorkspaceInput::local(dir.to_string_lossy())));
    }
    Ok(Some(WorkspaceInput::local(dir.to_string_lossy())))
}

/// Refuses a submit that would put this session over its limit.
async fn check_session_limit(c: &Call<'_>) -> Result<(), ToolError> {
    let max = c.settings.max_active;
    if max == 0 {
        return Ok(());
    }
    let page = c
        .backend
        .run(ListQuery {
            statuses: vec![Status::Queued, Status::Running],
            labels: vec![c.session_label.to_string()],
            limit: Some(1),
            offset: 0,
            id_prefix: None,
        })
        .await?;
    if page.total >= u64::from(max) {
        return Err(format!(
            "this MCP session already has {} work orders queued or running, its limit \
             (`max_active` in the [mcp] section of agentgate's config file); wait for some \
             to end, then submit again",
            page.total
        ));
    }
    Ok(())
}

async fn submit(c: &Call<'_>, a: SubmitArgs) -> Result<CallToolResult, ToolError> {
    let workspace_source = workspace(c, &a)?;
    let max_time = a
        .max_time
        .as_deref()
        .map(|s| duration_arg("max_time", s).map(|d| d.as_secs().max(1)))
        .transpose()?;
    let depends_on = resolve(c, a.after).await?;
    check_session_limit(c).await?;
    let mut labels = a.labels;
    labels.extend(c.settings.labels.iter().cloned());
    labels.extend(c.client_label.map(str::to_string));
    labels.push(c.session_label.to_string());
    let req = SubmitRequest {
        task_prompt: a.prompt,
        agent_type: a.agent,
        workspace_source,
        max_time,
        max_iterations: None,
        env: a.env,
        worktree: a.worktree,
        depends_on,
        priority: a.priority.unwrap_or(0),
        labels,
        setup: None,
    };
    let wo = c.backend.run(req).await?;
    structured(summary(&wo, None))
}

// ---- list, show ----

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct ListArgs {
    /// Only these statuses: queued, running, succeeded, failed, canceled.
    #[serde(default)]
    status: Vec<String>,
    /// Only work orders carrying every one of these labels.
    #[serde(default)]
    labels: Vec<String>,
    /// At most this many (default 20, at most 500).
    limit: Option<u32>,
}

async fn list(c: &Call<'_>, a: ListArgs) -> Result<CallToolResult, ToolError> {
    let statuses = a
        .status
        .iter()
        .map(|s| s.parse::<Status>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("bad argument `status`: {e}"))?;
    let limit = a.limit.unwrap_or(20);
    if !(1..=500).contains(&limit) {
        return Err(format!(
            "bad argument `limit`: {limit} is out of range: 1 to 500"
        ));
    }
    let page = c
        .backend
        .run(ListQuery {
            statuses,
            labels: a.labels,
            limit: Some(limit),
            offset: 0,
            id_prefix: None,
        })
        .await?;
    let items: Vec<Value> = page
        .items
        .iter()
        .enumerate()
        .map(|(i, wo)| summary(wo, page.reasons.get(i).and_then(|r| r.as_deref())))
        .collect();
    structured(json!({ "items": items, "total": page.total, "hasMore": page.has_more }))
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct IdArgs {
    /// The work order's id, or a unique prefix of it.
    id: String,
}

async fn show(c: &Call<'_>, a: IdArgs) -> Result<CallToolResult, ToolError> {
    let id = resolve_one(c, a.id).await?;
    let detail = c.backend.run(ShowRequest { id }).await?;
    structured(detail.to_json())
}

// ---- logs ----

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct LogsArgs {
    /// The work order's id, or a unique prefix of it.
    id: String,
    /// Only the last this many lines (default 100; 0: all, up to 256 KiB).
    tail: Option<u64>,
    /// The output as written, not as a transcript.
    #[serde(default)]
    raw: bool,
}

/// The rendered output of a work order as it stands (not followed), its
/// end kept when longer than `MAX_TEXT`; and the work order.
pub async fn read_log(
    backend: &Backend,
    id: String,
    tail: Option<u64>,
    raw: bool,
) -> Result<(String, bool, WorkOrder), ToolError> {
    let req = LogsRequest {
        id,
        streams: LogStreams::Both,
        tail,
        follow: false,
        run: None,
        timestamps: false,
        raw,
    };
    let mut frames = backend.stream(Request::Logs(req)).await?;
    let mut bytes: Vec<u8> = Vec::new();
    let mut cut = false;
    while let Some(frame) = frames.recv().await {
        match frame? {
            Reply::LogChunk(chunk) => {
                bytes.extend_from_slice(&chunk);
                if bytes.len() > 2 * MAX_TEXT {
                    bytes.drain(..bytes.len() - MAX_TEXT);
                    cut = true;
                }
            }
            Reply::LogEnd(wo) => {
                if bytes.len() > MAX_TEXT {
                    bytes.drain(..bytes.len() - MAX_TEXT);
                    cut = true;
                }
                return Ok((String::from_utf8_lossy(&bytes).into_owned(), cut, wo));
            }
            other => return Err(format!("unexpected reply from the daemon: {other:?}")),
        }
    }
    Err("the daemon ended the log stream early".into())
}

async fn logs(c: &Call<'_>, a: LogsArgs) -> Result<CallToolResult, ToolError> {
    let id = resolve_one(c, a.id).await?;
    let tail = match a.tail {
        None => Some(100),
        Some(0) => None,
        Some(n) => Some(n),
    };
    let (text, cut, wo) = read_log(c.backend, id, tail, a.raw).await?;
    let v = json!({
        "id": wo.id,
        "status": wo.status.api(),
        "text": text,
        "truncated": cut,
    });
    let shown = if text.is_empty() {
        format!("(no output yet; {} is {})", wo.id, wo.status.api().as_str())
    } else {
        text
    };
    text_with(shown, v)
}

// ---- wait ----

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct WaitArgs {
    /// The work orders to wait for (ids or unique prefixes).
    ids: Vec<String>,
    /// How long to wait at most, e.g. "90s", "10m" (default "10m", at most "1h").
    timeout: Option<String>,
}

async fn wait(
    c: &Call<'_>,
    a: WaitArgs,
    progress: Progress<'_>,
) -> Result<CallToolResult, ToolError> {
    if a.ids.is_empty() {
        return Err("bad argument `ids`: name at least one work order".into());
    }
    let timeout = match a.timeout.as_deref() {
        Some(s) => duration_arg("timeout", s)?,
        None => Duration::from_secs(600),
    };
    if timeout > MAX_WAIT {
        return Err("bad argument `timeout`: at most 1h; call `wait` again to wait longer".into());
    }
    let ids = resolve(c, a.ids).await?;
    let total = u32::try_from(ids.len()).unwrap_or(u32::MAX);
    let mut frames = c.backend.stream(Request::Wait(WaitRequest { ids })).await?;
    let deadline = tokio::time::Instant::now() + timeout;
    let mut last: Vec<Value> = Vec::new();
    loop {
        let frame = tokio::select! {
            f = frames.recv() => f,
            _ = tokio::time::sleep_until(deadline) => {
                return structured(json!({ "timedOut": true, "statuses": last }));
            }
        };
        match frame {
            Some(Ok(Reply::WaitProgress(items))) => {
                // Two steps per work order (started, ended), so progress
                // grows with every change, as MCP asks of it.
                let ended = items.iter().filter(|i| i.status.is_terminal()).count();
                let steps: usize = items
                    .iter()
                    .map(|i| match i.status {
                        s if s.is_terminal() => 2,
                        Status::Queued => 0,
                        _ => 1,
                    })
                    .sum();
                let message = items
                    .iter()
                    .map(|i| format!("{} {}", i.id, i.status.api().as_str()))
                    .collect::<Vec<_>>()
                    .join(", ");
                progress(
                    steps as f64,
                    f64::from(total) * 2.0,
                    format!("{ended} of {total} ended: {message}"),
                )
                .await;
                last = items
                    .iter()
                    .map(|i| json!({ "id": i.id, "status": i.status.api() }))
                    .collect();
            }
            Some(Ok(Reply::WaitDone(wos))) => {
                let items: Vec<Value> = wos.iter().map(|wo| summary(wo, None)).collect();
                let all_succeeded = wos.iter().all(|wo| wo.status == Status::Succeeded);
                return structured(json!({
                    "timedOut": false,
                    "allSucceeded": all_succeeded,
                    "workOrders": items,
                }));
            }
            Some(Ok(other)) => return Err(format!("unexpected reply from the daemon: {other:?}")),
            Some(Err(e)) => return Err(e),
            None => return Err("the daemon ended the wait early".into()),
        }
    }
}

// ---- cancel, kill, continue ----

async fn cancel(c: &Call<'_>, a: IdArgs) -> Result<CallToolResult, ToolError> {
    let id = resolve_one(c, a.id).await?;
    let out = c.backend.run(CancelRequest { id }).await?;
    structured(out.to_json())
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct KillArgs {
    /// The work order's id, or a unique prefix of it.
    id: String,
    /// SIGKILL at once, without a grace period.
    #[serde(default)]
    force: bool,
}

async fn kill(c: &Call<'_>, a: KillArgs) -> Result<CallToolResult, ToolError> {
    let id = resolve_one(c, a.id).await?;
    let out = c
        .backend
        .run(KillRequest {
            id,
            force: a.force,
            grace_ms: None,
            reason: Some("killed through MCP".into()),
        })
        .await?;
    if out.already_ended {
        // As the CLI reports it: nothing was stopped.
        return Err(out.message);
    }
    structured(json!({
        "id": out.id,
        "status": out.status.api(),
        "forcedKill": out.forced_kill,
        "durationMs": out.duration_ms,
        "message": out.message,
    }))
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct ContinueArgs {
    /// The ended work order to continue (id or unique prefix).
    id: String,
    /// The follow-up prompt.
    prompt: String,
}

async fn continue_session(c: &Call<'_>, a: ContinueArgs) -> Result<CallToolResult, ToolError> {
    let id = resolve_one(c, a.id).await?;
    check_session_limit(c).await?;
    let wo = c
        .backend
        .run(ContinueRequest {
            id,
            task_prompt: a.prompt,
            max_time: None,
            max_iterations: None,
        })
        .await?;
    structured(summary(&wo, None))
}

// ---- diff, merge, stats ----

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct DiffArgs {
    /// The worktree work order (id or unique prefix).
    id: String,
    /// The files changed with their line counts instead of the diff.
    #[serde(default)]
    stat: bool,
}

async fn diff(c: &Call<'_>, a: DiffArgs) -> Result<CallToolResult, ToolError> {
    let id = resolve_one(c, a.id).await?;
    if a.stat {
        let stat = c.backend.run(DiffStatRequest { id }).await?;
        return structured(serde_json::to_value(stat).unwrap_or(Value::Null));
    }
    let bytes = c
        .backend
        .run(DiffRequest {
            id: id.clone(),
            view: crate::land::DiffView::Patch,
            color: false,
        })
        .await?;
    let cut = bytes.len() > MAX_TEXT;
    let mut text = String::from_utf8_lossy(&bytes[..bytes.len().min(MAX_TEXT)]).into_owned();
    if cut {
        text.push_str(&format!(
            "\n[diff cut at {MAX_TEXT} of {} bytes; ask with `stat: true` for the files]\n",
            bytes.len()
        ));
    }
    let shown = if text.is_empty() {
        format!("(no changes in {id}'s worktree)")
    } else {
        text.clone()
    };
    text_with(shown, json!({ "id": id, "diff": text, "truncated": cut }))
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct MergeArgs {
    /// The ended worktree work order (id or unique prefix).
    id: String,
    /// One commit on the target instead of a merge commit.
    #[serde(default)]
    squash: bool,
    /// The commit message (default: from the prompt's first line).
    message: Option<String>,
}

async fn merge(c: &Call<'_>, a: MergeArgs) -> Result<CallToolResult, ToolError> {
    let id = resolve_one(c, a.id).await?;
    let out = c
        .backend
        .run(MergeRequest {
            id,
            squash: a.squash,
            message: a.message,
            into: None,
        })
        .await?;
    structured(json!({ "merge": out.merge, "workOrder": summary(&out.work_order, None) }))
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct StatsArgs {
    /// Group by: agent (default), label, day or status.
    by: Option<String>,
    /// Only work orders created in the last this long, e.g. "7d", "24h".
    since: Option<String>,
    /// Only work orders carrying every one of these labels.
    #[serde(default)]
    labels: Vec<String>,
}

async fn stats(c: &Call<'_>, a: StatsArgs) -> Result<CallToolResult, ToolError> {
    let by = match a.by.as_deref() {
        None | Some("agent") => StatsGroup::Agent,
        Some("label") => StatsGroup::Label,
        Some("day") => StatsGroup::Day,
        Some("status") => StatsGroup::Status,
        Some(other) => {
            return Err(format!(
                "bad argument `by`: agent, label, day or status, not {other:?}"
            ));
        }
    };
    let since_ms = a
        .since
        .as_deref()
        .map(|s| duration_arg("since", s).map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)))
        .transpose()?;
    let report = c
        .backend
        .run(StatsQuery {
            by,
            since_ms,
            labels: a.labels,
        })
        .await?;
    structured(serde_json::to_value(report).unwrap_or(Value::Null))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(v: Value) -> Option<JsonObject> {
        match v {
            Value::Object(o) => Some(o),
            _ => None,
        }
    }

    #[test]
    fn a_bad_argument_is_named() {
        let e = args::<SubmitArgs>(obj(json!({"prompt": "x", "priority": "high"}))).err();
        assert!(e.is_some_and(|e| e.contains("`priority`")));
        let e = args::<SubmitArgs>(obj(json!({}))).err();
        assert!(e.is_some_and(|e| e.contains("prompt")));
        let e = args::<IdArgs>(obj(json!({"id": "a", "extra": 1}))).err();
        assert!(e.is_some_and(|e| e.contains("extra")));
    }

    #[test]
    fn every_schema_is_an_object_with_its_fields() {
        for tool in all() {
            assert_eq!(
                tool.input_schema.get("type"),
                Some(&json!("object")),
                "{}",
                tool.name
            );
            assert!(!tool.input_schema.contains_key("$schema"), "{}", tool.name);
            assert!(super::super::settings::TOOLS.contains(&tool.name.as_ref()));
        }
        let submit = schema::<SubmitArgs>();
        let required = submit.get("required").cloned().unwrap_or_default();
        assert_eq!(required, json!(["prompt"]));
    }

    #[test]
    fn one_workspace_at_most() {
        let settings = McpSettings::default();
        let backend = Backend::Socket("/nonexistent".into());
        let c = Call {
            backend: &backend,
            settings: &settings,
            session_label: "mcp-session:t",
            client_label: None,
            cwd: None,
        };
        let a: SubmitArgs = args(obj(
            json!({"prompt": "x", "repo": "o/r", "url": "https://x"}),
        ))
        .unwrap();
        assert!(workspace(&c, &a).unwrap_err().contains("at most one"));
        let a: SubmitArgs = args(obj(json!({"prompt": "x", "branch": "b"}))).unwrap();
        assert!(workspace(&c, &a).unwrap_err().contains("`branch`"));
        let a: SubmitArgs = args(obj(json!({"prompt": "x"}))).unwrap();
        assert_eq!(workspace(&c, &a).unwrap(), None);
    }
}
