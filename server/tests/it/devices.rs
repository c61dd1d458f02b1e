//! Devices: enrolment at sign-in, the change-actor check, revocation, sessions and
//! passwords, the per-document size limit (the admin command: `admin_command.rs`).

use futures_util::SinkExt;
use gatehouse_shared::device::DeviceInfo;
use gatehouse_shared::problem::keys;
use gatehouse_shared::protocol::{self, ClientMessage, ErrorCode, ServerMessage};
use gatehouse_shared::user::UserListing;
use gatehouse_shared::Problem;
use reqwest::Method;
use tokio_tungstenite::tungstenite::Message;

use crate::device::{assert_hello_refused, assert_told, next_message, visit, Device};
use crate::helpers::{authed, spawn_app, spawn_app_with, TestApp, ADMIN, CLERK, GUARD, T0, TECH};

fn refusal(device: &Device) -> Option<(ErrorCode, Vec<Problem>, usize)> {
    device.errors.iter().find_map(|e| match e {
        ServerMessage::Error {
            code,
            problems,
            changes,
            ..
        } => Some((*code, problems.clone(), changes.len())),
        _ => None,
    })
}

async fn revoke_device(app: &TestApp, admin_token: &str, device_id: &str) {
    let response = authed(
        Method::POST,
        app.url(&format!("/api/admin/devices/{device_id}/revoke")),
        admin_token,
    )
    .send()
    .await
    .expect("sent");
    assert_eq!(response.status(), 204);
}

#[tokio::test]
async fn a_change_made_by_another_devices_actor_is_refused_unless_the_server_holds_it() {
    let app = spawn_app().await;
    let mut phone = Device::new();
    let guard = app.session_on(&phone, GUARD).await;
    let mut other = Device::new();
    let other_session = app.session_on(&other, GUARD).await;

    // The other phone's round, sent over this phone's session: not this device's change.
    let id = other.start_round(&guard.user.estate_id, &guard.user.id, "borrowed", T0);
    phone.docs.insert(id, other.docs[&id].clone());
    let mut socket = Device::connect_ok(app.addr, &guard.token)
        .await
        .expect("connects");
    phone.sync(&mut socket).await.expect("exchange completes");
    let (code, problems, changes) = refusal(&phone).expect("refused");
    assert_eq!(code, ErrorCode::Rejected);
    assert!(
        problems.iter().all(|p| p.key == keys::FOREIGN_ACTOR),
        "{problems:?}"
    );
    assert_eq!(changes, 1, "the refused change is named");
    assert!(!phone.is_stored(id));

    // Once the other phone has stored it, relaying the same history is fine.
    let mut other_socket = Device::connect_ok(app.addr, &other_session.token)
        .await
        .expect("connects");
    other.sync(&mut other_socket).await.expect("syncs");
    assert!(other.is_stored(id));
    phone.errors.clear();
    phone.session.forget(&id);
    phone.sync(&mut socket).await.expect("syncs");
    assert!(phone.errors.is_empty(), "{:?}", phone.errors);
    assert!(phone.is_stored(id));
}

#[tokio::test]
async fn a_revoked_device_cannot_sync_and_keeps_its_unsynced_records() {
    let app = spawn_app().await;
    let admin = app.session(ADMIN).await;
    let mut phone = Device::new();
    let guard = app.session_on(&phone, GUARD).await;
    let mut socket = Device::connect_ok(app.addr, &guard.token)
        .await
        .expect("connects");
    let synced = phone.start_round(&guard.user.estate_id, &guard.user.id, "before", T0);
    phone.sync(&mut socket).await.expect("syncs");
    assert!(phone.is_stored(synced));

    // Written while the admin revokes the phone.
    let unsynced = phone.start_round(&guard.user.estate_id, &guard.user.id, "after", T0 + 10);
    revoke_device(&app, &admin.token, &phone.device_id).await;

    // The open connection is told and closed.
    assert_told(&mut socket, ErrorCode::DeviceRevoked, 5).await;
    // A new connection is refused, and so is signing in again on that device.
    assert_hello_refused(app.addr, &guard.token, ErrorCode::DeviceRevoked).await;
    let again = app.sign_in_on(&phone, GUARD).await;
    assert_eq!(again.status(), 403);
    let body: serde_json::Value = again.json().await.expect("json");
    assert_eq!(body["error"], "error.device_revoked");
    let me = authed(Method::GET, app.url("/api/me"), &guard.token)
        .send()
        .await
        .expect("sent");
    assert_eq!(me.status(), 403);

    // Nothing was stored of the new record, and the phone still has it.
    assert!(!phone.is_stored(unsynced));
    assert_eq!(phone.read(unsynced).route, "after");
    // The same guard on another phone goes on working.
    let mut spare = Device::new();
    let spare_session = app.session_on(&spare, GUARD).await;
    let id = spare.start_round(&guard.user.estate_id, &guard.user.id, "spare", T0);
    let mut spare_socket = Device::connect_ok(app.addr, &spare_session.token)
        .await
        .expect("connects");
    spare.sync(&mut spare_socket).await.expect("syncs");
    assert!(spare.is_stored(id));
}

#[tokio::test]
async fn a_revoked_user_cannot_sign_in_or_sync() {
    let app = spawn_app().await;
    let admin = app.session(ADMIN).await;
    let phone = Device::new();
    let guard = app.session_on(&phone, GUARD).await;
    let response = authed(
        Method::POST,
        app.url(&format!("/api/admin/users/{}/revoke", guard.user.id)),
        &admin.token,
    )
    .send()
    .await
    .expect("sent");
    assert_eq!(response.status(), 204);
    assert_eq!(app.sign_in_on(&phone, GUARD).await.status(), 401);
    assert_hello_refused(app.addr, &guard.token, ErrorCode::Unauthorized).await;
}

async fn admin_post(app: &TestApp, token: &str, path: &str) -> reqwest::Response {
    authed(Method::POST, app.url(path), token)
        .send()
        .await
        .expect("sent")
}

#[tokio::test]
async fn admin_cannot_lock_themselves_out() {
    let app = spawn_app().await;
    let laptop = Device::new();
    let admin = app.session_on(&laptop, ADMIN).await;
    // Not the device this session runs on, nor their own user.
    let own = admin_post(
        &app,
        &admin.token,
        &format!("/api/admin/devices/{}/revoke", laptop.device_id),
    )
    .await;
    assert_eq!(own.status(), 400);
    let body: serde_json::Value = own.json().await.expect("json");
    assert_eq!(body["error"], "admin.cannot_revoke_own_device");
    let me = admin_post(
        &app,
        &admin.token,
        &format!("/api/admin/users/{}/revoke", admin.user.id),
    )
    .await;
    assert_eq!(me.status(), 400);
    // The session still works.
    let me = authed(Method::GET, app.url("/api/me"), &admin.token)
        .send()
        .await
        .expect("sent");
    assert_eq!(me.status(), 200);
    // Another device of the admin's (a lost phone) may be revoked from this one.
    let phone = Device::new();
    app.session_on(&phone, ADMIN).await;
    revoke_device(&app, &admin.token, &phone.device_id).await;
    assert_eq!(app.sign_in_on(&phone, ADMIN).await.status(), 403);
}

#[tokio::test]
async fn a_revoked_device_or_user_restored_signs_in_again() {
    let app = spawn_app().await;
    let admin = app.session(ADMIN).await;
    let phone = Device::new();
    let guard = app.session_on(&phone, GUARD).await;
    revoke_device(&app, &admin.token, &phone.device_id).await;
    assert_eq!(app.sign_in_on(&phone, GUARD).await.status(), 403);
    let restored = admin_post(
        &app,
        &admin.token,
        &format!("/api/admin/devices/{}/restore", phone.device_id),
    )
    .await;
    assert_eq!(restored.status(), 204);
    // The token the phone had before stays dead (a lost phone found by someone else does
    // not come back to life): it signs in again.
    assert_hello_refused(app.addr, &guard.token, ErrorCode::Unauthorized).await;
    assert_eq!(app.sign_in_on(&phone, GUARD).await.status(), 200);

    let revoked = admin_post(
        &app,
        &admin.token,
        &format!("/api/admin/users/{}/revoke", guard.user.id),
    )
    .await;
    assert_eq!(revoked.status(), 204);
    assert_eq!(app.sign_in_on(&phone, GUARD).await.status(), 401);
    let listed: Vec<UserListing> = authed(Method::GET, app.url("/api/admin/users"), &admin.token)
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("json");
    let listing = listed
        .iter()
        .find(|l| l.user.id == guard.user.id)
        .expect("listed");
    assert!(listing.revoked_at.is_some());
    let restored = admin_post(
        &app,
        &admin.token,
        &format!("/api/admin/users/{}/restore", guard.user.id),
    )
    .await;
    assert_eq!(restored.status(), 204);
    assert_eq!(app.sign_in_on(&phone, GUARD).await.status(), 200);
    // The session the revocation ended stays ended.
    assert_hello_refused(app.addr, &guard.token, ErrorCode::Unauthorized).await;
    // Nothing of another estate's, and nothing that does not exist.
    let clerk = app.session(CLERK).await;
    let forbidden = admin_post(
        &app,
        &clerk.token,
        &format!("/api/admin/users/{}/restore", guard.user.id),
    )
    .await;
    assert_eq!(forbidden.status(), 403);
    let missing = admin_post(&app, &admin.token, "/api/admin/users/nobody/restore").await;
    assert_eq!(missing.status(), 404);

    // A user of two estates revoked: an admin of only one of them cannot give them back
    // the other.
    let both = {
        let store = gatehouse_server::store::Store::open(&app.data_dir.join("gatehouse.db"))
            .expect("opens");
        gatehouse_server::admin::upsert_estate(&store, "estate-b", "Estate B").expect("estate");
        let user = gatehouse_server::admin::create_user(
            &store,
            &gatehouse_shared::user::NewUser {
                username: "two-estates".into(),
                display_name: "两处保安".into(),
                password: "two-estates-password".into(),
                role: gatehouse_shared::Role::Guard,
                estates: vec![guard.user.estate_id.clone(), "estate-b".into()],
            },
            T0,
        )
        .expect("user");
        store.revoke_user(&user.id, T0).expect("revoked");
        user
    };
    let partial = admin_post(
        &app,
        &admin.token,
        &format!("/api/admin/users/{}/restore", both.id),
    )
    .await;
    assert_eq!(partial.status(), 403);
}

#[tokio::test]
async fn a_user_names_their_own_device_and_the_admin_sees_the_name() {
    let app = spawn_app().await;
    let phone = Device::new();
    let guard = app.session_on(&phone, GUARD).await;
    let name = |token: &str, device: &str, name: &str| {
        authed(
            Method::PUT,
            app.url(&format!("/api/devices/{device}/name")),
            token,
        )
        .json(&serde_json::json!({ "name": name }))
        .send()
    };
    let named = name(&guard.token, &phone.device_id, "  东门岗亭手机 ")
        .await
        .expect("sent");
    assert_eq!(named.status(), 204);
    let admin = app.session(ADMIN).await;
    let listed: Vec<DeviceInfo> = authed(Method::GET, app.url("/api/admin/devices"), &admin.token)
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("json");
    let device = listed
        .iter()
        .find(|d| d.device_id == phone.device_id)
        .expect("listed");
    assert_eq!(device.name.as_deref(), Some("东门岗亭手机"));
    // Too long, or with control characters: refused, and the name stays.
    for bad in ["长".repeat(41), "东门\n岗亭".to_owned()] {
        let refused = name(&guard.token, &phone.device_id, &bad)
            .await
            .expect("sent");
        assert_eq!(refused.status(), 400, "{bad:?}");
    }
    // Someone else's device (the clerk's): not theirs to name.
    let laptop = Device::new();
    app.session_on(&laptop, CLERK).await;
    let foreign = name(&guard.token, &laptop.device_id, "我的")
        .await
        .expect("sent");
    assert_eq!(foreign.status(), 404);
    // An empty name clears it.
    let cleared = name(&guard.token, &phone.device_id, " ")
        .await
        .expect("sent");
    assert_eq!(cleared.status(), 204);
    let mine: Vec<DeviceInfo> = authed(Method::GET, app.url("/api/devices"), &guard.token)
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("json");
    assert_eq!(mine[0].name, None);
}

#[tokio::test]
async fn enrolment_that_does_not_match_the_device_is_refused() {
    let app = spawn_app().await;
    let phone = Device::new();
    app.session_on(&phone, GUARD).await;
    // Same device ID, another key: not the device that enrolled.
    let mut impostor = Device::new();
    impostor.device_id = phone.device_id.clone();
    impostor.actor = phone.actor.clone();
    assert_eq!(app.sign_in_on(&impostor, GUARD).await.status(), 409);
    // Another device claiming this device's actor.
    let mut copycat = Device::new();
    copycat.actor = phone.actor.clone();
    assert_eq!(app.sign_in_on(&copycat, GUARD).await.status(), 409);
    // A signature made for another user.
    let mut enrolment = Device::new().enrolment("clerk");
    enrolment.label = "x".into();
    let response = reqwest::Client::new()
        .post(app.url("/api/sign-in"))
        .json(&serde_json::json!({
            "username": "guard", "password": "guard-demo-2026", "device": enrolment
        }))
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 400);
    // The same device signing in again is recognised.
    assert_eq!(app.sign_in_on(&phone, GUARD).await.status(), 200);
}

#[tokio::test]
async fn changing_the_password_ends_the_other_sessions_and_devices_are_listed() {
    let app = spawn_app().await;
    let first = app.session(GUARD).await;
    let second = app.session(GUARD).await;
    let devices: Vec<DeviceInfo> = authed(Method::GET, app.url("/api/devices"), &first.token)
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("json");
    assert_eq!(devices.len(), 2);
    assert_eq!(
        devices
            .iter()
            .flat_map(|d| &d.sessions)
            .filter(|s| s.current)
            .count(),
        1
    );

    let changed = authed(Method::POST, app.url("/api/password"), &first.token)
        .json(&serde_json::json!({
            "current_password": "guard-demo-2026", "new_password": "a-new-long-password"
        }))
        .send()
        .await
        .expect("sent");
    assert_eq!(changed.status(), 204);
    let status = |token: String| {
        let url = app.url("/api/me");
        async move {
            authed(Method::GET, url, &token)
                .send()
                .await
                .expect("sent")
                .status()
        }
    };
    assert_eq!(status(first.token.clone()).await, 200);
    assert_eq!(status(second.token.clone()).await, 401);
    assert_eq!(app.sign_in(GUARD).await.status(), 401);
    assert_eq!(
        app.sign_in(("guard", "a-new-long-password")).await.status(),
        200
    );

    // A wrong current password or a short new one changes nothing.
    let wrong = authed(Method::POST, app.url("/api/password"), &first.token)
        .json(&serde_json::json!({
            "current_password": "nope", "new_password": "another-long-password"
        }))
        .send()
        .await
        .expect("sent");
    assert_eq!(wrong.status(), 401);
    let short = authed(Method::POST, app.url("/api/password"), &first.token)
        .json(&serde_json::json!({
            "current_password": "a-new-long-password", "new_password": "short"
        }))
        .send()
        .await
        .expect("sent");
    assert_eq!(short.status(), 400);
}

#[tokio::test]
async fn a_document_past_the_size_limit_is_rejected() {
    let app = spawn_app_with(|config| config.max_document_bytes = 2_000).await;
    let mut phone = Device::new();
    let guard = app.session_on(&phone, GUARD).await;
    let id = phone.start_round(&guard.user.estate_id, &guard.user.id, "night", T0);
    let mut socket = Device::connect_ok(app.addr, &guard.token)
        .await
        .expect("connects");
    phone.sync(&mut socket).await.expect("syncs");
    assert!(phone.is_stored(id));
    for i in 0..10 {
        phone.edit(id, T0 + i, |log| {
            log.visits.push(visit(
                &guard.user.id,
                &format!("checkpoint {i}"),
                T0 + i,
                &"note ".repeat(40),
            ))
        });
    }
    phone.sync(&mut socket).await.expect("exchange completes");
    let (code, problems, _) = refusal(&phone).expect("refused");
    assert_eq!(code, ErrorCode::Rejected);
    assert_eq!(problems, [Problem::new("", keys::DOCUMENT_TOO_LARGE)]);
}

/// Sends `size` bytes as one message and reads what comes back: the close code, and whether
/// the connection then ended cleanly (not reset).
async fn send_oversized(size: usize) -> (Option<u16>, bool) {
    let app = spawn_app().await;
    let guard = app.session(GUARD).await;
    let mut socket = Device::connect_ok(app.addr, &guard.token)
        .await
        .expect("connects");
    let huge = vec![0u8; size];
    let _ = socket.send(Message::Binary(huge.into())).await;
    let mut code = None;
    let mut clean = true;
    while let Some(frame) = futures_util::StreamExt::next(&mut socket).await {
        match frame {
            Ok(Message::Close(Some(close))) => code = Some(u16::from(close.code)),
            Ok(_) => continue,
            Err(_) => {
                clean = false;
                break;
            }
        }
    }
    (code, clean)
}

#[tokio::test]
async fn a_message_past_the_frame_limit_closes_the_socket_with_1009() {
    // Just past the limit, as a client written from the spec sent it: the close arrives and
    // the connection ends cleanly, not with a reset (which a browser reports as 1006).
    for size in [
        protocol::MAX_FRAME_BYTES + 1,
        protocol::MAX_FRAME_BYTES + 1024,
    ] {
        assert_eq!(
            send_oversized(size).await,
            (Some(1009), true),
            "{size} bytes"
        );
    }
}

#[tokio::test]
async fn two_tabs_writing_with_one_actor_are_told_what_is_wrong() {
    let app = spawn_app().await;
    let mut tab1 = Device::new();
    let guard = app.session_on(&tab1, GUARD).await;
    let id = tab1.start_round(&guard.user.estate_id, &guard.user.id, "two tabs", T0);
    let mut socket1 = Device::connect_ok(app.addr, &guard.token)
        .await
        .expect("connects");
    tab1.sync(&mut socket1).await.expect("syncs");
    // A second tab of the same phone: the same device, actor and document, its own edits.
    let mut tab2 = Device::new();
    tab2.device_id = tab1.device_id.clone();
    tab2.actor = tab1.actor.clone();
    tab2.docs
        .insert(id, tab1.docs[&id].clone().with_actor(tab1.actor.clone()));
    tab1.edit(id, T0 + 10, |log| {
        log.visits
            .push(visit(&guard.user.id, "Gate 1", T0 + 10, "tab 1"))
    });
    tab2.edit(id, T0 + 20, |log| {
        log.visits
            .push(visit(&guard.user.id, "Gate 2", T0 + 20, "tab 2"))
    });
    tab1.sync(&mut socket1).await.expect("syncs");
    assert!(tab1.is_stored(id));
    // The second tab's change has the first one's actor and sequence number: the server says
    // so (not a bare bad_sync_message) and keeps serving.
    let mut socket2 = Device::connect_ok(app.addr, &guard.token)
        .await
        .expect("connects");
    for _ in 0..3 {
        let Some(message) = tab2.session.generate(id, &tab2.docs[&id]) else {
            break;
        };
        let frame = protocol::encode(&ClientMessage::Sync {
            docs: vec![message],
        });
        socket2
            .send(Message::Binary(frame.into()))
            .await
            .expect("sends");
        while let Some(answer) = next_message(&mut socket2).await.expect("reads") {
            let reply = matches!(answer, ServerMessage::Sync { pushed: false, .. });
            // The tab cannot take the first tab's change either (same actor and sequence).
            let _ = tab2.handle(answer);
            if reply {
                break;
            }
        }
        if tab2.refusal(id).is_some() {
            break;
        }
    }
    let (code, problems) = tab2.refusal(id).expect("the server refused the second tab");
    assert_eq!(code, ErrorCode::BadSyncMessage);
    assert_eq!(problems, [Problem::new("changes", keys::DUPLICATE_CHANGE)]);
    assert!(!tab2.is_stored(id));
}

#[tokio::test]
async fn a_frame_naming_a_document_twice_is_malformed_and_stores_nothing() {
    let app = spawn_app().await;
    let mut phone = Device::new();
    let guard = app.session_on(&phone, GUARD).await;
    let id = phone.start_round(&guard.user.estate_id, &guard.user.id, "twice", T0);
    let mut socket = Device::connect_ok(app.addr, &guard.token)
        .await
        .expect("connects");
    let mut session = gatehouse_shared::sync_session::SyncSession::new();
    let first = session
        .generate(id, &phone.docs[&id])
        .expect("a first message");
    let frame = protocol::encode(&ClientMessage::Sync {
        docs: vec![first.clone(), first],
    });
    socket
        .send(Message::Binary(frame.into()))
        .await
        .expect("sends");
    let answer = next_message(&mut socket).await.expect("reads");
    assert!(
        matches!(
            answer,
            Some(ServerMessage::Error {
                code: ErrorCode::Malformed,
                doc: None,
                fatal: false,
                ..
            })
        ),
        "{answer:?}"
    );
    // Nothing was stored, and the same phone syncs it normally afterwards.
    let clerk = app.session(CLERK).await;
    let listed: Vec<serde_json::Value> = authed(Method::GET, app.url("/api/records"), &clerk.token)
        .send()
        .await
        .expect("lists")
        .json()
        .await
        .expect("json");
    assert!(listed.is_empty(), "{listed:?}");
    phone.sync(&mut socket).await.expect("syncs");
    assert!(phone.is_stored(id));
}

#[tokio::test]
async fn a_technician_may_not_start_a_patrol_log() {
    let app = spawn_app().await;
    let mut phone = Device::new();
    let tech = app.session_on(&phone, TECH).await;
    let id = phone.start_round(&tech.user.estate_id, &tech.user.id, "not mine", T0);
    let mut socket = Device::connect_ok(app.addr, &tech.token)
        .await
        .expect("connects");
    phone.sync(&mut socket).await.expect("exchange completes");
    let (code, problems, _) = refusal(&phone).expect("refused");
    assert_eq!(code, ErrorCode::Forbidden);
    assert!(problems.iter().any(|p| p.key == keys::ROLE_FORBIDS));
    assert!(!phone.is_stored(id));
}

#[tokio::test]
async fn an_expired_session_allows_nothing() {
    // Sessions that last no time at all expire as soon as they are made.
    let app = spawn_app_with(|config| config.session_days = 0).await;
    let guard = app.session(GUARD).await;
    let me = authed(Method::GET, app.url("/api/me"), &guard.token)
        .send()
        .await
        .expect("sent");
    assert_eq!(me.status(), 401);
    assert_hello_refused(app.addr, &guard.token, ErrorCode::Unauthorized).await;
}
