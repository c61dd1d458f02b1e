//! A device's identity: the Automerge actor its changes carry and the Ed25519 key pair it
//! made itself. Signing in enrols the device; the enrolment is signed with the device's key,
//! so the server records a public key whose private half the device holds.

use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};

/// Length of an Automerge actor ID minted by a device (a random UUID).
pub const ACTOR_ID_BYTES: usize = 16;
/// Longest device label (e.g. the browser's description), in characters.
pub const MAX_DEVICE_LABEL_CHARS: usize = 120;

/// Longest name a user gives their device, in characters.
pub const MAX_DEVICE_NAME_CHARS: usize = 40;

/// A device ID as people read it, the same on the phone and in the admin's list: `dev-` and
/// the first 8 hex digits (`dev-1a2b3c4d`); an ID of another form is shown whole.
pub fn short_device_id(device_id: &str) -> &str {
    match device_id.get(..12) {
        Some(short) if device_id.starts_with("dev-") => short,
        _ => device_id,
    }
}

/// What kind of device a browser's user agent describes, as people tell phones apart: the
/// system with its version, the model where the browser gives it (Android phones do, unless
/// the browser reduced it to `K`), and the browser (`Android 13 · SM-A135F · Chrome 148`).
/// Whatever cannot be read is left out; an unreadable agent gives its first 40 characters.
pub fn describe_device(user_agent: &str) -> String {
    let inside = user_agent
        .split_once('(')
        .and_then(|(_, rest)| rest.split_once(')'))
        .map(|(inside, _)| inside)
        .unwrap_or_default();
    let parts: Vec<&str> = inside.split(';').map(str::trim).collect();
    let mut words: Vec<String> = Vec::new();
    if let Some(position) = parts.iter().position(|p| p.starts_with("Android")) {
        words.push(parts[position].to_owned());
        if let Some(model) = parts.get(position + 1) {
            let model = model.split(" Build/").next().unwrap_or_default().trim();
            if !model.is_empty() && model != "K" && model != "wv" {
                words.push(model.to_owned());
            }
        }
    } else if let Some(apple) = ["iPhone", "iPad"].iter().find(|d| inside.contains(*d)) {
        words.push((*apple).to_owned());
    } else if inside.contains("Windows") {
        words.push("Windows".to_owned());
    } else if inside.contains("Macintosh") {
        words.push("Mac".to_owned());
    } else if inside.contains("Linux") {
        words.push("Linux".to_owned());
    }
    let browser = |name: &str, token: &str| {
        user_agent.split(token).nth(1).map(|rest| {
            let major = rest.split(['.', ' ']).next().unwrap_or_default();
            format!("{name} {major}")
        })
    };
    let found = browser("Edge", "Edg/")
        .or_else(|| browser("WeChat", "MicroMessenger/"))
        .or_else(|| browser("Firefox", "Firefox/"))
        .or_else(|| browser("Chrome", "Chrome/"))
        .or_else(|| browser("Safari", "Version/"));
    words.extend(found);
    if words.is_empty() {
        user_agent.chars().take(40).collect()
    } else {
        words.join(" · ")
    }
}

/// What a device sends with a sign-in to enrol (or re-present) itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceEnrolment {
    /// Minted on the device when it first signs in for a user.
    pub device_id: String,
    /// The Automerge actor ID every change from this device carries.
    #[serde(with = "serde_bytes")]
    pub actor: Vec<u8>,
    /// Ed25519 public key (32 bytes).
    #[serde(with = "serde_bytes")]
    pub public_key: Vec<u8>,
    /// What the user sees in the list of their devices.
    pub label: String,
    /// Ed25519 signature over [`enrolment_message`].
    #[serde(with = "serde_bytes")]
    pub signature: Vec<u8>,
}

/// Why an enrolment is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnrolmentError {
    #[error("device ID must be 1 to 64 characters of letters, digits and '-'")]
    BadDeviceId,
    #[error("actor ID must be {ACTOR_ID_BYTES} bytes")]
    BadActor,
    #[error("label is longer than {MAX_DEVICE_LABEL_CHARS} characters")]
    BadLabel,
    #[error("public key is not an Ed25519 key")]
    BadKey,
    #[error("signature does not verify with the public key")]
    BadSignature,
}

/// The bytes a device signs to enrol for `username`.
pub fn enrolment_message(
    username: &str,
    device_id: &str,
    actor: &[u8],
    public_key: &[u8],
) -> Vec<u8> {
    let mut message = b"gatehouse-device-enrolment-v1\n".to_vec();
    for part in [username.as_bytes(), device_id.as_bytes(), actor, public_key] {
        message.extend_from_slice(&(part.len() as u32).to_be_bytes());
        message.extend_from_slice(part);
    }
    message
}

impl DeviceEnrolment {
    /// Builds a signed enrolment from the device's 32-byte key seed.
    pub fn sign(
        username: &str,
        device_id: &str,
        actor: &[u8],
        seed: &[u8; 32],
        label: &str,
    ) -> Self {
        let key = SigningKey::from_bytes(seed);
        let public_key = key.verifying_key().to_bytes().to_vec();
        let message = enrolment_message(username, device_id, actor, &public_key);
        Self {
            device_id: device_id.to_owned(),
            actor: actor.to_vec(),
            public_key,
            label: label.chars().take(MAX_DEVICE_LABEL_CHARS).collect(),
            signature: key.sign(&message).to_bytes().to_vec(),
        }
    }

    /// Checks the shape of every field and the signature for `username`.
    pub fn verify(&self, username: &str) -> Result<(), EnrolmentError> {
        let id_ok = !self.device_id.is_empty()
            && self.device_id.len() <= 64
            && self
                .device_id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-');
        if !id_ok {
            return Err(EnrolmentError::BadDeviceId);
        }
        if self.actor.len() != ACTOR_ID_BYTES {
            return Err(EnrolmentError::BadActor);
        }
        if self.label.chars().count() > MAX_DEVICE_LABEL_CHARS {
            return Err(EnrolmentError::BadLabel);
        }
        let key_bytes: [u8; 32] = self
            .public_key
            .as_slice()
            .try_into()
            .map_err(|_| EnrolmentError::BadKey)?;
        let key = VerifyingKey::from_bytes(&key_bytes).map_err(|_| EnrolmentError::BadKey)?;
        // A small-order key makes one signature that verifies over every message.
        if key.is_weak() {
            return Err(EnrolmentError::BadKey);
        }
        let signature =
            Signature::from_slice(&self.signature).map_err(|_| EnrolmentError::BadSignature)?;
        let message = enrolment_message(username, &self.device_id, &self.actor, &self.public_key);
        key.verify(&message, &signature)
            .map_err(|_| EnrolmentError::BadSignature)
    }
}

/// A device as listed to its user and to admins.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceInfo {
    pub device_id: String,
    pub user_id: String,
    pub username: String,
    pub label: String,
    /// The name its user gave it (`东门岗亭手机`), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Hex of the actor ID, as it appears in a record's history.
    pub actor: String,
    pub enrolled_at: i64,
    pub last_seen_at: i64,
    pub revoked_at: Option<i64>,
    /// Sessions on this device that have not expired.
    pub sessions: Vec<SessionInfo>,
}

/// A device's enrolled public key, as office staff get it to check signatures in the browser.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceKey {
    pub device_id: String,
    pub user_id: String,
    /// The Ed25519 public key, 32 bytes as 64 lowercase hex digits.
    pub public_key_hex: String,
    /// When an admin revoked the device; signatures it took before stay valid.
    pub revoked_at: Option<i64>,
}

/// A session as listed to its user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionInfo {
    pub created_at: i64,
    pub expires_at: i64,
    /// Whether this is the session asking.
    pub current: bool,
}

#[cfg(test)]
mod tests {

    #[test]
    fn the_enrolment_message_is_the_documented_bytes() {
        // The worked example in docs/protocol.md, "Device enrolment".
        let message = enrolment_message("guard", "dev-1", &[1; 16], &[2; 32]);
        let mut expected = b"gatehouse-device-enrolment-v1\n".to_vec();
        expected.extend([0, 0, 0, 5]);
        expected.extend(b"guard");
        expected.extend([0, 0, 0, 5]);
        expected.extend(b"dev-1");
        expected.extend([0, 0, 0, 16]);
        expected.extend([1; 16]);
        expected.extend([0, 0, 0, 32]);
        expected.extend([2; 32]);
        assert_eq!(message, expected);
        assert_eq!(message.len(), 104);
    }

    use super::*;

    #[test]
    fn devices_are_described_as_people_tell_phones_apart() {
        let cases = [
            (
                "Mozilla/5.0 (Linux; Android 13; SM-A135F Build/TP1A.220624.014) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/148.0.0.0 Mobile Safari/537.36",
                "Android 13 · SM-A135F · Chrome 148",
            ),
            (
                "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/148.0.0.0 Mobile Safari/537.36",
                "Android 10 · Chrome 148",
            ),
            (
                "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
                "iPhone · Safari 17",
            ),
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/148.0.0.0 Safari/537.36 Edg/148.0.0.0",
                "Windows · Edge 148",
            ),
            (
                "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/148.0.0.0 Safari/537.36",
                "Linux · Chrome 148",
            ),
            ("curl/8.0", "curl/8.0"),
            ("", ""),
        ];
        for (agent, described) in cases {
            assert_eq!(describe_device(agent), described, "{agent}");
        }
    }

    #[test]
    fn a_device_id_reads_the_same_everywhere_in_short() {
        assert_eq!(
            short_device_id("dev-1a2b3c4d-0000-4000-8000-000000000000"),
            "dev-1a2b3c4d"
        );
        assert_eq!(short_device_id("phone-7"), "phone-7");
        assert_eq!(short_device_id("dev-12"), "dev-12");
    }

    const SEED: [u8; 32] = [7; 32];

    #[test]
    fn signed_enrolment_verifies_for_its_user_only() {
        let enrolment = DeviceEnrolment::sign("guard", "dev-1", &[1; 16], &SEED, "Pixel");
        assert_eq!(enrolment.verify("guard"), Ok(()));
        assert_eq!(enrolment.verify("clerk"), Err(EnrolmentError::BadSignature));
    }

    #[test]
    fn tampered_fields_are_refused() {
        let good = DeviceEnrolment::sign("guard", "dev-1", &[1; 16], &SEED, "Pixel");
        let mut other_actor = good.clone();
        other_actor.actor = vec![2; 16];
        assert_eq!(
            other_actor.verify("guard"),
            Err(EnrolmentError::BadSignature)
        );
        let mut short_actor = good.clone();
        short_actor.actor = vec![2; 3];
        assert_eq!(short_actor.verify("guard"), Err(EnrolmentError::BadActor));
        let mut bad_id = good.clone();
        bad_id.device_id = "a b".into();
        assert_eq!(bad_id.verify("guard"), Err(EnrolmentError::BadDeviceId));
        let mut bad_key = good.clone();
        bad_key.public_key = vec![0; 5];
        assert_eq!(bad_key.verify("guard"), Err(EnrolmentError::BadKey));
        // The identity point is a valid encoding of a small-order (weak) key.
        let mut weak = good;
        let mut identity = vec![0; 32];
        identity[0] = 1;
        weak.public_key = identity;
        assert_eq!(weak.verify("guard"), Err(EnrolmentError::BadKey));
    }
}
