//! `cancel`, `kill`, `diff`, `merge` and `stats`: stopping work, landing it,
//! and what it cost.

use super::*;

pub(super) async fn cancel(c: &Call<'_>, a: IdArgs) -> Result<CallToolResult, ToolError> {
    let id = resolve_one(c, a.id).await?;
    let out = c.backend.run(CancelRequest { id }).await?;
    structured(out.to_json())
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct KillArgs {
    /// The work order's id, or a unique prefix of it.
    id: String,
    /// SIGKILL at once, without a grace period.
    #[serde(default)]
    force: bool,
}

pub(super) async fn kill(c: &Call<'_>, a: KillArgs) -> Result<CallToolResult, ToolError> {
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
pub(super) struct DiffArgs {
    /// The worktree work order (id or unique prefix).
    id: String,
    /// The files changed with their line counts instead of the diff.
    #[serde(default)]
    stat: bool,
}

pub(super) async fn diff(c: &Call<'_>, a: DiffArgs) -> Result<CallToolResult, ToolError> {
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
pub(super) struct MergeArgs {
    /// The ended worktree work order (id or unique prefix).
    id: String,
    /// One commit on the target instead of a merge commit.
    #[serde(default)]
    squash: bool,
    /// The commit message (default: from the prompt's first line).
    message: Option<String>,
}

pub(super) async fn merge(c: &Call<'_>, a: MergeArgs) -> Result<CallToolResult, ToolError> {
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
pub(super) struct StatsArgs {
    /// Group by: agent (default), label, day or status.
    by: Option<String>,
    /// Only work orders created in the last this long, e.g. "7d", "24h".
    since: Option<String>,
    /// Only work orders carrying every one of these labels.
    #[serde(default)]
    labels: Vec<String>,
}

pub(super) async fn stats(c: &Call<'_>, a: StatsArgs) -> Result<CallToolResult, ToolError> {
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
