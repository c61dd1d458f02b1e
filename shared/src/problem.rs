//! A broken rule, as data: where it is and a message key the interface translates.

use serde::{Deserialize, Serialize};

/// One problem found by a validation rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    /// Where in the record, e.g. `visits[2].checkpoint`.
    pub path: String,
    /// What is wrong; on the wire and in storage its text form, e.g. `validation.required`.
    pub key: ProblemKey,
}

impl Problem {
    pub fn new(path: impl Into<String>, key: ProblemKey) -> Self {
        Self {
            path: path.into(),
            key,
        }
    }
}

/// Defines [`ProblemKey`], its text form, and the `keys` constants the rules use.
macro_rules! problem_keys {
    ($( $(#[$doc:meta])* $variant:ident = $text:literal, $constant:ident; )*) => {
        /// What a rule found wrong. The client translates every key (an exhaustive match).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(into = "String", from = "String")]
        pub enum ProblemKey {
            $( $(#[$doc])* $variant, )*
        }

        impl ProblemKey {
            pub const ALL: &'static [ProblemKey] = &[$(ProblemKey::$variant),*];

            /// The text form (`validation.required`), a translation key.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(ProblemKey::$variant => $text,)*
                }
            }
        }

        /// The keys by the names the rules use.
        pub mod keys {
            use super::ProblemKey;
            $( pub const $constant: ProblemKey = ProblemKey::$variant; )*
        }
    };
}

problem_keys! {
    Required = "validation.required", REQUIRED;
    TooLong = "validation.too_long", TOO_LONG;
    EndsBeforeStart = "validation.ends_before_start", ENDS_BEFORE_START;
    BeforeRoundStart = "validation.before_round_start", BEFORE_ROUND_START;
    DuplicateId = "validation.duplicate_id", DUPLICATE_ID;
    NotARecord = "validation.not_a_record", NOT_A_RECORD;
    OtherEstate = "validation.other_estate", OTHER_ESTATE;
    EstateChanged = "validation.estate_changed", ESTATE_CHANGED;
    CreatorChanged = "validation.creator_changed", CREATOR_CHANGED;
    CreatorNotWriter = "validation.creator_not_writer", CREATOR_NOT_WRITER;
    EntryDeleted = "validation.entry_deleted", ENTRY_DELETED;
    InFuture = "validation.in_future", IN_FUTURE;
    ForeignActor = "validation.foreign_actor", FOREIGN_ACTOR;
    RoleForbids = "validation.role_forbids", ROLE_FORBIDS;
    DocumentTooLarge = "validation.document_too_large", DOCUMENT_TOO_LARGE;
    KindChanged = "validation.kind_changed", KIND_CHANGED;
    /// A written entry was changed (entries are never changed; a correction is a new entry).
    EntryChanged = "validation.entry_changed", ENTRY_CHANGED;
    /// A new entry names someone other than its writer as author.
    AuthorNotWriter = "validation.author_not_writer", AUTHOR_NOT_WRITER;
    /// A record's own field was changed by someone other than its creator.
    NotCreator = "validation.not_creator", NOT_CREATOR;
    /// A closed record's own field was changed.
    RecordClosed = "validation.record_closed", RECORD_CLOSED;
    /// A correction names no entry of its list, itself, or another user's entry.
    BadCorrection = "validation.bad_correction", BAD_CORRECTION;
    /// A signature does not verify with the writing device's enrolled key.
    BadSignature = "validation.bad_signature", BAD_SIGNATURE;
    /// A signature names another record's document.
    SignatureOtherRecord = "validation.signature_other_record", SIGNATURE_OTHER_RECORD;
    /// A signature's content hash is not the hash of the content it names.
    ContentMismatch = "validation.content_mismatch", CONTENT_MISMATCH;
    StrokeMismatch = "validation.stroke_mismatch", STROKE_MISMATCH;
    EmptyStroke = "validation.empty_stroke", EMPTY_STROKE;
    /// A step before its turn (acceptance before consented work, an outcome before acceptance).
    StepOutOfOrder = "validation.step_out_of_order", STEP_OUT_OF_ORDER;
    /// Work on an estimate the owner has not consented to as it stands.
    NoConsent = "validation.no_consent", NO_CONSENT;
    /// A reference to an entry the record does not hold.
    UnknownEntry = "validation.unknown_entry", UNKNOWN_ENTRY;
    OutOfRange = "validation.out_of_range", OUT_OF_RANGE;
    TooMany = "validation.too_many", TOO_MANY;
    /// Changes that leave the record as it was.
    NoChange = "validation.no_change", NO_CHANGE;
    /// Two different changes with one actor and sequence number (the app open in two tabs of
    /// one phone, before a phone guarded against it): no replica can take the second.
    DuplicateChange = "validation.duplicate_change", DUPLICATE_CHANGE;
    /// The record was refused by the server: it is corrected before anything is added.
    CorrectFirst = "validation.correct_first", CORRECT_FIRST;
    /// Tenants on a unit that is not let.
    NotLet = "validation.not_let", NOT_LET;
    /// Not a contact number (letters, too few digits, a number a spreadsheet turned into 1.38E+10).
    BadPhone = "validation.bad_phone", BAD_PHONE;
    /// Fewer than four characters of an ID number, or not its last four.
    BadIdNumber = "validation.bad_id_number", BAD_ID_NUMBER;
    /// Not a date (a day that does not exist, or not year, month and day).
    BadDate = "validation.bad_date", BAD_DATE;
    /// A value the field does not take (an occupancy other than the four).
    UnknownValue = "validation.unknown_value", UNKNOWN_VALUE;
    /// An imported row that could not be read as CSV.
    UnreadableRow = "validation.unreadable_row", UNREADABLE_ROW;
    /// A column the import needs is missing from the header row.
    MissingColumn = "validation.missing_column", MISSING_COLUMN;
    /// Two columns of the header row name the same field.
    DuplicateColumn = "validation.duplicate_column", DUPLICATE_COLUMN;
    /// Rows of one unit (or one person) that say different things.
    ConflictingRows = "validation.conflicting_rows", CONFLICTING_ROWS;
    /// Nothing may leave on a slip the owner has not approved.
    NotApproved = "validation.not_approved", NOT_APPROVED;
    /// The day is outside the slip's window.
    OutOfWindow = "validation.out_of_window", OUT_OF_WINDOW;
    /// Everything on the slip has left already.
    UsedUp = "validation.used_up", USED_UP;
    /// More of an item released, over every check, than the slip allows.
    OverReleased = "validation.over_released", OVER_RELEASED;
    /// The decision does not match what was released and held.
    DecisionMismatch = "validation.decision_mismatch", DECISION_MISMATCH;
    /// An approval that covers other content than the slip holds.
    ApprovalMismatch = "validation.approval_mismatch", APPROVAL_MISMATCH;
    /// An approved slip does not change: a change is a new slip.
    SlipApproved = "validation.slip_approved", SLIP_APPROVED;
    /// A new entry that must be signed in the same change is not (a check at the gate).
    Unsigned = "validation.unsigned", UNSIGNED;
    /// A work order assigned to another technician.
    NotAssigned = "validation.not_assigned", NOT_ASSIGNED;
    /// A work order already taken or cancelled.
    RequestClosed = "validation.request_closed", REQUEST_CLOSED;
    /// Not a time of day (`HH:MM`).
    BadTime = "validation.bad_time", BAD_TIME;
    /// Two checkpoints of one route with the same name.
    DuplicateName = "validation.duplicate_name", DUPLICATE_NAME;
    /// A visit typed by hand to a checkpoint of the round's route (it is scanned or picked).
    OnRoute = "validation.on_route", ON_ROUTE;
    /// A visit to a checkpoint the round's route does not have.
    NotOnRoute = "validation.not_on_route", NOT_ON_ROUTE;
    /// A round's route or planned checkpoints changed after it started.
    RouteChanged = "validation.route_changed", ROUTE_CHANGED;
    /// A public text (a found item's description) that looks like personal data: numbers,
    /// amounts.
    PersonalData = "validation.personal_data", PERSONAL_DATA;
    /// A valuable handed over before its count was witnessed and signed by both.
    NotWitnessed = "validation.not_witnessed", NOT_WITNESSED;
    /// The desk's count leaves out a line the finder counted.
    CountIncomplete = "validation.count_incomplete", COUNT_INCOMPLETE;
    /// A claim without the claimant's description given before.
    NoDescription = "validation.no_description", NO_DESCRIPTION;
    /// A claim without an ID checked (type, number, the clerk's check).
    IdNotChecked = "validation.id_not_checked", ID_NOT_CHECKED;
    /// Disposed of (or handed to the police) before the retention period ended.
    BeforeRetention = "validation.before_retention", BEFORE_RETENTION;
    /// A key this version does not know (from a newer server), or no better one.
    Unknown = "validation.unknown", UNKNOWN;
}

impl ProblemKey {
    /// The key of a text form; `Unknown` for one this version does not know.
    pub fn parse(text: &str) -> Self {
        Self::ALL
            .iter()
            .copied()
            .find(|k| k.as_str() == text)
            .unwrap_or(ProblemKey::Unknown)
    }
}

impl From<String> for ProblemKey {
    fn from(text: String) -> Self {
        Self::parse(&text)
    }
}

impl From<ProblemKey> for String {
    fn from(key: ProblemKey) -> Self {
        key.as_str().to_owned()
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_keep_their_text_form_on_the_wire() {
        for key in ProblemKey::ALL {
            assert_eq!(ProblemKey::parse(key.as_str()), *key);
            assert!(key.as_str().starts_with("validation."));
        }
        let problem = Problem::new("visits[0].note", keys::TOO_LONG);
        let json = serde_json::to_string(&problem).expect("serializes");
        assert_eq!(
            json,
            r#"{"path":"visits[0].note","key":"validation.too_long"}"#
        );
        let back: Problem = serde_json::from_str(&json).expect("deserializes");
        assert_eq!(back, problem);
        // A key from a newer server is still a problem, shown as "does not meet the rules".
        let newer: Problem =
            serde_json::from_str(r#"{"path":"x","key":"validation.from_the_future"}"#)
                .expect("deserializes");
        assert_eq!(newer.key, ProblemKey::Unknown);
    }
}
