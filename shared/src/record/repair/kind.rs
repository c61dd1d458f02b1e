//! The repair record as a record kind: its fields, validation and times for the common
//! rules, and the order of its steps, with every new signature verified.

use std::collections::HashSet;

use super::entries::{check_estimate, check_measure, check_outcome, check_work};
use super::*;
use crate::record::rules::no_corrections;

impl Kind for RepairRecord {
    const KIND: RecordKind = RecordKind::Repair;

    fn remarks_mut(&mut self) -> &mut Vec<Remark> {
        &mut self.remarks
    }

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
            (
                "request",
                Field::Text(self.request.as_deref().unwrap_or_default()),
            ),
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
        if self
            .request
            .as_deref()
            .is_some_and(|r| r.parse::<DocumentId>().is_err())
        {
            problems.push(Problem::new("request", keys::UNKNOWN_VALUE));
        }
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
            crate::record::rules::check_signature_fields(&mut problems, &path, signature);
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

    fn links_to(&self) -> Option<DocumentId> {
        self.request.as_deref()?.parse().ok()
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
            _ => false,
        };
        if !in_order {
            problems.push(Problem::new(path.clone(), keys::STEP_OUT_OF_ORDER));
        }
        // The owner (or their tenant or agent) agrees; the technician does not sign for them.
        if matches!(
            signature.signer_role,
            SignerRole::Technician | SignerRole::Guard
        ) {
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
