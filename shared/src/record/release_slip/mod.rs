//! The release slip (放行条) and the release checks at the gate (物品放行): the office issues a
//! slip for goods leaving a unit, once the owner approved it; guards check what leaves
//! against it, item by item, at the gate, with no network.
//!
//! A slip's own fields (unit, applicant, items, date window) are the office's, and never
//! change once it is approved: a change is a new slip. Its number is derived from its
//! document ID ([`slip_number`]), so no two slips ever share one (一单一号). Approvals are
//! entries by office staff: this version records the owner's approval by phone, with the
//! number called and the identity questions checked. Release checks are entries by guards:
//! the quantity released of each item, extra items held, the carrier and vehicle, and the
//! decision. Over every check of a slip, no item is released beyond its quantity: a phone
//! that has not seen another gate's check is refused by the server when it would exceed.

use std::collections::{HashMap, HashSet};

use autosurgeon::{Hydrate, Reconcile};
use serde::{Deserialize, Serialize};

use super::entry::{impl_entry, Entry};
use super::registry::check_phone;
use super::remark::{check_remark, Remark};
use super::rules::{check_entries, corrections_point_into, unique_ids};
use super::{AnyRecord, Field, Header, Kind, RecordKind, SummaryDetail, Writer};
use crate::date::Date;
use crate::problem::{check_optional_text, check_text, keys, Problem};
use crate::user::Role;
use crate::DocumentId;

#[cfg(test)]
mod tests;

/// Longest name, unit, item or plate, in characters.
pub const MAX_SHORT_CHARS: usize = 100;
/// Longest reason or note, in characters.
pub const MAX_TEXT_CHARS: usize = 1000;
/// Most items on a slip, or held at one check.
pub const MAX_ITEMS: usize = 50;
/// Largest quantity of one item.
pub const MAX_QUANTITY: u32 = 10_000;
/// How long a slip stays on guards' phones after its window ends, in days.
pub const FOLLOW_DAYS_AFTER_WINDOW: i64 = 30;

/// The slip's number: the first ten hex digits of its document ID, in two groups
/// (`3F9AC-21B07`); unique as document IDs are.
pub fn slip_number(doc: DocumentId) -> String {
    let hex: String = doc.as_bytes()[..5]
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect();
    format!("{}-{}", &hex[..5], &hex[5..])
}

/// Who applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Reconcile, Hydrate, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Applicant {
    Owner,
    Tenant,
}

impl Applicant {
    pub fn as_str(self) -> &'static str {
        match self {
            Applicant::Owner => "owner",
            Applicant::Tenant => "tenant",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Applicant::Owner, Applicant::Tenant]
            .into_iter()
            .find(|a| a.as_str() == text)
    }
}

/// A question a caller answered to show they are the owner.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Reconcile, Hydrate, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdentityCheck {
    /// The caller gave the ID number the office holds (its last four).
    IdNumber,
    /// The caller named their employer.
    Employer,
    /// The caller named the household members.
    Household,
}

impl IdentityCheck {
    pub const ALL: [IdentityCheck; 3] = [
        IdentityCheck::IdNumber,
        IdentityCheck::Employer,
        IdentityCheck::Household,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            IdentityCheck::IdNumber => "id_number",
            IdentityCheck::Employer => "employer",
            IdentityCheck::Household => "household",
        }
    }
}

/// The guard's decision at one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Reconcile, Hydrate, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// Everything presented was on the slip and released.
    Released,
    /// Some released; the rest held (a reason is given).
    PartlyReleased,
    /// Nothing released (a reason is given).
    Refused,
}

impl Decision {
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Released => "released",
            Decision::PartlyReleased => "partly_released",
            Decision::Refused => "refused",
        }
    }
}

/// One line of the slip: an item and how many may leave.
#[derive(Debug, Clone, PartialEq, Eq, Reconcile, Hydrate)]
pub struct SlipItem {
    pub id: String,
    /// What it is (办公桌, 电脑).
    pub what: String,
    pub quantity: u32,
}

/// The owner's approval of the slip.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct Approval {
    #[key]
    pub id: String,
    pub author: String,
    #[autosurgeon(missing = "Default::default")]
    pub corrects: Option<String>,
    pub approved_at: i64,
    /// The owner as they gave their name.
    pub approver_name: String,
    /// The number the office called.
    pub phone_number: String,
    /// What the caller answered correctly; at least one.
    pub identity_checks: Vec<IdentityCheck>,
    pub note: String,
    /// The slip's `content_hash` as read to the owner.
    pub slip_hash: String,
}

/// How many of one slip item a check let out.
#[derive(Debug, Clone, PartialEq, Eq, Reconcile, Hydrate)]
pub struct Released {
    /// The slip item's `id`.
    pub item: String,
    pub quantity: u32,
}

/// Something presented at the gate that the slip does not cover: held.
#[derive(Debug, Clone, PartialEq, Eq, Reconcile, Hydrate)]
pub struct Held {
    pub what: String,
    pub quantity: u32,
}

/// One check at the gate, by a guard.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct GateCheck {
    #[key]
    pub id: String,
    pub author: String,
    #[autosurgeon(missing = "Default::default")]
    pub corrects: Option<String>,
    pub guard_name: String,
    pub checked_at: i64,
    /// The phone's local date at the check, `YYYY-MM-DD`: the slip's window is in days.
    pub check_date: String,
    pub carrier_name: String,
    /// The carrier's ID number (the register keeps it).
    pub carrier_id: String,
    pub plate: String,
    pub released: Vec<Released>,
    pub held: Vec<Held>,
    pub decision: Decision,
    pub reason: String,
}

impl_entry!(authored: Approval, GateCheck);

/// One check as the goods release register (物品放行登记表) lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisterLine {
    pub checked_at: i64,
    pub guard_name: String,
    pub carrier_name: String,
    pub carrier_id: String,
    pub plate: String,
    /// What left: `办公桌 ×3、电脑 ×2`.
    pub released: String,
    /// What was held: `椅子 ×1`.
    pub held: String,
    pub decision: Decision,
    pub reason: String,
}

/// Where a slip stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlipStatus {
    /// Written; the owner has not approved it: nothing may leave on it.
    AwaitingApproval,
    /// Approved; nothing released yet.
    Issued,
    /// Some released, some left.
    PartlyReleased,
    /// Every item released in full.
    UsedUp,
    /// More of an item left than the slip allows: two gates released offline at once. The
    /// checks are kept as they happened; the office looks into it.
    OverReleased,
}

impl SlipStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            SlipStatus::AwaitingApproval => "awaiting_approval",
            SlipStatus::Issued => "issued",
            SlipStatus::PartlyReleased => "partly_released",
            SlipStatus::UsedUp => "used_up",
            SlipStatus::OverReleased => "over_released",
        }
    }
}

/// A release slip.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct ReleaseSlip {
    /// Always `ReleaseSlip`.
    pub kind: RecordKind,
    pub estate_id: String,
    pub created_by: String,
    pub clerk_name: String,
    /// The unit the goods leave, as the registry labels it (`3-1-502`).
    pub unit: String,
    pub applicant_name: String,
    pub applicant: Applicant,
    /// The days goods may leave on it, `YYYY-MM-DD`, both included.
    pub valid_from: String,
    pub valid_until: String,
    pub items: Vec<SlipItem>,
    pub started_at: i64,
    pub approvals: Vec<Approval>,
    pub checks: Vec<GateCheck>,
    pub remarks: Vec<Remark>,
}

impl ReleaseSlip {
    /// A slip as the office writes it; every problem in the input.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        estate_id: &str,
        created_by: &str,
        clerk_name: &str,
        unit: &str,
        applicant_name: &str,
        applicant: Applicant,
        valid_from: &str,
        valid_until: &str,
        items: Vec<SlipItem>,
        started_at: i64,
    ) -> Result<Self, Vec<Problem>> {
        let date = |text: &str| {
            Date::parse(text).map_or_else(|| text.trim().to_owned(), |d| d.to_string())
        };
        let slip = Self {
            kind: RecordKind::ReleaseSlip,
            estate_id: estate_id.to_owned(),
            created_by: created_by.to_owned(),
            clerk_name: clerk_name.to_owned(),
            unit: unit.trim().to_owned(),
            applicant_name: applicant_name.trim().to_owned(),
            applicant,
            valid_from: date(valid_from),
            valid_until: date(valid_until),
            items,
            started_at,
            approvals: Vec::new(),
            checks: Vec::new(),
            remarks: Vec::new(),
        };
        let problems = slip.validate();
        if problems.is_empty() {
            Ok(slip)
        } else {
            Err(problems)
        }
    }

    /// A slip stays on guards' phones until [`FOLLOW_DAYS_AFTER_WINDOW`] days after the last
    /// day of its window (the start of that day, UTC).
    pub fn follow_until(&self) -> Option<i64> {
        let until = Date::parse(&self.valid_until)?;
        Some((until.days_since_epoch() + 1 + FOLLOW_DAYS_AFTER_WINDOW) * 86_400_000)
    }

    pub fn is_approved(&self) -> bool {
        !self.approvals.is_empty()
    }

    /// How many of each item have left, over every check.
    pub fn released(&self) -> HashMap<&str, u32> {
        let mut released = HashMap::new();
        for line in self.checks.iter().flat_map(|c| &c.released) {
            *released.entry(line.item.as_str()).or_insert(0u32) = released
                .get(line.item.as_str())
                .copied()
                .unwrap_or(0)
                .saturating_add(line.quantity);
        }
        released
    }

    /// How many of `item` may still leave.
    pub fn remaining(&self, item: &SlipItem) -> u32 {
        item.quantity
            .saturating_sub(self.released().get(item.id.as_str()).copied().unwrap_or(0))
    }

    pub fn status(&self) -> SlipStatus {
        if !self.is_approved() {
            return SlipStatus::AwaitingApproval;
        }
        let released = self.released();
        let left = |i: &SlipItem| released.get(i.id.as_str()).copied().unwrap_or(0);
        if self.items.iter().any(|i| left(i) > i.quantity) {
            SlipStatus::OverReleased
        } else if self.items.iter().all(|i| left(i) >= i.quantity) {
            SlipStatus::UsedUp
        } else if released.values().any(|q| *q > 0) {
            SlipStatus::PartlyReleased
        } else {
            SlipStatus::Issued
        }
    }

    /// Whether goods may leave on `day` (the phone's local date).
    pub fn in_window(&self, day: Date) -> bool {
        match (
            Date::parse(&self.valid_from),
            Date::parse(&self.valid_until),
        ) {
            (Some(from), Some(until)) => from <= day && day <= until,
            _ => false,
        }
    }

    /// What a phone may check against this slip on `day`: why not, if it may not.
    pub fn refuses_release(&self, day: Date) -> Option<crate::problem::ProblemKey> {
        if !self.is_approved() {
            Some(keys::NOT_APPROVED)
        } else if !self.in_window(day) {
            Some(keys::OUT_OF_WINDOW)
        } else if matches!(self.status(), SlipStatus::UsedUp | SlipStatus::OverReleased) {
            Some(keys::USED_UP)
        } else {
            None
        }
    }

    /// The rule a phone applies before it records a release: no item beyond what remains
    /// after every check it holds. (Two phones offline at once cannot see each other's
    /// checks: the server keeps both, and the slip shows it was over-released.)
    pub fn release_problems(&self, released: &[Released]) -> Vec<Problem> {
        let mut problems = Vec::new();
        for (i, line) in released.iter().enumerate() {
            let left = self
                .items
                .iter()
                .find(|item| item.id == line.item)
                .map_or(0, |item| self.remaining(item));
            if line.quantity > left {
                problems.push(Problem::new(
                    format!("released[{i}].quantity"),
                    keys::OVER_RELEASED,
                ));
            }
        }
        problems
    }

    /// The SHA-256 of what the owner approves (unit, applicant, window, items), hex: an
    /// approval names it, so it covers exactly the slip as it was read to the owner.
    pub fn content_hash(&self) -> String {
        use sha2::Digest;
        let items: Vec<(&str, &str, u32)> = self
            .items
            .iter()
            .map(|i| (i.id.as_str(), i.what.as_str(), i.quantity))
            .collect();
        let content = (
            "gatehouse-release-slip-v1",
            &self.unit,
            &self.applicant_name,
            self.applicant.as_str(),
            &self.valid_from,
            &self.valid_until,
            items,
        );
        let mut bytes = Vec::new();
        // Writing CBOR to a Vec cannot fail for these types.
        if let Err(error) = ciborium::into_writer(&content, &mut bytes) {
            unreachable!("encoding to memory failed: {error}");
        }
        sha2::Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

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
    if approval.phone_number.is_empty() {
        problems.push(Problem::new(format!("{path}.phone_number"), keys::REQUIRED));
    }
    check_phone(
        problems,
        format!("{path}.phone_number"),
        &approval.phone_number,
    );
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
            "remarks",
            self.remarks.iter().map(Entry::id),
        );
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
        _doc: DocumentId,
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
            if old.contains(check.id.as_str()) || check.decision == Decision::Refused {
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
