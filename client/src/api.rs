//! The server's HTTP routes, as the app calls them.

use gatehouse_shared::user::{SignInRequest, SignInResponse};
use gatehouse_shared::RecordSummary;
use gloo_net::http::Request;

/// Why a call failed, as the interface tells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiError {
    /// No network, or the server could not be reached.
    Unreachable,
    /// Wrong username or password.
    BadCredentials,
    /// The session is no longer valid.
    Unauthorized,
    /// Too many failed sign-ins for now.
    TooManyAttempts,
    /// Anything else the server answered.
    Failed,
}

pub async fn sign_in(username: &str, password: &str) -> Result<SignInResponse, ApiError> {
    let body = SignInRequest {
        username: username.to_owned(),
        password: password.to_owned(),
    };
    let response = Request::post("/api/sign-in")
        .json(&body)
        .map_err(|_| ApiError::Failed)?
        .send()
        .await
        .map_err(|_| ApiError::Unreachable)?;
    match response.status() {
        200 => response.json().await.map_err(|_| ApiError::Failed),
        401 => Err(ApiError::BadCredentials),
        429 => Err(ApiError::TooManyAttempts),
        _ => Err(ApiError::Failed),
    }
}

pub async fn sign_out(token: &str) -> Result<(), ApiError> {
    Request::post("/api/sign-out")
        .header("Authorization", &format!("Bearer {token}"))
        .send()
        .await
        .map_err(|_| ApiError::Unreachable)?;
    Ok(())
}

pub async fn list_records(token: &str) -> Result<Vec<RecordSummary>, ApiError> {
    let response = Request::get("/api/records?limit=500")
        .header("Authorization", &format!("Bearer {token}"))
        .send()
        .await
        .map_err(|_| ApiError::Unreachable)?;
    match response.status() {
        200 => response.json().await.map_err(|_| ApiError::Failed),
        401 => Err(ApiError::Unauthorized),
        _ => Err(ApiError::Failed),
    }
}
