//! A broken rule, as data: where it is and a message key the interface translates.

use serde::{Deserialize, Serialize};

/// One problem found by a validation rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    /// Where in the record, e.g. `visits[2].checkpoint`.
    pub path: String,
    /// A translation key, e.g. `validation.required`.
    pub key: String,
}

impl Problem {
    pub fn new(path: impl Into<String>, key: &str) -> Self {
        Self {
            path: path.into(),
            key: key.to_owned(),
        }
    }
}

/// Message keys used by the rules; each has an entry in the client's translation files.
pub mod keys {
    pub const REQUIRED: &str = "validation.required";
    pub const TOO_LONG: &str = "validation.too_long";
    pub const ENDS_BEFORE_START: &str = "validation.ends_before_start";
    pub const BEFORE_ROUND_START: &str = "validation.before_round_start";
    pub const DUPLICATE_ID: &str = "validation.duplicate_id";
    pub const NOT_A_RECORD: &str = "validation.not_a_record";
    pub const OTHER_ESTATE: &str = "validation.other_estate";
    pub const ESTATE_CHANGED: &str = "validation.estate_changed";
    pub const CREATOR_CHANGED: &str = "validation.creator_changed";
    pub const CREATOR_NOT_WRITER: &str = "validation.creator_not_writer";
    pub const ENTRY_DELETED: &str = "validation.entry_deleted";
    pub const IN_FUTURE: &str = "validation.in_future";
    pub const FOREIGN_ACTOR: &str = "validation.foreign_actor";
    pub const ROLE_FORBIDS: &str = "validation.role_forbids";
    pub const DOCUMENT_TOO_LARGE: &str = "validation.document_too_large";
    pub const KIND_CHANGED: &str = "validation.kind_changed";
    /// A written entry was changed (entries are never changed; a correction is a new entry).
    pub const ENTRY_CHANGED: &str = "validation.entry_changed";
    /// A new entry names someone other than its writer as author.
    pub const AUTHOR_NOT_WRITER: &str = "validation.author_not_writer";
    /// A record's own field was changed by someone other than its creator.
    pub const NOT_CREATOR: &str = "validation.not_creator";
    /// A closed record's own field was changed.
    pub const RECORD_CLOSED: &str = "validation.record_closed";
    /// A correction names no entry of its list, itself, or another user's entry.
    pub const BAD_CORRECTION: &str = "validation.bad_correction";
    /// A signature does not verify with the writing device's enrolled key.
    pub const BAD_SIGNATURE: &str = "validation.bad_signature";
    /// A signature names another record's document.
    pub const SIGNATURE_OTHER_RECORD: &str = "validation.signature_other_record";
    /// A signature's content hash is not the hash of the content it names.
    pub const CONTENT_MISMATCH: &str = "validation.content_mismatch";
    pub const STROKE_MISMATCH: &str = "validation.stroke_mismatch";
    pub const EMPTY_STROKE: &str = "validation.empty_stroke";
    /// A step before its turn (acceptance before consented work, an outcome before acceptance).
    pub const STEP_OUT_OF_ORDER: &str = "validation.step_out_of_order";
    /// Work on an estimate the owner has not consented to as it stands.
    pub const NO_CONSENT: &str = "validation.no_consent";
    /// A reference to an entry the record does not hold.
    pub const UNKNOWN_ENTRY: &str = "validation.unknown_entry";
    pub const OUT_OF_RANGE: &str = "validation.out_of_range";
    pub const TOO_MANY: &str = "validation.too_many";
    /// Changes that leave the record as it was.
    pub const NO_CHANGE: &str = "validation.no_change";
}

/// Pushes `required` or `too_long` for a text field.
pub(crate) fn check_text(
    problems: &mut Vec<Problem>,
    path: impl Into<String>,
    value: &str,
    max_chars: usize,
) {
    let path = path.into();
    if value.trim().is_empty() {
        problems.push(Problem::new(path, keys::REQUIRED));
    } else if value.chars().count() > max_chars {
        problems.push(Problem::new(path, keys::TOO_LONG));
    }
}

/// Pushes `too_long` for an optional text field.
pub(crate) fn check_optional_text(
    problems: &mut Vec<Problem>,
    path: impl Into<String>,
    value: &str,
    max_chars: usize,
) {
    if value.chars().count() > max_chars {
        problems.push(Problem::new(path, keys::TOO_LONG));
    }
}
