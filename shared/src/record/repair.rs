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

use std::collections::HashSet;

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
        Some(match purpose {
            Purpose::RepairConsent => self.consent_content(estimate),
            Purpose::RepairAcceptance => self.acceptance_content(estimate),
        })
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

fn check_fen(problems: &mut Vec<Problem>, path: String, fen: i64) {
    if !(0..=MAX_FEN).contains(&fen) {
        problems.push(Problem::new(path, keys::OUT_OF_RANGE));
    }
}

fn check_parts(problems: &mut Vec<Problem>, path: &str, parts: &[Part]) {
    if parts.len() > MAX_PARTS {
        problems.push(Problem::new(path, keys::TOO_MANY));
    }
    for (i, part) in parts.iter().enumerate() {
        check_text(
            problems,
            format!("{path}[{i}].name"),
            &part.name,
            MAX_SHORT_CHARS,
        );
        if part.quantity == 0 {
            problems.push(Problem::new(
                format!("{path}[{i}].quantity"),
                keys::OUT_OF_RANGE,
            ));
        }
        check_fen(
            problems,
            format!("{path}[{i}].unit_price_fen"),
            part.unit_price_fen,
        );
    }
}

impl Estimate {
    /// A new estimate (a revision). Fails with every problem in the input.
    pub fn new(
        id: super::EntryId,
        author: &str,
        cause: &str,
        method: &str,
        parts: Vec<Part>,
        labour_fen: i64,
        written_at: i64,
    ) -> Result<Self, Vec<Problem>> {
        let estimate = Self {
            id: id.to_string(),
            author: author.to_owned(),
            corrects: None,
            cause: cause.trim().to_owned(),
            method: method.trim().to_owned(),
            parts: parts
                .into_iter()
                .map(|p| Part {
                    name: p.name.trim().to_owned(),
                    ..p
                })
                .collect(),
            labour_fen,
            written_at,
        };
        let mut problems = Vec::new();
        check_estimate(&mut problems, "estimate", &estimate);
        if problems.is_empty() {
            Ok(estimate)
        } else {
            Err(problems)
        }
    }
}

fn check_estimate(problems: &mut Vec<Problem>, path: &str, estimate: &Estimate) {
    check_text(
        problems,
        format!("{path}.cause"),
        &estimate.cause,
        MAX_TEXT_CHARS,
    );
    check_text(
        problems,
        format!("{path}.method"),
        &estimate.method,
        MAX_TEXT_CHARS,
    );
    check_parts(problems, &format!("{path}.parts"), &estimate.parts);
    check_fen(problems, format!("{path}.labour_fen"), estimate.labour_fen);
    if estimate.fee_fen() > MAX_FEN {
        problems.push(Problem::new(format!("{path}.fee_fen"), keys::OUT_OF_RANGE));
    }
}

impl SafetyMeasure {
    pub fn new(
        id: super::EntryId,
        author: &str,
        measure: MeasureKind,
        note: &str,
        taken_at: i64,
    ) -> Result<Self, Vec<Problem>> {
        let entry = Self {
            id: id.to_string(),
            author: author.to_owned(),
            corrects: None,
            measure,
            note: note.trim().to_owned(),
            taken_at,
        };
        let mut problems = Vec::new();
        check_measure(&mut problems, "measure", &entry);
        if problems.is_empty() {
            Ok(entry)
        } else {
            Err(problems)
        }
    }
}

fn check_measure(problems: &mut Vec<Problem>, path: &str, measure: &SafetyMeasure) {
    // An "other" measure says what it was.
    if measure.measure == MeasureKind::Other {
        check_text(
            problems,
            format!("{path}.note"),
            &measure.note,
            MAX_TEXT_CHARS,
        );
    } else {
        check_optional_text(
            problems,
            format!("{path}.note"),
            &measure.note,
            MAX_TEXT_CHARS,
        );
    }
}

impl WorkLine {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        id: super::EntryId,
        author: &str,
        estimate: &str,
        done: &str,
        parts_used: Vec<Part>,
        minutes: u32,
        done_at: i64,
    ) -> Result<Self, Vec<Problem>> {
        let line = Self {
            id: id.to_string(),
            author: author.to_owned(),
            corrects: None,
            estimate: estimate.to_owned(),
            done: done.trim().to_owned(),
            parts_used,
            minutes,
            done_at,
        };
        let mut problems = Vec::new();
        check_work(&mut problems, "work", &line);
        if problems.is_empty() {
            Ok(line)
        } else {
            Err(problems)
        }
    }
}

fn check_work(problems: &mut Vec<Problem>, path: &str, line: &WorkLine) {
    check_text(problems, format!("{path}.done"), &line.done, MAX_TEXT_CHARS);
    check_parts(problems, &format!("{path}.parts_used"), &line.parts_used);
    // More than a day on one line is a typing mistake.
    if line.minutes == 0 || line.minutes > 24 * 60 {
        problems.push(Problem::new(format!("{path}.minutes"), keys::OUT_OF_RANGE));
    }
}

impl FeeOutcome {
    pub fn new(
        id: super::EntryId,
        author: &str,
        outcome: Outcome,
        reason: &str,
        decided_at: i64,
    ) -> Result<Self, Vec<Problem>> {
        let entry = Self {
            id: id.to_string(),
            author: author.to_owned(),
            corrects: None,
            outcome,
            reason: reason.trim().to_owned(),
            decided_at,
        };
        let mut problems = Vec::new();
        check_outcome(&mut problems, "outcome", &entry);
        if problems.is_empty() {
            Ok(entry)
        } else {
            Err(problems)
        }
    }
}

fn check_outcome(problems: &mut Vec<Problem>, path: &str, outcome: &FeeOutcome) {
    if outcome.outcome == Outcome::Charged {
        check_optional_text(
            problems,
            format!("{path}.reason"),
            &outcome.reason,
            MAX_TEXT_CHARS,
        );
    } else {
        check_text(
            problems,
            format!("{path}.reason"),
            &outcome.reason,
            MAX_TEXT_CHARS,
        );
    }
}

fn no_corrections<E: Entry>(problems: &mut Vec<Problem>, list: &str, entries: &[E]) {
    for (i, entry) in entries.iter().enumerate() {
        if entry.corrects().is_some() {
            problems.push(Problem::new(
                format!("{list}[{i}].corrects"),
                keys::BAD_CORRECTION,
            ));
        }
    }
}

fn check_signature(problems: &mut Vec<Problem>, path: &str, signature: &Signature) {
    check_text(
        problems,
        format!("{path}.signer_name"),
        &signature.signer_name,
        signature::MAX_SIGNER_NAME_CHARS,
    );
    check_text(
        problems,
        format!("{path}.device_id"),
        &signature.device_id,
        64,
    );
    check_text(
        problems,
        format!("{path}.subject"),
        &signature.subject,
        MAX_SHORT_CHARS,
    );
}

impl Kind for RepairRecord {
    const KIND: RecordKind = RecordKind::Repair;

    fn header(&self) -> Header<'_> {
        Header {
            kind: self.kind,
            estate_id: &self.estate_id,
            created_by: &self.created_by,
            author_name: &self.technician_name,
            unit: &self.unit,
            title: &self.fault,
            started_at: self.started_at,
            closed_at: self.closed_at,
        }
    }

    fn fields(&self) -> Vec<(&'static str, Field<'_>)> {
        vec![
            ("technician_name", Field::Text(&self.technician_name)),
            ("unit", Field::Text(&self.unit)),
            ("reported_by", Field::Text(&self.reported_by)),
            ("contact", Field::Text(&self.contact)),
            ("fault", Field::Text(&self.fault)),
            ("component", Field::Text(self.component.as_str())),
            ("model", Field::Text(&self.model)),
            ("started_at", Field::Time(Some(self.started_at))),
            ("closed_at", Field::Time(self.closed_at)),
        ]
    }

    fn validate(&self) -> Vec<Problem> {
        let mut problems = Vec::new();
        if self.kind != RecordKind::Repair {
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
            "technician_name",
            &self.technician_name,
            MAX_SHORT_CHARS,
        );
        check_text(&mut problems, "unit", &self.unit, MAX_SHORT_CHARS);
        check_optional_text(
            &mut problems,
            "reported_by",
            &self.reported_by,
            MAX_SHORT_CHARS,
        );
        check_optional_text(&mut problems, "contact", &self.contact, MAX_SHORT_CHARS);
        check_text(&mut problems, "fault", &self.fault, MAX_TEXT_CHARS);
        check_optional_text(&mut problems, "model", &self.model, MAX_SHORT_CHARS);
        if self.started_at <= 0 {
            problems.push(Problem::new("started_at", keys::REQUIRED));
        }
        if let Some(closed_at) = self.closed_at {
            if closed_at < self.started_at {
                problems.push(Problem::new("closed_at", keys::ENDS_BEFORE_START));
            }
            // Closed means the owner accepted the work on the estimate in force and the fee
            // outcome is recorded; nothing added later can leave a closed record unaccepted.
            if self.outcome().is_none() || self.acceptance().is_none() {
                problems.push(Problem::new("closed_at", keys::STEP_OUT_OF_ORDER));
            }
        }
        for (i, estimate) in self.estimates.iter().enumerate() {
            check_estimate(&mut problems, &format!("estimates[{i}]"), estimate);
        }
        for (i, measure) in self.measures.iter().enumerate() {
            check_measure(&mut problems, &format!("measures[{i}]"), measure);
        }
        let estimates: HashSet<&str> = self.estimates.iter().map(Entry::id).collect();
        for (i, line) in self.work.iter().enumerate() {
            let path = format!("work[{i}]");
            check_work(&mut problems, &path, line);
            if !estimates.contains(line.estimate.as_str()) {
                problems.push(Problem::new(
                    format!("{path}.estimate"),
                    keys::UNKNOWN_ENTRY,
                ));
            }
        }
        for (i, signature) in self.signatures.iter().enumerate() {
            let path = format!("signatures[{i}]");
            check_signature(&mut problems, &path, signature);
            if !estimates.contains(signature.subject.as_str()) {
                problems.push(Problem::new(format!("{path}.subject"), keys::UNKNOWN_ENTRY));
            }
        }
        for (i, outcome) in self.outcomes.iter().enumerate() {
            check_outcome(&mut problems, &format!("outcomes[{i}]"), outcome);
        }
        for (i, remark) in self.remarks.iter().enumerate() {
            check_remark(&mut problems, &format!("remarks[{i}]"), remark);
        }
        let mut seen = HashSet::new();
        unique_ids(
            &mut problems,
            &mut seen,
            "estimates",
            self.estimates.iter().map(Entry::id),
        );
        unique_ids(
            &mut problems,
            &mut seen,
            "measures",
            self.measures.iter().map(Entry::id),
        );
        unique_ids(
            &mut problems,
            &mut seen,
            "work",
            self.work.iter().map(Entry::id),
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
            "outcomes",
            self.outcomes.iter().map(Entry::id),
        );
        unique_ids(
            &mut problems,
            &mut seen,
            "remarks",
            self.remarks.iter().map(Entry::id),
        );
        // An estimate is revised by a new one, and work and signatures are what the owner
        // signed: none of them is corrected by an entry naming it.
        no_corrections(&mut problems, "estimates", &self.estimates);
        no_corrections(&mut problems, "work", &self.work);
        no_corrections(&mut problems, "signatures", &self.signatures);
        corrections_point_into(&mut problems, "measures", &self.measures);
        corrections_point_into(&mut problems, "outcomes", &self.outcomes);
        corrections_point_into(&mut problems, "remarks", &self.remarks);
        problems
    }

    fn times(&self) -> Vec<(String, i64)> {
        let mut times = vec![("started_at".to_owned(), self.started_at)];
        if let Some(closed_at) = self.closed_at {
            times.push(("closed_at".to_owned(), closed_at));
        }
        let mut list = |name: &str, field: &str, at: Vec<i64>| {
            for (i, time) in at.into_iter().enumerate() {
                times.push((format!("{name}[{i}].{field}"), time));
            }
        };
        list(
            "estimates",
            "written_at",
            self.estimates.iter().map(|e| e.written_at).collect(),
        );
        list(
            "measures",
            "taken_at",
            self.measures.iter().map(|m| m.taken_at).collect(),
        );
        list(
            "work",
            "done_at",
            self.work.iter().map(|w| w.done_at).collect(),
        );
        list(
            "signatures",
            "signed_at",
            self.signatures.iter().map(|s| s.signed_at).collect(),
        );
        list(
            "outcomes",
            "decided_at",
            self.outcomes.iter().map(|o| o.decided_at).collect(),
        );
        list(
            "remarks",
            "written_at",
            self.remarks.iter().map(|r| r.written_at).collect(),
        );
        times
    }

    /// The technician who started the record writes every step while it is open, in order;
    /// office staff add remarks. Every new signature must verify with the writing device's
    /// enrolled key over this document and the content it names.
    fn judge_entries(
        before: Option<&Self>,
        after: &Self,
        writer: &Writer<'_>,
        doc: DocumentId,
        problems: &mut Vec<Problem>,
    ) {
        let open = before.is_none_or(|b| b.closed_at.is_none());
        let technician = open && writer.user_id == after.created_by;
        let office = writer.role == Role::Office;
        let creator = after.created_by.as_str();
        check_entries(
            problems,
            "estimates",
            before.map_or(&[][..], |b| &b.estimates),
            &after.estimates,
            writer,
            technician,
            creator,
        );
        check_entries(
            problems,
            "measures",
            before.map_or(&[][..], |b| &b.measures),
            &after.measures,
            writer,
            technician,
            creator,
        );
        check_entries(
            problems,
            "work",
            before.map_or(&[][..], |b| &b.work),
            &after.work,
            writer,
            technician,
            creator,
        );
        check_entries(
            problems,
            "signatures",
            before.map_or(&[][..], |b| &b.signatures),
            &after.signatures,
            writer,
            technician,
            creator,
        );
        check_entries(
            problems,
            "outcomes",
            before.map_or(&[][..], |b| &b.outcomes),
            &after.outcomes,
            writer,
            technician,
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
        steps_in_order(before, after, writer, doc, problems);
    }

    fn detail(&self) -> SummaryDetail {
        detail_of(self)
    }

    fn status(&self) -> &'static str {
        RepairRecord::status(self).as_str()
    }

    fn into_any(self) -> AnyRecord {
        AnyRecord::Repair(self)
    }

    fn from_any(record: &AnyRecord) -> Option<&Self> {
        match record {
            AnyRecord::Repair(repair) => Some(repair),
            _ => None,
        }
    }
}

/// The order of the steps, checked on the entries this change adds, in a way that does not
/// depend on how many steps one upload carries (a phone offline for a whole repair sends
/// them all at once): work only on an estimate the owner consented to as it stands; an
/// acceptance only over a consented estimate with work on it; no revision after an
/// acceptance; the outcome only once the work on the estimate in force is accepted. Every
/// new signature verifies with the writer's device key.
fn steps_in_order(
    before: Option<&RepairRecord>,
    after: &RepairRecord,
    writer: &Writer<'_>,
    doc: DocumentId,
    problems: &mut Vec<Problem>,
) {
    fn ids<E: Entry>(list: Option<&[E]>) -> HashSet<&str> {
        list.unwrap_or_default().iter().map(Entry::id).collect()
    }
    let old_estimates = ids(before.map(|b| &b.estimates[..]));
    let old_work = ids(before.map(|b| &b.work[..]));
    let old_signatures = ids(before.map(|b| &b.signatures[..]));
    let old_outcomes = ids(before.map(|b| &b.outcomes[..]));
    let is_acceptance = |s: &&Signature| s.purpose == Purpose::RepairAcceptance;
    // Once the server holds an acceptance, no estimate is revised; within one upload, a
    // revision dated at or after an acceptance is refused too. (A revision backdated before
    // it still cannot close the record: closing needs an acceptance of the estimate in force.)
    let accepted_before = before.is_some_and(|b| b.signatures.iter().any(|s| is_acceptance(&s)));
    let accepted_at = after
        .signatures
        .iter()
        .filter(is_acceptance)
        .map(|s| s.signed_at)
        .min();
    for (i, estimate) in after.estimates.iter().enumerate() {
        let new = !old_estimates.contains(estimate.id.as_str());
        if new && (accepted_before || accepted_at.is_some_and(|at| at <= estimate.written_at)) {
            problems.push(Problem::new(
                format!("estimates[{i}]"),
                keys::STEP_OUT_OF_ORDER,
            ));
        }
    }
    for (i, line) in after.work.iter().enumerate() {
        if !old_work.contains(line.id.as_str()) && after.consent_for(&line.estimate).is_none() {
            problems.push(Problem::new(
                format!("work[{i}].estimate"),
                keys::NO_CONSENT,
            ));
        }
    }
    for (i, signature) in after.signatures.iter().enumerate() {
        if old_signatures.contains(signature.id.as_str()) {
            continue;
        }
        let path = format!("signatures[{i}]");
        let in_order = match signature.purpose {
            Purpose::RepairConsent => true,
            Purpose::RepairAcceptance => {
                after.consent_for(&signature.subject).is_some()
                    && !after.work_on(&signature.subject).is_empty()
            }
        };
        if !in_order {
            problems.push(Problem::new(path.clone(), keys::STEP_OUT_OF_ORDER));
        }
        // The owner (or their tenant or agent) agrees; the technician does not sign for them.
        if signature.signer_role == SignerRole::Technician {
            problems.push(Problem::new(
                format!("{path}.signer_role"),
                keys::ROLE_FORBIDS,
            ));
        }
        if signature.device_id != writer.device_id {
            problems.push(Problem::new(
                format!("{path}.device_id"),
                keys::BAD_SIGNATURE,
            ));
            continue;
        }
        let Some(content) = after.content_for(signature.purpose, &signature.subject) else {
            problems.push(Problem::new(format!("{path}.subject"), keys::UNKNOWN_ENTRY));
            continue;
        };
        for problem in signature::verify(
            signature,
            doc,
            &content,
            writer.device_key,
            writer.verify_key,
        ) {
            problems.push(Problem::new(path.clone(), problem.key()));
        }
    }
    for (i, outcome) in after.outcomes.iter().enumerate() {
        if !old_outcomes.contains(outcome.id.as_str()) && after.acceptance().is_none() {
            problems.push(Problem::new(
                format!("outcomes[{i}]"),
                keys::STEP_OUT_OF_ORDER,
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
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
    ) -> Vec<(String, String)> {
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

    fn pair(path: &str, key: &str) -> (String, String) {
        (path.to_owned(), key.to_owned())
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
            FeeOutcome::new(entry_id(5), TECH.user_id, Outcome::Charged, "", T0 + 5)
                .expect("valid"),
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
            FeeOutcome::new(entry_id(7), TECH.user_id, Outcome::Charged, "", T0 + 7)
                .expect("valid"),
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
            FeeOutcome::new(entry_id(5), TECH.user_id, Outcome::Charged, "", T0 + 5)
                .expect("valid"),
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
}
