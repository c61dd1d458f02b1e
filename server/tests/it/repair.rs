//! A repair record written on a technician's phone with no network, with the owner's consent
//! and acceptance signed on it, reaches the server and the office; forged signatures do not.

use gatehouse_server::admin;
use gatehouse_server::store::Store;
use gatehouse_shared::device::DeviceKey;
use gatehouse_shared::protocol::{ErrorCode, ServerMessage};
use gatehouse_shared::record::repair::{
    Component, Estimate, FeeOutcome, Outcome, Part, RepairRecord, WorkLine,
};
use gatehouse_shared::signature::{self, Purpose, Signature, SignerRole, Stroke, Unsigned};
use gatehouse_shared::user::NewUser;
use gatehouse_shared::{DocumentId, Problem, RecordKind, RecordSummary, Role};

use crate::device::{entry_id, Device};
use crate::helpers::{authed, spawn_app, TestApp, CLERK, GUARD, T0, TECH};

/// A signature of `purpose` over `subject`, taken on `device`'s key.
fn owner_signs(
    device: &Device,
    record: &RepairRecord,
    doc: DocumentId,
    author: &str,
    purpose: Purpose,
    subject: &str,
    at: i64,
) -> Signature {
    let content = record
        .content_for(purpose, subject)
        .expect("subject exists");
    let stroke = Stroke {
        width: 320,
        height: 160,
        lines: vec![vec![(20, 100), (80, 40), (150, 120)]],
    }
    .encode();
    let id = entry_id().to_string();
    Signature::sign_with_seed(
        &Unsigned {
            id: &id,
            author,
            purpose,
            subject,
            signer_role: SignerRole::Owner,
            signer_name: "张业主",
            stroke: &stroke,
            content_hash: content.hash(),
            signed_at: at,
            document: doc,
            device_id: &device.device_id,
        },
        &device.seed,
    )
}

/// The technician's phone, signed in, with a repair explained and consented, not yet synced.
async fn consented_repair(app: &TestApp) -> (Device, String, String, DocumentId) {
    let mut phone = Device::new();
    let tech = app.session_on(&phone, TECH).await;
    let repair = RepairRecord::start(
        &tech.user.estate_id,
        &tech.user.id,
        "陈师傅",
        "3栋1单元1202",
        "张业主",
        "13800000000",
        "入户门锁打不开",
        Component::DoorLock,
        "XYZ-300",
        T0,
    )
    .expect("valid");
    let id = phone.start(&repair, T0);
    let estimate = Estimate::new(
        entry_id(),
        &tech.user.id,
        "锁芯磨损",
        "更换锁芯",
        vec![Part {
            name: "锁芯".into(),
            quantity: 1,
            unit_price_fen: 15_000,
        }],
        5_000,
        T0 + 1_000,
    )
    .expect("valid");
    let subject = estimate.id.clone();
    phone.edit_kind(id, T0 + 1_000, |r: &mut RepairRecord| {
        r.estimates.push(estimate)
    });
    let record: RepairRecord = phone.read_kind(id);
    let consent = owner_signs(
        &phone,
        &record,
        id,
        &tech.user.id,
        Purpose::RepairConsent,
        &subject,
        T0 + 2_000,
    );
    phone.edit_kind(id, T0 + 2_000, |r: &mut RepairRecord| {
        r.signatures.push(consent)
    });
    (phone, tech.token, tech.user.id, id)
}

fn refusal(device: &Device, id: DocumentId) -> (ErrorCode, Vec<(String, String)>) {
    let (code, problems) = device.refusal(id).expect("the server refused the change");
    let problems = problems
        .into_iter()
        .map(|Problem { path, key }| (path, key.as_str().to_owned()))
        .collect();
    (code, problems)
}

#[tokio::test]
async fn repair_with_consent_and_acceptance_written_offline_reaches_the_office() {
    let app = spawn_app().await;
    let (mut phone, token, tech_id, id) = consented_repair(&app).await;
    // Still offline: the work, the acceptance and the fee outcome.
    let subject = phone.read_kind::<RepairRecord>(id).estimates[0].id.clone();
    let line = WorkLine::new(
        entry_id(),
        &tech_id,
        &subject,
        "更换锁芯并调试",
        Vec::new(),
        25,
        T0 + 3_000,
    )
    .expect("valid");
    phone.edit_kind(id, T0 + 3_000, |r: &mut RepairRecord| r.work.push(line));
    let record: RepairRecord = phone.read_kind(id);
    let acceptance = owner_signs(
        &phone,
        &record,
        id,
        &tech_id,
        Purpose::RepairAcceptance,
        &subject,
        T0 + 4_000,
    );
    phone.edit_kind(id, T0 + 4_000, |r: &mut RepairRecord| {
        r.signatures.push(acceptance)
    });
    let outcome =
        FeeOutcome::new(entry_id(), &tech_id, Outcome::Charged, "", T0 + 5_000).expect("valid");
    phone.edit_kind(id, T0 + 5_000, |r: &mut RepairRecord| {
        r.outcomes.push(outcome);
        r.closed_at = Some(T0 + 5_000);
    });

    // The network returns.
    let mut socket = Device::connect_ok(app.addr, &token)
        .await
        .expect("connects");
    phone.sync(&mut socket).await.expect("syncs");
    assert!(phone.errors.is_empty(), "{:?}", phone.errors);
    assert!(phone.is_stored(id));

    // The office lists it beside patrol logs, closed, with its fee.
    let clerk = app.session_on(&Device::new(), CLERK).await;
    let listed: Vec<RecordSummary> =
        authed(reqwest::Method::GET, app.url("/api/records"), &clerk.token)
            .send()
            .await
            .expect("lists")
            .json()
            .await
            .expect("json");
    let repair = listed.iter().find(|r| r.doc == id).expect("listed");
    assert_eq!(repair.kind, RecordKind::Repair);
    assert_eq!(repair.unit, "3栋1单元1202");
    assert_eq!(repair.status, "closed");
    assert_eq!(repair.title, "入户门锁打不开");

    // A guard of the estate does not see it.
    let mut guard_phone = Device::new();
    let guard = app.session_on(&guard_phone, GUARD).await;
    guard_phone.follow(id);
    let mut guard_socket = Device::connect_ok(app.addr, &guard.token)
        .await
        .expect("connects");
    guard_phone
        .sync(&mut guard_socket)
        .await
        .expect("exchange completes");
    assert!(guard_phone.read_kind_opt::<RepairRecord>(id).is_none());
    assert!(guard_phone.errors.iter().any(|e| matches!(
        e,
        ServerMessage::Error {
            code: ErrorCode::Forbidden,
            ..
        }
    )));
}

#[tokio::test]
async fn a_consent_signed_with_another_key_is_refused_as_a_bad_signature() {
    let app = spawn_app().await;
    let (mut phone, token, _, id) = consented_repair(&app).await;
    // The signature was made with a key that is not the one the device enrolled.
    phone.edit_kind(id, T0 + 8_000, |r: &mut RepairRecord| {
        let mut bytes: Vec<u8> = r.signatures[0].signature.clone().into();
        bytes[10] ^= 0x55;
        r.signatures[0].signature = bytes.into();
    });
    let mut socket = Device::connect_ok(app.addr, &token)
        .await
        .expect("connects");
    phone.sync(&mut socket).await.expect("exchange completes");
    let (code, problems) = refusal(&phone, id);
    assert_eq!(code, ErrorCode::Rejected);
    assert!(
        problems.contains(&("signatures[0]".into(), "validation.bad_signature".into())),
        "{problems:?}"
    );
    assert!(!phone.is_stored(id));
}

#[tokio::test]
async fn a_consent_copied_from_another_repair_is_refused() {
    let app = spawn_app().await;
    let (mut phone, token, tech_id, first) = consented_repair(&app).await;
    // A second repair of the same unit and fault, with the same estimate ID, takes the first
    // repair's consent: same key, same content, another document.
    let record: RepairRecord = phone.read_kind(first);
    let mut copy = record.clone();
    copy.started_at = T0 + 10;
    let second = phone.start(&copy, T0 + 10);
    let _ = tech_id;
    let mut socket = Device::connect_ok(app.addr, &token)
        .await
        .expect("connects");
    phone.sync(&mut socket).await.expect("exchange completes");
    assert!(phone.is_stored(first));
    let (code, problems) = refusal(&phone, second);
    assert_eq!(code, ErrorCode::Rejected);
    assert!(
        problems.contains(&(
            "signatures[0]".into(),
            "validation.signature_other_record".into()
        )),
        "{problems:?}"
    );
}

#[tokio::test]
async fn work_after_a_revised_fee_without_a_new_signature_is_refused() {
    let app = spawn_app().await;
    let (mut phone, token, tech_id, id) = consented_repair(&app).await;
    let revised = Estimate::new(
        entry_id(),
        &tech_id,
        "锁体也已损坏",
        "更换整套门锁",
        vec![Part {
            name: "门锁".into(),
            quantity: 1,
            unit_price_fen: 48_000,
        }],
        8_000,
        T0 + 6_000,
    )
    .expect("valid");
    let current = revised.id.clone();
    phone.edit_kind(id, T0 + 6_000, |r: &mut RepairRecord| {
        r.estimates.push(revised)
    });
    phone.edit_kind(id, T0 + 8_000, |r: &mut RepairRecord| {
        r.work.push(
            WorkLine::new(
                entry_id(),
                &tech_id,
                &current,
                "更换整套门锁",
                Vec::new(),
                40,
                T0 + 7_000,
            )
            .expect("valid"),
        )
    });
    let mut socket = Device::connect_ok(app.addr, &token)
        .await
        .expect("connects");
    phone.sync(&mut socket).await.expect("exchange completes");
    let (code, problems) = refusal(&phone, id);
    assert_eq!(code, ErrorCode::Rejected);
    assert_eq!(
        problems,
        [(
            "work[0].estimate".to_owned(),
            "validation.no_consent".to_owned()
        )]
    );
}

#[tokio::test]
async fn the_office_gets_the_technicians_key_and_verifies_the_consent_with_it() {
    let app = spawn_app().await;
    let (mut phone, token, _, id) = consented_repair(&app).await;
    let mut socket = Device::connect_ok(app.addr, &token)
        .await
        .expect("connects");
    phone.sync(&mut socket).await.expect("syncs");
    assert!(phone.is_stored(id));

    // A technician of the other estate only, with a device of their own.
    let outsider = Device::new();
    {
        let store = Store::open(&app.data_dir.join("gatehouse.db")).expect("opens");
        admin::create_user(
            &store,
            &NewUser {
                username: "tech-jade".into(),
                display_name: "周师傅".into(),
                password: "tech-jade-password".into(),
                role: Role::Technician,
                estates: vec![gatehouse_server::demo::SECOND_ESTATE_ID.into()],
            },
            T0,
        )
        .expect("user created");
    }
    app.session_on(&outsider, ("tech-jade", "tech-jade-password"))
        .await;

    let mut desk = Device::new();
    let clerk = app.session_on(&desk, CLERK).await;
    let response = authed(
        reqwest::Method::GET,
        app.url("/api/device-keys"),
        &clerk.token,
    )
    .send()
    .await
    .expect("sent");
    assert_eq!(response.status(), 200);
    let keys: Vec<DeviceKey> = response.json().await.expect("json");
    assert!(
        keys.iter().all(|k| k.device_id != outsider.device_id),
        "{keys:?}"
    );
    let key = keys
        .iter()
        .find(|k| k.device_id == phone.device_id)
        .expect("the technician's phone is listed");
    let public_key: Vec<u8> = (0..32)
        .map(|i| u8::from_str_radix(&key.public_key_hex[2 * i..2 * i + 2], 16).expect("hex"))
        .collect();

    // The office fetches the record and checks the consent as the browser will.
    desk.follow(id);
    let mut desk_socket = Device::connect_ok(app.addr, &clerk.token)
        .await
        .expect("connects");
    desk.sync(&mut desk_socket).await.expect("fetches");
    let record: RepairRecord = desk.read_kind(id);
    let consent = &record.signatures[0];
    let content = record
        .content_for(consent.purpose, &consent.subject)
        .expect("names an estimate");
    assert_eq!(
        signature::verify(
            consent,
            id,
            &content,
            &public_key,
            signature::ed25519_verifies
        ),
        []
    );
    let wrong_key = keys
        .iter()
        .find(|k| k.device_id == clerk.device_id)
        .map(|k| k.public_key_hex.clone())
        .expect("the clerk's own device is listed");
    assert_ne!(wrong_key, key.public_key_hex);
}
