//! The signed-in user's own account: their devices with their sessions, and a password
//! change (which ends every other session).

use gatehouse_shared::device::{
    describe_device, short_device_id, DeviceInfo, MAX_DEVICE_NAME_CHARS,
};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::{self, ApiError};
use crate::ctx::{Ctx, Screen};
use crate::i18n::*;
use crate::time::format_time;
use crate::widgets::FormMessage;

/// The account screen, loaded on first use.
#[lazy]
pub fn account() -> AnyView {
    view! { <Account/> }.into_any()
}

#[component]
fn Account() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let i18n = use_i18n();
    let devices = RwSignal::new(None::<Vec<DeviceInfo>>);
    let token = move || ctx.session.get_untracked().map(|s| s.token);
    if let Some(token) = token() {
        spawn_local(async move {
            match api::my_devices(&token).await {
                Ok(found) => devices.set(Some(found)),
                Err(ApiError::Unreachable) => ctx.notify("account.needs_network", true),
                Err(_) => ctx.notify("admin.failed", true),
            }
        });
    }
    let current = RwSignal::new(String::new());
    let new = RwSignal::new(String::new());
    let message = RwSignal::new(None::<(&'static str, bool)>);
    let change = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(token) = token() else { return };
        let (old_password, new_password) = (current.get_untracked(), new.get_untracked());
        spawn_local(async move {
            let result = api::change_password(&token, &old_password, &new_password).await;
            message.set(Some(match result {
                Ok(()) => {
                    current.set(String::new());
                    new.set(String::new());
                    // The old password no longer opens the app offline on this phone.
                    if let (Some(storage), Some(session)) =
                        (ctx.storage.get_value(), ctx.session.get_untracked())
                    {
                        let username = session.user.username.clone();
                        let _ = crate::offline_sign_in::remember(
                            storage,
                            username,
                            new_password.clone(),
                            session,
                        )
                        .await;
                    }
                    ("account.password_changed", false)
                }
                Err(ApiError::BadCredentials) => ("account.wrong_password", true),
                Err(ApiError::Invalid) => ("account.password_too_short", true),
                Err(ApiError::Unreachable) => ("account.needs_network", true),
                Err(_) => ("admin.failed", true),
            }));
        });
    };
    view! {
        <button class="link" data-testid="back" on:click=move |_| ctx.screen.set(Screen::Home)>
            "← "{t!(i18n, patrol.back)}
        </button>
        <h2>{t!(i18n, account.devices)}</h2>
        <ul class="list" data-testid="my-devices">
            {move || devices.get().map(|list| list.into_iter().map(|device| {
                let this = device.sessions.iter().any(|s| s.current);
                let described = describe_device(&device.label);
                view! {
                    <li class="entry" data-testid="my-device" data-device=device.device_id.clone()>
                        <strong data-testid="device-name">{device.name.clone().unwrap_or_else(|| described.clone())}</strong>
                        {this.then(|| view! { " "<span class="pill">{t!(i18n, app.device)}</span> })}
                        <div class="muted">
                            <span data-testid="device-short-id">{short_device_id(&device.device_id).to_owned()}</span>
                            {device.name.is_some().then(|| view! { " · "{described.clone()} })}
                        </div>
                        {this.then(|| view! { <NameDevice device_id=device.device_id.clone() name=device.name.clone().unwrap_or_default()/> })}
                        {device.revoked_at.map(|_| view! { " "<span class="status status-rejected">{t!(i18n, admin.revoked_state)}</span> })}
                        <div class="muted">
                            {t!(i18n, account.enrolled)}" "{format_time(device.enrolled_at)}" · "
                            {t!(i18n, admin.last_seen)}" "{format_time(device.last_seen_at)}" · "
                            {t!(i18n, account.sessions)}" "<span data-testid="session-count">{device.sessions.len()}</span>
                        </div>
                    </li>
                }
            }).collect_view())}
        </ul>
        <form class="card" on:submit=change>
            <h3>{t!(i18n, account.change_password)}</h3>
            <label>{t!(i18n, account.current_password)}
                <input type="password" data-testid="current-password" autocomplete="current-password"
                    prop:value=move || current.get() on:input=move |ev| current.set(event_target_value(&ev))/>
            </label>
            <label>{t!(i18n, account.new_password)}
                <input type="password" data-testid="new-password" autocomplete="new-password"
                    prop:value=move || new.get() on:input=move |ev| new.set(event_target_value(&ev))/>
            </label>
            <FormMessage message=message testid="password-message"/>
            <button class="primary" type="submit" data-testid="change-password">{t!(i18n, account.change_password)}</button>
        </form>
    }
}

/// Names the device in hand, so it is told apart from phones of the same model.
#[component]
fn NameDevice(device_id: String, name: String) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let i18n = use_i18n();
    let value = RwSignal::new(name);
    let message = RwSignal::new(None::<(&'static str, bool)>);
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(token) = ctx.session.get_untracked().map(|s| s.token) else {
            return;
        };
        let name = value.get_untracked();
        if name.trim().chars().count() > MAX_DEVICE_NAME_CHARS {
            message.set(Some(("account.bad_device_name", true)));
            return;
        }
        let device_id = device_id.clone();
        spawn_local(async move {
            message.set(Some(
                match api::name_device(&token, &device_id, &name).await {
                    Ok(()) => ("account.device_named", false),
                    Err(ApiError::Invalid) => ("account.bad_device_name", true),
                    Err(ApiError::Unreachable) => ("account.needs_network", true),
                    Err(_) => ("admin.failed", true),
                },
            ));
        });
    };
    view! {
        <form class="inline-form" novalidate on:submit=save>
            <label>{t!(i18n, account.device_name)}
                <input data-testid="device-name-input" maxlength="40" prop:value=move || value.get()
                    placeholder=move || t_string!(i18n, account.device_name_hint).to_string()
                    on:input=move |ev| value.set(event_target_value(&ev))/>
            </label>
            <FormMessage message=message testid="device-name-message"/>
            <button class="secondary" type="submit" data-testid="save-device-name">{t!(i18n, account.save_device_name)}</button>
        </form>
    }
}
