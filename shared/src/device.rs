//! A device's identity: the Automerge actor its changes carry and the Ed25519 key pair it
//! made itself. Signing in enrols the device; the enrolment is signed with the device's key,
//! so the server records a public key whose private half the device holds.

use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};

/// Length of an Automerge actor ID minted by a device (a random UUID).
pub const ACTOR_ID_BYTES: usize = 16;
/// Longest device label (e.g. the browser's description), in characters.
pub const MAX_DEVICE_LABEL_CHARS: usize = 120;

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
