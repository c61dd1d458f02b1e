//! The server's side of the simulation: a frame stored as the real server stores it.

use super::*;
use gatehouse_server::sync::{
    apply_prepared, apply_sync_batch, prepare, BatchOutcome, SessionRefused,
};

impl ServerSide {
    /// Stores one frame received on `connection` and answers it: as the server without
    /// group commit (one transaction per frame), or as with it (`grouped`: the frame judged
    /// on a read of the store first, then stored in a transaction).
    pub(super) fn store(
        &mut self,
        store: &mut Store,
        docs: Vec<gatehouse_shared::protocol::DocSync>,
        now: i64,
        connection: u64,
        grouped: bool,
    ) -> Result<Result<BatchOutcome, SessionRefused>> {
        if !grouped {
            return Ok(apply_sync_batch(
                store,
                &self.token_hash,
                &mut self.session,
                docs,
                now,
                connection,
                LIMITS,
                self.version,
            )?);
        }
        let prepared = prepare(
            store,
            &self.token_hash,
            &mut self.session,
            docs,
            now,
            LIMITS,
        );
        let tx = store.begin()?;
        let applied = apply_prepared(
            &tx,
            &self.token_hash,
            &mut self.session,
            prepared,
            now,
            connection,
            LIMITS,
        )?;
        tx.commit()?;
        Ok(applied.map(|applied| applied.answer(&mut self.session, self.version)))
    }
}
