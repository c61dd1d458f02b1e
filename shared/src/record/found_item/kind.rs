//! The found item as a record kind: its fields and their limits, and the order of custody,
//! checked on the entries a change adds whatever number of steps one upload carries.

use std::collections::HashSet;

use super::*;
use crate::problem::{check_optional_text, check_text, keys};
use crate::record::entry::Entry;
use crate::record::remark::check_remark;
use crate::record::rules::{
    check_entries, check_signature_fields, corrections_point_into, judge_new_signatures,
    no_corrections, unique_ids,
};
use crate::record::{AnyRecord, Field, Header, Kind, Writer};
use crate::user::Role;
use crate::DocumentId;

impl Kind for FoundItem {
    const KIND: RecordKind = RecordKind::FoundItem;

    fn remarks_mut(&mut self) -> &mut Vec<Remark> {
        &mut self.remarks
    }

    fn header(&self) -> Header<'_> {
        Header {
            kind: self.kind,
            estate_id: &self.estate_id,
            created_by: &self.created_by,
            author_name: &self.finder_name,
            unit: &self.area,
            title: &self.description,
            started_at: self.started_at,
            closed_at: self.final_step().map(|(at, _)| at),
        }
    }

    fn fields(&self) -> Vec<(&'static str, Field<'_>)> {
        vec![
            ("finder_name", Field::Text(&self.finder_name)),
            ("description", Field::Text(&self.description)),
            ("category", Field::Text(self.category.as_str())),
            ("building", Field::Text(&self.building)),
            ("floor", Field::Text(&self.floor)),
            ("area", Field::Text(&self.area)),
            ("spot", Field::Text(&self.spot)),
            ("found_at", Field::Time(Some(self.found_at))),
            ("started_at", Field::Time(Some(self.started_at))),
        ]
    }

    fn validate(&self) -> Vec<Problem> {
        let mut problems = Vec::new();
        if self.kind != RecordKind::FoundItem {
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
            "finder_name",
            &self.finder_name,
            MAX_SHORT_CHARS,
        );
        check_text(
            &mut problems,
            "description",
            &self.description,
            MAX_SHORT_CHARS,
        );
        // What the public notice prints: nothing that identifies the owner.
        for (path, text) in [
            ("description", &self.description),
            ("building", &self.building),
            ("floor", &self.floor),
        ] {
            if looks_personal(text) {
                problems.push(Problem::new(path, keys::PERSONAL_DATA));
            }
        }
        check_optional_text(&mut problems, "building", &self.building, MAX_SHORT_CHARS);
        check_optional_text(&mut problems, "floor", &self.floor, MAX_SHORT_CHARS);
        check_text(&mut problems, "area", &self.area, MAX_SHORT_CHARS);
        check_optional_text(&mut problems, "spot", &self.spot, MAX_SHORT_CHARS);
        if self.found_at <= 0 {
            problems.push(Problem::new("found_at", keys::REQUIRED));
        }
        if self.started_at <= 0 {
            problems.push(Problem::new("started_at", keys::REQUIRED));
        }
        if self.found_at > self.started_at {
            problems.push(Problem::new("found_at", keys::ENDS_BEFORE_START));
        }
        // Registered when found: at most a week later.
        if self.found_at < self.started_at.saturating_sub(MAX_REGISTER_DELAY_MS) {
            problems.push(Problem::new("found_at", keys::OUT_OF_RANGE));
        }
        for (i, count) in self.counts.iter().enumerate() {
            let path = format!("counts[{i}]");
            check_items(&mut problems, &format!("{path}.items"), &count.items);
            check_optional_text(
                &mut problems,
                format!("{path}.witness_name"),
                &count.witness_name,
                MAX_SHORT_CHARS,
            );
        }
        for (i, movement) in self.moves.iter().enumerate() {
            let path = format!("moves[{i}]");
            check_optional_text(
                &mut problems,
                format!("{path}.holder_name"),
                &movement.holder_name,
                MAX_SHORT_CHARS,
            );
            check_optional_text(
                &mut problems,
                format!("{path}.place"),
                &movement.place,
                MAX_SHORT_CHARS,
            );
            check_optional_text(
                &mut problems,
                format!("{path}.note"),
                &movement.note,
                MAX_TEXT_CHARS,
            );
        }
        for (i, confirmation) in self.confirmations.iter().enumerate() {
            check_text(
                &mut problems,
                format!("confirmations[{i}].holder_name"),
                &confirmation.holder_name,
                MAX_SHORT_CHARS,
            );
        }
        for (i, search) in self.searches.iter().enumerate() {
            check_optional_text(
                &mut problems,
                format!("searches[{i}].note"),
                &search.note,
                MAX_TEXT_CHARS,
            );
        }
        for (i, description) in self.descriptions.iter().enumerate() {
            let path = format!("descriptions[{i}]");
            check_text(
                &mut problems,
                format!("{path}.claimant_name"),
                &description.claimant_name,
                MAX_SHORT_CHARS,
            );
            check_text(
                &mut problems,
                format!("{path}.description"),
                &description.description,
                MAX_TEXT_CHARS,
            );
        }
        for (i, claim) in self.claims.iter().enumerate() {
            let path = format!("claims[{i}]");
            check_text(
                &mut problems,
                format!("{path}.claimant_name"),
                &claim.claimant_name,
                MAX_SHORT_CHARS,
            );
            check_optional_text(
                &mut problems,
                format!("{path}.claimant_phone"),
                &claim.claimant_phone,
                MAX_SHORT_CHARS,
            );
            check_optional_text(
                &mut problems,
                format!("{path}.id_number"),
                &claim.id_number,
                MAX_SHORT_CHARS,
            );
            check_optional_text(
                &mut problems,
                format!("{path}.note"),
                &claim.note,
                MAX_TEXT_CHARS,
            );
            check_items(&mut problems, &format!("{path}.handed"), &claim.handed);
        }
        for (i, signature) in self.signatures.iter().enumerate() {
            check_signature_fields(&mut problems, &format!("signatures[{i}]"), signature);
        }
        for (i, remark) in self.remarks.iter().enumerate() {
            check_remark(&mut problems, &format!("remarks[{i}]"), remark);
        }
        let mut seen = HashSet::new();
        unique_ids(
            &mut problems,
            &mut seen,
            "counts",
            self.counts.iter().map(Entry::id),
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
            "moves",
            self.moves.iter().map(Entry::id),
        );
        unique_ids(
            &mut problems,
            &mut seen,
            "confirmations",
            self.confirmations.iter().map(Entry::id),
        );
        unique_ids(
            &mut problems,
            &mut seen,
            "searches",
            self.searches.iter().map(Entry::id),
        );
        unique_ids(
            &mut problems,
            &mut seen,
            "descriptions",
            self.descriptions.iter().map(Entry::id),
        );
        unique_ids(
            &mut problems,
            &mut seen,
            "claims",
            self.claims.iter().map(Entry::id),
        );
        unique_ids(
            &mut problems,
            &mut seen,
            "remarks",
            self.remarks.iter().map(Entry::id),
        );
        // Custody, counts and what was signed are never corrected: a recount is a new count,
        // a move back is a new move.
        no_corrections(&mut problems, "counts", &self.counts);
        no_corrections(&mut problems, "signatures", &self.signatures);
        no_corrections(&mut problems, "moves", &self.moves);
        no_corrections(&mut problems, "confirmations", &self.confirmations);
        no_corrections(&mut problems, "claims", &self.claims);
        corrections_point_into(&mut problems, "searches", &self.searches);
        corrections_point_into(&mut problems, "descriptions", &self.descriptions);
        corrections_point_into(&mut problems, "remarks", &self.remarks);
        problems
    }

    fn times(&self) -> Vec<(String, i64)> {
        let mut times = vec![
            ("found_at".to_owned(), self.found_at),
            ("started_at".to_owned(), self.started_at),
        ];
        let mut list = |name: &str, field: &str, at: Vec<i64>| {
            for (i, time) in at.into_iter().enumerate() {
                times.push((format!("{name}[{i}].{field}"), time));
            }
        };
        list(
            "counts",
            "counted_at",
            self.counts.iter().map(|c| c.counted_at).collect(),
        );
        list(
            "signatures",
            "signed_at",
            self.signatures.iter().map(|s| s.signed_at).collect(),
        );
        list(
            "moves",
            "moved_at",
            self.moves.iter().map(|m| m.moved_at).collect(),
        );
        list(
            "confirmations",
            "confirmed_at",
            self.confirmations.iter().map(|c| c.confirmed_at).collect(),
        );
        list(
            "searches",
            "searched_at",
            self.searches.iter().map(|s| s.searched_at).collect(),
        );
        list(
            "descriptions",
            "described_at",
            self.descriptions.iter().map(|d| d.described_at).collect(),
        );
        list(
            "claims",
            "claimed_at",
            self.claims.iter().map(|c| c.claimed_at).collect(),
        );
        list(
            "remarks",
            "written_at",
            self.remarks.iter().map(|r| r.written_at).collect(),
        );
        times
    }

    /// The finder writes the registration, its count and signatures, and the hand-over to
    /// the desk, while they hold the item; office staff write everything after. Nothing but
    /// a remark is added once the item has left the estate's hands.
    fn judge_entries(
        before: Option<&Self>,
        after: &Self,
        writer: &Writer<'_>,
        doc: DocumentId,
        problems: &mut Vec<Problem>,
    ) {
        let with_finder = before.is_none_or(|b| b.handover().is_none());
        let finder = with_finder && writer.user_id == after.created_by;
        let office = writer.role == Role::Office;
        let creator = after.created_by.as_str();
        macro_rules! entries {
            ($list:ident, $may_add:expr) => {
                check_entries(
                    problems,
                    stringify!($list),
                    before.map_or(&[][..], |b| &b.$list),
                    &after.$list,
                    writer,
                    $may_add,
                    creator,
                )
            };
        }
        entries!(counts, finder || office);
        entries!(signatures, finder || office);
        entries!(moves, finder || office);
        entries!(confirmations, office);
        entries!(searches, office);
        entries!(descriptions, office);
        entries!(claims, office);
        entries!(remarks, office);
        // Where and what was found is fixed once the item leaves the finder.
        if let Some(before) = before.filter(|b| b.handover().is_some()) {
            for ((path, was), (_, now)) in before.fields().iter().zip(after.fields().iter()) {
                if was != now {
                    problems.push(Problem::new(*path, keys::RECORD_CLOSED));
                }
            }
        }
        judge_new_signatures(
            problems,
            "signatures",
            before.map_or(&[][..], |b| &b.signatures),
            &after.signatures,
            writer,
            doc,
            |purpose, subject| after.content_for(purpose, subject),
        );
        super::steps::steps_in_order(before, after, writer, problems);
    }

    fn detail(&self) -> SummaryDetail {
        FoundItem::detail(self)
    }

    fn status(&self) -> &'static str {
        FoundItem::status(self).as_str()
    }

    fn done_at(&self) -> Option<i64> {
        self.final_step().map(|(at, _)| at)
    }

    fn into_any(self) -> AnyRecord {
        AnyRecord::FoundItem(self)
    }

    fn from_any(record: &AnyRecord) -> Option<&Self> {
        match record {
            AnyRecord::FoundItem(item) => Some(item),
            _ => None,
        }
    }
}

fn check_items(problems: &mut Vec<Problem>, path: &str, items: &[CountedItem]) {
    if items.len() > MAX_COUNT_LINES {
        problems.push(Problem::new(path, keys::TOO_MANY));
    }
    for (i, item) in items.iter().enumerate() {
        let line = format!("{path}[{i}]");
        // One line per thing, so a count cannot hide a missing one behind a repeated line.
        if items[..i].iter().any(|earlier| earlier.same_thing(item)) {
            problems.push(Problem::new(format!("{line}.what"), keys::DUPLICATE_NAME));
        }
        check_text(
            problems,
            format!("{line}.what"),
            &item.what,
            MAX_SHORT_CHARS,
        );
        let cash = item.content == ContentKind::Cash;
        if !(0..=MAX_FEN).contains(&item.amount_fen) || (!cash && item.amount_fen != 0) {
            problems.push(Problem::new(
                format!("{line}.amount_fen"),
                keys::OUT_OF_RANGE,
            ));
        }
        if item.quantity > 100_000 {
            problems.push(Problem::new(format!("{line}.quantity"), keys::OUT_OF_RANGE));
        }
    }
}
