//! The gate's follow set: a guard's phone is sent the estate's open release slips, keeps
//! them as long as the estate says after their window, and the checks made at the gate
//! and the approvals at the desk hold only with the signatures they need.

use gatehouse_server::store::Store;
use gatehouse_shared::problem::keys;
use gatehouse_shared::protocol::{ErrorCode, ServerMessage};
use gatehouse_shared::record::read_kind;
use gatehouse_shared::record::release_slip::{
    Applicant, Approval, ApprovalMethod, Decision, GateCheck, IdentityCheck, ReleaseSlip, Released,
    SlipItem, SlipStatus,
};
use gatehouse_shared::signature::{Purpose, Signature, SignerRole, Stroke, Unsigned};
use gatehouse_shared::user::{EstateSettings, DEFAULT_RETENTION_DAYS};
use gatehouse_shared::DocumentId;
use reqwest::Method;

use crate::device::{entry_id, next_message, Device};
use crate::follow::{estate_b_with_a_guard, office_writes_registry, unit, ESTATE_B};
use crate::helpers::{authed, now_ms, spawn_app, TestApp, ADMIN, CLERK, GUARD, T0};

fn day(days: i64) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_millis() as i64;
    gatehouse_shared::date::Date::from_days_since_epoch(now / 86_400_000 + days).to_string()
}

/// The office's device writes an approved release slip for 5 desks, valid `from`..`until`.
async fn office_issues_slip(app: &TestApp, from: &str, until: &str) -> DocumentId {
    let mut office = Device::new();
    let session = app.session_on(&office, CLERK).await;
    let user = &session.user;
    let mut slip = ReleaseSlip::new(
        &user.estate_id,
        &user.id,
        &user.display_name,
        "12-1201",
        "赵租户",
        Applicant::Tenant,
        from,
        until,
        vec![SlipItem {
            id: "desk".into(),
            what: "办公桌".into(),
            quantity: 5,
        }],
        T0,
    )
    .expect("valid slip");
    let slip_hash = slip.content_hash();
    slip.approvals.push(Approval {
        slip_hash,
        id: entry_id().to_string(),
        author: user.id.clone(),
        corrects: None,
        approved_at: T0 + 1,
        approver_name: "王业主".into(),
        phone_number: "13800138000".into(),
        identity_checks: vec![IdentityCheck::IdNumber],
        note: String::new(),
        method: ApprovalMethod::Phone,
    });
    let id = office.start(&slip, T0);
    let mut socket = Device::connect_ok(app.addr, &session.token)
        .await
        .expect("connects");
    office.sync(&mut socket).await.expect("syncs");
    assert!(office.is_stored(id), "{:?}", office.errors);
    id
}

/// The guard's phone records `check` on slip `doc` and signs it, as the app does; `raw`
/// skips the phone's own rules (a hostile client).
fn add_signed_check(device: &mut Device, doc: DocumentId, check: GateCheck, raw: bool) {
    let (device_id, seed) = (device.device_id.clone(), device.seed);
    let edit = move |slip: &mut ReleaseSlip| {
        let content = slip.check_content(&check);
        let stroke = Stroke {
            width: 320,
            height: 160,
            lines: vec![vec![(20, 100), (80, 40), (150, 120)]],
        }
        .encode();
        let id = entry_id().to_string();
        let signature = Signature::sign_with_seed(
            &Unsigned {
                id: &id,
                author: &check.author,
                purpose: Purpose::GateCheck,
                subject: &check.id,
                signer_role: SignerRole::Guard,
                signer_name: &check.guard_name,
                stroke: &stroke,
                content_hash: content.hash(),
                signed_at: check.checked_at,
                document: doc,
                device_id: &device_id,
            },
            &seed,
        );
        slip.checks.push(check);
        slip.signatures.push(signature);
    };
    if raw {
        device.edit_raw::<ReleaseSlip>(doc, now_ms(), edit);
    } else {
        device.edit_kind::<ReleaseSlip>(doc, now_ms(), edit);
    }
}

fn gate_check(author: &str, desks: u32) -> GateCheck {
    GateCheck {
        id: entry_id().to_string(),
        author: author.into(),
        corrects: None,
        guard_name: "王保安".into(),
        checked_at: now_ms(),
        check_date: day(0),
        carrier_name: "搬家师傅".into(),
        carrier_id: "440101199001011234".into(),
        plate: "粤B12345".into(),
        released: vec![Released {
            item: "desk".into(),
            quantity: desks,
        }],
        held: Vec::new(),
        decision: Decision::PartlyReleased,
        reason: "分两趟搬".into(),
    }
}

#[tokio::test]
async fn a_guards_phone_receives_open_slips_and_cannot_release_more_than_they_allow() {
    let app = spawn_app().await;
    let open = office_issues_slip(&app, &day(0), &day(2)).await;
    // A slip whose window ended long ago has left the guards' follow sets.
    let old = office_issues_slip(&app, "2020-01-01", "2020-01-02").await;
    let mut guard = Device::new();
    let session = app.session_on(&guard, GUARD).await;
    let mut socket = guard
        .connect_following(app.addr, &session.token)
        .await
        .expect("connects");
    assert!(guard.followed.contains(&open));
    assert!(!guard.followed.contains(&old));
    guard.sync(&mut socket).await.expect("syncs");
    // A second guard's phone at the other gate holds the slip as issued, then loses the
    // network.
    let mut other = Device::new();
    let other_session = app.session_on(&other, GUARD).await;
    let mut other_socket = other
        .connect_following(app.addr, &other_session.token)
        .await
        .expect("connects");
    other.sync(&mut other_socket).await.expect("syncs");
    drop(other_socket);
    // The first trip: 3 of the 5 desks.
    let guard_id = session.user.id.clone();
    let first = gate_check(&guard_id, 3);
    add_signed_check(&mut guard, open, first, false);
    guard.sync(&mut socket).await.expect("syncs");
    assert!(guard.is_stored(open), "{:?}", guard.errors);
    // The other gate, offline, lets 3 more out: back online, what happened is kept, and the
    // slip says it was over-released (the office looks into it).
    let stale = gate_check(&guard_id, 3);
    add_signed_check(&mut other, open, stale, false);
    other.session.disconnected();
    let mut other_socket = other
        .connect_following(app.addr, &other_session.token)
        .await
        .expect("connects");
    other.sync(&mut other_socket).await.expect("answers");
    assert!(other.is_stored(open), "{:?}", other.errors);
    let merged: ReleaseSlip = read_kind(&other.docs[&open]).expect("slip");
    assert_eq!(merged.checks.len(), 2);
    assert_eq!(merged.status(), SlipStatus::OverReleased);
    // One check letting out more than the whole slip is refused.
    let greedy = gate_check(&guard_id, 6);
    add_signed_check(&mut other, open, greedy, true);
    other.sync(&mut other_socket).await.expect("answers");
    let (code, problems) = other.refusal(open).expect("refused");
    assert_eq!(code, ErrorCode::Rejected, "{problems:?}");
    assert!(
        problems.iter().any(|p| p.key == keys::OVER_RELEASED),
        "{problems:?}"
    );
}

#[tokio::test]
async fn an_estate_sets_how_long_phones_keep_slips_after_their_window() {
    let app = spawn_app().await;
    let open = office_issues_slip(&app, &day(0), &day(2)).await;
    // Its window ended 10 days ago: phones keep it 30 days by default.
    let ended = office_issues_slip(&app, &day(-12), &day(-11)).await;
    let admin = app.session(ADMIN).await;
    let estates: Vec<EstateSettings> =
        authed(Method::GET, app.url("/api/admin/estates"), &admin.token)
            .send()
            .await
            .expect("lists")
            .json()
            .await
            .expect("json");
    let estate_id = admin.user.estate_id.clone();
    let ours = estates
        .iter()
        .find(|e| e.id == estate_id)
        .expect("the admin's estate is listed");
    assert_eq!(ours.retention_days, DEFAULT_RETENTION_DAYS);
    let guard = app.session(GUARD).await;
    let (mut socket, docs) = Device::connect_with_follows(app.addr, &guard.token)
        .await
        .expect("connects");
    assert!(docs.contains(&open) && docs.contains(&ended), "{docs:?}");

    // The admin keeps records 5 days: the connected phone is sent its set again, without
    // the slip that ended 10 days ago.
    let retention = app.url(&format!("/api/admin/estates/{estate_id}/retention"));
    let set = |days: serde_json::Value, token: &str| {
        authed(Method::PUT, retention.clone(), token).json(&serde_json::json!({ "days": days }))
    };
    let response = set(5.into(), &admin.token).send().await.expect("sets");
    assert_eq!(response.status(), 204);
    let told = tokio::time::timeout(std::time::Duration::from_secs(5), next_message(&mut socket))
        .await
        .expect("told in time")
        .expect("reads");
    let Some(ServerMessage::Follows { docs, complete }) = told else {
        panic!("expected the follow set, got {told:?}");
    };
    assert!(complete);
    assert!(docs.contains(&open) && !docs.contains(&ended), "{docs:?}");
    let (_, docs) = Device::connect_with_follows(app.addr, &guard.token)
        .await
        .expect("connects");
    assert!(docs.contains(&open) && !docs.contains(&ended), "{docs:?}");

    // Out of range, not a number, or from someone who is not the estate's admin: refused,
    // and the setting stays.
    for days in [0.into(), 366.into(), (-1).into(), "30".into()] {
        let response = set(days, &admin.token).send().await.expect("answers");
        assert!(response.status().is_client_error(), "{}", response.status());
        if response.status() == 400 {
            let body: serde_json::Value = response.json().await.expect("json");
            assert_eq!(body["error"], "admin.bad_retention");
        }
    }
    let clerk = app.session(CLERK).await;
    let response = set(60.into(), &clerk.token).send().await.expect("answers");
    assert_eq!(response.status(), 403);
    estate_b_with_a_guard(&app).await;
    let other = authed(
        Method::PUT,
        app.url(&format!("/api/admin/estates/{ESTATE_B}/retention")),
        &admin.token,
    )
    .json(&serde_json::json!({ "days": 60 }))
    .send()
    .await
    .expect("answers");
    assert_eq!(other.status(), 404);
    let store = Store::open(&app.data_dir.join("gatehouse.db")).expect("opens");
    assert_eq!(store.retention_days(&estate_id).expect("reads"), Some(5));
    assert_eq!(
        store.retention_days(ESTATE_B).expect("reads"),
        Some(DEFAULT_RETENTION_DAYS)
    );
}

#[tokio::test]
async fn the_office_lists_one_kind_for_the_goods_release_register() {
    let app = spawn_app().await;
    let slip = office_issues_slip(&app, &day(0), &day(2)).await;
    office_writes_registry(&app, CLERK, vec![unit("502", "王建国", None)]).await;
    let clerk = app.session(CLERK).await;
    let listed: Vec<gatehouse_shared::RecordSummary> = crate::helpers::authed(
        reqwest::Method::GET,
        app.url("/api/records?kind=release_slip"),
        &clerk.token,
    )
    .send()
    .await
    .expect("answers")
    .json()
    .await
    .expect("summaries");
    assert_eq!(listed.iter().map(|r| r.doc).collect::<Vec<_>>(), vec![slip]);
    let refused = crate::helpers::authed(
        reqwest::Method::GET,
        app.url("/api/records?kind=everything"),
        &clerk.token,
    )
    .send()
    .await
    .expect("answers");
    assert_eq!(refused.status(), 400);
}

#[tokio::test]
async fn a_check_at_the_gate_without_the_guards_signature_is_refused() {
    let app = spawn_app().await;
    let open = office_issues_slip(&app, &day(0), &day(2)).await;
    let mut guard = Device::new();
    let session = app.session_on(&guard, GUARD).await;
    let mut socket = guard
        .connect_following(app.addr, &session.token)
        .await
        .expect("connects");
    guard.sync(&mut socket).await.expect("syncs");
    // A hostile client writes the check and leaves the signature out.
    let unsigned = gate_check(&session.user.id, 1);
    guard.edit_raw::<ReleaseSlip>(open, now_ms(), |slip| slip.checks.push(unsigned));
    guard.sync(&mut socket).await.expect("answers");
    let (code, problems) = guard.refusal(open).expect("refused");
    assert_eq!(code, ErrorCode::Rejected, "{problems:?}");
    assert!(
        problems
            .iter()
            .any(|p| p.key == keys::UNSIGNED && p.path == "checks[0].signature"),
        "{problems:?}"
    );
    // Signed on this phone, with its enrolled key, the same check is stored.
    let mut honest = Device::new();
    let honest_session = app.session_on(&honest, GUARD).await;
    let mut honest_socket = honest
        .connect_following(app.addr, &honest_session.token)
        .await
        .expect("connects");
    honest.sync(&mut honest_socket).await.expect("syncs");
    add_signed_check(
        &mut honest,
        open,
        gate_check(&honest_session.user.id, 1),
        false,
    );
    honest.sync(&mut honest_socket).await.expect("syncs");
    assert!(honest.is_stored(open), "{:?}", honest.errors);
}

#[tokio::test]
async fn an_approval_at_the_desk_without_the_owners_signature_is_refused() {
    let app = spawn_app().await;
    let mut office = Device::new();
    let session = app.session_on(&office, CLERK).await;
    let user = &session.user;
    let slip = ReleaseSlip::new(
        &user.estate_id,
        &user.id,
        &user.display_name,
        "6-2-601",
        "周业主",
        Applicant::Owner,
        &day(0),
        &day(1),
        vec![SlipItem {
            id: "piano".into(),
            what: "钢琴".into(),
            quantity: 1,
        }],
        T0,
    )
    .expect("valid slip");
    let slip_hash = slip.content_hash();
    let id = office.start(&slip, T0);
    let author = user.id.clone();
    // A hostile client claims the owner came to the desk, and sends no signature.
    office.edit_raw::<ReleaseSlip>(id, T0 + 1, |s| {
        s.approvals.push(Approval {
            slip_hash,
            id: entry_id().to_string(),
            author,
            corrects: None,
            approved_at: T0 + 1,
            approver_name: "周业主".into(),
            phone_number: String::new(),
            identity_checks: vec![IdentityCheck::IdNumber],
            note: String::new(),
            method: ApprovalMethod::InPerson,
        })
    });
    let mut socket = Device::connect_ok(app.addr, &session.token)
        .await
        .expect("connects");
    office.sync(&mut socket).await.expect("answers");
    let (code, problems) = office.refusal(id).expect("refused");
    assert_eq!(code, ErrorCode::Rejected, "{problems:?}");
    assert!(
        problems
            .iter()
            .any(|p| p.key == keys::UNSIGNED && p.path == "approvals[0].signature"),
        "{problems:?}"
    );
}
