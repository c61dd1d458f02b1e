//! The repair request as a record kind: its fields, validation and times for the common
//! rules, and who may assign, take and cancel it.

use super::*;

impl Kind for RepairRequest {
    const KIND: RecordKind = RecordKind::RepairRequest;

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
            title: &self.fault,
            started_at: self.created_at,
            closed_at: self.closed_at(),
        }
    }

    fn fields(&self) -> Vec<(&'static str, Field<'_>)> {
        vec![
            ("clerk_name", Field::Text(&self.clerk_name)),
            ("unit", Field::Text(&self.unit)),
            ("fault", Field::Text(&self.fault)),
            ("component", Field::Text(self.component.as_str())),
            ("reported_by", Field::Text(&self.reported_by)),
            ("contact", Field::Text(&self.contact)),
            (
                "finding_doc",
                Field::Text(self.finding_doc.as_deref().unwrap_or_default()),
            ),
            (
                "finding",
                Field::Text(self.finding.as_deref().unwrap_or_default()),
            ),
            ("created_at", Field::Time(Some(self.created_at))),
        ]
    }

    fn validate(&self) -> Vec<Problem> {
        let mut problems = Vec::new();
        if self.kind != RecordKind::RepairRequest {
            problems.push(Problem::new("kind", keys::NOT_A_RECORD));
        }
        for (path, value, max) in [
            ("estate_id", &self.estate_id, MAX_SHORT_CHARS),
            ("created_by", &self.created_by, MAX_SHORT_CHARS),
            ("clerk_name", &self.clerk_name, MAX_SHORT_CHARS),
            ("unit", &self.unit, MAX_SHORT_CHARS),
            ("fault", &self.fault, MAX_TEXT_CHARS),
        ] {
            check_text(&mut problems, path, value, max);
        }
        check_optional_text(
            &mut problems,
            "reported_by",
            &self.reported_by,
            MAX_SHORT_CHARS,
        );
        check_optional_text(&mut problems, "contact", &self.contact, MAX_SHORT_CHARS);
        match (&self.finding_doc, &self.finding) {
            (None, None) => {}
            (Some(doc), Some(entry)) => {
                if doc.parse::<DocumentId>().is_err() {
                    problems.push(Problem::new("finding_doc", keys::UNKNOWN_VALUE));
                }
                check_text(&mut problems, "finding", entry, MAX_SHORT_CHARS);
            }
            (None, Some(_)) => problems.push(Problem::new("finding_doc", keys::REQUIRED)),
            (Some(_), None) => problems.push(Problem::new("finding", keys::REQUIRED)),
        }
        if self.created_at <= 0 {
            problems.push(Problem::new("created_at", keys::REQUIRED));
        }
        if self.assignments.is_empty() {
            problems.push(Problem::new("assignments", keys::REQUIRED));
        }
        for (i, a) in self.assignments.iter().enumerate() {
            let path = format!("assignments[{i}]");
            check_optional_text(
                &mut problems,
                format!("{path}.assignee"),
                &a.assignee,
                MAX_SHORT_CHARS,
            );
            if a.assignee.is_empty() {
                check_optional_text(
                    &mut problems,
                    format!("{path}.assignee_name"),
                    &a.assignee_name,
                    MAX_SHORT_CHARS,
                );
            } else {
                check_text(
                    &mut problems,
                    format!("{path}.assignee_name"),
                    &a.assignee_name,
                    MAX_SHORT_CHARS,
                );
            }
        }
        // One technician takes a request; a second taking (two phones offline at once)
        // is refused when it reaches the server, which already holds the first.
        if self.takings.len() > 1 {
            problems.push(Problem::new("takings", keys::TOO_MANY));
        }
        for (i, t) in self.takings.iter().enumerate() {
            let path = format!("takings[{i}]");
            check_text(
                &mut problems,
                format!("{path}.technician_name"),
                &t.technician_name,
                MAX_SHORT_CHARS,
            );
            if t.repair.parse::<DocumentId>().is_err() {
                problems.push(Problem::new(format!("{path}.repair"), keys::UNKNOWN_VALUE));
            }
        }
        if self.cancellations.len() > 1 {
            problems.push(Problem::new("cancellations", keys::TOO_MANY));
        }
        for (i, c) in self.cancellations.iter().enumerate() {
            check_text(
                &mut problems,
                format!("cancellations[{i}].reason"),
                &c.reason,
                MAX_TEXT_CHARS,
            );
        }
        if !self.takings.is_empty() && !self.cancellations.is_empty() {
            problems.push(Problem::new("cancellations", keys::REQUEST_CLOSED));
        }
        for (i, remark) in self.remarks.iter().enumerate() {
            check_remark(&mut problems, &format!("remarks[{i}]"), remark);
        }
        let mut seen = HashSet::new();
        unique_ids(
            &mut problems,
            &mut seen,
            "assignments",
            self.assignments.iter().map(Entry::id),
        );
        unique_ids(
            &mut problems,
            &mut seen,
            "takings",
            self.takings.iter().map(Entry::id),
        );
        unique_ids(
            &mut problems,
            &mut seen,
            "cancellations",
            self.cancellations.iter().map(Entry::id),
        );
        unique_ids(
            &mut problems,
            &mut seen,
            "remarks",
            self.remarks.iter().map(Entry::id),
        );
        // A new assignment replaces the one in force; a taking or a cancellation stands.
        for (list, corrects) in [
            (
                "assignments",
                self.assignments
                    .iter()
                    .map(Entry::corrects)
                    .collect::<Vec<_>>(),
            ),
            (
                "takings",
                self.takings.iter().map(Entry::corrects).collect(),
            ),
            (
                "cancellations",
                self.cancellations.iter().map(Entry::corrects).collect(),
            ),
        ] {
            for (i, target) in corrects.into_iter().enumerate() {
                if target.is_some() {
                    problems.push(Problem::new(
                        format!("{list}[{i}].corrects"),
                        keys::BAD_CORRECTION,
                    ));
                }
            }
        }
        corrections_point_into(&mut problems, "remarks", &self.remarks);
        problems
    }

    fn times(&self) -> Vec<(String, i64)> {
        let mut times = vec![("created_at".to_owned(), self.created_at)];
        let mut list = |name: &str, field: &str, at: Vec<i64>| {
            for (i, time) in at.into_iter().enumerate() {
                times.push((format!("{name}[{i}].{field}"), time));
            }
        };
        list(
            "assignments",
            "assigned_at",
            self.assignments.iter().map(|a| a.assigned_at).collect(),
        );
        list(
            "takings",
            "taken_at",
            self.takings.iter().map(|t| t.taken_at).collect(),
        );
        list(
            "cancellations",
            "cancelled_at",
            self.cancellations.iter().map(|c| c.cancelled_at).collect(),
        );
        list(
            "remarks",
            "written_at",
            self.remarks.iter().map(|r| r.written_at).collect(),
        );
        times
    }

    /// Office staff assign and cancel while the request is open and add remarks; a
    /// technician it is assigned to, or any while it is in the pool, takes it while open.
    fn judge_entries(
        before: Option<&Self>,
        after: &Self,
        writer: &Writer<'_>,
        _doc: DocumentId,
        problems: &mut Vec<Problem>,
    ) {
        let office = writer.role == Role::Office;
        let was_open = before.is_none_or(|b| b.closed_at().is_none());
        // Who may take is judged on what the server held before, so that a reassignment
        // the office made while the technician was offline does not undo the taking.
        let technician = writer.role == Role::Technician && before.is_some();
        let creator = after.created_by.as_str();
        check_entries(
            problems,
            "assignments",
            before.map_or(&[][..], |b| &b.assignments),
            &after.assignments,
            writer,
            office && was_open,
            creator,
        );
        check_entries(
            problems,
            "takings",
            before.map_or(&[][..], |b| &b.takings),
            &after.takings,
            writer,
            technician,
            creator,
        );
        check_entries(
            problems,
            "cancellations",
            before.map_or(&[][..], |b| &b.cancellations),
            &after.cancellations,
            writer,
            office && was_open,
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
        let old_takings: HashSet<&str> = before
            .map(|b| b.takings.iter().map(Entry::id).collect())
            .unwrap_or_default();
        for (i, taking) in after.takings.iter().enumerate() {
            let for_writer = before.is_some_and(|b| b.is_for(writer.user_id));
            if technician && !old_takings.contains(taking.id.as_str()) && !for_writer {
                problems.push(Problem::new(format!("takings[{i}]"), keys::NOT_ASSIGNED));
            }
        }
        // A reassignment comes after the assignment in force (by the time it was made), so
        // that the latest one is the one that counts on every replica.
        let in_force = before.and_then(RepairRequest::assignment);
        let old_assignments: HashSet<&str> = before
            .map(|b| b.assignments.iter().map(Entry::id).collect())
            .unwrap_or_default();
        for (i, assignment) in after.assignments.iter().enumerate() {
            let new = !old_assignments.contains(assignment.id.as_str());
            if new && in_force.is_some_and(|f| assignment.assigned_at <= f.assigned_at) {
                problems.push(Problem::new(
                    format!("assignments[{i}].assigned_at"),
                    keys::STEP_OUT_OF_ORDER,
                ));
            }
        }
        // A request taken or cancelled is settled: a late assignment, taking or
        // cancellation (from a phone that was offline) says why it was refused.
        if !was_open {
            let old = before.map_or(0, |b| {
                b.assignments.len() + b.takings.len() + b.cancellations.len()
            });
            let new = after.assignments.len() + after.takings.len() + after.cancellations.len();
            if new > old {
                problems.push(Problem::new("takings", keys::REQUEST_CLOSED));
            }
        }
    }

    fn detail(&self) -> SummaryDetail {
        detail_of(self)
    }

    fn status(&self) -> &'static str {
        RepairRequest::status(self).as_str()
    }

    fn done_at(&self) -> Option<i64> {
        RepairRequest::done_at(self)
    }

    fn addressed_to(&self) -> Option<&str> {
        RepairRequest::addressed_to(self)
    }

    fn links_to(&self) -> Option<DocumentId> {
        self.finding_doc.as_deref()?.parse().ok()
    }

    fn into_any(self) -> AnyRecord {
        AnyRecord::RepairRequest(self)
    }

    fn from_any(record: &AnyRecord) -> Option<&Self> {
        match record {
            AnyRecord::RepairRequest(request) => Some(request),
            _ => None,
        }
    }
}
