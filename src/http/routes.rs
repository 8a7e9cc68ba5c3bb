//! The router and the work-order routes. Each handler parses its request
//! (every failure a 400 naming the field), makes one service call and wraps
//! the result in the envelope; the `#[utoipa::path]` on each is its entry in
//! the OpenAPI document.

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{DefaultBodyLimit, Path, RawQuery, Request, State};
use axum::http::StatusCode;
use axum::middleware;
use axum::response::Response;
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::json;
use utoipa::{IntoParams, ToSchema};

use super::envelope::*;
use super::parse::*;
use super::submit_body::SubmitBody;
use super::{
    AppState, compat, dashboard, followup, front, health, land, openapi, ops, profiles, queue,
    runs, sse, ws,
};
use crate::service::api::{
    CancelJson, KillJson, PageJson, PurgeJson, StartJson, WorkOrderDetailJson,
};
use crate::service::*;

/// Longest grace period a kill may ask for (1 hour); the request waits for it.
const MAX_GRACE_MS: u64 = 3_600_000;

type WorkOrder = crate::model::work_order::WorkOrderApi<'static>;

pub fn router(state: AppState) -> Router {
    Router::new()
        .route(
            "/api/v1/work-orders",
            post(submit).get(list).delete(batch_delete),
        )
        .route("/api/v1/work-orders/purge", post(batch_purge))
        .route("/api/v1/work-orders/{id}", get(show).delete(delete_one))
        .route("/api/v1/work-orders/{id}/cancel", post(cancel))
        .route("/api/v1/work-orders/{id}/kill", post(kill))
        .route("/api/v1/work-orders/{id}/diff", get(land::diff))
        .route("/api/v1/work-orders/{id}/merge", post(land::merge))
        .route("/api/v1/work-orders/{id}/discard", post(land::discard))
        .route("/api/v1/work-orders/{id}/push", post(land::push))
        .route("/api/v1/work-orders/{id}/runs", post(start))
        .route(
            "/api/v1/work-orders/{id}/continue",
            post(followup::continue_session),
        )
        .route("/api/v1/work-orders/{id}/restart", post(followup::restart))
        .route(
            "/api/v1/work-orders/{id}/audit",
            get(compat::work_order_audit),
        )
        .route("/api/v1/runs", get(runs::list))
        .route("/api/v1/runs/{id}", get(runs::get_run))
        .route("/api/v1/runs/{id}/config", get(compat::run_config))
        .route("/api/v1/runs/{id}/stream", get(sse::stream))
        .route("/api/v1/audit/runs/{id}", get(compat::audit_record))
        .route(
            "/api/v1/audit/runs/{id}/snapshots",
            get(compat::audit_snapshots),
        )
        .route(
            "/api/v1/audit/runs/{id}/changes",
            get(compat::audit_changes),
        )
        .route(
            "/api/v1/profiles",
            get(profiles::list).post(profiles::create),
        )
        .route(
            "/api/v1/profiles/{name}",
            get(profiles::get_one)
                .put(profiles::update)
                .delete(profiles::delete),
        )
        .route("/api/v1/profiles/{name}/validate", post(profiles::validate))
        .route("/api/v1/stats", get(ops::stats))
        .route("/api/v1/queue/health", get(queue::queue_health))
        .route("/api/v1/queue/stats", get(queue::queue_stats))
        .route("/api/v1/queue/position/{id}", get(queue::position))
        .route("/api/v1/queue/pause", post(queue::pause))
        .route("/api/v1/queue/resume", post(queue::resume))
        .route(
            "/api/v1/queue/config",
            get(queue::config).patch(queue::config_patch),
        )
        .route("/api/v1/openapi.json", get(openapi::document))
        .route("/health", get(health::health_root))
        .route("/health/live", get(health::health_live))
        .route("/health/ready", get(health::health_ready))
        .route("/ws", get(ws::upgrade))
        .route("/", get(dashboard::index))
        .route("/assets/{name}", get(dashboard::asset))
        .route(dashboard::LOGIN_PATH, post(dashboard::login))
        .route("/dashboard/session", get(dashboard::session))
        .route("/dashboard/logout", post(dashboard::logout))
        .route_service("/mcp", super::mcp::service(&state))
        // A known path with a method it does not serve is an unknown route too
        // (as AgentGate answers it): 404 in the envelope, never a bare 405.
        .method_not_allowed_fallback(not_found_route)
        .fallback(not_found_route)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(middleware::from_fn_with_state(state.clone(), front::front))
        .with_state(state)
}

/// Unwraps a parse step or answers with its error.
macro_rules! try_resp {
    ($rid:expr, $e:expr) => {
        match $e {
            Ok(v) => v,
            Err(err) => return ApiError::respond(err, $rid),
        }
    };
}
pub(crate) use try_resp;

/// Body bytes, turning a too-large body into 413 and other failures into 400.
pub fn body_or_error(body: Result<Bytes, BytesRejection>) -> Result<Bytes, ApiError> {
    body.map_err(|rej| {
        if rej.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::TooLarge
        } else {
            bad("body", format!("cannot read request body: {rej}"))
        }
    })
}

/// Submit a work order.
#[utoipa::path(post, path = "/api/v1/work-orders", tag = "work orders",
    request_body = SubmitBody,
    responses(
        (status = 201, description = "Queued (or already running)", body = Envelope<WorkOrder>),
        (status = "default", description = "Error", body = ErrorEnvelope),
    ),
    security(("bearer" = []), ("apiKey" = [])))]
pub async fn submit(
    State(st): State<AppState>,
    RequestId(rid): RequestId,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let body = try_resp!(&rid, body_or_error(body));
    let req = try_resp!(&rid, json_body::<SubmitBody>(&body, false)).into_request();
    created(&rid, st.service.call(req).await)
}

/// Query of `GET /api/v1/work-orders`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct ListParams {
    /// queued, running, succeeded, failed or canceled; repeat or comma-separate for several.
    status: Option<String>,
    /// Only work orders carrying this label; repeat or comma-separate: all of them.
    label: Option<String>,
    /// 1-1000 (default 20).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u32>,
    #[param(minimum = 0, maximum = 2147483647)]
    offset: Option<u32>,
}

/// List work orders, newest first.
#[utoipa::path(get, path = "/api/v1/work-orders", tag = "work orders", params(ListParams),
    responses(
        (status = 200, description = "A page of work orders", body = Envelope<PageJson<WorkOrder>>),
        (status = "default", description = "Error", body = ErrorEnvelope),
    ),
    security(("bearer" = []), ("apiKey" = [])))]
pub async fn list(
    State(st): State<AppState>,
    RequestId(rid): RequestId,
    RawQuery(q): RawQuery,
) -> Response {
    let pairs = try_resp!(&rid, query_pairs(&q));
    let statuses = try_resp!(&rid, query_statuses(&pairs));
    let (limit, offset) = try_resp!(&rid, query_page(&pairs));
    let query = ListQuery {
        statuses,
        labels: query_labels(&pairs),
        limit: Some(limit),
        offset,
        id_prefix: None,
    };
    match st.service.call(query).await {
        Ok(page) => ok(&rid, StatusCode::OK, page.to_json()),
        Err(e) => service_error(&rid, e),
    }
}

/// One work order with its runs.
#[utoipa::path(get, path = "/api/v1/work-orders/{id}", tag = "work orders",
    params(("id" = String, Path, description = "Work order id", pattern = "^[A-Za-z0-9_-]{1,64}$")),
    responses(
        (status = 200, description = "The work order", body = Envelope<WorkOrderDetailJson>),
        (status = "default", description = "Error", body = ErrorEnvelope),
    ),
    security(("bearer" = []), ("apiKey" = [])))]
pub async fn show(
    State(st): State<AppState>,
    RequestId(rid): RequestId,
    id: Result<Path<String>, PathRejection>,
) -> Response {
    let id = try_resp!(&rid, path_id(id));
    match st.service.call(crate::service::ShowRequest { id }).await {
        Ok(d) => ok(&rid, StatusCode::OK, d.to_json()),
        Err(e) => service_error(&rid, e),
    }
}

/// `{id, purged}` of `DELETE /api/v1/work-orders/{id}?purge=true`.
#[derive(serde::Serialize, ToSchema)]
pub struct PurgedJson {
    id: String,
    purged: bool,
}

#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct DeleteParams {
    /// `true`: delete the work order for good instead of canceling it.
    purge: Option<bool>,
}

/// What `DELETE /api/v1/work-orders/{id}` answers: a cancel, or a purge.
#[derive(serde::Serialize, ToSchema)]
#[serde(untagged)]
#[allow(dead_code)]
pub enum DeleteJson {
    Canceled(CancelJson),
    Purged(PurgedJson),
}

/// Cancel a work order (409 once it has ended), or with `purge=true` delete it.
#[utoipa::path(delete, path = "/api/v1/work-orders/{id}", tag = "work orders",
    params(("id" = String, Path, description = "Work order id", pattern = "^[A-Za-z0-9_-]{1,64}$"), DeleteParams),
    responses(
        (status = 200, description = "Canceled (or purged: `{id, purged}`)", body = Envelope<DeleteJson>),
        (status = "default", description = "Error", body = ErrorEnvelope),
    ),
    security(("bearer" = []), ("apiKey" = [])))]
pub async fn delete_one(
    State(st): State<AppState>,
    RequestId(rid): RequestId,
    id: Result<Path<String>, PathRejection>,
    RawQuery(q): RawQuery,
) -> Response {
    let id = try_resp!(&rid, path_id(id));
    let pairs = try_resp!(&rid, query_pairs(&q));
    if try_resp!(&rid, query_flag(&pairs, "purge")) {
        let req = PurgeRequest {
            ids: vec![id.clone()],
            statuses: vec![],
            older_than_ms: None,
            dry_run: false,
            ..PurgeRequest::default()
        };
        return match st.service.call(req).await {
            Ok(p) if p.deleted_ids.contains(&id) => {
                let data = PurgedJson { id, purged: true };
                ok(&rid, StatusCode::OK, json!(data))
            }
            Ok(_) => service_error(
                &rid,
                ServiceError::invalid_state(format!("work order {id} could not be purged")),
            ),
            Err(e) => service_error(&rid, e),
        };
    }
    cancel_inner(&st, &rid, id).await
}

/// Cancel a work order.
#[utoipa::path(post, path = "/api/v1/work-orders/{id}/cancel", tag = "work orders",
    params(("id" = String, Path, description = "Work order id", pattern = "^[A-Za-z0-9_-]{1,64}$")),
    responses(
        (status = 200, description = "Canceled", body = Envelope<CancelJson>),
        (status = "default", description = "Error", body = ErrorEnvelope),
    ),
    security(("bearer" = []), ("apiKey" = [])))]
pub async fn cancel(
    State(st): State<AppState>,
    RequestId(rid): RequestId,
    id: Result<Path<String>, PathRejection>,
) -> Response {
    let id = try_resp!(&rid, path_id(id));
    cancel_inner(&st, &rid, id).await
}

async fn cancel_inner(st: &AppState, rid: &str, id: String) -> Response {
    match st.service.call(crate::service::CancelRequest { id }).await {
        Ok(c) => ok(rid, StatusCode::OK, c.to_json()),
        Err(e) => service_error(rid, e),
    }
}

/// The body of a kill (all optional; an empty body is `{}`).
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct KillBody {
    /// SIGTERM to SIGKILL wait, 0-3600000 ms (default: the daemon's grace period).
    #[schema(maximum = 3600000)]
    grace_period_ms: Option<u64>,
    /// SIGKILL at once.
    immediate: Option<bool>,
    reason: Option<String>,
}

#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct KillParams {
    /// `true`: SIGKILL at once.
    force: Option<bool>,
}

/// Stop a work order's process tree (an ended one: 200, nothing stopped).
#[utoipa::path(post, path = "/api/v1/work-orders/{id}/kill", tag = "work orders",
    params(("id" = String, Path, description = "Work order id", pattern = "^[A-Za-z0-9_-]{1,64}$"), KillParams),
    request_body(content = Option<KillBody>, content_type = "application/json"),
    responses(
        (status = 200, description = "Killed (or had already ended)", body = Envelope<KillJson>),
        (status = "default", description = "Error", body = ErrorEnvelope),
    ),
    security(("bearer" = []), ("apiKey" = [])))]
pub async fn kill(
    State(st): State<AppState>,
    RequestId(rid): RequestId,
    id: Result<Path<String>, PathRejection>,
    RawQuery(q): RawQuery,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let id = try_resp!(&rid, path_id(id));
    let body = try_resp!(&rid, body_or_error(body));
    let kb = try_resp!(&rid, json_body::<KillBody>(&body, true));
    let pairs = try_resp!(&rid, query_pairs(&q));
    // Both are checked, whichever asks for force.
    let force = try_resp!(&rid, query_flag(&pairs, "force")) || kb.immediate.unwrap_or(false);
    let req = KillRequest {
        id,
        force,
        grace_ms: match kb.grace_period_ms {
            Some(ms) if ms > MAX_GRACE_MS => {
                return bad(
                    "gracePeriodMs",
                    format!("gracePeriodMs {ms} is out of range: 0-{MAX_GRACE_MS}"),
                )
                .respond(&rid);
            }
            other => other,
        },
        reason: kb.reason,
    };
    match st.service.call(req).await {
        Ok(k) => ok(&rid, StatusCode::OK, k.to_json()),
        Err(e) => service_error(&rid, e),
    }
}

/// Start a queued work order now, or retry a failed one.
#[utoipa::path(post, path = "/api/v1/work-orders/{id}/runs", tag = "work orders",
    params(("id" = String, Path, description = "Work order id", pattern = "^[A-Za-z0-9_-]{1,64}$")),
    responses(
        (status = 202, description = "Started", body = Envelope<StartJson>),
        (status = "default", description = "Error", body = ErrorEnvelope),
    ),
    security(("bearer" = []), ("apiKey" = [])))]
pub async fn start(
    State(st): State<AppState>,
    RequestId(rid): RequestId,
    id: Result<Path<String>, PathRejection>,
) -> Response {
    let id = try_resp!(&rid, path_id(id));
    match st.service.call(crate::service::StartRequest { id }).await {
        Ok(s) => ok(&rid, StatusCode::ACCEPTED, s.to_json()),
        Err(e) => service_error(&rid, e),
    }
}

/// The body of a batch purge. With no filter it purges every ended work order.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PurgeBody {
    statuses: Option<Vec<crate::model::Status>>,
    #[schema(minimum = 0)]
    older_than_days: Option<f64>,
    dry_run: Option<bool>,
}

/// Purge work orders for good.
#[utoipa::path(post, path = "/api/v1/work-orders/purge", tag = "work orders",
    request_body(content = Option<PurgeBody>, content_type = "application/json"),
    responses(
        (status = 200, description = "Purged (or, dry run, would purge)", body = Envelope<PurgeJson>),
        (status = "default", description = "Error", body = ErrorEnvelope),
    ),
    security(("bearer" = []), ("apiKey" = [])))]
pub async fn batch_purge(
    State(st): State<AppState>,
    RequestId(rid): RequestId,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let body = try_resp!(&rid, body_or_error(body));
    let pb = try_resp!(&rid, json_body::<PurgeBody>(&body, true));
    let older_than_ms = match pb.older_than_days {
        None => None,
        Some(d) if d >= 0.0 && d.is_finite() => Some((d * 86_400_000.0) as u64),
        Some(_) => {
            return bad(
                "olderThanDays",
                "olderThanDays must be a non-negative number",
            )
            .respond(&rid);
        }
    };
    let req = PurgeRequest {
        ids: vec![],
        statuses: pb.statuses.unwrap_or_default(),
        older_than_ms,
        dry_run: pb.dry_run.unwrap_or(false),
        ..PurgeRequest::default()
    };
    match st.service.call(req).await {
        Ok(p) => ok(&rid, StatusCode::OK, p.to_json()),
        Err(e) => service_error(&rid, e),
    }
}

#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct BatchDeleteParams {
    /// Must be `true`.
    purge: Option<bool>,
    /// Statuses to purge, repeated or comma-separated.
    status: Option<String>,
    #[param(rename = "dryRun")]
    dry_run: Option<bool>,
}

/// Purge work orders by status.
#[utoipa::path(delete, path = "/api/v1/work-orders", tag = "work orders", params(BatchDeleteParams),
    responses(
        (status = 200, description = "Purged", body = Envelope<PurgeJson>),
        (status = "default", description = "Error", body = ErrorEnvelope),
    ),
    security(("bearer" = []), ("apiKey" = [])))]
pub async fn batch_delete(
    State(st): State<AppState>,
    RequestId(rid): RequestId,
    RawQuery(q): RawQuery,
) -> Response {
    let pairs = try_resp!(&rid, query_pairs(&q));
    if !try_resp!(&rid, query_flag(&pairs, "purge")) {
        return bad(
            "purge",
            "DELETE /api/v1/work-orders needs purge=true (and optionally status=...)",
        )
        .respond(&rid);
    }
    let statuses = try_resp!(&rid, query_statuses(&pairs));
    let req = PurgeRequest {
        ids: vec![],
        statuses,
        older_than_ms: None,
        dry_run: try_resp!(&rid, query_flag(&pairs, "dryRun")),
        ..PurgeRequest::default()
    };
    match st.service.call(req).await {
        Ok(p) => ok(&rid, StatusCode::OK, p.to_json()),
        Err(e) => service_error(&rid, e),
    }
}

pub async fn not_found_route(req: Request) -> Response {
    let rid = req
        .extensions()
        .get::<RequestId>()
        .map(|r| r.0.clone())
        .unwrap_or_default();
    fail(
        &rid,
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
        &format!("no route for {} {}", req.method(), req.uri().path()),
        None,
    )
}
