//! Backups: taken while the server runs, restored while it is stopped (and refused while it
//! runs), and served after; what the restore replaced is kept.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use gatehouse_server::store::{restore, Store};
use gatehouse_shared::RecordSummary;

use crate::device::{visit, Device};
use crate::helpers::{authed, spawn_app, CLERK, GUARD, T0};

async fn listed(app: &crate::helpers::TestApp, token: &str) -> Vec<RecordSummary> {
    authed(reqwest::Method::GET, app.url("/api/records"), token)
        .send()
        .await
        .expect("lists")
        .json()
        .await
        .expect("json")
}

#[tokio::test]
async fn a_backup_taken_while_serving_is_restored_and_served_and_the_replaced_database_kept() {
    let mut app = spawn_app().await;
    let mut phone = Device::new();
    let guard = app.session_on(&phone, GUARD).await;
    let before = phone.start_round(&guard.user.estate_id, &guard.user.id, "backed up", T0);
    let mut socket = Device::connect_ok(app.addr, &guard.token)
        .await
        .expect("connects");
    phone.sync(&mut socket).await.expect("syncs");

    // Taken while the server runs, its connections open.
    let file = app.data_dir.join("backup.db");
    let database = app.data_dir.join("gatehouse.db");
    Store::open(&database)
        .expect("opens")
        .backup_to(&file)
        .expect("backs up");
    let again = Store::open(&database).expect("opens").backup_to(&file);
    assert!(again.is_err(), "a backup never overwrites a file");

    // Written after the backup: not in it.
    let after = phone.start_round(&guard.user.estate_id, &guard.user.id, "after", T0 + 1);
    phone.sync(&mut socket).await.expect("syncs");
    assert!(phone.is_stored(after));
    drop(socket);
    app.stop().await;

    // Not a database: refused, and the database is left as it was.
    let garbage = app.data_dir.join("garbage.db");
    std::fs::write(&garbage, b"not a database at all").expect("writes");
    assert!(restore(&garbage, &database, T0).is_err());

    let kept = restore(&file, &database, T0).expect("restores");
    app.start_again().await;
    let clerk = app.session(CLERK).await;
    let docs: Vec<_> = listed(&app, &clerk.token)
        .await
        .into_iter()
        .map(|r| r.doc)
        .collect();
    assert!(docs.contains(&before), "the backed-up record is served");
    assert!(
        !docs.contains(&after),
        "the later one was not in the backup"
    );
    // What the restore replaced is kept, the later record in it.
    let replaced = Store::open_reader(&kept).expect("the replaced database is kept");
    assert!(replaced.load_document(&after).expect("reads").is_some());
}

#[test]
fn a_restore_is_refused_while_a_server_runs_on_the_database() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = || {
        let mut command = Command::new(env!("CARGO_BIN_EXE_gatehouse-server"));
        command
            .args(["--listen", "127.0.0.1:0", "--data-dir"])
            .arg(dir.path());
        command
    };
    let mut running = server().stdout(Stdio::piped()).spawn().expect("starts");
    let mut lines = BufReader::new(running.stdout.take().expect("stdout")).lines();
    assert!(
        lines.any(|line| line.is_ok_and(|l| l.contains("is listening on"))),
        "the server did not start"
    );
    let backup = dir.path().join("backup.db");
    let backed_up = server()
        .args(["admin", "backup"])
        .arg(&backup)
        .output()
        .expect("runs");
    assert!(backed_up.status.success(), "{backed_up:?}");

    let refused = server()
        .args(["admin", "restore"])
        .arg(&backup)
        .output()
        .expect("runs");
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("running"),
        "{refused:?}"
    );
    // Nor does a second server start on it.
    let second = server().output().expect("runs");
    assert!(!second.status.success());

    running.kill().expect("stops");
    running.wait().expect("stopped");
    let restored = server()
        .args(["admin", "restore"])
        .arg(&backup)
        .output()
        .expect("runs");
    assert!(restored.status.success(), "{restored:?}");
}

#[tokio::test]
async fn a_phone_sends_again_what_a_restore_took_back() {
    let mut app = spawn_app().await;
    let mut phone = Device::new();
    let guard = app.session_on(&phone, GUARD).await;
    let id = phone.start_round(&guard.user.estate_id, &guard.user.id, "东门", T0);
    let mut socket = Device::connect_ok(app.addr, &guard.token)
        .await
        .expect("connects");
    phone.sync(&mut socket).await.expect("syncs");
    let file = app.data_dir.join("backup.db");
    let database = app.data_dir.join("gatehouse.db");
    Store::open(&database)
        .expect("opens")
        .backup_to(&file)
        .expect("backs up");

    // Acknowledged after the backup: the restore takes it back from the server.
    let at = T0 + 60_000;
    phone.edit(id, at, |log| {
        log.visits
            .push(visit(&guard.user.id, "地库入口", at, "一切正常"))
    });
    phone.sync(&mut socket).await.expect("syncs");
    assert!(phone.is_stored(id), "acknowledged before the restore");
    drop(socket);
    app.stop().await;
    restore(&file, &database, T0).expect("restores");
    app.start_again().await;

    // The phone reconnects as phones do (its sync state as kept over a disconnection): the
    // server's heads no longer hold what it acknowledged, and the phone sends it again.
    phone.session.disconnected();
    // Forget the old acknowledgements, so that only a new one counts below.
    phone.stored.clear();
    let mut socket = Device::connect_ok(app.addr, &guard.token)
        .await
        .expect("connects");
    phone.sync(&mut socket).await.expect("syncs");
    assert!(phone.errors.is_empty(), "{:?}", phone.errors);
    assert!(
        phone.is_stored(id),
        "the server acknowledges the phone's heads again"
    );
    let mut desk = Device::new();
    let clerk = app.session_on(&desk, CLERK).await;
    desk.follow(id);
    let mut desk_socket = Device::connect_ok(app.addr, &clerk.token)
        .await
        .expect("connects");
    desk.sync(&mut desk_socket).await.expect("syncs");
    assert_eq!(
        desk.read(id).visits.len(),
        1,
        "the visit is on the server again"
    );
}
