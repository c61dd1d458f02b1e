//! The admin's screen: the users and devices of their estates, with revocation. Users are
//! created with `gatehouse-server admin add-user` or `POST /api/admin/users`.

use gatehouse_shared::device::DeviceInfo;
use gatehouse_shared::user::UserListing;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api;
use crate::ctx::Ctx;
use crate::i18n::*;
use crate::time::format_time;

#[component]
pub fn AdminHome() -> impl IntoView {
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
    let revoke_device = move |device_id: String| {
        let Some(token) = ctx.session.get_untracked().map(|s| s.token) else {
            return;
        };
        spawn_local(async move {
            match api::revoke_device(&token, &device_id).await {
                Ok(()) => ctx.notify("admin.revoked", false),
                Err(_) => ctx.notify("admin.failed", true),
            }
            load();
        });
    };
    let revoke_user = move |user_id: String| {
        let Some(token) = ctx.session.get_untracked().map(|s| s.token) else {
            return;
        };
        spawn_local(async move {
            match api::revoke_user(&token, &user_id).await {
                Ok(()) => ctx.notify("admin.revoked", false),
                Err(_) => ctx.notify("admin.failed", true),
            }
            load();
        });
    };
    let me = move || ctx.session.get().map(|s| s.user.id).unwrap_or_default();
    view! {
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
                            <span class="pill">{user.role.as_str()}</span>
                        </div>
                        {if revoked {
                            view! { <span class="status status-rejected">{t!(i18n, admin.revoked_state)}</span> }.into_any()
                        } else if is_me {
                            ().into_any()
                        } else {
                            view! {
                                <button class="secondary" data-testid="revoke-user" on:click=move |_| revoke_user(id.clone())>
                                    {t!(i18n, admin.revoke_user)}
                                </button>
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
                view! {
                    <li class="row" data-testid="admin-device" data-device=device.device_id.clone() data-username=device.username.clone()>
                        <div class="row-main">
                            <strong>{device.username.clone()}</strong>
                            <span class="muted">{device.label.chars().take(60).collect::<String>()}</span>
                            <span class="muted">{t!(i18n, admin.last_seen)}" "{format_time(device.last_seen_at)}</span>
                        </div>
                        {if revoked {
                            view! { <span class="status status-rejected">{t!(i18n, admin.revoked_state)}</span> }.into_any()
                        } else {
                            view! {
                                <button class="secondary" data-testid="revoke-device" on:click=move |_| revoke_device(id.clone())>
                                    {t!(i18n, admin.revoke_device)}
                                </button>
                            }.into_any()
                        }}
                    </li>
                }
            }).collect_view()}
        </ul>
    }
}
