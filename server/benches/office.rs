//! Office list benchmark: a page of `GET /api/records` when the estate holds 100,000 records
//! (`OFFICE_RECORDS=N` for another size).
//!
//! The records are patrol logs written straight into the store (each a real document and its
//! summary, as the sync path stores them), in one estate. The release server then serves a
//! clerk, who reads the first page and walks 200 pages of 50 (fewer for a small estate) by the cursor (the last
//! row's `started_at` and `doc`, no OFFSET), then reads the first page again 200 times:
//! p95 of the route's time, measured at the client over loopback.
//!
//! Baseline in the same run: the query the list used before keyset paging, on the same
//! database (read with SQLite directly, so it leaves out the HTTP around it): every row of
//! the user's estates sorted by SQLite for each page (`ORDER BY ... LIMIT ... OFFSET`, a
//! temporary B-tree), the same pages.
//!
//! Prints `office-bench records=N page_p95_ms=P baseline_page_p95_ms=P0`.

mod support;

use std::path::Path;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use automerge::ActorId;
use gatehouse_server::auth::token_hash;
use gatehouse_server::store::Store;
use gatehouse_shared::device::DeviceEnrolment;
use gatehouse_shared::record::{create_document, read_record, AnyRecord};
use gatehouse_shared::{DocumentId, PatrolLog, RecordSummary, Role, UserInfo};
use support::{percentile, Server};

const ESTATE: &str = "office-estate";
const T0: i64 = 1_780_000_000_000;
const PAGE: u32 = 50;
const PAGES: usize = 200;

fn records() -> usize {
    std::env::var("OFFICE_RECORDS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(100_000)
}

/// The estate, a clerk with a session, and `n` patrol logs; returns the clerk's token.
fn prepare(dir: &Path, n: usize) -> Result<String> {
    let mut store = Store::open(&dir.join("gatehouse.db"))?;
    store.upsert_estate(ESTATE, "办公苑")?;
    let now = gatehouse_server::now_ms();
    let clerk = UserInfo {
        id: "office-clerk".into(),
        username: "office-clerk".into(),
        display_name: "李客服".into(),
        role: Role::Office,
        estate_id: ESTATE.into(),
        estate_name: String::new(),
        estates: Vec::new(),
    };
    store.upsert_user(&clerk, "!", now)?;
    let actor = ActorId::random();
    let enrolment = DeviceEnrolment::sign(
        &clerk.username,
        "office-device",
        actor.to_bytes(),
        &rand::random(),
        "bench",
    );
    store.enrol_device(&clerk.id, &enrolment, now)?;
    let token = format!("office-clerk-{}", uuid::Uuid::new_v4());
    store.create_session(
        &token_hash(&token),
        &clerk.id,
        "office-device",
        now,
        now + 86_400_000,
    )?;
    for chunk in 0..n.div_ceil(10_000) {
        let tx = store.begin()?;
        for i in chunk * 10_000..((chunk + 1) * 10_000).min(n) {
            // A round a minute apart, a few guards.
            let started_at = T0 - i as i64 * 60_000;
            let guard = format!("guard-{}", i % 40);
            let log = PatrolLog::start(ESTATE, &guard, "王保安", &format!("夜巡 {i}"), started_at)
                .map_err(|p| anyhow::anyhow!("{p:?}"))?;
            let doc = create_document(actor.clone(), &log, started_at)?;
            let id = DocumentId::from_random(rand::random());
            let record: AnyRecord = read_record(&doc)?;
            let summary = RecordSummary::of(id, &record, started_at, started_at);
            tx.save_changes(&id, ESTATE, &doc, &doc.save(), Some(&summary), started_at)?;
        }
        tx.commit()?;
    }
    Ok(token)
}

/// The route: `PAGES` pages in order by the cursor, then the first page `PAGES` times.
async fn route_times(url: &str, token: &str, pages: usize) -> Result<Vec<u64>> {
    let client = reqwest::Client::new();
    let mut times = Vec::new();
    let mut after: Option<(i64, DocumentId)> = None;
    for walk in 0..pages * 2 {
        let mut request = format!("{url}/api/records?limit={PAGE}");
        if walk < pages {
            if let Some((started_at, doc)) = after {
                request.push_str(&format!("&after_started_at={started_at}&after_doc={doc}"));
            }
        }
        let started = Instant::now();
        let response = client.get(&request).bearer_auth(token).send().await?;
        if !response.status().is_success() {
            bail!("{request}: {}", response.status());
        }
        let page: Vec<RecordSummary> = response.json().await?;
        times.push(started.elapsed().as_micros() as u64);
        if page.len() != PAGE as usize {
            bail!("a page of {} records", page.len());
        }
        if walk < pages {
            let last = page.last().context("a full page")?;
            after = Some((last.started_at, last.doc));
        }
    }
    Ok(times)
}

/// The list's query before keyset paging, the same pages, straight on the database.
fn baseline_times(database: &Path, pages: usize) -> Result<Vec<u64>> {
    let conn = rusqlite::Connection::open(database)?;
    let estates = serde_json::to_string(&[ESTATE])?;
    let mut statement = conn.prepare(
        "SELECT summary FROM records WHERE estate_id IN (SELECT value FROM json_each(?1))
         ORDER BY started_at DESC, doc_id LIMIT ?2 OFFSET ?3",
    )?;
    let mut times = Vec::new();
    for walk in 0..pages * 2 {
        let offset = if walk < pages { walk as u32 * PAGE } else { 0 };
        let started = Instant::now();
        let rows: Vec<String> = statement
            .query_map(rusqlite::params![estates, PAGE, offset], |row| row.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        let page: Vec<RecordSummary> = rows
            .iter()
            .map(|row| serde_json::from_str(row))
            .collect::<serde_json::Result<_>>()?;
        times.push(started.elapsed().as_micros() as u64);
        if page.len() != PAGE as usize {
            bail!("a baseline page of {} records", page.len());
        }
    }
    Ok(times)
}

fn p95_ms(mut micros: Vec<u64>) -> f64 {
    micros.sort_unstable();
    percentile(&micros, 95) as f64 / 1000.0
}

fn main() -> Result<()> {
    let n = records();
    let dir = tempfile::tempdir()?;
    let started = Instant::now();
    let token = prepare(dir.path(), n)?;
    println!(
        "office-bench: {n} records written in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let server = Server::start(dir.path(), &[])?;
    let runtime = tokio::runtime::Runtime::new()?;
    let pages = PAGES.min(n / PAGE as usize - 1);
    let route = runtime.block_on(route_times(&server.url, &token, pages))?;
    drop(server);
    let baseline = baseline_times(&dir.path().join("gatehouse.db"), pages)?;
    println!(
        "office-bench records={n} page_p95_ms={:.2} baseline_page_p95_ms={:.2}",
        p95_ms(route),
        p95_ms(baseline)
    );
    Ok(())
}
