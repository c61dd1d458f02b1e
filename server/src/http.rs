//! HTTP routes: sign-in and sign-out, the office's record list, and the WebSocket upgrade.

use std::net::SocketAddr;
use std::time::Instant;

use axum::extract::{ConnectInfo, FromRequestParts, Query, State, WebSocketUpgrade};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use gatehouse_shared::protocol::MAX_FRAME_BYTES;
use gatehouse_shared::user::{SignInRequest, SignInResponse};
use gatehouse_shared::{RecordSummary, Role, UserInfo};
use serde::Deserialize;

use crate::auth::{new_session_token, token_hash, verify_against_nothing, verify_password};
use crate::error::HttpError;
use crate::{now_ms, AppState};

/// The user behind a request's `Authorization: Bearer` token.
pub struct CurrentUser {
    pub user: UserInfo,
    token: String,
}

fn bearer(parts: &Parts) -> Option<String> {
    let value = parts
        .headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    value.strip_prefix("Bearer ").map(|t| t.trim().to_owned())
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = HttpError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = bearer(parts).ok_or(HttpError::Unauthorized)?;
        let hash = token_hash(&token);
        let user = state
            .blocking(move |store| store.session_user(&hash, now_ms()))
            .await??
            .ok_or(HttpError::Unauthorized)?;
        Ok(Self { user, token })
    }
}

pub async fn sign_in(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Json(request): Json<SignInRequest>,
) -> Result<Json<SignInResponse>, HttpError> {
    let address = peer.ip().to_string();
    let account = request.username.trim().to_owned();
    if let Some(wait) = state
        .sign_in_limiter
        .blocked_for(&account, &address, Instant::now())
    {
        tracing::warn!(%account, %address, "sign-in rate limited");
        return Err(HttpError::TooManyAttempts(wait.as_secs().max(1)));
    }
    let limiter = state.sign_in_limiter.clone();
    let session_ms = state
        .config
        .session_days
        .saturating_mul(24 * 60 * 60 * 1000);
    let response = state
        .blocking(move |store| -> Result<SignInResponse, HttpError> {
            let Some(stored) = store.user_by_username(request.username.trim())? else {
                verify_against_nothing(&request.password);
                return Err(HttpError::BadCredentials);
            };
            if !verify_password(&request.password, &stored.password_hash) {
                return Err(HttpError::BadCredentials);
            }
            let token = new_session_token();
            let now = now_ms();
            store.create_session(
                &token_hash(&token),
                &stored.info.id,
                now,
                now.saturating_add(session_ms),
            )?;
            Ok(SignInResponse {
                token,
                user: stored.info,
            })
        })
        .await?;
    let response = match response {
        Err(HttpError::BadCredentials) => {
            limiter.record_failure(&account, &address, Instant::now());
            return Err(HttpError::BadCredentials);
        }
        other => other?,
    };
    tracing::info!(user = %response.user.username, "signed in");
    Ok(Json(response))
}

pub async fn sign_out(
    State(state): State<AppState>,
    current: CurrentUser,
) -> Result<StatusCode, HttpError> {
    let hash = token_hash(&current.token);
    state
        .blocking(move |store| store.delete_session(&hash))
        .await??;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn me(current: CurrentUser) -> Json<UserInfo> {
    Json(current.user)
}

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    /// Most records to return (default 200, at most 1000).
    limit: Option<u32>,
}

/// The estate's records, newest round first. Office staff only.
pub async fn list_records(
    State(state): State<AppState>,
    current: CurrentUser,
    Query(query): Query<ListQuery>,
) -> Result<Json<Vec<RecordSummary>>, HttpError> {
    if current.user.role != Role::Office {
        return Err(HttpError::Forbidden);
    }
    let limit = query.limit.unwrap_or(200).min(1000);
    let estate = current.user.estate_id.clone();
    let records = state
        .blocking(move |store| store.list_records(&estate, limit))
        .await??;
    Ok(Json(records))
}

/// Whether a browser's `Origin` is this server (the `Host` it was asked for). Requests
/// without an `Origin` (native clients) pass: the session token still guards them.
fn same_origin(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return true;
    };
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    let origin_host = origin
        .to_str()
        .ok()
        .and_then(|o| o.split_once("://"))
        .map(|(_, rest)| rest);
    matches!((origin_host, host), (Some(o), Some(h)) if o.eq_ignore_ascii_case(h))
}

/// Upgrades to the sync WebSocket; authentication happens in its first message.
pub async fn sync_socket(
    State(state): State<AppState>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Response {
    if !same_origin(&headers) {
        tracing::warn!(origin = ?headers.get(header::ORIGIN), "refused cross-origin sync socket");
        return HttpError::Forbidden.into_response();
    }
    upgrade
        .max_message_size(MAX_FRAME_BYTES)
        .max_frame_size(MAX_FRAME_BYTES)
        .on_upgrade(move |socket| crate::sync::serve_socket(state, socket))
}

pub async fn health() -> &'static str {
    "ok"
}
