//! Queue routes: `/api/v1/queue/{health,stats,position,pause,resume,config}`.
//! Every figure comes from the service; these only choose the status code
//! and shape. As AgentGate does, an unhealthy queue answers 503 with the
//! success envelope.

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;

use super::AppState;
use super::envelope::*;
use super::parse::{json_body, path_id};
use super::routes::body_or_error;
use super::routes::try_resp;
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

/// `PATCH /api/v1/queue/config` body: each field optional; an unknown one
/// is refused (a misspelt setting must not be silently ignored).
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
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
    let body = try_resp!(&rid, body_or_error(body));
    let p = try_resp!(&rid, json_body::<ConfigPatch>(&body, false));
    let c = ConfigChange {
        paused: p.paused,
        max_concurrent: p.max_concurrent,
        stagger_delay_ms: p.stagger_delay_ms,
        min_memory_bytes: p.min_memory_bytes,
        reset: p.reset.unwrap_or(false),
    };
    change(&st, &rid, c).await
}
