//! The follow set (protocol version 2): an estate's registry reaches every guard of that
//! estate without being asked, and no one else's; version 1 phones keep syncing their own
//! records as before.

use futures_util::SinkExt;
use gatehouse_server::admin;
use gatehouse_server::store::Store;
use gatehouse_shared::protocol::{self, ClientMessage, ErrorCode, ServerMessage};
use gatehouse_shared::record::read_kind;
use gatehouse_shared::record::registry::{
    current_units, Occupancy, Owner, Registry, Tenant, UnitEntry, UnitInfo,
};
use gatehouse_shared::user::NewUser;
use gatehouse_shared::{DocumentId, PatrolLog, Role};
use tokio_tungstenite::tungstenite::Message;

use crate::device::{entry_id, next_message, Device};
use crate::helpers::{now_ms, spawn_app, spawn_app_with, TestApp, CLERK, GUARD, T0, TECH};

pub(crate) const ESTATE_B: &str = "estate-b";
const GUARD_B: (&str, &str) = ("guard-b", "estate-b-password");

pub(crate) fn unit(room: &str, owner: &str, tenant: Option<&str>) -> UnitInfo {
    UnitInfo {
        building: "3".into(),
        entrance: "1".into(),
        room: room.into(),
        occupancy: if tenant.is_some() {
            Occupancy::Let
        } else {
            Occupancy::OwnerOccupied
        },
        company: String::new(),
        owners: vec![Owner {
            name: owner.into(),
            phone: "13800138000".into(),
            employer: "市第一医院".into(),
            id_last4: "1234".into(),
        }],
        tenants: tenant
            .map(|name| Tenant {
                name: name.into(),
                phone: "13900139000".into(),
                id_last4: "567X".into(),
                lease_start: "2026-01-01".into(),
                lease_end: "2026-12-31".into(),
            })
            .into_iter()
            .collect(),
    }
}

/// The office's device writes a registry of `estate` with `units` and syncs it.
pub(crate) async fn office_writes_registry(
    app: &TestApp,
    account: (&str, &str),
    units: Vec<UnitInfo>,
) -> DocumentId {
    let mut office = Device::new();
    let session = app.session_on(&office, account).await;
    let user = &session.user;
    let mut registry = Registry::start(&user.estate_id, &user.id, &user.display_name, T0);
    for info in units {
        registry.units.push(UnitEntry {
            id: entry_id().to_string(),
            author: user.id.clone(),
            corrects: None,
            written_at: T0,
            unit: info,
        });
    }
    let id = office.start(&registry, T0);
    let mut socket = Device::connect_ok(app.addr, &session.token)
        .await
        .expect("connects");
    office.sync(&mut socket).await.expect("syncs");
    assert!(office.is_stored(id), "{:?}", office.errors);
    id
}

pub(crate) async fn estate_b_with_a_guard(app: &TestApp) {
    let store = Store::open(&app.data_dir.join("gatehouse.db")).expect("opens");
    admin::upsert_estate(&store, ESTATE_B, "Estate B").expect("estate");
    for (username, role) in [("guard-b", Role::Guard), ("office-b", Role::Office)] {
        admin::create_user(
            &store,
            &NewUser {
                username: username.into(),
                display_name: username.into(),
                password: GUARD_B.1.into(),
                role,
                estates: vec![ESTATE_B.into()],
            },
            T0,
        )
        .expect("user");
    }
}

#[tokio::test]
async fn a_guard_receives_the_registry_of_their_estate_and_no_other() {
    let app = spawn_app().await;
    estate_b_with_a_guard(&app).await;
    let registry_a = office_writes_registry(
        &app,
        CLERK,
        vec![
            unit("502", "王建国", Some("李明")),
            unit("503", "陈芳", None),
        ],
    )
    .await;
    let registry_b = office_writes_registry(
        &app,
        ("office-b", GUARD_B.1),
        vec![unit("101", "B 的业主", None)],
    )
    .await;

    // The guard of estate A: told of A's registry after welcome, gets it in one frame.
    let mut guard = Device::new();
    let session = app.session_on(&guard, GUARD).await;
    let mut socket = guard
        .connect_following(app.addr, &session.token)
        .await
        .expect("connects");
    assert_eq!(guard.followed.iter().collect::<Vec<_>>(), vec![&registry_a]);
    let traffic = guard.sync(&mut socket).await.expect("syncs");
    assert!(traffic.round_trips <= 2, "{traffic:?}");
    let got: Registry = read_kind(&guard.docs[&registry_a]).expect("a registry");
    let units = current_units([&got]);
    assert_eq!(units.len(), 2);
    assert_eq!(units[0].unit.tenants[0].name, "李明");
    assert!(guard.errors.is_empty(), "{:?}", guard.errors);

    // Asking for B's registry by its ID is refused, and nothing of it arrives.
    guard.follow(registry_b);
    guard
        .sync_documents(&mut socket, &[registry_b])
        .await
        .expect("answers");
    assert_eq!(
        guard.refusal(registry_b).map(|r| r.0),
        Some(ErrorCode::Forbidden)
    );
    assert!(guard.docs[&registry_b].get_heads().is_empty());

    // The guard of estate B follows B's registry only.
    let (_, docs) = Device::connect_with_follows(app.addr, &app.session(GUARD_B).await.token)
        .await
        .expect("connects");
    assert_eq!(docs, vec![registry_b]);
    // A technician follows no registry, and may not read one.
    let mut tech = Device::new();
    let tech_session = app.session_on(&tech, TECH).await;
    let (mut socket, docs) = Device::connect_with_follows(app.addr, &tech_session.token)
        .await
        .expect("connects");
    assert!(docs.is_empty());
    tech.follow(registry_a);
    tech.sync_documents(&mut socket, &[registry_a])
        .await
        .expect("answers");
    assert_eq!(
        tech.refusal(registry_a).map(|r| r.0),
        Some(ErrorCode::Forbidden)
    );
}

#[tokio::test]
async fn a_connected_guard_is_told_of_a_new_registry_and_gets_its_changes() {
    let app = spawn_app().await;
    let mut guard = Device::new();
    let session = app.session_on(&guard, GUARD).await;
    let mut socket = guard
        .connect_following(app.addr, &session.token)
        .await
        .expect("connects");
    assert!(guard.followed.is_empty());
    let registry = office_writes_registry(&app, CLERK, vec![unit("502", "王建国", None)]).await;
    let told = tokio::time::timeout(std::time::Duration::from_secs(5), next_message(&mut socket))
        .await
        .expect("told in time")
        .expect("reads");
    assert_eq!(
        told,
        Some(ServerMessage::Follows {
            docs: vec![registry],
            complete: false
        })
    );
    guard.follow_all(&[registry]);
    guard.sync(&mut socket).await.expect("syncs");
    let got: Registry = read_kind(&guard.docs[&registry]).expect("a registry");
    assert_eq!(got.units.len(), 1);
}

#[tokio::test]
async fn a_guard_cannot_write_the_registry_they_follow() {
    let app = spawn_app().await;
    let registry = office_writes_registry(&app, CLERK, vec![unit("502", "王建国", None)]).await;
    let mut guard = Device::new();
    let session = app.session_on(&guard, GUARD).await;
    let mut socket = guard
        .connect_following(app.addr, &session.token)
        .await
        .expect("connects");
    guard.sync(&mut socket).await.expect("syncs");
    // The guard rewrites the owner to the man at the gate, and adds a unit of his own.
    let guard_id = session.user.id.clone();
    guard.edit_kind::<Registry>(registry, T0 + 1, |r| {
        r.units.push(UnitEntry {
            id: entry_id().to_string(),
            author: guard_id,
            corrects: None,
            written_at: T0 + 1,
            unit: unit("502", "冒充的业主", None),
        });
    });
    guard.sync(&mut socket).await.expect("answers");
    let (code, problems) = guard.refusal(registry).expect("refused");
    assert_eq!(code, ErrorCode::Forbidden, "{problems:?}");
    // The office still reads the one true owner.
    let mut office = Device::new();
    let office_session = app.session_on(&office, CLERK).await;
    let mut socket = office
        .connect_following(app.addr, &office_session.token)
        .await
        .expect("connects");
    office.sync(&mut socket).await.expect("syncs");
    let stored: Registry = read_kind(&office.docs[&registry]).expect("a registry");
    assert_eq!(current_units([&stored])[0].unit.owners[0].name, "王建国");
}

#[tokio::test]
async fn a_version_1_phone_syncs_its_own_records_and_is_sent_no_follow_set() {
    let app = spawn_app().await;
    office_writes_registry(&app, CLERK, vec![unit("502", "王建国", None)]).await;
    let mut phone = Device::new();
    let session = app.session_on(&phone, GUARD).await;
    let (mut socket, welcome) = Device::connect(app.addr, &session.token, &[1])
        .await
        .expect("connects");
    assert!(
        matches!(welcome, ServerMessage::Welcome { version: 1, .. }),
        "{welcome:?}"
    );
    let id = phone.start_round(&session.user.estate_id, &session.user.id, "东门", T0);
    // The first frame after welcome is the reply to the device's own sync: no follow set.
    let frame = protocol::encode(&ClientMessage::Sync {
        docs: vec![phone
            .session
            .generate(id, &phone.docs[&id])
            .expect("message")],
    });
    socket
        .send(Message::Binary(frame.into()))
        .await
        .expect("sends");
    let first = next_message(&mut socket).await.expect("reads");
    assert!(
        matches!(first, Some(ServerMessage::Sync { .. })),
        "{first:?}"
    );
    phone.handle(first.expect("message")).expect("applies");
    phone.sync(&mut socket).await.expect("syncs");
    assert!(phone.is_stored(id));
    assert!(phone.followed.is_empty());
}

#[tokio::test]
async fn welcome_names_the_version_both_sides_speak() {
    let app = spawn_app().await;
    let session = app.session(GUARD).await;
    for (offered, expected) in [
        (&[1, 2, 3][..], 3),
        (&[1, 2][..], 2),
        (&[2][..], 2),
        (&[1][..], 1),
        (&[1, 9][..], 1),
    ] {
        let (_, welcome) = Device::connect(app.addr, &session.token, offered)
            .await
            .expect("connects");
        assert!(
            matches!(welcome, ServerMessage::Welcome { version, .. } if version == expected),
            "{offered:?}: {welcome:?}"
        );
    }
}

#[tokio::test]
async fn a_guard_moved_to_another_estate_is_sent_that_estates_set_and_no_longer_the_old() {
    let app = spawn_app_with(|config| config.session_recheck_secs = 1).await;
    estate_b_with_a_guard(&app).await;
    let registry_a = office_writes_registry(&app, CLERK, vec![unit("502", "王建国", None)]).await;
    let registry_b = office_writes_registry(
        &app,
        ("office-b", GUARD_B.1),
        vec![unit("101", "B 的业主", None)],
    )
    .await;
    let session = app.session(GUARD).await;
    let (mut socket, docs) = Device::connect_with_follows(app.addr, &session.token)
        .await
        .expect("connects");
    assert_eq!(docs, vec![registry_a]);
    // The guard is moved to estate B (as `gatehouse-server admin` does, behind the server's
    // back): the connection notices on its next check and sends the new set whole.
    {
        let store = Store::open(&app.data_dir.join("gatehouse.db")).expect("opens");
        store
            .set_memberships(&session.user.id, &[ESTATE_B.to_owned()])
            .expect("moved");
    }
    let told = tokio::time::timeout(std::time::Duration::from_secs(5), next_message(&mut socket))
        .await
        .expect("told in time")
        .expect("reads");
    assert_eq!(
        told,
        Some(ServerMessage::Follows {
            docs: vec![registry_b],
            complete: true
        })
    );
}

/// Today (UTC) as a slip's window writes it, `days` from now.
#[tokio::test]
async fn a_guard_on_a_second_phone_receives_their_own_recent_rounds() {
    let app = spawn_app().await;
    let mut first = Device::new();
    let session = app.session_on(&first, GUARD).await;
    let user = session.user.clone();
    let now = now_ms();
    let recent = first.start_round(&user.estate_id, &user.id, "昨夜巡逻", now - 86_400_000);
    let old = first.start_round(&user.estate_id, &user.id, "上周巡逻", now - 8 * 86_400_000);
    let mut socket = Device::connect_ok(app.addr, &session.token)
        .await
        .expect("connects");
    first.sync(&mut socket).await.expect("syncs");
    assert!(
        first.is_stored(recent) && first.is_stored(old),
        "{:?}",
        first.errors
    );
    // Another guard's round in the same estate is not this guard's to receive.
    {
        let store = Store::open(&app.data_dir.join("gatehouse.db")).expect("opens");
        admin::create_user(
            &store,
            &NewUser {
                username: "guard-2".into(),
                display_name: "李保安".into(),
                password: GUARD_B.1.into(),
                role: Role::Guard,
                estates: vec![user.estate_id.clone()],
            },
            T0,
        )
        .expect("user");
    }
    let mut stranger = Device::new();
    let other = app.session_on(&stranger, ("guard-2", GUARD_B.1)).await;
    let theirs = stranger.start_round(&other.user.estate_id, &other.user.id, "别人的巡逻", now);
    let mut other_socket = Device::connect_ok(app.addr, &other.token)
        .await
        .expect("connects");
    stranger.sync(&mut other_socket).await.expect("syncs");
    assert!(stranger.is_stored(theirs), "{:?}", stranger.errors);

    // The guard signs in on a second phone: this week's round is in its follow set, last
    // week's and the clerk's are not; and it syncs down whole.
    let mut second = Device::new();
    let second_session = app.session_on(&second, GUARD).await;
    let mut second_socket = second
        .connect_following(app.addr, &second_session.token)
        .await
        .expect("connects");
    assert!(second.followed.contains(&recent));
    assert!(!second.followed.contains(&old));
    assert!(!second.followed.contains(&theirs));
    second.sync(&mut second_socket).await.expect("syncs");
    let round: PatrolLog = read_kind(&second.docs[&recent]).expect("round");
    assert_eq!(round.route, "昨夜巡逻");

    // A round the first phone starts meanwhile reaches the second while it is connected.
    let tonight = first.start_round(&user.estate_id, &user.id, "今夜巡逻", now_ms());
    first.sync(&mut socket).await.expect("syncs");
    let told = tokio::time::timeout(std::time::Duration::from_secs(5), async {
        loop {
            match next_message(&mut second_socket).await.expect("reads") {
                Some(ServerMessage::Follows {
                    docs,
                    complete: false,
                }) => break docs,
                Some(_) => continue,
                None => panic!("closed"),
            }
        }
    })
    .await
    .expect("told in time");
    assert_eq!(told, vec![tonight]);
}
