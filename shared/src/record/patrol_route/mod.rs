//! The patrol route (巡逻路线): the checkpoints a round visits, in order, the times of day
//! rounds are due and how long one may take. Office staff define it; it reaches the guards'
//! phones (the follow set) so that a round on it works with no network.
//!
//! A route document holds revisions, append-only like every entry: a change to the route is
//! a new revision, and the route as it stands is its latest revision ([`PatrolRoute::current`]).
//! A checkpoint keeps its ID through every revision, so the QR code printed for it stays
//! good when it is renamed or moved in the order. A round copies the checkpoints of the
//! revision it starts on (`PatrolLog::planned`), so what a guard was asked to visit is on the
//! round itself, whatever the route becomes later.

use std::collections::HashSet;

use autosurgeon::{Hydrate, Reconcile};

use super::entry::{impl_entry, Entry};
use super::remark::{check_remark, Remark};
use super::rules::{check_entries, corrections_point_into, unique_ids};
use super::{AnyRecord, Field, Header, Kind, RecordKind, SummaryDetail, Writer};
use crate::problem::{check_optional_text, check_text, keys, Problem};
use crate::user::Role;
use crate::DocumentId;

mod report;
#[cfg(test)]
mod tests;

pub use report::{route_day, RoundFacts, RouteDay, Slot, EARLY_START_MINUTES};

/// Longest route name, in characters.
pub const MAX_NAME_CHARS: usize = 100;
/// Longest checkpoint name (as on a round's visit), in characters.
pub const MAX_CHECKPOINT_CHARS: usize = super::patrol_log::MAX_CHECKPOINT_CHARS;
/// Longest hint for finding a checkpoint, in characters.
pub const MAX_HINT_CHARS: usize = 200;
/// Most checkpoints on one route.
pub const MAX_CHECKPOINTS: usize = 100;
/// Most times of day a route's rounds are due.
pub const MAX_DUE_TIMES: usize = 48;
/// The longest a round may be allowed to take, in minutes (a day).
pub const MAX_ROUND_MINUTES: u32 = 24 * 60;
/// Longest checkpoint ID, in characters.
pub const MAX_CHECKPOINT_ID_CHARS: usize = 40;
/// What a checkpoint's QR code holds before its ID: `GH1:CP:` then the ID.
pub const QR_PREFIX: &str = "GH1:CP:";

/// One route.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct PatrolRoute {
    /// Always `PatrolRoute`.
    pub kind: RecordKind,
    pub estate_id: String,
    /// User ID of the clerk who defined it.
    pub created_by: String,
    /// The clerk's name at the time.
    pub clerk_name: String,
    /// Device time it was defined.
    pub created_at: i64,
    pub revisions: Vec<RouteRevision>,
    pub remarks: Vec<Remark>,
}

/// The route as the office set it at one time. The latest is in force.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct RouteRevision {
    #[key]
    pub id: String,
    pub author: String,
    /// Always `None`: a revision replaces the one before it, it corrects nothing.
    #[autosurgeon(missing = "Default::default")]
    pub corrects: Option<String>,
    pub name: String,
    /// In the order a round visits them.
    pub checkpoints: Vec<Checkpoint>,
    /// Times of day (`HH:MM`, the estate's local time) a round is due, in order.
    pub due_times: Vec<String>,
    /// How long a round may take, in minutes; a round open longer is overdue.
    pub max_minutes: u32,
    /// The office no longer uses the route: no new round starts on it.
    pub retired: bool,
    pub revised_at: i64,
}

/// A place on a route where the guard clocks in (打卡).
#[derive(Debug, Clone, PartialEq, Eq, Reconcile, Hydrate)]
pub struct Checkpoint {
    /// Minted when the checkpoint is added, kept through every revision; its QR code holds it.
    pub id: String,
    pub name: String,
    /// Where to find it (the sticker is on the left of the fire door).
    pub hint: String,
}

impl_entry!(authored: RouteRevision);

impl Checkpoint {
    /// What the checkpoint's QR code holds.
    pub fn qr_text(&self) -> String {
        format!("{QR_PREFIX}{}", self.id)
    }
}

/// The checkpoint ID a scanned code holds, if it is a checkpoint's code at all.
pub fn checkpoint_in_code(text: &str) -> Option<&str> {
    let id = text.trim().strip_prefix(QR_PREFIX)?;
    valid_checkpoint_id(id).then_some(id)
}

/// 1 to 40 ASCII letters, digits and `-`.
pub fn valid_checkpoint_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_CHECKPOINT_ID_CHARS
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// A new checkpoint's ID from random bytes the caller supplies: `cp-` and 16 hex digits.
pub fn checkpoint_id(random: [u8; 8]) -> String {
    let mut id = String::from("cp-");
    for b in random {
        id.push_str(&format!("{b:02x}"));
    }
    id
}

/// Minutes after midnight of a time of day written `HH:MM` (`7:30` too).
pub fn parse_time_of_day(text: &str) -> Option<u32> {
    let (h, m) = text.trim().split_once(':')?;
    let digits = |part: &str| part.bytes().all(|b| b.is_ascii_digit());
    if h.is_empty() || h.len() > 2 || m.len() != 2 || !digits(h) || !digits(m) {
        return None;
    }
    let h: u32 = h.parse().ok()?;
    let m: u32 = m.parse().ok()?;
    (h < 24 && m < 60).then_some(h * 60 + m)
}

/// A time of day as `HH:MM`.
pub fn format_time_of_day(minutes: u32) -> String {
    format!("{:02}:{:02}", minutes / 60 % 24, minutes % 60)
}

impl RouteRevision {
    /// A revision; `due_times` in any order and form `parse_time_of_day` reads, kept sorted
    /// as `HH:MM`. Fails with every problem in it.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        id: crate::record::EntryId,
        author: &str,
        name: &str,
        checkpoints: Vec<Checkpoint>,
        due_times: &[String],
        max_minutes: u32,
        retired: bool,
        revised_at: i64,
    ) -> Result<Self, Vec<Problem>> {
        let mut problems = Vec::new();
        let mut times = Vec::new();
        for (i, text) in due_times.iter().enumerate() {
            match parse_time_of_day(text) {
                Some(minutes) => times.push(minutes),
                None => problems.push(Problem::new(format!("due_times[{i}]"), keys::BAD_TIME)),
            }
        }
        times.sort_unstable();
        times.dedup();
        let revision = Self {
            id: id.to_string(),
            author: author.to_owned(),
            corrects: None,
            name: name.trim().to_owned(),
            checkpoints: checkpoints
                .into_iter()
                .map(|c| Checkpoint {
                    id: c.id,
                    name: c.name.trim().to_owned(),
                    hint: c.hint.trim().to_owned(),
                })
                .collect(),
            due_times: times.into_iter().map(format_time_of_day).collect(),
            max_minutes,
            retired,
            revised_at,
        };
        check_revision(&mut problems, "revision", &revision);
        if problems.is_empty() {
            Ok(revision)
        } else {
            Err(problems)
        }
    }

    pub fn checkpoint(&self, id: &str) -> Option<&Checkpoint> {
        self.checkpoints.iter().find(|c| c.id == id)
    }
}

impl PatrolRoute {
    /// Defines a route with its first revision.
    pub fn new(
        estate_id: &str,
        created_by: &str,
        clerk_name: &str,
        first: RouteRevision,
        created_at: i64,
    ) -> Result<Self, Vec<Problem>> {
        let route = Self {
            kind: RecordKind::PatrolRoute,
            estate_id: estate_id.trim().to_owned(),
            created_by: created_by.trim().to_owned(),
            clerk_name: clerk_name.trim().to_owned(),
            created_at,
            revisions: vec![first],
            remarks: Vec::new(),
        };
        let problems = Kind::validate(&route);
        if problems.is_empty() {
            Ok(route)
        } else {
            Err(problems)
        }
    }

    /// The revision in force: the latest (ties broken by ID).
    pub fn current(&self) -> Option<&RouteRevision> {
        self.revisions
            .iter()
            .max_by(|a, b| a.revised_at.cmp(&b.revised_at).then(a.id.cmp(&b.id)))
    }

    pub fn name(&self) -> &str {
        self.current().map_or("", |r| r.name.as_str())
    }

    pub fn is_retired(&self) -> bool {
        self.current().is_some_and(|r| r.retired)
    }

    /// The revision that was in force at `at` (the first one before any).
    pub fn revision_at(&self, at: i64) -> Option<&RouteRevision> {
        self.revisions
            .iter()
            .filter(|r| r.revised_at <= at)
            .max_by(|a, b| a.revised_at.cmp(&b.revised_at).then(a.id.cmp(&b.id)))
            .or_else(|| {
                self.revisions
                    .iter()
                    .min_by(|a, b| a.revised_at.cmp(&b.revised_at).then(a.id.cmp(&b.id)))
            })
    }

    /// When the revision in force retired it.
    pub fn retired_at(&self) -> Option<i64> {
        self.current().filter(|r| r.retired).map(|r| r.revised_at)
    }
}

fn check_revision(problems: &mut Vec<Problem>, path: &str, revision: &RouteRevision) {
    check_text(
        problems,
        format!("{path}.name"),
        &revision.name,
        MAX_NAME_CHARS,
    );
    if revision.checkpoints.is_empty() {
        problems.push(Problem::new(format!("{path}.checkpoints"), keys::REQUIRED));
    }
    if revision.checkpoints.len() > MAX_CHECKPOINTS {
        problems.push(Problem::new(format!("{path}.checkpoints"), keys::TOO_MANY));
    }
    let mut ids = HashSet::new();
    let mut names = HashSet::new();
    for (i, checkpoint) in revision.checkpoints.iter().enumerate() {
        let at = format!("{path}.checkpoints[{i}]");
        if !valid_checkpoint_id(&checkpoint.id) {
            problems.push(Problem::new(format!("{at}.id"), keys::UNKNOWN_VALUE));
        }
        if !ids.insert(checkpoint.id.as_str()) {
            problems.push(Problem::new(format!("{at}.id"), keys::DUPLICATE_ID));
        }
        check_text(
            problems,
            format!("{at}.name"),
            &checkpoint.name,
            MAX_CHECKPOINT_CHARS,
        );
        // A guard picks a checkpoint by its name when its code is damaged: two of one name
        // could not be told apart.
        if !names.insert(name_key(&checkpoint.name)) {
            problems.push(Problem::new(format!("{at}.name"), keys::DUPLICATE_NAME));
        }
        check_optional_text(
            problems,
            format!("{at}.hint"),
            &checkpoint.hint,
            MAX_HINT_CHARS,
        );
    }
    if revision.due_times.len() > MAX_DUE_TIMES {
        problems.push(Problem::new(format!("{path}.due_times"), keys::TOO_MANY));
    }
    for (i, time) in revision.due_times.iter().enumerate() {
        if parse_time_of_day(time).is_none() {
            problems.push(Problem::new(
                format!("{path}.due_times[{i}]"),
                keys::BAD_TIME,
            ));
        }
    }
    if revision.max_minutes == 0 || revision.max_minutes > MAX_ROUND_MINUTES {
        problems.push(Problem::new(
            format!("{path}.max_minutes"),
            keys::OUT_OF_RANGE,
        ));
    }
    if revision.corrects.is_some() {
        problems.push(Problem::new(
            format!("{path}.corrects"),
            keys::BAD_CORRECTION,
        ));
    }
}

/// How two checkpoint names are compared: white space, invisible format characters
/// (zero-width spaces, soft hyphens) and case ignored, full-width letters and digits (as
/// Chinese input methods type them) read as their ASCII forms.
pub fn name_key(name: &str) -> String {
    name.chars()
        .filter(|c| !c.is_whitespace() && !is_invisible(*c))
        .map(|c| match u32::from(c) {
            // FULLWIDTH EXCLAMATION MARK .. FULLWIDTH TILDE are ASCII 0x21..0x7E, shifted.
            code @ 0xFF01..=0xFF5E => char::from_u32(code - 0xFEE0).unwrap_or(c),
            _ => c,
        })
        .flat_map(char::to_lowercase)
        .collect()
}

/// Format characters that show nothing.
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}' | '\u{180E}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}' | '\u{FEFF}'
    )
}

impl Kind for PatrolRoute {
    const KIND: RecordKind = RecordKind::PatrolRoute;

    fn remarks_mut(&mut self) -> &mut Vec<Remark> {
        &mut self.remarks
    }

    fn header(&self) -> Header<'_> {
        Header {
            kind: self.kind,
            estate_id: &self.estate_id,
            created_by: &self.created_by,
            author_name: &self.clerk_name,
            unit: "",
            title: self.name(),
            started_at: self.created_at,
            // A retired route takes new revisions still (the office may use it again).
            closed_at: None,
        }
    }

    fn fields(&self) -> Vec<(&'static str, Field<'_>)> {
        vec![
            ("clerk_name", Field::Text(&self.clerk_name)),
            ("created_at", Field::Time(Some(self.created_at))),
        ]
    }

    fn validate(&self) -> Vec<Problem> {
        let mut problems = Vec::new();
        if self.kind != RecordKind::PatrolRoute {
            problems.push(Problem::new("kind", keys::NOT_A_RECORD));
        }
        for (path, value) in [
            ("estate_id", &self.estate_id),
            ("created_by", &self.created_by),
            ("clerk_name", &self.clerk_name),
        ] {
            check_text(&mut problems, path, value, MAX_NAME_CHARS);
        }
        if self.created_at <= 0 {
            problems.push(Problem::new("created_at", keys::REQUIRED));
        }
        if self.revisions.is_empty() {
            problems.push(Problem::new("revisions", keys::REQUIRED));
        }
        for (i, revision) in self.revisions.iter().enumerate() {
            check_revision(&mut problems, &format!("revisions[{i}]"), revision);
        }
        for (i, remark) in self.remarks.iter().enumerate() {
            check_remark(&mut problems, &format!("remarks[{i}]"), remark);
        }
        let mut seen = HashSet::new();
        unique_ids(
            &mut problems,
            &mut seen,
            "revisions",
            self.revisions.iter().map(Entry::id),
        );
        unique_ids(
            &mut problems,
            &mut seen,
            "remarks",
            self.remarks.iter().map(Entry::id),
        );
        corrections_point_into(&mut problems, "remarks", &self.remarks);
        problems
    }

    fn times(&self) -> Vec<(String, i64)> {
        let mut times = vec![("created_at".to_owned(), self.created_at)];
        for (i, revision) in self.revisions.iter().enumerate() {
            times.push((format!("revisions[{i}].revised_at"), revision.revised_at));
        }
        for (i, remark) in self.remarks.iter().enumerate() {
            times.push((format!("remarks[{i}].written_at"), remark.written_at));
        }
        times
    }

    /// Office staff revise the route and add remarks. A revision comes after the one in
    /// force, so that the latest is the one that counts on every replica.
    fn judge_entries(
        before: Option<&Self>,
        after: &Self,
        writer: &Writer<'_>,
        _doc: DocumentId,
        problems: &mut Vec<Problem>,
    ) {
        let office = writer.role == Role::Office;
        let creator = after.created_by.as_str();
        check_entries(
            problems,
            "revisions",
            before.map_or(&[][..], |b| &b.revisions),
            &after.revisions,
            writer,
            office,
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
        let in_force = before.and_then(PatrolRoute::current);
        let old: HashSet<&str> = before
            .map(|b| b.revisions.iter().map(Entry::id).collect())
            .unwrap_or_default();
        for (i, revision) in after.revisions.iter().enumerate() {
            if !old.contains(revision.id.as_str())
                && in_force.is_some_and(|f| revision.revised_at <= f.revised_at)
            {
                problems.push(Problem::new(
                    format!("revisions[{i}].revised_at"),
                    keys::STEP_OUT_OF_ORDER,
                ));
            }
        }
    }

    fn detail(&self) -> SummaryDetail {
        let current = self.current();
        SummaryDetail::PatrolRoute {
            checkpoint_count: current.map_or(0, |r| r.checkpoints.len() as u32),
            due_times: current.map(|r| r.due_times.clone()).unwrap_or_default(),
            max_minutes: current.map_or(0, |r| r.max_minutes),
        }
    }

    fn status(&self) -> &'static str {
        if self.is_retired() {
            "retired"
        } else {
            "active"
        }
    }

    /// A retired route is done with: guards' phones keep it the estate's retention period.
    fn done_at(&self) -> Option<i64> {
        self.retired_at()
    }

    fn into_any(self) -> AnyRecord {
        AnyRecord::PatrolRoute(self)
    }

    fn from_any(record: &AnyRecord) -> Option<&Self> {
        match record {
            AnyRecord::PatrolRoute(route) => Some(route),
            _ => None,
        }
    }
}
