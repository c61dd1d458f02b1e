//! The owner/tenant registry (业主资料): per estate, who owns each unit, whether it is let and
//! to whom until when, and how to reach them. Office staff write it (a form, or a CSV file
//! from a spreadsheet, [`import`]); guards read it at the gate with no network.
//!
//! A registry document holds unit entries, append-only like every entry: a change to a unit
//! is a new entry for the same unit, and the unit as it stands is its latest entry
//! ([`current_units`]), so who wrote each version of a unit, and when, is never lost. An
//! estate may hold more than one registry document (two clerks starting one offline at once);
//! the registry is the latest entry per unit over all of them.
//!
//! Personal data: names and contact numbers reach the estate's staff only (the follow set of
//! the estate's guards and office). ID numbers are not kept at all: a unit entry holds the
//! last four characters, which is what the guard compares with the card in front of him.

use std::cmp::Ordering;
use std::collections::{BTreeMap, HashSet};

use autosurgeon::{Hydrate, Reconcile};
use serde::{Deserialize, Serialize};

use super::entry::{impl_entry, Entry};
use super::remark::{check_remark, Remark};
use super::rules::{check_entries, corrections_point_into, unique_ids};
use super::{AnyRecord, Field, Header, Kind, RecordKind, SummaryDetail, Writer};
use crate::date::Date;
use crate::problem::{check_optional_text, check_text, keys, Problem};
use crate::user::Role;
use crate::DocumentId;

pub mod import;
#[cfg(test)]
mod tests;

/// Longest name, company, employer or unit part, in characters.
pub const MAX_SHORT_CHARS: usize = 100;
/// Longest contact number field, in characters (two numbers with a separator fit).
pub const MAX_PHONE_CHARS: usize = 40;
/// Most owners, or tenants, of one unit.
pub const MAX_PEOPLE: usize = 10;
/// A tenant whose lease ends within this many days is pointed out at the gate.
pub const LEASE_WARNING_DAYS: i64 = 30;

/// Who lives in or uses a unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Reconcile, Hydrate, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Occupancy {
    /// The owner lives there (自住).
    OwnerOccupied,
    /// Let to tenants (出租).
    Let,
    /// A company's unit (公司).
    Company,
    /// Nobody lives there (空置).
    Vacant,
}

impl Occupancy {
    pub const ALL: [Occupancy; 4] = [
        Occupancy::OwnerOccupied,
        Occupancy::Let,
        Occupancy::Company,
        Occupancy::Vacant,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Occupancy::OwnerOccupied => "owner_occupied",
            Occupancy::Let => "let",
            Occupancy::Company => "company",
            Occupancy::Vacant => "vacant",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|o| o.as_str() == text)
    }
}

/// An owner of a unit.
#[derive(Debug, Clone, PartialEq, Eq, Reconcile, Hydrate)]
pub struct Owner {
    pub name: String,
    /// Contact number(s); may be empty.
    pub phone: String,
    /// Where the owner works (工作单位), one of the questions that identify a caller.
    pub employer: String,
    /// The last four characters of the owner's ID number; may be empty.
    pub id_last4: String,
}

/// A tenant of a let unit.
#[derive(Debug, Clone, PartialEq, Eq, Reconcile, Hydrate)]
pub struct Tenant {
    pub name: String,
    pub phone: String,
    pub id_last4: String,
    /// The lease, `YYYY-MM-DD`; either may be empty when unknown.
    pub lease_start: String,
    pub lease_end: String,
}

/// Where a tenant's lease stands on a given day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeaseState {
    /// The lease end is not recorded.
    Unknown,
    /// The lease runs past the warning period.
    Running,
    /// The lease ends in this many days (0 = today), within [`LEASE_WARNING_DAYS`].
    EndsSoon(i64),
    /// The lease ended this many days ago.
    Ended(i64),
}

impl Tenant {
    /// The lease on `today` (the phone's local date).
    pub fn lease_state(&self, today: Date) -> LeaseState {
        match Date::parse(&self.lease_end) {
            None => LeaseState::Unknown,
            Some(end) => {
                let days = today.days_until(end);
                if days < 0 {
                    LeaseState::Ended(-days)
                } else if days <= LEASE_WARNING_DAYS {
                    LeaseState::EndsSoon(days)
                } else {
                    LeaseState::Running
                }
            }
        }
    }
}

/// One unit (房屋) as the registry records it.
#[derive(Debug, Clone, PartialEq, Eq, Reconcile, Hydrate)]
pub struct UnitInfo {
    /// 楼栋; may be empty in an estate of one building.
    pub building: String,
    /// 单元 (entrance); often empty.
    pub entrance: String,
    /// 房号.
    pub room: String,
    pub occupancy: Occupancy,
    /// The company's name, for a company unit.
    pub company: String,
    pub owners: Vec<Owner>,
    /// Only a let unit has tenants.
    pub tenants: Vec<Tenant>,
}

/// How a unit is found: its parts, trimmed, ASCII letters in upper case. Ordered as people
/// count: building 3 before building 12, room 502 before room 1201.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UnitKey {
    pub building: String,
    pub entrance: String,
    pub room: String,
}

impl UnitKey {
    pub fn new(building: &str, entrance: &str, room: &str) -> Self {
        let part = |text: &str| text.trim().to_ascii_uppercase();
        Self {
            building: part(building),
            entrance: part(entrance),
            room: part(room),
        }
    }

    /// As staff write it: the non-empty parts joined by `-` (`3-1-502`).
    pub fn label(&self) -> String {
        [&self.building, &self.entrance, &self.room]
            .into_iter()
            .filter(|p| !p.is_empty())
            .map(String::as_str)
            .collect::<Vec<_>>()
            .join("-")
    }
}

impl Ord for UnitKey {
    fn cmp(&self, other: &Self) -> Ordering {
        natural(&self.building, &other.building)
            .then_with(|| natural(&self.entrance, &other.entrance))
            .then_with(|| natural(&self.room, &other.room))
    }
}

impl PartialOrd for UnitKey {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Compares runs of digits by their number and everything else as text.
fn natural(a: &str, b: &str) -> Ordering {
    fn runs(text: &str) -> Vec<(bool, &str)> {
        let mut runs = Vec::new();
        let mut start = 0;
        let mut digits = None;
        for (at, c) in text.char_indices() {
            let is_digit = c.is_ascii_digit();
            if digits.is_some_and(|d| d != is_digit) {
                runs.push((digits == Some(true), &text[start..at]));
                start = at;
            }
            digits = Some(is_digit);
        }
        if start < text.len() {
            runs.push((digits == Some(true), &text[start..]));
        }
        runs
    }
    for (x, y) in runs(a).into_iter().zip(runs(b)) {
        let order = match (x, y) {
            ((true, x), (true, y)) => {
                let (x, y) = (x.trim_start_matches('0'), y.trim_start_matches('0'));
                x.len().cmp(&y.len()).then_with(|| x.cmp(y))
            }
            ((_, x), (_, y)) => x.cmp(y),
        };
        if order != Ordering::Equal {
            return order;
        }
    }
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

impl UnitInfo {
    pub fn key(&self) -> UnitKey {
        UnitKey::new(&self.building, &self.entrance, &self.room)
    }

    /// Whether the unit matches what a guard typed: a unit label (`3-1-502`, `31502`, `502`)
    /// or part of a name (owner, tenant, company). Case, spaces and dashes do not count.
    pub fn matches(&self, query: &str) -> bool {
        let query = normalize(query);
        if query.is_empty() {
            return true;
        }
        let key = self.key();
        let joined = normalize(&format!("{}{}{}", key.building, key.entrance, key.room));
        joined.ends_with(&query)
            || normalize(&key.room) == query
            || normalize(&self.company).contains(&query)
            || self
                .owners
                .iter()
                .any(|o| normalize(&o.name).contains(&query))
            || self
                .tenants
                .iter()
                .any(|t| normalize(&t.name).contains(&query))
    }
}

fn normalize(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .flat_map(char::to_lowercase)
        .collect()
}

/// One version of one unit, written once by an office user.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct UnitEntry {
    #[key]
    pub id: String,
    pub author: String,
    /// Never set: a unit changes by a later entry for it.
    #[autosurgeon(missing = "Default::default")]
    pub corrects: Option<String>,
    pub written_at: i64,
    pub unit: UnitInfo,
}

impl_entry!(authored: UnitEntry);

/// An estate's registry document.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct Registry {
    /// Always `Registry`.
    pub kind: RecordKind,
    pub estate_id: String,
    /// The office user who started the document.
    pub created_by: String,
    pub author_name: String,
    pub started_at: i64,
    pub units: Vec<UnitEntry>,
    pub remarks: Vec<Remark>,
}

impl Registry {
    /// A registry document with no units yet.
    pub fn start(estate_id: &str, created_by: &str, author_name: &str, started_at: i64) -> Self {
        Self {
            kind: RecordKind::Registry,
            estate_id: estate_id.to_owned(),
            created_by: created_by.to_owned(),
            author_name: author_name.to_owned(),
            started_at,
            units: Vec::new(),
            remarks: Vec::new(),
        }
    }
}

/// The registry as it stands over every registry document of an estate: the latest entry
/// of each unit (by time written, then entry ID, so every replica agrees), in unit order.
pub fn current_units<'a>(registries: impl IntoIterator<Item = &'a Registry>) -> Vec<&'a UnitEntry> {
    let mut latest: BTreeMap<UnitKey, &UnitEntry> = BTreeMap::new();
    for entry in registries.into_iter().flat_map(|r| &r.units) {
        latest
            .entry(entry.unit.key())
            .and_modify(|kept| {
                if (entry.written_at, &entry.id) > (kept.written_at, &kept.id) {
                    *kept = entry;
                }
            })
            .or_insert(entry);
    }
    latest.into_values().collect()
}

/// The problems of one unit, at `path`; the same rules for the form, the import and the
/// server.
pub fn check_unit(problems: &mut Vec<Problem>, path: &str, unit: &UnitInfo) {
    check_optional_text(
        problems,
        format!("{path}.building"),
        &unit.building,
        MAX_SHORT_CHARS,
    );
    check_optional_text(
        problems,
        format!("{path}.entrance"),
        &unit.entrance,
        MAX_SHORT_CHARS,
    );
    check_text(
        problems,
        format!("{path}.room"),
        &unit.room,
        MAX_SHORT_CHARS,
    );
    match unit.occupancy {
        Occupancy::Company => check_text(
            problems,
            format!("{path}.company"),
            &unit.company,
            MAX_SHORT_CHARS,
        ),
        _ => check_optional_text(
            problems,
            format!("{path}.company"),
            &unit.company,
            MAX_SHORT_CHARS,
        ),
    }
    if unit.occupancy != Occupancy::Company && unit.owners.is_empty() {
        problems.push(Problem::new(format!("{path}.owners"), keys::REQUIRED));
    }
    match unit.occupancy {
        Occupancy::Let if unit.tenants.is_empty() => {
            problems.push(Problem::new(format!("{path}.tenants"), keys::REQUIRED));
        }
        Occupancy::Let => {}
        _ if !unit.tenants.is_empty() => {
            problems.push(Problem::new(format!("{path}.tenants"), keys::NOT_LET));
        }
        _ => {}
    }
    for (list, count) in [
        ("owners", unit.owners.len()),
        ("tenants", unit.tenants.len()),
    ] {
        if count > MAX_PEOPLE {
            problems.push(Problem::new(format!("{path}.{list}"), keys::TOO_MANY));
        }
    }
    for (i, owner) in unit.owners.iter().enumerate() {
        check_owner(problems, &format!("{path}.owners[{i}]"), owner);
    }
    for (i, tenant) in unit.tenants.iter().enumerate() {
        check_tenant(problems, &format!("{path}.tenants[{i}]"), tenant);
    }
}

pub fn check_owner(problems: &mut Vec<Problem>, at: &str, owner: &Owner) {
    check_text(problems, format!("{at}.name"), &owner.name, MAX_SHORT_CHARS);
    check_phone(problems, format!("{at}.phone"), &owner.phone);
    check_optional_text(
        problems,
        format!("{at}.employer"),
        &owner.employer,
        MAX_SHORT_CHARS,
    );
    check_id_last4(problems, format!("{at}.id_last4"), &owner.id_last4);
}

pub fn check_tenant(problems: &mut Vec<Problem>, at: &str, tenant: &Tenant) {
    check_text(
        problems,
        format!("{at}.name"),
        &tenant.name,
        MAX_SHORT_CHARS,
    );
    check_phone(problems, format!("{at}.phone"), &tenant.phone);
    check_id_last4(problems, format!("{at}.id_last4"), &tenant.id_last4);
    let start = check_date(problems, format!("{at}.lease_start"), &tenant.lease_start);
    let end = check_date(problems, format!("{at}.lease_end"), &tenant.lease_end);
    if let (Some(start), Some(end)) = (start, end) {
        if end < start {
            problems.push(Problem::new(
                format!("{at}.lease_end"),
                keys::ENDS_BEFORE_START,
            ));
        }
    }
}

/// Most digits in one contact number (a landline with area code and extension); an ID
/// number (15 or 18 digits) typed into a phone field is refused.
pub const MAX_PHONE_DIGITS: usize = 14;

/// A contact number: digits with `+ - ( )`, spaces, and `/` or `,` between two numbers; each
/// number 5 to 14 digits. (A spreadsheet that wrote `1.38E+10` lost the number.)
pub fn check_phone(problems: &mut Vec<Problem>, path: String, phone: &str) {
    if phone.is_empty() {
        return;
    }
    let allowed = phone
        .chars()
        .all(|c| c.is_ascii_digit() || " +-()/,".contains(c));
    let digits_ok = phone.split(['/', ',']).all(|number| {
        let digits = number.chars().filter(char::is_ascii_digit).count();
        (5..=MAX_PHONE_DIGITS).contains(&digits)
    });
    if phone.chars().count() > MAX_PHONE_CHARS {
        problems.push(Problem::new(path, keys::TOO_LONG));
    } else if !allowed || !digits_ok {
        problems.push(Problem::new(path, keys::BAD_PHONE));
    }
}

/// Empty, or four characters of an ID number (digits and the check letter `X`, or the
/// letters of a passport or Hong Kong card).
fn check_id_last4(problems: &mut Vec<Problem>, path: String, last4: &str) {
    let ok = last4.is_empty()
        || (last4.chars().count() == 4
            && last4
                .chars()
                .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase()));
    if !ok {
        problems.push(Problem::new(path, keys::BAD_ID_NUMBER));
    }
}

/// Empty, or a date as stored (`YYYY-MM-DD`).
fn check_date(problems: &mut Vec<Problem>, path: String, text: &str) -> Option<Date> {
    if text.is_empty() {
        return None;
    }
    match Date::parse(text).filter(|d| d.to_string() == text) {
        Some(date) => Some(date),
        None => {
            problems.push(Problem::new(path, keys::BAD_DATE));
            None
        }
    }
}

/// The last four characters of an ID number as written (spaces, dashes and brackets
/// dropped, letters in upper case); `None` if it has fewer than four.
pub fn id_last4(id_number: &str) -> Option<String> {
    let chars: Vec<char> = id_number
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_uppercase())
        .collect();
    (chars.len() >= 4).then(|| chars[chars.len() - 4..].iter().collect())
}

impl Kind for Registry {
    const KIND: RecordKind = RecordKind::Registry;

    fn remarks_mut(&mut self) -> &mut Vec<Remark> {
        &mut self.remarks
    }

    fn header(&self) -> Header<'_> {
        Header {
            kind: self.kind,
            estate_id: &self.estate_id,
            created_by: &self.created_by,
            author_name: &self.author_name,
            unit: "",
            title: "",
            started_at: self.started_at,
            closed_at: None,
        }
    }

    fn fields(&self) -> Vec<(&'static str, Field<'_>)> {
        vec![
            ("author_name", Field::Text(&self.author_name)),
            ("started_at", Field::Time(Some(self.started_at))),
        ]
    }

    fn validate(&self) -> Vec<Problem> {
        let mut problems = Vec::new();
        if self.kind != RecordKind::Registry {
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
            "author_name",
            &self.author_name,
            MAX_SHORT_CHARS,
        );
        if self.started_at <= 0 {
            problems.push(Problem::new("started_at", keys::REQUIRED));
        }
        for (i, entry) in self.units.iter().enumerate() {
            check_unit(&mut problems, &format!("units[{i}].unit"), &entry.unit);
        }
        for (i, remark) in self.remarks.iter().enumerate() {
            check_remark(&mut problems, &format!("remarks[{i}]"), remark);
        }
        let mut seen = HashSet::new();
        unique_ids(
            &mut problems,
            &mut seen,
            "units",
            self.units.iter().map(Entry::id),
        );
        unique_ids(
            &mut problems,
            &mut seen,
            "remarks",
            self.remarks.iter().map(Entry::id),
        );
        // A unit changes by a later entry for it, never by a correction.
        for (i, entry) in self.units.iter().enumerate() {
            if entry.corrects.is_some() {
                problems.push(Problem::new(
                    format!("units[{i}].corrects"),
                    keys::BAD_CORRECTION,
                ));
            }
        }
        corrections_point_into(&mut problems, "remarks", &self.remarks);
        problems
    }

    fn times(&self) -> Vec<(String, i64)> {
        let mut times = vec![("started_at".to_owned(), self.started_at)];
        for (i, entry) in self.units.iter().enumerate() {
            times.push((format!("units[{i}].written_at"), entry.written_at));
        }
        for (i, remark) in self.remarks.iter().enumerate() {
            times.push((format!("remarks[{i}].written_at"), remark.written_at));
        }
        times
    }

    /// Office staff write units and remarks; nobody else writes anything.
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
            "units",
            before.map_or(&[][..], |b| &b.units),
            &after.units,
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
    }

    fn detail(&self) -> SummaryDetail {
        SummaryDetail::Registry {
            unit_count: u32::try_from(current_units([self]).len()).unwrap_or(u32::MAX),
        }
    }

    fn status(&self) -> &'static str {
        "current"
    }

    fn into_any(self) -> AnyRecord {
        AnyRecord::Registry(self)
    }

    fn from_any(record: &AnyRecord) -> Option<&Self> {
        match record {
            AnyRecord::Registry(registry) => Some(registry),
            _ => None,
        }
    }
}
