//! `GET /ws`: AgentGate's WebSocket protocol, fed by the daemon's one event
//! source (the actor's status changes) and its log follower.
//!
//! Client → server: `{"type":"subscribe","workOrderId":ID,"filters"?:{...}}`,
//! `{"type":"unsubscribe","workOrderId":ID}`, `{"type":"ping"}`; our
//! extension: `workOrderId` `*` subscribes to every work order's lifecycle
//! events (not its agent events), as the dashboard's queue view does. Server →
//! client: `subscription_confirmed`, `unsubscription_confirmed`, `pong`,
//! `error`; `work_order_created` to every connection; `work_order_updated`
//! (with `previousStatus`), `run_started`, `run_completed`, `run_failed`, and
//! the run's agent events — `agent_output`, `agent_tool_call`,
//! `agent_tool_result` (`service::agent_events`), unless the subscription's
//! `includeOutput` / `includeToolCalls` / `includeToolResults` is false — to
//! the connections subscribed to the work order.
//!
//! Bounded: one session reads the broadcast, a few small log channels and the
//! socket; a client that does not take a message within `SLOW_CLIENT`, or
//! falls so far behind that the broadcast overtakes it, is dropped.

use std::collections::HashMap;
use std::time::Duration;

use axum::Extension;
use axum::extract::State;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::sync::{broadcast, mpsc};

mod messages;

use messages::{Filters, Outgoing, agent_message, invalid, now, parse_filters};

use super::AppState;
use super::envelope::*;
use crate::model::{Status, validate_id};
use crate::service::agent_events::AgentEvents;
use crate::service::doors::ConnPermit;
use crate::service::follow::{FollowSpec, LogItem, LogStart, follow_log};
use crate::service::{LogStreams, QueueEvent, Service, ServiceError, StatusChange};

/// A client that has not taken a message for this long is dropped.
const SLOW_CLIENT: Duration = Duration::from_secs(5);
/// Largest message a client may send.
const MAX_MESSAGE: usize = 64 * 1024;
/// Most bytes queued for a client that is not reading (bounded back-pressure).
const MAX_WRITE_BUFFER: usize = 1024 * 1024;
const MAX_SUBSCRIPTIONS: usize = 256;
/// The `workOrderId` that subscribes to every work order's lifecycle.
const ALL: &str = "*";
/// Output pieces buffered from the log followers of one session.
const LOG_BUFFER: usize = 16;

/// The WebSocket (the key as a header or `?token=`).
#[utoipa::path(get, path = "/ws", tag = "events",
    params(("token" = Option<String>, Query, description = "The API key, for browsers")),
    responses(
        (status = 101, description = "Switching to the WebSocket protocol"),
        (status = "default", description = "Error (e.g. 400: not a WebSocket handshake)", body = ErrorEnvelope),
    ),
    security(("bearer" = []), ("apiKey" = []), ("token" = [])))]
pub async fn upgrade(
    State(st): State<AppState>,
    RequestId(rid): RequestId,
    slot: Option<Extension<ConnPermit>>,
    headers: HeaderMap,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    // A browser page from an origin the API does not allow gets no socket.
    if let Some(origin) = headers.get(header::ORIGIN)
        && !origin.to_str().is_ok_and(|o| st.cors.allows(o))
        && !super::dashboard::same_origin(&headers)
    {
        return fail(
            &rid,
            StatusCode::FORBIDDEN,
            "FORBIDDEN",
            "this origin is not allowed (see cors_origins)",
            None,
        );
    }
    let ws = match ws {
        Ok(ws) => ws,
        Err(rej) => {
            return fail(
                &rid,
                StatusCode::BAD_REQUEST,
                "BAD_REQUEST",
                &format!("GET /ws is a WebSocket: {}", rej.body_text()),
                Some(json!({"field": "upgrade"})),
            );
        }
    };
    let token = st.sessions.token();
    // Subscribed before the handshake is answered: every change after it is seen.
    let changes = st.service.subscribe();
    ws.max_message_size(MAX_MESSAGE)
        .max_frame_size(MAX_MESSAGE)
        .write_buffer_size(0)
        .max_write_buffer_size(MAX_WRITE_BUFFER)
        .on_upgrade(move |socket| async move {
            session(st, socket, changes).await;
            drop(slot);
            drop(token);
        })
}

/// What a session's log followers hand it.
enum FromFollower {
    Log {
        id: String,
        item: LogItem,
    },
    /// The follower of this generation is done.
    Ended {
        id: String,
        generation: u64,
    },
}

/// Aborts the follower when its subscription goes.
struct Follower(tokio::task::JoinHandle<()>);

impl Drop for Follower {
    fn drop(&mut self) {
        self.0.abort();
    }
}

struct Session {
    service: Service,
    subscriptions: HashMap<String, Filters>,
    /// Subscribed to `*`: every work order's lifecycle events (the
    /// dashboard's queue), without agent events.
    all: bool,
    /// One per subscription with output to a work order that is running;
    /// a generation tells a follower that ended from its successor (the next
    /// run's). Queued work orders cost no follower: their run's start is an
    /// event this session sees anyway.
    followers: HashMap<String, (u64, Follower)>,
    generation: u64,
    /// New subscriptions to follow if their work order is running.
    to_check: Vec<String>,
    agents: HashMap<String, AgentEvents>,
    log_tx: mpsc::Sender<Result<FromFollower, ServiceError>>,
}

impl Session {
    fn follow(&mut self, id: &str, start: LogStart) {
        let (service, tx, wid) = (self.service.clone(), self.log_tx.clone(), id.to_string());
        let spec = FollowSpec {
            id: id.to_string(),
            streams: LogStreams::Stdout,
            start,
            follow: true,
            run: None,
        };
        let changes = self.service.subscribe();
        self.generation += 1;
        let generation = self.generation;
        let task = tokio::spawn(async move {
            let map_id = wid.clone();
            let _ = follow_log(&service, spec, changes, &tx, move |item| {
                FromFollower::Log {
                    id: map_id.clone(),
                    item,
                }
            })
            .await;
            let ended = FromFollower::Ended {
                id: wid,
                generation,
            };
            let _ = tx.send(Ok(ended)).await;
        });
        self.followers
            .insert(id.to_string(), (generation, Follower(task)));
    }

    /// A client message; the replies to send.
    fn on_client(&mut self, text: &str) -> Outgoing {
        let Ok(Value::Object(m)) = serde_json::from_str::<Value>(text) else {
            return invalid("Invalid message format. Expected JSON with \"type\" field.");
        };
        let id = || match m.get("workOrderId") {
            Some(Value::String(id)) if validate_id(id).is_ok() => Ok(id.clone()),
            _ => Err("workOrderId must be a work order id".to_string()),
        };
        match m.get("type").and_then(Value::as_str) {
            Some("ping") => Outgoing::Pong { timestamp: now() },
            Some(kind @ ("subscribe" | "unsubscribe"))
                if m.get("workOrderId").and_then(Value::as_str) == Some(ALL) =>
            {
                self.all = kind == "subscribe";
                let (work_order_id, timestamp) = (ALL.to_string(), now());
                if self.all {
                    Outgoing::SubscriptionConfirmed {
                        work_order_id,
                        timestamp,
                    }
                } else {
                    Outgoing::UnsubscriptionConfirmed {
                        work_order_id,
                        timestamp,
                    }
                }
            }
            Some("subscribe") => {
                let id = match id() {
                    Ok(id) => id,
                    Err(e) => return invalid(&e),
                };
                let filters = match parse_filters(m.get("filters")) {
                    Ok(f) => f,
                    Err(e) => return invalid(&e),
                };
                if !self.subscriptions.contains_key(&id)
                    && self.subscriptions.len() >= MAX_SUBSCRIPTIONS
                {
                    return invalid(&format!(
                        "at most {MAX_SUBSCRIPTIONS} subscriptions per connection"
                    ));
                }
                self.subscriptions.insert(id.clone(), filters);
                if !filters.wants_agent_events() {
                    self.followers.remove(&id);
                } else if !self.followers.contains_key(&id) {
                    // Followed once it is known to be running (see `session`).
                    self.to_check.push(id.clone());
                }
                Outgoing::SubscriptionConfirmed {
                    work_order_id: id,
                    timestamp: now(),
                }
            }
            Some("unsubscribe") => {
                let id = match id() {
                    Ok(id) => id,
                    Err(e) => return invalid(&e),
                };
                self.subscriptions.remove(&id);
                self.followers.remove(&id);
                self.agents.remove(&id);
                Outgoing::UnsubscriptionConfirmed {
                    work_order_id: id,
                    timestamp: now(),
                }
            }
            _ => invalid("Invalid message format. Expected JSON with \"type\" field."),
        }
    }

    /// The messages a status change means for this session.
    fn on_change(&mut self, change: &StatusChange) -> Vec<Outgoing> {
        let subscribed = self.subscriptions.get(&change.id).copied();
        // Lifecycle events carry the time of the change itself.
        let at = change.at.to_rfc3339();
        let mut out = Vec::new();
        for ev in change.events() {
            let id = change.id.clone();
            match ev {
                QueueEvent::Created {
                    task_prompt,
                    status,
                } => out.push(Outgoing::WorkOrderCreated {
                    work_order_id: id,
                    task_prompt,
                    status: status.api(),
                    timestamp: at.clone(),
                }),
                _ if subscribed.is_none() && !self.all => {}
                QueueEvent::Updated {
                    status,
                    previous,
                    merge,
                } => out.push(Outgoing::WorkOrderUpdated {
                    work_order_id: id,
                    status: status.api(),
                    previous_status: previous.api(),
                    merge,
                    timestamp: at.clone(),
                }),
                QueueEvent::RunStarted { run_id, run_number } => {
                    // Every run is followed from its start; a follower still
                    // there belongs to an earlier run (ended or ending).
                    if subscribed.is_some_and(|f| f.wants_agent_events()) {
                        self.follow(&id, LogStart::Beginning);
                    }
                    out.push(Outgoing::RunStarted {
                        work_order_id: id,
                        run_id,
                        run_number,
                        timestamp: at.clone(),
                    })
                }
                QueueEvent::RunCompleted { run_id } => out.push(Outgoing::RunCompleted {
                    work_order_id: id,
                    run_id,
                    timestamp: at.clone(),
                }),
                QueueEvent::RunFailed { run_id, error } => out.push(Outgoing::RunFailed {
                    work_order_id: id,
                    run_id,
                    error,
                    iteration_number: 1,
                    timestamp: at.clone(),
                }),
                QueueEvent::Purged => {}
            }
        }
        out
    }

    fn on_follower(&mut self, msg: FromFollower) -> Vec<Outgoing> {
        match msg {
            FromFollower::Log { id, item } => {
                let Some(filters) = self.subscriptions.get(&id).copied() else {
                    return Vec::new();
                };
                let events = self.agents.entry(id.clone()).or_default().feed(&item);
                events
                    .into_iter()
                    .filter_map(|ev| agent_message(&id, &filters, ev))
                    .collect()
            }
            FromFollower::Ended { id, generation } => {
                if self
                    .followers
                    .get(&id)
                    .is_some_and(|(g, _)| *g == generation)
                {
                    self.followers.remove(&id);
                }
                Vec::new()
            }
        }
    }
}

/// Sends one message within `SLOW_CLIENT`; false: the client is gone or too slow.
async fn send<S>(sink: &mut S, msg: &Outgoing) -> bool
where
    S: futures::Sink<Message> + Unpin,
{
    let text = match serde_json::to_string(msg) {
        Ok(t) => t,
        Err(_) => return true,
    };
    matches!(
        tokio::time::timeout(SLOW_CLIENT, sink.send(Message::text(text))).await,
        Ok(Ok(()))
    )
}

async fn session(st: AppState, socket: WebSocket, mut changes: broadcast::Receiver<StatusChange>) {
    let (mut sink, mut stream) = socket.split();
    let (log_tx, mut log_rx) = mpsc::channel(LOG_BUFFER);
    let mut s = Session {
        service: st.service.clone(),
        subscriptions: HashMap::new(),
        all: false,
        followers: HashMap::new(),
        generation: 0,
        to_check: Vec::new(),
        agents: HashMap::new(),
        log_tx,
    };
    let mut shutdown = st.shutdown.clone();
    let close = |code: u16, reason: &'static str| {
        Message::Close(Some(CloseFrame {
            code,
            reason: reason.into(),
        }))
    };
    loop {
        let out: Vec<Outgoing> = tokio::select! {
            msg = stream.next() => match msg {
                Some(Ok(Message::Text(t))) => vec![s.on_client(t.as_str())],
                Some(Ok(Message::Binary(_))) => vec![invalid("send JSON text messages")],
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
            },
            change = changes.recv() => match change {
                Ok(c) => s.on_change(&c),
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    tracing::info!(missed = n, "WebSocket client too slow for the event stream; dropped");
                    let _ = send(&mut sink, &Outgoing::Error {
                        code: "INTERNAL_ERROR",
                        message: format!("too slow: {n} events missed; reconnect"),
                        timestamp: now(),
                    }).await;
                    let _ = sink.send(close(1008, "too slow")).await;
                    return;
                }
                Err(broadcast::error::RecvError::Closed) => {
                    let _ = sink.send(close(1001, "shutting down")).await;
                    return;
                }
            },
            Some(item) = log_rx.recv() => match item {
                Ok(msg) => s.on_follower(msg),
                Err(_) => continue,
            },
            _ = shutdown.deadline() => {
                let _ = tokio::time::timeout(Duration::from_millis(200), sink.send(close(1001, "shutting down"))).await;
                return;
            }
        };
        for msg in &out {
            if !send(&mut sink, msg).await {
                tracing::info!("WebSocket client too slow or gone; dropped");
                return;
            }
        }
        // A run that started before this subscription: its output from now
        // on (one that starts later is followed on its `run_started`).
        for id in std::mem::take(&mut s.to_check) {
            let running = s
                .service
                .call(crate::service::ShowRequest { id: id.clone() })
                .await
                .is_ok_and(|d| {
                    d.work_order.status.api() == Status::Running
                        && d.work_order.current_run_id.is_some()
                });
            if running && !s.followers.contains_key(&id) && s.subscriptions.contains_key(&id) {
                s.follow(&id, LogStart::Now);
            }
        }
    }
}
