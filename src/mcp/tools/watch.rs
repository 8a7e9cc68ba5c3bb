//! `list`, `show`, `logs` and `wait`: what the queue holds and how work goes.

use super::*;

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct ListArgs {
    /// Only these statuses: queued, running, succeeded, failed, canceled.
    #[serde(default)]
    status: Vec<String>,
    /// Only work orders carrying every one of these labels.
    #[serde(default)]
    labels: Vec<String>,
    /// At most this many (default 20, at most 500).
    limit: Option<u32>,
}

pub(super) async fn list(c: &Call<'_>, a: ListArgs) -> Result<CallToolResult, ToolError> {
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

pub(super) async fn show(c: &Call<'_>, a: IdArgs) -> Result<CallToolResult, ToolError> {
    let id = resolve_one(c, a.id).await?;
    let detail = c.backend.run(ShowRequest { id }).await?;
    structured(detail.to_json())
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct LogsArgs {
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

pub(super) async fn logs(c: &Call<'_>, a: LogsArgs) -> Result<CallToolResult, ToolError> {
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

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct WaitArgs {
    /// The work orders to wait for (ids or unique prefixes).
    ids: Vec<String>,
    /// How long to wait at most, e.g. "90s", "10m" (default "10m", at most "1h").
    timeout: Option<String>,
}

pub(super) async fn wait(
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
