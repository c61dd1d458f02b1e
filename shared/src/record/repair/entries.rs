//! Constructors for the repair record's entries and the field rules each entry keeps.

use super::*;

pub(super) fn check_fen(problems: &mut Vec<Problem>, path: String, fen: i64) {
    if !(0..=MAX_FEN).contains(&fen) {
        problems.push(Problem::new(path, keys::OUT_OF_RANGE));
    }
}

pub(super) fn check_parts(problems: &mut Vec<Problem>, path: &str, parts: &[Part]) {
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
        id: crate::record::EntryId,
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

pub(super) fn check_estimate(problems: &mut Vec<Problem>, path: &str, estimate: &Estimate) {
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
        id: crate::record::EntryId,
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

pub(super) fn check_measure(problems: &mut Vec<Problem>, path: &str, measure: &SafetyMeasure) {
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
        id: crate::record::EntryId,
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

pub(super) fn check_work(problems: &mut Vec<Problem>, path: &str, line: &WorkLine) {
    check_text(problems, format!("{path}.done"), &line.done, MAX_TEXT_CHARS);
    check_parts(problems, &format!("{path}.parts_used"), &line.parts_used);
    // More than a day on one line is a typing mistake.
    if line.minutes == 0 || line.minutes > 24 * 60 {
        problems.push(Problem::new(format!("{path}.minutes"), keys::OUT_OF_RANGE));
    }
}

impl FeeOutcome {
    pub fn new(
        id: crate::record::EntryId,
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

pub(super) fn check_outcome(problems: &mut Vec<Problem>, path: &str, outcome: &FeeOutcome) {
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
