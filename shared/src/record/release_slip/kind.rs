//! The release slip as a record kind: the checks of each field and entry, and the rules on
//! a change (who adds what, the slip frozen once approved, checks only on an approved slip
//! within its window).

use std::collections::{HashMap, HashSet};

use super::*;
use crate::record::registry::check_phone;
use crate::record::remark::check_remark;
use crate::record::rules::{check_entries, corrections_point_into, unique_ids};
use crate::signature::SignerRole;

fn check_quantity(problems: &mut Vec<Problem>, path: String, quantity: u32, least: u32) {
    if quantity < least || quantity > MAX_QUANTITY {
        problems.push(Problem::new(path, keys::OUT_OF_RANGE));
    }
}

fn check_date(problems: &mut Vec<Problem>, path: &str, text: &str) -> Option<Date> {
    match Date::parse(text).filter(|d| d.to_string() == text) {
        Some(date) => Some(date),
        None => {
            let key = if text.is_empty() {
                keys::REQUIRED
            } else {
                keys::BAD_DATE
            };
            problems.push(Problem::new(path, key));
            None
        }
    }
}

fn check_approval(problems: &mut Vec<Problem>, path: &str, approval: &Approval) {
    check_text(
        problems,
        format!("{path}.approver_name"),
        &approval.approver_name,
        MAX_SHORT_CHARS,
    );
    // By phone, the number called; at the desk, a number is optional.
    if approval.phone_number.is_empty() {
        if approval.method == ApprovalMethod::Phone {
            problems.push(Problem::new(format!("{path}.phone_number"), keys::REQUIRED));
        }
    } else {
        check_phone(
            problems,
            format!("{path}.phone_number"),
            &approval.phone_number,
        );
    }
    let unique: HashSet<_> = approval.identity_checks.iter().collect();
    if approval.identity_checks.is_empty() {
        problems.push(Problem::new(
            format!("{path}.identity_checks"),
            keys::REQUIRED,
        ));
    } else if unique.len() != approval.identity_checks.len() {
        problems.push(Problem::new(
            format!("{path}.identity_checks"),
            keys::DUPLICATE_ID,
        ));
    }
    check_optional_text(
        problems,
        format!("{path}.note"),
        &approval.note,
        MAX_TEXT_CHARS,
    );
}

fn check_gate(
    problems: &mut Vec<Problem>,
    path: &str,
    check: &GateCheck,
    items: &HashMap<&str, u32>,
) {
    check_text(
        problems,
        format!("{path}.guard_name"),
        &check.guard_name,
        MAX_SHORT_CHARS,
    );
    check_date(problems, &format!("{path}.check_date"), &check.check_date);
    check_text(
        problems,
        format!("{path}.carrier_name"),
        &check.carrier_name,
        MAX_SHORT_CHARS,
    );
    if check.decision == Decision::Refused {
        check_optional_text(
            problems,
            format!("{path}.carrier_id"),
            &check.carrier_id,
            MAX_SHORT_CHARS,
        );
    } else {
        check_text(
            problems,
            format!("{path}.carrier_id"),
            &check.carrier_id,
            MAX_SHORT_CHARS,
        );
    }
    check_optional_text(
        problems,
        format!("{path}.plate"),
        &check.plate,
        MAX_SHORT_CHARS,
    );
    let mut seen = HashSet::new();
    for (i, line) in check.released.iter().enumerate() {
        let at = format!("{path}.released[{i}]");
        match items.get(line.item.as_str()) {
            None => problems.push(Problem::new(format!("{at}.item"), keys::UNKNOWN_ENTRY)),
            // One check never lets out more than the whole slip allows.
            Some(quantity) if line.quantity > *quantity => {
                problems.push(Problem::new(format!("{at}.quantity"), keys::OVER_RELEASED));
            }
            Some(_) => {}
        }
        if !seen.insert(line.item.as_str()) {
            problems.push(Problem::new(format!("{at}.item"), keys::DUPLICATE_ID));
        }
        check_quantity(problems, format!("{at}.quantity"), line.quantity, 0);
    }
    if check.held.len() > MAX_ITEMS {
        problems.push(Problem::new(format!("{path}.held"), keys::TOO_MANY));
    }
    for (i, held) in check.held.iter().enumerate() {
        check_text(
            problems,
            format!("{path}.held[{i}].what"),
            &held.what,
            MAX_SHORT_CHARS,
        );
        check_quantity(
            problems,
            format!("{path}.held[{i}].quantity"),
            held.quantity,
            1,
        );
    }
    // The decision says what happened: nothing released is a refusal, with its reason;
    // something held or released short is a partial release, with its reason.
    // The check's own date and its time agree within a day (the phone's time zone is not
    // known; no zone is more than a day from UTC).
    if let Some(day) = Date::parse(&check.check_date) {
        let utc_day = check.checked_at.div_euclid(86_400_000);
        if (day.days_since_epoch() - utc_day).abs() > 1 {
            problems.push(Problem::new(
                format!("{path}.check_date"),
                keys::OUT_OF_RANGE,
            ));
        }
    }
    let released: u64 = check.released.iter().map(|l| u64::from(l.quantity)).sum();
    let consistent = match check.decision {
        Decision::Refused => released == 0,
        Decision::Released => released > 0 && check.held.is_empty(),
        Decision::PartlyReleased => released > 0,
    };
    if !consistent {
        problems.push(Problem::new(
            format!("{path}.decision"),
            keys::DECISION_MISMATCH,
        ));
    }
    if check.decision == Decision::Released {
        check_optional_text(
            problems,
            format!("{path}.reason"),
            &check.reason,
            MAX_TEXT_CHARS,
        );
    } else {
        check_text(
            problems,
            format!("{path}.reason"),
            &check.reason,
            MAX_TEXT_CHARS,
        );
    }
}

impl Kind for ReleaseSlip {
    const KIND: RecordKind = RecordKind::ReleaseSlip;

    fn remarks_mut(&mut self) -> &mut Vec<Remark> {
        &mut self.remarks
    }

    fn header(&self) -> Header<'_> {
        Header {
            kind: self.kind,
            estate_id: &self.estate_id,
            created_by: &self.created_by,
            author_name: &self.clerk_name,
            unit: &self.unit,
            title: &self.applicant_name,
            started_at: self.started_at,
            closed_at: None,
        }
    }

    fn fields(&self) -> Vec<(&'static str, Field<'_>)> {
        vec![
            ("clerk_name", Field::Text(&self.clerk_name)),
            ("unit", Field::Text(&self.unit)),
            ("applicant_name", Field::Text(&self.applicant_name)),
            ("applicant", Field::Text(self.applicant.as_str())),
            ("valid_from", Field::Text(&self.valid_from)),
            ("valid_until", Field::Text(&self.valid_until)),
            ("started_at", Field::Time(Some(self.started_at))),
        ]
    }

    fn validate(&self) -> Vec<Problem> {
        let mut problems = Vec::new();
        if self.kind != RecordKind::ReleaseSlip {
            problems.push(Problem::new("kind", keys::NOT_A_RECORD));
        }
        check_text(&mut problems, "estate_id", &self.estate_id, MAX_SHORT_CHARS);
        check_text(
            &mut problems,
            "created_by",
            &self.created_by,
            MAX_SHORT_CHARS,
        );
        check_text(
            &mut problems,
            "clerk_name",
            &self.clerk_name,
            MAX_SHORT_CHARS,
        );
        check_text(&mut problems, "unit", &self.unit, MAX_SHORT_CHARS);
        check_text(
            &mut problems,
            "applicant_name",
            &self.applicant_name,
            MAX_SHORT_CHARS,
        );
        let from = check_date(&mut problems, "valid_from", &self.valid_from);
        let until = check_date(&mut problems, "valid_until", &self.valid_until);
        if let (Some(from), Some(until)) = (from, until) {
            if until < from {
                problems.push(Problem::new("valid_until", keys::ENDS_BEFORE_START));
            }
        }
        if self.started_at <= 0 {
            problems.push(Problem::new("started_at", keys::REQUIRED));
        }
        if self.items.is_empty() {
            problems.push(Problem::new("items", keys::REQUIRED));
        } else if self.items.len() > MAX_ITEMS {
            problems.push(Problem::new("items", keys::TOO_MANY));
        }
        let mut item_ids = HashMap::new();
        for (i, item) in self.items.iter().enumerate() {
            check_text(
                &mut problems,
                format!("items[{i}].what"),
                &item.what,
                MAX_SHORT_CHARS,
            );
            check_quantity(
                &mut problems,
                format!("items[{i}].quantity"),
                item.quantity,
                1,
            );
            if item.id.is_empty() || item_ids.insert(item.id.as_str(), item.quantity).is_some() {
                problems.push(Problem::new(format!("items[{i}].id"), keys::DUPLICATE_ID));
            }
        }
        for (i, approval) in self.approvals.iter().enumerate() {
            check_approval(&mut problems, &format!("approvals[{i}]"), approval);
        }
        for (i, check) in self.checks.iter().enumerate() {
            check_gate(&mut problems, &format!("checks[{i}]"), check, &item_ids);
        }
        // Every approval covers the slip as it stands (which never changes once approved):
        // an approval of other items, merged with a change made meanwhile, is refused.
        let hash = self.content_hash();
        for (i, approval) in self.approvals.iter().enumerate() {
            if approval.slip_hash != hash {
                problems.push(Problem::new(
                    format!("approvals[{i}].slip_hash"),
                    keys::APPROVAL_MISMATCH,
                ));
            }
        }
        for (i, remark) in self.remarks.iter().enumerate() {
            check_remark(&mut problems, &format!("remarks[{i}]"), remark);
        }
        let mut seen = HashSet::new();
        unique_ids(
            &mut problems,
            &mut seen,
            "approvals",
            self.approvals.iter().map(Entry::id),
        );
        unique_ids(
            &mut problems,
            &mut seen,
            "checks",
            self.checks.iter().map(Entry::id),
        );
        unique_ids(
            &mut problems,
            &mut seen,
            "signatures",
            self.signatures.iter().map(Entry::id),
        );
        unique_ids(
            &mut problems,
            &mut seen,
            "remarks",
            self.remarks.iter().map(Entry::id),
        );
        for (i, signature) in self.signatures.iter().enumerate() {
            let path = format!("signatures[{i}]");
            crate::record::rules::check_signature_fields(&mut problems, &path, signature);
            if signature.corrects.is_some() {
                problems.push(Problem::new(
                    format!("{path}.corrects"),
                    keys::BAD_CORRECTION,
                ));
            }
        }
        for (list, corrected) in [
            (
                "approvals",
                self.approvals.iter().any(|a| a.corrects.is_some()),
            ),
            ("checks", self.checks.iter().any(|c| c.corrects.is_some())),
        ] {
            if corrected {
                problems.push(Problem::new(list, keys::BAD_CORRECTION));
            }
        }
        corrections_point_into(&mut problems, "remarks", &self.remarks);
        problems
    }

    fn times(&self) -> Vec<(String, i64)> {
        let mut times = vec![("started_at".to_owned(), self.started_at)];
        for (i, a) in self.approvals.iter().enumerate() {
            times.push((format!("approvals[{i}].approved_at"), a.approved_at));
        }
        for (i, c) in self.checks.iter().enumerate() {
            times.push((format!("checks[{i}].checked_at"), c.checked_at));
        }
        for (i, s) in self.signatures.iter().enumerate() {
            times.push((format!("signatures[{i}].signed_at"), s.signed_at));
        }
        for (i, r) in self.remarks.iter().enumerate() {
            times.push((format!("remarks[{i}].written_at"), r.written_at));
        }
        times
    }

    /// Office staff approve and add remarks; guards check, only an approved slip, only on a
    /// day of its window; nothing of the slip changes once it is approved.
    fn judge_entries(
        before: Option<&Self>,
        after: &Self,
        writer: &Writer<'_>,
        doc: DocumentId,
        problems: &mut Vec<Problem>,
    ) {
        let office = writer.role == Role::Office;
        let guard = writer.role == Role::Guard;
        let creator = after.created_by.as_str();
        check_entries(
            problems,
            "approvals",
            before.map_or(&[][..], |b| &b.approvals),
            &after.approvals,
            writer,
            office,
            creator,
        );
        check_entries(
            problems,
            "checks",
            before.map_or(&[][..], |b| &b.checks),
            &after.checks,
            writer,
            guard,
            creator,
        );
        check_entries(
            problems,
            "signatures",
            before.map_or(&[][..], |b| &b.signatures),
            &after.signatures,
            writer,
            guard || office,
            creator,
        );
        crate::record::rules::judge_new_signatures(
            problems,
            "signatures",
            before.map_or(&[][..], |b| &b.signatures),
            &after.signatures,
            writer,
            doc,
            |purpose, subject| after.content_for(purpose, subject),
        );
        let old_signatures: HashSet<&str> = before
            .map(|b| b.signatures.iter().map(Entry::id).collect())
            .unwrap_or_default();
        for (i, signature) in after.signatures.iter().enumerate() {
            if old_signatures.contains(signature.id.as_str()) {
                continue;
            }
            // A guard signs their own check, as the guard; the owner (or the owner's agent,
            // never the tenant) signs an approval at the desk, on the office's device.
            let allowed = match signature.purpose {
                Purpose::GateCheck => {
                    guard
                        && signature.signer_role == SignerRole::Guard
                        && after
                            .checks
                            .iter()
                            .any(|c| c.id == signature.subject && c.author == signature.author)
                }
                Purpose::SlipApproval => {
                    office
                        && matches!(
                            signature.signer_role,
                            SignerRole::Owner | SignerRole::OwnersAgent
                        )
                        && after.approvals.iter().any(|a| {
                            a.id == signature.subject
                                && a.author == signature.author
                                && a.method == ApprovalMethod::InPerson
                        })
                }
                _ => false,
            };
            if !allowed {
                problems.push(Problem::new(format!("signatures[{i}]"), keys::ROLE_FORBIDS));
            }
        }
        // An approval at the desk carries the owner's signature, in the same change.
        let old_approvals: HashSet<&str> = before
            .map(|b| b.approvals.iter().map(Entry::id).collect())
            .unwrap_or_default();
        for (i, approval) in after.approvals.iter().enumerate() {
            if !old_approvals.contains(approval.id.as_str())
                && approval.method == ApprovalMethod::InPerson
                && after.approval_signature(&approval.id).is_none()
            {
                problems.push(Problem::new(
                    format!("approvals[{i}].signature"),
                    keys::UNSIGNED,
                ));
            }
        }
        check_entries(
            problems,
            "remarks",
            before.map_or(&[][..], |b| &b.remarks),
            &after.remarks,
            writer,
            office,
            creator,
        );
        if let Some(before) = before {
            if before.items != after.items && writer.user_id != after.created_by {
                problems.push(Problem::new("items", keys::NOT_CREATOR));
            }
            let same = before.items == after.items && before.fields() == after.fields();
            if before.is_approved() && !same {
                problems.push(Problem::new("items", keys::SLIP_APPROVED));
            }
        }
        let old: HashSet<&str> = before
            .map(|b| b.checks.iter().map(Entry::id).collect())
            .unwrap_or_default();
        for (i, check) in after.checks.iter().enumerate() {
            if old.contains(check.id.as_str()) {
                continue;
            }
            // The guard signs every new check, refusals too, in the same change.
            if after.check_signature(&check.id).is_none() {
                problems.push(Problem::new(
                    format!("checks[{i}].signature"),
                    keys::UNSIGNED,
                ));
            }
            if check.decision == Decision::Refused {
                continue;
            }
            if !after.is_approved() {
                problems.push(Problem::new(format!("checks[{i}]"), keys::NOT_APPROVED));
            }
            if let Some(day) = Date::parse(&check.check_date) {
                if !after.in_window(day) {
                    problems.push(Problem::new(
                        format!("checks[{i}].check_date"),
                        keys::OUT_OF_WINDOW,
                    ));
                }
            }
        }
    }

    fn detail(&self) -> SummaryDetail {
        let what = |item: &str| {
            self.items
                .iter()
                .find(|i| i.id == item)
                .map_or_else(|| item.to_owned(), |i| i.what.clone())
        };
        let register = self
            .checks
            .iter()
            .map(|c| RegisterLine {
                checked_at: c.checked_at,
                guard_name: c.guard_name.clone(),
                carrier_name: c.carrier_name.clone(),
                carrier_id: c.carrier_id.clone(),
                plate: c.plate.clone(),
                released: c
                    .released
                    .iter()
                    .filter(|l| l.quantity > 0)
                    .map(|l| format!("{} ×{}", what(&l.item), l.quantity))
                    .collect::<Vec<_>>()
                    .join("、"),
                held: c
                    .held
                    .iter()
                    .map(|h| format!("{} ×{}", h.what, h.quantity))
                    .collect::<Vec<_>>()
                    .join("、"),
                decision: c.decision,
                reason: c.reason.clone(),
            })
            .collect();
        SummaryDetail::ReleaseSlip {
            register,
            item_count: u32::try_from(self.items.len()).unwrap_or(u32::MAX),
            check_count: u32::try_from(self.checks.len()).unwrap_or(u32::MAX),
            valid_until: self.valid_until.clone(),
        }
    }

    fn status(&self) -> &'static str {
        ReleaseSlip::status(self).as_str()
    }

    fn done_at(&self) -> Option<i64> {
        ReleaseSlip::done_at(self)
    }

    fn into_any(self) -> AnyRecord {
        AnyRecord::ReleaseSlip(self)
    }

    fn from_any(record: &AnyRecord) -> Option<&Self> {
        match record {
            AnyRecord::ReleaseSlip(slip) => Some(slip),
            _ => None,
        }
    }
}
