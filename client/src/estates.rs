//! The settings of the signed-in user's estates that the rules read on the phone (how long
//! found items are kept before the notice and disposal): fetched from `GET /api/estates`
//! each time the server sends the whole follow set (after each welcome, and when an estate's
//! settings change), and kept in storage so that the phone judges
//! by them offline. Until a phone has them, it judges by the defaults (the server, which
//! always has them, has the last word). Reading and writing them load lazily: only the
//! settings themselves are in the main module.

use gatehouse_shared::user::EstateSettings;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api;
use crate::ctx::Ctx;
use crate::storage::Storage;

const KEY: &str = "estate_settings";

/// Reads the settings kept on the phone, unless newer ones were fetched meanwhile (a user
/// who signed in before they were read).
pub async fn restore(ctx: Ctx, storage: Storage) {
    restore_kept(ctx, storage).await;
}

#[lazy]
async fn restore_kept(ctx: Ctx, storage: Storage) {
    match storage.meta::<Vec<EstateSettings>>(KEY).await {
        Ok(Some(settings)) => ctx.estate_settings.update(|current| {
            if current.is_empty() {
                *current = settings;
            }
        }),
        Ok(None) => {}
        Err(error) => leptos::logging::warn!("reading estate settings failed: {error}"),
    }
}

/// Fetches the settings again and keeps them; a failure leaves the ones the phone has.
pub fn refresh(ctx: Ctx) {
    let Some(token) = ctx.session.get_untracked().map(|s| s.token) else {
        return;
    };
    let Some(storage) = ctx.storage.get_value() else {
        return;
    };
    spawn_local(fetch_and_keep(ctx, token, storage));
}

#[lazy]
async fn fetch_and_keep(ctx: Ctx, token: String, storage: Storage) {
    let settings = match api::my_estates(&token).await {
        Ok(settings) => settings,
        Err(error) => {
            leptos::logging::warn!("fetching estate settings failed: {error:?}");
            return;
        }
    };
    if let Err(error) = storage.put_meta(KEY, &settings).await {
        leptos::logging::warn!("keeping estate settings failed: {error}");
    }
    ctx.estate_settings.set(settings);
}
