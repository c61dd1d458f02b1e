//! This phone's identity for a user: a device ID, the Automerge actor its changes carry and
//! an Ed25519 key pair it enrols with. Made on the phone at the first sign-in of that user
//! and kept in IndexedDB, so unsynced changes made before a session expired still belong to
//! the device that made them when the user signs in again.
//!
//! The key pair is made by the browser's WebCrypto with a non-extractable private key: the
//! app can sign with it, but no script can read it out of the phone.

use automerge::ActorId;
use gatehouse_shared::device::{enrolment_message, DeviceEnrolment, ACTOR_ID_BYTES};
use serde::{Deserialize, Serialize};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::CryptoKey;

use crate::storage::{Storage, StorageError};

/// The WebCrypto algorithm name.
const ED25519: &str = "Ed25519";
/// Where earlier versions kept the phone's single actor ID.
const LEGACY_ACTOR_KEY: &str = "actor";

/// What is stored as plain data; the private key is stored beside it as a `CryptoKey`.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct StoredIdentity {
    device_id: String,
    #[serde(with = "serde_bytes")]
    actor: Vec<u8>,
    #[serde(with = "serde_bytes")]
    public_key: Vec<u8>,
}

#[derive(Debug, Clone)]
pub struct DeviceIdentity {
    stored: StoredIdentity,
    private_key: CryptoKey,
}

fn js_error(context: &str, error: JsValue) -> StorageError {
    StorageError::IndexedDb(format!("{context}: {error:?}"))
}

fn random_bytes<const N: usize>() -> Result<[u8; N], StorageError> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|e| StorageError::IndexedDb(e.to_string()))?;
    Ok(bytes)
}

fn subtle() -> Result<web_sys::SubtleCrypto, StorageError> {
    let window = web_sys::window().ok_or_else(|| StorageError::IndexedDb("no window".into()))?;
    Ok(window
        .crypto()
        .map_err(|e| js_error("no WebCrypto", e))?
        .subtle())
}

fn names(username: &str) -> (String, String) {
    let user = username.trim().to_lowercase();
    (format!("device.{user}"), format!("device-key.{user}"))
}

impl DeviceIdentity {
    async fn generate(legacy_actor: Option<Vec<u8>>) -> Result<Self, StorageError> {
        let subtle = subtle()?;
        let usages = js_sys::Array::of2(&"sign".into(), &"verify".into());
        let pair = JsFuture::from(
            subtle
                .generate_key_with_str(ED25519, false, &usages)
                .map_err(|e| js_error("generating the device key", e))?,
        )
        .await
        .map_err(|e| js_error("generating the device key", e))?;
        let key = |name: &str| -> Result<CryptoKey, StorageError> {
            js_sys::Reflect::get(&pair, &name.into())
                .map_err(|e| js_error("reading the key pair", e))?
                .dyn_into::<CryptoKey>()
                .map_err(|e| js_error("reading the key pair", e))
        };
        let (private_key, public) = (key("privateKey")?, key("publicKey")?);
        let raw = JsFuture::from(
            subtle
                .export_key("raw", &public)
                .map_err(|e| js_error("exporting the public key", e))?,
        )
        .await
        .map_err(|e| js_error("exporting the public key", e))?;
        let id = random_bytes::<16>()?;
        Ok(Self {
            stored: StoredIdentity {
                device_id: format!("dev-{}", uuid::Uuid::from_bytes(id)),
                actor: legacy_actor
                    .filter(|a| a.len() == ACTOR_ID_BYTES)
                    .map_or_else(|| random_bytes::<ACTOR_ID_BYTES>().map(|a| a.to_vec()), Ok)?,
                public_key: js_sys::Uint8Array::new(&raw).to_vec(),
            },
            private_key,
        })
    }

    /// The identity this phone uses for `username`, made and saved on first use.
    pub async fn for_user(storage: &Storage, username: &str) -> Result<Self, StorageError> {
        let (data_key, private_key_key) = names(username);
        let stored = storage.meta::<StoredIdentity>(&data_key).await?;
        let private_key = storage.meta_js(&private_key_key).await?;
        if let (Some(stored), Some(private_key)) = (stored, private_key) {
            if let Ok(private_key) = private_key.dyn_into::<CryptoKey>() {
                if stored.actor.len() == ACTOR_ID_BYTES {
                    return Ok(Self {
                        stored,
                        private_key,
                    });
                }
            }
        }
        // Phones from before devices were enrolled had one actor for everything: the first
        // user to sign in takes it over, so their unsynced changes still come from this device.
        let legacy = storage
            .meta::<serde_bytes::ByteBuf>(LEGACY_ACTOR_KEY)
            .await?
            .map(serde_bytes::ByteBuf::into_vec);
        let identity = Self::generate(legacy).await?;
        storage
            .put_meta_js(&private_key_key, &identity.private_key)
            .await?;
        storage.put_meta(&data_key, &identity.stored).await?;
        storage.delete_meta(LEGACY_ACTOR_KEY).await?;
        Ok(identity)
    }

    /// The enrolled Ed25519 public key (32 bytes).
    pub fn public_key(&self) -> &[u8] {
        &self.stored.public_key
    }

    pub fn device_id(&self) -> &str {
        &self.stored.device_id
    }

    /// Signs `message` with the device's private key (Ed25519, 64 bytes).
    pub async fn sign(&self, message: &[u8]) -> Result<Vec<u8>, StorageError> {
        let signature = JsFuture::from(
            subtle()?
                .sign_with_str_and_u8_array(ED25519, &self.private_key, message)
                .map_err(|e| js_error("signing", e))?,
        )
        .await
        .map_err(|e| js_error("signing", e))?;
        Ok(js_sys::Uint8Array::new(&signature).to_vec())
    }

    pub fn actor_id(&self) -> ActorId {
        ActorId::from(self.stored.actor.as_slice())
    }

    /// The signed enrolment sent with a sign-in.
    pub async fn enrolment(&self, username: &str) -> Result<DeviceEnrolment, StorageError> {
        let username = username.trim();
        let message = enrolment_message(
            username,
            &self.stored.device_id,
            &self.stored.actor,
            &self.stored.public_key,
        );
        let signature = self.sign(&message).await?;
        let label: String = web_sys::window()
            .and_then(|w| w.navigator().user_agent().ok())
            .unwrap_or_default()
            .chars()
            .take(gatehouse_shared::device::MAX_DEVICE_LABEL_CHARS)
            .collect();
        Ok(DeviceEnrolment {
            device_id: self.stored.device_id.clone(),
            actor: self.stored.actor.clone(),
            public_key: self.stored.public_key.clone(),
            label,
            signature,
        })
    }
}

/// Whether `public_key` (raw Ed25519, 32 bytes) verifies `signature` over `message`, checked
/// by the browser's WebCrypto (the office checks the signatures it is shown).
pub async fn ed25519_verifies(public_key: &[u8], message: &[u8], signature: &[u8]) -> bool {
    let Ok(subtle) = subtle() else {
        return false;
    };
    let usages = js_sys::Array::of1(&"verify".into());
    let key_data = js_sys::Uint8Array::from(public_key);
    let Ok(import) = subtle.import_key_with_str("raw", &key_data, ED25519, false, &usages) else {
        return false;
    };
    let Ok(key) = JsFuture::from(import)
        .await
        .and_then(|k| k.dyn_into::<CryptoKey>())
    else {
        return false;
    };
    let Ok(verify) =
        subtle.verify_with_str_and_u8_array_and_u8_array(ED25519, &key, signature, message)
    else {
        return false;
    };
    JsFuture::from(verify)
        .await
        .is_ok_and(|answer| answer.as_bool() == Some(true))
}
