//! Signing in again with no network, on a phone the user has signed in on before.
//!
//! When an online sign-in succeeds, the phone keeps, for that username, a verifier made with
//! Argon2id (memory-hard: 19 MiB, 2 passes, as the server hashes passwords) from the password
//! and a fresh random salt: the first 32 bytes of its output are compared at an offline
//! sign-in; the bytes after them seal the session token (XOR: a new salt, so a new pad, each
//! time it is written). The password itself is never kept. The user's account and device as
//! the server last described them are kept with it.
//!
//! Offline, a wrong password counts: after [`FREE_ATTEMPTS`] in a row the phone refuses
//! offline sign-in for [`LOCK_MINUTES`] minutes, doubling with each further failure; a right
//! password, or any online sign-in, starts the count again. (Whoever holds the phone and can
//! read its storage can still guess offline: the memory-hard KDF is what makes that slow.)
//!
//! What the session can do is the server's to decide when the network returns: the sealed
//! token still works if the server never heard of a sign-out (it happened offline); if the
//! session ended (signed out online, expired, revoked, the password changed), the phone says
//! so and the user signs in online once, and the records written meanwhile are sent then.

use gatehouse_shared::user::SignInResponse;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::i18n::*;
use crate::storage::Storage;
use crate::time::format_time;

/// Wrong passwords in a row before offline sign-in is locked.
pub const FREE_ATTEMPTS: u32 = 5;
/// How long the first lock lasts.
pub const LOCK_MINUTES: i64 = 5;
/// Offline sign-in works for this many days after the last online one; then the phone must
/// reach the server (a revocation or a password change is heard of there).
pub const OFFLINE_DAYS: i64 = 14;
/// Argon2id cost: memory in KiB, passes, lanes.
const MEMORY_KIB: u32 = 19 * 1024;
const PASSES: u32 = 2;
const LANES: u32 = 1;
/// Bytes of the derived output compared at sign-in.
const CHECK_BYTES: usize = 32;

/// What the phone keeps for one username.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Verifier {
    session: SealedSession,
    salt: Vec<u8>,
    memory_kib: u32,
    passes: u32,
    lanes: u32,
    check: Vec<u8>,
    failures: u32,
    /// Until when (ms since the Unix epoch) offline sign-in is refused.
    locked_until: i64,
    /// When the online sign-in that wrote it happened (the phone's clock).
    #[serde(default)]
    signed_in_at: i64,
}

/// The session as the server gave it, its token sealed.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct SealedSession {
    sealed_token: Vec<u8>,
    user: gatehouse_shared::UserInfo,
    device_id: String,
}

/// Why an offline sign-in did not happen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OfflineError {
    /// The user has not signed in on this phone (or its storage is gone): the network is needed.
    NotKnown,
    /// Wrong password; this many attempts are left before the lock.
    Wrong { left: u32 },
    /// Too many wrong passwords: refused until then (ms since the Unix epoch).
    Locked { until: i64 },
    /// The last online sign-in is more than [`OFFLINE_DAYS`] old.
    TooOld,
    /// The phone's storage failed.
    Storage,
}

fn key(username: &str) -> String {
    format!("offline_sign_in:{}", username.trim().to_lowercase())
}

/// Argon2id of `password` with `salt`, `len` bytes.
fn derive(password: String, salt: Vec<u8>, cost: (u32, u32, u32), len: usize) -> Option<Vec<u8>> {
    let params = argon2::Params::new(cost.0, cost.1, cost.2, Some(len)).ok()?;
    let kdf = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    let mut out = vec![0; len];
    kdf.hash_password_into(password.as_bytes(), &salt, &mut out)
        .ok()?;
    Some(out)
}

fn xor(a: &[u8], b: &[u8]) -> Vec<u8> {
    a.iter().zip(b).map(|(x, y)| x ^ y).collect()
}

/// Equal without telling, by its time, how much of it matched.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// After an online sign-in with `password`: keeps the verifier and the sealed session.
/// Loaded on first use with the KDF, like everything of offline sign-in but its call.
#[lazy]
pub async fn remember(
    storage: Storage,
    username: String,
    password: String,
    session: SignInResponse,
) -> bool {
    let mut salt = vec![0; 16];
    if getrandom::fill(&mut salt).is_err() {
        return false;
    }
    let token = session.token.as_bytes();
    let cost = (MEMORY_KIB, PASSES, LANES);
    let Some(out) = derive(password, salt.clone(), cost, CHECK_BYTES + token.len()) else {
        return false;
    };
    let verifier = Verifier {
        session: SealedSession {
            sealed_token: xor(token, &out[CHECK_BYTES..]),
            user: session.user.clone(),
            device_id: session.device_id.clone(),
        },
        salt,
        memory_kib: cost.0,
        passes: cost.1,
        lanes: cost.2,
        check: out[..CHECK_BYTES].to_vec(),
        failures: 0,
        locked_until: 0,
        signed_in_at: crate::time::now_ms(),
    };
    storage.put_meta(&key(&username), &verifier).await.is_ok()
}

/// Offline sign-in for `username` ends on this phone (the server refused the password, ended
/// the session or revoked the device) until the next online sign-in.
pub async fn forget(storage: &Storage, username: &str) {
    if let Err(error) = storage.delete_meta(&key(username)).await {
        leptos::logging::error!("forgetting offline sign-in failed: {error}");
    }
}

/// Signs `username` in with no network, at `now` (the phone's clock): the session kept at
/// the last online sign-in, if `password` is the one used then.
#[lazy]
pub async fn sign_in(
    storage: Storage,
    username: String,
    password: String,
    now: i64,
) -> Result<SignInResponse, OfflineError> {
    let username = username.as_str();
    let mut verifier: Verifier = match storage.meta(&key(username)).await {
        Ok(Some(verifier)) => verifier,
        Ok(None) => return Err(OfflineError::NotKnown),
        Err(_) => return Err(OfflineError::Storage),
    };
    if now.saturating_sub(verifier.signed_in_at) > OFFLINE_DAYS * 86_400_000 {
        return Err(OfflineError::TooOld);
    }
    if verifier.locked_until > now {
        return Err(OfflineError::Locked {
            until: verifier.locked_until,
        });
    }
    let sealed = &verifier.session.sealed_token;
    let out = derive(
        password,
        verifier.salt.clone(),
        (verifier.memory_kib, verifier.passes, verifier.lanes),
        CHECK_BYTES + sealed.len(),
    )
    .ok_or(OfflineError::Storage)?;
    if !same(&out[..CHECK_BYTES], &verifier.check) {
        verifier.failures += 1;
        let over = verifier.failures.saturating_sub(FREE_ATTEMPTS);
        let result = if verifier.failures >= FREE_ATTEMPTS {
            let minutes = LOCK_MINUTES << over.min(10);
            verifier.locked_until = now + minutes * 60_000;
            OfflineError::Locked {
                until: verifier.locked_until,
            }
        } else {
            OfflineError::Wrong {
                left: FREE_ATTEMPTS - verifier.failures,
            }
        };
        storage
            .put_meta(&key(username), &verifier)
            .await
            .map_err(|_| OfflineError::Storage)?;
        return Err(result);
    }
    if verifier.failures > 0 {
        verifier.failures = 0;
        let _ = storage.put_meta(&key(username), &verifier).await;
    }
    let token =
        String::from_utf8(xor(sealed, &out[CHECK_BYTES..])).map_err(|_| OfflineError::Storage)?;
    Ok(SignInResponse {
        token,
        user: verifier.session.user,
        device_id: verifier.session.device_id,
    })
}

/// What the sign-in form says of a refused offline sign-in.
#[lazy]
pub fn refusal_message(refused: OfflineError) -> AnyView {
    let i18n = use_i18n();
    match refused {
        OfflineError::NotKnown => t!(i18n, sign_in.needs_network).into_any(),
        OfflineError::Wrong { left } => t!(i18n, sign_in.offline_wrong, left = left).into_any(),
        OfflineError::Locked { until } => {
            let time = format_time(until);
            t!(i18n, sign_in.offline_locked, time = time).into_any()
        }
        OfflineError::TooOld => t!(i18n, sign_in.offline_too_old, days = OFFLINE_DAYS).into_any(),
        OfflineError::Storage => t!(i18n, error.not_saved).into_any(),
    }
}
