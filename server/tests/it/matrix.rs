//! The authorization matrix: every HTTP route and the sync socket, tried by every role of
//! two estates, by nobody and by a revoked device. Each answer must be the one the role
//! allows, and no response to anyone outside an estate may carry a byte of its data.

use gatehouse_server::admin;
use gatehouse_server::store::Store;
use gatehouse_shared::protocol::{self, ErrorCode, ServerMessage};
use gatehouse_shared::user::{NewUser, SignInResponse};
use gatehouse_shared::{DocumentId, Role};
use reqwest::Method;

use crate::device::{is_fatal, remark, visit, Device};
use crate::helpers::{authed, spawn_app, TestApp, ADMIN, CLERK, GUARD, T0, TECH};

const ESTATE_A: &str = "demo-estate";
const ESTATE_B: &str = "estate-b";
/// Appears in every piece of estate B's data; must never reach anyone outside it.
const SECRET_B: &str = "SECRET-B-4f1c";
/// The same for estate A's data, which estate B must never see.
const SECRET_A: &str = "SECRET-A-9d2e";
const PASSWORD_B: &str = "estate-b-password";

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Who {
    Nobody,
    Revoked,
    Member(Role, &'static str),
}

struct Actor {
    who: Who,
    session: Option<SignInResponse>,
    device: Device,
}

impl Actor {
    fn token(&self) -> &str {
        self.session
            .as_ref()
            .map_or("no-such-token", |s| s.token.as_str())
    }
    fn estate(&self) -> Option<&'static str> {
        match self.who {
            Who::Member(_, estate) => Some(estate),
            Who::Revoked => Some(ESTATE_A),
            Who::Nobody => None,
        }
    }
    fn role(&self) -> Option<Role> {
        match self.who {
            Who::Member(role, _) => Some(role),
            _ => None,
        }
    }
}

/// Fails if `bytes` holds the other estate's secret (for a member of `estate`, or anyone
/// when `estate` is None).
fn assert_no_foreign_bytes(estate: Option<&str>, what: &str, bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    let forbidden: &[&str] = match estate {
        Some(ESTATE_A) => &[SECRET_B, ESTATE_B],
        Some(_) => &[SECRET_A],
        None => &[SECRET_A, SECRET_B, ESTATE_B],
    };
    for secret in forbidden {
        assert!(
            !text.contains(secret),
            "{what}: response carries {secret}: {text}"
        );
    }
}

/// A server frame as plain CBOR (inflated if it came compressed), for byte scans.
fn plain(frame: &[u8]) -> Vec<u8> {
    let value: ciborium::Value = protocol::decode(frame).expect("server frames decode");
    let mut out = Vec::new();
    ciborium::into_writer(&value, &mut out).expect("re-encodes");
    out
}

fn add_user(store: &Store, username: &str, name: &str, role: Role, estate: &str) {
    admin::create_user(
        store,
        &NewUser {
            username: username.into(),
            display_name: name.into(),
            password: PASSWORD_B.into(),
            role,
            estates: vec![estate.into()],
        },
        T0,
    )
    .expect("user created");
}

/// Each estate's guard writes a round (with a visit and an office remark) that only that
/// estate may see. Returns the document IDs, A's then B's.
async fn seed_records(app: &TestApp) -> (DocumentId, DocumentId) {
    let mut ids = Vec::new();
    for (guard, clerk, secret, estate) in [
        (GUARD, CLERK, SECRET_A, ESTATE_A),
        (
            ("guard-b", PASSWORD_B),
            ("office-b", PASSWORD_B),
            SECRET_B,
            ESTATE_B,
        ),
    ] {
        let mut phone = Device::new();
        let session = app.session_on(&phone, guard).await;
        let id = phone.start_round(estate, &session.user.id, &format!("route {secret}"), T0);
        phone.edit(id, T0 + 1, |log| {
            log.visits.push(visit(
                &session.user.id,
                &format!("gate {secret}"),
                T0 + 1,
                secret,
            ))
        });
        let mut socket = Device::connect_ok(app.addr, &session.token)
            .await
            .expect("connects");
        phone.sync(&mut socket).await.expect("syncs");
        assert!(phone.is_stored(id), "seed record of {estate} stored");
        let mut desk = Device::new();
        let office = app.session_on(&desk, clerk).await;
        desk.follow(id);
        let mut desk_socket = Device::connect_ok(app.addr, &office.token)
            .await
            .expect("connects");
        desk.sync(&mut desk_socket).await.expect("fetches");
        desk.edit(id, T0 + 2, |log| {
            log.remarks
                .push(remark(&office.user.id, &format!("remark {secret}"), T0 + 2))
        });
        desk.sync(&mut desk_socket).await.expect("syncs");
        assert!(desk.is_stored(id));
        ids.push(id);
    }
    (ids[0], ids[1])
}

struct Route {
    method: Method,
    path: String,
    body: Option<serde_json::Value>,
    /// The status each actor must get.
    expect: Box<dyn Fn(&Actor) -> u16>,
}

/// What every authenticated route answers before looking at the role.
fn gate(actor: &Actor) -> Option<u16> {
    match actor.who {
        Who::Nobody => Some(401),
        Who::Revoked => Some(403),
        Who::Member(..) => None,
    }
}

/// For a route of one role: `yes` for it, 403 for the other roles.
fn only(role: Role, yes: u16) -> Box<dyn Fn(&Actor) -> u16> {
    Box::new(move |a| gate(a).unwrap_or(if a.role() == Some(role) { yes } else { 403 }))
}

fn routes(users: &Users, counter: usize) -> Vec<Route> {
    let admin_of = |estate: &'static str, yes: u16, other_admin: u16| {
        move |a: &Actor| {
            gate(a).unwrap_or(match a.who {
                Who::Member(Role::Admin, e) if e == estate => yes,
                Who::Member(Role::Admin, _) => other_admin,
                _ => 403,
            })
        }
    };
    vec![
        Route {
            method: Method::GET,
            path: "/api/health".into(),
            body: None,
            expect: Box::new(|_| 200),
        },
        Route {
            method: Method::POST,
            path: "/api/sign-in".into(),
            // An unknown account (one per actor, so the sign-in rate limit never answers).
            body: Some(serde_json::json!({
                "username": format!("ghost-{counter}"), "password": "wrong",
                "device": Device::new().enrolment(&format!("ghost-{counter}"))
            })),
            expect: Box::new(|_| 401),
        },
        Route {
            method: Method::GET,
            path: "/api/me".into(),
            body: None,
            expect: Box::new(|a| gate(a).unwrap_or(200)),
        },
        Route {
            method: Method::GET,
            path: "/api/devices".into(),
            body: None,
            expect: Box::new(|a| gate(a).unwrap_or(200)),
        },
        Route {
            method: Method::POST,
            path: "/api/password".into(),
            // Too short: refused before anything changes, whoever asks.
            body: Some(serde_json::json!({"current_password": "x", "new_password": "short"})),
            expect: Box::new(|a| gate(a).unwrap_or(400)),
        },
        Route {
            method: Method::GET,
            path: "/api/records".into(),
            body: None,
            expect: only(Role::Office, 200),
        },
        Route {
            method: Method::GET,
            path: "/api/device-keys".into(),
            body: None,
            expect: only(Role::Office, 200),
        },
        Route {
            method: Method::GET,
            path: "/api/admin/users".into(),
            body: None,
            expect: only(Role::Admin, 200),
        },
        Route {
            method: Method::POST,
            path: "/api/admin/users".into(),
            body: Some(serde_json::json!({
                "username": format!("new-user-{counter}"), "display_name": "New",
                "password": "long-enough-password", "role": "guard", "estates": [ESTATE_A]
            })),
            expect: Box::new(admin_of(ESTATE_A, 201, 403)),
        },
        Route {
            method: Method::POST,
            path: format!("/api/admin/users/{}/password", users.guard_a),
            body: Some(serde_json::json!({"password": "short"})),
            expect: Box::new(admin_of(ESTATE_A, 400, 404)),
        },
        Route {
            method: Method::POST,
            path: format!("/api/admin/users/{}/password", users.guard_b),
            body: Some(serde_json::json!({"password": "short"})),
            expect: Box::new(admin_of(ESTATE_B, 400, 404)),
        },
        Route {
            method: Method::POST,
            path: format!("/api/admin/users/{}/revoke", users.victim_a),
            body: None,
            expect: Box::new(admin_of(ESTATE_A, 204, 404)),
        },
        Route {
            method: Method::POST,
            path: format!("/api/admin/users/{}/revoke", users.victim_b),
            body: None,
            expect: Box::new(admin_of(ESTATE_B, 204, 404)),
        },
        Route {
            method: Method::POST,
            path: "/api/admin/users/no-such-user/revoke".into(),
            body: None,
            expect: only(Role::Admin, 404),
        },
        Route {
            method: Method::GET,
            path: "/api/admin/devices".into(),
            body: None,
            expect: only(Role::Admin, 200),
        },
        Route {
            method: Method::POST,
            path: format!("/api/admin/devices/{}/revoke", users.spare_device_a),
            body: None,
            expect: Box::new(admin_of(ESTATE_A, 204, 404)),
        },
        Route {
            method: Method::POST,
            path: format!("/api/admin/devices/{}/revoke", users.spare_device_b),
            body: None,
            expect: Box::new(admin_of(ESTATE_B, 204, 404)),
        },
        Route {
            method: Method::POST,
            path: format!("/api/admin/devices/{}/restore", users.spare_device_b),
            body: None,
            expect: Box::new(admin_of(ESTATE_B, 204, 404)),
        },
        Route {
            method: Method::POST,
            path: format!("/api/admin/users/{}/restore", users.victim_b),
            body: None,
            expect: Box::new(admin_of(ESTATE_B, 204, 404)),
        },
        Route {
            method: Method::POST,
            path: "/api/admin/devices/no-such-device/restore".into(),
            body: None,
            expect: only(Role::Admin, 404),
        },
        Route {
            method: Method::POST,
            path: "/api/admin/estates".into(),
            body: Some(
                serde_json::json!({"id": format!("new-estate-{counter}"), "name": "New estate"}),
            ),
            expect: only(Role::Admin, 201),
        },
        Route {
            method: Method::PUT,
            path: "/api/devices/no-such-device/name".into(),
            body: Some(serde_json::json!({"name": "东门岗亭"})),
            expect: Box::new(|a| gate(a).unwrap_or(404)),
        },
        Route {
            method: Method::GET,
            path: "/api/admin/estates".into(),
            body: None,
            expect: only(Role::Admin, 200),
        },
        Route {
            method: Method::PUT,
            path: format!("/api/admin/estates/{ESTATE_B}/retention"),
            body: Some(serde_json::json!({"days": 20 + counter % 30})),
            expect: Box::new(admin_of(ESTATE_B, 204, 404)),
        },
        Route {
            method: Method::GET,
            path: "/api/estates".into(),
            body: None,
            expect: Box::new(|a| gate(a).unwrap_or(200)),
        },
        Route {
            method: Method::PUT,
            path: format!("/api/admin/estates/{ESTATE_B}/found-items"),
            body: Some(serde_json::json!({
                "notice_days": 3 + counter % 5,
                "retention_days": 90,
                "valuables_retention_days": 180,
            })),
            expect: Box::new(admin_of(ESTATE_B, 204, 404)),
        },
        // Not served without a metrics token, whoever asks.
        Route {
            method: Method::GET,
            path: "/metrics".into(),
            body: None,
            expect: Box::new(|_| 404),
        },
    ]
}

struct Users {
    guard_a: String,
    guard_b: String,
    victim_a: String,
    victim_b: String,
    spare_device_a: String,
    spare_device_b: String,
}

#[tokio::test]
async fn every_route_and_the_socket_allow_exactly_what_each_role_may() {
    let app = spawn_app().await;
    {
        let store = Store::open(&app.data_dir.join("gatehouse.db")).expect("opens");
        admin::upsert_estate(&store, ESTATE_B, &format!("Estate {SECRET_B}")).expect("estate");
        store
            .upsert_estate(ESTATE_A, &format!("阳光花园 {SECRET_A}"))
            .expect("renamed");
        for (username, role) in [
            ("guard-b", Role::Guard),
            ("tech-b", Role::Technician),
            ("office-b", Role::Office),
            ("admin-b", Role::Admin),
            ("victim-b", Role::Guard),
        ] {
            add_user(
                &store,
                username,
                &format!("{username} {SECRET_B}"),
                role,
                ESTATE_B,
            );
        }
        add_user(&store, "victim-a", "victim", Role::Guard, ESTATE_A);
    }
    let (doc_a, doc_b) = seed_records(&app).await;

    let mut actors = Vec::new();
    for (who, account) in [
        (Who::Member(Role::Guard, ESTATE_A), GUARD),
        (Who::Member(Role::Technician, ESTATE_A), TECH),
        (Who::Member(Role::Office, ESTATE_A), CLERK),
        (Who::Member(Role::Admin, ESTATE_A), ADMIN),
        (Who::Member(Role::Guard, ESTATE_B), ("guard-b", PASSWORD_B)),
        (
            Who::Member(Role::Technician, ESTATE_B),
            ("tech-b", PASSWORD_B),
        ),
        (
            Who::Member(Role::Office, ESTATE_B),
            ("office-b", PASSWORD_B),
        ),
        (Who::Member(Role::Admin, ESTATE_B), ("admin-b", PASSWORD_B)),
        (Who::Revoked, GUARD),
    ] {
        let device = Device::new();
        let session = app.session_on(&device, account).await;
        actors.push(Actor {
            who,
            session: Some(session),
            device,
        });
    }
    actors.push(Actor {
        who: Who::Nobody,
        session: None,
        device: Device::new(),
    });
    let spare_a = Device::new();
    let spare_b = Device::new();
    let users = Users {
        guard_a: actors[0]
            .session
            .as_ref()
            .map(|s| s.user.id.clone())
            .unwrap_or_default(),
        guard_b: actors[4]
            .session
            .as_ref()
            .map(|s| s.user.id.clone())
            .unwrap_or_default(),
        victim_a: app.session(("victim-a", PASSWORD_B)).await.user.id,
        victim_b: app.session(("victim-b", PASSWORD_B)).await.user.id,
        spare_device_a: app.session_on(&spare_a, GUARD).await.device_id,
        spare_device_b: app
            .session_on(&spare_b, ("guard-b", PASSWORD_B))
            .await
            .device_id,
    };
    // The revoked actor's device is revoked by its admin.
    let revoked_device = actors[8]
        .session
        .as_ref()
        .map(|s| s.device_id.clone())
        .unwrap_or_default();
    let admin_a_token = actors[3].token().to_owned();
    let answer = authed(
        Method::POST,
        app.url(&format!("/api/admin/devices/{revoked_device}/revoke")),
        &admin_a_token,
    )
    .send()
    .await
    .expect("sent");
    assert_eq!(answer.status(), 204);

    let mut requests = 0usize;
    for (index, actor) in actors.iter().enumerate() {
        for route in routes(&users, index) {
            let mut request =
                reqwest::Client::new().request(route.method.clone(), app.url(&route.path));
            if actor.session.is_some() || actor.who == Who::Nobody {
                request = request.bearer_auth(actor.token());
            }
            if let Some(body) = &route.body {
                request = request.json(body);
            }
            let response = request.send().await.expect("sent");
            requests += 1;
            let status = response.status().as_u16();
            let body = response.bytes().await.expect("body");
            assert_eq!(
                status,
                (route.expect)(actor),
                "{:?} {} {}: {}",
                actor.who,
                route.method,
                route.path,
                String::from_utf8_lossy(&body)
            );
            assert_no_foreign_bytes(actor.estate(), &route.path, &body);
        }
        // Without a bearer token at all.
        if actor.who == Who::Nobody {
            let response = reqwest::Client::new()
                .get(app.url("/api/records"))
                .send()
                .await
                .expect("sent");
            requests += 1;
            assert_eq!(response.status(), 401);
        }
    }

    // The sync socket: read each estate's record, write a remark to it, start a new round.
    for actor in &mut actors {
        let (_, answer) = Device::connect(app.addr, actor.token(), protocol::SUPPORTED_VERSIONS)
            .await
            .expect("answers");
        requests += 1;
        let expected_refusal = match actor.who {
            Who::Nobody => Some(ErrorCode::Unauthorized),
            Who::Revoked => Some(ErrorCode::DeviceRevoked),
            Who::Member(..) => None,
        };
        if let Some(code) = expected_refusal {
            assert!(is_fatal(&answer, code), "{:?}: {answer:?}", actor.who);
            continue;
        }
        assert!(
            matches!(answer, ServerMessage::Welcome { .. }),
            "{answer:?}"
        );
        let mut socket = Device::connect_ok(app.addr, actor.token())
            .await
            .expect("connects");
        requests += 1;
        let role = actor.role().expect("member");
        let estate = actor.estate().expect("member");
        let device = &mut actor.device;
        for (doc, doc_estate) in [(doc_a, ESTATE_A), (doc_b, ESTATE_B)] {
            let may =
                doc_estate == estate && role.works_with(gatehouse_shared::RecordKind::PatrolLog);
            device.errors.clear();
            device.follow(doc);
            let before = device.traffic.round_trips;
            device
                .sync_documents(&mut socket, &[doc])
                .await
                .expect("exchange completes");
            requests += (device.traffic.round_trips - before) as usize;
            let forbidden = device.errors.iter().any(|e| {
                matches!(e, ServerMessage::Error { code: ErrorCode::Forbidden, doc: Some(d), .. } if *d == doc)
            });
            assert_eq!(forbidden, !may, "{:?} reading {doc_estate}", actor.who);
            if may {
                assert!(device.read(doc).route.contains(if doc_estate == ESTATE_A {
                    SECRET_A
                } else {
                    SECRET_B
                }));
                // A remark on a record the role works with: stored for the office only.
                device.errors.clear();
                let author = actor
                    .session
                    .as_ref()
                    .map(|s| s.user.id.clone())
                    .unwrap_or_default();
                device.edit(doc, T0 + 10, |log| {
                    log.remarks.push(remark(&author, "noted", T0 + 10))
                });
                let before = device.traffic.round_trips;
                device
                    .sync_documents(&mut socket, &[doc])
                    .await
                    .expect("syncs");
                requests += (device.traffic.round_trips - before) as usize;
                // Remarks are the office's to add; a guard reads the round but adds none.
                if role == Role::Office {
                    assert!(
                        device.errors.is_empty(),
                        "{:?}: {:?}",
                        actor.who,
                        device.errors
                    );
                    assert!(device.is_stored(doc));
                } else {
                    let refused = device.errors.iter().any(|e| {
                        matches!(e, ServerMessage::Error { code: ErrorCode::Forbidden, problems, .. }
                            if problems.iter().any(|p| p.key.as_str() == "validation.role_forbids"))
                    });
                    assert!(
                        refused,
                        "{:?} added a remark: {:?}",
                        actor.who, device.errors
                    );
                    assert!(!device.is_stored(doc));
                }
            } else {
                assert!(
                    device.read_opt(doc).is_none(),
                    "{:?} received the record of {doc_estate}",
                    actor.who
                );
            }
        }
        // A new round in the actor's own estate: only guards start patrol logs.
        device.errors.clear();
        let user_id = actor
            .session
            .as_ref()
            .map(|s| s.user.id.clone())
            .unwrap_or_default();
        let id = device.start_round(estate, &user_id, "new round", T0 + 20);
        let before = device.traffic.round_trips;
        device
            .sync_documents(&mut socket, &[id])
            .await
            .expect("exchange completes");
        requests += (device.traffic.round_trips - before) as usize;
        assert_eq!(
            device.is_stored(id),
            role == Role::Guard,
            "{:?} starting a round",
            actor.who
        );
        // A round claiming the other estate is refused for everyone.
        device.errors.clear();
        let other = if estate == ESTATE_A {
            ESTATE_B
        } else {
            ESTATE_A
        };
        let id = device.start_round(other, &user_id, "elsewhere", T0 + 30);
        let before = device.traffic.round_trips;
        device
            .sync_documents(&mut socket, &[id])
            .await
            .expect("exchange completes");
        requests += (device.traffic.round_trips - before) as usize;
        assert!(!device.is_stored(id), "{:?} wrote into {other}", actor.who);
        for frame in &device.frames {
            assert_no_foreign_bytes(Some(estate), "sync frame", &plain(frame));
        }
    }

    // Office lists are scoped to the estate.
    for actor in actors.iter().filter(|a| a.role() == Some(Role::Office)) {
        let list: Vec<gatehouse_shared::RecordSummary> =
            authed(Method::GET, app.url("/api/records"), actor.token())
                .send()
                .await
                .expect("sent")
                .json()
                .await
                .expect("json");
        requests += 1;
        let own = if actor.estate() == Some(ESTATE_A) {
            doc_a
        } else {
            doc_b
        };
        assert!(list
            .iter()
            .all(|r| r.estate_id == actor.estate().unwrap_or_default()));
        assert!(list.iter().any(|r| r.doc == own));
    }

    // Signing out ends only one's own session, for every role.
    for actor in actors.iter().filter(|a| matches!(a.who, Who::Member(..))) {
        let response = authed(Method::POST, app.url("/api/sign-out"), actor.token())
            .send()
            .await
            .expect("sent");
        requests += 1;
        assert_eq!(response.status(), 204);
        let me = authed(Method::GET, app.url("/api/me"), actor.token())
            .send()
            .await
            .expect("sent");
        requests += 1;
        assert_eq!(me.status(), 401);
    }
    println!("authorization matrix: {requests} requests");
    assert!(requests > 200, "only {requests} requests");
}
