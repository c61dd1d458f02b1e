use super::*;
use crate::record::judge;
use crate::record::test_support::{entry_id, CLERK, DOC, GUARD, T0, TECH};

const DAY: &str = "2026-05-28";

fn slip(applicant: Applicant) -> ReleaseSlip {
    ReleaseSlip::new(
        "estate-1",
        "user-clerk",
        "李客服",
        "12-1201",
        "赵租户",
        applicant,
        "2026/5/28",
        "2026-05-30",
        vec![
            SlipItem {
                id: "desk".into(),
                what: "办公桌".into(),
                quantity: 5,
            },
            SlipItem {
                id: "pc".into(),
                what: "电脑".into(),
                quantity: 2,
            },
        ],
        T0,
    )
    .expect("valid slip")
}

fn approval(n: u8) -> Approval {
    let slip_hash = slip(Applicant::Tenant).content_hash();
    Approval {
        slip_hash,
        id: entry_id(n).to_string(),
        author: "user-clerk".into(),
        corrects: None,
        approved_at: T0 + 10,
        approver_name: "王业主".into(),
        phone_number: "13800138000".into(),
        identity_checks: vec![IdentityCheck::IdNumber, IdentityCheck::Employer],
        note: String::new(),
        method: ApprovalMethod::Phone,
    }
}

fn check(n: u8, desks: u32, pcs: u32, held: Vec<Held>, decision: Decision) -> GateCheck {
    GateCheck {
        id: entry_id(n).to_string(),
        author: "user-guard".into(),
        corrects: None,
        guard_name: "王保安".into(),
        checked_at: T0 + 100,
        check_date: DAY.into(),
        carrier_name: "搬家师傅".into(),
        carrier_id: "440101199001011234".into(),
        plate: "粤B12345".into(),
        released: vec![
            Released {
                item: "desk".into(),
                quantity: desks,
            },
            Released {
                item: "pc".into(),
                quantity: pcs,
            },
        ],
        held,
        decision,
        reason: if decision == Decision::Released {
            String::new()
        } else {
            "其余改天再搬".into()
        },
    }
}

/// Signs every check the slip holds without its guard's signature, on the test phone.
fn sign_checks(slip: &mut ReleaseSlip) {
    let unsigned: Vec<GateCheck> = slip
        .checks
        .iter()
        .filter(|c| slip.check_signature(&c.id).is_none())
        .cloned()
        .collect();
    for check in unsigned {
        let content = slip.check_content(&check);
        let id = format!("sig-{}", check.id);
        let stroke = crate::signature::Stroke {
            width: 300,
            height: 150,
            lines: vec![vec![(10, 10), (200, 100)]],
        }
        .encode();
        slip.signatures.push(Signature::sign_with_seed(
            &crate::signature::Unsigned {
                id: &id,
                author: &check.author,
                purpose: Purpose::GateCheck,
                subject: &check.id,
                signer_role: crate::signature::SignerRole::Guard,
                signer_name: &check.guard_name,
                stroke: &stroke,
                content_hash: content.hash(),
                signed_at: check.checked_at,
                document: *DOC,
                device_id: "device-1",
            },
            &crate::record::test_support::TECH_SEED,
        ));
    }
}

fn keys_of(result: Result<(), Vec<Problem>>) -> Vec<crate::problem::ProblemKey> {
    result
        .err()
        .unwrap_or_default()
        .into_iter()
        .map(|p| p.key)
        .collect()
}

fn approved() -> ReleaseSlip {
    let mut slip = slip(Applicant::Tenant);
    slip.approvals.push(approval(1));
    slip
}

#[test]
fn slips_are_numbered_from_their_document_and_dates_read_as_written() {
    let number = slip_number(*DOC);
    assert_eq!(number.len(), 11);
    assert_eq!(&number[5..6], "-");
    assert_ne!(number, slip_number(DocumentId::from_random([8; 16])));
    assert_eq!(slip(Applicant::Owner).valid_from, "2026-05-28");
    let refused = ReleaseSlip::new(
        "estate-1",
        "user-clerk",
        "李客服",
        "",
        "",
        Applicant::Owner,
        "2026-05-30",
        "2026-05-28",
        vec![],
        T0,
    )
    .expect_err("refused");
    let found: Vec<_> = refused.iter().map(|p| (p.path.as_str(), p.key)).collect();
    assert!(found.contains(&("unit", keys::REQUIRED)));
    assert!(found.contains(&("items", keys::REQUIRED)));
    assert!(found.contains(&("valid_until", keys::ENDS_BEFORE_START)));
}

#[test]
fn a_tenants_slip_without_the_owners_approval_releases_nothing() {
    let before = slip(Applicant::Tenant);
    assert_eq!(before.status(), SlipStatus::AwaitingApproval);
    let mut after = before.clone();
    after
        .checks
        .push(check(2, 1, 0, vec![], Decision::PartlyReleased));
    sign_checks(&mut after);
    let found = keys_of(judge(
        Some(&before.clone().into_any()),
        &after.into_any(),
        &GUARD,
        *DOC,
        T0 + 1000,
    ));
    assert!(found.contains(&keys::NOT_APPROVED), "{found:?}");
    // Refusing the carrier is recorded all the same.
    let mut refused = before.clone();
    refused
        .checks
        .push(check(3, 0, 0, vec![], Decision::Refused));
    sign_checks(&mut refused);
    assert_eq!(
        judge(
            Some(&before.into_any()),
            &refused.into_any(),
            &GUARD,
            *DOC,
            T0 + 1000
        ),
        Ok(())
    );
}

#[test]
fn only_office_staff_approve_only_guards_check_and_nobody_changes_an_approved_slip() {
    let before = slip(Applicant::Tenant);
    let mut by_guard = before.clone();
    let mut forged = approval(1);
    forged.author = "user-guard".into();
    by_guard.approvals.push(forged);
    let found = keys_of(judge(
        Some(&before.clone().into_any()),
        &by_guard.into_any(),
        &GUARD,
        *DOC,
        T0 + 1000,
    ));
    assert!(found.contains(&keys::ROLE_FORBIDS), "{found:?}");
    let approved = approved();
    assert_eq!(
        judge(
            Some(&before.clone().into_any()),
            &approved.clone().into_any(),
            &CLERK,
            *DOC,
            T0 + 1000
        ),
        Ok(())
    );
    // A clerk does not check goods at the gate; a technician does nothing with slips.
    let mut by_clerk = approved.clone();
    let mut check_by_clerk = check(2, 1, 0, vec![], Decision::PartlyReleased);
    check_by_clerk.author = "user-clerk".into();
    by_clerk.checks.push(check_by_clerk);
    let found = keys_of(judge(
        Some(&approved.clone().into_any()),
        &by_clerk.into_any(),
        &CLERK,
        *DOC,
        T0 + 1000,
    ));
    assert!(found.contains(&keys::ROLE_FORBIDS), "{found:?}");
    let found = keys_of(judge(
        Some(&approved.clone().into_any()),
        &approved.clone().into_any(),
        &TECH,
        *DOC,
        T0 + 1000,
    ));
    assert!(found.contains(&keys::ROLE_FORBIDS));
    // Before approval the clerk may still correct the items; after it, never.
    let mut fixed = before.clone();
    fixed.items[0].quantity = 6;
    assert_eq!(
        judge(
            Some(&before.into_any()),
            &fixed.into_any(),
            &CLERK,
            *DOC,
            T0 + 1000
        ),
        Ok(())
    );
    let mut changed = approved.clone();
    changed.items[0].quantity = 6;
    let found = keys_of(judge(
        Some(&approved.clone().into_any()),
        &changed.into_any(),
        &CLERK,
        *DOC,
        T0 + 1000,
    ));
    assert!(found.contains(&keys::SLIP_APPROVED), "{found:?}");
    let mut moved = approved.clone();
    moved.valid_until = "2026-07-31".into();
    let found = keys_of(judge(
        Some(&approved.into_any()),
        &moved.into_any(),
        &CLERK,
        *DOC,
        T0 + 1000,
    ));
    assert!(found.contains(&keys::SLIP_APPROVED), "{found:?}");
}

#[test]
fn released_quantities_never_exceed_the_slip_over_several_trips() {
    let before = approved();
    // First trip: 3 desks and both computers; an extra chair is held.
    let mut first = before.clone();
    first.checks.push(check(
        2,
        3,
        2,
        vec![Held {
            what: "椅子".into(),
            quantity: 1,
        }],
        Decision::PartlyReleased,
    ));
    sign_checks(&mut first);
    assert_eq!(
        judge(
            Some(&before.clone().into_any()),
            &first.clone().into_any(),
            &GUARD,
            *DOC,
            T0 + 1000
        ),
        Ok(())
    );
    assert_eq!(first.status(), SlipStatus::PartlyReleased);
    assert_eq!(first.remaining(&first.items[0]), 2);
    assert_eq!(first.remaining(&first.items[1]), 0);
    // Second trip: 3 more desks is one too many; the phone refuses to record it.
    let refused = first.release_problems(&check(3, 3, 0, vec![], Decision::Released).released);
    assert_eq!(refused.len(), 1);
    assert_eq!(
        (refused[0].path.as_str(), refused[0].key),
        ("released[0].quantity", keys::OVER_RELEASED)
    );
    assert!(first
        .release_problems(&check(3, 2, 0, vec![], Decision::Released).released)
        .is_empty());
    // No single check lets out more than the whole slip.
    let mut too_many = first.clone();
    too_many
        .checks
        .push(check(7, 6, 0, vec![], Decision::PartlyReleased));
    sign_checks(&mut too_many);
    let found = keys_of(judge(
        Some(&first.clone().into_any()),
        &too_many.into_any(),
        &GUARD,
        *DOC,
        T0 + 1000,
    ));
    assert!(found.contains(&keys::OVER_RELEASED), "{found:?}");
    // The last two desks: the slip is used up, and nothing more can leave on it.
    let mut last = first.clone();
    last.checks.push(check(4, 2, 0, vec![], Decision::Released));
    sign_checks(&mut last);
    assert_eq!(
        judge(
            Some(&first.clone().into_any()),
            &last.clone().into_any(),
            &GUARD,
            *DOC,
            T0 + 1000
        ),
        Ok(())
    );
    assert_eq!(last.status(), SlipStatus::UsedUp);
    assert_eq!(
        last.refuses_release(Date::parse(DAY).expect("date")),
        Some(keys::USED_UP)
    );
    // Two gates offline at once, each letting 3 desks out: what happened is kept, and the
    // slip says it was over-released; nothing more leaves on it.
    let mut gate_a = before.clone();
    gate_a
        .checks
        .push(check(5, 3, 0, vec![], Decision::PartlyReleased));
    sign_checks(&mut gate_a);
    let mut merged = gate_a.clone();
    merged
        .checks
        .push(check(6, 3, 0, vec![], Decision::PartlyReleased));
    sign_checks(&mut merged);
    assert_eq!(
        judge(
            Some(&gate_a.into_any()),
            &merged.clone().into_any(),
            &GUARD,
            *DOC,
            T0 + 1000
        ),
        Ok(())
    );
    assert_eq!(merged.status(), SlipStatus::OverReleased);
    assert_eq!(
        merged.refuses_release(Date::parse(DAY).expect("date")),
        Some(keys::USED_UP)
    );
}

#[test]
fn nothing_leaves_outside_the_window_and_the_decision_says_what_happened() {
    let before = approved();
    let day = |text: &str| Date::parse(text).expect("date");
    assert_eq!(
        before.refuses_release(day("2026-05-27")),
        Some(keys::OUT_OF_WINDOW)
    );
    assert_eq!(before.refuses_release(day("2026-05-30")), None);
    assert_eq!(
        before.refuses_release(day("2026-05-31")),
        Some(keys::OUT_OF_WINDOW)
    );
    let mut late = before.clone();
    let mut after_window = check(2, 1, 0, vec![], Decision::PartlyReleased);
    after_window.check_date = "2026-05-31".into();
    late.checks.push(after_window);
    let found = keys_of(judge(
        Some(&before.clone().into_any()),
        &late.into_any(),
        &GUARD,
        *DOC,
        T0 + 1000,
    ));
    assert!(found.contains(&keys::OUT_OF_WINDOW), "{found:?}");
    // "Released" with something held, or "refused" with something released, contradicts itself;
    // a partial release or refusal needs its reason.
    for bad in [
        check(
            3,
            1,
            0,
            vec![Held {
                what: "椅子".into(),
                quantity: 1,
            }],
            Decision::Released,
        ),
        check(4, 1, 0, vec![], Decision::Refused),
        check(5, 0, 0, vec![], Decision::Released),
    ] {
        let mut after = before.clone();
        after.checks.push(bad);
        let found = keys_of(judge(
            Some(&before.clone().into_any()),
            &after.into_any(),
            &GUARD,
            *DOC,
            T0 + 1000,
        ));
        assert!(found.contains(&keys::DECISION_MISMATCH), "{found:?}");
    }
    let mut no_reason = before.clone();
    let mut partly = check(6, 1, 0, vec![], Decision::PartlyReleased);
    partly.reason = String::new();
    no_reason.checks.push(partly);
    let found = keys_of(judge(
        Some(&before.into_any()),
        &no_reason.into_any(),
        &GUARD,
        *DOC,
        T0 + 1000,
    ));
    assert!(found.contains(&keys::REQUIRED), "{found:?}");
}

#[test]
fn an_approval_covers_the_slip_as_read_to_the_owner() {
    // The creator changes the items while another clerk, on the phone with the owner,
    // approves the slip as it was: the merge of the two is refused.
    let before = slip(Applicant::Tenant);
    let mut changed = before.clone();
    changed.items[0].quantity = 8;
    changed.approvals.push(approval(1));
    let found = keys_of(judge(
        Some(&before.into_any()),
        &changed.into_any(),
        &CLERK,
        *DOC,
        T0 + 1000,
    ));
    assert!(found.contains(&keys::APPROVAL_MISMATCH), "{found:?}");
    // A check whose date is days away from its time is refused (a backdated release).
    let approved = approved();
    let mut backdated = approved.clone();
    let mut late = check(2, 1, 0, vec![], Decision::PartlyReleased);
    late.checked_at = T0 + 10 * 86_400_000;
    backdated.checks.push(late);
    let found = keys_of(judge(
        Some(&approved.into_any()),
        &backdated.into_any(),
        &GUARD,
        *DOC,
        T0 + 20 * 86_400_000,
    ));
    assert!(found.contains(&keys::OUT_OF_RANGE), "{found:?}");
}

#[test]
fn a_phone_approval_names_the_number_called_and_what_the_caller_proved() {
    let before = slip(Applicant::Tenant);
    let mut after = before.clone();
    let mut weak = approval(1);
    weak.identity_checks.clear();
    weak.phone_number = "110101198001011234".into();
    after.approvals.push(weak);
    let found: Vec<_> = judge(
        Some(&before.into_any()),
        &after.into_any(),
        &CLERK,
        *DOC,
        T0 + 1000,
    )
    .expect_err("refused")
    .into_iter()
    .map(|p| (p.path, p.key))
    .collect();
    assert!(
        found.contains(&("approvals[0].identity_checks".into(), keys::REQUIRED)),
        "{found:?}"
    );
    assert!(
        found.contains(&("approvals[0].phone_number".into(), keys::BAD_PHONE)),
        "{found:?}"
    );
}

#[test]
fn the_guard_signs_every_check_over_exactly_what_was_checked() {
    let before = approved();
    let judged = |after: &ReleaseSlip, writer| {
        keys_of(judge(
            Some(&before.clone().into_any()),
            &after.clone().into_any(),
            writer,
            *DOC,
            T0 + 1000,
        ))
    };
    // A check without its signature is refused, a refusal too.
    let mut unsigned = before.clone();
    unsigned
        .checks
        .push(check(2, 1, 0, vec![], Decision::PartlyReleased));
    assert_eq!(judged(&unsigned, &GUARD), vec![keys::UNSIGNED]);
    let mut refused = before.clone();
    refused
        .checks
        .push(check(3, 0, 0, vec![], Decision::Refused));
    assert_eq!(judged(&refused, &GUARD), vec![keys::UNSIGNED]);
    let mut signed = unsigned.clone();
    sign_checks(&mut signed);
    assert_eq!(judged(&signed, &GUARD), vec![]);
    assert!(signed.check_signature(&signed.checks[0].id).is_some());

    // A signature over other quantities than the check records does not cover it.
    let mut altered = signed.clone();
    altered.checks[0].released[0].quantity = 2;
    let found = judged(&altered, &GUARD);
    assert!(found.contains(&keys::CONTENT_MISMATCH), "{found:?}");
    assert!(found.contains(&keys::UNSIGNED), "{found:?}");
    // Nor over another carrier.
    let mut other_carrier = signed.clone();
    other_carrier.checks[0].carrier_id = "440101199001019999".into();
    assert!(judged(&other_carrier, &GUARD).contains(&keys::CONTENT_MISMATCH));

    // Signed as someone other than the guard, or on another phone: refused.
    let mut as_owner = signed.clone();
    as_owner.signatures[0].signer_role = crate::signature::SignerRole::Owner;
    let found = judged(&as_owner, &GUARD);
    assert!(found.contains(&keys::ROLE_FORBIDS), "{found:?}");
    let mut other_phone = signed.clone();
    other_phone.signatures[0].device_id = "device-2".into();
    assert!(judged(&other_phone, &GUARD).contains(&keys::BAD_SIGNATURE));
    // A clerk cannot add a guard's signature, nor anyone sign a check that is not theirs.
    let found = judged(&signed, &CLERK);
    assert!(found.contains(&keys::ROLE_FORBIDS), "{found:?}");
    let found = judged(&signed, &TECH);
    assert!(found.contains(&keys::ROLE_FORBIDS), "{found:?}");
}

/// The owner's signature at the desk over `approval`, taken on the clerk's device.
fn owner_signs(slip: &mut ReleaseSlip, approval: &Approval, role: crate::signature::SignerRole) {
    let content = slip.approval_content(approval);
    let stroke = crate::signature::Stroke {
        width: 300,
        height: 150,
        lines: vec![vec![(10, 10), (200, 100)]],
    }
    .encode();
    let id = format!("sig-{}", approval.id);
    slip.signatures.push(Signature::sign_with_seed(
        &crate::signature::Unsigned {
            id: &id,
            author: &approval.author,
            purpose: Purpose::SlipApproval,
            subject: &approval.id,
            signer_role: role,
            signer_name: &approval.approver_name,
            stroke: &stroke,
            content_hash: content.hash(),
            signed_at: approval.approved_at,
            document: *DOC,
            device_id: "device-1",
        },
        &crate::record::test_support::TECH_SEED,
    ));
}

#[test]
fn an_owner_at_the_desk_signs_the_slip_as_it_stands() {
    use crate::signature::SignerRole;
    let before = slip(Applicant::Tenant);
    let mut at_desk = approval(1);
    at_desk.method = ApprovalMethod::InPerson;
    at_desk.phone_number = String::new();
    at_desk.identity_checks = vec![IdentityCheck::IdNumber];
    let judged = |after: &ReleaseSlip, writer| {
        keys_of(judge(
            Some(&before.clone().into_any()),
            &after.clone().into_any(),
            writer,
            *DOC,
            T0 + 1000,
        ))
    };
    // Without the owner's signature the approval at the desk is refused.
    let mut unsigned = before.clone();
    unsigned.approvals.push(at_desk.clone());
    assert_eq!(judged(&unsigned, &CLERK), vec![keys::UNSIGNED]);
    // Signed by the owner over the slip as it stands: approved, and the gate may release.
    let mut signed = unsigned.clone();
    owner_signs(&mut signed, &at_desk, SignerRole::Owner);
    assert_eq!(judged(&signed, &CLERK), vec![]);
    assert!(signed.is_approved());
    assert!(signed.approval_signature(&at_desk.id).is_some());
    // The tenant cannot approve their own removal, whatever the pad says.
    let mut by_tenant = unsigned.clone();
    owner_signs(&mut by_tenant, &at_desk, SignerRole::Tenant);
    let found = judged(&by_tenant, &CLERK);
    assert!(found.contains(&keys::ROLE_FORBIDS), "{found:?}");
    // A signature over other items (changed on another device meanwhile) covers nothing.
    let mut other_items = signed.clone();
    other_items.items[0].quantity = 50;
    let found = judged(&other_items, &CLERK);
    assert!(found.contains(&keys::CONTENT_MISMATCH), "{found:?}");
    // A guard cannot add an owner's signature; a phone approval needs the number called.
    let found = judged(&signed, &GUARD);
    assert!(found.contains(&keys::ROLE_FORBIDS), "{found:?}");
    let mut by_phone = at_desk.clone();
    by_phone.method = ApprovalMethod::Phone;
    let mut phoned = before.clone();
    phoned.approvals.push(by_phone);
    assert_eq!(judged(&phoned, &CLERK), vec![keys::REQUIRED]);
}
