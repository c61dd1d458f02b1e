//! A property test: thousands of mutated frames against a running server. Whatever arrives,
//! the server answers it, the connection keeps serving, and other devices still sync.
//! Half the cases mutate a whole CBOR frame; half keep the frame well-formed and mutate the
//! Automerge sync messages inside. proptest shrinks a failure to a minimal mutation (each try
//! on a fresh connection) and prints it.

use std::cell::RefCell;
use std::net::SocketAddr;
use std::time::Duration;

use futures_util::SinkExt;
use gatehouse_shared::protocol::{self, ClientMessage, DocSync, ServerMessage};
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{Config, TestRunner};
use tokio_tungstenite::tungstenite::Message;

use crate::device::{next_message, Device, Socket};
use crate::helpers::{spawn_app, GUARD, T0};

/// How many mutated frames a run sends.
pub const FRAMES: u32 = 3000;

/// One edit: what to do, where, with which byte.
type Edit = (u8, Index, u8);

fn mutate(bytes: &[u8], edits: &[Edit]) -> Vec<u8> {
    let mut out = bytes.to_vec();
    for (kind, at, byte) in edits {
        if out.is_empty() {
            out.push(*byte);
            continue;
        }
        let at = at.index(out.len());
        match kind % 5 {
            0 => out[at] ^= 1 << (byte % 8),
            1 => out[at] = *byte,
            2 => out.truncate(at),
            3 => out.insert(at, *byte),
            _ => {
                out.remove(at);
            }
        }
    }
    out
}

/// Reads until the server has finished answering one frame; false if it closed.
async fn answered(socket: &mut Socket) -> bool {
    loop {
        match tokio::time::timeout(Duration::from_secs(10), next_message(socket)).await {
            Ok(Ok(Some(ServerMessage::Sync { .. } | ServerMessage::Pong { .. }))) => return true,
            Ok(Ok(Some(ServerMessage::Error {
                doc: None,
                fatal: false,
                ..
            }))) => return true,
            Ok(Ok(Some(_))) => continue,
            _ => return false,
        }
    }
}

async fn send_and_wait(socket: &mut Socket, frame: Vec<u8>) -> bool {
    socket.send(Message::Binary(frame.into())).await.is_ok() && answered(socket).await
}

#[test]
fn server_answers_every_mutated_frame_and_keeps_serving() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let (app, token, first, valid_frame) = runtime.block_on(async {
        let app = spawn_app().await;
        // Valid material to mutate: a phone's first sync messages for a few records.
        let mut phone = Device::new();
        let guard = app.session_on(&phone, GUARD).await;
        for i in 0..3 {
            phone.start_round(
                &guard.user.estate_id,
                &guard.user.id,
                &format!("round {i}"),
                T0 + i,
            );
        }
        let ids: Vec<_> = phone.docs.keys().copied().collect();
        let first: Vec<DocSync> = ids
            .iter()
            .filter_map(|id| phone.session.generate(*id, &phone.docs[id]))
            .collect();
        let valid_frame = protocol::encode(&ClientMessage::Sync {
            docs: first.clone(),
        });
        (app, guard.token, first, valid_frame)
    });
    let addr: SocketAddr = app.addr;
    let connect =
        || runtime.block_on(async { Device::connect_ok(addr, &token).await.expect("connects") });
    let socket = RefCell::new(connect());

    let edits = prop::collection::vec((any::<u8>(), any::<Index>(), any::<u8>()), 1..=4);
    let mut runner = TestRunner::new(Config {
        cases: FRAMES,
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(&(any::<bool>(), edits), |(whole_frame, edits)| {
        let frame = if whole_frame {
            mutate(&valid_frame, &edits)
        } else {
            // A well-formed frame whose Automerge messages are mutated.
            let docs = first
                .iter()
                .map(|d| DocSync {
                    doc: d.doc,
                    message: mutate(&d.message, &edits),
                })
                .collect();
            protocol::encode(&ClientMessage::Sync { docs })
        };
        let ok = runtime.block_on(send_and_wait(&mut socket.borrow_mut(), frame));
        if !ok {
            // Shrinking tries smaller inputs: give each a working connection.
            *socket.borrow_mut() = connect();
        }
        prop_assert!(ok, "no answer, or the connection was closed");
        Ok(())
    });
    if let Err(failure) = result {
        panic!("{failure}");
    }

    let mut socket = socket.into_inner();
    runtime.block_on(async {
        // The same connection still pings, and a fresh device still syncs.
        let ping = protocol::encode(&ClientMessage::Ping { nonce: 1 });
        assert!(
            send_and_wait(&mut socket, ping).await,
            "no pong after the mutated frames"
        );
        let mut other = Device::new();
        let session = app.session_on(&other, GUARD).await;
        let id = other.start_round(
            &session.user.estate_id,
            &session.user.id,
            "after the storm",
            T0,
        );
        let mut fresh = Device::connect_ok(app.addr, &session.token)
            .await
            .expect("connects");
        other.sync(&mut fresh).await.expect("syncs");
        assert!(other.is_stored(id), "server stopped storing records");
    });
}
