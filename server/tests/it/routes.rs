//! Patrol routes: the office's route reaches its estate's guards (the follow set) and no one
//! may rewrite it but the office; a round on it keeps to its checkpoints, whatever a hostile
//! phone sends.

use gatehouse_shared::problem::keys;
use gatehouse_shared::protocol::ErrorCode;
use gatehouse_shared::record::patrol_log::{CheckpointVisit, VisitMethod};
use gatehouse_shared::record::patrol_route::{checkpoint_id, Checkpoint, RouteRevision};
use gatehouse_shared::{DocumentId, PatrolLog, PatrolRoute};

use crate::device::{entry_id, Device};
use crate::helpers::{spawn_app, TestApp, CLERK, GUARD, T0};

fn checkpoints() -> Vec<Checkpoint> {
    ["1号门岗", "B2车库", "3栋天台"]
        .iter()
        .enumerate()
        .map(|(i, name)| Checkpoint {
            id: checkpoint_id([i as u8 + 1; 8]),
            name: (*name).to_owned(),
            hint: String::new(),
        })
        .collect()
}

async fn office_defines_route(app: &TestApp) -> DocumentId {
    let mut office = Device::new();
    let session = app.session_on(&office, CLERK).await;
    let user = &session.user;
    let revision = RouteRevision::new(
        entry_id(),
        &user.id,
        "夜间巡逻A线",
        checkpoints(),
        &["22:00".to_owned()],
        45,
        false,
        T0,
    )
    .expect("revision");
    let route = PatrolRoute::new(&user.estate_id, &user.id, &user.display_name, revision, T0)
        .expect("route");
    let id = office.start(&route, T0);
    let mut socket = Device::connect_ok(app.addr, &session.token)
        .await
        .expect("connects");
    office.sync(&mut socket).await.expect("syncs");
    assert!(office.is_stored(id), "{:?}", office.errors);
    id
}

/// A guard's phone following its set, synced once: it holds the estate's routes.
async fn guard_phone(app: &TestApp) -> (Device, crate::device::Socket, String) {
    let mut guard = Device::new();
    let session = app.session_on(&guard, GUARD).await;
    let mut socket = guard
        .connect_following(app.addr, &session.token)
        .await
        .expect("connects");
    guard.sync(&mut socket).await.expect("syncs");
    (guard, socket, session.user.id)
}

#[tokio::test]
async fn a_route_reaches_the_guards_phone_and_only_the_office_revises_it() {
    let app = spawn_app().await;
    let route = office_defines_route(&app).await;
    let (mut guard, mut socket, guard_id) = guard_phone(&app).await;
    let held: PatrolRoute = guard.read_kind(route);
    assert_eq!(held.current().map(|r| r.checkpoints.len()), Some(3));
    // The guard drops the checkpoint he does not like from the route.
    let fewer: Vec<Checkpoint> = checkpoints().into_iter().take(2).collect();
    guard.edit_kind::<PatrolRoute>(route, T0 + 1, |r| {
        r.revisions.push(
            RouteRevision::new(
                entry_id(),
                &guard_id,
                "夜间巡逻A线",
                fewer,
                &[],
                45,
                false,
                T0 + 1,
            )
            .expect("revision"),
        );
    });
    guard.sync(&mut socket).await.expect("answers");
    let (code, problems) = guard.refusal(route).expect("refused");
    assert_eq!(code, ErrorCode::Forbidden, "{problems:?}");
    assert!(
        problems.iter().any(|p| p.key == keys::ROLE_FORBIDS),
        "{problems:?}"
    );
}

#[tokio::test]
async fn a_round_on_a_route_keeps_to_its_checkpoints_against_a_hostile_phone() {
    let app = spawn_app().await;
    let route_id = office_defines_route(&app).await;
    let (mut guard, mut socket, guard_id) = guard_phone(&app).await;
    let route: PatrolRoute = guard.read_kind(route_id);
    let round = PatrolLog::start_on_route(
        &route.estate_id,
        &guard_id,
        "王保安",
        route_id,
        &route,
        T0 + 10,
    )
    .expect("round");
    let planned = round.planned.clone();
    let id = guard.start(&round, T0 + 10);
    guard.edit(id, T0 + 20, |log| {
        log.visits.push(
            CheckpointVisit::on_route(
                entry_id(),
                &guard_id,
                &planned[0],
                VisitMethod::Scanned,
                T0 + 20,
                "",
            )
            .expect("visit"),
        );
    });
    guard.sync(&mut socket).await.expect("syncs");
    assert!(guard.is_stored(id), "{:?}", guard.errors);

    // Typed in by hand, a checkpoint of the route: refused, the round keeps what it had.
    guard.edit_raw::<PatrolLog>(id, T0 + 30, |log| {
        log.visits.push(
            CheckpointVisit::new(entry_id(), &guard_id, "B2车库", T0 + 30, "").expect("visit"),
        );
    });
    guard.sync(&mut socket).await.expect("answers");
    let (code, problems) = guard.refusal(id).expect("refused");
    assert_eq!(code, ErrorCode::Rejected, "{problems:?}");
    assert!(
        problems.iter().any(|p| p.key == keys::ON_ROUTE),
        "{problems:?}"
    );

    // From another phone of the guard: a round whose planned checkpoints are cut after it
    // started, so that a skipped one no longer shows as missed.
    let mut other = Device::new();
    other.follow(id);
    let session = app.session_on(&other, GUARD).await;
    let mut socket = other
        .connect_following(app.addr, &session.token)
        .await
        .expect("connects");
    other.sync(&mut socket).await.expect("syncs");
    other.edit_raw::<PatrolLog>(id, T0 + 40, |log| {
        log.planned.truncate(1);
    });
    other.sync(&mut socket).await.expect("answers");
    let (_, problems) = other.refusal(id).expect("refused");
    assert!(
        problems.iter().any(|p| p.key == keys::ROUTE_CHANGED),
        "{problems:?}"
    );
}
