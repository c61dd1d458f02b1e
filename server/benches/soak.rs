//! Soak: `--clients` phones (50 by default), each a different guard with its own enrolled
//! device, write and sync through one release server for `--minutes` minutes (10 by
//! default), while an office clerk reads the record list (`GET /api/records?limit=50`) every
//! 2–4 s. Run with `cargo xtask soak --minutes N`, or
//! `cargo bench -p gatehouse-server --bench soak -- --minutes N --clients N`.
//!
//! Each phone holds one WebSocket open, as phones do. Every 1–3 s (random) it writes offline
//! on its device, a checkpoint visit in its current round, then syncs and reads until the
//! server has acknowledged (`stored`) every document it holds; that time, from the start of
//! the sync to the last acknowledgement, is the sync latency. Every 20 visits it ends the
//! round, and once that is stored forgets it (as phones drop old records: its memory stays
//! bounded) and starts a new one. Every 1–4 minutes (random) it closes its socket and opens
//! a new one, resuming its sync state (`SyncSession::disconnected`). Record times are the
//! real clock (`now_ms`), never ahead of the server's.
//!
//! Errors: every `error` the server sends a phone, every connect, sync or close that fails,
//! every wait for acknowledgements past 30 s, every failed office request, and the server
//! exiting, and a close the server ends without its own close frame (the closing handshake
//! left unfinished: the phone sees 1006; the first soak found the server did that to every
//! close a phone started). Measured: the server's RSS every 5 s (`/proc/<pid>/status`); every sync's
//! latency, by the minute it ended in. Warm-up is the first minute (the first 20 % of a run
//! shorter than 5 minutes, at least 30 s). `rss_growth_pct` is (RSS at the end − RSS at the
//! end of warm-up) / RSS at the end of warm-up × 100, signed (negative: it shrank), each RSS
//! the median of the three samples (15 s) ending there, so that one transient peak does not
//! decide it. `p99_ms_first` is the p99 latency of the first minute after warm-up,
//! `p99_ms_last` of the last minute of the run.
//!
//! The users, devices and sessions are written into the database before the server starts,
//! as `wave` does, so that no Argon2 sign-in is part of what is measured; so is each
//! guard's history (40 ended rounds: 2,000 for 50 guards), so that the server starts on a
//! database larger than SQLite's page caches, as a running estate's does. On an empty
//! database the caches grow with it for the whole run (2 MiB per connection at most): that
//! is not a leak, but it would be counted as growth after warm-up. Each minute's line also
//! gives how many group commits took over 100 and 250 ms (the server's `/metrics`), to tell
//! a slow sync caused by the store from one caused by the machine. A line per minute
//! (syncs, p50/p99 latency, RSS, threads, office p99, errors, reconnects), then one summary
//! line for scripts:
//! `soak clients=50 minutes=M errors=E rss_growth_pct=G p99_ms_first=P1 p99_ms_last=P2`.
//! Fails when there was any error or RSS grew by 20 % or more.

#[path = "../tests/it/device.rs"]
mod device;
mod support;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use device::{next_message, visit, Device, Socket};
use gatehouse_server::auth::token_hash;
use gatehouse_server::now_ms;
use gatehouse_server::store::Store;
use gatehouse_shared::protocol::ServerMessage;
use gatehouse_shared::record::read_record;
use gatehouse_shared::{DocumentId, RecordSummary, Role, UserInfo};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use support::{
    commit_histogram, commits_over, cpu_us, file_mb, load_average, percentile, rss_kib_and_threads,
    rss_parts, Server,
};
use tokio::sync::mpsc::UnboundedSender;

const ESTATE: &str = "soak-estate";
const VISITS_PER_ROUND: usize = 20;
/// Rounds each guard wrote before the soak, in the database when the server starts: the
/// server starts as a running estate's does, on a database larger than its page caches
/// (SQLite keeps up to 2 MiB per connection), which then fill during warm-up, not after.
const HISTORY_ROUNDS: usize = 40;
/// How long a phone waits for its records' acknowledgements (or to connect) at most.
const ACK_TIMEOUT: Duration = Duration::from_secs(30);
const SAMPLE_EVERY: Duration = Duration::from_secs(5);
const MINUTE: Duration = Duration::from_secs(60);
/// How many errors are printed in full (all are counted).
const ERRORS_SHOWN: usize = 20;
/// The bearer token for the server's `/metrics`, read each minute.
const METRICS_TOKEN: &str = "soak-metrics";

/// What the command line asks for.
struct Args {
    minutes: u64,
    clients: usize,
}

/// Reads `--minutes N` and `--clients N` (also `--minutes=N`); anything else (cargo bench
/// passes `--bench`) is ignored.
fn args() -> Args {
    let mut parsed = Args {
        minutes: 10,
        clients: 50,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let value = |i: usize, name: &str| -> Option<String> {
        let arg = &args[i];
        if arg == name {
            args.get(i + 1).cloned()
        } else {
            arg.strip_prefix(name)
                .and_then(|rest| rest.strip_prefix('='))
                .map(str::to_owned)
        }
    };
    for i in 0..args.len() {
        if let Some(n) = value(i, "--minutes").and_then(|v| v.parse().ok()) {
            parsed.minutes = n;
        }
        if let Some(n) = value(i, "--clients").and_then(|v| v.parse().ok()) {
            parsed.clients = n;
        }
    }
    parsed.minutes = parsed.minutes.max(1);
    parsed.clients = parsed.clients.max(1);
    parsed
}

/// A guard's phone: its device, who it is and its session token.
struct Phone {
    device: Device,
    user_id: String,
    token: String,
}

/// Writes the estate, `n` guards with an enrolled device and a session each, and a clerk,
/// into a new database in `dir`; returns the phones and the clerk's token.
fn prepare(dir: &Path, n: usize) -> Result<(Vec<Phone>, String)> {
    let mut store = Store::open(&dir.join("gatehouse.db"))?;
    store.upsert_estate(ESTATE, "長跑苑")?;
    let now = now_ms();
    let expires = now + 7 * 86_400_000;
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
        // No password anyone could type: these users never sign in.
        store.upsert_user(&user, "!", now)?;
        store.enrol_device(id, &device.enrolment(id), now)?;
        let token = format!("{id}-{}", uuid::Uuid::new_v4());
        store.create_session(&token_hash(&token), id, &device.device_id, now, expires)?;
        Ok(token)
    };
    let clerk = add("soak-clerk", Role::Office, &Device::new())?;
    let mut phones = Vec::with_capacity(n);
    for i in 0..n {
        let device = Device::new();
        let user_id = format!("soak-guard-{i}");
        let token = add(&user_id, Role::Guard, &device)?;
        phones.push(Phone {
            device,
            user_id,
            token,
        });
    }
    write_history(&mut store, &mut phones, now)?;
    Ok((phones, clerk))
}

/// Writes each guard's past rounds (`HISTORY_ROUNDS` of them, four a day before `now`),
/// each written on the guard's device (started, then its visits and its end in one change:
/// quicker to prepare than a change per visit, and the same rows once stored) and stored
/// as the sync path stores a record; the phones then hold none of them, as phones that
/// dropped old records.
fn write_history(store: &mut Store, phones: &mut [Phone], now: i64) -> Result<()> {
    let tx = store.begin()?;
    for phone in phones.iter_mut() {
        for round in 0..HISTORY_ROUNDS {
            let started_at = now - (round as i64 + 1) * 6 * 3_600_000;
            let device = &mut phone.device;
            let id = device.start_round(
                ESTATE,
                &phone.user_id,
                &format!("往日夜巡 {round}"),
                started_at,
            );
            let ended_at = started_at + VISITS_PER_ROUND as i64 * 60_000;
            let author = phone.user_id.clone();
            device.edit(id, ended_at, |log| {
                for number in 1..=VISITS_PER_ROUND {
                    let at = started_at + number as i64 * 60_000;
                    log.visits
                        .push(visit(&author, &format!("檢查點 {number}"), at, "正常"));
                }
                log.ended_at = Some(ended_at);
            });
            let doc = device.docs.remove(&id).context("the round just written")?;
            let record = read_record(&doc)?;
            let summary = RecordSummary::of(id, &record, started_at, ended_at);
            tx.save_changes(&id, ESTATE, &doc, &doc.save(), Some(&summary), ended_at)?;
        }
    }
    tx.commit()?;
    Ok(())
}

/// What the phones and the clerk report to the main task.
enum Sample {
    /// A sync acknowledged: when it ended (ms since the start) and how long it took (ms).
    Sync { at_ms: u64, ms: u64 },
    /// An office list answered: when and how long it took.
    Office { at_ms: u64, ms: u64 },
}

/// What every task shares.
struct Run {
    started: Instant,
    duration: Duration,
    errors: AtomicUsize,
    reconnects: AtomicUsize,
    resyncs: AtomicUsize,
    /// Closes the server did not answer with its own close frame (each also an error).
    unanswered_closes: AtomicUsize,
    stop: AtomicBool,
    samples: UnboundedSender<Sample>,
}

impl Run {
    fn elapsed_ms(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }

    fn over(&self) -> bool {
        self.stop.load(Ordering::Relaxed) || self.started.elapsed() >= self.duration
    }

    /// Counts an error, and prints the first few.
    fn error(&self, who: &str, what: impl std::fmt::Display) {
        let n = self.errors.fetch_add(1, Ordering::Relaxed) + 1;
        if n <= ERRORS_SHOWN {
            eprintln!(
                "error at {:.1} s, {who}: {what}",
                self.started.elapsed().as_secs_f64()
            );
        } else if n == ERRORS_SHOWN + 1 {
            eprintln!("(further errors counted, not shown)");
        }
    }
}

/// Applies a message the server sent a phone. A `follows` names the guard's own records,
/// which the phone either holds or has already dropped on purpose: nothing to fetch.
fn apply(phone: &mut Phone, run: &Run, message: ServerMessage) -> Result<()> {
    match message {
        ServerMessage::Follows { .. } => Ok(()),
        ServerMessage::Resync => {
            // The server fell behind on this connection; the next sync catches up anyway.
            run.resyncs.fetch_add(1, Ordering::Relaxed);
            Ok(())
        }
        other => phone.device.handle(other).map(|_| ()),
    }
}

/// Keeps the device's memory bounded: only `round` stays, with its sync state; errors the
/// server sent are counted and cleared.
fn trim(phone: &mut Phone, run: &Run, round: Option<DocumentId>) {
    let device = &mut phone.device;
    let dropped: Vec<DocumentId> = device
        .docs
        .keys()
        .filter(|id| Some(**id) != round)
        .copied()
        .collect();
    for id in &dropped {
        device.docs.remove(id);
        device.stored.remove(id);
        device.session.forget(id);
    }
    device.stored.retain(|id, _| Some(*id) == round);
    device.followed.clear();
    device.frames.clear();
    for error in device.errors.drain(..) {
        run.error(&phone.user_id, format_args!("server said {error:?}"));
    }
}

/// Syncs every document the phone holds and reads until all are acknowledged.
async fn sync_until_stored(phone: &mut Phone, run: &Run, socket: &mut Socket) -> Result<()> {
    phone.device.sync(socket).await?;
    let ids: Vec<DocumentId> = phone.device.docs.keys().copied().collect();
    while !ids.iter().all(|id| phone.device.is_stored(*id)) {
        let Some(message) = next_message(socket).await? else {
            bail!("server closed the socket")
        };
        apply(phone, run, message)?;
    }
    Ok(())
}

/// How a close went: the server answered the device's close frame with its own, or ended
/// the connection without (the device sees 1006, abnormal closure).
enum Closed {
    Answered,
    Unanswered,
}

/// Closes a socket as a phone going away does: a close frame, then reading until the
/// server's close.
async fn close(mut socket: Socket) -> Result<Closed> {
    socket.close(None).await?;
    tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match next_message(&mut socket).await {
                Ok(Some(_)) => continue,
                Ok(None) => return Ok(Closed::Answered),
                Err(error) if is_reset(&error) => return Ok(Closed::Unanswered),
                Err(error) => return Err(error),
            }
        }
    })
    .await
    .context("server did not close within 5 s")?
}

/// Whether the connection ended without the closing handshake.
fn is_reset(error: &anyhow::Error) -> bool {
    use tokio_tungstenite::tungstenite::error::{Error, ProtocolError};
    matches!(
        error.downcast_ref::<Error>(),
        Some(Error::Protocol(ProtocolError::ResetWithoutClosingHandshake))
    )
}

/// Closes `socket`, counting a close the server did not answer and any other failure.
async fn close_counted(socket: Socket, run: &Run, who: &str) {
    match close(socket).await {
        Ok(Closed::Answered) => {}
        Ok(Closed::Unanswered) => {
            run.unanswered_closes.fetch_add(1, Ordering::Relaxed);
            run.error(who, "close: the server did not answer with its close frame");
        }
        Err(error) => run.error(who, format_args!("close: {error:#}")),
    }
}

/// A random duration between `low` and `high` seconds.
fn between(rng: &mut StdRng, low: f64, high: f64) -> Duration {
    Duration::from_secs_f64(rng.random_range(low..high))
}

/// One phone until the run is over: write, sync, idle 1–3 s reading the socket, now and
/// then reconnect.
async fn phone(mut phone: Phone, addr: SocketAddr, run: Arc<Run>, delay: Duration) {
    let mut rng = StdRng::from_os_rng();
    tokio::time::sleep(delay).await;
    let mut socket: Option<Socket> = None;
    let mut reconnect_at = Instant::now() + between(&mut rng, 60.0, 240.0);
    let mut round: Option<DocumentId> = None;
    let (mut rounds, mut visits, mut ended) = (0, 0, false);
    while !run.over() {
        let open = match socket.as_mut() {
            Some(open) => open,
            None => {
                match tokio::time::timeout(
                    ACK_TIMEOUT,
                    Device::connect_with_follows(addr, &phone.token),
                )
                .await
                {
                    Ok(Ok((opened, _own_records))) => socket.insert(opened),
                    Ok(Err(error)) => {
                        run.error(&phone.user_id, format_args!("connect: {error:#}"));
                        tokio::time::sleep(Duration::from_secs(1)).await;
                        continue;
                    }
                    Err(_) => {
                        run.error(&phone.user_id, "connect: no welcome within 30 s");
                        continue;
                    }
                }
            }
        };

        // Written offline: a visit in the current round (a new round if there is none);
        // the 20th ends it. An ended round not yet acknowledged is only synced again.
        if !ended {
            let id = match round {
                Some(id) => id,
                None => {
                    rounds += 1;
                    let route = format!("夜巡 {rounds}");
                    let id = phone
                        .device
                        .start_round(ESTATE, &phone.user_id, &route, now_ms());
                    round = Some(id);
                    id
                }
            };
            visits += 1;
            ended = visits >= VISITS_PER_ROUND;
            let at = now_ms();
            let (author, checkpoint) = (phone.user_id.clone(), format!("檢查點 {visits}"));
            phone.device.edit(id, at, |log| {
                log.visits.push(visit(&author, &checkpoint, at, "正常"));
                if ended {
                    log.ended_at = Some(at);
                }
            });
        }

        let started = Instant::now();
        let synced =
            tokio::time::timeout(ACK_TIMEOUT, sync_until_stored(&mut phone, &run, open)).await;
        match synced {
            Ok(Ok(())) => {
                let _ = run.samples.send(Sample::Sync {
                    at_ms: run.elapsed_ms(),
                    ms: started.elapsed().as_millis() as u64,
                });
                if ended {
                    // Acknowledged: the phone drops the finished round.
                    round = None;
                    visits = 0;
                    ended = false;
                }
            }
            Ok(Err(error)) => {
                run.error(&phone.user_id, format_args!("sync: {error:#}"));
                socket = None;
                phone.device.session.disconnected();
            }
            Err(_) => {
                run.error(&phone.user_id, "sync: not acknowledged within 30 s");
                socket = None;
                phone.device.session.disconnected();
            }
        }
        trim(&mut phone, &run, round);

        // Idle, reading whatever the server sends meanwhile.
        let wake = tokio::time::sleep(between(&mut rng, 1.0, 3.0));
        tokio::pin!(wake);
        while let Some(open) = socket.as_mut() {
            tokio::select! {
                _ = &mut wake => break,
                message = next_message(open) => {
                    let applied = match message {
                        Ok(Some(message)) => apply(&mut phone, &run, message),
                        Ok(None) => Err(anyhow::anyhow!("server closed the socket")),
                        Err(error) => Err(error),
                    };
                    if let Err(error) = applied {
                        run.error(&phone.user_id, format_args!("while idle: {error:#}"));
                        socket = None;
                        phone.device.session.disconnected();
                    }
                }
            }
        }
        trim(&mut phone, &run, round);

        if Instant::now() >= reconnect_at && !run.over() {
            reconnect_at = Instant::now() + between(&mut rng, 60.0, 240.0);
            if let Some(open) = socket.take() {
                close_counted(open, &run, &phone.user_id).await;
                phone.device.session.disconnected();
                run.reconnects.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
    if let Some(open) = socket.take() {
        close_counted(open, &run, &phone.user_id).await;
    }
}

/// The clerk reading the office list every 2–4 s until the run is over.
async fn clerk(url: String, token: String, run: Arc<Run>) {
    let mut rng = StdRng::from_os_rng();
    let client = reqwest::Client::new();
    while !run.over() {
        let started = Instant::now();
        let answer = client
            .get(format!("{url}/api/records?limit=50"))
            .bearer_auth(&token)
            .timeout(ACK_TIMEOUT)
            .send()
            .await;
        match answer {
            Ok(response) if response.status().is_success() => match response.bytes().await {
                Ok(_) => {
                    let _ = run.samples.send(Sample::Office {
                        at_ms: run.elapsed_ms(),
                        ms: started.elapsed().as_millis() as u64,
                    });
                }
                Err(error) => run.error("clerk", format_args!("office list body: {error}")),
            },
            Ok(response) => run.error("clerk", format_args!("office list: {}", response.status())),
            Err(error) => run.error("clerk", format_args!("office list: {error}")),
        }
        tokio::time::sleep(between(&mut rng, 2.0, 4.0)).await;
    }
}

/// The sorted values of `samples` (at ms, value) whose time is in `[from, to)`.
fn window(samples: &[(u64, u64)], from: Duration, to: Duration) -> Vec<u64> {
    let (from, to) = (from.as_millis() as u64, to.as_millis() as u64);
    let mut values: Vec<u64> = samples
        .iter()
        .filter(|(at, _)| (from..to).contains(at))
        .map(|(_, value)| *value)
        .collect();
    values.sort_unstable();
    values
}

/// The median of the (up to) three RSS samples taken at or before `at`, in KiB.
fn rss_at(rss: &[(u64, u64)], at: Duration) -> u64 {
    let at = at.as_millis() as u64;
    let upto = rss.partition_point(|(t, _)| *t <= at);
    let mut last: Vec<u64> = rss[upto.saturating_sub(3)..upto]
        .iter()
        .map(|(_, kib)| *kib)
        .collect();
    last.sort_unstable();
    last.get(last.len() / 2).copied().unwrap_or(0)
}

#[tokio::main]
async fn main() -> Result<()> {
    let Args { minutes, clients } = args();
    let duration = MINUTE * minutes as u32;
    let warm_up = if minutes >= 5 {
        MINUTE
    } else {
        (duration / 5).max(Duration::from_secs(30))
    };
    let data = tempfile::tempdir()?;
    let (phones, clerk_token) = prepare(data.path(), clients)?;
    let mut server = Server::start(data.path(), &["--metrics-token", METRICS_TOKEN])?;
    let scraper = reqwest::Client::new();
    let mut histogram = commit_histogram(&scraper, &server.url, METRICS_TOKEN).await?;
    let pid = server.pid();
    eprintln!(
        "soaking: {clients} phones and a clerk, {minutes} min, warm-up {} s, server pid {pid}",
        warm_up.as_secs()
    );
    let cpu_before = cpu_us(pid)?;

    let (samples, mut received) = tokio::sync::mpsc::unbounded_channel();
    let run = Arc::new(Run {
        started: Instant::now(),
        duration,
        errors: AtomicUsize::new(0),
        reconnects: AtomicUsize::new(0),
        resyncs: AtomicUsize::new(0),
        unanswered_closes: AtomicUsize::new(0),
        stop: AtomicBool::new(false),
        samples,
    });
    // The phones come up over the first two seconds.
    let mut tasks: Vec<_> = phones
        .into_iter()
        .enumerate()
        .map(|(i, p)| {
            let delay = Duration::from_millis(i as u64 * 2_000 / clients as u64);
            tokio::spawn(phone(p, server.addr, run.clone(), delay))
        })
        .collect();
    tasks.push(tokio::spawn(clerk(
        server.url.clone(),
        clerk_token,
        run.clone(),
    )));

    let (mut syncs, mut office, mut rss) = (Vec::new(), Vec::new(), Vec::new());
    let mut ticks = tokio::time::interval(SAMPLE_EVERY);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut minute = 1;
    let mut threads = 0;
    loop {
        ticks.tick().await;
        let at = run.started.elapsed();
        if let Some(status) = server.child.try_wait()? {
            run.error("server", format_args!("exited: {status}"));
            run.stop.store(true, Ordering::Relaxed);
            break;
        }
        let (kib, now_threads) = rss_kib_and_threads(pid)?;
        rss.push((at.as_millis() as u64, kib));
        threads = now_threads;
        while let Ok(sample) = received.try_recv() {
            match sample {
                Sample::Sync { at_ms, ms } => syncs.push((at_ms, ms)),
                Sample::Office { at_ms, ms } => office.push((at_ms, ms)),
            }
        }
        if at >= MINUTE * minute {
            let (anon, file) = rss_parts(pid)?;
            let (from, to) = (MINUTE * (minute - 1), MINUTE * minute);
            let latencies = window(&syncs, from, to);
            let office_latencies = window(&office, from, to);
            let now = commit_histogram(&scraper, &server.url, METRICS_TOKEN).await?;
            let commits = commits_over(&histogram, &now, 0.0);
            let slow = commits_over(&histogram, &now, 0.1);
            let slower = commits_over(&histogram, &now, 0.25);
            histogram = now;
            eprintln!(
                "minute {minute}: {} syncs, p50 {} ms, p99 {} ms, max {} ms; {commits} commits, {slow} over 100 ms, {slower} over 250 ms; server RSS {:.1} MB (anon {:.1}, file and shared {:.1}), {threads} threads; database {:.1} MB, WAL {:.1} MB; office list p99 {} ms over {}; {} errors, {} reconnects so far; machine load {:.2}",
                latencies.len(),
                percentile(&latencies, 50),
                percentile(&latencies, 99),
                latencies.last().copied().unwrap_or(0),
                kib as f64 / 1024.0,
                anon as f64 / 1024.0,
                file as f64 / 1024.0,
                file_mb(&data.path().join("gatehouse.db")),
                file_mb(&data.path().join("gatehouse.db-wal")),
                percentile(&office_latencies, 99),
                office_latencies.len(),
                run.errors.load(Ordering::Relaxed),
                run.reconnects.load(Ordering::Relaxed),
                load_average(),
            );
            minute += 1;
        }
        if at >= duration {
            break;
        }
    }
    // The end is measured before the phones go: RSS with all of them connected.
    let end = run.started.elapsed();
    let cpu_s = (cpu_us(pid)?.saturating_sub(cpu_before)) as f64 / 1e6;
    run.stop.store(true, Ordering::Relaxed);
    for task in tasks {
        if tokio::time::timeout(ACK_TIMEOUT * 2, task).await.is_err() {
            run.error("soak", "a phone did not stop within 60 s");
        }
    }
    while let Ok(sample) = received.try_recv() {
        if let Sample::Sync { at_ms, ms } = sample {
            syncs.push((at_ms, ms));
        }
    }

    let rss_warm = rss_at(&rss, warm_up);
    let rss_end = rss_at(&rss, end);
    let growth = if rss_warm == 0 {
        0.0
    } else {
        (rss_end as f64 - rss_warm as f64) / rss_warm as f64 * 100.0
    };
    let first = window(&syncs, warm_up, (warm_up + MINUTE).min(end));
    let last = window(&syncs, end.saturating_sub(MINUTE).max(warm_up), end);
    let all = window(&syncs, Duration::ZERO, end + MINUTE);
    let errors = run.errors.load(Ordering::Relaxed);
    eprintln!(
        "{} syncs in all (p50 {} ms, p99 {} ms, max {} ms), {} reconnects, {} resyncs asked by the server, {} of the phones' closes not answered by the server's close; server RSS {:.1} MB after warm-up, {:.1} MB at the end, {threads} threads; {cpu_s:.1} server CPU s; database {:.1} MB, WAL {:.1} MB",
        all.len(),
        percentile(&all, 50),
        percentile(&all, 99),
        all.last().copied().unwrap_or(0),
        run.reconnects.load(Ordering::Relaxed),
        run.resyncs.load(Ordering::Relaxed),
        run.unanswered_closes.load(Ordering::Relaxed),
        rss_warm as f64 / 1024.0,
        rss_end as f64 / 1024.0,
        file_mb(&data.path().join("gatehouse.db")),
        file_mb(&data.path().join("gatehouse.db-wal")),
    );
    println!(
        "soak clients={clients} minutes={minutes} errors={errors} rss_growth_pct={growth:.1} p99_ms_first={} p99_ms_last={}",
        percentile(&first, 99),
        percentile(&last, 99),
    );
    if errors > 0 {
        bail!("the soak had {errors} errors");
    }
    if growth >= 20.0 {
        bail!("the server's RSS grew by {growth:.1} % after warm-up (20 % allowed)");
    }
    Ok(())
}
