//! The only functions that create, read or write a record document, for every kind. A record
//! that breaks its rules is never written; an edit is judged as the server will judge it.

use automerge::{transaction::CommitOptions, ActorId, Automerge};
use autosurgeon::{hydrate, reconcile, Hydrate};

use super::{judge_kind, AnyRecord, Kind, RecordKind, Writer};
use crate::problem::Problem;
use crate::DocumentId;

/// A record document that could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("document does not hold a record: {0}")]
    Hydrate(#[from] autosurgeon::HydrateError),
    #[error("could not write record: {0}")]
    Reconcile(#[from] autosurgeon::ReconcileError),
    #[error("document holds a record of another kind")]
    OtherKind,
    #[error("invalid record")]
    Invalid(Vec<Problem>),
}

/// The one field read before the rest, to know which kind to read.
#[derive(Hydrate)]
struct KindTag {
    kind: RecordKind,
}

/// Reads the record in a document, whatever its kind.
pub fn read_record(doc: &Automerge) -> Result<AnyRecord, RecordError> {
    let KindTag { kind } = hydrate(doc)?;
    Ok(match kind {
        RecordKind::PatrolLog => AnyRecord::PatrolLog(hydrate(doc)?),
        RecordKind::Repair => AnyRecord::Repair(hydrate(doc)?),
        RecordKind::Registry => AnyRecord::Registry(hydrate(doc)?),
        RecordKind::ReleaseSlip => AnyRecord::ReleaseSlip(hydrate(doc)?),
        RecordKind::RepairRequest => AnyRecord::RepairRequest(hydrate(doc)?),
        RecordKind::PatrolRoute => AnyRecord::PatrolRoute(hydrate(doc)?),
        RecordKind::FoundItem => AnyRecord::FoundItem(hydrate(doc)?),
    })
}

/// Reads a record of kind `K`.
pub fn read_kind<K: Kind>(doc: &Automerge) -> Result<K, RecordError> {
    let record = read_record(doc)?;
    K::from_any(&record).cloned().ok_or(RecordError::OtherKind)
}

/// Creates the document for a new record, written by `actor` at device time `now_ms`.
pub fn create_document<K: Kind>(
    actor: ActorId,
    record: &K,
    now_ms: i64,
) -> Result<Automerge, RecordError> {
    let mut doc = Automerge::new().with_actor(actor);
    write_document(&mut doc, record, now_ms)?;
    Ok(doc)
}

/// Writes `record` into the document as one change stamped with device time `now_ms`; only
/// the fields that differ become operations. Refuses a record that breaks its kind's rules,
/// so an invalid record is never saved on the device.
pub fn write_document<K: Kind>(
    doc: &mut Automerge,
    record: &K,
    now_ms: i64,
) -> Result<(), RecordError> {
    let problems = record.validate();
    if !problems.is_empty() {
        return Err(RecordError::Invalid(problems));
    }
    doc.transact_with(
        |_| CommitOptions::default().with_time(now_ms),
        |tx| reconcile(tx, record),
    )
    .map_err(|failure| RecordError::Reconcile(failure.error))?;
    Ok(())
}

/// Reads the record, lets `edit` change it, judges the change as the server will (the same
/// rules, by `writer` at `now_ms`), and writes it as one change. Nothing is written if
/// the change is refused.
pub fn edit_document<K: Kind>(
    doc: &mut Automerge,
    id: DocumentId,
    writer: &Writer<'_>,
    now_ms: i64,
    edit: impl FnOnce(&mut K),
) -> Result<K, RecordError> {
    let before: K = read_kind(doc)?;
    let mut record = before.clone();
    edit(&mut record);
    judge_kind(Some(&before), &record, writer, id, now_ms).map_err(RecordError::Invalid)?;
    write_document(doc, &record, now_ms)?;
    Ok(record)
}
