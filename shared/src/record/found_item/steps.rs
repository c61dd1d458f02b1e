//! The order of custody, judged on the entries a change adds whatever number of steps one
//! upload carries: who may add each step, after what, and what may not follow the end.

use std::collections::HashSet;

use super::*;
use crate::problem::keys;
use crate::record::entry::Entry;
use crate::record::Writer;
use crate::user::Role;

/// The order of custody, on the entries this change adds (those not in `before`).
pub(super) fn steps_in_order(
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
                .disposable_from(&writer.found_item_periods(&after.estate_id))
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
