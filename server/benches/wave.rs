//! Wave benchmark: a whole estate's phones reconnect at once. `WAVE_DEVICES` phones (1,000 by
//! default), each a different guard with 20 patrol logs written offline, connect to one
//! server within one second and sync them, staying connected as phones do; meanwhile a clerk
//! reads the office list every 200 ms and another listens for pushes, each on a thread and
//! runtime of its own, as on a computer of its own (among the phones' tasks, the time the
//! list's answer waited in their queue was counted as the server's).
//!
//! Measured: time from connect to `welcome` and to the last `stored` of the phone's records
//! (p50, p99), errors, the server's peak memory and threads, its CPU seconds (and the load
//! generator's, which shares the cores), the office list's latency during the wave, the
//! records a clerk listening on the sync socket never heard of (neither pushed nor reloaded
//! when told to `resync`: `pushes_missed`); and, before the wave on the fresh server, the
//! memory one idle connection costs (the same phones connecting and saying hello, nothing to
//! sync).
//!
//! Baseline in the same run: the same wave against the server as it was (sockets read with
//! the WebSocket layer's default 128 KiB buffer, each frame in a transaction of its own
//! behind the one store lock: `--socket-read-buffer 131072 --group-commit false`); then with
//! only the read buffer sized (`buffers`); then as the server runs by default (`grouped`).
//!
//! The phones are prepared in the database before the server starts (users, enrolled
//! devices and sessions written straight to the store, as `gatehouse-server admin` does), so
//! that 1,000 Argon2 sign-ins are not part of what is measured. Run with `cargo xtask bench`.

#[path = "../tests/it/device.rs"]
mod device;
mod support;

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use device::{next_message, Device};
use gatehouse_server::auth::token_hash;
use gatehouse_server::store::Store;
use gatehouse_shared::protocol::ServerMessage;
use gatehouse_shared::{DocumentId, RecordSummary, Role, UserInfo};
use support::{cpu_us, percentile, rss_kib_and_threads, thread_cpu_us, Server};

const ESTATE: &str = "wave-estate";
const RECORDS_EACH: usize = 20;
const SPREAD_MS: u64 = 1_000;
const T0: i64 = 1_780_000_000_000;
const DEFAULT_READ_BUFFER: &str = "131072";
/// The name of the store's writer thread (`sync::group_commit`).
const WRITER_THREAD: &str = "gatehouse-writer";

fn devices() -> usize {
    std::env::var("WAVE_DEVICES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1_000)
}

/// A phone ready to reconnect: its records and its session token.
struct Phone {
    device: Device,
    token: String,
}

/// Writes the estate, `n` guards with an enrolled device and a session each, and a clerk,
/// into a new database at `dir`; returns the phones (each with its records written offline)
/// and the clerk's token.
fn prepare(dir: &Path, n: usize) -> Result<(Vec<Phone>, String)> {
    let store = Store::open(&dir.join("gatehouse.db"))?;
    store.upsert_estate(ESTATE, "波浪苑")?;
    let now = gatehouse_server::now_ms();
    let expires = now + 7 * 86_400_000;
    let add = |id: String, role: Role, device: &Device| -> Result<String> {
        let user = UserInfo {
            id: id.clone(),
            username: id.clone(),
            display_name: id.clone(),
            role,
            estate_id: ESTATE.into(),
            estate_name: String::new(),
            estates: Vec::new(),
        };
        // No password anyone could type: these users never sign in.
        store.upsert_user(&user, "!", now)?;
        store.enrol_device(&id, &device.enrolment(&id), now)?;
        let token = format!("{id}-{}", uuid::Uuid::new_v4());
        store.create_session(&token_hash(&token), &id, &device.device_id, now, expires)?;
        Ok(token)
    };
    let clerk = add("wave-clerk".into(), Role::Office, &Device::new())?;
    let mut phones = Vec::with_capacity(n);
    for i in 0..n {
        let mut device = Device::new();
        let id = format!("wave-guard-{i}");
        let token = add(id.clone(), Role::Guard, &device)?;
        for r in 0..RECORDS_EACH as i64 {
            device.start_round(ESTATE, &id, &format!("夜巡 {r}"), T0 + r * 60_000);
        }
        phones.push(Phone { device, token });
    }
    Ok((phones, clerk))
}

type Timing = (u64, u64, usize);

/// One phone's wave: connect after `delay`, sync, read until every record is acknowledged.
/// Returns (connect → welcome ms, connect → last stored ms, errors) and the open socket.
async fn reconnect(
    mut phone: Phone,
    addr: std::net::SocketAddr,
    delay: Duration,
) -> Result<(Timing, device::Socket)> {
    tokio::time::sleep(delay).await;
    let started = Instant::now();
    let (mut socket, _) = Device::connect_with_follows(addr, &phone.token).await?;
    let welcome = started.elapsed();
    phone.device.sync(&mut socket).await?;
    let ids: Vec<_> = phone.device.docs.keys().copied().collect();
    let deadline = Instant::now() + Duration::from_secs(120);
    while !ids.iter().all(|id| phone.device.is_stored(*id)) {
        let left = deadline.saturating_duration_since(Instant::now());
        let Ok(message) = tokio::time::timeout(left, next_message(&mut socket)).await else {
            bail!("records not acknowledged within 120 s");
        };
        let Some(message) = message? else {
            bail!("server closed the socket")
        };
        phone.device.handle(message)?;
    }
    let stored = started.elapsed();
    let timing = (
        welcome.as_millis() as u64,
        stored.as_millis() as u64,
        phone.device.errors.len(),
    );
    Ok((timing, socket))
}

/// A phone in the wave: reports its timing, then stays connected (as phones do) until the
/// wave is over.
async fn stay_connected(
    phone: Phone,
    addr: std::net::SocketAddr,
    delay: Duration,
    report: tokio::sync::mpsc::UnboundedSender<Result<Timing>>,
    mut over: tokio::sync::watch::Receiver<bool>,
) {
    match reconnect(phone, addr, delay).await {
        Ok((timing, socket)) => {
            let _ = report.send(Ok(timing));
            let _ = over.wait_for(|over| *over).await;
            drop(socket);
        }
        Err(error) => {
            let _ = report.send(Err(error));
        }
    }
}

/// The clerk's office list, every 200 ms until `stop`: each request's latency in ms.
async fn poll_office_list(url: String, token: String, stop: Arc<AtomicBool>) -> Vec<u64> {
    let client = reqwest::Client::new();
    let mut latencies = Vec::new();
    while !stop.load(Ordering::Relaxed) {
        let started = Instant::now();
        let ok = client
            .get(format!("{url}/api/records?limit=200"))
            .bearer_auth(&token)
            .send()
            .await
            .is_ok_and(|r| r.status().is_success());
        if ok {
            latencies.push(started.elapsed().as_millis() as u64);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    latencies
}

/// The office screen of a clerk during the wave: its socket receives the `records` pushes.
/// Told to `resync`, the app reloads the list's first page at once and reads the others
/// from the server when they are paged to; here, so as not to add load the app does not,
/// the whole list is read once, when the wave is over. Until `over`: the records it learned
/// of (pushed, or on the list read after a resync), how many it was pushed, and how many
/// times it was told to resync.
async fn listen_office(
    mut socket: device::Socket,
    url: String,
    token: String,
    mut over: tokio::sync::watch::Receiver<bool>,
) -> Result<(std::collections::HashSet<DocumentId>, usize, usize)> {
    let mut seen = std::collections::HashSet::new();
    let mut resyncs = 0;
    loop {
        tokio::select! {
            _ = over.changed() => {
                let pushed = seen.len();
                if resyncs > 0 {
                    seen.extend(whole_list(&url, &token).await?);
                }
                return Ok((seen, pushed, resyncs));
            }
            message = next_message(&mut socket) => match message? {
                Some(ServerMessage::Records { records }) => {
                    seen.extend(records.iter().map(|r| r.doc));
                }
                Some(ServerMessage::Resync) => resyncs += 1,
                Some(_) => {}
                None => bail!("the office socket closed"),
            },
        }
    }
}

/// Every record of the list, a page of 1,000 at a time.
async fn whole_list(url: &str, token: &str) -> Result<Vec<DocumentId>> {
    let client = reqwest::Client::new();
    let mut docs = Vec::new();
    let mut after = String::new();
    loop {
        let page: Vec<RecordSummary> = client
            .get(format!("{url}/api/records?limit=1000{after}"))
            .bearer_auth(token)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        docs.extend(page.iter().map(|r| r.doc));
        match page.last() {
            Some(last) if page.len() == 1000 => {
                after = format!(
                    "&after_started_at={}&after_doc={}",
                    last.started_at, last.doc
                );
            }
            _ => return Ok(docs),
        }
    }
}

/// Runs `work` on a thread of its own, with a runtime of its own: a clerk's computer, not
/// one more task among the thousand phones' (the time it waited in their queue would be
/// counted as the server's).
fn on_a_computer_of_its_own<F, T>(
    work: impl FnOnce() -> F + Send + 'static,
) -> tokio::sync::oneshot::Receiver<T>
where
    F: std::future::Future<Output = T>,
    T: Send + 'static,
{
    let (done, result) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        match tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            Ok(runtime) => {
                let _ = done.send(runtime.block_on(work()));
            }
            Err(error) => eprintln!("no runtime for a clerk's computer: {error}"),
        }
    });
    result
}

/// Samples the server's memory and threads every 20 ms until `stop`: the peaks.
fn sample_peaks(pid: u32, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<(u64, u64)> {
    std::thread::spawn(move || {
        let (mut rss, mut threads) = (0, 0);
        while !stop.load(Ordering::Relaxed) {
            if let Ok((r, t)) = rss_kib_and_threads(pid) {
                rss = rss.max(r);
                threads = threads.max(t);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        (rss, threads)
    })
}

#[derive(Debug)]
struct Wave {
    welcome_p99: u64,
    stored_p50: u64,
    stored_p99: u64,
    errors: usize,
    failed: usize,
    rss_peak_kib: u64,
    threads_peak: u64,
    cpu_s: f64,
    /// Of which the store's writer thread (the part no second core can share).
    writer_cpu_s: f64,
    /// The load generator's (this process's) CPU seconds meanwhile, on the same cores.
    generator_cpu_s: f64,
    office_p99: u64,
    office_requests: usize,
    /// Records the listening clerk never heard of (neither pushed nor reloaded on resync).
    pushes_missed: usize,
    /// Records pushed to it (the rest it learned of by reading the list after a resync).
    pushed: usize,
    resyncs: usize,
    rss_after_kib: u64,
    idle_kib_per_connection: u64,
}

async fn measure(template: &Path, phones: Vec<Phone>, clerk: &str, args: &[&str]) -> Result<Wave> {
    let data = tempfile::tempdir()?;
    std::fs::copy(
        template.join("gatehouse.db"),
        data.path().join("gatehouse.db"),
    )?;
    let server = Server::start(data.path(), args)?;
    let pid = server.pid();
    let tokens: Vec<String> = phones.iter().map(|p| p.token.clone()).collect();
    let n = phones.len();
    tokio::time::sleep(Duration::from_millis(500)).await;

    // Idle connections first, on the fresh server: every phone connects and says hello,
    // with nothing to sync (afterwards, freed memory would be reused and hide the cost).
    let (rss_fresh_kib, _) = rss_kib_and_threads(pid)?;
    let mut sockets = Vec::with_capacity(n);
    for token in &tokens {
        sockets.push(Device::connect_with_follows(server.addr, token).await?.0);
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let (rss_idle_kib, _) = rss_kib_and_threads(pid)?;
    drop(sockets);
    tokio::time::sleep(Duration::from_secs(1)).await;

    let cpu_before = cpu_us(pid)?;
    let generator_cpu_before = cpu_us(std::process::id())?;
    let writer_cpu_before = thread_cpu_us(pid, WRITER_THREAD)?;

    let stop = Arc::new(AtomicBool::new(false));
    let peaks = sample_peaks(pid, stop.clone());
    let (listen_over, listen_over_rx) = tokio::sync::watch::channel(false);
    let (addr, url, token) = (server.addr, server.url.clone(), clerk.to_owned());
    let listening = on_a_computer_of_its_own(move || async move {
        let socket = Device::connect_ok(addr, &token).await?;
        listen_office(socket, url, token, listen_over_rx).await
    });
    let (url, token, stopped) = (server.url.clone(), clerk.to_owned(), stop.clone());
    let office = on_a_computer_of_its_own(move || poll_office_list(url, token, stopped));
    let (report, mut reports) = tokio::sync::mpsc::unbounded_channel();
    let (over, over_rx) = tokio::sync::watch::channel(false);
    let tasks: Vec<_> = phones
        .into_iter()
        .enumerate()
        .map(|(i, phone)| {
            let delay = Duration::from_micros(i as u64 * SPREAD_MS * 1_000 / n as u64);
            tokio::spawn(stay_connected(
                phone,
                server.addr,
                delay,
                report.clone(),
                over_rx.clone(),
            ))
        })
        .collect();
    // Every phone reports once: its records acknowledged, or how it failed.
    let mut results = Vec::with_capacity(n);
    while results.len() < n {
        results.push(reports.recv().await.context("a phone vanished")?);
    }
    let cpu_s = (cpu_us(pid)? - cpu_before) as f64 / 1e6;
    let writer_cpu_s = (thread_cpu_us(pid, WRITER_THREAD)? - writer_cpu_before) as f64 / 1e6;
    let generator_cpu_s = (cpu_us(std::process::id())? - generator_cpu_before) as f64 / 1e6;
    stop.store(true, Ordering::Relaxed);
    // The last pushes leave after the last acknowledgement.
    tokio::time::sleep(Duration::from_secs(2)).await;
    listen_over.send(true)?;
    let (heard, pushed, resyncs) = listening.await.context("the listening clerk's thread")??;
    let pushes_missed = (n * RECORDS_EACH).saturating_sub(heard.len());
    let (rss_peak_kib, threads_peak) = peaks.join().map_err(|_| anyhow::anyhow!("sampler"))?;
    let office_latencies = office.await.context("the office list's thread")?;
    over.send(true)?;
    for task in tasks {
        task.await?;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let (rss_after_kib, _) = rss_kib_and_threads(pid)?;

    let mut welcome = Vec::new();
    let mut stored = Vec::new();
    let (mut errors, mut failed) = (0, 0);
    for result in results {
        match result {
            Ok((w, s, e)) => {
                welcome.push(w);
                stored.push(s);
                errors += e;
            }
            Err(error) => {
                failed += 1;
                if failed == 1 {
                    eprintln!("a phone failed: {error:#}");
                }
            }
        }
    }
    welcome.sort_unstable();
    stored.sort_unstable();
    let mut office_sorted = office_latencies.clone();
    office_sorted.sort_unstable();
    Ok(Wave {
        welcome_p99: percentile(&welcome, 99),
        stored_p50: percentile(&stored, 50),
        stored_p99: percentile(&stored, 99),
        errors,
        failed,
        rss_peak_kib,
        threads_peak,
        cpu_s,
        writer_cpu_s,
        generator_cpu_s,
        office_p99: percentile(&office_sorted, 99),
        office_requests: office_sorted.len(),
        pushes_missed,
        pushed,
        resyncs,
        rss_after_kib,
        idle_kib_per_connection: rss_idle_kib.saturating_sub(rss_fresh_kib) / n as u64,
    })
}

fn report(name: &str, n: usize, w: &Wave) {
    println!(
        "{name:>9}: {n} phones × {RECORDS_EACH} records: connect→welcome p99 {} ms, connect→last stored p50 {} ms p99 {} ms, {} errors, {} phones failed; server RSS peak {} MB, {} MB after, {} threads at most, {:.1} CPU s ({:.1} in the store's writer; the load generator {:.1}); office list p99 {} ms over {} requests; the listening clerk was pushed {} records, told to resync {} times, and missed {}; an idle connection {} KiB",
        w.welcome_p99,
        w.stored_p50,
        w.stored_p99,
        w.errors,
        w.failed,
        w.rss_peak_kib / 1024,
        w.rss_after_kib / 1024,
        w.threads_peak,
        w.cpu_s,
        w.writer_cpu_s,
        w.generator_cpu_s,
        w.office_p99,
        w.office_requests,
        w.pushed,
        w.resyncs,
        w.pushes_missed,
        w.idle_kib_per_connection,
    );
}

#[tokio::main]
async fn main() -> Result<()> {
    let n = devices();
    let template = tempfile::tempdir()?;
    let prepared = Instant::now();
    let (phones, clerk) = prepare(template.path(), n)?;
    eprintln!(
        "prepared {n} phones in {} ms",
        prepared.elapsed().as_millis()
    );
    // The same phones for every run: their documents, identities and tokens.
    let copy = |phones: &[Phone]| -> Vec<Phone> {
        phones
            .iter()
            .map(|p| Phone {
                device: Device {
                    device_id: p.device.device_id.clone(),
                    seed: p.device.seed,
                    actor: p.device.actor.clone(),
                    docs: p
                        .device
                        .docs
                        .iter()
                        .map(|(id, doc)| (*id, doc.clone()))
                        .collect(),
                    ..Device::new()
                },
                token: p.token.clone(),
            })
            .collect()
    };
    let runs = std::env::var("WAVE_RUNS").unwrap_or_else(|_| "baseline,buffers,grouped".into());
    let runs: Vec<&str> = runs.split(',').collect();
    let skipped = || Wave {
        welcome_p99: 0,
        stored_p50: 0,
        stored_p99: 0,
        errors: 0,
        failed: 0,
        rss_peak_kib: 0,
        threads_peak: 0,
        cpu_s: 0.0,
        writer_cpu_s: 0.0,
        generator_cpu_s: 0.0,
        office_p99: 0,
        office_requests: 0,
        pushes_missed: 0,
        pushed: 0,
        resyncs: 0,
        rss_after_kib: 0,
        idle_kib_per_connection: 0,
    };
    let baseline = if !runs.contains(&"baseline") {
        skipped()
    } else {
        measure(
            template.path(),
            copy(&phones),
            &clerk,
            &[
                "--socket-read-buffer",
                DEFAULT_READ_BUFFER,
                "--group-commit",
                "false",
            ],
        )
        .await?
    };
    report("baseline", n, &baseline);
    if runs.contains(&"buffers") {
        let buffers = measure(
            template.path(),
            copy(&phones),
            &clerk,
            &["--group-commit", "false"],
        )
        .await?;
        report("buffers", n, &buffers);
    }
    let sized = measure(template.path(), phones, &clerk, &[]).await?;
    report("grouped", n, &sized);
    // In the form issue 11 asks for; the other figures are on the lines above.
    println!(
        "wave-bench devices={n} records={} p50_ms={} p99_ms={} rss_mb={} idle_kib_per_connection={} errors={} office_p99_ms={} pushes_missed={} baseline_p99_ms={}",
        n * RECORDS_EACH,
        sized.stored_p50,
        sized.stored_p99,
        sized.rss_peak_kib / 1024,
        sized.idle_kib_per_connection,
        sized.errors + sized.failed,
        sized.office_p99,
        sized.pushes_missed,
        baseline.stored_p99,
    );
    if sized.failed + sized.errors > 0 {
        bail!("the wave had errors");
    }
    if sized.pushes_missed > 0 {
        bail!(
            "the listening clerk never heard of {} records",
            sized.pushes_missed
        );
    }
    Ok(())
}
