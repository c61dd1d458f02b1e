//! Signing in: enrols this phone for the user (device ID, actor, key) and starts syncing.

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::{self, ApiError};
use crate::ctx::Ctx;
use crate::i18n::*;
use crate::identity::DeviceIdentity;
use crate::offline_sign_in::{self, OfflineError};
use crate::screens::home::UnsyncedPanel;
use crate::sync_driver;
use crate::text::tr;
use crate::time::now_ms;
use crate::widgets::lazy_view;

/// Why a sign-in did not happen, as the form says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refusal {
    /// A message by its key.
    Key(&'static str),
    /// Offline sign-in refused.
    Offline(OfflineError),
}

#[component]
pub fn SignIn() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let i18n = use_i18n();
    let username = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let error = RwSignal::new(None::<Refusal>);
    let busy = RwSignal::new(false);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        busy.set(true);
        error.set(None);
        spawn_local(async move {
            let name = username.get_untracked();
            let Some(storage) = ctx.storage.get_value() else {
                busy.set(false);
                error.set(Some(Refusal::Key("error.not_saved")));
                return;
            };
            let identity = match DeviceIdentity::for_user(&storage, &name).await {
                Ok(identity) => identity,
                Err(failure) => {
                    // No IndexedDB, or a browser without WebCrypto Ed25519 keys.
                    leptos::logging::error!("device identity: {failure}");
                    busy.set(false);
                    error.set(Some(Refusal::Key("sign_in.no_device_key")));
                    return;
                }
            };
            let enrolment = match identity.enrolment(&name).await {
                Ok(enrolment) => enrolment,
                Err(failure) => {
                    leptos::logging::error!("device enrolment: {failure}");
                    busy.set(false);
                    error.set(Some(Refusal::Key("sign_in.failed")));
                    return;
                }
            };
            let secret = password.get_untracked();
            let mut result = api::sign_in(&name, &secret, enrolment).await;
            let mut offline = false;
            let reached_server = !matches!(result, Err(ApiError::Unreachable));
            if !reached_server {
                // No network: a user who signed in on this phone before goes on offline,
                // unless the phone was told it is revoked.
                if sync_driver::is_revoked(&storage).await {
                    result = Err(ApiError::DeviceRevoked);
                } else {
                    match offline_sign_in::sign_in(
                        storage.clone(),
                        name.clone(),
                        secret.clone(),
                        now_ms(),
                    )
                    .await
                    {
                        Ok(session) => {
                            offline = true;
                            result = Ok(session);
                        }
                        Err(refused) => {
                            busy.set(false);
                            error.set(Some(Refusal::Offline(refused)));
                            return;
                        }
                    }
                }
            }
            match result {
                Ok(session) => {
                    let stored = if offline {
                        storage.put_meta("session", &session).await.is_ok()
                    } else {
                        // Signed in: the device is not revoked (any more).
                        storage.put_meta("session", &session).await.is_ok()
                            && storage.delete_meta(sync_driver::REVOKED_KEY).await.is_ok()
                    };
                    if !stored {
                        ctx.notify("error.not_saved", true);
                    } else if offline {
                        ctx.notify("sign_in.offline_done", false);
                    }
                    password.set(String::new());
                    if !offline {
                        // For the next sign-in with no network; after the first screen is up
                        // (the memory-hard KDF holds the page for a moment).
                        let session = session.clone();
                        spawn_local(async move {
                            crate::time::sleep(1_500).await;
                            if !offline_sign_in::remember(storage, name, secret, session).await {
                                leptos::logging::warn!("offline sign-in not kept");
                            }
                        });
                    }
                    // Stays busy until the user's records show (on a first start, the
                    // records' code may still be loading): a second tap signs in twice.
                    crate::engine::signed_in(ctx, session, identity).await;
                    busy.set(false);
                }
                Err(failure) => {
                    busy.set(false);
                    if reached_server
                        && matches!(failure, ApiError::BadCredentials | ApiError::DeviceRevoked)
                    {
                        // The server says this password, or this phone, no longer opens the
                        // account: neither does it offline.
                        offline_sign_in::forget(&storage, &name).await;
                    }
                    error.set(Some(Refusal::Key(match failure {
                        ApiError::BadCredentials => "sign_in.invalid",
                        ApiError::Unreachable => "sign_in.needs_network",
                        ApiError::TooManyAttempts => "sign_in.too_many",
                        ApiError::DeviceRevoked => "sign_in.device_revoked",
                        ApiError::Conflict => "sign_in.device_conflict",
                        _ => "sign_in.failed",
                    })));
                }
            }
        });
    };
    view! {
        <form class="card" on:submit=submit>
            <h2>{t!(i18n, sign_in.title)}</h2>
            <label>{t!(i18n, sign_in.username)}
                <input data-testid="username" autocomplete="username" prop:value=move || username.get()
                    on:input=move |ev| username.set(event_target_value(&ev))/>
            </label>
            <label>{t!(i18n, sign_in.password)}
                <input data-testid="password" type="password" autocomplete="current-password"
                    prop:value=move || password.get() on:input=move |ev| password.set(event_target_value(&ev))/>
            </label>
            {move || error.get().map(|refusal| view! {
                <p class="problems" data-testid="sign-in-error">{match refusal {
                    Refusal::Key(key) => tr(i18n, key).into_any(),
                    Refusal::Offline(refused) => lazy_view(offline_sign_in::refusal_message(refused)),
                }}</p>
            })}
            <button class="primary" type="submit" data-testid="sign-in" disabled=move || busy.get()>
                {t!(i18n, sign_in.submit)}
            </button>
        </form>
        <UnsyncedPanel/>
    }
}
