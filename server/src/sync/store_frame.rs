//! One `sync` frame stored and answered: judged ahead on a read connection and written by
//! the group writer, or (without group commit) in a transaction of its own.

use gatehouse_shared::protocol::DocSync;
use gatehouse_shared::sync_session::SyncSession;

use super::{
    apply_prepared, apply_sync_batch, prepare, with_store, BatchOutcome, Limits, SessionRefused,
};
use crate::store::StoreError;
use crate::{now_ms, AppState};

/// Stores one `sync` frame and answers it: through the group writer (the frame committed
/// with the others waiting at that moment), or in a transaction of its own. `None`: the
/// store failed in a way the connection cannot go on from.
pub(super) async fn store_frame(
    state: &AppState,
    hash: Vec<u8>,
    mut owned: SyncSession,
    docs: Vec<DocSync>,
    origin: u64,
    limits: Limits,
    version: u32,
) -> Option<(
    SyncSession,
    Result<Result<BatchOutcome, SessionRefused>, StoreError>,
)> {
    let Some(writer) = &state.writer else {
        return with_store(state, move |store| {
            let outcome = apply_sync_batch(
                store,
                &hash,
                &mut owned,
                docs,
                now_ms(),
                origin,
                limits,
                version,
            );
            (owned, outcome)
        })
        .await;
    };
    // The frame is judged first on a read connection, beside the writer: the writer thread
    // is one, and the Automerge work and the rules were most of its time.
    let read_hash = hash.clone();
    let judged = state
        .sync_read(move |store| {
            let prepared = prepare(store, &read_hash, &mut owned, docs, now_ms(), limits);
            (owned, prepared)
        })
        .await;
    let (mut owned, prepared) = match judged {
        Ok(judged) => judged,
        Err(error) => {
            return Some((
                SyncSession::new(),
                Err(StoreError::NotCommitted(error.to_string())),
            ))
        }
    };
    // Stored changes are announced from the writer thread right after their commit, so
    // that two frames changing one document are announced in the order they were stored.
    let (router, metrics) = (state.router.clone(), state.metrics.clone());
    let written = writer
        .write_then(
            move |tx| {
                let applied =
                    apply_prepared(tx, &hash, &mut owned, prepared, now_ms(), origin, limits);
                let keep = matches!(applied, Ok(Ok(_)));
                ((owned, applied), keep)
            },
            move |(_, applied)| {
                if let Ok(Ok(applied)) = applied {
                    let changed = applied.take_changed();
                    metrics.stored(changed.len());
                    for change in changed {
                        router.publish(change);
                    }
                }
            },
        )
        .await;
    match written {
        Ok((mut owned, applied)) => {
            let outcome = applied.map(|applied| applied.map(|a| a.answer(&mut owned, version)));
            Some((owned, outcome))
        }
        // The connection is told (`internal`, fatal) and ends: its session goes with it.
        Err(error) => Some((
            SyncSession::new(),
            Err(StoreError::NotCommitted(error.to_string())),
        )),
    }
}
