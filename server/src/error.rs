//! The one HTTP error type: maps failures to status codes and message keys, logs server
//! errors, and never sends internal details to the client.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("authentication required")]
    Unauthorized,
    #[error("wrong username or password")]
    BadCredentials,
    #[error("not allowed")]
    Forbidden,
    #[error("this device was revoked")]
    DeviceRevoked,
    #[error("the device enrolment does not match what this device enrolled with")]
    DeviceConflict,
    #[error("bad request: {0}")]
    BadRequest(&'static str),
    #[error("not found")]
    NotFound,
    #[error("already exists")]
    AlreadyExists,
    #[error("too many failed sign-ins; retry in {0} s")]
    TooManyAttempts(u64),
    #[error("storage failed: {0}")]
    Store(#[from] StoreError),
    #[error("internal error: {0}")]
    Internal(String),
    #[error("the server has as many sync connections as it takes")]
    TooManyConnections,
}

impl IntoResponse for HttpError {
    fn into_response(self) -> Response {
        if let HttpError::TooManyConnections = self {
            let body = Json(serde_json::json!({ "error": "error.too_many_connections" }));
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                [(axum::http::header::RETRY_AFTER, "30")],
                body,
            )
                .into_response();
        }
        if let HttpError::TooManyAttempts(seconds) = self {
            let body = Json(serde_json::json!({ "error": "sign_in.too_many" }));
            return (
                StatusCode::TOO_MANY_REQUESTS,
                [(axum::http::header::RETRY_AFTER, seconds.to_string())],
                body,
            )
                .into_response();
        }
        let (status, key) = match &self {
            HttpError::Unauthorized => (StatusCode::UNAUTHORIZED, "error.unauthorized"),
            HttpError::BadCredentials => (StatusCode::UNAUTHORIZED, "sign_in.invalid"),
            HttpError::Forbidden => (StatusCode::FORBIDDEN, "error.forbidden"),
            HttpError::DeviceRevoked => (StatusCode::FORBIDDEN, "error.device_revoked"),
            HttpError::DeviceConflict => (StatusCode::CONFLICT, "error.device_conflict"),
            HttpError::BadRequest(key) => (StatusCode::BAD_REQUEST, *key),
            HttpError::NotFound => (StatusCode::NOT_FOUND, "error.not_found"),
            HttpError::AlreadyExists => (StatusCode::CONFLICT, "error.already_exists"),
            HttpError::TooManyAttempts(_) => (StatusCode::TOO_MANY_REQUESTS, "sign_in.too_many"),
            HttpError::TooManyConnections => (
                StatusCode::SERVICE_UNAVAILABLE,
                "error.too_many_connections",
            ),
            HttpError::Store(_) | HttpError::Internal(_) => {
                tracing::error!(error = %self, "request failed");
                (StatusCode::INTERNAL_SERVER_ERROR, "error.internal")
            }
        };
        (status, Json(serde_json::json!({ "error": key }))).into_response()
    }
}
