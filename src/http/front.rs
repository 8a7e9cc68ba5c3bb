//! What every request goes through before a route sees it, in this order:
//! its id; CORS (preflights answered here, without the key); the API key,
//! checked on the headers alone, before a byte of the body is read (or, from
//! the dashboard, its session cookie with its CSRF token); then the
//! body, read within the size limit and the read timeout (only for the key's
//! routes: no public route takes one). An answer that
//! leaves body bytes unread (401, 413) is sent at once while the rest is read
//! and thrown away in the background, bounded in size and time, so ordinary
//! clients that send the whole body before reading get the answer instead of
//! a broken pipe, and the connection stays usable.

use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use bytes::BytesMut;
use http_body_util::BodyExt;
use tokio::time::Instant;

use super::AppState;
use super::auth::{self, Credentials};
use super::cors;
use super::dashboard;
use super::envelope::{ApiError, BODY_LIMIT, RequestId, bad, new_request_id};

/// Most bytes of an unwanted body read (and thrown away) after an early answer.
const DISCARD_LIMIT: u64 = 16 * 1024 * 1024;

pub async fn front(State(st): State<AppState>, req: Request, next: Next) -> Response {
    let rid = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 200)
        .map(str::to_string)
        .unwrap_or_else(new_request_id);
    let origin = st.cors.allowed(req.headers());
    let mut resp = handle(&st, &rid, req, next).await;
    cors::decorate(&mut resp, origin);
    if let Ok(v) = HeaderValue::from_str(&rid) {
        resp.headers_mut().insert("x-request-id", v);
    }
    resp
}

fn is_api_path(path: &str) -> bool {
    path == "/api/v1" || path.starts_with("/api/v1/")
}

/// The whole `/api/v1` prefix (unknown routes included, so an unauthenticated
/// caller learns nothing about which routes exist) and the WebSocket; not
/// the health routes nor the OpenAPI document. MCP's `/mcp` too.
fn needs_key(path: &str) -> bool {
    path == "/ws" || path == "/mcp" || (is_api_path(path) && path != "/api/v1/openapi.json")
}

/// The routes that take a body: the key's, and the dashboard's login.
fn reads_body(path: &str) -> bool {
    needs_key(path) || path == dashboard::LOGIN_PATH
}

/// The streams, where browsers cannot send headers, also take `?token=`.
fn takes_token(path: &str) -> bool {
    path == "/ws" || (path.starts_with("/api/v1/runs/") && path.ends_with("/stream"))
}

fn query_token(req: &Request) -> Option<String> {
    let q = req.uri().query()?;
    serde_urlencoded::from_str::<Vec<(String, String)>>(q)
        .ok()?
        .into_iter()
        .find(|(k, _)| k == "token")
        .map(|(_, v)| v)
}

async fn handle(st: &AppState, rid: &str, req: Request, next: Next) -> Response {
    if req.method() == Method::OPTIONS {
        let preflight =
            cors::is_preflight(req.headers()) && st.cors.allowed(req.headers()).is_some();
        let (parts, body) = req.into_parts();
        discard(&parts.headers, body, st.timeout);
        let mut resp = StatusCode::NO_CONTENT.into_response();
        if preflight {
            cors::decorate_preflight(&mut resp);
        }
        return resp;
    }
    let path = req.uri().path();
    if needs_key(path) {
        let token = if takes_token(path) {
            query_token(&req)
        } else {
            None
        };
        let credentials = auth::check(req.headers(), token.as_deref(), &st.key);
        // Without the key, a dashboard session may do (not for `/mcp`,
        // whose clients are programs holding the key).
        let refusal = match credentials {
            Credentials::Valid => None,
            _ if path == "/mcp" => Some(unauthorized(rid, credentials == Credentials::Missing)),
            _ => match dashboard::access(st, req.headers()) {
                dashboard::Access::Granted => None,
                dashboard::Access::Forbidden => Some(dashboard::forbidden(rid)),
                dashboard::Access::NoSession => {
                    Some(unauthorized(rid, credentials == Credentials::Missing))
                }
            },
        };
        if let Some(resp) = refusal {
            let (parts, body) = req.into_parts();
            discard(&parts.headers, body, st.timeout);
            return resp;
        }
    }
    let (mut parts, body) = req.into_parts();
    parts.extensions.insert(RequestId(rid.to_string()));
    if !reads_body(parts.uri.path()) {
        // No public route takes a body: one sent anyway is never held.
        discard(&parts.headers, body, st.timeout);
        return next.run(Request::from_parts(parts, Body::empty())).await;
    }
    let body = match read_body(&parts.headers, body, st.timeout).await {
        Ok(bytes) => bytes,
        Err(BodyError::TooLarge(rest)) => {
            discard(&parts.headers, rest, st.timeout);
            return ApiError::TooLarge.respond(rid);
        }
        Err(BodyError::Timeout) => return closing(ApiError::Timeout.respond(rid)),
        Err(BodyError::Broken(e)) => {
            return closing(bad("body", format!("cannot read request body: {e}")).respond(rid));
        }
    };
    next.run(Request::from_parts(parts, Body::from(body))).await
}

/// The body was not read to its end and will not be: the connection cannot
/// be reused.
fn closing(mut resp: Response) -> Response {
    resp.headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    resp
}

/// The 401 answer. Its `error` is the message itself, not an object: the
/// AgentGate dashboard shows `error` as text (an object would read
/// "[object Object]"), and AgentGate's client library raises its
/// authentication error from the status alone.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct UnauthorizedEnvelope {
    /// Always false.
    pub success: bool,
    /// What is wrong and how to send the key.
    pub error: String,
    /// Always UNAUTHORIZED.
    pub code: String,
    #[serde(rename = "requestId")]
    pub request_id: String,
}

fn unauthorized(rid: &str, missing: bool) -> Response {
    let message = if missing {
        "missing API key: send `Authorization: Bearer <key>` or `X-API-Key: <key>` (the key is in <root>/api-key unless configured)"
    } else {
        "wrong API key: send `Authorization: Bearer <key>` or `X-API-Key: <key>` (the key is in <root>/api-key unless configured)"
    };
    let body = UnauthorizedEnvelope {
        success: false,
        error: message.to_string(),
        code: "UNAUTHORIZED".to_string(),
        request_id: rid.to_string(),
    };
    let mut resp = (StatusCode::UNAUTHORIZED, axum::Json(body)).into_response();
    resp.headers_mut()
        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    resp
}

enum BodyError {
    /// Over the limit; what is left of the body.
    TooLarge(Body),
    Timeout,
    Broken(axum::Error),
}

/// Reads a request body of at most `BODY_LIMIT` bytes within `timeout`; more
/// (announced or sent) is `TooLarge`, without reading further.
async fn read_body(
    headers: &HeaderMap,
    mut body: Body,
    timeout: Duration,
) -> Result<Bytes, BodyError> {
    let announced = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if announced.is_some_and(|n| n > BODY_LIMIT as u64) {
        return Err(BodyError::TooLarge(body));
    }
    let deadline = Instant::now() + timeout;
    // One chunk (the usual case) is kept as is; more are joined.
    let mut first: Option<Bytes> = None;
    let mut joined = BytesMut::new();
    loop {
        let frame = match tokio::time::timeout_at(deadline, body.frame()).await {
            Err(_) => return Err(BodyError::Timeout),
            Ok(None) => break,
            Ok(Some(Err(e))) => return Err(BodyError::Broken(e)),
            Ok(Some(Ok(frame))) => frame,
        };
        let Ok(chunk) = frame.into_data() else {
            continue; // trailers
        };
        let so_far = first.as_ref().map_or(0, Bytes::len) + joined.len();
        if so_far + chunk.len() > BODY_LIMIT {
            return Err(BodyError::TooLarge(body));
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

/// Reads what is left of a body the answer did not need and throws it away,
/// in the background, up to `DISCARD_LIMIT` bytes and `timeout`; past either
/// the body is dropped, which closes the connection. A client that asked to
/// be told first (`Expect: 100-continue`) is not invited to send it.
fn discard(headers: &HeaderMap, mut body: Body, timeout: Duration) {
    let expects_continue = headers
        .get(header::EXPECT)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"));
    if expects_continue || http_body::Body::is_end_stream(&body) {
        return;
    }
    tokio::spawn(async move {
        let deadline = Instant::now() + timeout;
        let mut seen = 0u64;
        while seen <= DISCARD_LIMIT {
            match tokio::time::timeout_at(deadline, body.frame()).await {
                Ok(Some(Ok(frame))) => {
                    seen += frame.data_ref().map_or(0, |d| d.len() as u64);
                }
                _ => return,
            }
        }
    });
}
