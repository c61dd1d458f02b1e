//! The repair record (维修记录): a technician's repair in an owner's unit, from the fault as
//! reported to the fee outcome, with the owner's consent before the work and acceptance
//! after it, both signed on the technician's phone.
//!
//! The steps, each an entry appended by the technician who started the record:
//! 1. estimates (诊断与报价): cause, method, parts and labour; a change of fee or method is a
//!    new estimate (a revision), never an edit;
//! 2. the owner's consent, a signature over the current estimate;
//! 3. work lines: what was done, parts used, minutes spent, on the consented estimate;
//! 4. the owner's acceptance, a signature over the work and the final fee;
//! 5. the fee outcome (charged, waived, warranty), which closes the record.
//!
//! Temporary safety measures may be recorded at any point while the record is open. The
//! status is derived from the entries ([`RepairRecord::status`]), never stored, so every
//! replica that holds the same entries reaches the same verdict.

use autosurgeon::{Hydrate, Reconcile};
use ciborium::Value;
use serde::{Deserialize, Serialize};

use super::entry::{impl_entry, Entry};
use super::remark::{check_remark, Remark};
use super::rules::{check_entries, corrections_point_into, unique_ids};
use super::{AnyRecord, Field, Header, Kind, RecordKind, SummaryDetail, Writer};
use crate::problem::{check_optional_text, check_text, keys, Problem};
use crate::signature::{self, Purpose, Signature, SignedContent, SignerRole};
use crate::user::Role;
use crate::DocumentId;

/// Longest short text (unit, names, model, part names), in characters.
pub const MAX_SHORT_CHARS: usize = 200;
/// Longest free text (fault, cause, method, work done), in characters.
pub const MAX_TEXT_CHARS: usize = 2000;
/// Most parts on one estimate or work line.
pub const MAX_PARTS: usize = 50;
/// Largest amount in fen (¥1,000,000).
pub const MAX_FEN: i64 = 100_000_000;

/// What kind of thing is repaired, for the per-component history that settles disputes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Reconcile, Hydrate, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Component {
    DoorLock,
    WaterPipe,
    Drain,
    Circuit,
    Lighting,
    Appliance,
    Window,
    Other,
}

impl Component {
    pub const ALL: [Component; 8] = [
        Component::DoorLock,
        Component::WaterPipe,
        Component::Drain,
        Component::Circuit,
        Component::Lighting,
        Component::Appliance,
        Component::Window,
        Component::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Component::DoorLock => "door_lock",
            Component::WaterPipe => "water_pipe",
            Component::Drain => "drain",
            Component::Circuit => "circuit",
            Component::Lighting => "lighting",
            Component::Appliance => "appliance",
            Component::Window => "window",
            Component::Other => "other",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == text)
    }
}

/// A temporary measure against a hazard while the repair waits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Reconcile, Hydrate, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MeasureKind {
    /// Power cut to a circuit.
    PowerCut,
    /// Water shut off.
    WaterShutOff,
    /// A warning sign posted.
    WarningSign,
    /// Written notice to owners.
    WrittenNotice,
    Other,
}

impl MeasureKind {
    pub const ALL: [MeasureKind; 5] = [
        MeasureKind::PowerCut,
        MeasureKind::WaterShutOff,
        MeasureKind::WarningSign,
        MeasureKind::WrittenNotice,
        MeasureKind::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            MeasureKind::PowerCut => "power_cut",
            MeasureKind::WaterShutOff => "water_shut_off",
            MeasureKind::WarningSign => "warning_sign",
            MeasureKind::WrittenNotice => "written_notice",
            MeasureKind::Other => "other",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.as_str() == text)
    }
}

/// Who pays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Reconcile, Hydrate, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The owner pays the final fee.
    Charged,
    /// Nobody pays; a reason is required.
    Waived,
    /// Billed to the developer under warranty; a reason is required.
    Warranty,
}

impl Outcome {
    pub const ALL: [Outcome; 3] = [Outcome::Charged, Outcome::Waived, Outcome::Warranty];

    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Charged => "charged",
            Outcome::Waived => "waived",
            Outcome::Warranty => "warranty",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|o| o.as_str() == text)
    }
}

/// Where a repair stands, derived from its entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RepairStatus {
    /// The fault is recorded; no estimate yet.
    Reported,
    /// An estimate was explained; the current one has no consent (a revision needs a new one).
    Explained,
    /// The owner consented to the current estimate.
    Consented,
    /// Work is recorded on the consented estimate; not accepted yet.
    InProgress,
    /// The owner accepted the work.
    Accepted,
    /// The fee outcome is recorded and the record closed.
    Closed,
}

impl RepairStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RepairStatus::Reported => "reported",
            RepairStatus::Explained => "explained",
            RepairStatus::Consented => "consented",
            RepairStatus::InProgress => "in_progress",
            RepairStatus::Accepted => "accepted",
            RepairStatus::Closed => "closed",
        }
    }
}

/// One repair.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct RepairRecord {
    /// Always `Repair`.
    pub kind: RecordKind,
    pub estate_id: String,
    /// User ID of the technician who started it.
    pub created_by: String,
    /// The technician's name at the time.
    pub technician_name: String,
    /// The unit, as staff write it (3栋1单元1202).
    pub unit: String,
    /// Who reported the fault, and how to reach them.
    pub reported_by: String,
    pub contact: String,
    /// The fault as reported.
    pub fault: String,
    pub component: Component,
    /// The component's model where it has one (a lock cylinder's make and model).
    pub model: String,
    /// The work order (维修工单) this repair was started from, by document ID; absent for a
    /// repair the technician started on the spot.
    #[autosurgeon(missing = "Default::default")]
    pub request: Option<String>,
    /// Device time the record was started.
    pub started_at: i64,
    /// Set with the fee outcome; nothing of the record's own changes after it.
    pub closed_at: Option<i64>,
    pub estimates: Vec<Estimate>,
    pub measures: Vec<SafetyMeasure>,
    pub work: Vec<WorkLine>,
    pub signatures: Vec<Signature>,
    pub outcomes: Vec<FeeOutcome>,
    /// Remarks by the office.
    pub remarks: Vec<Remark>,
}

/// A part and its price.
#[derive(Debug, Clone, PartialEq, Eq, Reconcile, Hydrate)]
pub struct Part {
    pub name: String,
    pub quantity: u32,
    /// Price of one, in fen (分).
    pub unit_price_fen: i64,
}

impl Part {
    pub fn total_fen(&self) -> i64 {
        self.unit_price_fen.saturating_mul(i64::from(self.quantity))
    }
}

/// A diagnosis and quote: one revision. Never changed; a change is a new estimate.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct Estimate {
    #[key]
    pub id: String,
    pub author: String,
    #[autosurgeon(missing = "Default::default")]
    pub corrects: Option<String>,
    /// The cause of the fault (故障原因).
    pub cause: String,
    /// How it will be repaired (维修方法).
    pub method: String,
    pub parts: Vec<Part>,
    /// Labour, in fen.
    pub labour_fen: i64,
    pub written_at: i64,
}

impl Estimate {
    /// The fee the owner agrees to: parts plus labour, in fen.
    pub fn fee_fen(&self) -> i64 {
        self.parts
            .iter()
            .map(Part::total_fen)
            .fold(self.labour_fen, i64::saturating_add)
    }
}

/// A temporary safety measure.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct SafetyMeasure {
    #[key]
    pub id: String,
    pub author: String,
    #[autosurgeon(missing = "Default::default")]
    pub corrects: Option<String>,
    pub measure: MeasureKind,
    pub note: String,
    pub taken_at: i64,
}

/// Work done on an estimate.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct WorkLine {
    #[key]
    pub id: String,
    pub author: String,
    #[autosurgeon(missing = "Default::default")]
    pub corrects: Option<String>,
    /// The estimate the work was done on (it must carry the owner's consent).
    pub estimate: String,
    pub done: String,
    pub parts_used: Vec<Part>,
    pub minutes: u32,
    pub done_at: i64,
}

/// Who pays, which closes the record.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct FeeOutcome {
    #[key]
    pub id: String,
    pub author: String,
    #[autosurgeon(missing = "Default::default")]
    pub corrects: Option<String>,
    pub outcome: Outcome,
    /// Why it is not charged (required for waived and warranty).
    pub reason: String,
    pub decided_at: i64,
}

impl_entry!(authored: Estimate, SafetyMeasure, WorkLine, FeeOutcome);

/// What the office lists of a repair beyond the common columns.
pub fn detail_of(record: &RepairRecord) -> SummaryDetail {
    SummaryDetail::Repair {
        component: record.component,
        fee_fen: record.current_estimate().map(Estimate::fee_fen),
        consent_current: record.consent_for_current().is_some(),
        accepted: record.acceptance().is_some(),
        outcome: record.outcome().map(|o| o.outcome),
    }
}

impl RepairRecord {
    /// Starts a repair record. Fails with every problem in the input.
    #[allow(clippy::too_many_arguments)]
    pub fn start(
        estate_id: &str,
        created_by: &str,
        technician_name: &str,
        unit: &str,
        reported_by: &str,
        contact: &str,
        fault: &str,
        component: Component,
        model: &str,
        started_at: i64,
    ) -> Result<Self, Vec<Problem>> {
        let record = Self {
            kind: RecordKind::Repair,
            estate_id: estate_id.trim().to_owned(),
            created_by: created_by.trim().to_owned(),
            technician_name: technician_name.trim().to_owned(),
            unit: unit.trim().to_owned(),
            reported_by: reported_by.trim().to_owned(),
            contact: contact.trim().to_owned(),
            fault: fault.trim().to_owned(),
            component,
            model: model.trim().to_owned(),
            request: None,
            started_at,
            closed_at: None,
            estimates: Vec::new(),
            measures: Vec::new(),
            work: Vec::new(),
            signatures: Vec::new(),
            outcomes: Vec::new(),
            remarks: Vec::new(),
        };
        let problems = record.validate();
        if problems.is_empty() {
            Ok(record)
        } else {
            Err(problems)
        }
    }

    /// The estimate in force: the latest written (ties broken by ID), so that replicas that
    /// hold the same estimates agree on it whatever order they arrived in.
    pub fn current_estimate(&self) -> Option<&Estimate> {
        self.estimates
            .iter()
            .max_by(|a, b| a.written_at.cmp(&b.written_at).then(a.id.cmp(&b.id)))
    }

    /// What the owner agrees to before the work: the unit, the fault, cause, method, parts,
    /// labour and fee of `estimate`.
    pub fn consent_content(&self, estimate: &Estimate) -> SignedContent {
        SignedContent::new(
            Purpose::RepairConsent,
            vec![
                ("unit", text(&self.unit)),
                ("fault", text(&self.fault)),
                ("component", text(self.component.as_str())),
                ("model", text(&self.model)),
                ("estimate", text(&estimate.id)),
                ("cause", text(&estimate.cause)),
                ("method", text(&estimate.method)),
                ("parts", parts_value(&estimate.parts)),
                ("labour_fen", int(estimate.labour_fen)),
                ("fee_fen", int(estimate.fee_fen())),
            ],
        )
    }

    /// Work lines done on `estimate`, in written order (by time, then ID).
    fn work_on(&self, estimate: &str) -> Vec<&WorkLine> {
        let mut lines: Vec<_> = self
            .work
            .iter()
            .filter(|w| w.estimate == estimate)
            .collect();
        lines.sort_by(|a, b| a.done_at.cmp(&b.done_at).then(a.id.cmp(&b.id)));
        lines
    }

    /// What the owner accepts after the work: the unit, the estimate, every work line on it
    /// (what was done, parts used, minutes), the total time and the final fee.
    pub fn acceptance_content(&self, estimate: &Estimate) -> SignedContent {
        let lines = self.work_on(&estimate.id);
        let minutes: u64 = lines.iter().map(|w| u64::from(w.minutes)).sum();
        SignedContent::new(
            Purpose::RepairAcceptance,
            vec![
                ("unit", text(&self.unit)),
                ("estimate", text(&estimate.id)),
                (
                    "work",
                    Value::Array(
                        lines
                            .iter()
                            .map(|w| {
                                Value::Map(vec![
                                    (text("id"), text(&w.id)),
                                    (text("done"), text(&w.done)),
                                    (text("parts_used"), parts_value(&w.parts_used)),
                                    (text("minutes"), Value::Integer(w.minutes.into())),
                                ])
                            })
                            .collect(),
                    ),
                ),
                ("minutes", Value::Integer(minutes.into())),
                ("fee_fen", int(estimate.fee_fen())),
            ],
        )
    }

    /// The content a signature of `purpose` over `subject` must have signed, if the subject
    /// is an estimate of this record.
    pub fn content_for(&self, purpose: Purpose, subject: &str) -> Option<SignedContent> {
        let estimate = self.estimates.iter().find(|e| e.id == subject)?;
        match purpose {
            Purpose::RepairConsent => Some(self.consent_content(estimate)),
            Purpose::RepairAcceptance => Some(self.acceptance_content(estimate)),
            _ => None,
        }
    }

    /// The signature of `purpose` that covers estimate `subject` as it stands, if any.
    fn signed(&self, purpose: Purpose, subject: &str) -> Option<&Signature> {
        let hash = self.content_for(purpose, subject)?.hash();
        self.signatures.iter().find(|s| {
            s.purpose == purpose && s.subject == subject && s.content_hash.as_slice() == hash
        })
    }

    /// The signature of `purpose` that covers the current estimate as it stands, if any.
    fn signed_current(&self, purpose: Purpose) -> Option<&Signature> {
        self.signed(purpose, &self.current_estimate()?.id)
    }

    /// The owner's consent to estimate `subject` as it stands, if given.
    pub fn consent_for(&self, subject: &str) -> Option<&Signature> {
        self.signed(Purpose::RepairConsent, subject)
    }

    /// The owner's consent to the current estimate, if given.
    pub fn consent_for_current(&self) -> Option<&Signature> {
        self.signed_current(Purpose::RepairConsent)
    }

    /// The owner's acceptance of the work on the current estimate, if given.
    pub fn acceptance(&self) -> Option<&Signature> {
        self.consent_for_current()?;
        self.signed_current(Purpose::RepairAcceptance)
    }

    /// The fee outcome in force (a later one corrects an earlier one).
    pub fn outcome(&self) -> Option<&FeeOutcome> {
        let corrected = super::entry::corrected_ids(&self.outcomes);
        self.outcomes
            .iter()
            .filter(|o| !corrected.contains(o.id.as_str()))
            .max_by(|a, b| a.decided_at.cmp(&b.decided_at).then(a.id.cmp(&b.id)))
    }

    pub fn status(&self) -> RepairStatus {
        let Some(current) = self.current_estimate() else {
            return RepairStatus::Reported;
        };
        if self.consent_for_current().is_none() {
            return RepairStatus::Explained;
        }
        if self.acceptance().is_some() {
            if self.closed_at.is_some() && self.outcome().is_some() {
                return RepairStatus::Closed;
            }
            return RepairStatus::Accepted;
        }
        if self.work_on(&current.id).is_empty() {
            RepairStatus::Consented
        } else {
            RepairStatus::InProgress
        }
    }

    /// Whether the current estimate needs the owner's (new) signature before work goes on:
    /// there is an estimate, and no consent covers it as it stands.
    pub fn needs_consent(&self) -> bool {
        self.current_estimate().is_some() && self.consent_for_current().is_none()
    }
}

fn text(value: &str) -> Value {
    Value::Text(value.to_owned())
}

fn int(value: i64) -> Value {
    Value::Integer(value.into())
}

fn parts_value(parts: &[Part]) -> Value {
    Value::Array(
        parts
            .iter()
            .map(|p| {
                Value::Map(vec![
                    (text("name"), text(&p.name)),
                    (text("quantity"), Value::Integer(p.quantity.into())),
                    (text("unit_price_fen"), int(p.unit_price_fen)),
                ])
            })
            .collect(),
    )
}

mod entries;
mod kind;

#[cfg(test)]
mod tests;
