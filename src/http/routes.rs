//! Routes, request parsing and the response envelope
//! (`{"success":true,"data":...,"requestId":...}` / `{"success":false,"error":{...}}`).

use std::convert::Infallible;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{DefaultBodyLimit, FromRequestParts, Path, RawQuery, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use bytes::BytesMut;
use futures::StreamExt;
use serde::Serialize;
use serde_json::{Map, Value, json};

use super::auth::authorized;
use crate::model::{Status, WorkspaceInput};
use crate::service::*;

const BODY_LIMIT: usize = 1024 * 1024;
/// Longest grace period a kill may ask for (1 hour); the request waits for it.
const MAX_GRACE_MS: u64 = 3_600_000;

#[derive(Clone)]
pub struct AppState {
    pub service: Service,
    pub key: Arc<String>,
}

/// The request id of this request (from `X-Request-ID`, else generated).
#[derive(Clone)]
struct RequestId(String);

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
        .route("/api/v1/work-orders/{id}/runs", post(start))
        .route("/api/v1/runs/{id}", get(get_run))
        .route("/api/v1/queue/health", get(queue_health))
        .route("/api/v1/queue/pause", post(queue_pause))
        .route("/api/v1/queue/resume", post(queue_resume))
        .route(
            "/api/v1/queue/config",
            get(queue_config).patch(queue_config_patch),
        )
        .route("/health", get(health_root))
        .route("/health/live", get(health_live))
        .route("/health/ready", get(health_ready))
        // A known path with a method it does not serve is an unknown route too
        // (as AgentGate answers it): 404 in the envelope, never a bare 405.
        .method_not_allowed_fallback(not_found_route)
        .fallback(not_found_route)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(middleware::from_fn_with_state(state.clone(), front))
        .with_state(state)
}

fn is_api_path(path: &str) -> bool {
    path == "/api/v1" || path.starts_with("/api/v1/")
}

/// A fresh request id: a random per-process prefix and a counter (cheap: no
/// system call per request, unique across restarts).
fn new_request_id() -> String {
    static PREFIX: OnceLock<String> = OnceLock::new();
    static NEXT: AtomicU64 = AtomicU64::new(1);
    let prefix = PREFIX.get_or_init(|| nanoid::nanoid!(10));
    format!("{prefix}-{}", NEXT.fetch_add(1, Ordering::Relaxed))
}

/// Every request: its id (`X-Request-ID` if sent, else generated; echoed in the
/// header and the envelope), and the API key for the whole `/api/v1` prefix,
/// unknown routes included, so an unauthenticated caller learns nothing about
/// which routes exist.
async fn front(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 200)
        .map(str::to_string)
        .unwrap_or_else(new_request_id);
    let (mut parts, body) = req.into_parts();
    // The whole body is read before anything is answered (a 401, a 404, a
    // handler that takes no body), so no answer leaves unread bytes behind on
    // a keep-alive connection that the client would then reuse.
    let body = read_body(&parts.headers, body).await;
    let denied = if is_api_path(parts.uri.path()) {
        let header = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        (!authorized(header, &state.key)).then_some(header.is_none())
    } else {
        None
    };
    let mut resp = match (denied, body) {
        (Some(missing), body) => {
            let mut r = unauthorized(&id, missing);
            if body.is_err() {
                close(&mut r);
            }
            r
        }
        (None, Err(e)) => {
            let mut r = e.respond(&id);
            close(&mut r);
            r
        }
        (None, Ok(bytes)) => {
            parts.extensions.insert(RequestId(id.clone()));
            next.run(Request::from_parts(parts, Body::from(bytes)))
                .await
        }
    };
    if let Ok(v) = HeaderValue::from_str(&id) {
        resp.headers_mut().insert("x-request-id", v);
    }
    resp
}

/// The body was not read to its end: the connection cannot be reused.
fn close(resp: &mut Response) {
    resp.headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
}

/// Reads a request body of at most `BODY_LIMIT` bytes; more (announced or
/// sent) is `TooLarge`, without reading further.
async fn read_body(headers: &HeaderMap, body: Body) -> Result<Bytes, ApiError> {
    let announced = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if announced.is_some_and(|n| n > BODY_LIMIT as u64) {
        return Err(ApiError::TooLarge);
    }
    let mut stream = body.into_data_stream();
    // One chunk (the usual case) is kept as is; more are joined.
    let mut first: Option<Bytes> = None;
    let mut joined = BytesMut::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| bad("body", format!("cannot read request body: {e}")))?;
        let so_far = first.as_ref().map_or(0, Bytes::len) + joined.len();
        if so_far + chunk.len() > BODY_LIMIT {
            return Err(ApiError::TooLarge);
        }
        match first.take() {
            None if joined.is_empty() => first = Some(chunk),
            Some(f) => {
                joined.extend_from_slice(&f);
                joined.extend_from_slice(&chunk);
            }
            None => joined.extend_from_slice(&chunk),
        }
    }
    Ok(first.unwrap_or_else(|| joined.freeze()))
}

fn unauthorized(rid: &str, missing: bool) -> Response {
    let message = if missing {
        "missing API key: send `Authorization: Bearer <key>` (the key is in <root>/api-key unless configured)"
    } else {
        "wrong API key: send `Authorization: Bearer <key>` (the key is in <root>/api-key unless configured)"
    };
    let mut resp = fail(rid, StatusCode::UNAUTHORIZED, "UNAUTHORIZED", message, None);
    resp.headers_mut()
        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    resp
}

fn rid_of(req: &Request) -> String {
    req.extensions()
        .get::<RequestId>()
        .map(|r| r.0.clone())
        .unwrap_or_default()
}

/// The success envelope, serialised straight from borrowed parts.
#[derive(Serialize)]
struct OkEnvelope<'a> {
    success: bool,
    data: &'a Value,
    #[serde(rename = "requestId")]
    request_id: &'a str,
}

fn ok(rid: &str, status: StatusCode, data: Value) -> Response {
    let body = OkEnvelope {
        success: true,
        data: &data,
        request_id: rid,
    };
    (status, axum::Json(body)).into_response()
}

fn fail(
    rid: &str,
    status: StatusCode,
    code: &str,
    message: &str,
    details: Option<Value>,
) -> Response {
    let mut error = json!({"code": code, "message": message});
    if let (Some(d), Value::Object(m)) = (details, &mut error) {
        m.insert("details".into(), d);
    }
    (
        status,
        axum::Json(json!({"success": false, "error": error, "requestId": rid})),
    )
        .into_response()
}

fn service_error(rid: &str, e: ServiceError) -> Response {
    let (status, code) = match e.code {
        ErrorCode::NotFound => (StatusCode::NOT_FOUND, "NOT_FOUND"),
        ErrorCode::InvalidState => (StatusCode::CONFLICT, "CONFLICT"),
        ErrorCode::BadRequest => (StatusCode::BAD_REQUEST, "BAD_REQUEST"),
        ErrorCode::Unavailable => (StatusCode::SERVICE_UNAVAILABLE, "SERVICE_UNAVAILABLE"),
        ErrorCode::Internal => (StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL_ERROR"),
    };
    let details = e.field.as_ref().map(|f| json!({"field": f}));
    fail(rid, status, code, &e.message, details)
}

/// Why a request could not be turned into a service call.
enum ApiError {
    Service(ServiceError),
    TooLarge,
}

impl ApiError {
    fn respond(self, rid: &str) -> Response {
        match self {
            ApiError::Service(e) => service_error(rid, e),
            ApiError::TooLarge => fail(
                rid,
                StatusCode::PAYLOAD_TOO_LARGE,
                "BAD_REQUEST",
                "request body is larger than 1 MiB",
                Some(json!({"field": "body", "limitBytes": BODY_LIMIT})),
            ),
        }
    }
}

fn bad(field: &str, message: impl Into<String>) -> ApiError {
    ApiError::Service(ServiceError::bad_request(field, message))
}

/// Body bytes, turning a too-large body into 413 and other failures into 400.
fn body_or_error(body: Result<Bytes, BytesRejection>) -> Result<Bytes, ApiError> {
    body.map_err(|rej| {
        if rej.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::TooLarge
        } else {
            bad("body", format!("cannot read request body: {rej}"))
        }
    })
}

/// A JSON object body; an empty body counts as `{}` when `allow_empty`.
fn json_object(body: &[u8], allow_empty: bool) -> Result<Map<String, Value>, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) && allow_empty {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(bad("body", "request body must be a JSON object")),
        Err(e) => Err(bad("body", format!("request body is not valid JSON: {e}"))),
    }
}

fn opt_str(m: &Map<String, Value>, field: &str) -> Result<Option<String>, ApiError> {
    match m.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(bad(field, format!("{field} must be a string"))),
    }
}

fn opt_u64(m: &Map<String, Value>, field: &str) -> Result<Option<u64>, ApiError> {
    match m.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v.as_u64().map(Some).ok_or_else(|| {
            bad(
                field,
                format!("{field} must be a non-negative whole number"),
            )
        }),
    }
}

fn opt_bool(m: &Map<String, Value>, field: &str) -> Result<Option<bool>, ApiError> {
    match m.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(bad(field, format!("{field} must be true or false"))),
    }
}

fn opt_strings(m: &Map<String, Value>, field: &str) -> Result<Vec<String>, ApiError> {
    match m.get(field) {
        None | Some(Value::Null) => Ok(vec![]),
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| {
                i.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| bad(field, format!("{field} must be an array of strings")))
            })
            .collect(),
        Some(_) => Err(bad(field, format!("{field} must be an array of strings"))),
    }
}

fn opt_i32(m: &Map<String, Value>, field: &str) -> Result<Option<i32>, ApiError> {
    match m.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_i64()
            .and_then(|n| i32::try_from(n).ok())
            .map(Some)
            .ok_or_else(|| {
                bad(
                    field,
                    format!(
                        "{field} must be a whole number from {} to {}",
                        i32::MIN,
                        i32::MAX
                    ),
                )
            }),
    }
}

fn query_pairs(q: &Option<String>) -> Result<Vec<(String, String)>, ApiError> {
    match q.as_deref() {
        None | Some("") => Ok(vec![]),
        Some(q) => serde_urlencoded::from_str::<Vec<(String, String)>>(q)
            .map_err(|e| bad("query", format!("cannot parse the query string: {e}"))),
    }
}

/// A path parameter, or a 400 naming it (e.g. invalid percent-encoding).
fn path_id(p: Result<Path<String>, PathRejection>) -> Result<String, ApiError> {
    p.map(|Path(id)| id)
        .map_err(|e| bad("id", format!("invalid id in path: {}", e.body_text())))
}

/// The first non-empty value of `key` (`limit=` counts as not given).
fn query_get<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, v)| k == key && !v.is_empty())
        .map(|(_, v)| v.as_str())
}

fn query_true(pairs: &[(String, String)], key: &str) -> bool {
    matches!(query_get(pairs, key), Some("true" | "1" | "yes"))
}

/// `status=a,b` or `status=a&status=b`.
fn query_statuses(pairs: &[(String, String)]) -> Result<Vec<Status>, ApiError> {
    let mut out = Vec::new();
    for (_, v) in pairs.iter().filter(|(k, _)| k == "status") {
        for s in v.split(',').filter(|s| !s.is_empty()) {
            out.push(s.parse::<Status>().map_err(|e| bad("status", e))?);
        }
    }
    Ok(out)
}

fn statuses_from(v: Option<&Value>) -> Result<Vec<Status>, ApiError> {
    match v {
        None | Some(Value::Null) => Ok(vec![]),
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| {
                i.as_str()
                    .ok_or_else(|| bad("statuses", "statuses must be an array of strings"))
                    .and_then(|s| s.parse::<Status>().map_err(|e| bad("statuses", e)))
            })
            .collect(),
        Some(_) => Err(bad("statuses", "statuses must be an array of strings")),
    }
}

/// Unwraps a parse step or answers with its error (needs `rid` in scope).
macro_rules! try_resp {
    ($rid:expr, $e:expr) => {
        match $e {
            Ok(v) => v,
            Err(err) => return ApiError::respond(err, $rid),
        }
    };
}

/// Extracts the request id the `request_id` middleware stored (never fails).
impl<S: Send + Sync> FromRequestParts<S> for RequestId {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<RequestId>()
            .cloned()
            .unwrap_or_else(|| RequestId(new_request_id())))
    }
}

async fn submit(
    State(st): State<AppState>,
    RequestId(rid): RequestId,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let body = try_resp!(&rid, body_or_error(body));
    let m = try_resp!(&rid, json_object(&body, false));
    let task_prompt = match m.get("taskPrompt") {
        Some(Value::String(s)) => s.clone(),
        None | Some(Value::Null) => {
            return bad("taskPrompt", "taskPrompt is required").respond(&rid);
        }
        Some(_) => return bad("taskPrompt", "taskPrompt must be a string").respond(&rid),
    };
    let workspace_source = match m.get("workspaceSource") {
        None | Some(Value::Null) => None,
        Some(v @ Value::Object(_)) => match serde_json::from_value::<WorkspaceInput>(v.clone()) {
            Ok(w) => Some(w),
            Err(e) => {
                return bad(
                    "workspaceSource",
                    format!(
                        "invalid workspaceSource: {e}; {}",
                        crate::model::workspace::ACCEPTED_FORMS
                    ),
                )
                .respond(&rid);
            }
        },
        Some(_) => {
            return bad(
                "workspaceSource",
                format!(
                    "workspaceSource must be an object; {}",
                    crate::model::workspace::ACCEPTED_FORMS
                ),
            )
            .respond(&rid);
        }
    };
    let max_iterations = try_resp!(&rid, opt_u64(&m, "maxIterations"));
    let req = SubmitRequest {
        task_prompt,
        agent_type: try_resp!(&rid, opt_str(&m, "agentType")),
        workspace_source,
        max_time: try_resp!(&rid, opt_u64(&m, "maxTime")),
        max_iterations: match max_iterations {
            Some(n) => Some(try_resp!(
                &rid,
                u32::try_from(n).map_err(|_| bad("maxIterations", "maxIterations is too large"))
            )),
            None => None,
        },
        depends_on: try_resp!(&rid, opt_strings(&m, "dependsOn")),
        priority: try_resp!(&rid, opt_i32(&m, "priority")).unwrap_or(0),
        labels: try_resp!(&rid, opt_strings(&m, "labels")),
        ..SubmitRequest::default()
    };
    match st.service.submit(req).await {
        Ok(wo) => ok(&rid, StatusCode::CREATED, wo.to_json()),
        Err(e) => service_error(&rid, e),
    }
}

async fn list(
    State(st): State<AppState>,
    RequestId(rid): RequestId,
    RawQuery(q): RawQuery,
) -> Response {
    let pairs = try_resp!(&rid, query_pairs(&q));
    let statuses = try_resp!(&rid, query_statuses(&pairs));
    // `label=a,b` or `label=a&label=b`: every one must be carried.
    let labels: Vec<String> = pairs
        .iter()
        .filter(|(k, _)| k == "label")
        .flat_map(|(_, v)| v.split(',').filter(|s| !s.is_empty()).map(str::to_string))
        .collect();
    let limit = match query_get(&pairs, "limit") {
        None => 20,
        Some(s) => match s.parse::<u32>() {
            Ok(n) if (1..=1000).contains(&n) => n,
            _ => {
                return bad("limit", format!("limit {s:?} is out of range: 1-1000")).respond(&rid);
            }
        },
    };
    let offset = match query_get(&pairs, "offset") {
        None => 0,
        Some(s) => try_resp!(
            &rid,
            s.parse::<u32>().map_err(|_| bad(
                "offset",
                format!("offset {s:?} must be a non-negative whole number")
            ))
        ),
    };
    match st
        .service
        .list(ListQuery {
            statuses,
            labels,
            limit: Some(limit),
            offset,
        })
        .await
    {
        Ok(page) => ok(&rid, StatusCode::OK, page.to_json()),
        Err(e) => service_error(&rid, e),
    }
}

async fn show(
    State(st): State<AppState>,
    RequestId(rid): RequestId,
    id: Result<Path<String>, PathRejection>,
) -> Response {
    let id = try_resp!(&rid, path_id(id));
    match st.service.show(id).await {
        Ok(d) => ok(&rid, StatusCode::OK, d.to_json()),
        Err(e) => service_error(&rid, e),
    }
}

async fn delete_one(
    State(st): State<AppState>,
    RequestId(rid): RequestId,
    id: Result<Path<String>, PathRejection>,
    RawQuery(q): RawQuery,
) -> Response {
    let id = try_resp!(&rid, path_id(id));
    let pairs = try_resp!(&rid, query_pairs(&q));
    if query_true(&pairs, "purge") {
        let req = PurgeRequest {
            ids: vec![id.clone()],
            statuses: vec![],
            older_than_ms: None,
            dry_run: false,
            ..PurgeRequest::default()
        };
        return match st.service.purge(req).await {
            Ok(p) if p.deleted_ids.contains(&id) => {
                ok(&rid, StatusCode::OK, json!({"id": id, "purged": true}))
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

async fn cancel(
    State(st): State<AppState>,
    RequestId(rid): RequestId,
    id: Result<Path<String>, PathRejection>,
) -> Response {
    let id = try_resp!(&rid, path_id(id));
    cancel_inner(&st, &rid, id).await
}

async fn cancel_inner(st: &AppState, rid: &str, id: String) -> Response {
    match st.service.cancel(id).await {
        Ok(c) => ok(rid, StatusCode::OK, c.to_json()),
        Err(e) => service_error(rid, e),
    }
}

async fn kill(
    State(st): State<AppState>,
    RequestId(rid): RequestId,
    id: Result<Path<String>, PathRejection>,
    RawQuery(q): RawQuery,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let id = try_resp!(&rid, path_id(id));
    let body = try_resp!(&rid, body_or_error(body));
    let m = try_resp!(&rid, json_object(&body, true));
    let pairs = try_resp!(&rid, query_pairs(&q));
    let force =
        query_true(&pairs, "force") || try_resp!(&rid, opt_bool(&m, "immediate")).unwrap_or(false);
    let req = KillRequest {
        id,
        force,
        grace_ms: match try_resp!(&rid, opt_u64(&m, "gracePeriodMs")) {
            Some(ms) if ms > MAX_GRACE_MS => {
                return bad(
                    "gracePeriodMs",
                    format!("gracePeriodMs {ms} is out of range: 0-{MAX_GRACE_MS}"),
                )
                .respond(&rid);
            }
            other => other,
        },
        reason: try_resp!(&rid, opt_str(&m, "reason")),
    };
    match st.service.kill(req).await {
        Ok(k) => ok(&rid, StatusCode::OK, k.to_json()),
        Err(e) => service_error(&rid, e),
    }
}

async fn start(
    State(st): State<AppState>,
    RequestId(rid): RequestId,
    id: Result<Path<String>, PathRejection>,
) -> Response {
    let id = try_resp!(&rid, path_id(id));
    match st.service.start(id).await {
        Ok(s) => ok(&rid, StatusCode::ACCEPTED, s.to_json()),
        Err(e) => service_error(&rid, e),
    }
}

async fn batch_purge(
    State(st): State<AppState>,
    RequestId(rid): RequestId,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let body = try_resp!(&rid, body_or_error(body));
    let m = try_resp!(&rid, json_object(&body, true));
    let statuses = try_resp!(&rid, statuses_from(m.get("statuses")));
    let older_than_ms = match m.get("olderThanDays") {
        None | Some(Value::Null) => None,
        Some(v) => match v.as_f64() {
            Some(d) if d >= 0.0 && d.is_finite() => Some((d * 86_400_000.0) as u64),
            _ => {
                return bad(
                    "olderThanDays",
                    "olderThanDays must be a non-negative number",
                )
                .respond(&rid);
            }
        },
    };
    let req = PurgeRequest {
        ids: vec![],
        statuses,
        older_than_ms,
        dry_run: try_resp!(&rid, opt_bool(&m, "dryRun")).unwrap_or(false),
        ..PurgeRequest::default()
    };
    match st.service.purge(req).await {
        Ok(p) => ok(&rid, StatusCode::OK, p.to_json()),
        Err(e) => service_error(&rid, e),
    }
}

async fn batch_delete(
    State(st): State<AppState>,
    RequestId(rid): RequestId,
    RawQuery(q): RawQuery,
) -> Response {
    let pairs = try_resp!(&rid, query_pairs(&q));
    if !query_true(&pairs, "purge") {
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
        dry_run: query_true(&pairs, "dryRun"),
        ..PurgeRequest::default()
    };
    match st.service.purge(req).await {
        Ok(p) => ok(&rid, StatusCode::OK, p.to_json()),
        Err(e) => service_error(&rid, e),
    }
}

async fn get_run(
    State(st): State<AppState>,
    RequestId(rid): RequestId,
    id: Result<Path<String>, PathRejection>,
) -> Response {
    let id = try_resp!(&rid, path_id(id));
    match st.service.get_run(id).await {
        Ok(r) => ok(&rid, StatusCode::OK, run_json(&r)),
        Err(e) => service_error(&rid, e),
    }
}

async fn queue_health(State(st): State<AppState>, RequestId(rid): RequestId) -> Response {
    match st.service.health().await {
        Ok(h) => ok(&rid, StatusCode::OK, h.to_json()),
        Err(e) => service_error(&rid, e),
    }
}

async fn queue_change(st: &AppState, rid: &str, change: ConfigChange) -> Response {
    match st.service.config(change).await {
        Ok(c) => ok(rid, StatusCode::OK, c.to_json()),
        Err(e) => service_error(rid, e),
    }
}

async fn queue_pause(State(st): State<AppState>, RequestId(rid): RequestId) -> Response {
    let change = ConfigChange {
        paused: Some(true),
        ..ConfigChange::default()
    };
    queue_change(&st, &rid, change).await
}

async fn queue_resume(State(st): State<AppState>, RequestId(rid): RequestId) -> Response {
    let change = ConfigChange {
        paused: Some(false),
        ..ConfigChange::default()
    };
    queue_change(&st, &rid, change).await
}

async fn queue_config(State(st): State<AppState>, RequestId(rid): RequestId) -> Response {
    queue_change(&st, &rid, ConfigChange::default()).await
}

/// `PATCH /api/v1/queue/config`: `{maxConcurrent?, staggerDelayMs?,
/// minMemoryBytes?, paused?, reset?}`; answers the settings now in force.
async fn queue_config_patch(
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
    let change = ConfigChange {
        paused: try_resp!(&rid, opt_bool(&m, "paused")),
        max_concurrent: try_resp!(&rid, opt_u64(&m, "maxConcurrent")),
        stagger_delay_ms: try_resp!(&rid, opt_u64(&m, "staggerDelayMs")),
        min_memory_bytes: try_resp!(&rid, opt_u64(&m, "minMemoryBytes")),
        reset: try_resp!(&rid, opt_bool(&m, "reset")).unwrap_or(false),
    };
    queue_change(&st, &rid, change).await
}

async fn health_root(State(st): State<AppState>, RequestId(rid): RequestId) -> Response {
    match st.service.health().await {
        Ok(h) => ok(
            &rid,
            StatusCode::OK,
            json!({"status": if h.accepting {"ok"} else {"shutting_down"}, "version": env!("CARGO_PKG_VERSION"), "queue": h.status}),
        ),
        Err(e) => service_error(&rid, e),
    }
}

async fn health_live(RequestId(rid): RequestId) -> Response {
    ok(&rid, StatusCode::OK, json!({"status": "alive"}))
}

async fn health_ready(State(st): State<AppState>, RequestId(rid): RequestId) -> Response {
    match st.service.health().await {
        Ok(h) if h.accepting => ok(&rid, StatusCode::OK, json!({"status": "ready"})),
        Ok(_) => fail(
            &rid,
            StatusCode::SERVICE_UNAVAILABLE,
            "SERVICE_UNAVAILABLE",
            "the daemon is shutting down",
            None,
        ),
        Err(e) => service_error(&rid, e),
    }
}

async fn not_found_route(req: Request) -> Response {
    let rid = rid_of(&req);
    fail(
        &rid,
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
        &format!("no route for {} {}", req.method(), req.uri().path()),
        None,
    )
}
