//! Health and queue routes: `/health`, `/health/live`, `/health/ready` (no
//! key) and `/api/v1/queue/{health,stats,position}`. Every figure comes from
//! the service; these only choose the status code and shape. As AgentGate
//! does, an unhealthy queue and a daemon that is not ready answer 503 with
//! the success envelope.

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use super::AppState;
use super::envelope::*;
use super::parse::{json_object, opt_bool, opt_u64, path_id};
use super::routes::body_or_error;
use super::routes::try_resp;
use crate::model::Timestamp;
use crate::service::ConfigChange;
use crate::service::api::{HealthJson, PositionJson, QueueConfigJson, QueueStatsJson};

/// Queue health: 503 (same envelope) when unhealthy.
#[utoipa::path(get, path = "/api/v1/queue/health", tag = "queue",
    responses(
        (status = 200, description = "Healthy or degraded", body = Envelope<HealthJson>),
        (status = 503, description = "Unhealthy: not accepting work", body = Envelope<HealthJson>),
        (status = "default", description = "Error", body = ErrorEnvelope),
    ),
    security(("bearer" = []), ("apiKey" = [])))]
pub async fn queue_health(State(st): State<AppState>, RequestId(rid): RequestId) -> Response {
    match st.service.call(crate::service::HealthRequest).await {
        Ok(h) => {
            let status = if h.status == "unhealthy" {
                StatusCode::SERVICE_UNAVAILABLE
            } else {
                StatusCode::OK
            };
            ok(&rid, status, h.to_json())
        }
        Err(e) => service_error(&rid, e),
    }
}

/// AgentGate's queue statistics.
#[utoipa::path(get, path = "/api/v1/queue/stats", tag = "queue",
    responses(
        (status = 200, description = "Statistics", body = Envelope<QueueStatsJson>),
        (status = "default", description = "Error", body = ErrorEnvelope),
    ),
    security(("bearer" = []), ("apiKey" = [])))]
pub async fn queue_stats(State(st): State<AppState>, RequestId(rid): RequestId) -> Response {
    match st.service.call(crate::service::HealthRequest).await {
        Ok(h) => ok(&rid, StatusCode::OK, json!(h.stats())),
        Err(e) => service_error(&rid, e),
    }
}

/// Where a queued or running work order stands (404 for any other).
#[utoipa::path(get, path = "/api/v1/queue/position/{id}", tag = "queue",
    params(("id" = String, Path, description = "Work order id", pattern = "^[A-Za-z0-9_-]{1,64}$")),
    responses(
        (status = 200, description = "Its place", body = Envelope<PositionJson>),
        (status = "default", description = "Error", body = ErrorEnvelope),
    ),
    security(("bearer" = []), ("apiKey" = [])))]
pub async fn position(
    State(st): State<AppState>,
    RequestId(rid): RequestId,
    id: Result<Path<String>, PathRejection>,
) -> Response {
    let id = try_resp!(&rid, path_id(id));
    match st
        .service
        .call(crate::service::PositionRequest { id })
        .await
    {
        Ok(p) => ok(&rid, StatusCode::OK, p.to_json()),
        Err(e) => service_error(&rid, e),
    }
}

async fn change(st: &AppState, rid: &str, change: ConfigChange) -> Response {
    match st.service.call(change).await {
        Ok(c) => ok(rid, StatusCode::OK, c.to_json()),
        Err(e) => service_error(rid, e),
    }
}

/// Pause admission: queued work stays queued, running work is untouched
/// (persisted across restarts).
#[utoipa::path(post, path = "/api/v1/queue/pause", tag = "queue",
    responses(
        (status = 200, description = "The settings now in force", body = Envelope<QueueConfigJson>),
        (status = "default", description = "Error", body = ErrorEnvelope),
    ),
    security(("bearer" = []), ("apiKey" = [])))]
pub async fn pause(State(st): State<AppState>, RequestId(rid): RequestId) -> Response {
    let c = ConfigChange {
        paused: Some(true),
        ..ConfigChange::default()
    };
    change(&st, &rid, c).await
}

/// Resume admission.
#[utoipa::path(post, path = "/api/v1/queue/resume", tag = "queue",
    responses(
        (status = 200, description = "The settings now in force", body = Envelope<QueueConfigJson>),
        (status = "default", description = "Error", body = ErrorEnvelope),
    ),
    security(("bearer" = []), ("apiKey" = [])))]
pub async fn resume(State(st): State<AppState>, RequestId(rid): RequestId) -> Response {
    let c = ConfigChange {
        paused: Some(false),
        ..ConfigChange::default()
    };
    change(&st, &rid, c).await
}

/// Admission settings in force, as configured, and which were changed live.
#[utoipa::path(get, path = "/api/v1/queue/config", tag = "queue",
    responses(
        (status = 200, description = "The settings now in force", body = Envelope<QueueConfigJson>),
        (status = "default", description = "Error", body = ErrorEnvelope),
    ),
    security(("bearer" = []), ("apiKey" = [])))]
pub async fn config(State(st): State<AppState>, RequestId(rid): RequestId) -> Response {
    change(&st, &rid, ConfigChange::default()).await
}

/// `PATCH /api/v1/queue/config` body: each field optional.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
pub struct ConfigPatch {
    #[schema(minimum = 1, maximum = 10000)]
    max_concurrent: Option<u64>,
    /// At most a day.
    #[schema(minimum = 0, maximum = 86400000)]
    stagger_delay_ms: Option<u64>,
    /// At most 1 PiB.
    #[schema(minimum = 0, maximum = 1125899906842624_u64)]
    min_memory_bytes: Option<u64>,
    paused: Option<bool>,
    /// Drop every live change (back to flags, env and config file).
    reset: Option<bool>,
}

/// Change admission settings in the running daemon (persisted in the root).
#[utoipa::path(patch, path = "/api/v1/queue/config", tag = "queue",
    request_body = ConfigPatch,
    responses(
        (status = 200, description = "The settings now in force", body = Envelope<QueueConfigJson>),
        (status = "default", description = "Error", body = ErrorEnvelope),
    ),
    security(("bearer" = []), ("apiKey" = [])))]
pub async fn config_patch(
    State(st): State<AppState>,
    RequestId(rid): RequestId,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    const FIELDS: [&str; 5] = [
        "maxConcurrent",
        "staggerDelayMs",
        "minMemoryBytes",
        "paused",
        "reset",
    ];
    let body = try_resp!(&rid, body_or_error(body));
    let m = try_resp!(&rid, json_object(&body, false));
    if let Some(k) = m.keys().find(|k| !FIELDS.contains(&k.as_str())) {
        return bad(
            k,
            format!("unknown setting {k:?}; known: {}", FIELDS.join(", ")),
        )
        .respond(&rid);
    }
    let c = ConfigChange {
        paused: try_resp!(&rid, opt_bool(&m, "paused")),
        max_concurrent: try_resp!(&rid, opt_u64(&m, "maxConcurrent")),
        stagger_delay_ms: try_resp!(&rid, opt_u64(&m, "staggerDelayMs")),
        min_memory_bytes: try_resp!(&rid, opt_u64(&m, "minMemoryBytes")),
        reset: try_resp!(&rid, opt_bool(&m, "reset")).unwrap_or(false),
    };
    change(&st, &rid, c).await
}

#[derive(Serialize, ToSchema)]
pub struct RootHealthJson {
    /// ok, or shutting_down.
    status: String,
    version: String,
    /// The queue's health status.
    queue: String,
    #[schema(format = DateTime)]
    timestamp: String,
}

/// The daemon is up (no key).
#[utoipa::path(get, path = "/health", tag = "health",
    responses(
        (status = 200, description = "Up", body = Envelope<RootHealthJson>),
        (status = "default", description = "Error", body = ErrorEnvelope),
    ))]
pub async fn health_root(State(st): State<AppState>, RequestId(rid): RequestId) -> Response {
    match st.service.call(crate::service::HealthRequest).await {
        Ok(h) => {
            let data = RootHealthJson {
                status: if h.shutting_down {
                    "shutting_down"
                } else {
                    "ok"
                }
                .into(),
                version: env!("CARGO_PKG_VERSION").into(),
                queue: h.status,
                timestamp: Timestamp::now().to_rfc3339(),
            };
            ok(&rid, StatusCode::OK, json!(data))
        }
        Err(e) => service_error(&rid, e),
    }
}

/// AgentGate's liveness (`alive`, `timestamp`) and ours (`status`).
#[derive(Serialize, ToSchema)]
pub struct LiveJson {
    alive: bool,
    #[schema(format = DateTime)]
    timestamp: String,
    /// Always `alive`.
    status: String,
}

/// Liveness (no key): answers while the process serves at all.
#[utoipa::path(get, path = "/health/live", tag = "health",
    responses((status = 200, description = "Alive", body = Envelope<LiveJson>)))]
pub async fn health_live(RequestId(rid): RequestId) -> Response {
    let data = LiveJson {
        alive: true,
        timestamp: Timestamp::now().to_rfc3339(),
        status: "alive".into(),
    };
    ok(&rid, StatusCode::OK, json!(data))
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CheckJson {
    name: String,
    healthy: bool,
    message: String,
}

/// AgentGate's readiness (`ready`, `checks`, `timestamp`) and ours (`status`).
#[derive(Serialize, ToSchema)]
pub struct ReadyJson {
    ready: bool,
    checks: Vec<CheckJson>,
    #[schema(format = DateTime)]
    timestamp: String,
    /// ready, or not_ready.
    status: String,
}

/// Readiness (no key): 503 (success envelope) while shutting down.
#[utoipa::path(get, path = "/health/ready", tag = "health",
    responses(
        (status = 200, description = "Ready", body = Envelope<ReadyJson>),
        (status = 503, description = "Not ready (shutting down)", body = Envelope<ReadyJson>),
        (status = "default", description = "Error", body = ErrorEnvelope),
    ))]
pub async fn health_ready(State(st): State<AppState>, RequestId(rid): RequestId) -> Response {
    // No answer: the actor is gone, shutting down.
    let h = st.service.call(crate::service::HealthRequest).await.ok();
    let serving = h.as_ref().is_some_and(|h| !h.shutting_down);
    let mut checks = vec![CheckJson {
        name: "daemon".into(),
        healthy: serving,
        message: if serving {
            "accepting work".into()
        } else {
            "the daemon is shutting down".into()
        },
    }];
    if let Some(h) = &h {
        for e in &h.executors {
            checks.push(CheckJson {
                name: format!("executor:{}", e.name),
                healthy: e.healthy,
                message: e.detail.clone(),
            });
        }
    }
    let data = ReadyJson {
        ready: serving,
        checks,
        timestamp: Timestamp::now().to_rfc3339(),
        status: if serving { "ready" } else { "not_ready" }.into(),
    };
    let status = if serving {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    ok(&rid, status, json!(data))
}
