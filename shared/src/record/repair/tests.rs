use super::*;
use crate::problem::ProblemKey;
use crate::record::test_support::{entry_id, CLERK, DOC, T0, TECH, TECH_SEED};
use crate::record::{judge, MAX_CLOCK_AHEAD_MS};
use crate::signature::{SignerRole, Stroke, Unsigned};

fn repair() -> RepairRecord {
    RepairRecord::start(
        "estate-1",
        TECH.user_id,
        "赵师傅",
        "3栋1单元1202",
        "张业主",
        "13800000000",
        "入户门锁打不开",
        Component::DoorLock,
        "XYZ-300",
        T0,
    )
    .expect("valid")
}

fn estimate(n: u8, fee: i64, at: i64) -> Estimate {
    Estimate::new(
        entry_id(n),
        TECH.user_id,
        "锁芯磨损",
        "更换锁芯",
        vec![Part {
            name: "锁芯".into(),
            quantity: 1,
            unit_price_fen: fee,
        }],
        5_000,
        at,
    )
    .expect("valid")
}

fn sign(record: &RepairRecord, n: u8, purpose: Purpose, subject: &str, at: i64) -> Signature {
    let content = record
        .content_for(purpose, subject)
        .expect("subject exists");
    let stroke = Stroke {
        width: 300,
        height: 150,
        lines: vec![vec![(1, 1), (50, 80)]],
    }
    .encode();
    let id = entry_id(n).to_string();
    Signature::sign_with_seed(
        &Unsigned {
            id: &id,
            author: TECH.user_id,
            purpose,
            subject,
            signer_role: SignerRole::Owner,
            signer_name: "张业主",
            stroke: &stroke,
            content_hash: content.hash(),
            signed_at: at,
            document: *DOC,
            device_id: TECH.device_id,
        },
        &TECH_SEED,
    )
}

fn work(n: u8, estimate: &str, at: i64) -> WorkLine {
    WorkLine::new(
        entry_id(n),
        TECH.user_id,
        estimate,
        "更换锁芯并调试",
        Vec::new(),
        20,
        at,
    )
    .expect("valid")
}

fn keys_of(
    before: &RepairRecord,
    after: &RepairRecord,
    writer: &Writer<'_>,
) -> Vec<(String, ProblemKey)> {
    judge(
        Some(&before.clone().into_any()),
        &after.clone().into_any(),
        writer,
        *DOC,
        T0 + 3_600_000,
    )
    .err()
    .unwrap_or_default()
    .into_iter()
    .map(|p| (p.path, p.key))
    .collect()
}

fn pair(path: &str, key: ProblemKey) -> (String, ProblemKey) {
    (path.to_owned(), key)
}

/// A record consented on estimate 1 (¥150 lock cylinder + ¥50 labour).
fn consented() -> RepairRecord {
    let mut r = repair();
    r.estimates.push(estimate(1, 15_000, T0 + 1));
    let id = r.estimates[0].id.clone();
    let consent = sign(&r, 2, Purpose::RepairConsent, &id, T0 + 2);
    r.signatures.push(consent);
    r
}

#[test]
fn a_repair_needs_unit_fault_and_technician() {
    let problems = RepairRecord::start("e", "u", "", " ", "", "", "", Component::Other, "", T0)
        .expect_err("refused");
    let paths: Vec<_> = problems.iter().map(|p| p.path.as_str()).collect();
    assert_eq!(paths, ["technician_name", "unit", "fault"]);
}

#[test]
fn only_technicians_start_repairs_and_guards_do_not_see_them() {
    assert!(Role::Technician.starts(RecordKind::Repair));
    assert!(!Role::Guard.starts(RecordKind::Repair));
    assert!(!Role::Guard.works_with(RecordKind::Repair));
    assert!(Role::Office.works_with(RecordKind::Repair));
    assert!(!Role::Office.starts(RecordKind::Repair));
    assert_eq!(judge(None, &repair().into_any(), &TECH, *DOC, T0), Ok(()));
}

#[test]
fn the_status_follows_the_steps() {
    let mut r = repair();
    assert_eq!(r.status(), RepairStatus::Reported);
    r.estimates.push(estimate(1, 15_000, T0 + 1));
    assert_eq!(r.status(), RepairStatus::Explained);
    assert!(r.needs_consent());
    let id = r.estimates[0].id.clone();
    r.signatures
        .push(sign(&r, 2, Purpose::RepairConsent, &id, T0 + 2));
    assert_eq!(r.status(), RepairStatus::Consented);
    r.work.push(work(3, &id, T0 + 3));
    assert_eq!(r.status(), RepairStatus::InProgress);
    r.signatures
        .push(sign(&r, 4, Purpose::RepairAcceptance, &id, T0 + 4));
    assert_eq!(r.status(), RepairStatus::Accepted);
    r.outcomes.push(
        FeeOutcome::new(entry_id(5), TECH.user_id, Outcome::Charged, "", T0 + 5).expect("valid"),
    );
    r.closed_at = Some(T0 + 5);
    assert_eq!(r.status(), RepairStatus::Closed);
    assert_eq!(r.validate(), []);
    assert_eq!(r.current_estimate().map(Estimate::fee_fen), Some(20_000));
}

#[test]
fn a_new_estimate_after_consent_needs_a_new_signature() {
    let before = consented();
    let mut after = before.clone();
    after.estimates.push(estimate(3, 30_000, T0 + 10));
    assert!(keys_of(&before, &after, &TECH).is_empty());
    assert_eq!(after.status(), RepairStatus::Explained);
    assert!(after.needs_consent());
    // Work on the new estimate without the owner's signature is refused...
    let mut worked = after.clone();
    let current = worked.estimates[1].id.clone();
    worked.work.push(work(4, &current, T0 + 11));
    assert_eq!(
        keys_of(&after, &worked, &TECH),
        [pair("work[0].estimate", keys::NO_CONSENT)]
    );
    // Work on the old, consented estimate is in order, and the record still asks for the
    // owner's signature on the estimate in force.
    let mut on_old = after.clone();
    let old = on_old.estimates[0].id.clone();
    on_old.work.push(work(5, &old, T0 + 11));
    assert!(keys_of(&after, &on_old, &TECH).is_empty());
    assert!(on_old.needs_consent());
    assert_eq!(on_old.status(), RepairStatus::Explained);
}

#[test]
fn a_whole_repair_uploaded_at_once_with_a_revision_at_the_end_is_in_order() {
    // Offline: estimate, consent, work, then a revision (more damage found).
    let mut r = consented();
    let first = r.estimates[0].id.clone();
    r.work.push(work(3, &first, T0 + 3));
    r.estimates.push(estimate(4, 40_000, T0 + 4));
    assert_eq!(
        judge(None, &r.clone().into_any(), &TECH, *DOC, T0 + 60_000),
        Ok(())
    );
    assert!(r.needs_consent());
}

#[test]
fn no_revision_after_the_acceptance() {
    let mut before = consented();
    let first = before.estimates[0].id.clone();
    before.work.push(work(3, &first, T0 + 3));
    let acceptance = sign(&before, 4, Purpose::RepairAcceptance, &first, T0 + 4);
    before.signatures.push(acceptance);
    let mut after = before.clone();
    after.estimates.push(estimate(5, 40_000, T0 + 5));
    assert_eq!(
        keys_of(&before, &after, &TECH),
        [pair("estimates[1]", keys::STEP_OUT_OF_ORDER)]
    );
}

#[test]
fn acceptance_without_consented_work_and_an_outcome_without_acceptance_are_refused() {
    let before = consented();
    let subject = before.estimates[0].id.clone();
    let mut early = before.clone();
    early
        .signatures
        .push(sign(&early, 6, Purpose::RepairAcceptance, &subject, T0 + 6));
    assert_eq!(
        keys_of(&before, &early, &TECH),
        [pair("signatures[1]", keys::STEP_OUT_OF_ORDER)]
    );
    let mut paid = before.clone();
    paid.outcomes.push(
        FeeOutcome::new(entry_id(7), TECH.user_id, Outcome::Charged, "", T0 + 7).expect("valid"),
    );
    paid.closed_at = Some(T0 + 7);
    assert_eq!(
        keys_of(&before, &paid, &TECH),
        [
            pair("closed_at", keys::STEP_OUT_OF_ORDER),
            pair("outcomes[0]", keys::STEP_OUT_OF_ORDER)
        ]
    );
}

/// A record with consented work, accepted, with its outcome: ready to close.
fn accepted() -> RepairRecord {
    let mut r = consented();
    let first = r.estimates[0].id.clone();
    r.work.push(work(3, &first, T0 + 3));
    let acceptance = sign(&r, 4, Purpose::RepairAcceptance, &first, T0 + 4);
    r.signatures.push(acceptance);
    r.outcomes.push(
        FeeOutcome::new(entry_id(5), TECH.user_id, Outcome::Charged, "", T0 + 5).expect("valid"),
    );
    r
}

#[test]
fn a_revision_backdated_before_the_acceptance_cannot_close_the_record() {
    let before = accepted();
    let mut after = before.clone();
    // Dated between the accepted estimate and the acceptance: it becomes the estimate
    // in force, and the acceptance no longer covers it.
    after.estimates.push(estimate(6, 1, T0 + 3));
    after.closed_at = Some(T0 + 6);
    let problems = keys_of(&before, &after, &TECH);
    assert!(
        problems.contains(&pair("closed_at", keys::STEP_OUT_OF_ORDER)),
        "{problems:?}"
    );
    assert!(
        problems.contains(&pair("estimates[1]", keys::STEP_OUT_OF_ORDER)),
        "{problems:?}"
    );
    let mut closed = before.clone();
    closed.closed_at = Some(T0 + 6);
    assert!(keys_of(&before, &closed, &TECH).is_empty());
}

#[test]
fn the_technician_does_not_sign_for_the_owner_and_signed_steps_take_no_correction() {
    let before = {
        let mut r = repair();
        r.estimates.push(estimate(1, 15_000, T0 + 1));
        r
    };
    let subject = before.estimates[0].id.clone();
    let mut after = before.clone();
    let mut sig = sign(&before, 2, Purpose::RepairConsent, &subject, T0 + 2);
    sig.signer_role = SignerRole::Technician;
    // Re-signed with the changed role, so only the role is wrong.
    let unsigned = Unsigned {
        id: &sig.id.clone(),
        author: TECH.user_id,
        purpose: sig.purpose,
        subject: &subject,
        signer_role: SignerRole::Technician,
        signer_name: "赵师傅",
        stroke: &Vec::from(sig.stroke.clone()),
        content_hash: before
            .content_for(Purpose::RepairConsent, &subject)
            .expect("content")
            .hash(),
        signed_at: T0 + 2,
        document: *DOC,
        device_id: TECH.device_id,
    };
    after
        .signatures
        .push(Signature::sign_with_seed(&unsigned, &TECH_SEED));
    assert_eq!(
        keys_of(&before, &after, &TECH),
        [pair("signatures[0].signer_role", keys::ROLE_FORBIDS)]
    );
    let mut revised = before.clone();
    let mut second = estimate(3, 20_000, T0 + 3);
    second.corrects = Some(subject.clone());
    revised.estimates.push(second);
    assert_eq!(
        keys_of(&before, &revised, &TECH),
        [pair("estimates[1].corrects", keys::BAD_CORRECTION)]
    );
}

#[test]
fn an_entry_id_is_one_to_two_hundred_characters() {
    let mut r = repair();
    let mut e = estimate(1, 100, T0 + 1);
    e.id = String::new();
    r.estimates.push(e);
    assert_eq!(
        Kind::validate(&r),
        [Problem::new("estimates[0].id", keys::REQUIRED)]
    );
}

#[test]
fn waived_or_warranty_needs_a_reason_and_closing_needs_an_outcome() {
    let problems =
        FeeOutcome::new(entry_id(1), "u", Outcome::Warranty, " ", T0).expect_err("refused");
    assert_eq!(problems, [Problem::new("outcome.reason", keys::REQUIRED)]);
    let mut closed = repair();
    closed.closed_at = Some(T0 + 1);
    assert_eq!(
        closed.validate(),
        [Problem::new("closed_at", keys::STEP_OUT_OF_ORDER)]
    );
}

#[test]
fn a_signature_by_another_device_key_or_for_another_record_is_refused() {
    let before = {
        let mut r = repair();
        r.estimates.push(estimate(1, 15_000, T0 + 1));
        r
    };
    let subject = before.estimates[0].id.clone();
    let mut after = before.clone();
    after
        .signatures
        .push(sign(&before, 2, Purpose::RepairConsent, &subject, T0 + 2));
    assert!(keys_of(&before, &after, &TECH).is_empty());
    // The same entry judged as written by a device with another key.
    let other_key = Writer {
        device_key: &[0; 32],
        ..*TECH
    };
    assert_eq!(
        keys_of(&before, &after, &other_key),
        [pair("signatures[0]", keys::BAD_SIGNATURE)]
    );
    // Copied from another record: made for another document.
    let mut copied = before.clone();
    let mut sig = sign(&before, 3, Purpose::RepairConsent, &subject, T0 + 2);
    sig.document = [5; 16].to_vec().into();
    copied.signatures.push(sig);
    assert_eq!(
        keys_of(&before, &copied, &TECH),
        [
            pair("signatures[0]", keys::SIGNATURE_OTHER_RECORD),
            pair("signatures[0]", keys::BAD_SIGNATURE)
        ]
    );
    // A consent hash for other content (another fee) under this estimate's name.
    let mut cheaper = before.clone();
    cheaper.estimates[0] = estimate(1, 100, T0 + 1);
    let mut mismatched = before.clone();
    mismatched
        .signatures
        .push(sign(&cheaper, 4, Purpose::RepairConsent, &subject, T0 + 2));
    assert_eq!(
        keys_of(&before, &mismatched, &TECH),
        [pair("signatures[0]", keys::CONTENT_MISMATCH)]
    );
    // Claimed by another device.
    let mut foreign = after.clone();
    foreign.signatures[0].device_id = "device-other".into();
    assert_eq!(
        keys_of(&before, &foreign, &TECH),
        [pair("signatures[0].device_id", keys::BAD_SIGNATURE)]
    );
}

#[test]
fn the_office_changing_the_fee_or_a_signature_is_refused() {
    let before = consented();
    let mut after = before.clone();
    after.estimates[0].labour_fen = 1;
    after.signatures[0].signer_name = "别人".into();
    after.unit = "3栋1单元1201".into();
    assert_eq!(
        keys_of(&before, &after, &CLERK),
        [
            pair("unit", keys::NOT_CREATOR),
            pair("estimates[0]", keys::ENTRY_CHANGED),
            pair("signatures[0]", keys::ENTRY_CHANGED),
        ]
    );
}

#[test]
fn every_time_is_checked_against_the_clock() {
    let mut r = consented();
    r.work.push(work(
        3,
        &r.estimates[0].id.clone(),
        T0 + 10 * MAX_CLOCK_AHEAD_MS,
    ));
    let problems = judge(None, &r.into_any(), &TECH, *DOC, T0).expect_err("refused");
    assert!(problems
        .iter()
        .any(|p| p.path == "work[0].done_at" && p.key == keys::IN_FUTURE));
}
