//! `GET /api/v1/runs/{id}/stream`: a run's events as Server-Sent Events, in
//! AgentGate's framing (`event: <type>` and `data: {type, runId, timestamp,
//! data}`): `connected` at once, `agent-output` for each piece of the run's
//! output (from the start; the same log follower as `queue logs --follow`;
//! an agent's structured output as its transcript, as `queue logs` shows it),
//! `?raw=true`: the output as written), `heartbeat` every 30 s, then `run-complete` (or `error`) and the end of
//! the stream. The buffer ahead of the client is small and bounded; a client
//! that does not keep up within `SLOW_CLIENT` is dropped.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderValue, header};
use axum::response::sse::{Event, Sse};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use tokio::sync::{broadcast, mpsc};

use super::AppState;
use super::envelope::*;
use super::parse::{path_id, query_flag, query_pairs};
use super::routes::try_resp;
use crate::agent::{Format, Transcript};
use crate::model::{Run, Status, Timestamp};
use crate::service::follow::{FollowSpec, LogItem, LogStart, Utf8Pieces, follow_log};
use crate::service::{LogStreams, StatusChange};

/// Events buffered ahead of the client.
const BUFFER: usize = 32;
/// A client that has not taken an event for this long is dropped.
const SLOW_CLIENT: Duration = Duration::from_secs(10);
const HEARTBEAT: Duration = Duration::from_secs(30);

fn event(kind: &str, run_id: &str, data: Value) -> Event {
    let body = json!({
        "type": kind,
        "runId": run_id,
        "timestamp": Timestamp::now().to_rfc3339(),
        "data": data,
    });
    Event::default().event(kind).data(body.to_string())
}

/// One event of the stream as it is framed (`data` is the JSON text of
/// `{type, runId, timestamp, data}`).
#[derive(serde::Serialize, utoipa::ToSchema)]
#[allow(dead_code)]
pub struct SseFrame {
    /// connected, agent-output, heartbeat, run-complete or error.
    event: String,
    data: String,
}

/// A run's events as Server-Sent Events (`?token=` is accepted for browsers).
#[utoipa::path(get, path = "/api/v1/runs/{id}/stream", tag = "runs",
    params(("id" = String, Path, description = "Run id", pattern = "^[A-Za-z0-9_-]{1,64}$"),
        ("token" = Option<String>, Query, description = "The API key, for clients that cannot send headers"),
        ("raw" = Option<bool>, Query, description = "true: the run's output as written, not rendered as a transcript")),
    responses(
        (status = 200, description = "The event stream", content_type = "text/event-stream", body = SseFrame),
        (status = "default", description = "Error", body = ErrorEnvelope),
    ),
    security(("bearer" = []), ("apiKey" = []), ("token" = [])))]
pub async fn stream(
    State(st): State<AppState>,
    RequestId(rid): RequestId,
    id: Result<Path<String>, PathRejection>,
    RawQuery(q): RawQuery,
) -> Response {
    let id = try_resp!(&rid, path_id(id));
    let pairs = try_resp!(&rid, query_pairs(&q));
    let raw = try_resp!(&rid, query_flag(&pairs, "raw"));
    // Subscribed before the run is read, so no change falls in between.
    let changes = st.service.subscribe();
    let run = match st.service.call(crate::service::GetRunRequest { id }).await {
        Ok(r) => r,
        Err(e) => return service_error(&rid, e),
    };
    let (tx, mut rx) = mpsc::channel::<Event>(BUFFER);
    let connected = event(
        "connected",
        &run.id,
        json!({
            "clientId": nanoid::nanoid!(8),
            "runStatus": run.status.api(),
            "currentIteration": run.iteration_count(),
        }),
    );
    let _ = tx.try_send(connected);
    tokio::spawn(produce(st, run, raw, changes, tx));
    let events =
        futures::stream::poll_fn(move |cx| rx.poll_recv(cx).map(|e| e.map(Ok::<_, Infallible>)));
    let mut resp = Sse::new(events).into_response();
    let h = resp.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert("x-accel-buffering", HeaderValue::from_static("no"));
    resp
}

/// Aborts the task when dropped.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

async fn produce(
    st: AppState,
    run: Run,
    raw: bool,
    changes: broadcast::Receiver<StatusChange>,
    tx: mpsc::Sender<Event>,
) {
    let (log_tx, mut log_rx) = mpsc::channel(8);
    let spec = FollowSpec {
        id: run.work_order_id.clone(),
        streams: LogStreams::Stdout,
        start: LogStart::Beginning,
        follow: true,
        run: Some(run.id.clone()),
    };
    let service = st.service.clone();
    let _follower = AbortOnDrop(tokio::spawn(async move {
        if let Err(e) = follow_log(&service, spec, changes, &log_tx, |item| item).await {
            let _ = log_tx.send(Err(e)).await;
        }
    }));
    let mut shutdown = st.shutdown.clone();
    let mut heartbeat =
        tokio::time::interval_at(tokio::time::Instant::now() + HEARTBEAT, HEARTBEAT);
    let mut text = Utf8Pieces::default();
    let mut transcript: Option<Transcript> = None;
    let send = |ev: Event| {
        let tx = tx.clone();
        async move { tx.send_timeout(ev, SLOW_CLIENT).await.is_ok() }
    };
    loop {
        let next = tokio::select! {
            item = log_rx.recv() => item,
            _ = heartbeat.tick() => {
                let beat = event("heartbeat", &run.id, json!({"serverTime": Timestamp::now().to_rfc3339()}));
                if send(beat).await {
                    continue;
                }
                return;
            }
            _ = shutdown.deadline() => return,
            _ = tx.closed() => return,
        };
        match next {
            Some(Ok(LogItem::Run { output_format, .. })) => {
                let format = Format::from_name(output_format.as_deref());
                transcript = (format.is_structured() && !raw).then(|| Transcript::new(format));
            }
            Some(Ok(LogItem::CaughtUp)) => {}
            Some(Ok(LogItem::Pieces { pieces, .. })) => {
                let bytes: Vec<u8> = pieces.into_iter().flat_map(|p| p.bytes).collect();
                let content = match transcript.as_mut() {
                    Some(t) => t.feed(&bytes),
                    None => text.push(&bytes),
                };
                if !content.is_empty()
                    && !send(event("agent-output", &run.id, json!({"content": content}))).await
                {
                    tracing::debug!(run = %run.id, "SSE client too slow; dropped");
                    return;
                }
            }
            Some(Ok(LogItem::End(_))) => {
                // A last transcript line without its newline.
                if let Some(rest) = transcript.as_mut().map(Transcript::finish)
                    && !rest.is_empty()
                {
                    let _ = send(event("agent-output", &run.id, json!({"content": rest}))).await;
                }
                let status = match st
                    .service
                    .call(crate::service::GetRunRequest { id: run.id.clone() })
                    .await
                {
                    Ok(r) if r.status.is_terminal() => r.status,
                    _ => Status::Failed,
                };
                let done = json!({"status": status, "totalIterations": run.iteration_count()});
                let _ = send(event("run-complete", &run.id, done)).await;
                return;
            }
            Some(Err(e)) => {
                let error = json!({
                    "code": status_of(e.code).1,
                    "message": e.message,
                    "recoverable": false,
                });
                let _ = send(event("error", &run.id, error)).await;
                return;
            }
            None => return,
        }
    }
}
