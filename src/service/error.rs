//! The service's typed error: a code both doors map (RPC error codes, HTTP
//! statuses) plus a one-line message, and the field at fault for bad input.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ErrorCode {
    NotFound,
    InvalidState,
    BadRequest,
    Unavailable,
    Internal,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{message}")]
pub struct ServiceError {
    pub code: ErrorCode,
    pub message: String,
    /// For `BadRequest`: the input field at fault.
    pub field: Option<String>,
}

impl ServiceError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> ServiceError {
        ServiceError {
            code,
            message: message.into(),
            field: None,
        }
    }
    pub fn not_found(id: &str) -> ServiceError {
        ServiceError::new(ErrorCode::NotFound, format!("no work order with id {id:?}"))
    }
    pub fn bad_request(field: &str, message: impl Into<String>) -> ServiceError {
        ServiceError {
            code: ErrorCode::BadRequest,
            message: message.into(),
            field: Some(field.to_string()),
        }
    }
    pub fn invalid_state(message: impl Into<String>) -> ServiceError {
        ServiceError::new(ErrorCode::InvalidState, message)
    }
    pub fn internal(message: impl Into<String>) -> ServiceError {
        ServiceError::new(ErrorCode::Internal, message)
    }
    pub fn unavailable(message: impl Into<String>) -> ServiceError {
        ServiceError::new(ErrorCode::Unavailable, message)
    }
}
