//! Who is signed in, what their role lets them do, and the account types both sides use.

use serde::{Deserialize, Serialize};

use crate::device::DeviceEnrolment;
use crate::record::found_item::FoundItemPeriods;
use crate::record::RecordKind;

/// What a user does; decides which records they write and see.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Security guard: writes patrol logs on a phone.
    Guard,
    /// Repair technician: writes repair records.
    Technician,
    /// Office / service-desk staff: reads every record of their estates and adds remarks.
    Office,
    /// Manages users, estates and devices; reads no records.
    Admin,
    /// Cleaner (保洁员): registers found items and sees their own.
    Cleaner,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Guard,
        Role::Technician,
        Role::Office,
        Role::Admin,
        Role::Cleaner,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Guard => "guard",
            Role::Technician => "technician",
            Role::Office => "office",
            Role::Admin => "admin",
            Role::Cleaner => "cleaner",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|role| role.as_str() == text)
    }

    /// Whether this role receives and writes records of `kind` in its estates. Office staff
    /// work with every kind (they add remarks); admins with none.
    pub fn works_with(self, kind: RecordKind) -> bool {
        match (self, kind) {
            (Role::Office, _) => true,
            (Role::Guard, RecordKind::PatrolLog | RecordKind::ReleaseSlip)
            | (Role::Technician, RecordKind::Repair | RecordKind::RepairRequest)
            | (Role::Guard | Role::Technician | Role::Cleaner, RecordKind::FoundItem) => true,
            (Role::Guard, RecordKind::RepairRequest)
            | (Role::Guard | Role::Technician, RecordKind::Registry)
            | (Role::Technician, RecordKind::ReleaseSlip)
            | (Role::Guard, RecordKind::Repair)
            | (Role::Technician, RecordKind::PatrolLog)
            | (Role::Guard, RecordKind::PatrolRoute)
            | (Role::Technician, RecordKind::PatrolRoute)
            | (Role::Cleaner, _)
            | (Role::Admin, _) => false,
        }
    }

    /// Whether this role may start new records of `kind`.
    pub fn starts(self, kind: RecordKind) -> bool {
        match kind {
            RecordKind::PatrolLog => self == Role::Guard,
            RecordKind::Repair => self == Role::Technician,
            RecordKind::Registry
            | RecordKind::ReleaseSlip
            | RecordKind::RepairRequest
            | RecordKind::PatrolRoute => self == Role::Office,
            // Whoever finds it, on their phone; the desk takes it over from them.
            RecordKind::FoundItem => {
                matches!(self, Role::Guard | Role::Technician | Role::Cleaner)
            }
        }
    }

    /// Whether this role receives only the records of `kind` its user started (a finder
    /// sees the items they registered, never another's, with the personal data of their
    /// claimants); the office sees them all.
    pub fn reads_only_own(self, kind: RecordKind) -> bool {
        kind == RecordKind::FoundItem && self != Role::Office
    }

    /// Whether the server sends this role's devices every document of `kind` in their
    /// estates, without being asked (the follow set, protocol version 2): guards need the
    /// registry at the gate with no network, and the office imports into it; technicians
    /// get the work orders addressed to them or to their estate's pool.
    pub fn follows(self, kind: RecordKind) -> bool {
        matches!(
            (self, kind),
            (
                Role::Guard | Role::Office,
                RecordKind::Registry | RecordKind::PatrolRoute
            ) | (Role::Guard, RecordKind::ReleaseSlip)
                | (Role::Technician, RecordKind::RepairRequest)
        )
    }

    /// Whether this role may receive documents of `kind`: the ones it works with and the
    /// ones it follows (read only).
    pub fn reads(self, kind: RecordKind) -> bool {
        self.works_with(kind) || self.follows(kind)
    }

    /// Whether this role sees the estate's record list.
    pub fn lists_records(self) -> bool {
        self == Role::Office
    }

    pub fn is_admin(self) -> bool {
        self == Role::Admin
    }
}

/// An estate (管理處 / 項目) a user belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EstateRef {
    pub id: String,
    pub name: String,
}

/// How long (days) the phones that follow a record keep it after it is done with (a slip's
/// window over, a work order taken or cancelled), unless its estate sets another period.
pub const DEFAULT_RETENTION_DAYS: u32 = 30;
/// The shortest and longest retention an estate may set, in days.
pub const RETENTION_DAYS: std::ops::RangeInclusive<u32> = 1..=365;

/// Until when (ms since the Unix epoch) phones keep a record done with at `done_at`, in an
/// estate that keeps records `retention_days`; `None`: for as long as it exists.
pub fn followed_until(done_at: Option<i64>, retention_days: u32) -> Option<i64> {
    done_at.map(|at| at.saturating_add(i64::from(retention_days) * 86_400_000))
}

/// An estate as its admins manage it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EstateSettings {
    pub id: String,
    pub name: String,
    /// How long (days) phones keep its records after they are done with.
    pub retention_days: u32,
    /// What it sets that the rules of some kinds read.
    #[serde(flatten)]
    pub rules: EstateRules,
}

/// What an estate sets that the rules of some kinds read. The server keeps it as one value
/// it does not look into; an absent field has its default.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(default)]
pub struct EstateRules {
    /// How long it keeps unclaimed found items.
    pub found_items: FoundItemPeriods,
}

/// The signed-in user, as returned by sign-in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserInfo {
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    /// The estate new records go to (the user's first estate).
    pub estate_id: String,
    pub estate_name: String,
    /// Every estate the user belongs to, the first being `estate_id`.
    #[serde(default)]
    pub estates: Vec<EstateRef>,
}

impl UserInfo {
    /// Whether the user belongs to `estate_id`.
    pub fn in_estate(&self, estate_id: &str) -> bool {
        self.estate_id == estate_id || self.estates.iter().any(|e| e.id == estate_id)
    }

    /// Whether the user may receive a record of `kind` (`None`: not yet a readable record) in
    /// `estate_id` that `created_by` started: in their estates, of a kind their role reads,
    /// and their own where the role reads only its own of the kind.
    pub fn may_read(&self, estate_id: &str, kind: Option<RecordKind>, created_by: &str) -> bool {
        self.in_estate(estate_id)
            && kind.is_none_or(|kind| {
                self.role.reads(kind) && (!self.role.reads_only_own(kind) || created_by == self.id)
            })
    }

    /// The IDs of the user's estates.
    pub fn estate_ids(&self) -> Vec<String> {
        let mut ids = vec![self.estate_id.clone()];
        ids.extend(
            self.estates
                .iter()
                .filter(|e| e.id != self.estate_id)
                .map(|e| e.id.clone()),
        );
        ids
    }
}

/// A member of staff as `GET /api/staff` lists them to office staff: whom work can be
/// assigned to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffMember {
    pub id: String,
    pub display_name: String,
    pub role: Role,
    pub estate_ids: Vec<String>,
}

/// Body of `POST /api/sign-in`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SignInRequest {
    pub username: String,
    pub password: String,
    /// The device signing in; it is enrolled (or recognised) against the user.
    pub device: DeviceEnrolment,
}

/// Answer to a successful sign-in.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SignInResponse {
    /// Bearer token for HTTP and the WebSocket hello; the server keeps only its hash.
    pub token: String,
    pub user: UserInfo,
    /// The enrolled device.
    #[serde(default)]
    pub device_id: String,
}

/// Body of `POST /api/password`: a user changing their own password.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ChangePassword {
    pub current_password: String,
    pub new_password: String,
}

/// Body of `POST /api/admin/users`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NewUser {
    pub username: String,
    pub display_name: String,
    pub password: String,
    pub role: Role,
    /// Estate IDs, the first being where the user's new records go.
    pub estates: Vec<String>,
}

/// Body of `POST /api/admin/users/{id}/password`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SetPassword {
    pub password: String,
}

/// A user as listed to admins.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserListing {
    pub user: UserInfo,
    pub revoked_at: Option<i64>,
}

/// Shortest password the server accepts.
pub const MIN_PASSWORD_CHARS: usize = 10;
