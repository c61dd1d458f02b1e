//! Who is signed in, as both sides see it.

use serde::{Deserialize, Serialize};

/// What a user does; decides which records they write and see.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Security guard: writes patrol logs on a phone.
    Guard,
    /// Office / service-desk staff: reads every record of the estate and adds remarks.
    Office,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Guard => "guard",
            Role::Office => "office",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "guard" => Some(Role::Guard),
            "office" => Some(Role::Office),
            _ => None,
        }
    }
}

/// The signed-in user, as returned by sign-in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserInfo {
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub estate_id: String,
    pub estate_name: String,
}

/// Body of `POST /api/sign-in`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SignInRequest {
    pub username: String,
    pub password: String,
}

/// Answer to a successful sign-in.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SignInResponse {
    /// Bearer token for HTTP and the WebSocket hello; the server keeps only its hash.
    pub token: String,
    pub user: UserInfo,
}
