//! AgentGate's response envelope (`{"success":true,"data":...,"requestId":...}`
//! / `{"success":false,"error":{...},"requestId":...}`), the request id, and
//! how service errors map onto HTTP statuses.

use std::convert::Infallible;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::service::{ErrorCode, ServiceError};

/// Request bodies are limited to this.
pub const BODY_LIMIT: usize = 1024 * 1024;

/// The success envelope. Some statuses other than 2xx use it too (a 503 from
/// queue health or readiness), as AgentGate does.
#[derive(Serialize, ToSchema)]
pub struct Envelope<T> {
    /// Always true.
    pub success: bool,
    pub data: T,
    #[serde(rename = "requestId")]
    pub request_id: String,
}

/// The error envelope.
#[derive(Serialize, ToSchema)]
pub struct ErrorEnvelope {
    /// Always false.
    pub success: bool,
    pub error: ErrorBody,
    #[serde(rename = "requestId")]
    pub request_id: String,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    /// NOT_FOUND, BAD_REQUEST, UNAUTHORIZED, FORBIDDEN, CONFLICT,
    /// SERVICE_UNAVAILABLE or INTERNAL_ERROR.
    pub code: String,
    pub message: String,
    /// For bad input: `field`, the input at fault.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub details: Option<Value>,
}

/// The request id of this request (from `X-Request-ID`, else generated).
#[derive(Clone)]
pub struct RequestId(pub String);

/// A fresh request id: a random per-process prefix and a counter (cheap: no
/// system call per request, unique across restarts).
pub fn new_request_id() -> String {
    static PREFIX: OnceLock<String> = OnceLock::new();
    static NEXT: AtomicU64 = AtomicU64::new(1);
    let prefix = PREFIX.get_or_init(|| nanoid::nanoid!(10));
    format!("{prefix}-{}", NEXT.fetch_add(1, Ordering::Relaxed))
}

/// Extracts the request id the front middleware stored (never fails).
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

pub fn ok(rid: &str, status: StatusCode, data: Value) -> Response {
    let body = Envelope {
        success: true,
        data: &data,
        request_id: rid.to_string(),
    };
    (status, axum::Json(body)).into_response()
}

/// An operation's answer (as it serialises) in the envelope, or its error.
pub fn answer<T: Serialize>(rid: &str, out: Result<T, ServiceError>) -> Response {
    match out.map(|v| serde_json::to_value(&v)) {
        Ok(Ok(v)) => ok(rid, StatusCode::OK, v),
        Ok(Err(e)) => service_error(
            rid,
            ServiceError::internal(format!("cannot encode the answer: {e}")),
        ),
        Err(e) => service_error(rid, e),
    }
}

pub fn fail(
    rid: &str,
    status: StatusCode,
    code: &str,
    message: &str,
    details: Option<Value>,
) -> Response {
    let body = ErrorEnvelope {
        success: false,
        error: ErrorBody {
            code: code.to_string(),
            message: message.to_string(),
            details,
        },
        request_id: rid.to_string(),
    };
    (status, axum::Json(body)).into_response()
}

/// The HTTP status and AgentGate error code of a service error.
pub fn status_of(code: ErrorCode) -> (StatusCode, &'static str) {
    match code {
        ErrorCode::NotFound => (StatusCode::NOT_FOUND, "NOT_FOUND"),
        ErrorCode::InvalidState => (StatusCode::CONFLICT, "CONFLICT"),
        ErrorCode::BadRequest => (StatusCode::BAD_REQUEST, "BAD_REQUEST"),
        ErrorCode::Unavailable => (StatusCode::SERVICE_UNAVAILABLE, "SERVICE_UNAVAILABLE"),
        ErrorCode::Internal => (StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL_ERROR"),
    }
}

pub fn service_error(rid: &str, e: ServiceError) -> Response {
    let (status, code) = status_of(e.code);
    let details = e.field.as_ref().map(|f| json!({"field": f}));
    fail(rid, status, code, &e.message, details)
}

/// A work order a call created (submit, continue, restart): 201 with it, or
/// the call's error.
pub fn created(rid: &str, out: Result<crate::model::WorkOrder, ServiceError>) -> Response {
    match out {
        Ok(wo) => ok(rid, StatusCode::CREATED, wo.to_json()),
        Err(e) => service_error(rid, e),
    }
}

/// Why a request could not be turned into a service call.
pub enum ApiError {
    Service(ServiceError),
    TooLarge,
    Timeout,
}

impl ApiError {
    pub fn respond(self, rid: &str) -> Response {
        match self {
            ApiError::Service(e) => service_error(rid, e),
            ApiError::TooLarge => fail(
                rid,
                StatusCode::PAYLOAD_TOO_LARGE,
                "BAD_REQUEST",
                "request body is larger than 1 MiB",
                Some(json!({"field": "body", "limitBytes": BODY_LIMIT})),
            ),
            ApiError::Timeout => fail(
                rid,
                StatusCode::REQUEST_TIMEOUT,
                "BAD_REQUEST",
                "the request body did not arrive in time",
                Some(json!({"field": "body"})),
            ),
        }
    }
}

pub fn bad(field: &str, message: impl Into<String>) -> ApiError {
    ApiError::Service(ServiceError::bad_request(field, message))
}
