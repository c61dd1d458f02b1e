//! The screens: sign-in, the guard's patrol rounds, the office's list, and one record.

use automerge::ActorId;
use gatehouse_shared::connection::Phase;
use gatehouse_shared::user::SignInResponse;
use gatehouse_shared::{
    CheckpointVisit, DocumentId, Finding, PatrolLog, Problem, Remark, Role, Severity,
};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::{self, ApiError};
use crate::ctx::{Ctx, EditError, Screen};
use crate::i18n::*;
use crate::identity::DeviceIdentity;
use crate::model::{Model, RecordStatus};
use crate::storage::Storage;
use crate::sync_driver;
use crate::time::{format_time, now_ms};
use leptos_i18n::I18nContext;

const LOCALE_KEY: &str = "gatehouse.locale";

/// Translates a key that is only known at run time (notices, rule problems).
pub(crate) fn tr(i18n: I18nContext<Locale>, key: &str) -> String {
    let text = match key {
        "saved.round" => t_string!(i18n, saved.round),
        "saved.ended" => t_string!(i18n, saved.ended),
        "visit.saved" => t_string!(i18n, visit.saved),
        "finding.saved" => t_string!(i18n, finding.saved),
        "remark.saved" => t_string!(i18n, remark.saved),
        "error.not_saved" => t_string!(i18n, error.not_saved),
        "error.unauthorized" => t_string!(i18n, error.unauthorized),
        "error.forbidden" => t_string!(i18n, error.forbidden),
        "error.internal" => t_string!(i18n, error.internal),
        "error.rejected" => t_string!(i18n, error.rejected),
        "connection.signed_out" => t_string!(i18n, connection.signed_out),
        "connection.device_revoked" => t_string!(i18n, connection.device_revoked),
        "sign_in.device_revoked" => t_string!(i18n, sign_in.device_revoked),
        "sign_in.device_conflict" => t_string!(i18n, sign_in.device_conflict),
        "sign_in.no_device_key" => t_string!(i18n, sign_in.no_device_key),
        "unsynced.kept" => t_string!(i18n, unsynced.kept),
        "export.done" => t_string!(i18n, export.done),
        "export.failed" => t_string!(i18n, export.failed),
        "correct.done" => t_string!(i18n, correct.done),
        "admin.revoked" => t_string!(i18n, admin.revoked),
        "admin.user_created" => t_string!(i18n, admin.user_created),
        "admin.estate_created" => t_string!(i18n, admin.estate_created),
        "admin.estate_invalid" => t_string!(i18n, admin.estate_invalid),
        "admin.estate_taken" => t_string!(i18n, admin.estate_taken),
        "admin.user_invalid" => t_string!(i18n, admin.user_invalid),
        "admin.username_taken" => t_string!(i18n, admin.username_taken),
        "account.password_changed" => t_string!(i18n, account.password_changed),
        "account.wrong_password" => t_string!(i18n, account.wrong_password),
        "account.password_too_short" => t_string!(i18n, account.password_too_short),
        "account.needs_network" => t_string!(i18n, account.needs_network),
        "admin.failed" => t_string!(i18n, admin.failed),
        "validation.in_future" => t_string!(i18n, validation.in_future),
        "validation.foreign_actor" => t_string!(i18n, validation.foreign_actor),
        "validation.role_forbids" => t_string!(i18n, validation.role_forbids),
        "validation.document_too_large" => t_string!(i18n, validation.document_too_large),
        "validation.correct_first" => t_string!(i18n, validation.correct_first),
        "connection.must_update" => t_string!(i18n, connection.must_update),
        "sign_in.invalid" => t_string!(i18n, sign_in.invalid),
        "sign_in.needs_network" => t_string!(i18n, sign_in.needs_network),
        "sign_in.failed" => t_string!(i18n, sign_in.failed),
        "sign_in.too_many" => t_string!(i18n, sign_in.too_many),
        "validation.required" => t_string!(i18n, validation.required),
        "validation.too_long" => t_string!(i18n, validation.too_long),
        "validation.ends_before_start" => t_string!(i18n, validation.ends_before_start),
        "validation.before_round_start" => t_string!(i18n, validation.before_round_start),
        "validation.duplicate_id" => t_string!(i18n, validation.duplicate_id),
        "validation.other_estate" => t_string!(i18n, validation.other_estate),
        "validation.not_a_record" => t_string!(i18n, validation.not_a_record),
        "validation.estate_changed" => t_string!(i18n, validation.estate_changed),
        "validation.creator_changed" => t_string!(i18n, validation.creator_changed),
        "validation.creator_not_writer" => t_string!(i18n, validation.creator_not_writer),
        "validation.entry_deleted" => t_string!(i18n, validation.entry_deleted),
        "field.route" => t_string!(i18n, field.route),
        "field.checkpoint" => t_string!(i18n, field.checkpoint),
        "field.note" => t_string!(i18n, field.note),
        "field.what" => t_string!(i18n, field.what),
        "field.location" => t_string!(i18n, field.location),
        "field.text" => t_string!(i18n, field.text),
        "field.other" => t_string!(i18n, field.other),
        "field.time" => t_string!(i18n, field.time),
        _ => t_string!(i18n, validation.unknown),
    };
    text.to_string()
}

/// "Field: message" for a problem found by the rules.
fn problem_text(i18n: I18nContext<Locale>, problem: &Problem) -> String {
    let field = problem.path.rsplit('.').next().unwrap_or_default();
    let field = field.split('[').next().unwrap_or_default();
    let label_key = match field {
        "route" | "checkpoint" | "note" | "what" | "location" | "text" => format!("field.{field}"),
        "visited_at" | "found_at" | "started_at" | "ended_at" | "written_at" => {
            "field.time".to_owned()
        }
        _ => "field.other".to_owned(),
    };
    format!("{}: {}", tr(i18n, &label_key), tr(i18n, &problem.key))
}

fn saved_locale() -> Locale {
    let stored = window()
        .local_storage()
        .ok()
        .flatten()
        .and_then(|s| s.get_item(LOCALE_KEY).ok().flatten());
    match stored.as_deref() {
        Some("en") => Locale::en,
        _ => Locale::zh_Hans,
    }
}

fn switch_locale(i18n: I18nContext<Locale>) {
    let next = match i18n.get_locale_untracked() {
        Locale::zh_Hans => Locale::en,
        Locale::en => Locale::zh_Hans,
    };
    i18n.set_locale(next);
    if let Ok(Some(storage)) = window().local_storage() {
        let _ = storage.set_item(
            LOCALE_KEY,
            if next == Locale::en { "en" } else { "zh-Hans" },
        );
    }
}

#[component]
pub fn App() -> impl IntoView {
    view! {
        <I18nContextProvider>
            <Shell/>
        </I18nContextProvider>
    }
}

/// Opens storage, restores records and the session, and starts syncing.
async fn boot(ctx: Ctx) {
    let navigator = window().navigator();
    // Best effort: the app works without them, only less robustly.
    let _ = navigator.service_worker().register("/sw.js");
    if let Ok(storage) = navigator.storage().persist() {
        let _ = storage;
    }
    let storage = match Storage::open().await {
        Ok(storage) => storage,
        Err(error) => {
            leptos::logging::error!("opening storage failed: {error}");
            ctx.notify("error.not_saved", true);
            ctx.screen.set(Screen::SignIn);
            return;
        }
    };
    let stored = storage.all_records().await.unwrap_or_else(|error| {
        leptos::logging::error!("reading records failed: {error}");
        Vec::new()
    });
    // The actor is replaced by the signed-in user's device actor below or at sign-in.
    let (model, unreadable) = Model::restore(ActorId::random(), stored);
    if unreadable > 0 {
        leptos::logging::warn!(
            "{unreadable} stored records could not be read; they are kept untouched"
        );
    }
    ctx.model.set_value(model);
    ctx.storage.set_value(Some(storage.clone()));
    sync_driver::install(ctx);
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
    match (session, identity) {
        (Some(session), Some(identity)) => {
            ctx.model
                .update_value(|m| m.sign_in(&session.user.id, identity.actor_id()));
            ctx.session.set(Some(session));
            ctx.screen.set(Screen::Home);
            sync_driver::start(ctx);
        }
        _ => ctx.screen.set(Screen::SignIn),
    }
    ctx.changed();
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
    view! {
        <header class="top">
            <span class="brand">{t!(i18n, app.title)}</span>
            <ConnectionBadge/>
            <button class="link" data-testid="lang-switch" on:click=move |_| switch_locale(i18n)>
                {t!(i18n, app.switch_language)}
            </button>
        </header>
        <main>
            {move || match ctx.screen.get() {
                Screen::Loading => view! { <p class="muted">{t!(i18n, app.loading)}</p> }.into_any(),
                Screen::SignIn => view! { <SignIn/> }.into_any(),
                Screen::Home => view! { <Home/> }.into_any(),
                Screen::Record(id) => view! { <RecordScreen id=id/> }.into_any(),
                Screen::Account => view! { <crate::account::Account/> }.into_any(),
            }}
        </main>
        <NoticeBar/>
    }
}

#[component]
fn ConnectionBadge() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let i18n = use_i18n();
    let phase_name = move || match ctx.phase.get() {
        Phase::Offline => "offline",
        Phase::WaitingToRetry { .. } => "waiting",
        Phase::Connecting | Phase::Handshaking => "connecting",
        Phase::Ready => "online",
        Phase::SignedOut => "signed_out",
        Phase::DeviceRevoked => "device_revoked",
        Phase::MustUpdate => "must_update",
    };
    let label = move || match ctx.phase.get() {
        Phase::Offline => t_string!(i18n, connection.offline).to_string(),
        Phase::WaitingToRetry { .. } => t_string!(i18n, connection.waiting).to_string(),
        Phase::Connecting | Phase::Handshaking => {
            t_string!(i18n, connection.connecting).to_string()
        }
        Phase::Ready => t_string!(i18n, connection.online).to_string(),
        Phase::SignedOut => t_string!(i18n, connection.signed_out).to_string(),
        Phase::DeviceRevoked => t_string!(i18n, connection.revoked_short).to_string(),
        Phase::MustUpdate => t_string!(i18n, connection.must_update).to_string(),
    };
    view! {
        <span class="connection" data-testid="connection-status" data-phase=phase_name>{label}</span>
        <Show when=move || ctx.session.get().is_some()>
            <button class="link" data-testid="sync-now" on:click=move |_| sync_driver::sync_now(ctx)>
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

/// The outcome of a form, as a translation key and whether it is an error.
#[component]
pub(crate) fn FormMessage(
    message: RwSignal<Option<(&'static str, bool)>>,
    testid: &'static str,
) -> impl IntoView {
    let i18n = use_i18n();
    move || {
        message.get().map(|(key, is_error)| {
            view! {
                <p class=if is_error { "problems" } else { "muted" } data-testid=testid>{move || tr(i18n, key)}</p>
            }
        })
    }
}

#[component]
fn Problems(problems: RwSignal<Vec<Problem>>) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <Show when=move || !problems.get().is_empty()>
            <ul class="problems" data-testid="problems">
                {move || problems.get().iter().map(|p| view! { <li>{problem_text(i18n, p)}</li> }).collect_view()}
            </ul>
        </Show>
    }
}

#[component]
fn SignIn() -> impl IntoView {
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
                    let stored = match ctx.storage.get_value() {
                        Some(storage) => storage.put_meta("session", &session).await.is_ok(),
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

#[component]
fn Home() -> impl IntoView {
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
            if let Some(storage) = ctx.storage.get_value() {
                let _ = storage.delete_meta("session").await;
            }
            sync_driver::stop(ctx);
            ctx.model.update_value(|m| m.sign_out());
            ctx.session.set(None);
            ctx.screen.set(Screen::SignIn);
        });
    };
    view! {
        <div class="whoami">
            <span data-testid="user-name">{move || user().map(|u| u.display_name)}</span>
            " · "
            <span>{move || user().map(|u| u.estate_name)}</span>
            " · "
            <span class="muted" data-testid="device-id" title=move || t_string!(i18n, app.device).to_string()>
                {move || ctx.session.get().map(|s| s.device_id)}
            </span>
            <button class="link" data-testid="account" on:click=move |_| ctx.screen.set(Screen::Account)>{t!(i18n, account.title)}</button>
            <button class="link" data-testid="sign-out" on:click=sign_out>{t!(i18n, app.sign_out)}</button>
        </div>
        <SessionEnded/>
        <UnsyncedPanel/>
        {move || match role.get() {
            Some(Role::Office) => view! { <OfficeHome/> }.into_any(),
            Some(Role::Guard) => view! { <GuardHome/> }.into_any(),
            Some(Role::Admin) => view! { <crate::admin::AdminHome/> }.into_any(),
            Some(Role::Technician) | None => {
                view! { <p class="muted" data-testid="no-records-for-role">{t!(i18n, role.no_record_types)}</p> }.into_any()
            }
        }}
    }
}

/// Shown when the server ended the session or revoked the device: syncing has stopped,
/// nothing on the phone is deleted, and the user can sign in again.
#[component]
fn SessionEnded() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let i18n = use_i18n();
    let ended = move || matches!(ctx.phase.get(), Phase::SignedOut | Phase::DeviceRevoked);
    let revoked = move || ctx.phase.get() == Phase::DeviceRevoked;
    let sign_in_again = move |_| {
        spawn_local(async move {
            if let Some(storage) = ctx.storage.get_value() {
                let _ = storage.delete_meta("session").await;
            }
            sync_driver::stop(ctx);
            ctx.model.update_value(|m| m.sign_out());
            ctx.session.set(None);
            ctx.screen.set(Screen::SignIn);
        });
    };
    view! {
        <Show when=ended>
            <section class="card warning" data-testid="session-ended">
                <p>{move || if revoked() {
                    t_string!(i18n, connection.device_revoked).to_string()
                } else {
                    t_string!(i18n, connection.signed_out).to_string()
                }}</p>
                <button class="secondary" data-testid="sign-in-again" on:click=sign_in_again>
                    {t!(i18n, sign_in.again)}
                </button>
            </section>
        </Show>
    }
}

/// How many records have not reached the server, with the export.
#[component]
fn UnsyncedPanel() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let i18n = use_i18n();
    let count = move || ctx.unsynced_count();
    view! {
        <Show when=move || count() != 0>
            <section class="card" data-testid="unsynced-panel">
                <p>
                    {t!(i18n, unsynced.waiting)}" "
                    <strong data-testid="unsynced-count">{count}</strong>
                </p>
                <button class="secondary" data-testid="export-unsynced" on:click=move |_| ctx.export_unsynced()>
                    {t!(i18n, unsynced.export)}
                </button>
            </section>
        </Show>
    }
}

#[component]
fn StatusBadge(id: DocumentId) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let i18n = use_i18n();
    let status = move || {
        ctx.version.track();
        let connected = ctx.connected();
        ctx.model.with_value(|m| m.status(&id, connected))
    };
    let label = move || match status() {
        RecordStatus::Local => t_string!(i18n, status.local).to_string(),
        RecordStatus::Sending => t_string!(i18n, status.sending).to_string(),
        RecordStatus::Received(Some(at)) => {
            format!("{} {}", t_string!(i18n, status.received), format_time(at))
        }
        RecordStatus::Received(None) => t_string!(i18n, status.received).to_string(),
        RecordStatus::Rejected => t_string!(i18n, status.rejected).to_string(),
    };
    view! {
        <span class=move || format!("status status-{}", status().as_str()) data-testid="record-status"
            data-status=move || status().as_str()>{label}</span>
    }
}

#[component]
fn GuardHome() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let i18n = use_i18n();
    let route = RwSignal::new(String::new());
    let problems = RwSignal::new(Vec::<Problem>::new());
    // A guard of several estates picks where the round is; new rounds go to the first.
    let estate = RwSignal::new(None::<String>);
    let estates = move || {
        ctx.session
            .get()
            .map(|s| s.user.estates)
            .unwrap_or_default()
    };
    let start = move |_| {
        let text = route.get_untracked();
        let chosen = estate.get_untracked();
        spawn_local(async move {
            match ctx.start_round(&text, chosen).await {
                Ok(id) => {
                    route.set(String::new());
                    problems.set(Vec::new());
                    ctx.notify("saved.round", false);
                    ctx.screen.set(Screen::Record(id));
                }
                Err(EditError::Invalid(found)) => problems.set(found),
                Err(EditError::NotSaved) => ctx.notify("error.not_saved", true),
            }
        });
    };
    let rounds = move || {
        ctx.version.track();
        ctx.model.with_value(|m| m.rounds())
    };
    view! {
        <section class="card">
            <label>{t!(i18n, patrol.route)}
                <input data-testid="route-input" prop:value=move || route.get()
                    placeholder=move || t_string!(i18n, patrol.route_placeholder).to_string()
                    on:input=move |ev| route.set(event_target_value(&ev))/>
            </label>
            <Show when=move || { estates().len() > 1 }>
                <label>{t!(i18n, app.estate)}
                    <select data-testid="round-estate" on:change=move |ev| estate.set(Some(event_target_value(&ev)))>
                        {move || estates().into_iter().map(|e| view! { <option value=e.id.clone()>{e.name.clone()}</option> }).collect_view()}
                    </select>
                </label>
            </Show>
            <Problems problems=problems/>
            <button class="primary" data-testid="start-round" on:click=start>{t!(i18n, patrol.start)}</button>
        </section>
        <h2>{t!(i18n, patrol.title)}</h2>
        <ul class="list" data-testid="round-list">
            {move || {
                let rounds = rounds();
                if rounds.is_empty() {
                    view! { <li class="muted">{t!(i18n, patrol.none)}</li> }.into_any()
                } else {
                    rounds.into_iter().map(|(id, log)| view! { <RoundRow id=id log=log/> }).collect_view().into_any()
                }
            }}
        </ul>
    }
}

#[component]
fn RoundRow(id: DocumentId, log: PatrolLog) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let i18n = use_i18n();
    let ended = log.is_ended();
    view! {
        <li class="row" data-testid="round-item" data-doc=id.to_string()
            on:click=move |_| ctx.screen.set(Screen::Record(id))>
            <div class="row-main">
                <strong data-testid="round-route">{log.route.clone()}</strong>
                <span class="muted">{format_time(log.started_at)}</span>
            </div>
            <div class="row-meta">
                <span>{t!(i18n, patrol.visits)}" "{log.visits.len()}</span>
                <span>{t!(i18n, patrol.findings)}" "{log.findings.len()}</span>
                {(!ended).then(|| view! { <span class="pill">{t!(i18n, patrol.in_progress)}</span> })}
                <StatusBadge id=id/>
            </div>
        </li>
    }
}

#[component]
fn OfficeHome() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let i18n = use_i18n();
    let records = move || {
        ctx.version.track();
        ctx.model.with_value(|m| m.office.clone())
    };
    let open = move |id: DocumentId| {
        ctx.model.update_value(|m| m.follow(id));
        sync_driver::document_changed(ctx, id);
        ctx.screen.set(Screen::Record(id));
    };
    view! {
        <h2>{t!(i18n, office.title)}</h2>
        <ul class="list" data-testid="office-list">
            {move || {
                let records = records();
                if records.is_empty() {
                    view! { <li class="muted">{t!(i18n, office.empty)}</li> }.into_any()
                } else {
                    records.into_iter().map(|r| {
                        let id = r.doc;
                        view! {
                            <li class="row" data-testid="office-item" data-doc=id.to_string() on:click=move |_| open(id)>
                                <div class="row-main">
                                    <strong data-testid="office-route">{r.title.clone()}</strong>
                                    <span>{t!(i18n, patrol.guard)}" "{r.author_name.clone()}</span>
                                    <span class="muted">{format_time(r.started_at)}</span>
                                </div>
                                <div class="row-meta">
                                    <span data-testid="office-visits">{t!(i18n, patrol.visits)}" "{r.visit_count}</span>
                                    <span>{t!(i18n, patrol.findings)}" "{r.finding_count}</span>
                                    <span>{t!(i18n, office.follow_ups)}" "{r.follow_up_count}</span>
                                    <span data-testid="office-remarks">{t!(i18n, patrol.remarks)}" "{r.remark_count}</span>
                                    <span class="muted">{t!(i18n, office.received)}" "{format_time(r.last_received_at)}</span>
                                </div>
                            </li>
                        }
                    }).collect_view().into_any()
                }
            }}
        </ul>
    }
}

#[component]
fn RecordScreen(id: DocumentId) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let i18n = use_i18n();
    let log = Memo::new(move |_| {
        ctx.version.track();
        ctx.model.with_value(|m| {
            m.records
                .get(&id)
                .and_then(|r| r.log.clone().or_else(|| r.set_aside_log()))
        })
    });
    // Only a refused version is left: nothing of the record reached the server.
    let only_set_aside = move || {
        ctx.version.track();
        ctx.model
            .with_value(|m| m.records.get(&id).is_some_and(|r| r.log.is_none()))
    };
    let rejected = move || {
        ctx.version.track();
        ctx.model
            .with_value(|m| m.records.get(&id).is_some_and(|r| r.rejected))
    };
    let correct = move |_| {
        spawn_local(async move {
            match ctx.correct(id).await {
                Ok(()) => ctx.notify("correct.done", false),
                Err(_) => ctx.notify("error.not_saved", true),
            }
        });
    };
    let role = move || ctx.session.get().map(|s| s.user.role);
    let loaded = move || log.get().is_some();
    let open = move || log.get().is_some_and(|l| !l.is_ended());
    let server_problems = move || {
        ctx.version.track();
        ctx.model.with_value(|m| {
            m.records
                .get(&id)
                .map(|r| r.problems.clone())
                .unwrap_or_default()
        })
    };
    view! {
        <button class="link" data-testid="back" on:click=move |_| ctx.screen.set(Screen::Home)>
            "← "{t!(i18n, patrol.back)}
        </button>
        <Show when=loaded fallback=move || view! { <p class="muted">{t!(i18n, patrol.loading)}</p> }>
            <section class="card" data-testid="record" data-doc=id.to_string()>
                <h2 data-testid="record-route">{move || log.get().map(|l| l.route)}</h2>
                <p class="muted">
                    {t!(i18n, patrol.guard)}" "{move || log.get().map(|l| l.guard_name)}" · "
                    {t!(i18n, patrol.started)}" "{move || log.get().map(|l| format_time(l.started_at))}
                    {move || log.get().and_then(|l| l.ended_at).map(|at| view! {
                        " · "{t!(i18n, patrol.ended)}" "{format_time(at)}
                    })}
                </p>
                <StatusBadge id=id/>
                <ul class="problems" data-testid="server-problems">
                    {move || server_problems().iter().map(|p| view! { <li>{problem_text(i18n, p)}</li> }).collect_view()}
                </ul>
                <Show when=rejected>
                    <p class="muted">{t!(i18n, correct.explain)}</p>
                    <button class="primary" data-testid="correct-record" on:click=correct>
                        {t!(i18n, correct.button)}
                    </button>
                </Show>
            </section>
            <SetAsideList id=id/>
            <h3>{t!(i18n, patrol.visits)}</h3>
            <ul class="list" data-testid="visit-list">
                {move || log.get().map(|l| l.visits.into_iter().map(|v| view! {
                    <li class="entry" data-testid="visit-item">
                        <strong>{v.checkpoint}</strong>" "<span class="muted">{format_time(v.visited_at)}</span>
                        <div>{v.note}</div>
                    </li>
                }).collect_view())}
            </ul>
            <h3>{t!(i18n, patrol.findings)}</h3>
            <ul class="list" data-testid="finding-list">
                {move || log.get().map(|l| l.findings.into_iter().map(|f| {
                    let severity = match f.severity {
                        Severity::Low => t_string!(i18n, finding.low).to_string(),
                        Severity::Medium => t_string!(i18n, finding.medium).to_string(),
                        Severity::High => t_string!(i18n, finding.high).to_string(),
                    };
                    view! {
                        <li class="entry" data-testid="finding-item">
                            <strong>{f.what}</strong>" · "{f.location}" · "{severity}
                            {f.needs_follow_up.then(|| view! { " · "<span class="pill">{t!(i18n, finding.follow_up)}</span> })}
                            <div class="muted">{format_time(f.found_at)}</div>
                        </li>
                    }
                }).collect_view())}
            </ul>
            <h3>{t!(i18n, patrol.remarks)}</h3>
            <ul class="list" data-testid="remark-list">
                {move || log.get().map(|l| l.remarks.into_iter().map(|r| view! {
                    <li class="entry" data-testid="remark-item">
                        {r.text}<div class="muted">{r.author_name}" "{format_time(r.written_at)}</div>
                    </li>
                }).collect_view())}
            </ul>
            <Show when=move || role() == Some(Role::Guard) && open() && !rejected() && !only_set_aside()>
                <VisitForm id=id/>
                <FindingForm id=id/>
                <EndRound id=id/>
            </Show>
            <Show when=move || role() == Some(Role::Office) && !rejected()>
                <RemarkForm id=id/>
            </Show>
        </Show>
    }
}

/// The versions of a record the server refused and the user set aside: what was in them
/// that is not in the record now, and why it was refused. Kept on the phone, never synced.
#[component]
fn SetAsideList(id: DocumentId) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let i18n = use_i18n();
    let entries = move || {
        ctx.version.track();
        ctx.model.with_value(|m| {
            let Some(record) = m.records.get(&id) else {
                return Vec::new();
            };
            let current = record.log.clone();
            record
                .set_aside
                .iter()
                .map(|aside| {
                    let refused = automerge::Automerge::load(&aside.doc)
                        .ok()
                        .and_then(|doc| gatehouse_shared::patrol_log::read_document(&doc).ok());
                    let mut lines = Vec::new();
                    if let Some(refused) = refused {
                        let kept = |entry: &str| {
                            current.as_ref().is_some_and(|c| {
                                c.visits.iter().any(|v| v.id == entry)
                                    || c.findings.iter().any(|f| f.id == entry)
                            })
                        };
                        for visit in refused.visits.iter().filter(|v| !kept(&v.id)) {
                            lines.push(format!(
                                "{} {}",
                                visit.checkpoint,
                                format_time(visit.visited_at)
                            ));
                        }
                        for finding in refused.findings.iter().filter(|f| !kept(&f.id)) {
                            lines.push(format!(
                                "{} · {} {}",
                                finding.what,
                                finding.location,
                                format_time(finding.found_at)
                            ));
                        }
                        if current.is_none() {
                            lines.insert(
                                0,
                                format!("{} {}", refused.route, format_time(refused.started_at)),
                            );
                        }
                    }
                    (aside.set_aside_at, aside.problems.clone(), lines)
                })
                .collect::<Vec<_>>()
        })
    };
    view! {
        <Show when=move || !entries().is_empty()>
            <h3>{t!(i18n, correct.set_aside)}</h3>
            <ul class="list" data-testid="set-aside-list">
                {move || entries().into_iter().map(|(at, problems, lines)| view! {
                    <li class="entry" data-testid="set-aside-item">
                        <div class="muted">{format_time(at)}</div>
                        <ul>{lines.into_iter().map(|line| view! { <li data-testid="set-aside-entry">{line}</li> }).collect_view()}</ul>
                        <ul class="problems">{problems.iter().map(|p| view! { <li>{problem_text(i18n, p)}</li> }).collect_view()}</ul>
                    </li>
                }).collect_view()}
            </ul>
        </Show>
    }
}

/// Saves an edit and reports the outcome; `done` runs once the change is on the phone.
fn save_edit(
    ctx: Ctx,
    id: DocumentId,
    problems: RwSignal<Vec<Problem>>,
    saved_key: &'static str,
    edit: impl FnOnce(&mut PatrolLog) + 'static,
    done: impl FnOnce() + 'static,
) {
    spawn_local(async move {
        match ctx.edit(id, edit).await {
            Ok(()) => {
                problems.set(Vec::new());
                ctx.notify(saved_key, false);
                done();
            }
            Err(EditError::Invalid(found)) => problems.set(found),
            Err(EditError::NotSaved) => ctx.notify("error.not_saved", true),
        }
    });
}

#[component]
fn VisitForm(id: DocumentId) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let i18n = use_i18n();
    let checkpoint = RwSignal::new(String::new());
    let note = RwSignal::new(String::new());
    let problems = RwSignal::new(Vec::<Problem>::new());
    let add = move |_| match CheckpointVisit::new(
        &checkpoint.get_untracked(),
        now_ms(),
        &note.get_untracked(),
    ) {
        Ok(visit) => save_edit(
            ctx,
            id,
            problems,
            "visit.saved",
            move |log| log.visits.push(visit),
            move || {
                checkpoint.set(String::new());
                note.set(String::new());
            },
        ),
        Err(found) => problems.set(found),
    };
    view! {
        <section class="card">
            <h3>{t!(i18n, visit.add)}</h3>
            <label>{t!(i18n, visit.checkpoint)}
                <input data-testid="checkpoint-input" prop:value=move || checkpoint.get()
                    on:input=move |ev| checkpoint.set(event_target_value(&ev))/>
            </label>
            <label>{t!(i18n, visit.note)}
                <textarea data-testid="visit-note-input" prop:value=move || note.get()
                    on:input=move |ev| note.set(event_target_value(&ev))></textarea>
            </label>
            <Problems problems=problems/>
            <button class="primary" data-testid="add-visit" on:click=add>{t!(i18n, visit.add)}</button>
        </section>
    }
}

#[component]
fn FindingForm(id: DocumentId) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let i18n = use_i18n();
    let what = RwSignal::new(String::new());
    let location = RwSignal::new(String::new());
    let severity = RwSignal::new(Severity::Low);
    let follow_up = RwSignal::new(false);
    let problems = RwSignal::new(Vec::<Problem>::new());
    let add = move |_| match Finding::new(
        &what.get_untracked(),
        &location.get_untracked(),
        severity.get_untracked(),
        follow_up.get_untracked(),
        now_ms(),
    ) {
        Ok(finding) => save_edit(
            ctx,
            id,
            problems,
            "finding.saved",
            move |log| log.findings.push(finding),
            move || {
                what.set(String::new());
                location.set(String::new());
                severity.set(Severity::Low);
                follow_up.set(false);
            },
        ),
        Err(found) => problems.set(found),
    };
    view! {
        <section class="card">
            <h3>{t!(i18n, finding.add)}</h3>
            <label>{t!(i18n, finding.what)}
                <input data-testid="finding-what" prop:value=move || what.get() on:input=move |ev| what.set(event_target_value(&ev))/>
            </label>
            <label>{t!(i18n, finding.location)}
                <input data-testid="finding-where" prop:value=move || location.get() on:input=move |ev| location.set(event_target_value(&ev))/>
            </label>
            <label>{t!(i18n, finding.severity)}
                <select data-testid="finding-severity" prop:value=move || severity.get().as_str()
                    on:change=move |ev| severity.set(Severity::parse(&event_target_value(&ev)).unwrap_or(Severity::Low))>
                    <option value="low">{t!(i18n, finding.low)}</option>
                    <option value="medium">{t!(i18n, finding.medium)}</option>
                    <option value="high">{t!(i18n, finding.high)}</option>
                </select>
            </label>
            <label class="check">
                <input type="checkbox" data-testid="finding-follow-up" prop:checked=move || follow_up.get()
                    on:change=move |ev| follow_up.set(event_target_checked(&ev))/>
                {t!(i18n, finding.follow_up)}
            </label>
            <Problems problems=problems/>
            <button class="primary" data-testid="add-finding" on:click=add>{t!(i18n, finding.add)}</button>
        </section>
    }
}

#[component]
fn EndRound(id: DocumentId) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let i18n = use_i18n();
    let problems = RwSignal::new(Vec::<Problem>::new());
    let end = move |_| {
        let now = now_ms();
        save_edit(
            ctx,
            id,
            problems,
            "saved.ended",
            move |log| log.ended_at = Some(now),
            || {},
        );
    };
    view! {
        <Problems problems=problems/>
        <button class="secondary" data-testid="end-round" on:click=end>{t!(i18n, patrol.end)}</button>
    }
}

#[component]
fn RemarkForm(id: DocumentId) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let i18n = use_i18n();
    let text = RwSignal::new(String::new());
    let problems = RwSignal::new(Vec::<Problem>::new());
    let add = move |_| {
        let Some(user) = ctx.session.get_untracked().map(|s| s.user) else {
            return;
        };
        match Remark::new(
            &text.get_untracked(),
            &user.id,
            &user.display_name,
            now_ms(),
        ) {
            Ok(remark) => save_edit(
                ctx,
                id,
                problems,
                "remark.saved",
                move |log| log.remarks.push(remark),
                move || text.set(String::new()),
            ),
            Err(found) => problems.set(found),
        }
    };
    view! {
        <section class="card">
            <h3>{t!(i18n, remark.add)}</h3>
            <label>{t!(i18n, remark.text)}
                <textarea data-testid="remark-input" prop:value=move || text.get()
                    on:input=move |ev| text.set(event_target_value(&ev))></textarea>
            </label>
            <Problems problems=problems/>
            <button class="primary" data-testid="add-remark" on:click=add>{t!(i18n, remark.add)}</button>
        </section>
    }
}
