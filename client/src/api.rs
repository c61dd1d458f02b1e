//! The server's HTTP routes, as the app calls them.

use gatehouse_shared::device::{DeviceEnrolment, DeviceInfo, DeviceKey};
use gatehouse_shared::record::found_item::FoundItemPeriods;
use gatehouse_shared::user::{
    ChangePassword, EstateSettings, NewUser, SignInRequest, SignInResponse, UserListing,
};
use gatehouse_shared::RecordSummary;
use gatehouse_shared::UserInfo;
use gloo_net::http::{Request, RequestBuilder, Response};
use serde::de::DeserializeOwned;

/// Why a call failed, as the interface tells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiError {
    /// No network, or the server could not be reached.
    Unreachable,
    /// Wrong username or password.
    BadCredentials,
    /// The session is no longer valid.
    Unauthorized,
    /// An admin revoked this device.
    DeviceRevoked,
    /// 409: at sign-in, the server knows this device with another key (or its actor is
    /// someone else's); when adding a user, the username is taken.
    Conflict,
    /// Not allowed for this user.
    Forbidden,
    /// Too many failed sign-ins for now.
    TooManyAttempts,
    /// The server refused the input (a short password, a bad username...).
    Invalid,
    /// Anything else the server answered.
    Failed,
}

fn with_token(request: RequestBuilder, token: &str) -> RequestBuilder {
    request.header("Authorization", &format!("Bearer {token}"))
}

async fn send(request: RequestBuilder) -> Result<Response, ApiError> {
    request.send().await.map_err(|_| ApiError::Unreachable)
}

fn status_error(response: &Response) -> ApiError {
    match response.status() {
        400 => ApiError::Invalid,
        401 => ApiError::Unauthorized,
        403 => ApiError::Forbidden,
        409 => ApiError::Conflict,
        429 => ApiError::TooManyAttempts,
        _ => ApiError::Failed,
    }
}

/// A 403 says which: a revoked device or a role that may not.
async fn forbidden_kind(response: Response) -> ApiError {
    #[derive(serde::Deserialize)]
    struct Body {
        error: String,
    }
    match response.json::<Body>().await {
        Ok(body) if body.error == "error.device_revoked" => ApiError::DeviceRevoked,
        _ => ApiError::Forbidden,
    }
}

async fn json<T: DeserializeOwned>(response: Response) -> Result<T, ApiError> {
    match response.status() {
        200 | 201 => response.json().await.map_err(|_| ApiError::Failed),
        403 => Err(forbidden_kind(response).await),
        _ => Err(status_error(&response)),
    }
}

async fn no_content(response: Response) -> Result<(), ApiError> {
    match response.status() {
        200 | 201 | 204 => Ok(()),
        403 => Err(forbidden_kind(response).await),
        _ => Err(status_error(&response)),
    }
}

pub async fn sign_in(
    username: &str,
    password: &str,
    device: DeviceEnrolment,
) -> Result<SignInResponse, ApiError> {
    let body = SignInRequest {
        username: username.trim().to_owned(),
        password: password.to_owned(),
        device,
    };
    let request = Request::post("/api/sign-in")
        .json(&body)
        .map_err(|_| ApiError::Failed)?;
    let response = request.send().await.map_err(|_| ApiError::Unreachable)?;
    match response.status() {
        401 => Err(ApiError::BadCredentials),
        _ => json(response).await,
    }
}

pub async fn sign_out(token: &str) -> Result<(), ApiError> {
    no_content(send(with_token(Request::post("/api/sign-out"), token)).await?).await
}

/// Records per page of the office list.
pub const OFFICE_PAGE: usize = 100;

/// A page of the office list: the newest, or those after `after` (the last row shown).
pub async fn list_records(
    token: &str,
    after: Option<(i64, gatehouse_shared::DocumentId)>,
) -> Result<Vec<RecordSummary>, ApiError> {
    list_records_of(token, None, after).await
}

/// The same pages, of one kind only when `kind` is given.
pub async fn list_records_of(
    token: &str,
    kind: Option<gatehouse_shared::RecordKind>,
    after: Option<(i64, gatehouse_shared::DocumentId)>,
) -> Result<Vec<RecordSummary>, ApiError> {
    let mut url = format!("/api/records?limit={OFFICE_PAGE}");
    if let Some(kind) = kind {
        url.push_str(&format!("&kind={}", kind.as_str()));
    }
    if let Some((started_at, doc)) = after {
        url.push_str(&format!("&after_started_at={started_at}&after_doc={doc}"));
    }
    json(send(with_token(Request::get(&url), token)).await?).await
}

/// Every record that links to `doc` (a patrol log's work orders, a work order's repair).
pub async fn records_linking_to(
    token: &str,
    doc: gatehouse_shared::DocumentId,
) -> Result<Vec<RecordSummary>, ApiError> {
    let url = format!("/api/records?links_to={doc}");
    json(send(with_token(Request::get(&url), token)).await?).await
}

/// The staff of the office user's estates (whom work can be assigned to).
pub async fn staff(token: &str) -> Result<Vec<gatehouse_shared::user::StaffMember>, ApiError> {
    json(send(with_token(Request::get("/api/staff"), token)).await?).await
}

/// The enrolled keys of the devices of the office user's estates (to check signatures).
pub async fn device_keys(token: &str) -> Result<Vec<DeviceKey>, ApiError> {
    json(send(with_token(Request::get("/api/device-keys"), token)).await?).await
}

pub async fn admin_users(token: &str) -> Result<Vec<UserListing>, ApiError> {
    json(send(with_token(Request::get("/api/admin/users"), token)).await?).await
}

/// The admin's estates with their settings.
pub async fn admin_estates(token: &str) -> Result<Vec<EstateSettings>, ApiError> {
    json(send(with_token(Request::get("/api/admin/estates"), token)).await?).await
}

/// The settings of the signed-in user's estates.
pub async fn my_estates(token: &str) -> Result<Vec<EstateSettings>, ApiError> {
    json(send(with_token(Request::get("/api/estates"), token)).await?).await
}

/// Sets how long an estate keeps unclaimed found items.
pub async fn set_found_item_periods(
    token: &str,
    estate_id: &str,
    periods: &FoundItemPeriods,
) -> Result<(), ApiError> {
    let url = format!("/api/admin/estates/{estate_id}/found-items");
    let request = with_token(Request::put(&url), token)
        .json(periods)
        .map_err(|_| ApiError::Failed)?;
    no_content(request.send().await.map_err(|_| ApiError::Unreachable)?).await
}

/// Sets how long phones keep an estate's records after they are done with.
pub async fn set_retention(token: &str, estate_id: &str, days: u32) -> Result<(), ApiError> {
    let url = format!("/api/admin/estates/{estate_id}/retention");
    let request = with_token(Request::put(&url), token)
        .json(&serde_json::json!({ "days": days }))
        .map_err(|_| ApiError::Failed)?;
    no_content(request.send().await.map_err(|_| ApiError::Unreachable)?).await
}

pub async fn admin_devices(token: &str) -> Result<Vec<DeviceInfo>, ApiError> {
    json(send(with_token(Request::get("/api/admin/devices"), token)).await?).await
}

pub async fn revoke_device(token: &str, device_id: &str) -> Result<(), ApiError> {
    let url = format!("/api/admin/devices/{device_id}/revoke");
    no_content(send(with_token(Request::post(&url), token)).await?).await
}

pub async fn revoke_user(token: &str, user_id: &str) -> Result<(), ApiError> {
    let url = format!("/api/admin/users/{user_id}/revoke");
    no_content(send(with_token(Request::post(&url), token)).await?).await
}

/// Names one of the user's own devices (empty: no name).
pub async fn name_device(token: &str, device_id: &str, name: &str) -> Result<(), ApiError> {
    let url = format!("/api/devices/{device_id}/name");
    let request = with_token(Request::put(&url), token)
        .json(&serde_json::json!({ "name": name }))
        .map_err(|_| ApiError::Failed)?;
    no_content(request.send().await.map_err(|_| ApiError::Unreachable)?).await
}

/// Lifts a device's revocation.
pub async fn restore_device(token: &str, device_id: &str) -> Result<(), ApiError> {
    let url = format!("/api/admin/devices/{device_id}/restore");
    no_content(send(with_token(Request::post(&url), token)).await?).await
}

/// Lifts a user's revocation.
pub async fn restore_user(token: &str, user_id: &str) -> Result<(), ApiError> {
    let url = format!("/api/admin/users/{user_id}/restore");
    no_content(send(with_token(Request::post(&url), token)).await?).await
}

pub async fn my_devices(token: &str) -> Result<Vec<DeviceInfo>, ApiError> {
    json(send(with_token(Request::get("/api/devices"), token)).await?).await
}

/// Changes the user's password; a wrong current password is `BadCredentials`.
pub async fn change_password(token: &str, current: &str, new: &str) -> Result<(), ApiError> {
    let body = ChangePassword {
        current_password: current.to_owned(),
        new_password: new.to_owned(),
    };
    let request = with_token(Request::post("/api/password"), token)
        .json(&body)
        .map_err(|_| ApiError::Failed)?;
    let response = request.send().await.map_err(|_| ApiError::Unreachable)?;
    match response.status() {
        401 => Err(ApiError::BadCredentials),
        _ => no_content(response).await,
    }
}

pub async fn create_user(token: &str, user: &NewUser) -> Result<UserInfo, ApiError> {
    let request = with_token(Request::post("/api/admin/users"), token)
        .json(user)
        .map_err(|_| ApiError::Failed)?;
    json(request.send().await.map_err(|_| ApiError::Unreachable)?).await
}

pub async fn me(token: &str) -> Result<UserInfo, ApiError> {
    json(send(with_token(Request::get("/api/me"), token)).await?).await
}

pub async fn create_estate(token: &str, id: &str, name: &str) -> Result<(), ApiError> {
    let body = serde_json::json!({ "id": id, "name": name });
    let request = with_token(Request::post("/api/admin/estates"), token)
        .json(&body)
        .map_err(|_| ApiError::Failed)?;
    no_content(request.send().await.map_err(|_| ApiError::Unreachable)?).await
}
