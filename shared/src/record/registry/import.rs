//! The registry from a CSV file a spreadsheet exported: one row per person (an owner, a
//! tenant, or both) of a unit; the rows of one unit are read together. Every bad row is
//! reported by its line and column, and a file with any bad row imports nothing.
//!
//! The header row names the columns, in Chinese or English ([`Column`]); their order is
//! free, and columns the registry does not keep (备注) are listed back as ignored. ID numbers
//! are read only to keep their last four characters.

use std::collections::HashMap;

use super::{
    check_owner, check_tenant, check_unit, id_last4, Occupancy, Owner, Tenant, UnitEntry, UnitInfo,
    UnitKey,
};
use crate::date::Date;
use crate::problem::{keys, Problem, ProblemKey};

/// Most data rows in one file.
pub const MAX_ROWS: usize = 50_000;

/// A column the registry reads, by its Chinese and English header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Column {
    Building,
    Entrance,
    Room,
    Occupancy,
    Company,
    OwnerName,
    OwnerPhone,
    OwnerEmployer,
    OwnerId,
    TenantName,
    TenantPhone,
    TenantId,
    LeaseStart,
    LeaseEnd,
}

impl Column {
    pub const ALL: [Column; 14] = [
        Column::Building,
        Column::Entrance,
        Column::Room,
        Column::Occupancy,
        Column::Company,
        Column::OwnerName,
        Column::OwnerPhone,
        Column::OwnerEmployer,
        Column::OwnerId,
        Column::TenantName,
        Column::TenantPhone,
        Column::TenantId,
        Column::LeaseStart,
        Column::LeaseEnd,
    ];

    /// The header in a Chinese spreadsheet, and the one in an English one.
    pub fn headers(self) -> (&'static str, &'static str) {
        match self {
            Column::Building => ("楼栋", "building"),
            Column::Entrance => ("单元", "entrance"),
            Column::Room => ("房号", "room"),
            Column::Occupancy => ("类型", "occupancy"),
            Column::Company => ("公司名称", "company"),
            Column::OwnerName => ("业主姓名", "owner_name"),
            Column::OwnerPhone => ("业主电话", "owner_phone"),
            Column::OwnerEmployer => ("业主工作单位", "owner_employer"),
            Column::OwnerId => ("业主证件号", "owner_id"),
            Column::TenantName => ("租户姓名", "tenant_name"),
            Column::TenantPhone => ("租户电话", "tenant_phone"),
            Column::TenantId => ("租户证件号", "tenant_id"),
            Column::LeaseStart => ("租期开始", "lease_start"),
            Column::LeaseEnd => ("租期结束", "lease_end"),
        }
    }

    fn from_header(text: &str) -> Option<Self> {
        let text = text.trim().trim_start_matches('\u{feff}').trim();
        Self::ALL.into_iter().find(|c| {
            let (zh, en) = c.headers();
            text == zh || text.eq_ignore_ascii_case(en)
        })
    }

    /// Columns a file must have.
    const REQUIRED: [Column; 3] = [Column::Room, Column::Occupancy, Column::OwnerName];
}

/// What the occupancy column may say.
fn occupancy(text: &str) -> Option<Occupancy> {
    match text.trim() {
        "自住" => Some(Occupancy::OwnerOccupied),
        "出租" => Some(Occupancy::Let),
        "公司" => Some(Occupancy::Company),
        "空置" => Some(Occupancy::Vacant),
        other => Occupancy::parse(&other.to_ascii_lowercase()),
    }
}

/// A bad cell or row: the file's line (1 is the header), the column as the file names it
/// (empty for the whole row), and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportProblem {
    pub line: u64,
    pub column: String,
    pub key: ProblemKey,
}

/// A file that reads: its units, in the order they first appear.
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed {
    pub units: Vec<UnitInfo>,
    /// Data rows read (blank lines not counted).
    pub rows: usize,
    /// Headers of columns the registry does not keep, as the file names them.
    pub ignored_columns: Vec<String>,
}

/// A unit being read, with the line of each of its parts.
struct Building {
    unit: UnitInfo,
    first_line: u64,
    owner_lines: Vec<u64>,
    tenant_lines: Vec<u64>,
}

/// Reads a CSV file (UTF-8; a byte-order mark is skipped): every unit, or every problem.
pub fn parse_csv(text: &str) -> Result<Parsed, Vec<ImportProblem>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut records = reader.records();
    let mut problems = Vec::new();
    let headers = match records.next() {
        Some(Ok(headers)) => headers,
        Some(Err(_)) => return Err(vec![problem(1, "", keys::UNREADABLE_ROW)]),
        None => return Err(vec![problem(1, "", keys::REQUIRED)]),
    };
    let mut columns: HashMap<Column, (usize, String)> = HashMap::new();
    let mut ignored_columns = Vec::new();
    for (index, header) in headers.iter().enumerate() {
        match Column::from_header(header) {
            Some(column) if columns.contains_key(&column) => {
                problems.push(problem(1, header.trim(), keys::DUPLICATE_COLUMN));
            }
            Some(column) => {
                columns.insert(column, (index, header.trim().to_owned()));
            }
            None if header.trim().is_empty() => {}
            None => ignored_columns.push(header.trim().to_owned()),
        }
    }
    for column in Column::REQUIRED {
        if !columns.contains_key(&column) {
            problems.push(problem(1, column.headers().0, keys::MISSING_COLUMN));
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let name = |column: Column| {
        columns
            .get(&column)
            .map_or_else(|| column.headers().0.to_owned(), |(_, name)| name.clone())
    };
    let mut units: Vec<Building> = Vec::new();
    let mut index_of: HashMap<UnitKey, usize> = HashMap::new();
    let mut rows = 0;
    for record in records {
        let record = match record {
            Ok(record) => record,
            Err(error) => {
                let line = error.position().map_or(0, |p| p.line());
                problems.push(problem(line, "", keys::UNREADABLE_ROW));
                continue;
            }
        };
        let line = record.position().map_or(0, |p| p.line());
        if record.iter().all(|cell| cell.trim().is_empty()) {
            continue;
        }
        // A line break inside a cell is most often a quote left open, which swallows the
        // rows after it into one cell: refuse it rather than lose those rows unseen.
        if record.iter().any(|cell| cell.contains(['\n', '\r'])) {
            problems.push(problem(line, "", keys::UNREADABLE_ROW));
            rows += 1;
            continue;
        }
        rows += 1;
        if rows > MAX_ROWS {
            problems.push(problem(line, "", keys::TOO_MANY));
            break;
        }
        let cell = |column: Column| {
            columns
                .get(&column)
                .and_then(|(index, _)| record.get(*index))
                .unwrap_or("")
                .trim()
                .to_owned()
        };
        let mut row_problems: Vec<Problem> = Vec::new();
        let kind = match occupancy(&cell(Column::Occupancy)) {
            Some(kind) => kind,
            None => {
                let key = if cell(Column::Occupancy).is_empty() {
                    keys::REQUIRED
                } else {
                    keys::UNKNOWN_VALUE
                };
                row_problems.push(Problem::new("occupancy", key));
                Occupancy::Vacant
            }
        };
        let last4 = |column: Column, path: &str, problems: &mut Vec<Problem>| {
            let text = cell(column);
            if text.is_empty() {
                return String::new();
            }
            id_last4(&text).unwrap_or_else(|| {
                problems.push(Problem::new(path, keys::BAD_ID_NUMBER));
                String::new()
            })
        };
        let date = |column: Column, path: &str, problems: &mut Vec<Problem>| {
            let text = cell(column);
            if text.is_empty() {
                return String::new();
            }
            Date::parse(&text).map_or_else(
                || {
                    problems.push(Problem::new(path, keys::BAD_DATE));
                    String::new()
                },
                |d| d.to_string(),
            )
        };
        let owner_given = [
            Column::OwnerName,
            Column::OwnerPhone,
            Column::OwnerEmployer,
            Column::OwnerId,
        ]
        .into_iter()
        .any(|c| !cell(c).is_empty());
        let owner = owner_given.then(|| Owner {
            name: cell(Column::OwnerName),
            phone: cell(Column::OwnerPhone),
            employer: cell(Column::OwnerEmployer),
            id_last4: last4(Column::OwnerId, "owners[0].id_last4", &mut row_problems),
        });
        let tenant_given = [
            Column::TenantName,
            Column::TenantPhone,
            Column::TenantId,
            Column::LeaseStart,
            Column::LeaseEnd,
        ]
        .into_iter()
        .any(|c| !cell(c).is_empty());
        let tenant = tenant_given.then(|| Tenant {
            name: cell(Column::TenantName),
            phone: cell(Column::TenantPhone),
            id_last4: last4(Column::TenantId, "tenants[0].id_last4", &mut row_problems),
            lease_start: date(
                Column::LeaseStart,
                "tenants[0].lease_start",
                &mut row_problems,
            ),
            lease_end: date(Column::LeaseEnd, "tenants[0].lease_end", &mut row_problems),
        });
        if let Some(owner) = &owner {
            check_owner(&mut row_problems, "owners[0]", owner);
        }
        if let Some(tenant) = &tenant {
            check_tenant(&mut row_problems, "tenants[0]", tenant);
        }
        let info = UnitInfo {
            building: cell(Column::Building),
            entrance: cell(Column::Entrance),
            room: cell(Column::Room),
            occupancy: kind,
            company: cell(Column::Company),
            owners: Vec::new(),
            tenants: Vec::new(),
        };
        if info.room.is_empty() {
            row_problems.push(Problem::new("room", keys::REQUIRED));
            problems.extend(
                row_problems
                    .iter()
                    .map(|p| problem(line, &name(column_of(&p.path)), p.key)),
            );
            continue;
        }
        let key = info.key();
        let at = *index_of.entry(key).or_insert_with(|| {
            units.push(Building {
                unit: info.clone(),
                first_line: line,
                owner_lines: Vec::new(),
                tenant_lines: Vec::new(),
            });
            units.len() - 1
        });
        let unit = &mut units[at];
        if unit.first_line != line {
            if unit.unit.occupancy != info.occupancy {
                row_problems.push(Problem::new("occupancy", keys::CONFLICTING_ROWS));
            }
            if unit.unit.company != info.company {
                row_problems.push(Problem::new("company", keys::CONFLICTING_ROWS));
            }
        }
        add_person(
            &mut unit.unit.owners,
            &mut unit.owner_lines,
            owner,
            line,
            "owners[0].name",
            |a, b| a.name == b.name,
            &mut row_problems,
        );
        add_person(
            &mut unit.unit.tenants,
            &mut unit.tenant_lines,
            tenant,
            line,
            "tenants[0].name",
            |a, b| a.name == b.name,
            &mut row_problems,
        );
        problems.extend(
            row_problems
                .iter()
                .map(|p| problem(line, &name(column_of(&p.path)), p.key)),
        );
    }
    for unit in &units {
        let mut unit_problems = Vec::new();
        check_unit(&mut unit_problems, "unit", &unit.unit);
        for found in unit_problems {
            // Problems of one person (and an empty room) are reported on their own row;
            // they were checked there already.
            if found.path.contains("owners[")
                || found.path.contains("tenants[")
                || found.path == "unit.room"
            {
                continue;
            }
            // Tenants on a unit that is not let, or too many people: on the row of the
            // first tenant (or the first one too many); the rest on the unit's first row.
            let line = match (found.path.as_str(), found.key) {
                ("unit.tenants", keys::TOO_MANY) => unit.tenant_lines.get(super::MAX_PEOPLE),
                ("unit.owners", keys::TOO_MANY) => unit.owner_lines.get(super::MAX_PEOPLE),
                ("unit.tenants", _) => unit.tenant_lines.first(),
                _ => None,
            };
            problems.push(problem(
                line.copied().unwrap_or(unit.first_line),
                &name(column_of(&found.path)),
                found.key,
            ));
        }
    }
    if rows == 0 && problems.is_empty() {
        problems.push(problem(2, "", keys::REQUIRED));
    }
    if problems.is_empty() {
        Ok(Parsed {
            units: units.into_iter().map(|u| u.unit).collect(),
            rows,
            ignored_columns,
        })
    } else {
        problems.sort_by_key(|p| p.line);
        Err(problems)
    }
}

/// Adds an owner or tenant to a unit: a row repeating one already read adds nothing; a row
/// giving the same name with other details contradicts it.
fn add_person<P: PartialEq>(
    people: &mut Vec<P>,
    lines: &mut Vec<u64>,
    person: Option<P>,
    line: u64,
    path: &str,
    same_name: impl Fn(&P, &P) -> bool,
    problems: &mut Vec<Problem>,
) {
    let Some(person) = person else { return };
    match people.iter().find(|p| same_name(p, &person)) {
        Some(known) if *known == person => {}
        Some(_) => problems.push(Problem::new(path, keys::CONFLICTING_ROWS)),
        None => {
            people.push(person);
            lines.push(line);
        }
    }
}

/// The column a rule's path is about.
fn column_of(path: &str) -> Column {
    let field = path.rsplit('.').next().unwrap_or(path);
    let owner = path.contains("owners");
    match field {
        "building" => Column::Building,
        "entrance" => Column::Entrance,
        "room" => Column::Room,
        "occupancy" => Column::Occupancy,
        "company" => Column::Company,
        "owners" => Column::OwnerName,
        "tenants" => Column::TenantName,
        "phone" if owner => Column::OwnerPhone,
        "phone" => Column::TenantPhone,
        "employer" => Column::OwnerEmployer,
        "id_last4" if owner => Column::OwnerId,
        "id_last4" => Column::TenantId,
        "lease_start" => Column::LeaseStart,
        "lease_end" => Column::LeaseEnd,
        _ if owner => Column::OwnerName,
        _ => Column::TenantName,
    }
}

fn problem(line: u64, column: &str, key: ProblemKey) -> ImportProblem {
    ImportProblem {
        line,
        column: column.to_owned(),
        key,
    }
}

/// What an import changes: the units that are new or differ from the registry as it stands
/// (each becomes a new entry), and how many are left as they are.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub changed: Vec<UnitInfo>,
    /// Units in the file exactly as the registry has them.
    pub unchanged: usize,
    /// Units in the registry the file does not list; they are kept as they are.
    pub not_in_file: usize,
}

/// Compares a parsed file with the registry as it stands (`current_units`).
pub fn plan(current: &[&UnitEntry], units: Vec<UnitInfo>) -> Plan {
    let known: HashMap<UnitKey, &UnitInfo> =
        current.iter().map(|e| (e.unit.key(), &e.unit)).collect();
    let mut listed = 0;
    let mut changed = Vec::new();
    let mut unchanged = 0;
    for unit in units {
        match known.get(&unit.key()) {
            Some(stands) => {
                listed += 1;
                if **stands == unit {
                    unchanged += 1;
                } else {
                    changed.push(unit);
                }
            }
            None => changed.push(unit),
        }
    }
    Plan {
        changed,
        unchanged,
        not_in_file: known.len() - listed,
    }
}
