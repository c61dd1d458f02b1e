//! Work orders: the office's repair request reaches the phone of the technician it is
//! assigned to (or every technician of the estate while it is in the pool) and no one
//! else's; the technician takes it and starts the repair record; the office finds what came
//! of a patrol finding by the records that link to it.

use std::time::Duration;

use gatehouse_server::admin;
use gatehouse_server::store::Store;
use gatehouse_shared::problem::keys;
use gatehouse_shared::protocol::ServerMessage;
use gatehouse_shared::record::repair::{Component, RepairRecord};
use gatehouse_shared::record::repair_request::{Assignment, RepairRequest, RequestStatus, Taking};
use gatehouse_shared::record::SummaryDetail;
use gatehouse_shared::user::{NewUser, SignInResponse, StaffMember};
use gatehouse_shared::{DocumentId, Finding, RecordKind, RecordSummary, Role, Severity};
use reqwest::StatusCode;

use crate::device::{entry_id, next_message, Device, Socket};
use crate::helpers::{authed, spawn_app, TestApp, CLERK, GUARD, T0, TECH};

const TECH_2: (&str, &str) = ("tech-2", "tech-2-password");
const TECH_B: (&str, &str) = ("tech-b", "tech-b-password");

/// A second technician in the demo estate, and one in another estate.
async fn more_technicians(app: &TestApp, estate: &str) {
    let store = Store::open(&app.data_dir.join("gatehouse.db")).expect("opens");
    admin::upsert_estate(&store, "estate-b", "Estate B").expect("estate");
    for ((username, password), estate) in [(TECH_2, estate), (TECH_B, "estate-b")] {
        admin::create_user(
            &store,
            &NewUser {
                username: username.into(),
                display_name: format!("{username} 师傅"),
                password: password.into(),
                role: Role::Technician,
                estates: vec![estate.into()],
            },
            T0,
        )
        .expect("user");
    }
}

/// The office's phone and socket.
struct Office {
    device: Device,
    session: SignInResponse,
    socket: Socket,
}

impl Office {
    async fn new(app: &TestApp) -> Self {
        let device = Device::new();
        let session = app.session_on(&device, CLERK).await;
        let socket = Device::connect_ok(app.addr, &session.token)
            .await
            .expect("connects");
        Self {
            device,
            session,
            socket,
        }
    }

    /// Writes a request assigned to `assignee` (`("", "")`: the pool) and syncs it.
    async fn request(
        &mut self,
        assignee: (&str, &str),
        finding: Option<(DocumentId, &str)>,
    ) -> DocumentId {
        let user = &self.session.user;
        let request = RepairRequest::new(
            &user.estate_id,
            &user.id,
            &user.display_name,
            "3栋1单元1202",
            "门锁打不开",
            Component::DoorLock,
            "王业主",
            "13800138000",
            finding,
            Assignment::new(entry_id(), &user.id, assignee.0, assignee.1, T0),
            T0,
        )
        .expect("valid request");
        let id = self.device.start(&request, T0);
        self.device.sync(&mut self.socket).await.expect("syncs");
        assert!(self.device.is_stored(id), "{:?}", self.device.errors);
        id
    }

    async fn reassign(&mut self, id: DocumentId, assignee: (&str, &str), at: i64) {
        let author = self.session.user.id.clone();
        self.device.edit_kind::<RepairRequest>(id, at, |r| {
            r.assignments.push(Assignment::new(
                entry_id(),
                &author,
                assignee.0,
                assignee.1,
                at,
            ))
        });
        self.device.sync(&mut self.socket).await.expect("syncs");
        assert!(self.device.is_stored(id), "{:?}", self.device.errors);
    }
}

/// The next follow-set message on `socket`, skipping anything else.
async fn next_follows(socket: &mut Socket) -> (Vec<DocumentId>, bool) {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(5), next_message(socket))
            .await
            .expect("told in time")
            .expect("reads");
        if let Some(ServerMessage::Follows { docs, complete }) = message {
            return (docs, complete);
        }
    }
}

fn taking(user: &SignInResponse, repair: DocumentId, at: i64) -> Taking {
    Taking {
        id: entry_id().to_string(),
        author: user.user.id.clone(),
        corrects: None,
        technician_name: user.user.display_name.clone(),
        repair: repair.to_string(),
        taken_at: at,
    }
}

#[tokio::test]
async fn a_technician_receives_the_work_orders_for_them_or_their_pool_and_no_other() {
    let app = spawn_app().await;
    let mut office = Office::new(&app).await;
    let estate = office.session.user.estate_id.clone();
    more_technicians(&app, &estate).await;
    let mut tech = Device::new();
    let tech_session = app.session_on(&tech, TECH).await;
    let tech_id = tech_session.user.id.clone();
    let tech_2 = app.session(TECH_2).await;
    let for_tech = office.request((&tech_id, "张师傅"), None).await;
    let for_tech_2 = office.request((&tech_2.user.id, "tech-2 师傅"), None).await;
    let pooled = office.request(("", ""), None).await;

    let (mut socket, docs) = Device::connect_with_follows(app.addr, &tech_session.token)
        .await
        .expect("connects");
    let mut expected = vec![for_tech, pooled];
    expected.sort();
    assert_eq!(
        docs, expected,
        "the technician's orders and the pool's, not tech-2's"
    );
    let (_, docs_2) = Device::connect_with_follows(app.addr, &tech_2.token)
        .await
        .expect("connects");
    let mut expected_2 = vec![for_tech_2, pooled];
    expected_2.sort();
    assert_eq!(docs_2, expected_2);
    let tech_b = app.session(TECH_B).await;
    let (_, docs_b) = Device::connect_with_follows(app.addr, &tech_b.token)
        .await
        .expect("connects");
    assert!(
        docs_b.is_empty(),
        "another estate's orders never: {docs_b:?}"
    );
    // Nor does a guard follow work orders.
    let guard = app.session(GUARD).await;
    let (_, guard_docs) = Device::connect_with_follows(app.addr, &guard.token)
        .await
        .expect("connects");
    assert!(!guard_docs.contains(&pooled));

    // The phone holds the pooled order.
    tech.follow_all(&[pooled]);
    tech.sync(&mut socket).await.expect("syncs");
    assert!(tech.read_kind_opt::<RepairRequest>(pooled).is_some());
    // A new order for the connected technician arrives without asking.
    let new = office.request((&tech_id, "张师傅"), None).await;
    assert_eq!(next_follows(&mut socket).await, (vec![new], false));
    // The pooled order goes to tech-2: it leaves this technician's set, which is sent whole.
    office
        .reassign(pooled, (&tech_2.user.id, "tech-2 师傅"), T0 + 10)
        .await;
    let (docs, complete) = next_follows(&mut socket).await;
    assert!(complete);
    assert!(!docs.contains(&pooled) && docs.contains(&for_tech) && docs.contains(&new));
    // ... and its changes are no longer pushed to this phone.
    office.reassign(pooled, ("", ""), T0 + 11).await;
    office
        .reassign(pooled, (&tech_2.user.id, "tech-2 师傅"), T0 + 12)
        .await;
    let quiet = tokio::time::timeout(Duration::from_millis(800), async {
        loop {
            match next_message(&mut socket).await.expect("reads") {
                Some(ServerMessage::Sync { docs, .. }) if docs.iter().any(|d| d.doc == pooled) => {
                    return docs
                }
                _ => {}
            }
        }
    })
    .await;
    assert!(quiet.is_err(), "pushed after it left the set: {quiet:?}");

    // The technician takes the order: a repair record that names it, and a taking that
    // names the repair, in one frame.
    tech.follow_all(&[for_tech]);
    tech.sync(&mut socket).await.expect("syncs");
    let request = tech.read_kind::<RepairRequest>(for_tech);
    assert_eq!(request.status(), RequestStatus::Assigned);
    let mut repair = RepairRecord::start(
        &request.estate_id,
        &tech_id,
        &tech_session.user.display_name,
        &request.unit,
        &request.reported_by,
        &request.contact,
        &request.fault,
        request.component,
        "",
        T0 + 20,
    )
    .expect("valid repair");
    repair.request = Some(for_tech.to_string());
    let repair_id = tech.start(&repair, T0 + 20);
    let taken = taking(&tech_session, repair_id, T0 + 21);
    tech.edit_kind::<RepairRequest>(for_tech, T0 + 21, |r| r.takings.push(taken));
    tech.sync(&mut socket).await.expect("syncs");
    assert!(tech.is_stored(repair_id), "{:?}", tech.errors);
    assert!(tech.is_stored(for_tech), "{:?}", tech.errors);

    // The office sees it taken, and finds the repair by its link to the order.
    let linked: Vec<RecordSummary> = authed(
        reqwest::Method::GET,
        app.url(&format!("/api/records?links_to={for_tech}")),
        &office.session.token,
    )
    .send()
    .await
    .expect("answers")
    .json()
    .await
    .expect("json");
    assert_eq!(linked.len(), 1);
    assert_eq!(linked[0].doc, repair_id);
    assert_eq!(linked[0].kind, RecordKind::Repair);
    assert_eq!(linked[0].status, "reported");
}

#[tokio::test]
async fn a_hostile_technician_cannot_take_anothers_order_or_a_taken_one() {
    let app = spawn_app().await;
    let mut office = Office::new(&app).await;
    let estate = office.session.user.estate_id.clone();
    more_technicians(&app, &estate).await;
    let tech_session = app.session(TECH).await;
    let for_tech = office
        .request((&tech_session.user.id, "张师傅"), None)
        .await;
    let pooled = office.request(("", ""), None).await;

    // tech-2 asks for an order that is not theirs by its ID, and writes a taking into it.
    let mut thief = Device::new();
    let thief_session = app.session_on(&thief, TECH_2).await;
    let mut socket = Device::connect_ok(app.addr, &thief_session.token)
        .await
        .expect("connects");
    thief.follow_all(&[for_tech, pooled]);
    thief.sync(&mut socket).await.expect("syncs");
    let fake_repair = DocumentId::from_random([7; 16]);
    let taken = taking(&thief_session, fake_repair, T0 + 30);
    thief.edit_raw::<RepairRequest>(for_tech, T0 + 30, |r| r.takings.push(taken));
    thief.sync(&mut socket).await.expect("answers");
    let (_, problems) = thief.refusal(for_tech).expect("refused");
    assert!(
        problems.iter().any(|p| p.key == keys::NOT_ASSIGNED),
        "{problems:?}"
    );

    // The pool's order: tech-2 takes it first; the first technician's late taking (written
    // offline) is refused with the reason.
    let taken = taking(&thief_session, fake_repair, T0 + 31);
    thief.edit_kind::<RepairRequest>(pooled, T0 + 31, |r| r.takings.push(taken));
    thief.sync(&mut socket).await.expect("syncs");
    assert!(thief.is_stored(pooled), "{:?}", thief.errors);
    let mut late = Device::new();
    let late_session = app.session_on(&late, TECH).await;
    let mut late_socket = Device::connect_ok(app.addr, &late_session.token)
        .await
        .expect("connects");
    late.follow_all(&[pooled]);
    late.sync(&mut late_socket).await.expect("syncs");
    // Its phone held the order from before tech-2 took it: rewrite it as if offline.
    let taken = taking(&late_session, DocumentId::from_random([8; 16]), T0 + 32);
    late.edit_raw::<RepairRequest>(pooled, T0 + 32, |r| r.takings.push(taken));
    late.sync(&mut late_socket).await.expect("answers");
    let (_, problems) = late.refusal(pooled).expect("refused");
    assert!(
        problems.iter().any(|p| p.key == keys::REQUEST_CLOSED),
        "{problems:?}"
    );
    // A guard cannot even read work orders.
    let mut guard = Device::new();
    let guard_session = app.session_on(&guard, GUARD).await;
    let mut guard_socket = Device::connect_ok(app.addr, &guard_session.token)
        .await
        .expect("connects");
    guard.follow_all(&[for_tech]);
    guard
        .sync_documents(&mut guard_socket, &[for_tech])
        .await
        .expect("answers");
    assert!(guard.refusal(for_tech).is_some());
}

#[tokio::test]
async fn the_office_finds_the_orders_raised_for_a_patrol_finding_and_whom_to_assign() {
    let app = spawn_app().await;
    // A guard's round with a finding that needs follow-up.
    let mut guard = Device::new();
    let guard_session = app.session_on(&guard, GUARD).await;
    let round = guard.start_round(
        &guard_session.user.estate_id,
        &guard_session.user.id,
        "B2 车库夜巡",
        T0,
    );
    let finding_id = entry_id().to_string();
    let finding = Finding {
        id: finding_id.clone(),
        author: Some(guard_session.user.id.clone()),
        corrects: None,
        what: "消防通道灯不亮".into(),
        location: "B2 车库东侧".into(),
        severity: Severity::Medium,
        needs_follow_up: true,
        found_at: T0 + 5,
    };
    guard.edit(round, T0 + 5, |log| log.findings.push(finding));
    let mut socket = Device::connect_ok(app.addr, &guard_session.token)
        .await
        .expect("connects");
    guard.sync(&mut socket).await.expect("syncs");
    assert!(guard.is_stored(round), "{:?}", guard.errors);

    let mut office = Office::new(&app).await;
    let request = office.request(("", ""), Some((round, &finding_id))).await;
    let linked: Vec<RecordSummary> = authed(
        reqwest::Method::GET,
        app.url(&format!("/api/records?links_to={round}")),
        &office.session.token,
    )
    .send()
    .await
    .expect("answers")
    .json()
    .await
    .expect("json");
    assert_eq!(linked.len(), 1);
    assert_eq!(linked[0].doc, request);
    assert!(matches!(
        &linked[0].detail,
        SummaryDetail::RepairRequest { finding: Some(f), .. } if *f == finding_id
    ));
    // Paging and the link do not mix; a bad link is a clear error; a guard lists nothing.
    for bad in [
        format!("/api/records?links_to={round}&kind=repair"),
        "/api/records?links_to=nonsense".to_owned(),
    ] {
        let status = authed(reqwest::Method::GET, app.url(&bad), &office.session.token)
            .send()
            .await
            .expect("answers")
            .status();
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
    }
    let status = authed(
        reqwest::Method::GET,
        app.url(&format!("/api/records?links_to={round}")),
        &guard_session.token,
    )
    .send()
    .await
    .expect("answers")
    .status();
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Whom an order can go to: the estate's staff, to the office only.
    let staff: Vec<StaffMember> = authed(
        reqwest::Method::GET,
        app.url("/api/staff"),
        &office.session.token,
    )
    .send()
    .await
    .expect("answers")
    .json()
    .await
    .expect("json");
    assert!(staff.iter().any(
        |s| s.role == Role::Technician && s.estate_ids.contains(&office.session.user.estate_id)
    ));
    assert!(staff.iter().all(|s| s.role != Role::Admin));
    let status = authed(
        reqwest::Method::GET,
        app.url("/api/staff"),
        &guard_session.token,
    )
    .send()
    .await
    .expect("answers")
    .status();
    assert_eq!(status, StatusCode::FORBIDDEN);
}
