//! Signing in: enrols this phone for the user (device ID, actor, key) and starts syncing.

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::{self, ApiError};
use crate::ctx::{Ctx, Screen};
use crate::i18n::*;
use crate::identity::DeviceIdentity;
use crate::screens::home::UnsyncedPanel;
use crate::sync_driver;
use crate::text::tr;

#[component]
pub fn SignIn() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let i18n = use_i18n();
    let username = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let error = RwSignal::new(None::<&'static str>);
    let busy = RwSignal::new(false);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        busy.set(true);
        error.set(None);
        spawn_local(async move {
            let name = username.get_untracked();
            let Some(storage) = ctx.storage.get_value() else {
                busy.set(false);
                error.set(Some("error.not_saved"));
                return;
            };
            let identity = match DeviceIdentity::for_user(&storage, &name).await {
                Ok(identity) => identity,
                Err(failure) => {
                    // No IndexedDB, or a browser without WebCrypto Ed25519 keys.
                    leptos::logging::error!("device identity: {failure}");
                    busy.set(false);
                    error.set(Some("sign_in.no_device_key"));
                    return;
                }
            };
            let enrolment = match identity.enrolment(&name).await {
                Ok(enrolment) => enrolment,
                Err(failure) => {
                    leptos::logging::error!("device enrolment: {failure}");
                    busy.set(false);
                    error.set(Some("sign_in.failed"));
                    return;
                }
            };
            let result = api::sign_in(&name, &password.get_untracked(), enrolment).await;
            busy.set(false);
            match result {
                Ok(session) => {
                    ctx.model
                        .update_value(|m| m.sign_in(&session.user.id, identity.actor_id()));
                    ctx.set_identity(identity.clone());
                    let stored = match ctx.storage.get_value() {
                        // Signed in: the device is not revoked (any more).
                        Some(storage) => {
                            storage.put_meta("session", &session).await.is_ok()
                                && storage.delete_meta(sync_driver::REVOKED_KEY).await.is_ok()
                        }
                        None => false,
                    };
                    if !stored {
                        ctx.notify("error.not_saved", true);
                    }
                    password.set(String::new());
                    ctx.session.set(Some(session));
                    ctx.screen.set(Screen::Home);
                    sync_driver::start(ctx);
                }
                Err(ApiError::BadCredentials) => error.set(Some("sign_in.invalid")),
                Err(ApiError::Unreachable) => error.set(Some("sign_in.needs_network")),
                Err(ApiError::TooManyAttempts) => error.set(Some("sign_in.too_many")),
                Err(ApiError::DeviceRevoked) => error.set(Some("sign_in.device_revoked")),
                Err(ApiError::Conflict) => error.set(Some("sign_in.device_conflict")),
                Err(_) => error.set(Some("sign_in.failed")),
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
            {move || error.get().map(|key| view! { <p class="problems" data-testid="sign-in-error">{move || tr(i18n, key)}</p> })}
            <button class="primary" type="submit" data-testid="sign-in" disabled=move || busy.get()>
                {t!(i18n, sign_in.submit)}
            </button>
        </form>
        <UnsyncedPanel/>
    }
}
