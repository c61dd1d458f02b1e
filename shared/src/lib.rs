//! Gatehouse's shared core: record types, validation rules, the wire protocol and the
//! sync state machines. Both the phone (WASM) and the server run this code, so a record
//! that passes the rules on one side passes them on the other.
//!
//! Architecture invariant: this crate does no I/O. No sockets, timers, files, IndexedDB or
//! SQL; time and randomness come in as arguments. The server and the client own every
//! socket and store and drive the state machines here with plain function calls.

pub mod connection;
pub mod date;
pub mod device;
pub mod document_id;
pub mod money;
pub mod problem;
pub mod protocol;
pub mod record;
pub mod signature;
pub mod sync_session;
pub mod user;

pub use automerge;
pub use document_id::DocumentId;
pub use problem::Problem;
pub use record::patrol_log::{CheckpointVisit, Finding, Remark, Severity};
pub use record::{AnyRecord, EntryId, PatrolLog, PatrolRoute, RecordKind, RecordSummary, Writer};
pub use user::{Role, UserInfo};
