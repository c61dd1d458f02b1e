//! Crash test: nothing the server acknowledged is lost when its process is killed.
//!
//! Four guards' phones write patrol logs in batches (a new round, or visits to rounds they
//! wrote before) and sync each batch with the server binary, keeping every `stored`
//! acknowledgement. The server is killed with SIGKILL at a random moment (seeded; the seed is
//! printed) while they sync, and started again on the same database; the phones reconnect and
//! go on. At the end:
//! - every acknowledged change is on the server, checked by syncing each document into an
//!   empty replica (the office's) and looking for every change the acknowledgements covered,
//!   not by reading the list;
//! - the records table holds, for every document, the summary its document gives;
//! - `PRAGMA integrity_check` is `ok`.
//!
//! `cargo test` runs a short version (8 kills); `cargo xtask crash --kills N [--seed S]` the
//! long one. Prints one line:
//! `crash-test kills=N acked_changes=A lost=L integrity=ok|failed seed=S`.

#[path = "it/device.rs"]
mod device;
#[path = "../benches/support/mod.rs"]
mod support;

use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use automerge::{Automerge, ChangeHash, ReadDoc};
use device::{next_message, visit, Device};
use gatehouse_server::auth::token_hash;
use gatehouse_server::store::Store;
use gatehouse_shared::record::read_record;
use gatehouse_shared::{DocumentId, RecordSummary, Role, UserInfo};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use support::Server;

const ESTATE: &str = "crash-estate";
const WRITERS: usize = 4;
const SHORT_KILLS: u32 = 8;
/// How long after the server is up it may be killed, at most.
const MOST_MS_BEFORE_KILL: u64 = 700;

struct Args {
    kills: u32,
    seed: u64,
}

/// `--kills N` and `--seed S`; anything else (what `cargo test` passes) is ignored.
fn args() -> Result<Args> {
    let mut parsed = Args {
        kills: SHORT_KILLS,
        seed: rand::random::<u32>().into(),
    };
    let mut words = std::env::args().skip(1);
    while let Some(word) = words.next() {
        match word.as_str() {
            "--kills" => parsed.kills = words.next().context("--kills N")?.parse()?,
            "--seed" => parsed.seed = words.next().context("--seed S")?.parse()?,
            _ => {}
        }
    }
    Ok(parsed)
}

/// A guard's phone and its session token.
struct Writer {
    device: Device,
    user_id: String,
    token: String,
}

/// Writes the estate, the guards (each with an enrolled device and a session) and a clerk
/// into a new database at `dir`, as `gatehouse-server admin` would.
fn prepare(dir: &Path) -> Result<(Vec<Writer>, String)> {
    let store = Store::open(&dir.join("gatehouse.db"))?;
    store.upsert_estate(ESTATE, "崩溃苑")?;
    let now = gatehouse_server::now_ms();
    let expires = now + 86_400_000;
    let add = |id: &str, role: Role, device: &Device| -> Result<String> {
        let user = UserInfo {
            id: id.to_owned(),
            username: id.to_owned(),
            display_name: id.to_owned(),
            role,
            estate_id: ESTATE.into(),
            estate_name: String::new(),
            estates: Vec::new(),
        };
        store.upsert_user(&user, "!", now)?;
        store.enrol_device(id, &device.enrolment(id), now)?;
        let token = format!("{id}-{}", uuid::Uuid::new_v4());
        store.create_session(&token_hash(&token), id, &device.device_id, now, expires)?;
        Ok(token)
    };
    let office = Device::new();
    let office_token = add("crash-clerk", Role::Office, &office)?;
    let mut writers = Vec::new();
    for i in 0..WRITERS {
        let device = Device::new();
        let user_id = format!("crash-guard-{i}");
        let token = add(&user_id, Role::Guard, &device)?;
        writers.push(Writer {
            device,
            user_id,
            token,
        });
    }
    Ok((writers, office_token))
}

/// Writes one batch on the phone: a new round, or visits to rounds it has.
fn write_batch(writer: &mut Writer, rng: &mut StdRng) {
    let now = gatehouse_server::now_ms();
    let ids: Vec<_> = writer.device.docs.keys().copied().collect();
    if ids.is_empty() || rng.random_bool(0.3) {
        writer
            .device
            .start_round(ESTATE, &writer.user_id, "夜巡", now - 60_000);
        return;
    }
    for _ in 0..rng.random_range(1..=4) {
        let id = ids[rng.random_range(0..ids.len())];
        let author = writer.user_id.clone();
        writer.device.edit(id, now, |log| {
            log.visits.push(visit(&author, "东门", now, ""))
        });
    }
}

/// Syncs until every document the phone holds is acknowledged.
async fn sync_until_stored(device: &mut Device, socket: &mut device::Socket) -> Result<()> {
    device.sync(socket).await?;
    let ids: Vec<_> = device.docs.keys().copied().collect();
    while !ids.iter().all(|id| device.is_stored(*id)) {
        let Some(message) = tokio::time::timeout(Duration::from_secs(30), next_message(socket))
            .await
            .context("no acknowledgement within 30 s")??
        else {
            bail!("server closed the socket");
        };
        device.handle(message)?;
    }
    if !device.errors.is_empty() {
        bail!("the server refused: {:?}", device.errors);
    }
    Ok(())
}

/// A phone's life while the server runs: connect, then write and sync batches until the
/// connection breaks (the kill). Returns the phone, having noted what was acknowledged.
async fn write_until_killed(
    mut writer: Writer,
    addr: std::net::SocketAddr,
    seed: u64,
    acked: &mut BTreeMap<DocumentId, HashSet<ChangeHash>>,
) -> (Writer, bool) {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut cut = false;
    if let Ok(mut socket) = Device::connect_ok(addr, &writer.token).await {
        loop {
            write_batch(&mut writer, &mut rng);
            let synced = sync_until_stored(&mut writer.device, &mut socket).await;
            note_acks(&writer.device, acked);
            if synced.is_err() {
                // Written but not all acknowledged when the server died.
                cut = !writer
                    .device
                    .docs
                    .keys()
                    .all(|id| writer.device.is_stored(*id));
                break;
            }
        }
    }
    // As a phone does when its connection ends.
    writer.device.session.disconnected();
    (writer, cut)
}

fn note_acks(device: &Device, acked: &mut BTreeMap<DocumentId, HashSet<ChangeHash>>) {
    for (id, stored) in &device.stored {
        let heads = acked.entry(*id).or_default();
        for head in &stored.heads {
            if let Ok(hash) = ChangeHash::try_from(head.as_slice()) {
                heads.insert(hash);
            }
        }
    }
}

/// Every change `heads` stand on, in `doc` (the writer's replica, which has them all).
fn ancestry(doc: &Automerge, heads: &HashSet<ChangeHash>) -> HashSet<ChangeHash> {
    let mut seen = HashSet::new();
    let mut todo: Vec<ChangeHash> = heads.iter().copied().collect();
    while let Some(hash) = todo.pop() {
        if !seen.insert(hash) {
            continue;
        }
        if let Some(change) = doc.get_change_by_hash(&hash) {
            todo.extend(change.deps().iter().copied());
        }
    }
    seen
}

/// Documents whose records row is not the summary the document gives, or that have none.
fn records_mismatches(database: &Path) -> Result<Vec<String>> {
    let store = Store::open(database)?;
    let conn = rusqlite::Connection::open(database)?;
    let listed = store.list_records(&[ESTATE.to_owned()], 1_000_000, None)?;
    let listed: BTreeMap<_, _> = listed.into_iter().map(|r| (r.doc, r)).collect();
    let mut statement = conn.prepare("SELECT id, created_at, updated_at FROM documents")?;
    let documents = statement
        .query_map([], |row| {
            Ok((
                row.get::<_, Vec<u8>>(0)?,
                row.get::<_, i64>(1)?,
                row.get::<_, i64>(2)?,
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut wrong = Vec::new();
    for (id, created_at, updated_at) in &documents {
        let id = DocumentId::from_bytes(id).context("document ID")?;
        let stored = store.load_document(&id)?.context("listed document loads")?;
        let record = read_record(&stored.doc).context("stored document reads")?;
        let expected = RecordSummary::of(id, &record, *created_at, *updated_at);
        if listed.get(&id) != Some(&expected) {
            wrong.push(format!(
                "{id}: row {:?}, document {expected:?}",
                listed.get(&id)
            ));
        }
    }
    if listed.len() != documents.len() {
        wrong.push(format!(
            "{} rows for {} documents",
            listed.len(),
            documents.len()
        ));
    }
    Ok(wrong)
}

/// Reads every acknowledged document from the server into an empty replica (the office's);
/// returns how many changes the acknowledgements covered and how many of them it lacks.
async fn count_lost(
    addr: std::net::SocketAddr,
    office_token: &str,
    acked: &BTreeMap<DocumentId, HashSet<ChangeHash>>,
    writers: &[Writer],
) -> Result<(usize, usize)> {
    let mut office = Device::new();
    let ids: Vec<DocumentId> = acked.keys().copied().collect();
    for id in &ids {
        office.follow(*id);
    }
    let mut socket = Device::connect_ok(addr, office_token).await?;
    office.sync_documents(&mut socket, &ids).await?;
    let mut acked_changes = 0;
    let mut lost = 0;
    for (id, heads) in acked {
        let writer_doc = writers
            .iter()
            .find_map(|w| w.device.docs.get(id))
            .context("a writer holds every acknowledged document")?;
        let changes = ancestry(writer_doc, heads);
        acked_changes += changes.len();
        let on_server = &office.docs[id];
        lost += changes
            .iter()
            .filter(|hash| on_server.get_change_by_hash(hash).is_none())
            .count();
    }
    Ok((acked_changes, lost))
}

fn integrity(database: &Path) -> Result<bool> {
    let conn = rusqlite::Connection::open(database)?;
    let answer: String = conn.query_row("PRAGMA integrity_check", [], |row| row.get(0))?;
    Ok(answer == "ok")
}

fn main() -> Result<()> {
    let Args { kills, seed } = args()?;
    println!("crash-test: {kills} kills, seed {seed} (again: cargo xtask crash --kills {kills} --seed {seed})");
    let runtime = tokio::runtime::Runtime::new()?;
    let dir = tempfile::tempdir()?;
    let database = dir.path().join("gatehouse.db");
    let (mut writers, office_token) = prepare(dir.path())?;
    let mut rng = StdRng::seed_from_u64(seed);
    let mut acked: BTreeMap<DocumentId, HashSet<ChangeHash>> = BTreeMap::new();
    // Batches the kill caught between sending and acknowledging.
    let mut cut_batches = 0u32;

    for kill in 0..kills {
        let mut server = Server::start(dir.path(), &[])?;
        let before_kill = Duration::from_millis(rng.random_range(0..MOST_MS_BEFORE_KILL));
        let seeds: Vec<u64> = (0..writers.len()).map(|_| rng.random()).collect();
        let addr = server.addr;
        let (back, noted) = runtime.block_on(async {
            let tasks: Vec<_> = std::mem::take(&mut writers)
                .into_iter()
                .zip(seeds)
                .map(|(writer, seed)| {
                    tokio::spawn(async move {
                        let mut acked = BTreeMap::new();
                        let (writer, cut) =
                            write_until_killed(writer, addr, seed, &mut acked).await;
                        (writer, acked, cut)
                    })
                })
                .collect();
            tokio::time::sleep(before_kill).await;
            // SIGKILL: no shutdown, no flush, whatever the server was doing.
            server.child.kill().expect("kills the server");
            server.child.wait().expect("server ends");
            let mut back = Vec::new();
            let mut noted = Vec::new();
            for task in tasks {
                let (writer, acked, cut) = task.await.expect("writer task");
                back.push(writer);
                noted.push(acked);
                cut_batches += u32::from(cut);
            }
            (back, noted)
        });
        writers = back;
        for part in noted {
            for (id, heads) in part {
                acked.entry(id).or_default().extend(heads);
            }
        }
        if (kill + 1) % 25 == 0 {
            println!("crash-test: {} kills done", kill + 1);
        }
    }

    // The last start: every phone sends what it still has, and the office reads every
    // document into an empty replica.
    let server = Server::start(dir.path(), &[])?;
    let (acked_changes, lost) = runtime.block_on(async {
        for writer in &mut writers {
            let mut socket = Device::connect_ok(server.addr, &writer.token).await?;
            sync_until_stored(&mut writer.device, &mut socket).await?;
            note_acks(&writer.device, &mut acked);
        }
        count_lost(server.addr, &office_token, &acked, &writers).await
    })?;
    drop(server);
    let intact = integrity(&database)?;
    let mismatches = records_mismatches(&database)?;
    println!("crash-test: {cut_batches} batches were in flight when the server was killed");
    for mismatch in &mismatches {
        println!("crash-test: records table: {mismatch}");
    }
    println!(
        "crash-test kills={kills} acked_changes={acked_changes} lost={lost} integrity={} seed={seed}",
        if intact { "ok" } else { "failed" }
    );
    if lost > 0 || !intact || !mismatches.is_empty() || acked_changes == 0 {
        bail!("the crash test failed (seed {seed})");
    }
    // The check itself: the newest stored change taken out behind the server's back must be
    // seen as lost (when every document has just been compacted there is no change row to
    // take, and the run says so).
    let taken = rusqlite::Connection::open(&database)?.execute(
        "DELETE FROM changes WHERE rowid = (SELECT max(rowid) FROM changes)",
        [],
    )?;
    if taken == 0 {
        println!("crash-test: no change row to take out: the check was not checked");
        return Ok(());
    }
    let server = Server::start(dir.path(), &[])?;
    let (_, seen) = runtime.block_on(count_lost(server.addr, &office_token, &acked, &writers))?;
    if seen == 0 {
        bail!("the check did not see a change taken out of the database");
    }
    println!("crash-test: the check sees a change taken out of the database ({seen} lost)");
    Ok(())
}
