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
        steps_in_order(before, after, writer, problems);
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

/// The order of custody, on the entries this change adds (those not in `before`).
fn steps_in_order(
    before: Option<&FoundItem>,
    after: &FoundItem,
    writer: &Writer<'_>,
    problems: &mut Vec<Problem>,
) {
    fn ids<E: Entry>(list: Option<&[E]>) -> HashSet<&str> {
        list.unwrap_or_default().iter().map(Entry::id).collect()
    }
    let is_new = |old: &HashSet<&str>, id: &str| !old.contains(id);
    let office = writer.role == Role::Office;
    let finder = writer.user_id == after.created_by;
    // Once custody ended on the server, nothing but a remark is added.
    let ended_before = before.and_then(FoundItem::final_step).is_some();
    // The desk holds it (its receipt is in the record as it will stand), since when.
    let received_at = after.receipt().map(|r| r.confirmed_at);
    // Office steps come after the receipt, and nothing is dated after custody ended.
    let final_at = after.final_step().map(|(at, _)| at);
    let in_window =
        |at: i64| received_at.is_some_and(|r| at >= r) && final_at.is_none_or(|f| at <= f);

    let old_counts = ids(before.map(|b| &b.counts[..]));
    for (i, count) in after.counts.iter().enumerate() {
        if !is_new(&old_counts, &count.id) {
            continue;
        }
        let path = format!("counts[{i}]");
        let allowed = match count.stage {
            CountStage::Registration => finder,
            CountStage::Desk => office,
        };
        if !allowed {
            problems.push(Problem::new(format!("{path}.stage"), keys::ROLE_FORBIDS));
        }
        if ended_before {
            problems.push(Problem::new(path, keys::STEP_OUT_OF_ORDER));
        }
    }

    let old_signatures = ids(before.map(|b| &b.signatures[..]));
    for (i, signature) in after.signatures.iter().enumerate() {
        if !is_new(&old_signatures, &signature.id) {
            continue;
        }
        let path = format!("signatures[{i}]");
        let (role_fits, writer_fits) = match signature.purpose {
            Purpose::FoundItemCount => (
                matches!(
                    signature.signer_role,
                    SignerRole::Finder | SignerRole::Witness
                ),
                finder,
            ),
            Purpose::FoundItemReceipt => (signature.signer_role == SignerRole::Claimant, office),
            Purpose::FoundItemDisposal => (signature.signer_role == SignerRole::Receiver, office),
            _ => (false, false),
        };
        if !role_fits || !writer_fits {
            problems.push(Problem::new(
                format!("{path}.signer_role"),
                keys::ROLE_FORBIDS,
            ));
        }
        // The witness signs as the person the count names, and is not the finder.
        if signature.purpose == Purpose::FoundItemCount
            && signature.signer_role == SignerRole::Witness
        {
            let named = after
                .counts
                .iter()
                .find(|c| c.id == signature.subject)
                .map(|c| c.witness_name.trim());
            let name = signature.signer_name.trim();
            if named != Some(name) || name == after.finder_name.trim() {
                problems.push(Problem::new(
                    format!("{path}.signer_name"),
                    keys::ROLE_FORBIDS,
                ));
            }
        }
        if ended_before {
            problems.push(Problem::new(path, keys::STEP_OUT_OF_ORDER));
        }
    }

    let old_moves = ids(before.map(|b| &b.moves[..]));
    let handover = after.handover().map(|m| m.id.as_str());
    for (i, movement) in after.moves.iter().enumerate() {
        if !is_new(&old_moves, &movement.id) {
            continue;
        }
        let path = format!("moves[{i}]");
        if ended_before {
            problems.push(Problem::new(path.clone(), keys::STEP_OUT_OF_ORDER));
        }
        if movement.author == after.created_by && !office {
            // The finder hands it to the desk, once, and a valuable only after the count was
            // witnessed and signed by both.
            if movement.to != Holder::Desk {
                problems.push(Problem::new(format!("{path}.to"), keys::ROLE_FORBIDS));
            } else if handover != Some(movement.id.as_str()) {
                problems.push(Problem::new(path.clone(), keys::STEP_OUT_OF_ORDER));
            }
            if after.is_valuable()
                && !after
                    .latest_count(CountStage::Registration)
                    .is_some_and(|c| after.is_witnessed(c) && c.counted_at <= movement.moved_at)
            {
                problems.push(Problem::new(path.clone(), keys::NOT_WITNESSED));
            }
            continue;
        }
        // Within the office: only once the desk confirmed receipt, and not before it; the
        // clerk who moves it names who holds it after (themselves, or a receiver who signs).
        if !office || received_at.is_none_or(|at| movement.moved_at < at) {
            problems.push(Problem::new(path.clone(), keys::STEP_OUT_OF_ORDER));
        }
        if !movement.to.is_final() && movement.holder_name.trim().is_empty() {
            problems.push(Problem::new(format!("{path}.holder_name"), keys::REQUIRED));
        }
        if movement.to.is_final() {
            if after
                .disposable_from()
                .is_none_or(|from| movement.moved_at < from)
            {
                problems.push(Problem::new(
                    format!("{path}.moved_at"),
                    keys::BEFORE_RETENTION,
                ));
            }
            if movement.holder_name.trim().is_empty() {
                problems.push(Problem::new(format!("{path}.holder_name"), keys::REQUIRED));
            }
            if after
                .signed(
                    Purpose::FoundItemDisposal,
                    &movement.id,
                    SignerRole::Receiver,
                )
                .is_none()
            {
                problems.push(Problem::new(path, keys::UNSIGNED));
            }
        }
    }

    let old_confirmations = ids(before.map(|b| &b.confirmations[..]));
    for (i, confirmation) in after.confirmations.iter().enumerate() {
        if !is_new(&old_confirmations, &confirmation.id) {
            continue;
        }
        let path = format!("confirmations[{i}]");
        let Some(handover) = after.handover().filter(|m| m.id == confirmation.move_id) else {
            problems.push(Problem::new(format!("{path}.move_id"), keys::UNKNOWN_ENTRY));
            continue;
        };
        // One receipt per hand-over: a second (however dated) is refused, so it can never
        // take the place of the one stored.
        let naming = after
            .confirmations
            .iter()
            .filter(|c| c.move_id == handover.id)
            .count();
        if naming > 1 || confirmation.confirmed_at < handover.moved_at || ended_before {
            problems.push(Problem::new(path.clone(), keys::STEP_OUT_OF_ORDER));
        }
        let Some(count) = after.counts.iter().find(|c| {
            c.id == confirmation.count
                && c.stage == CountStage::Desk
                && c.author == confirmation.author
        }) else {
            problems.push(Problem::new(format!("{path}.count"), keys::UNKNOWN_ENTRY));
            continue;
        };
        // The desk lists every line the finder counted (a different quantity or amount is a
        // mismatch, recorded; a line left out is refused).
        if let Some(registered) = after.latest_count(CountStage::Registration) {
            if registered
                .items
                .iter()
                .any(|line| !count.items.iter().any(|d| d.same_thing(line)))
            {
                problems.push(Problem::new(
                    format!("{path}.count"),
                    keys::COUNT_INCOMPLETE,
                ));
            }
        }
    }

    let old_searches = ids(before.map(|b| &b.searches[..]));
    let old_descriptions = ids(before.map(|b| &b.descriptions[..]));
    let office_steps = after
        .searches
        .iter()
        .enumerate()
        .filter(|(_, s)| is_new(&old_searches, &s.id))
        .map(|(i, s)| (format!("searches[{i}]"), s.searched_at))
        .chain(
            after
                .descriptions
                .iter()
                .enumerate()
                .filter(|(_, d)| is_new(&old_descriptions, &d.id))
                .map(|(i, d)| (format!("descriptions[{i}]"), d.described_at)),
        );
    for (path, at) in office_steps {
        if !in_window(at) || ended_before {
            problems.push(Problem::new(path, keys::STEP_OUT_OF_ORDER));
        }
    }

    let old_claims = ids(before.map(|b| &b.claims[..]));
    for (i, claim) in after.claims.iter().enumerate() {
        if !is_new(&old_claims, &claim.id) {
            continue;
        }
        let path = format!("claims[{i}]");
        if !in_window(claim.claimed_at) || ended_before {
            problems.push(Problem::new(path.clone(), keys::STEP_OUT_OF_ORDER));
        }
        // The claimant described it before seeing it: their own description, given earlier.
        if !after.descriptions.iter().any(|d| {
            d.id == claim.description
                && d.described_at <= claim.claimed_at
                && d.claimant_name.trim() == claim.claimant_name.trim()
        }) {
            problems.push(Problem::new(
                format!("{path}.description"),
                keys::NO_DESCRIPTION,
            ));
        }
        if !claim.id_checked || claim.id_number.trim().chars().count() < 4 {
            problems.push(Problem::new(
                format!("{path}.id_number"),
                keys::ID_NOT_CHECKED,
            ));
        }
        if claim.outcome.hands_over() {
            if claim.handed.is_empty() && !after.listed_contents().is_empty() {
                problems.push(Problem::new(format!("{path}.handed"), keys::REQUIRED));
            }
            if claim.outcome == ClaimOutcome::Full
                && !same_lines(&claim.handed, &after.remaining_contents())
            {
                problems.push(Problem::new(
                    format!("{path}.outcome"),
                    keys::DECISION_MISMATCH,
                ));
            }
            if after
                .signed(Purpose::FoundItemReceipt, &claim.id, SignerRole::Claimant)
                .is_none()
            {
                problems.push(Problem::new(path, keys::UNSIGNED));
            }
        }
    }

    // Partial hand-overs together never give out more than the record lists.
    if handed_beyond_listed(after) {
        for (i, claim) in after.claims.iter().enumerate() {
            if claim.outcome == ClaimOutcome::Partial && is_new(&old_claims, &claim.id) {
                problems.push(Problem::new(
                    format!("claims[{i}].handed"),
                    keys::DECISION_MISMATCH,
                ));
            }
        }
    }

    // Nothing new is dated after custody ended (a move or a count behind a claim's back).
    if let Some(final_at) = final_at {
        for (i, movement) in after.moves.iter().enumerate() {
            if is_new(&old_moves, &movement.id)
                && !movement.to.is_final()
                && movement.moved_at > final_at
            {
                problems.push(Problem::new(format!("moves[{i}]"), keys::STEP_OUT_OF_ORDER));
            }
        }
        for (i, count) in after.counts.iter().enumerate() {
            if is_new(&old_counts, &count.id) && count.counted_at > final_at {
                problems.push(Problem::new(
                    format!("counts[{i}]"),
                    keys::STEP_OUT_OF_ORDER,
                ));
            }
        }
    }

    // At most one step ends custody: a second (a claim after a disposal, two claims that
    // hand everything over) is refused wherever it comes from.
    let finals: Vec<(i64, &str)> = after
        .claims
        .iter()
        .filter(|c| c.outcome.is_final())
        .map(|c| (c.claimed_at, c.id.as_str()))
        .chain(
            after
                .moves
                .iter()
                .filter(|m| m.to.is_final())
                .map(|m| (m.moved_at, m.id.as_str())),
        )
        .collect();
    if finals.len() > 1 {
        let first = finals.iter().min().map(|f| f.1);
        for (i, claim) in after.claims.iter().enumerate() {
            if claim.outcome.is_final()
                && is_new(&old_claims, &claim.id)
                && Some(claim.id.as_str()) != first
            {
                problems.push(Problem::new(
                    format!("claims[{i}]"),
                    keys::STEP_OUT_OF_ORDER,
                ));
            }
        }
        for (i, movement) in after.moves.iter().enumerate() {
            if movement.to.is_final()
                && is_new(&old_moves, &movement.id)
                && Some(movement.id.as_str()) != first
            {
                problems.push(Problem::new(format!("moves[{i}]"), keys::STEP_OUT_OF_ORDER));
            }
        }
    }
}

/// Whether the partial claims together hand over more of a line than the record lists, or a
/// line it does not list.
fn handed_beyond_listed(item: &FoundItem) -> bool {
    let listed = item.listed_contents();
    let mut given: Vec<CountedItem> = Vec::new();
    for handed in item
        .claims
        .iter()
        .filter(|c| c.outcome == ClaimOutcome::Partial)
        .flat_map(|c| &c.handed)
    {
        match given.iter_mut().find(|g| g.same_thing(handed)) {
            Some(g) => {
                g.quantity = g.quantity.saturating_add(handed.quantity);
                g.amount_fen = g.amount_fen.saturating_add(handed.amount_fen);
            }
            None => given.push(handed.clone()),
        }
    }
    given.iter().any(|g| {
        listed
            .iter()
            .find(|l| l.same_thing(g))
            .is_none_or(|l| g.quantity > l.quantity || g.amount_fen > l.amount_fen)
    })
}

/// Whether two counts list the same things in the same quantities and amounts, in any order.
fn same_lines(a: &[CountedItem], b: &[CountedItem]) -> bool {
    let key = |i: &CountedItem| {
        (
            i.what.trim().to_owned(),
            i.content,
            i.quantity,
            i.amount_fen,
        )
    };
    let mut a: Vec<_> = a.iter().map(key).collect();
    let mut b: Vec<_> = b.iter().map(key).collect();
    a.sort();
    b.sort();
    a == b
}
