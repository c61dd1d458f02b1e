//! Records: one module per kind behind one small interface, and the one function both sides
//! call to judge a change.
//!
//! A record kind is a type that implements [`Kind`]: its fields and entry lists, its own
//! rules, what the office lists of it. Everything else is common and lives here or in
//! `rules`: reading a document of any kind ([`read_record`]), writing one (`document`), and
//! [`judge`], which the server runs on every stored change and the phone on every edit.
//! Adding a kind touches its module, the matches on [`RecordKind`] and [`AnyRecord`] in this
//! file, the role table in `user.rs`, and the client.

use autosurgeon::{Hydrate, Reconcile};
use serde::{Deserialize, Serialize};

use crate::problem::Problem;
use crate::user::Role;
use crate::DocumentId;

mod document;
pub mod entry;
pub mod found_item;
pub mod patrol_log;
pub mod patrol_route;
pub mod registry;
pub mod release_slip;
pub mod remark;
pub mod repair;
pub mod repair_request;
mod rules;
pub mod summary;

pub use document::{
    create_document, edit_document, read_kind, read_record, write_document, RecordError,
};
pub use entry::{Entry, EntryId};
pub use found_item::FoundItem;
pub use patrol_log::PatrolLog;
pub use patrol_route::PatrolRoute;
pub use registry::Registry;
pub use release_slip::ReleaseSlip;
pub use remark::Remark;
pub use repair::RepairRecord;
pub use repair_request::RepairRequest;
pub use rules::MAX_CLOCK_AHEAD_MS;
pub use summary::{RecordSummary, SummaryDetail};

/// Which kind of record a document holds. Stored in every record document (`kind`), so the
/// server and the office tell kinds apart without guessing from fields; it never changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Reconcile, Hydrate, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordKind {
    PatrolLog,
    Repair,
    /// The owner/tenant registry (业主资料) of an estate.
    Registry,
    /// A release slip (放行条) and its checks at the gate.
    ReleaseSlip,
    /// A work order (维修工单) for a technician.
    RepairRequest,
    /// A patrol route (巡逻路线): checkpoints, due times.
    PatrolRoute,
    /// A found item (拾遗物品), from its finder to its claimant.
    FoundItem,
}

impl RecordKind {
    pub const ALL: [RecordKind; 7] = [
        RecordKind::PatrolLog,
        RecordKind::Repair,
        RecordKind::Registry,
        RecordKind::ReleaseSlip,
        RecordKind::RepairRequest,
        RecordKind::PatrolRoute,
        RecordKind::FoundItem,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RecordKind::PatrolLog => "patrol_log",
            RecordKind::Repair => "repair",
            RecordKind::Registry => "registry",
            RecordKind::ReleaseSlip => "release_slip",
            RecordKind::RepairRequest => "repair_request",
            RecordKind::PatrolRoute => "patrol_route",
            RecordKind::FoundItem => "found_item",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == text)
    }
}

/// Who makes a change: the signed-in user on their enrolled device. The server reads it from
/// the session inside the frame's transaction; the phone from its own sign-in.
#[derive(Debug, Clone, Copy)]
pub struct Writer<'a> {
    pub user_id: &'a str,
    pub role: Role,
    /// The user's estates.
    pub estates: &'a [String],
    /// The device the change comes from.
    pub device_id: &'a str,
    /// The Ed25519 public key enrolled for that device: every signature the change adds must
    /// verify with it.
    pub device_key: &'a [u8],
    /// How the Ed25519 check is made: `signature::ed25519_verifies` on the server; a phone
    /// judging signatures it took itself leaves it to the server.
    pub verify_key: crate::signature::KeyVerifier,
    /// The settings of the estates the judge knows (the server: the writer's estates as
    /// stored; a phone: as last fetched); an estate not among them has the defaults.
    pub estate_settings: &'a [crate::user::EstateSettings],
}

impl Writer<'_> {
    /// How long `estate_id` keeps unclaimed found items, as the judge knows it.
    pub fn found_item_periods(&self, estate_id: &str) -> found_item::FoundItemPeriods {
        self.estate_settings
            .iter()
            .find(|e| e.id == estate_id)
            .map(|e| e.rules.found_items)
            .unwrap_or_default()
    }
}

/// What every kind has, as the common rules and the office list read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header<'a> {
    pub kind: RecordKind,
    /// The estate the record belongs to, forever.
    pub estate_id: &'a str,
    /// The user who started the record, forever.
    pub created_by: &'a str,
    /// The creator's name as written on the record.
    pub author_name: &'a str,
    /// The unit (房号) the record concerns; empty where it concerns none (a patrol round).
    pub unit: &'a str,
    /// A short title for lists (the route, the fault).
    pub title: &'a str,
    /// Device time the record was started, ms since the Unix epoch.
    pub started_at: i64,
    /// Device time the record was closed; a closed record's own fields never change again.
    pub closed_at: Option<i64>,
}

/// A record-level field's value, compared before and after a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field<'a> {
    Text(&'a str),
    Time(Option<i64>),
    Number(i64),
}

/// The interface every record kind implements.
pub trait Kind: Clone + PartialEq + Reconcile + Hydrate + Sized {
    const KIND: RecordKind;

    fn header(&self) -> Header<'_>;

    /// The record's own fields (everything but its entry lists), by path. Only the creator
    /// changes them, and only while the record is open.
    fn fields(&self) -> Vec<(&'static str, Field<'_>)>;

    /// The kind's rules on the record as it stands; every problem found.
    fn validate(&self) -> Vec<Problem>;

    /// Every time recorded in the record, by path.
    fn times(&self) -> Vec<(String, i64)>;

    /// The kind's rules on a change: which entries this writer may add, each entry list kept
    /// append-only and bound to its authors (with `rules::check_entries`), the order of steps.
    fn judge_entries(
        before: Option<&Self>,
        after: &Self,
        writer: &Writer<'_>,
        doc: DocumentId,
        problems: &mut Vec<Problem>,
    );

    /// What the office lists of this kind beyond the common columns.
    fn detail(&self) -> SummaryDetail;

    /// Where the record stands, derived from its content (never a stored free field), as a
    /// key the interface translates (`status.<kind>.<key>`).
    fn status(&self) -> &'static str;

    /// When the record is done with on the devices that follow its kind (ms since the Unix
    /// epoch): they keep it in their follow set for the estate's retention period after
    /// that. `None`: never done with; followed for as long as it exists.
    fn done_at(&self) -> Option<i64> {
        None
    }

    /// The one user (a user ID) whose devices the follow set sends the record to, among
    /// those whose role follows the kind; `None`: all of them.
    fn addressed_to(&self) -> Option<&str> {
        None
    }

    /// The record this one follows from (a work order's patrol log, a repair's work order),
    /// so that the office finds what came of a record.
    fn links_to(&self) -> Option<DocumentId> {
        None
    }

    /// The office's remarks, which every kind carries (office staff add them; the kind's
    /// `judge_entries` checks who wrote them).
    fn remarks_mut(&mut self) -> &mut Vec<Remark>;

    fn into_any(self) -> AnyRecord;
    fn from_any(record: &AnyRecord) -> Option<&Self>;
}

/// A record of any kind, as read from a document.
#[derive(Debug, Clone, PartialEq)]
pub enum AnyRecord {
    PatrolLog(PatrolLog),
    Repair(RepairRecord),
    Registry(Registry),
    ReleaseSlip(ReleaseSlip),
    RepairRequest(RepairRequest),
    PatrolRoute(PatrolRoute),
    FoundItem(FoundItem),
}

impl AnyRecord {
    pub fn kind(&self) -> RecordKind {
        self.header().kind
    }

    pub fn header(&self) -> Header<'_> {
        match self {
            AnyRecord::PatrolLog(log) => log.header(),
            AnyRecord::Repair(repair) => Kind::header(repair),
            AnyRecord::Registry(registry) => Kind::header(registry),
            AnyRecord::ReleaseSlip(slip) => Kind::header(slip),
            AnyRecord::RepairRequest(request) => Kind::header(request),
            AnyRecord::PatrolRoute(route) => Kind::header(route),
            AnyRecord::FoundItem(item) => Kind::header(item),
        }
    }

    pub fn validate(&self) -> Vec<Problem> {
        match self {
            AnyRecord::PatrolLog(log) => log.validate(),
            AnyRecord::Repair(repair) => Kind::validate(repair),
            AnyRecord::Registry(registry) => Kind::validate(registry),
            AnyRecord::ReleaseSlip(slip) => Kind::validate(slip),
            AnyRecord::RepairRequest(request) => Kind::validate(request),
            AnyRecord::PatrolRoute(route) => Kind::validate(route),
            AnyRecord::FoundItem(item) => Kind::validate(item),
        }
    }

    pub fn detail(&self) -> SummaryDetail {
        match self {
            AnyRecord::PatrolLog(log) => log.detail(),
            AnyRecord::Repair(repair) => Kind::detail(repair),
            AnyRecord::Registry(registry) => Kind::detail(registry),
            AnyRecord::ReleaseSlip(slip) => Kind::detail(slip),
            AnyRecord::RepairRequest(request) => Kind::detail(request),
            AnyRecord::PatrolRoute(route) => Kind::detail(route),
            AnyRecord::FoundItem(item) => Kind::detail(item),
        }
    }

    /// When the record is done with on the devices that follow its kind (see
    /// [`Kind::done_at`]).
    pub fn done_at(&self) -> Option<i64> {
        match self {
            AnyRecord::PatrolLog(log) => Kind::done_at(log),
            AnyRecord::Repair(repair) => Kind::done_at(repair),
            AnyRecord::Registry(registry) => Kind::done_at(registry),
            AnyRecord::ReleaseSlip(slip) => Kind::done_at(slip),
            AnyRecord::RepairRequest(request) => Kind::done_at(request),
            AnyRecord::PatrolRoute(route) => Kind::done_at(route),
            AnyRecord::FoundItem(item) => Kind::done_at(item),
        }
    }

    /// The one user whose devices the follow set sends the record to; `None`: every user
    /// whose role follows its kind.
    pub fn addressed_to(&self) -> Option<&str> {
        match self {
            AnyRecord::PatrolLog(log) => Kind::addressed_to(log),
            AnyRecord::Repair(repair) => Kind::addressed_to(repair),
            AnyRecord::Registry(registry) => Kind::addressed_to(registry),
            AnyRecord::ReleaseSlip(slip) => Kind::addressed_to(slip),
            AnyRecord::RepairRequest(request) => Kind::addressed_to(request),
            AnyRecord::PatrolRoute(route) => Kind::addressed_to(route),
            AnyRecord::FoundItem(item) => Kind::addressed_to(item),
        }
    }

    /// The record this one follows from.
    pub fn links_to(&self) -> Option<DocumentId> {
        match self {
            AnyRecord::PatrolLog(log) => Kind::links_to(log),
            AnyRecord::Repair(repair) => Kind::links_to(repair),
            AnyRecord::Registry(registry) => Kind::links_to(registry),
            AnyRecord::ReleaseSlip(slip) => Kind::links_to(slip),
            AnyRecord::RepairRequest(request) => Kind::links_to(request),
            AnyRecord::PatrolRoute(route) => Kind::links_to(route),
            AnyRecord::FoundItem(item) => Kind::links_to(item),
        }
    }

    pub fn status(&self) -> &'static str {
        match self {
            AnyRecord::PatrolLog(log) => log.status(),
            AnyRecord::Repair(repair) => Kind::status(repair),
            AnyRecord::Registry(registry) => Kind::status(registry),
            AnyRecord::ReleaseSlip(slip) => Kind::status(slip),
            AnyRecord::RepairRequest(request) => Kind::status(request),
            AnyRecord::PatrolRoute(route) => Kind::status(route),
            AnyRecord::FoundItem(item) => Kind::status(item),
        }
    }

    pub fn as_patrol_log(&self) -> Option<&PatrolLog> {
        PatrolLog::from_any(self)
    }

    pub fn as_repair(&self) -> Option<&RepairRecord> {
        RepairRecord::from_any(self)
    }

    pub fn as_registry(&self) -> Option<&Registry> {
        Registry::from_any(self)
    }

    pub fn as_release_slip(&self) -> Option<&ReleaseSlip> {
        ReleaseSlip::from_any(self)
    }

    pub fn as_repair_request(&self) -> Option<&RepairRequest> {
        RepairRequest::from_any(self)
    }

    pub fn as_patrol_route(&self) -> Option<&PatrolRoute> {
        PatrolRoute::from_any(self)
    }

    pub fn as_found_item(&self) -> Option<&FoundItem> {
        FoundItem::from_any(self)
    }
}

/// Judges a change of a record of kind `K`: the same rules as [`judge`], for a caller that
/// knows the kind (the phone editing a record). Only that kind's rules are linked into it.
pub fn judge_kind<K: Kind>(
    before: Option<&K>,
    after: &K,
    writer: &Writer<'_>,
    doc: DocumentId,
    now_ms: i64,
) -> Result<(), Vec<Problem>> {
    let problems = rules::judge_kind(before, after, writer, doc, now_ms);
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

/// Judges a change from `before` (None for a new record) to `after`, written by `writer` in
/// document `doc`, at `now_ms` by the judge's clock: `Ok` to store it, or every problem.
///
/// The server calls this on the merged state of every document a sync frame changes; the
/// phone on every edit before saving it, so it never saves what the server would refuse.
pub fn judge(
    before: Option<&AnyRecord>,
    after: &AnyRecord,
    writer: &Writer<'_>,
    doc: DocumentId,
    now_ms: i64,
) -> Result<(), Vec<Problem>> {
    let problems = match (before, after) {
        (None, AnyRecord::PatrolLog(after)) => rules::judge_kind(None, after, writer, doc, now_ms),
        (Some(AnyRecord::PatrolLog(before)), AnyRecord::PatrolLog(after)) => {
            rules::judge_kind(Some(before), after, writer, doc, now_ms)
        }
        (None, AnyRecord::Repair(after)) => rules::judge_kind(None, after, writer, doc, now_ms),
        (Some(AnyRecord::Repair(before)), AnyRecord::Repair(after)) => {
            rules::judge_kind(Some(before), after, writer, doc, now_ms)
        }
        (None, AnyRecord::Registry(after)) => rules::judge_kind(None, after, writer, doc, now_ms),
        (Some(AnyRecord::Registry(before)), AnyRecord::Registry(after)) => {
            rules::judge_kind(Some(before), after, writer, doc, now_ms)
        }
        (None, AnyRecord::ReleaseSlip(after)) => {
            rules::judge_kind(None, after, writer, doc, now_ms)
        }
        (Some(AnyRecord::ReleaseSlip(before)), AnyRecord::ReleaseSlip(after)) => {
            rules::judge_kind(Some(before), after, writer, doc, now_ms)
        }
        (None, AnyRecord::RepairRequest(after)) => {
            rules::judge_kind(None, after, writer, doc, now_ms)
        }
        (Some(AnyRecord::RepairRequest(before)), AnyRecord::RepairRequest(after)) => {
            rules::judge_kind(Some(before), after, writer, doc, now_ms)
        }
        (None, AnyRecord::PatrolRoute(after)) => {
            rules::judge_kind(None, after, writer, doc, now_ms)
        }
        (Some(AnyRecord::PatrolRoute(before)), AnyRecord::PatrolRoute(after)) => {
            rules::judge_kind(Some(before), after, writer, doc, now_ms)
        }
        (None, AnyRecord::FoundItem(after)) => rules::judge_kind(None, after, writer, doc, now_ms),
        (Some(AnyRecord::FoundItem(before)), AnyRecord::FoundItem(after)) => {
            rules::judge_kind(Some(before), after, writer, doc, now_ms)
        }
        (Some(_), _) => vec![Problem::new("kind", crate::problem::keys::KIND_CHANGED)],
    };
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

/// Writers and IDs for the rules' unit tests.
#[cfg(test)]
pub(crate) mod test_support {
    use std::sync::LazyLock;

    use super::{EntryId, Writer};
    use crate::user::Role;
    use crate::DocumentId;

    pub const T0: i64 = 1_780_000_000_000;
    pub static DOC: LazyLock<DocumentId> = LazyLock::new(|| DocumentId::from_random([9; 16]));

    static ESTATE_1: LazyLock<Vec<String>> = LazyLock::new(|| vec!["estate-1".to_owned()]);
    static ESTATE_2: LazyLock<Vec<String>> = LazyLock::new(|| vec!["estate-2".to_owned()]);

    /// The key seed of the technician's phone, which takes the owner's signatures.
    pub const TECH_SEED: [u8; 32] = [7; 32];
    static TECH_KEY: LazyLock<Vec<u8>> = LazyLock::new(|| {
        ed25519_dalek::SigningKey::from_bytes(&TECH_SEED)
            .verifying_key()
            .to_bytes()
            .to_vec()
    });

    fn writer(user_id: &'static str, role: Role, estates: &'static [String]) -> Writer<'static> {
        Writer {
            user_id,
            role,
            estates,
            device_id: "device-1",
            device_key: &TECH_KEY,
            verify_key: crate::signature::ed25519_verifies,
            estate_settings: &[],
        }
    }

    /// The guard who starts the rounds, in estate-1.
    pub static GUARD: LazyLock<Writer<'static>> =
        LazyLock::new(|| writer("user-guard", Role::Guard, &ESTATE_1));
    /// A guard of estate-2 only.
    pub static OTHER_GUARD: LazyLock<Writer<'static>> =
        LazyLock::new(|| writer("user-guard-2", Role::Guard, &ESTATE_2));
    /// The technician of estate-1, on the phone whose key is `TECH_SEED`.
    pub static TECH: LazyLock<Writer<'static>> =
        LazyLock::new(|| writer("user-tech", Role::Technician, &ESTATE_1));
    /// A cleaner of estate-1, who registers found items.
    pub static CLEANER: LazyLock<Writer<'static>> =
        LazyLock::new(|| writer("user-cleaner", Role::Cleaner, &ESTATE_1));
    /// A clerk of estate-1.
    pub static CLERK: LazyLock<Writer<'static>> =
        LazyLock::new(|| writer("user-clerk", Role::Office, &ESTATE_1));

    pub fn entry_id(n: u8) -> EntryId {
        EntryId::from_random([n; 16])
    }
}
