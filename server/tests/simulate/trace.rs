//! `SIM_TRACE_DOC`: a failing seed's frames about one document, step by step.

use super::*;

/// With `SIM_TRACE_DOC=<document ID>`, every frame about that document as it is delivered:
/// what a failing seed did, step by step.
pub(super) fn trace(now: i64, frame: &Frame, doc: &str, open: bool) {
    let entries: Vec<(DocumentId, Vec<u8>)> = if frame.to_server {
        match protocol::decode::<ClientMessage>(&frame.bytes) {
            Ok(ClientMessage::Sync { docs }) => {
                docs.into_iter().map(|d| (d.doc, d.message)).collect()
            }
            _ => Vec::new(),
        }
    } else {
        match protocol::decode::<ServerMessage>(&frame.bytes) {
            Ok(ServerMessage::Sync { docs, .. }) => {
                docs.into_iter().map(|d| (d.doc, d.message)).collect()
            }
            _ => Vec::new(),
        }
    };
    let short = |hashes: &[ChangeHash]| -> Vec<String> {
        hashes
            .iter()
            .map(|h| h.to_string()[..8].to_owned())
            .collect()
    };
    for (id, message) in entries {
        if id.to_string() != doc {
            continue;
        }
        let Ok(m) = automerge::sync::Message::decode(&message) else {
            continue;
        };
        let have: Vec<_> = m.have.iter().map(|h| short(&h.last_sync)).collect();
        eprintln!(
            "{now} connection {} {} (open {open}): heads {:?} need {:?} have {have:?}, {} change chunks",
            frame.connection,
            if frame.to_server { "to the server" } else { "to the phone" },
            short(&m.heads),
            short(&m.need),
            m.changes.len(),
        );
    }
}
