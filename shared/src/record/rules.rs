//! The rules common to every kind, written once: the record stays in its estate with its
//! creator and kind; the role may start or write the kind; nothing is deleted; every entry is
//! bound to its writer and never changed; the record's own fields change only by the creator
//! while it is open; no time is ahead of the judge's clock.

use std::collections::{HashMap, HashSet};

use super::entry::Entry;
use super::{Kind, Writer};
use crate::problem::{check_text, keys, Problem};
use crate::DocumentId;

/// Longest entry ID, in characters.
pub const MAX_ENTRY_ID_CHARS: usize = 200;

/// How far ahead of the judge's clock a recorded time may be (phone clocks drift).
pub const MAX_CLOCK_AHEAD_MS: i64 = 5 * 60 * 1000;

/// Every rule on a change of a record of kind `K`; every problem found.
pub(super) fn judge_kind<K: Kind>(
    before: Option<&K>,
    after: &K,
    writer: &Writer<'_>,
    doc: DocumentId,
    now_ms: i64,
) -> Vec<Problem> {
    let mut problems = after.validate();
    times_not_in_future(&mut problems, after.times(), now_ms);
    let header = after.header();
    match before {
        None => {
            if !writer.role.starts(K::KIND) {
                problems.push(Problem::new("kind", keys::ROLE_FORBIDS));
            }
            if !writer.estates.iter().any(|e| e == header.estate_id) {
                problems.push(Problem::new("estate_id", keys::OTHER_ESTATE));
            }
            if header.created_by != writer.user_id {
                problems.push(Problem::new("created_by", keys::CREATOR_NOT_WRITER));
            }
        }
        Some(before) => {
            if !writer.role.works_with(K::KIND) {
                problems.push(Problem::new("kind", keys::ROLE_FORBIDS));
            }
            let old = before.header();
            if header.estate_id != old.estate_id {
                problems.push(Problem::new("estate_id", keys::ESTATE_CHANGED));
            }
            if header.created_by != old.created_by {
                problems.push(Problem::new("created_by", keys::CREATOR_CHANGED));
            }
            fields_by_creator_while_open(&mut problems, before, after, writer);
        }
    }
    K::judge_entries(before, after, writer, doc, &mut problems);
    problems
}

/// The record's own fields change only by its creator, and only while it is open (closing it
/// is such a change).
fn fields_by_creator_while_open<K: Kind>(
    problems: &mut Vec<Problem>,
    before: &K,
    after: &K,
    writer: &Writer<'_>,
) {
    let old = before.fields();
    let new = after.fields();
    let is_creator = before.header().created_by == writer.user_id;
    let was_open = before.header().closed_at.is_none();
    for ((path, was), (_, now)) in old.iter().zip(new.iter()) {
        if was == now {
            continue;
        }
        if !is_creator {
            problems.push(Problem::new(*path, keys::NOT_CREATOR));
        } else if !was_open {
            problems.push(Problem::new(*path, keys::RECORD_CLOSED));
        }
    }
}

/// A time later than the judge's clock allows means the writing device's clock is wrong; a
/// record with such a time would not stand up in a dispute.
fn times_not_in_future(problems: &mut Vec<Problem>, times: Vec<(String, i64)>, now_ms: i64) {
    let limit = now_ms.saturating_add(MAX_CLOCK_AHEAD_MS);
    for (path, time) in times {
        if time > limit {
            problems.push(Problem::new(path, keys::IN_FUTURE));
        }
    }
}

/// The rules on one entry list, for every kind: no entry removed or changed; each new entry
/// written by `writer` (its `author`), allowed by `may_add`, and correcting, if it corrects,
/// an earlier entry of the same list by the same author.
///
/// `legacy_author` is whom an entry without an author is taken to be by: the record's
/// creator, as in the first version, whose phones may still upload entries written offline
/// before they updated. Such an entry is accepted only from that user.
pub(crate) fn check_entries<E: Entry>(
    problems: &mut Vec<Problem>,
    list: &str,
    before: &[E],
    after: &[E],
    writer: &Writer<'_>,
    may_add: bool,
    legacy_author: &str,
) {
    let now: HashMap<&str, &E> = after.iter().map(|e| (e.id(), e)).collect();
    for (index, old) in before.iter().enumerate() {
        match now.get(old.id()) {
            None => problems.push(Problem::new(
                format!("{list}[{index}]"),
                keys::ENTRY_DELETED,
            )),
            Some(new) if *new != old => problems.push(Problem::new(
                format!("{list}[{index}]"),
                keys::ENTRY_CHANGED,
            )),
            Some(_) => {}
        }
    }
    let known: HashSet<&str> = before.iter().map(Entry::id).collect();
    let author_of = |id: &str| {
        after
            .iter()
            .find(|e| e.id() == id)
            .map(|e| e.author().unwrap_or(legacy_author))
    };
    for (index, entry) in after.iter().enumerate() {
        if known.contains(entry.id()) {
            continue;
        }
        let path = format!("{list}[{index}]");
        if !may_add {
            problems.push(Problem::new(path.clone(), keys::ROLE_FORBIDS));
        }
        if entry.author().unwrap_or(legacy_author) != writer.user_id {
            problems.push(Problem::new(
                format!("{path}.author"),
                keys::AUTHOR_NOT_WRITER,
            ));
        }
        // A correction of nothing is the kind's `validate`'s to refuse; here, of another's.
        if let Some(target) = entry.corrects() {
            if author_of(target).is_some_and(|author| author != writer.user_id) {
                problems.push(Problem::new(
                    format!("{path}.corrects"),
                    keys::BAD_CORRECTION,
                ));
            }
        }
    }
}

/// Pushes `duplicate_id` for every entry whose ID another entry of the record already has.
pub(crate) fn unique_ids<'a>(
    problems: &mut Vec<Problem>,
    seen: &mut HashSet<&'a str>,
    list: &str,
    ids: impl Iterator<Item = &'a str>,
) {
    for (index, id) in ids.enumerate() {
        if id.is_empty() || id.chars().count() > MAX_ENTRY_ID_CHARS {
            problems.push(Problem::new(
                format!("{list}[{index}].id"),
                if id.is_empty() {
                    keys::REQUIRED
                } else {
                    keys::TOO_LONG
                },
            ));
        }
        if !seen.insert(id) {
            problems.push(Problem::new(
                format!("{list}[{index}].id"),
                keys::DUPLICATE_ID,
            ));
        }
    }
}

/// For lists whose entries are never corrected by naming them (what was signed, a step of
/// custody): any `corrects` is refused.
pub(crate) fn no_corrections<E: Entry>(problems: &mut Vec<Problem>, list: &str, entries: &[E]) {
    for (i, entry) in entries.iter().enumerate() {
        if entry.corrects().is_some() {
            problems.push(Problem::new(
                format!("{list}[{i}].corrects"),
                keys::BAD_CORRECTION,
            ));
        }
    }
}

/// A correction must name another entry of its own list.
pub(crate) fn corrections_point_into<E: Entry>(
    problems: &mut Vec<Problem>,
    list: &str,
    entries: &[E],
) {
    let ids: HashSet<&str> = entries.iter().map(Entry::id).collect();
    for (index, entry) in entries.iter().enumerate() {
        if let Some(target) = entry.corrects() {
            if target == entry.id() || !ids.contains(target) {
                problems.push(Problem::new(
                    format!("{list}[{index}].corrects"),
                    keys::BAD_CORRECTION,
                ));
            }
        }
    }
}

/// The field rules of a signature entry, for every kind that holds signatures.
pub(crate) fn check_signature_fields(
    problems: &mut Vec<Problem>,
    path: &str,
    signature: &crate::signature::Signature,
) {
    check_text(
        problems,
        format!("{path}.signer_name"),
        &signature.signer_name,
        crate::signature::MAX_SIGNER_NAME_CHARS,
    );
    check_text(
        problems,
        format!("{path}.device_id"),
        &signature.device_id,
        64,
    );
    check_text(problems, format!("{path}.subject"), &signature.subject, 200);
}

/// The rules on the signatures a change adds (those not in `before`), for every kind: each
/// taken on the writer's enrolled device, over the content `content_for` gives for its
/// purpose and subject (`unknown_entry` when there is none), verifying with that device's
/// key. Problems at `list[i]`.
pub(crate) fn judge_new_signatures(
    problems: &mut Vec<Problem>,
    list: &str,
    before: &[crate::signature::Signature],
    after: &[crate::signature::Signature],
    writer: &Writer<'_>,
    document: DocumentId,
    content_for: impl Fn(crate::signature::Purpose, &str) -> Option<crate::signature::SignedContent>,
) {
    let old: std::collections::HashSet<&str> = before.iter().map(|s| s.id.as_str()).collect();
    for (i, signature) in after.iter().enumerate() {
        if old.contains(signature.id.as_str()) {
            continue;
        }
        let path = format!("{list}[{i}]");
        if signature.device_id != writer.device_id {
            problems.push(Problem::new(
                format!("{path}.device_id"),
                keys::BAD_SIGNATURE,
            ));
            continue;
        }
        let Some(content) = content_for(signature.purpose, &signature.subject) else {
            problems.push(Problem::new(format!("{path}.subject"), keys::UNKNOWN_ENTRY));
            continue;
        };
        for problem in crate::signature::verify(
            signature,
            document,
            &content,
            writer.device_key,
            writer.verify_key,
        ) {
            problems.push(Problem::new(path.clone(), problem.key()));
        }
    }
}
