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

use std::collections::HashMap;

use autosurgeon::{Hydrate, Reconcile};
use serde::{Deserialize, Serialize};

use super::entry::{impl_entry, Entry};
use super::remark::Remark;
use super::{AnyRecord, Field, Header, Kind, RecordKind, SummaryDetail, Writer};
use crate::date::Date;
use crate::problem::{check_optional_text, check_text, keys, Problem};
use crate::signature::{Purpose, Signature, SignedContent};
use crate::user::Role;
use crate::DocumentId;
use ciborium::Value;

mod kind;
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
    /// By phone (the office called the registered number), or in person at the desk, where
    /// the owner signs (absent in approvals written before: by phone).
    #[autosurgeon(missing = "Default::default")]
    pub method: ApprovalMethod,
}

/// How the owner gave an approval.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Reconcile, Hydrate, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum ApprovalMethod {
    /// The office called the owner on the registered number and checked who answered.
    #[default]
    Phone,
    /// The owner came to the desk with their ID and signed on the office's device.
    InPerson,
}

impl ApprovalMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            ApprovalMethod::Phone => "phone",
            ApprovalMethod::InPerson => "in_person",
        }
    }
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
    /// The guards' signatures over their checks (absent in slips written before them).
    #[autosurgeon(missing = "Default::default")]
    pub signatures: Vec<Signature>,
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
            signatures: Vec::new(),
            remarks: Vec::new(),
        };
        let problems = slip.validate();
        if problems.is_empty() {
            Ok(slip)
        } else {
            Err(problems)
        }
    }

    /// A slip is done with when its window has ended: the start (UTC) of the day after its
    /// last day. Guards' phones keep it the estate's retention period after that.
    pub fn done_at(&self) -> Option<i64> {
        let until = Date::parse(&self.valid_until)?;
        Some((until.days_since_epoch() + 1) * 86_400_000)
    }

    /// What the guard signs for a check: the slip's unit, the check's date, the carrier and
    /// vehicle, every item released (by the slip's line and what it says) and held, the
    /// decision and its reason. The document ID is in the signature itself.
    pub fn check_content(&self, check: &GateCheck) -> SignedContent {
        let text = |s: &str| Value::Text(s.to_owned());
        let what = |item: &str| {
            self.items
                .iter()
                .find(|i| i.id == item)
                .map_or("", |i| i.what.as_str())
        };
        SignedContent::new(
            Purpose::GateCheck,
            vec![
                ("unit", text(&self.unit)),
                ("check", text(&check.id)),
                ("check_date", text(&check.check_date)),
                ("carrier_name", text(&check.carrier_name)),
                ("carrier_id", text(&check.carrier_id)),
                ("plate", text(&check.plate)),
                (
                    "released",
                    Value::Array(
                        check
                            .released
                            .iter()
                            .map(|r| {
                                Value::Array(vec![
                                    text(&r.item),
                                    text(what(&r.item)),
                                    Value::Integer(r.quantity.into()),
                                ])
                            })
                            .collect(),
                    ),
                ),
                (
                    "held",
                    Value::Array(
                        check
                            .held
                            .iter()
                            .map(|h| {
                                Value::Array(vec![text(&h.what), Value::Integer(h.quantity.into())])
                            })
                            .collect(),
                    ),
                ),
                ("decision", text(check.decision.as_str())),
                ("reason", text(&check.reason)),
            ],
        )
    }

    /// What the owner signs at the desk: the slip as it stands (its content hash, and the
    /// unit, applicant, window and items it covers), who approves and how they proved it.
    pub fn approval_content(&self, approval: &Approval) -> SignedContent {
        let text = |s: &str| Value::Text(s.to_owned());
        SignedContent::new(
            Purpose::SlipApproval,
            vec![
                ("slip_hash", text(&self.content_hash())),
                ("unit", text(&self.unit)),
                ("applicant_name", text(&self.applicant_name)),
                ("applicant", text(self.applicant.as_str())),
                ("valid_from", text(&self.valid_from)),
                ("valid_until", text(&self.valid_until)),
                (
                    "items",
                    Value::Array(
                        self.items
                            .iter()
                            .map(|i| {
                                Value::Array(vec![
                                    text(&i.id),
                                    text(&i.what),
                                    Value::Integer(i.quantity.into()),
                                ])
                            })
                            .collect(),
                    ),
                ),
                ("approval", text(&approval.id)),
                ("approver_name", text(&approval.approver_name)),
                (
                    "identity_checks",
                    Value::Array(
                        approval
                            .identity_checks
                            .iter()
                            .map(|c| text(c.as_str()))
                            .collect(),
                    ),
                ),
            ],
        )
    }

    /// The content a signature of `purpose` over entry `subject` signed, if the slip holds
    /// that entry.
    pub fn content_for(&self, purpose: Purpose, subject: &str) -> Option<SignedContent> {
        match purpose {
            Purpose::GateCheck => self
                .checks
                .iter()
                .find(|c| c.id == subject)
                .map(|c| self.check_content(c)),
            Purpose::SlipApproval => self
                .approvals
                .iter()
                .find(|a| a.id == subject && a.method == ApprovalMethod::InPerson)
                .map(|a| self.approval_content(a)),
            _ => None,
        }
    }

    /// The owner's signature over in-person approval `id` as it stands, if given.
    pub fn approval_signature(&self, id: &str) -> Option<&Signature> {
        let approval = self.approvals.iter().find(|a| a.id == id)?;
        let hash = self.content_for(Purpose::SlipApproval, id)?.hash();
        self.signatures.iter().find(|s| {
            s.purpose == Purpose::SlipApproval
                && s.subject == approval.id
                && s.author == approval.author
                && s.content_hash.as_slice() == hash
        })
    }

    /// The guard's signature over check `id` as it stands, if given.
    pub fn check_signature(&self, id: &str) -> Option<&Signature> {
        let check = self.checks.iter().find(|c| c.id == id)?;
        let hash = self.check_content(check).hash();
        self.signatures.iter().find(|s| {
            s.purpose == Purpose::GateCheck
                && s.subject == id
                && s.author == check.author
                && s.content_hash.as_slice() == hash
        })
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
