//! Each work order's transcript as an MCP resource,
//! `agentgate://work-orders/{id}/transcript`: the text `queue logs` shows.
//! A client that subscribes (`resources/subscribe` in the 2025 protocol,
//! `subscriptions/listen` in the 2026 one) is told the resource changed as
//! the run writes, from the daemon's one log follower, until it ends.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::future::BoxFuture;
use rmcp::ErrorData as McpError;
use rmcp::model::*;
use rmcp::service::{Peer, RoleServer, SubscriptionContext};
use tokio::task::AbortHandle;

use super::backend::Backend;
use crate::ops::ListQuery;
use crate::rpc::proto::{Reply, Request};
use crate::service::{LogStreams, LogsRequest};

const PREFIX: &str = "agentgate://work-orders/";
const SUFFIX: &str = "/transcript";

/// At most one "updated" notification per resource this often.
const THROTTLE: Duration = Duration::from_millis(200);

/// How many work orders `resources/list` names (the newest).
const LISTED: u32 = 100;

pub fn uri(id: &str) -> String {
    format!("{PREFIX}{id}{SUFFIX}")
}

fn id_of(uri: &str) -> Result<&str, McpError> {
    uri.strip_prefix(PREFIX)
        .and_then(|r| r.strip_suffix(SUFFIX))
        .filter(|id| !id.is_empty() && !id.contains('/'))
        .ok_or_else(|| {
            McpError::resource_not_found(
                format!("no resource {uri}: the resources are {PREFIX}{{id}}{SUFFIX}"),
                None,
            )
        })
}

fn refused(message: String) -> McpError {
    McpError::resource_not_found(message, None)
}

pub fn template() -> ResourceTemplate {
    ResourceTemplate::new(format!("{PREFIX}{{id}}{SUFFIX}"), "work order transcript")
        .with_description(
            "A work order's output as `agentgate queue logs` shows it: a structured agent's \
             messages, tool calls and results; plain output as written.",
        )
        .with_mime_type("text/plain")
}

pub async fn list(backend: &Backend) -> Result<ListResourcesResult, McpError> {
    let page = backend
        .run(ListQuery {
            statuses: vec![],
            labels: vec![],
            limit: Some(LISTED),
            offset: 0,
            id_prefix: None,
        })
        .await
        .map_err(|e| McpError::internal_error(e, None))?;
    let resources = page
        .items
        .iter()
        .map(|wo| {
            let first = wo.task_prompt.lines().next().unwrap_or_default();
            let first: String = first.chars().take(120).collect();
            Resource::new(uri(&wo.id), format!("{} transcript", wo.id))
                .with_description(format!("{} ({})", first, wo.status.api().as_str()))
                .with_mime_type("text/plain")
        })
        .collect();
    Ok(ListResourcesResult::with_all_items(resources))
}

pub async fn read(backend: &Backend, uri: &str) -> Result<ReadResourceResult, McpError> {
    let id = id_of(uri)?.to_string();
    let (text, _cut, _wo) = super::tools::read_log(backend, id, None, false)
        .await
        .map_err(refused)?;
    Ok(ReadResourceResult::new(vec![ResourceContents::text(
        text, uri,
    )]))
}

/// Follows `id`'s log and calls `changed` as it grows (throttled) and once
/// at its end; returns when the run has ended or `changed` fails.
async fn follow(
    backend: &Backend,
    id: String,
    changed: impl Fn() -> BoxFuture<'static, bool>,
) -> Result<(), String> {
    let req = LogsRequest {
        id,
        streams: LogStreams::Both,
        tail: Some(0),
        follow: true,
        run: None,
        timestamps: false,
        raw: true,
    };
    let mut frames = backend.stream(Request::Logs(req)).await?;
    let mut last: Option<tokio::time::Instant> = None;
    let mut pending = false;
    loop {
        let wake = last.map(|t| t + THROTTLE);
        let frame = tokio::select! {
            f = frames.recv() => f,
            _ = async { match wake { Some(w) if pending => tokio::time::sleep_until(w).await, _ => std::future::pending().await } } => {
                pending = false;
                last = Some(tokio::time::Instant::now());
                if !changed().await { return Ok(()); }
                continue;
            }
        };
        match frame {
            Some(Ok(Reply::LogChunk(_))) => {
                if last.is_some_and(|t| t.elapsed() < THROTTLE) {
                    pending = true;
                    continue;
                }
                last = Some(tokio::time::Instant::now());
                if !changed().await {
                    return Ok(());
                }
            }
            Some(Ok(_)) | None => {
                // The run ended: one last change (its final lines, its end).
                let _ = changed().await;
                return Ok(());
            }
            Some(Err(e)) => return Err(e),
        }
    }
}

/// The 2025 protocol's subscriptions of one session, by URI.
#[derive(Clone, Default)]
pub struct Subscriptions(Arc<Mutex<HashMap<String, AbortHandle>>>);

impl Subscriptions {
    pub async fn subscribe(
        &self,
        backend: &Backend,
        uri: String,
        peer: Peer<RoleServer>,
    ) -> Result<(), McpError> {
        let id = id_of(&uri)?.to_string();
        // Refuse an unknown work order now, not silently later.
        let resolved = backend
            .run(crate::ops::ResolveRequest {
                ids: vec![id],
                last: false,
            })
            .await
            .map_err(refused)?;
        let Some(id) = resolved.into_iter().next() else {
            return Err(refused(format!("no resource {uri}")));
        };
        let backend = backend.clone();
        let notify_uri = uri.clone();
        let task = tokio::spawn(async move {
            let changed = || -> BoxFuture<'static, bool> {
                let (peer, uri) = (peer.clone(), notify_uri.clone());
                Box::pin(async move {
                    peer.notify_resource_updated(ResourceUpdatedNotificationParam::new(uri))
                        .await
                        .is_ok()
                })
            };
            if let Err(e) = follow(&backend, id, changed).await {
                tracing::debug!(error = %e, "MCP transcript subscription ended");
            }
        });
        let mut subs = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(old) = subs.insert(uri, task.abort_handle()) {
            old.abort();
        }
        Ok(())
    }

    pub fn unsubscribe(&self, uri: &str) {
        let mut subs = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(task) = subs.remove(uri) {
            task.abort();
        }
    }
}

impl Drop for Subscriptions {
    fn drop(&mut self) {
        // The last clone of a session's server: its followers go with it.
        if Arc::strong_count(&self.0) == 1 {
            let subs = self.0.lock().unwrap_or_else(|e| e.into_inner());
            for task in subs.values() {
                task.abort();
            }
        }
    }
}

/// The 2026 protocol's `subscriptions/listen`: each accepted transcript URI
/// followed until the client cancels.
pub async fn listen(backend: &Backend, context: SubscriptionContext) -> Result<(), McpError> {
    let uris = context
        .accepted()
        .resource_subscriptions
        .clone()
        .unwrap_or_default();
    let mut follows = Vec::new();
    for uri in uris {
        let Ok(id) = id_of(&uri) else { continue };
        let (sink, id) = (context.sink().clone(), id.to_string());
        follows.push(async move {
            let changed = || -> BoxFuture<'static, bool> {
                let (sink, uri) = (sink.clone(), uri.clone());
                Box::pin(async move { sink.notify_resource_updated(uri).await.is_ok() })
            };
            let _ = follow(backend, id, changed).await;
        });
    }
    tokio::select! {
        _ = context.cancelled() => {}
        _ = async {
            futures::future::join_all(follows).await;
            std::future::pending::<()>().await
        } => {}
    }
    Ok(())
}
