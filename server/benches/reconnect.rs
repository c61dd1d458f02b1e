//! Reconnect benchmark: one device with 1,000 patrol logs written offline connects to the
//! server over a loopback WebSocket and syncs them all in pipelined batches. The baseline,
//! in the same run on a fresh server, syncs the same documents one after another, each
//! waiting for its own round trips.
//!
//! A second measurement: a new guard's phone joining an estate whose registry holds 5,000
//! units (written by the office as one import) and 200 open release slips receives them
//! through its follow set (protocol version 2); its baseline, in the same run, is the same
//! phone reconnecting once it holds them.
//!
//! Server CPU time is read from `/proc/<pid>/stat` of the server process (10 ms ticks).
//! Run with `cargo xtask bench`.

#[path = "../tests/it/device.rs"]
mod device;
mod support;

use std::time::Instant;

use anyhow::{bail, Result};
use device::{entry_id, Device, Traffic};
use gatehouse_shared::date::Date;
use gatehouse_shared::record::read_kind;
use gatehouse_shared::record::registry::{
    current_units, Occupancy, Owner, Registry, Tenant, UnitEntry, UnitInfo,
};
use gatehouse_shared::record::release_slip::{
    Applicant, Approval, ApprovalMethod, IdentityCheck, ReleaseSlip, SlipItem,
};
use gatehouse_shared::user::{SignInRequest, SignInResponse};
use gatehouse_shared::{CheckpointVisit, DocumentId, Finding, Severity};
use support::{cpu_us, Server};

const RECORDS: usize = 1000;
const T0: i64 = 1_780_000_000_000;

/// The demo server on a temporary database (kept until the server is dropped).
struct DemoServer {
    server: Server,
    _data: tempfile::TempDir,
}

impl std::ops::Deref for DemoServer {
    type Target = Server;

    fn deref(&self) -> &Server {
        &self.server
    }
}

fn start_server() -> Result<DemoServer> {
    let data = tempfile::tempdir()?;
    Ok(DemoServer {
        server: Server::start(data.path(), &["--demo"])?,
        _data: data,
    })
}

async fn sign_in(url: &str, device: &Device) -> Result<SignInResponse> {
    sign_in_as(url, device, ("guard", "guard-demo-2026")).await
}

async fn sign_in_as(
    url: &str,
    device: &Device,
    (username, password): (&str, &str),
) -> Result<SignInResponse> {
    let response = reqwest::Client::new()
        .post(format!("{url}/api/sign-in"))
        .json(&SignInRequest {
            username: username.into(),
            password: password.into(),
            device: device.enrolment(username),
        })
        .send()
        .await?;
    Ok(response.error_for_status()?.json().await?)
}

/// A device holding `RECORDS` rounds written offline: started, one visit, one finding, ended.
fn offline_device(mut device: Device, session: &SignInResponse) -> (Device, Vec<DocumentId>) {
    let mut ids = Vec::with_capacity(RECORDS);
    for i in 0..RECORDS as i64 {
        let start = T0 + i * 60_000;
        let id = device.start_round(
            &session.user.estate_id,
            &session.user.id,
            &format!("night round {i}"),
            start,
        );
        device.edit(id, start + 1_000, |log| {
            let guard = session.user.id.as_str();
            log.visits.push(
                CheckpointVisit::new(
                    entry_id(),
                    guard,
                    "B2 east door",
                    start + 1_000,
                    "all quiet",
                )
                .expect("valid"),
            );
            log.findings.push(
                Finding::new(
                    entry_id(),
                    guard,
                    "water leak",
                    "B2 pump room",
                    Severity::Medium,
                    true,
                    start + 2_000,
                )
                .expect("valid"),
            );
            log.ended_at = Some(start + 3_000);
        });
        ids.push(id);
    }
    (device, ids)
}

struct Measured {
    round_trips: u32,
    bytes_up: u64,
    bytes_down: u64,
    wall_ms: u128,
    server_cpu_us: u64,
}

async fn measure(batched: bool) -> Result<Measured> {
    let server = start_server()?;
    let device = Device::new();
    let session = sign_in(&server.url, &device).await?;
    let (mut device, ids) = offline_device(device, &session);
    let addr = server.url.trim_start_matches("http://").parse()?;
    let cpu_before = cpu_us(server.pid())?;
    let started = Instant::now();
    let mut socket = Device::connect_ok(addr, &session.token).await?;
    let traffic = if batched {
        device.sync(&mut socket).await?
    } else {
        for id in &ids {
            device.sync_documents(&mut socket, &[*id]).await?;
        }
        device.traffic
    };
    let wall_ms = started.elapsed().as_millis();
    let server_cpu_us = cpu_us(server.pid())? - cpu_before;
    let unacknowledged = ids.iter().filter(|id| !device.is_stored(**id)).count();
    if unacknowledged > 0 {
        bail!("{unacknowledged} records were not acknowledged by the server");
    }
    Ok(Measured {
        round_trips: traffic.round_trips,
        bytes_up: traffic.bytes_up,
        bytes_down: traffic.bytes_down,
        wall_ms,
        server_cpu_us,
    })
}

fn report(name: &str, m: &Measured) {
    println!(
        "{name:>9}: {RECORDS} records, {} round trips, {} bytes up, {} bytes down ({:.0} B/record), {} ms wall, {} us server CPU/record",
        m.round_trips,
        m.bytes_up,
        m.bytes_down,
        (m.bytes_up + m.bytes_down) as f64 / RECORDS as f64,
        m.wall_ms,
        m.server_cpu_us / RECORDS as u64
    );
}

/// Units in the joining benchmark's registry.
const UNITS: u32 = 5000;
/// Open release slips in the joining benchmark.
const SLIPS: u32 = 200;

/// An approved slip for two kinds of items, valid from today for a week.
fn slip(session: &SignInResponse, n: u32) -> Result<ReleaseSlip> {
    let today = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs() as i64
        / 86_400;
    let from = Date::from_days_since_epoch(today).to_string();
    let until = Date::from_days_since_epoch(today + 7).to_string();
    let user = &session.user;
    let mut slip = ReleaseSlip::new(
        &user.estate_id,
        &user.id,
        &user.display_name,
        &format!("{}-{}-{}", 1 + n / 50, 1, 101 + n % 50),
        &format!("租户{n}"),
        Applicant::Tenant,
        &from,
        &until,
        vec![
            SlipItem {
                id: "desk".into(),
                what: "办公桌".into(),
                quantity: 5,
            },
            SlipItem {
                id: "pc".into(),
                what: "电脑".into(),
                quantity: 2,
            },
        ],
        T0,
    )
    .map_err(|problems| anyhow::anyhow!("invalid slip: {problems:?}"))?;
    let slip_hash = slip.content_hash();
    slip.approvals.push(Approval {
        id: entry_id().to_string(),
        author: user.id.clone(),
        corrects: None,
        approved_at: T0 + 1,
        approver_name: format!("业主{n}"),
        phone_number: "13800138000".into(),
        identity_checks: vec![IdentityCheck::IdNumber, IdentityCheck::Employer],
        note: String::new(),
        slip_hash,
        method: ApprovalMethod::Phone,
    });
    Ok(slip)
}

/// The registry of `UNITS` units, a third of them let, as one import by the office.
fn registry(session: &SignInResponse) -> Registry {
    let user = &session.user;
    let mut registry = Registry::start(&user.estate_id, &user.id, &user.display_name, T0);
    for n in 0..UNITS {
        let tenants = if n % 3 == 0 {
            vec![Tenant {
                name: format!("租户{n}"),
                phone: format!("139{n:08}"),
                id_last4: format!("{:04}", n % 10_000),
                lease_start: "2026-01-01".into(),
                lease_end: "2026-12-31".into(),
            }]
        } else {
            Vec::new()
        };
        registry.units.push(UnitEntry {
            id: entry_id().to_string(),
            author: user.id.clone(),
            corrects: None,
            written_at: T0,
            unit: UnitInfo {
                building: format!("{}", 1 + n / 500),
                entrance: format!("{}", 1 + (n / 100) % 5),
                room: format!("{}", 101 + n % 100),
                occupancy: if tenants.is_empty() {
                    Occupancy::OwnerOccupied
                } else {
                    Occupancy::Let
                },
                company: String::new(),
                owners: vec![Owner {
                    name: format!("业主{n}"),
                    phone: format!("138{n:08}"),
                    employer: "市第一医院".into(),
                    id_last4: "1234".into(),
                }],
                tenants,
            },
        });
    }
    registry
}

struct Joined {
    join: Traffic,
    join_ms: u128,
    again: Traffic,
    again_ms: u128,
}

/// The office stores the registry; then a new guard's phone joins, and reconnects.
async fn measure_join() -> Result<Joined> {
    let server = start_server()?;
    let addr = server.url.trim_start_matches("http://").parse()?;
    let mut office = Device::new();
    let clerk = sign_in_as(&server.url, &office, ("clerk", "clerk-demo-2026")).await?;
    let id = office.start(&registry(&clerk), T0);
    let mut slips = Vec::new();
    for n in 0..SLIPS {
        slips.push(office.start(&slip(&clerk, n)?, T0));
    }
    let mut socket = Device::connect_ok(addr, &clerk.token).await?;
    office.sync(&mut socket).await?;
    if !office.is_stored(id) || !slips.iter().all(|s| office.is_stored(*s)) {
        bail!("the registry or a slip was not stored: {:?}", office.errors);
    }
    let mut phone = Device::new();
    let guard = sign_in(&server.url, &phone).await?;
    let started = Instant::now();
    let mut socket = phone.connect_following(addr, &guard.token).await?;
    let join = phone.sync(&mut socket).await?;
    let join_ms = started.elapsed().as_millis();
    let units = read_kind::<Registry>(&phone.docs[&id])
        .map(|r| current_units([&r]).len())
        .ok();
    if units != Some(UNITS as usize) {
        bail!("the phone got {units:?} units, not {UNITS}");
    }
    let got_slips = slips
        .iter()
        .filter(|s| read_kind::<ReleaseSlip>(&phone.docs[s]).is_ok())
        .count();
    if got_slips != SLIPS as usize {
        bail!("the phone got {got_slips} slips, not {SLIPS}");
    }
    drop(socket);
    // As the app does when a connection ends: the next one says what it has again.
    phone.session.disconnected();
    let started = Instant::now();
    let mut socket = phone.connect_following(addr, &guard.token).await?;
    let again = phone.sync(&mut socket).await?;
    let again_ms = started.elapsed().as_millis();
    Ok(Joined {
        join,
        join_ms,
        again,
        again_ms,
    })
}

#[tokio::main]
async fn main() -> Result<()> {
    let batch = measure(true).await?;
    report("batched", &batch);
    let baseline = measure(false).await?;
    report("baseline", &baseline);
    println!(
        "reconnect-bench records={RECORDS} round_trips={} bytes_up={} bytes_down={} wall_ms={} server_cpu_us_per_record={} baseline_round_trips={} baseline_wall_ms={}",
        batch.round_trips,
        batch.bytes_up,
        batch.bytes_down,
        batch.wall_ms,
        batch.server_cpu_us / RECORDS as u64,
        baseline.round_trips,
        baseline.wall_ms
    );
    let joined = measure_join().await?;
    println!(
        "     join: a registry of {UNITS} units and {SLIPS} open slips, {} round trips, {} bytes down, {} ms; reconnecting with it: {} round trips, {} bytes down, {} ms",
        joined.join.round_trips,
        joined.join.bytes_down,
        joined.join_ms,
        joined.again.round_trips,
        joined.again.bytes_down,
        joined.again_ms
    );
    println!(
        "join-bench units={UNITS} slips={SLIPS} round_trips={} bytes_up={} bytes_down={} wall_ms={} baseline_reconnect_round_trips={} baseline_reconnect_bytes_down={} baseline_reconnect_wall_ms={}",
        joined.join.round_trips,
        joined.join.bytes_up,
        joined.join.bytes_down,
        joined.join_ms,
        joined.again.round_trips,
        joined.again.bytes_down,
        joined.again_ms
    );
    Ok(())
}
