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

mod control;
mod submit;
mod watch;

use control::*;
use submit::*;
pub use watch::read_log;
use watch::*;

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

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct IdArgs {
    /// The work order's id, or a unique prefix of it.
    pub(super) id: String,
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
