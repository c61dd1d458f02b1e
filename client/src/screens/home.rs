//! The signed-in home: who is signed in, the session-ended notice, records waiting for the
//! server, and the role's own screen.

use gatehouse_shared::connection::Phase;
use gatehouse_shared::device::short_device_id;
use gatehouse_shared::{RecordKind, Role};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api;
use crate::ctx::{Ctx, Screen};
use crate::i18n::*;
use crate::kinds::repair;
use crate::screens::admin;
use crate::screens::office;
use crate::sync_driver;
use crate::widgets::lazy_view;

#[component]
pub fn Home() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let i18n = use_i18n();
    let user = move || ctx.session.get().map(|s| s.user);
    // The screen below depends on the role only: a refreshed account (say, a new estate)
    // must not rebuild it and lose what is being typed.
    let role = Memo::new(move |_| ctx.session.get().map(|s| s.user.role));
    let sign_out = move |_| {
        let waiting = ctx.model.with_value(|m| m.unsynced().len());
        if waiting > 0 {
            // They stay on the phone; the sign-in screen says how many and offers the export.
            ctx.notify("unsynced.kept", true);
        }
        spawn_local(async move {
            if let Some(session) = ctx.session.get_untracked() {
                // Records that have not reached the server stay on the phone.
                let _ = api::sign_out(&session.token).await;
            }
            back_to_sign_in(ctx).await;
        });
    };
    view! {
        <div class="whoami">
            <span data-testid="user-name">{move || user().map(|u| u.display_name)}</span>
            " · "
            <span>{move || user().map(|u| u.estate_name)}</span>
            " · "
            // The same short ID as in the admin's list of devices.
            <span class="muted" data-testid="device-id" title=move || t_string!(i18n, app.device).to_string()
                data-device=move || ctx.session.get().map(|s| s.device_id)>
                {move || ctx.session.get().map(|s| short_device_id(&s.device_id).to_owned())}
            </span>
            <button class="link" data-testid="account" on:click=move |_| ctx.screen.set(Screen::Account)>{t!(i18n, account.title)}</button>
            <button class="link" data-testid="sign-out" on:click=sign_out>{t!(i18n, app.sign_out)}</button>
        </div>
        <SessionEnded/>
        <UnsyncedPanel/>
        <div class="actions menu">
            <Show when=move || role.get().is_some_and(|r| r.works_with(RecordKind::ReleaseSlip))>
                <button class="secondary" data-testid="open-slips" on:click=move |_| ctx.screen.set(Screen::Slips)>
                    {move || if role.get() == Some(Role::Guard) {
                        t_string!(i18n, slip.gate_title)
                    } else {
                        t_string!(i18n, slip.title)
                    }}
                </button>
            </Show>
            <Show when=move || role.get().is_some_and(|r| r.starts(RecordKind::RepairRequest))>
                <button class="secondary" data-testid="open-new-request" on:click=move |_| ctx.screen.set(Screen::NewRequest)>
                    {t!(i18n, request.new_order)}
                </button>
            </Show>
            <Show when=move || role.get().is_some_and(|r| r.starts(RecordKind::PatrolRoute))>
                <button class="secondary" data-testid="open-routes" on:click=move |_| ctx.screen.set(Screen::Routes)>
                    {t!(i18n, route.title)}
                </button>
            </Show>
            <Show when=move || role.get().is_some_and(|r| r.works_with(RecordKind::FoundItem) && r != Role::Cleaner)>
                <button class="secondary" data-testid="open-found-items" on:click=move |_| ctx.screen.set(Screen::FoundItems)>
                    {t!(i18n, found.title)}
                </button>
            </Show>
            <Show when=move || role.get().is_some_and(|r| r.lists_records())>
                <button class="secondary" data-testid="open-register" on:click=move |_| ctx.screen.set(Screen::Register)>
                    {t!(i18n, register.title)}
                </button>
            </Show>
            <Show when=move || role.get().is_some_and(|r| r.follows(RecordKind::Registry))>
                <button class="secondary" data-testid="open-registry" on:click=move |_| ctx.screen.set(Screen::Registry)>
                    {t!(i18n, registry.title)}
                </button>
            </Show>
        </div>
        {move || match role.get() {
            Some(Role::Office) => lazy_view(office::office_home()),
            Some(Role::Guard) => lazy_view(crate::kinds::patrol_log::patrol_home()),
            Some(Role::Admin) => lazy_view(admin::admin_home()),
            Some(Role::Technician) => lazy_view(repair::technician_home()),
            // A cleaner registers found items and sees their own: that is their home.
            Some(Role::Cleaner) => lazy_view(crate::kinds::found_item::found_items_screen()),
            None => ().into_any(),
        }}
    }
}

/// Forgets the session on this phone and shows the sign-in screen; every record stays.
async fn back_to_sign_in(ctx: Ctx) {
    if let Some(storage) = ctx.storage.get_value() {
        let _ = storage.delete_meta("session").await;
    }
    sync_driver::stop(ctx);
    ctx.model.update_value(|m| m.sign_out());
    ctx.session.set(None);
    ctx.screen.set(Screen::SignIn);
}

/// Shown when the server ended the session: syncing has stopped, nothing on the phone is
/// deleted, and the user can sign in again. (A revoked device gets a screen of its own.)
#[component]
fn SessionEnded() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let i18n = use_i18n();
    let ended = move || ctx.phase.get() == Phase::SignedOut;
    let sign_in_again = move |_| {
        spawn_local(back_to_sign_in(ctx));
    };
    view! {
        <Show when=ended>
            <section class="card warning" data-testid="session-ended">
                <p>{t!(i18n, connection.signed_out)}</p>
                <button class="secondary" data-testid="sign-in-again" on:click=sign_in_again>
                    {t!(i18n, sign_in.again)}
                </button>
            </section>
        </Show>
    }
}

/// The whole screen of a revoked device, loaded on first use (the service worker keeps its
/// chunk with the app's files, so it opens offline).
#[lazy]
pub fn device_revoked_screen() -> AnyView {
    view! { <DeviceRevoked/> }.into_any()
}

/// What happened, what becomes of the records still on the device (exported, or sent once
/// an admin restores the device and the user signs in again), and no form that could write
/// anything new.
#[component]
fn DeviceRevoked() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let i18n = use_i18n();
    view! {
        <section class="card warning" data-testid="device-revoked">
            <h2>{t!(i18n, revoked.title)}</h2>
            <p>{t!(i18n, revoked.what_happened)}</p>
            <p>{t!(i18n, revoked.records)}</p>
        </section>
        <UnsyncedPanel/>
        <section class="card">
            <p class="muted">{t!(i18n, revoked.restored_hint)}</p>
            <button class="secondary" data-testid="sign-in-again" on:click=move |_| spawn_local(back_to_sign_in(ctx))>
                {t!(i18n, sign_in.again)}
            </button>
        </section>
    }
}

/// How many records have not reached the server, with the export.
#[component]
pub fn UnsyncedPanel() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let i18n = use_i18n();
    let count = move || ctx.unsynced_count();
    view! {
        <Show when=move || count() != 0>
            <section class="card" data-testid="unsynced-panel">
                <p>
                    {t!(i18n, unsynced.waiting, count = move || view! { <strong data-testid="unsynced-count">{count}</strong> })}
                </p>
                <button class="secondary" data-testid="export-unsynced" on:click=move |_| spawn_local(crate::engine::export_unsynced(ctx))>
                    {t!(i18n, unsynced.export)}
                </button>
            </section>
        </Show>
    }
}
