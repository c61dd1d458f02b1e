//! The admin command (`gatehouse-server admin`): estates, users and devices managed from
//! the server's shell, and what a running server makes of it.

use std::io::Write;
use std::process::{Command, Stdio};

use gatehouse_shared::protocol::ErrorCode;
use gatehouse_shared::user::UserListing;
use reqwest::Method;

use crate::device::{assert_told, Device};
use crate::helpers::{authed, spawn_app, spawn_app_with, TestApp, ADMIN, CLERK};

fn admin_command(app: &TestApp, args: &[&str], stdin: &str) -> (bool, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_gatehouse-server"))
        .arg("--data-dir")
        .arg(&app.data_dir)
        .arg("admin")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("writes");
    let output = child.wait_with_output().expect("finishes");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned()
            + &String::from_utf8_lossy(&output.stderr),
    )
}

#[tokio::test]
async fn the_admin_command_manages_estates_users_and_devices() {
    let app = spawn_app().await;
    let (ok, out) = admin_command(&app, &["add-estate", "harbour", "Harbour View"], "");
    assert!(ok, "{out}");
    let (ok, out) = admin_command(
        &app,
        &["add-user", "night2", "夜班", "guard", "harbour,demo-estate"],
        "night-shift-2026\n",
    );
    assert!(ok, "{out}");
    let night = app.session(("night2", "night-shift-2026")).await;
    assert_eq!(night.user.estate_id, "harbour");
    assert_eq!(night.user.estates.len(), 2);

    let (ok, out) = admin_command(
        &app,
        &["add-user", "x", "X", "pilot", "harbour"],
        "pw-long-enough\n",
    );
    assert!(!ok && out.contains("role"), "{out}");
    let (ok, out) = admin_command(
        &app,
        &["add-user", "y", "Y", "guard", "nowhere"],
        "pw-long-enough\n",
    );
    assert!(!ok && out.contains("nowhere"), "{out}");

    let (ok, out) = admin_command(&app, &["list-devices"], "");
    assert!(ok && out.contains(&night.device_id), "{out}");
    let (ok, out) = admin_command(&app, &["revoke-device", &night.device_id], "");
    assert!(ok, "{out}");
    let me = authed(Method::GET, app.url("/api/me"), &night.token)
        .send()
        .await
        .expect("sent");
    assert_eq!(me.status(), 403);

    let (ok, out) = admin_command(&app, &["set-password", "night2"], "changed-password-1\n");
    assert!(ok, "{out}");
    assert_eq!(
        app.sign_in(("night2", "night-shift-2026")).await.status(),
        401
    );
    let (ok, out) = admin_command(&app, &["list-users"], "");
    assert!(
        ok && out.contains("night2") && out.contains("harbour,demo-estate"),
        "{out}"
    );

    // The admin routes see the new user too.
    let admin = app.session(ADMIN).await;
    let users: Vec<UserListing> = authed(Method::GET, app.url("/api/admin/users"), &admin.token)
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("json");
    assert!(users.iter().any(|u| u.user.username == "night2"));
}

#[tokio::test]
async fn a_listening_connection_ends_when_the_admin_command_revokes_its_device() {
    let app = spawn_app_with(|config| config.session_recheck_secs = 1).await;
    let clerk = app.session(CLERK).await;
    let mut socket = Device::connect_ok(app.addr, &clerk.token)
        .await
        .expect("connects");
    // Another process revokes the device: no hub event reaches this server.
    let (ok, out) = admin_command(&app, &["revoke-device", &clerk.device_id], "");
    assert!(ok, "{out}");
    assert_told(&mut socket, ErrorCode::DeviceRevoked, 10).await;
}
