//! The admin's screen: the users and devices of their estates, with revocation, and a form
//! to add a user to one of the admin's estates (`gatehouse-server admin add-user` and
//! `POST /api/admin/users` can also give a user several estates).

use gatehouse_shared::device::{describe_device, short_device_id, DeviceInfo};
use gatehouse_shared::record::found_item::{
    FoundItemPeriods, NOTICE_DAYS, RETENTION_DAYS as FOUND_RETENTION_DAYS,
};
use gatehouse_shared::user::{EstateSettings, NewUser, UserListing, RETENTION_DAYS};
use gatehouse_shared::Role;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::{self, ApiError};
use crate::ctx::Ctx;
use crate::i18n::*;
use crate::time::format_time;
use crate::widgets::FormMessage;

/// The admin's screen, loaded on first use.
#[lazy]
pub fn admin_home() -> AnyView {
    view! { <AdminHome/> }.into_any()
}

#[component]
fn AdminHome() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let i18n = use_i18n();
    let users = RwSignal::new(Vec::<UserListing>::new());
    let devices = RwSignal::new(Vec::<DeviceInfo>::new());
    let load = move || {
        let Some(token) = ctx.session.get_untracked().map(|s| s.token) else {
            return;
        };
        spawn_local(async move {
            match (
                api::admin_users(&token).await,
                api::admin_devices(&token).await,
            ) {
                (Ok(found_users), Ok(found_devices)) => {
                    users.set(found_users);
                    devices.set(found_devices);
                }
                _ => ctx.notify("admin.failed", true),
            }
        });
    };
    load();
    // Revoking and restoring: the list is read again whatever came of it.
    let act = move |action: Action, id: String| {
        let Some(token) = ctx.session.get_untracked().map(|s| s.token) else {
            return;
        };
        spawn_local(async move {
            let outcome = match action {
                Action::RevokeDevice => api::revoke_device(&token, &id).await,
                Action::RevokeUser => api::revoke_user(&token, &id).await,
                Action::RestoreDevice => api::restore_device(&token, &id).await,
                Action::RestoreUser => api::restore_user(&token, &id).await,
            };
            match (outcome, action) {
                (Ok(()), Action::RevokeDevice | Action::RevokeUser) => {
                    ctx.notify("admin.revoked", false)
                }
                (Ok(()), _) => ctx.notify("admin.restored", false),
                (Err(ApiError::Unreachable), _) => ctx.notify("admin.needs_network", true),
                (Err(_), _) => ctx.notify("admin.failed", true),
            }
            load();
        });
    };
    let me = move || ctx.session.get().map(|s| s.user.id).unwrap_or_default();
    let this_device = move || ctx.session.get().map(|s| s.device_id).unwrap_or_default();
    view! {
        <NewUserForm on_created=load/>
        <NewEstateForm/>
        <EstateSettingsList/>
        <h2>{t!(i18n, admin.users)}</h2>
        <ul class="list" data-testid="admin-users">
            {move || users.get().into_iter().map(|listing| {
                let user = listing.user;
                let id = user.id.clone();
                let revoked = listing.revoked_at.is_some();
                let is_me = user.id == me();
                view! {
                    <li class="row" data-testid="admin-user" data-username=user.username.clone()>
                        <div class="row-main">
                            <strong>{user.display_name.clone()}</strong>
                            <span>{user.username.clone()}</span>
                            <span class="pill" data-testid="admin-user-role">{role_name(i18n, user.role)}</span>
                        </div>
                        {if revoked {
                            view! {
                                <span class="status status-rejected">{t!(i18n, admin.revoked_state)}</span>
                                <button class="secondary" data-testid="restore-user" on:click=move |_| act(Action::RestoreUser, id.clone())>
                                    {t!(i18n, admin.restore)}
                                </button>
                            }.into_any()
                        } else if is_me {
                            view! { <span class="pill">{t!(i18n, admin.you)}</span> }.into_any()
                        } else {
                            view! {
                                <ConfirmRevoke testid="revoke-user" on_confirm=move || act(Action::RevokeUser, id.clone())>
                                    {t!(i18n, admin.revoke_user)}
                                </ConfirmRevoke>
                            }.into_any()
                        }}
                    </li>
                }
            }).collect_view()}
        </ul>
        <h2>{t!(i18n, admin.devices)}</h2>
        <ul class="list" data-testid="admin-devices">
            {move || devices.get().into_iter().map(|device| {
                let id = device.device_id.clone();
                let revoked = device.revoked_at.is_some();
                let is_this = device.device_id == this_device();
                view! {
                    <li class="row" data-testid="admin-device" data-device=device.device_id.clone() data-username=device.username.clone()>
                        <div class="row-main">
                            <strong>{device.username.clone()}</strong>
                            <span data-testid="admin-device-name">{device.name.clone().unwrap_or_else(|| describe_device(&device.label))}</span>
                            {device.name.is_some().then(|| view! { <span class="muted">{describe_device(&device.label)}</span> })}
                            <span class="muted" data-testid="admin-device-short-id">{short_device_id(&device.device_id).to_owned()}</span>
                            <span class="muted">{t!(i18n, admin.last_seen)}" "{format_time(device.last_seen_at)}</span>
                        </div>
                        {if revoked {
                            view! {
                                <span class="status status-rejected">{t!(i18n, admin.revoked_state)}</span>
                                <button class="secondary" data-testid="restore-device" on:click=move |_| act(Action::RestoreDevice, id.clone())>
                                    {t!(i18n, admin.restore)}
                                </button>
                            }.into_any()
                        } else if is_this {
                            // Revoking the device in hand would lock the admin out.
                            view! { <span class="pill" data-testid="this-device">{t!(i18n, admin.this_device)}</span> }.into_any()
                        } else {
                            view! {
                                <ConfirmRevoke testid="revoke-device" on_confirm=move || act(Action::RevokeDevice, id.clone())>
                                    {t!(i18n, admin.revoke_device)}
                                </ConfirmRevoke>
                            }.into_any()
                        }}
                    </li>
                }
            }).collect_view()}
        </ul>
    }
}

/// What an admin does to a user or a device from the lists.
#[derive(Clone, Copy)]
enum Action {
    RevokeDevice,
    RevokeUser,
    RestoreDevice,
    RestoreUser,
}

/// A revoke button that asks first: the first tap shows what it does, with 确认停用 and 取消.
#[component]
fn ConfirmRevoke(
    testid: &'static str,
    on_confirm: impl Fn() + Clone + Send + Sync + 'static,
    children: ChildrenFn,
) -> impl IntoView {
    let i18n = use_i18n();
    let asking = RwSignal::new(false);
    move || {
        if asking.get() {
            let on_confirm = on_confirm.clone();
            view! {
                <span class="confirm" role="group">
                    <span class="problems">{t!(i18n, admin.confirm_revoke)}</span>
                    <button class="danger" data-testid=format!("{testid}-confirm") on:click=move |_| {
                        asking.set(false);
                        on_confirm();
                    }>{t!(i18n, admin.confirm_revoke_button)}</button>
                    <button class="secondary" data-testid=format!("{testid}-cancel") on:click=move |_| asking.set(false)>
                        {t!(i18n, admin.cancel)}
                    </button>
                </span>
            }
            .into_any()
        } else {
            view! {
                <button class="secondary" data-testid=testid on:click=move |_| asking.set(true)>{children()}</button>
            }
            .into_any()
        }
    }
}

#[component]
fn NewUserForm(on_created: impl Fn() + Copy + 'static) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let i18n = use_i18n();
    let estates = move || {
        ctx.session
            .get()
            .map(|s| {
                let mut list = s.user.estates.clone();
                if list.is_empty() {
                    list.push(gatehouse_shared::user::EstateRef {
                        id: s.user.estate_id.clone(),
                        name: s.user.estate_name.clone(),
                    });
                }
                list
            })
            .unwrap_or_default()
    };
    let username = RwSignal::new(String::new());
    let name = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let role = RwSignal::new(Role::Guard);
    let estate = RwSignal::new(String::new());
    let message = RwSignal::new(None::<(&'static str, bool)>);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(token) = ctx.session.get_untracked().map(|s| s.token) else {
            return;
        };
        let chosen = estate.get_untracked();
        let chosen = if chosen.is_empty() {
            estates().first().map(|e| e.id.clone()).unwrap_or_default()
        } else {
            chosen
        };
        let user = NewUser {
            username: username.get_untracked(),
            display_name: name.get_untracked(),
            password: password.get_untracked(),
            role: role.get_untracked(),
            estates: vec![chosen],
        };
        spawn_local(async move {
            message.set(Some(match api::create_user(&token, &user).await {
                Ok(_) => {
                    username.set(String::new());
                    name.set(String::new());
                    password.set(String::new());
                    on_created();
                    ("admin.user_created", false)
                }
                Err(ApiError::Invalid) => ("admin.user_invalid", true),
                Err(ApiError::Conflict) => ("admin.username_taken", true),
                Err(_) => ("admin.failed", true),
            }));
        });
    };
    let role_label = move |role: Role| role_name(i18n, role);
    view! {
        <form class="card" on:submit=submit>
            <h3>{t!(i18n, admin.add_user)}</h3>
            <label>{t!(i18n, sign_in.username)}
                <input data-testid="new-username" prop:value=move || username.get()
                    on:input=move |ev| username.set(event_target_value(&ev))/>
            </label>
            <label>{t!(i18n, admin.display_name)}
                <input data-testid="new-display-name" prop:value=move || name.get()
                    on:input=move |ev| name.set(event_target_value(&ev))/>
            </label>
            <label>{t!(i18n, sign_in.password)}
                <input type="password" autocomplete="new-password" data-testid="new-password-admin"
                    prop:value=move || password.get() on:input=move |ev| password.set(event_target_value(&ev))/>
            </label>
            <label>{t!(i18n, admin.role)}
                <select data-testid="new-role" on:change=move |ev| {
                    role.set(Role::parse(&event_target_value(&ev)).unwrap_or(Role::Guard))
                }>
                    {Role::ALL.into_iter().map(|r| view! { <option value=r.as_str()>{move || role_label(r)}</option> }).collect_view()}
                </select>
            </label>
            <label>{t!(i18n, app.estate)}
                <select data-testid="new-estate" on:change=move |ev| estate.set(event_target_value(&ev))>
                    {move || estates().into_iter().map(|e| view! { <option value=e.id.clone()>{e.name.clone()}</option> }).collect_view()}
                </select>
            </label>
            <FormMessage message=message testid="admin-message"/>
            <button class="primary" type="submit" data-testid="create-user">{t!(i18n, admin.add_user)}</button>
        </form>
    }
}

/// Adds an estate; the admin joins it, and their account is read again so the new estate
/// can be chosen for new users at once.
#[component]
fn NewEstateForm() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let i18n = use_i18n();
    let id = RwSignal::new(String::new());
    let name = RwSignal::new(String::new());
    let message = RwSignal::new(None::<(&'static str, bool)>);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(session) = ctx.session.get_untracked() else {
            return;
        };
        let (new_id, new_name) = (id.get_untracked(), name.get_untracked());
        spawn_local(async move {
            let outcome = match api::create_estate(&session.token, &new_id, &new_name).await {
                Ok(()) => {
                    id.set(String::new());
                    name.set(String::new());
                    if let Ok(user) = api::me(&session.token).await {
                        let mut updated = session.clone();
                        updated.user = user;
                        if let Some(storage) = ctx.storage.get_value() {
                            let _ = storage.put_meta("session", &updated).await;
                        }
                        ctx.session.set(Some(updated));
                    }
                    ("admin.estate_created", false)
                }
                Err(ApiError::Invalid) => ("admin.estate_invalid", true),
                Err(ApiError::Conflict) => ("admin.estate_taken", true),
                Err(_) => ("admin.failed", true),
            };
            message.set(Some(outcome));
        });
    };
    view! {
        <form class="card" on:submit=submit>
            <h3>{t!(i18n, admin.add_estate)}</h3>
            <label>{t!(i18n, admin.estate_id)}
                <input data-testid="new-estate-id" prop:value=move || id.get()
                    on:input=move |ev| id.set(event_target_value(&ev))/>
            </label>
            <label>{t!(i18n, admin.estate_name)}
                <input data-testid="new-estate-name" prop:value=move || name.get()
                    on:input=move |ev| name.set(event_target_value(&ev))/>
            </label>
            <FormMessage message=message testid="estate-message"/>
            <button class="secondary" type="submit" data-testid="create-estate">{t!(i18n, admin.add_estate)}</button>
        </form>
    }
}

/// The admin's estates, each with how long phones keep its records after they are done with
/// (expired slips, taken or cancelled work orders).
#[component]
fn EstateSettingsList() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let i18n = use_i18n();
    let estates = RwSignal::new(Vec::<EstateSettings>::new());
    let Some(token) = ctx.session.get_untracked().map(|s| s.token) else {
        return ().into_any();
    };
    // Read again when the admin's estates change (one was added).
    Effect::new(move |_| {
        ctx.session.track();
        let token = token.clone();
        spawn_local(async move {
            match api::admin_estates(&token).await {
                Ok(list) => estates.set(list),
                Err(_) => ctx.notify("admin.failed", true),
            }
        });
    });
    view! {
        <h2>{t!(i18n, admin.estates)}</h2>
        <ul class="list" data-testid="admin-estates">
            <For each=move || estates.get() key=|e| (e.id.clone(), e.retention_days, e.rules) let:estate>
                <EstateCard estate=estate/>
            </For>
        </ul>
    }
    .into_any()
}

#[component]
fn EstateCard(estate: EstateSettings) -> impl IntoView {
    let id = estate.id.clone();
    view! {
        <li class="card" data-testid="admin-estate" data-estate=id>
            <RetentionForm estate=estate.clone()/>
            <FoundPeriodsForm estate=estate/>
        </li>
    }
}

#[component]
fn RetentionForm(estate: EstateSettings) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let i18n = use_i18n();
    let days = RwSignal::new(estate.retention_days.to_string());
    let message = RwSignal::new(None::<(&'static str, bool)>);
    let busy = RwSignal::new(false);
    let estate_id = estate.id.clone();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(token) = ctx.session.get_untracked().map(|s| s.token) else {
            return;
        };
        let parsed = days
            .get_untracked()
            .trim()
            .parse::<u32>()
            .ok()
            .filter(|d| RETENTION_DAYS.contains(d));
        let Some(chosen) = parsed else {
            message.set(Some(("admin.retention_invalid", true)));
            return;
        };
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        let estate_id = estate_id.clone();
        spawn_local(async move {
            let outcome = match api::set_retention(&token, &estate_id, chosen).await {
                Ok(()) => ("admin.retention_saved", false),
                Err(ApiError::Invalid) => ("admin.retention_invalid", true),
                Err(_) => ("admin.failed", true),
            };
            message.set(Some(outcome));
            busy.set(false);
        });
    };
    let input_id = format!("retention-{}", estate.id);
    view! {
        // The form says what is wrong in the user's language, not the browser's bubble.
        <form novalidate on:submit=submit>
                <h3>{estate.name.clone()}</h3>
                <label for=input_id.clone()>{t!(i18n, admin.retention_days)}</label>
                <input id=input_id type="number" inputmode="numeric" min="1" max="365" step="1"
                    data-testid="retention-days" prop:value=move || days.get()
                    on:input=move |ev| days.set(event_target_value(&ev))/>
                <p class="muted">{t!(i18n, admin.retention_hint)}</p>
                <FormMessage message=message testid="retention-message"/>
                <button class="secondary" type="submit" data-testid="save-retention"
                    disabled=move || busy.get()>{t!(i18n, admin.save_retention)}</button>
        </form>
    }
}

/// How long the estate keeps unclaimed found items: days before the public notice, and
/// before disposal (ordinary items and valuables).
#[component]
fn FoundPeriodsForm(estate: EstateSettings) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let i18n = use_i18n();
    let current = estate.rules.found_items;
    let notice = RwSignal::new(current.notice_days.to_string());
    let retention = RwSignal::new(current.retention_days.to_string());
    let valuables = RwSignal::new(current.valuables_retention_days.to_string());
    let message = RwSignal::new(None::<(&'static str, bool)>);
    let busy = RwSignal::new(false);
    let estate_id = estate.id.clone();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(token) = ctx.session.get_untracked().map(|s| s.token) else {
            return;
        };
        let read = |field: RwSignal<String>| field.get_untracked().trim().parse::<u32>().ok();
        let parsed = match (read(notice), read(retention), read(valuables)) {
            (Some(notice_days), Some(retention_days), Some(valuables_retention_days)) => {
                Some(FoundItemPeriods {
                    notice_days,
                    retention_days,
                    valuables_retention_days,
                })
            }
            _ => None,
        };
        let Some(periods) = parsed.filter(FoundItemPeriods::is_valid) else {
            message.set(Some(("admin.found_periods_invalid", true)));
            return;
        };
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        let estate_id = estate_id.clone();
        spawn_local(async move {
            let outcome = match api::set_found_item_periods(&token, &estate_id, &periods).await {
                Ok(()) => ("admin.retention_saved", false),
                Err(ApiError::Invalid) => ("admin.found_periods_invalid", true),
                Err(_) => ("admin.failed", true),
            };
            message.set(Some(outcome));
            busy.set(false);
        });
    };
    let field = move |name: &'static str, value: RwSignal<String>, max: u32| {
        let id = format!("{name}-{}", estate.id);
        let label = match name {
            "found-notice-days" => t_string!(i18n, admin.found_notice_days).to_string(),
            "found-retention-days" => t_string!(i18n, admin.found_retention_days).to_string(),
            _ => t_string!(i18n, admin.found_valuables_retention_days).to_string(),
        };
        view! {
            <label for=id.clone()>{label}</label>
            <input id=id type="number" inputmode="numeric" min="1" max=max step="1"
                data-testid=name prop:value=move || value.get()
                on:input=move |ev| value.set(event_target_value(&ev))/>
        }
    };
    view! {
        <form novalidate on:submit=submit data-testid="found-periods">
            <h4>{t!(i18n, admin.found_periods)}</h4>
            {field("found-notice-days", notice, *NOTICE_DAYS.end())}
            {field("found-retention-days", retention, *FOUND_RETENTION_DAYS.end())}
            {field("found-valuables-retention-days", valuables, *FOUND_RETENTION_DAYS.end())}
            <p class="muted">{t!(i18n, admin.found_periods_invalid)}</p>
            <FormMessage message=message testid="found-periods-message"/>
            <button class="secondary" type="submit" data-testid="save-found-periods"
                disabled=move || busy.get()>{t!(i18n, admin.save_retention)}</button>
        </form>
    }
}

/// A role as staff call it, in the user's language (never the code).
fn role_name(i18n: leptos_i18n::I18nContext<Locale>, role: Role) -> String {
    match role {
        Role::Guard => t_string!(i18n, role.guard).to_string(),
        Role::Technician => t_string!(i18n, role.technician).to_string(),
        Role::Office => t_string!(i18n, role.office).to_string(),
        Role::Admin => t_string!(i18n, role.admin).to_string(),
        Role::Cleaner => t_string!(i18n, role.cleaner).to_string(),
    }
}
