//! The shell: mounting, start-up (storage, records, session), the header with the
//! connection badge, the notice bar, and which screen is shown. The screens live in
//! `screens/`, each record kind's in `kinds/`.

use gatehouse_shared::connection::{Phase, Status};
use gatehouse_shared::user::SignInResponse;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::ctx::{Ctx, Screen};
use crate::i18n::*;
use crate::identity::DeviceIdentity;
use crate::screens;
use crate::single_writer;
use crate::storage::Storage;
use crate::sync_driver;
use crate::text::{saved_locale, switch_locale, tr};
use crate::widgets::lazy_view;

#[component]
pub fn App() -> impl IntoView {
    view! {
        <I18nContextProvider>
            <Shell/>
        </I18nContextProvider>
    }
}

/// Opens storage and reads the session; shows the sign-in form at once when there is none,
/// then opens the records (the engine's chunks, see `engine`) and goes on as the user
/// signed in before, if any.
async fn boot(ctx: Ctx) {
    let navigator = window().navigator();
    // Best effort: the app works without it, only less robustly.
    if let Ok(storage) = navigator.storage().persist() {
        let _ = storage;
    }
    // One tab at a time works with the records (see `single_writer`).
    if !single_writer::acquire().await {
        ctx.screen.set(Screen::OpenElsewhere);
        return;
    }
    single_writer::listen(move || {
        ctx.released.set(true);
        sync_driver::stop(ctx);
        ctx.screen.set(Screen::OpenElsewhere);
        wasm_bindgen_futures::future_to_promise(async move {
            ctx.until_writes_done().await;
            Ok(wasm_bindgen::JsValue::UNDEFINED)
        })
    });
    let storage = match Storage::open().await {
        Ok(storage) => storage,
        Err(error) => {
            leptos::logging::error!("opening storage failed: {error}");
            ctx.notify("error.not_saved", true);
            ctx.screen.set(Screen::SignIn);
            return;
        }
    };
    ctx.storage.set_value(Some(storage.clone()));
    let session = storage
        .meta::<SignInResponse>("session")
        .await
        .ok()
        .flatten();
    let identity = match &session {
        Some(session) => DeviceIdentity::for_user(&storage, &session.user.username)
            .await
            .ok(),
        None => None,
    };
    let signed_in = session.zip(identity);
    if signed_in.is_none() {
        ctx.screen.set(Screen::SignIn);
        ctx.changed();
    }
    // After the sign-in form shows (on a first start, its code would wait for theirs), and
    // both at once: a signed-in user waits for the records.
    spawn_local(crate::estates::restore(ctx, storage.clone()));
    crate::engine::open_records(ctx, storage, signed_in).await;
}

/// Fetches the screens a phone needs in the field (the guard's and the technician's home, a
/// record's screen and the kinds' bodies, the gate's slips and registry) and the rest of the
/// records engine while the app opens, before anyone signs
/// in: a guard who signs in and loses the network a second later still has them, before the
/// service worker has stored them for the next start. From the service worker's cache once
/// it has them. Then lets the service worker keep the whole app: not earlier, because on a
/// slow link its fetching every file of the app while the app opened made the sign-in form
/// wait 10 s for the one small chunk it needs.
async fn preload_field_screens() {
    type Preload = std::pin::Pin<Box<dyn std::future::Future<Output = ()>>>;
    // First what a user who signs in now waits for: the records engine and the homes. All at
    // once: each is a round trip (over half a second on a slow link) and waits for the shared
    // chunks anyway. The rest after, so as not to share the link with these.
    let first: Vec<Preload> = vec![
        Box::pin(crate::engine::__preload_open_records()),
        Box::pin(crate::engine::__preload_signed_in()),
        Box::pin(crate::kinds::patrol_log::__preload_patrol_home()),
        Box::pin(crate::kinds::repair::__preload_technician_home()),
        Box::pin(crate::screens::record::__preload_record_screen()),
    ];
    futures_util::future::join_all(first).await;
    let then: Vec<Preload> = vec![
        Box::pin(crate::kinds::patrol_log::__preload_patrol_record()),
        Box::pin(crate::kinds::repair::__preload_repair_body()),
        Box::pin(crate::kinds::release_slip::__preload_slips_screen()),
        Box::pin(crate::kinds::release_slip::__preload_slip_body()),
        Box::pin(crate::kinds::registry::__preload_registry_screen()),
        // What the engine runs for "sync now" and the export.
        Box::pin(crate::engine::__preload_sync_now()),
        Box::pin(crate::engine::__preload_export_unsynced()),
        // A phone told it is revoked shows this screen, maybe offline at once.
        Box::pin(crate::screens::home::__preload_device_revoked_screen()),
    ];
    futures_util::future::join_all(then).await;
    // Best effort: the app works without it, only less robustly.
    let _ = window().navigator().service_worker().register("/sw.js");
}

#[component]
fn Shell() -> impl IntoView {
    let i18n = use_i18n();
    // The provider's own effect picks the browser's language after mount; this effect,
    // created after it, applies the user's choice instead: zh-Hans unless they switched.
    Effect::new(move |_| i18n.set_locale(saved_locale()));
    let ctx = Ctx::new();
    provide_context(ctx);
    spawn_local(boot(ctx));
    spawn_local(preload_field_screens());
    // Only whether the device is revoked matters to the screen: a memo, so that the phase
    // changing otherwise (connecting, online, offline) does not rebuild the screen and lose
    // what is being typed.
    let revoked = Memo::new(move |_| ctx.phase.get() == Phase::DeviceRevoked);
    view! {
        <header class="top">
            <h1 class="brand">{t!(i18n, app.title)}</h1>
            <ConnectionBadge/>
            <button class="link" data-testid="lang-switch" on:click=move |_| switch_locale(i18n)>
                {t!(i18n, app.switch_language)}
            </button>
        </header>
        <main>
            {move || match if ctx.released.get() {
                Screen::OpenElsewhere
            } else if revoked.get() && ctx.screen.get() != Screen::SignIn {
                // A revoked phone writes nothing more: no screen with a form, only what
                // happened and the export of what it still holds.
                Screen::DeviceRevoked
            } else {
                ctx.screen.get()
            } {
                Screen::Loading => view! { <p class="muted">{t!(i18n, app.loading)}</p> }.into_any(),
                Screen::SignIn => view! { <screens::sign_in::SignIn/> }.into_any(),
                Screen::Home => view! { <screens::home::Home/> }.into_any(),
                Screen::Record(id) => lazy_view(screens::record::record_screen(id)),
                Screen::Registry => lazy_view(crate::kinds::registry::registry_screen()),
                Screen::Slips => lazy_view(crate::kinds::release_slip::slips_screen()),
                Screen::Register => lazy_view(crate::kinds::release_slip::register_screen()),
                Screen::NewRequest => lazy_view(crate::kinds::repair_request::new_request_screen()),
                Screen::Routes => lazy_view(crate::kinds::patrol_route::routes_screen()),
                Screen::FoundItems => lazy_view(crate::kinds::found_item::found_items_screen()),
                Screen::Notice => lazy_view(crate::kinds::found_item::notice_screen()),
                Screen::Account => lazy_view(screens::account::account()),
                Screen::OpenElsewhere => view! { <OpenElsewhere/> }.into_any(),
                Screen::DeviceRevoked => lazy_view(screens::home::device_revoked_screen()),
            }}
        </main>
        <NoticeBar/>
    }
}

/// Shown in a tab while another tab or window of the app on this phone holds the records.
#[component]
fn OpenElsewhere() -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <section class="card warning" data-testid="open-elsewhere">
            <p>{t!(i18n, app.open_elsewhere)}</p>
            <button class="primary" data-testid="use-here" on:click=move |_| single_writer::use_here()>
                {t!(i18n, app.use_here)}
            </button>
        </section>
    }
}

#[component]
fn ConnectionBadge() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let i18n = use_i18n();
    let phase_name = move || match ctx.status.get() {
        Status::Offline => "offline",
        Status::Connecting => "connecting",
        Status::Online => "online",
        Status::SignedOut => "signed_out",
        Status::DeviceRevoked => "device_revoked",
        Status::MustUpdate => "must_update",
    };
    let label = move || match ctx.status.get() {
        Status::Offline => t_string!(i18n, connection.offline).to_string(),
        Status::Connecting => t_string!(i18n, connection.connecting).to_string(),
        Status::Online => t_string!(i18n, connection.online).to_string(),
        Status::SignedOut => t_string!(i18n, connection.signed_out).to_string(),
        Status::DeviceRevoked => t_string!(i18n, connection.revoked_short).to_string(),
        Status::MustUpdate => t_string!(i18n, connection.must_update).to_string(),
    };
    view! {
        // Before sign-in there is no connection to speak of: the sign-in screen says what it
        // needs itself.
        <Show when=move || ctx.session.get().is_some()>
            <span class="connection" data-testid="connection-status" data-phase=phase_name>{label}</span>
            <button class="link" data-testid="sync-now" on:click=move |_| {
                // With no connection, say so: the records wait on the phone and go by themselves.
                if ctx.status.get_untracked() != Status::Online {
                    ctx.notify("connection.sync_waits", false);
                }
                spawn_local(crate::engine::sync_now(ctx));
            }>
                {t!(i18n, connection.sync_now)}
            </button>
        </Show>
    }
}

#[component]
fn NoticeBar() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let i18n = use_i18n();
    Effect::new(move |_| {
        if let Some(notice) = ctx.notice.get() {
            set_timeout(
                move || {
                    if ctx
                        .notice
                        .get_untracked()
                        .is_some_and(|n| n.serial == notice.serial)
                    {
                        ctx.notice.set(None);
                    }
                },
                std::time::Duration::from_secs(5),
            );
        }
    });
    view! {
        {move || ctx.notice.get().map(|notice| {
            let class = if notice.is_error { "notice error" } else { "notice" };
            view! { <div class=class data-testid="notice" role="status">{move || tr(i18n, notice.key)}</div> }
        })}
    }
}
