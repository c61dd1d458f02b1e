//! The run's invariants, checked once the network healed and everyone synced.

use super::*;
use gatehouse_server::store::StoredDocument;

impl Sim {
    /// The run's invariants, once healed.
    pub(super) fn check(&mut self) -> Result<()> {
        let store = Store::open(&self.database)?;
        // Whether the server's copy of a document holds a change.
        let on_server = |stored: &Option<StoredDocument>, hash: &ChangeHash| {
            stored
                .as_ref()
                .is_some_and(|s| s.doc.get_change_by_hash(hash).is_some())
        };
        for (index, phone) in self.phones.iter().enumerate() {
            for (id, heads) in &phone.acked {
                let stored = store.load_document(id)?;
                for head in heads {
                    if !on_server(&stored, head) {
                        self.broken.push(format!(
                            "phone {index}: acknowledged change {head} of {id} is not on the server"
                        ));
                    }
                }
            }
            for (id, written) in &phone.written {
                let stored = store.load_document(id)?;
                for hash in written {
                    if phone
                        .docs
                        .get(id)
                        .and_then(|d| d.get_change_by_hash(hash))
                        .is_none()
                    {
                        self.broken
                            .push(format!("phone {index}: lost its own change {hash} of {id}"));
                    }
                    if !on_server(&stored, hash) {
                        self.broken.push(format!(
                            "phone {index}: its change {hash} of {id} never reached the server"
                        ));
                    }
                }
            }
            for (id, doc) in &phone.docs {
                let server_heads = store
                    .load_document(id)?
                    .map(|s| s.doc.get_heads())
                    .unwrap_or_default();
                let mut ours = doc.get_heads();
                let mut theirs = server_heads;
                ours.sort();
                theirs.sort();
                if ours != theirs {
                    self.broken.push(format!(
                        "phone {index}: {id} did not converge with the server"
                    ));
                }
            }
        }
        for summary in store.list_records(&[ESTATE.to_owned()], 100_000, None)? {
            let stored = store
                .load_document(&summary.doc)?
                .context("listed record has its document")?;
            match read_record(&stored.doc) {
                Ok(record) if record.validate().is_empty() => {}
                Ok(record) => self.broken.push(format!(
                    "{}: breaks its rules: {:?}",
                    summary.doc,
                    record.validate()
                )),
                Err(error) => self
                    .broken
                    .push(format!("{}: unreadable: {error:?}", summary.doc)),
            }
        }
        Ok(())
    }
}
