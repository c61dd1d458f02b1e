//! Deterministic simulation of phones, a server and the network between them, in one process
//! on one seeded clock.
//!
//! Phones (two guards, one of them with two phones, and the office) make random edits offline
//! and online: new rounds, visits and findings on their own rounds (a guard's second phone
//! writes on rounds the first one started), the office's remarks on any round it opened.
//! Every edit is judged on the phone by the same rules as the server (`edit_document`) and
//! saved at once, as the app does; what a phone receives is saved a little later, so a
//! crash loses it. The server is the real one's sync path: `apply_sync_batch` and `apply_in`,
//! or (half the frames, as with group commit) `prepare` then `apply_prepared`, on a SQLite
//! store in a temporary directory, with the sim's clock as its `now`.
//!
//! The network is what a WebSocket gives: on one connection, frames arrive in order and once,
//! each after its own delay; a lost frame breaks the connection (the server sees it close at
//! once, the phone when its heartbeat goes unanswered). Across connections it reorders and
//! duplicates: a phone that gives up on a silent connection and opens another may have frames
//! of the old one reach the server after those of the new one, and a phone whose
//! acknowledgement was lost sends the same changes again. It partitions a phone from the
//! server for a while (its connection breaks); the server
//! crashes (between frames, in the middle of one before its commit, or after the commit
//! before its answers go out) and comes back on the same database; phones crash and come
//! back with what they had saved. A phone that hears nothing for a while reconnects, as the
//! app's heartbeat does.
//!
//! Then the network heals and everyone syncs. Checked after every run:
//! - every change the server acknowledged to a phone is on the server;
//! - every phone's replica of a record has the server's heads (converged);
//! - nothing a phone wrote is lost, on the phone or the server;
//! - every stored record keeps its kind's rules, and the server refused nothing a phone's own
//!   judge let through.
//!
//! `cargo test` runs a short version (10 seeds); `cargo xtask simulate --seeds N` runs N seeds
//! from a seed it prints, `--seed S` one seed exactly (`SIM_TRACE_DOC=<document ID>` prints
//! every frame about one document). Prints one line:
//! `simulation seeds=N failures=F first_failing_seed=S|none`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use automerge::{ActorId, Automerge, ChangeHash, ReadDoc};
use gatehouse_server::auth::token_hash;
use gatehouse_server::store::Store;
use gatehouse_server::sync::{apply_in, Limits};
use gatehouse_shared::device::DeviceEnrolment;
use gatehouse_shared::protocol::{self, ClientMessage, ServerMessage};
use gatehouse_shared::record::{create_document, edit_document, read_record, Writer};
use gatehouse_shared::sync_session::SyncSession;
use gatehouse_shared::{
    CheckpointVisit, DocumentId, EntryId, Finding, PatrolLog, Remark, Role, Severity, UserInfo,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

#[path = "simulate/check.rs"]
mod check;
#[path = "simulate/phone.rs"]
mod phone;
#[path = "simulate/server.rs"]
mod server;
#[path = "simulate/trace.rs"]
mod trace;
use trace::trace;

const ESTATE: &str = "sim-estate";
const T0: i64 = 1_780_000_000_000;
/// One step of the clock.
const STEP_MS: i64 = 50;
/// How long the faulty part of a run lasts, and the most the healed part may take.
const CHAOS_MS: i64 = 90_000;
const HEAL_MS: i64 = 120_000;
/// A phone that has waited this long for an answer reconnects (the app's heartbeat).
const SILENCE_MS: i64 = 4_000;
/// No frame sent for this long, once healed: settled.
const QUIET_MS: i64 = 3_000;
const SHORT_SEEDS: u64 = 10;
const LIMITS: Limits = Limits {
    max_document_bytes: 2 * 1024 * 1024,
};

/// How often each fault happens: per frame, or per phone or server per step.
struct Faults {
    drop: f64,
    partition: f64,
    phone_crash: f64,
    server_crash: f64,
}

const FAULTS: Faults = Faults {
    drop: 0.02,
    partition: 0.002,
    phone_crash: 0.001,
    server_crash: 0.0015,
};

struct Args {
    seeds: u64,
    first: u64,
    one: Option<u64>,
}

/// `--seeds N`, `--from S` (the first seed of N), `--seed S` (that seed only); anything else
/// (what `cargo test` passes) is ignored.
fn args() -> Result<Args> {
    let mut parsed = Args {
        seeds: SHORT_SEEDS,
        first: rand::random::<u32>().into(),
        one: None,
    };
    let mut words = std::env::args().skip(1);
    while let Some(word) = words.next() {
        match word.as_str() {
            "--seeds" => parsed.seeds = words.next().context("--seeds N")?.parse()?,
            "--from" => parsed.first = words.next().context("--from S")?.parse()?,
            "--seed" => parsed.one = Some(words.next().context("--seed S")?.parse()?),
            _ => {}
        }
    }
    Ok(parsed)
}

/// A user of the estate and their session, as the server stores it.
#[derive(Clone)]
struct Account {
    user_id: String,
    role: Role,
    token: String,
}

/// A phone: what it has saved (its IndexedDB), what it holds in memory, its connection.
struct Phone {
    account: Account,
    device_id: String,
    actor: ActorId,
    device_key: Vec<u8>,
    /// Saved: each document with its sync state, as the app keeps them.
    saved: BTreeMap<DocumentId, (Vec<u8>, Option<Vec<u8>>)>,
    docs: BTreeMap<DocumentId, Automerge>,
    /// Received but not saved yet.
    unsaved: BTreeSet<DocumentId>,
    session: SyncSession,
    /// The protocol version it speaks: half the phones speak 3 (a `stored` entry at the
    /// phone's heads stands for the server's sync message), half 2.
    version: u32,
    connection: Option<u64>,
    /// Down (crashed) until this time.
    down_until: i64,
    /// Cut off from the server until this time.
    partitioned_until: i64,
    /// When the phone last heard from the server while waiting for an answer.
    waiting_since: Option<i64>,
    /// Every change this phone wrote (saved at once).
    written: BTreeMap<DocumentId, BTreeSet<ChangeHash>>,
    /// Every head the server acknowledged to this phone (saved at once).
    acked: BTreeMap<DocumentId, BTreeSet<ChangeHash>>,
}

/// One direction of one connection's frame, in flight.
struct Frame {
    connection: u64,
    to_server: bool,
    bytes: Vec<u8>,
}

/// A connection as the server holds it.
struct ServerSide {
    token_hash: Vec<u8>,
    session: SyncSession,
    version: u32,
}

/// What happened in the runs, to show the faults did happen.
#[derive(Debug, Default, Clone, Copy)]
struct Counts {
    frames: u64,
    lost_frames: u64,
    stale_frames: u64,
    acknowledged_again: u64,
    partitions: u64,
    phone_crashes: u64,
    server_crashes_between_frames: u64,
    server_crashes_before_commit: u64,
    server_crashes_before_answer: u64,
    edits: u64,
}

impl Counts {
    fn add(&mut self, other: &Counts) {
        self.frames += other.frames;
        self.lost_frames += other.lost_frames;
        self.stale_frames += other.stale_frames;
        self.acknowledged_again += other.acknowledged_again;
        self.partitions += other.partitions;
        self.phone_crashes += other.phone_crashes;
        self.server_crashes_between_frames += other.server_crashes_between_frames;
        self.server_crashes_before_commit += other.server_crashes_before_commit;
        self.server_crashes_before_answer += other.server_crashes_before_answer;
        self.edits += other.edits;
    }
}

struct Sim {
    counts: Counts,
    rng: StdRng,
    now: i64,
    database: PathBuf,
    _dir: tempfile::TempDir,
    store: Option<Store>,
    server_down_until: i64,
    connections: BTreeMap<u64, ServerSide>,
    next_connection: u64,
    /// Frames in flight by (delivery time, sequence).
    in_flight: BTreeMap<(i64, u64), Frame>,
    sequence: u64,
    /// When a frame was last sent.
    last_traffic: i64,
    /// The latest delivery time per connection and direction (frames arrive in order
    /// unless reordered).
    last_delivery: BTreeMap<(u64, bool), i64>,
    phones: Vec<Phone>,
    faults_on: bool,
    /// Why the run failed, when it did.
    broken: Vec<String>,
}

fn random_bytes<const N: usize>(rng: &mut StdRng) -> [u8; N] {
    let mut bytes = [0; N];
    rng.fill(&mut bytes[..]);
    bytes
}

impl Sim {
    fn new(seed: u64) -> Result<Self> {
        let mut rng = StdRng::seed_from_u64(seed);
        let dir = tempfile::tempdir()?;
        let database = dir.path().join("gatehouse.db");
        let store = Store::open(&database)?;
        store.upsert_estate(ESTATE, "模拟苑")?;
        let mut phones = Vec::new();
        // Guard 0 has two phones; guard 1 one; the office one.
        let people = [
            ("sim-guard-0", Role::Guard, 2),
            ("sim-guard-1", Role::Guard, 1),
            ("sim-clerk", Role::Office, 1),
        ];
        for (user_id, role, phone_count) in people {
            let user = UserInfo {
                id: user_id.into(),
                username: user_id.into(),
                display_name: user_id.into(),
                role,
                estate_id: ESTATE.into(),
                estate_name: String::new(),
                estates: Vec::new(),
            };
            store.upsert_user(&user, "!", T0)?;
            for _ in 0..phone_count {
                let device_id = format!("sim-{}", phones.len());
                let actor = ActorId::from(random_bytes::<16>(&mut rng));
                let key_seed = random_bytes::<32>(&mut rng);
                let enrolment =
                    DeviceEnrolment::sign(user_id, &device_id, actor.to_bytes(), &key_seed, "sim");
                store.enrol_device(user_id, &enrolment, T0)?;
                let token = format!("{device_id}-{}", u64::from_le_bytes(random_bytes(&mut rng)));
                store.create_session(
                    &token_hash(&token),
                    user_id,
                    &device_id,
                    T0,
                    T0 + 86_400_000,
                )?;
                phones.push(Phone {
                    account: Account {
                        user_id: user_id.into(),
                        role,
                        token,
                    },
                    device_id,
                    actor,
                    device_key: enrolment.public_key.clone(),
                    saved: BTreeMap::new(),
                    docs: BTreeMap::new(),
                    unsaved: BTreeSet::new(),
                    session: SyncSession::new(),
                    version: if phones.len() % 2 == 0 { 3 } else { 2 },
                    connection: None,
                    down_until: 0,
                    partitioned_until: 0,
                    waiting_since: None,
                    written: BTreeMap::new(),
                    acked: BTreeMap::new(),
                });
            }
        }
        Ok(Self {
            rng,
            now: T0,
            database,
            _dir: dir,
            store: Some(store),
            server_down_until: 0,
            connections: BTreeMap::new(),
            next_connection: 1,
            in_flight: BTreeMap::new(),
            sequence: 0,
            last_traffic: T0,
            last_delivery: BTreeMap::new(),
            phones,
            faults_on: true,
            broken: Vec::new(),
            counts: Counts::default(),
        })
    }

    fn chance(&mut self, p: f64) -> bool {
        self.faults_on && self.rng.random_bool(p)
    }

    /// Puts a frame on the wire: delayed, behind the frames before it on its connection, or
    /// lost, which breaks the connection.
    fn send(&mut self, connection: u64, to_server: bool, bytes: Vec<u8>) {
        self.last_traffic = self.now;
        self.counts.frames += 1;
        if self.chance(FAULTS.drop) {
            self.counts.lost_frames += 1;
            self.break_connection(connection);
            return;
        }
        let last = self
            .last_delivery
            .get(&(connection, to_server))
            .copied()
            .unwrap_or(0);
        let at = (self.now + self.rng.random_range(1..=300)).max(last);
        self.last_delivery.insert((connection, to_server), at);
        self.sequence += 1;
        self.in_flight.insert(
            (at, self.sequence),
            Frame {
                connection,
                to_server,
                bytes,
            },
        );
    }

    /// The connection breaks: the server drops it, what is on the wire is lost; the phone
    /// notices later.
    fn break_connection(&mut self, connection: u64) {
        self.connections.remove(&connection);
        self.in_flight.retain(|_, f| f.connection != connection);
    }

    /// The phone gives up on its connection (or it broke): it starts over on the next one.
    /// Frames it already sent still reach the server, which answers into the void.
    fn give_up(&mut self, index: usize) {
        let phone = &mut self.phones[index];
        if phone.connection.take().is_some() {
            phone.session.disconnected();
            phone.waiting_since = None;
        }
    }

    fn server_crash(&mut self) {
        self.store = None;
        self.connections.clear();
        self.in_flight.clear();
        for phone in 0..self.phones.len() {
            self.give_up(phone);
        }
        self.server_down_until = self.now + self.rng.random_range(500..5_000);
    }

    fn phone_crash(&mut self, index: usize) {
        self.counts.phone_crashes += 1;
        self.give_up(index);
        let down = self.rng.random_range(500..10_000);
        let phone = &mut self.phones[index];
        phone.docs.clear();
        phone.session = SyncSession::new();
        phone.unsaved.clear();
        for (id, (bytes, state)) in &phone.saved {
            let doc = Automerge::load(bytes)
                .expect("saved document loads")
                .with_actor(phone.actor.clone());
            phone.docs.insert(*id, doc);
            if let Some(state) = state {
                phone.session.resume(*id, state).expect("saved sync state");
            }
        }
        phone.session.disconnected();
        phone.down_until = self.now + down;
    }

    fn save(&mut self, index: usize, id: DocumentId) {
        let phone = &mut self.phones[index];
        let bytes = phone.docs[&id].save();
        phone
            .saved
            .insert(id, (bytes, phone.session.persisted(&id)));
        phone.unsaved.remove(&id);
    }

    /// The server as known to the phones: up, with its store open.
    fn server_up(&mut self) -> Result<bool> {
        if self.store.is_none() && self.now >= self.server_down_until {
            self.store = Some(Store::open(&self.database)?);
        }
        Ok(self.store.is_some())
    }

    /// The server receives one frame on `connection`.
    fn server_receives(&mut self, connection: u64, bytes: &[u8]) -> Result<()> {
        let Some(store) = self.store.as_mut() else {
            return Ok(());
        };
        let Some(side) = self.connections.get_mut(&connection) else {
            return Ok(());
        };
        let ClientMessage::Sync { docs } = protocol::decode(bytes)? else {
            bail!("the sim's phones send only sync frames");
        };
        // A crash in the middle of the frame, before its commit: nothing of it stays.
        if self.faults_on && self.rng.random_bool(FAULTS.server_crash * 20.0) {
            let tx = store.begin()?;
            let mut throwaway = SyncSession::new();
            let _ = apply_in(
                &tx,
                &side.token_hash,
                &mut throwaway,
                docs,
                self.now,
                connection,
                LIMITS,
            )?;
            drop(tx);
            self.counts.server_crashes_before_commit += 1;
            self.server_crash();
            return Ok(());
        }
        let grouped = self.rng.random_bool(0.5);
        let outcome = side.store(store, docs, self.now, connection, grouped)?;
        let outcome = match outcome {
            Ok(outcome) => outcome,
            Err(refused) => {
                self.broken.push(format!(
                    "connection {connection}: session refused {refused:?}"
                ));
                return Ok(());
            }
        };
        // A crash after the commit, before the answers go out.
        if self.faults_on && self.rng.random_bool(FAULTS.server_crash * 20.0) {
            self.counts.server_crashes_before_answer += 1;
            self.server_crash();
            return Ok(());
        }
        for error in &outcome.errors {
            self.broken.push(format!("server refused: {error:?}"));
        }
        let changed: Vec<DocumentId> = outcome.changed.iter().map(|c| c.doc).collect();
        if !self.phones.iter().any(|p| p.connection == Some(connection)) {
            self.counts.stale_frames += 1;
        }
        self.counts.acknowledged_again += outcome
            .stored
            .iter()
            .filter(|s| !changed.contains(&s.doc))
            .count() as u64;
        let mut frames = Vec::new();
        if !outcome.stored.is_empty() {
            frames.push(ServerMessage::Stored {
                docs: outcome.stored,
            });
        }
        frames.push(ServerMessage::Sync {
            docs: outcome.replies,
            pushed: false,
            more: false,
        });
        for frame in frames {
            self.send(connection, false, protocol::encode(&frame));
        }
        // Pushed to the other connections that have the document.
        let others: Vec<u64> = self
            .connections
            .keys()
            .copied()
            .filter(|c| *c != connection)
            .collect();
        for id in changed {
            let Some(stored) = self
                .store
                .as_ref()
                .and_then(|s| s.load_document(&id).ok().flatten())
            else {
                continue;
            };
            for other in &others {
                // Gone if a lost frame broke it in this loop.
                let Some(side) = self.connections.get_mut(other) else {
                    continue;
                };
                if !side.session.is_tracking(&id) {
                    continue;
                }
                if let Some(reply) = side.session.generate(id, &stored.doc) {
                    let frame = protocol::encode(&ServerMessage::Sync {
                        docs: vec![reply],
                        pushed: true,
                        more: false,
                    });
                    self.send(*other, false, frame);
                }
            }
        }
        Ok(())
    }

    fn deliver(&mut self) -> Result<()> {
        while let Some(entry) = self.in_flight.first_entry() {
            if entry.key().0 > self.now {
                break;
            }
            let frame = entry.remove();
            if let Ok(doc) = std::env::var("SIM_TRACE_DOC") {
                trace(
                    self.now,
                    &frame,
                    &doc,
                    self.connections.contains_key(&frame.connection),
                );
            }
            if frame.to_server {
                self.server_receives(frame.connection, &frame.bytes)?;
            } else if let Some(index) = self
                .phones
                .iter()
                .position(|p| p.connection == Some(frame.connection))
            {
                self.phone_receives(index, &frame.bytes)?;
            }
        }
        Ok(())
    }

    fn step(&mut self) -> Result<()> {
        self.now += STEP_MS;
        if self.store.is_some() && self.chance(FAULTS.server_crash) {
            self.counts.server_crashes_between_frames += 1;
            self.server_crash();
        }
        self.server_up()?;
        self.deliver()?;
        for index in 0..self.phones.len() {
            self.phone_step(index)?;
        }
        // The server closes a connection the phone left once its last frames are read.
        let held: BTreeSet<u64> = self.phones.iter().filter_map(|p| p.connection).collect();
        let reading: BTreeSet<u64> = self
            .in_flight
            .values()
            .filter(|f| f.to_server)
            .map(|f| f.connection)
            .collect();
        self.connections
            .retain(|c, _| held.contains(c) || reading.contains(c));
        Ok(())
    }

    /// Whether the system has settled: every phone connected with everything saved, and no
    /// frame sent for a while (the invariants then say whether it settled where it should).
    fn quiet(&self) -> bool {
        self.in_flight.is_empty()
            && self.now - self.last_traffic > QUIET_MS
            && self.phones.iter().all(|phone| {
                phone
                    .connection
                    .is_some_and(|c| self.connections.contains_key(&c))
                    && phone.unsaved.is_empty()
            })
    }
}

/// One run; the reasons it failed (none when it passed) and what happened.
fn run(seed: u64) -> Result<(Vec<String>, Counts)> {
    let mut sim = Sim::new(seed)?;
    let end_of_chaos = T0 + CHAOS_MS;
    while sim.now < end_of_chaos {
        sim.step()?;
    }
    // The network heals, the server and every phone are up; everyone syncs.
    sim.faults_on = false;
    sim.server_down_until = sim.now;
    for phone in &mut sim.phones {
        phone.down_until = sim.now;
        phone.partitioned_until = sim.now;
    }
    let end_of_heal = sim.now + HEAL_MS;
    while sim.now < end_of_heal && !sim.quiet() {
        sim.step()?;
    }
    if !sim.quiet() {
        let unsettled: Vec<String> = sim
            .phones
            .iter()
            .enumerate()
            .filter(|(_, phone)| {
                !phone.unsaved.is_empty()
                    || !phone
                        .connection
                        .is_some_and(|c| sim.connections.contains_key(&c))
            })
            .map(|(index, phone)| format!("phone {index}: unsaved {}", phone.unsaved.len()))
            .collect();
        sim.broken.push(format!(
            "did not settle after the network healed ({} frames in flight): {unsettled:?}",
            sim.in_flight.len()
        ));
    }
    sim.check()?;
    if sim.phones.iter().all(|p| p.written.is_empty()) {
        sim.broken.push("nothing was written".into());
    }
    Ok((std::mem::take(&mut sim.broken), sim.counts))
}

fn main() -> Result<()> {
    let args = args()?;
    let seeds: Vec<u64> = match args.one {
        Some(seed) => vec![seed],
        None => (args.first..args.first + args.seeds).collect(),
    };
    println!(
        "simulation: seeds {}..{} (one again: cargo xtask simulate --seed S)",
        seeds[0],
        seeds[seeds.len() - 1]
    );
    let mut failures = 0;
    let mut first_failing = None;
    let mut counts = Counts::default();
    for seed in &seeds {
        let broken = match run(*seed) {
            Ok((broken, run_counts)) => {
                counts.add(&run_counts);
                broken
            }
            Err(error) => vec![format!("the run stopped: {error:#}")],
        };
        if !broken.is_empty() {
            failures += 1;
            first_failing.get_or_insert(*seed);
            println!("simulation: seed {seed} failed:");
            for reason in broken.iter().take(10) {
                println!("  {reason}");
            }
            if broken.len() > 10 {
                println!("  … and {} more", broken.len() - 10);
            }
        }
    }
    println!("simulation: in all {counts:?}");
    println!(
        "simulation seeds={} failures={failures} first_failing_seed={}",
        seeds.len(),
        first_failing.map_or_else(|| "none".to_owned(), |s| s.to_string())
    );
    if failures > 0 {
        bail!("{failures} of {} seeds failed", seeds.len());
    }
    Ok(())
}
