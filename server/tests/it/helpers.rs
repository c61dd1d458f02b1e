//! Starts the real server on port 0 with a fresh database in a temp dir.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use gatehouse_server::{open, run, Config};
use gatehouse_shared::user::{SignInRequest, SignInResponse};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::device::Device;

pub const T0: i64 = 1_780_000_000_000;
pub const GUARD: (&str, &str) = ("guard", "guard-demo-2026");
pub const CLERK: (&str, &str) = ("clerk", "clerk-demo-2026");
pub const TECH: (&str, &str) = ("tech", "tech-demo-2026");
pub const ADMIN: (&str, &str) = ("admin", "admin-demo-2026");
pub const CLEANER: (&str, &str) = ("cleaner", "cleaner-demo-2026");

pub struct TestApp {
    pub addr: SocketAddr,
    pub data_dir: PathBuf,
    _dir: Option<tempfile::TempDir>,
    shutdown: Option<oneshot::Sender<()>>,
    handle: Option<JoinHandle<()>>,
}

async fn start(
    data_dir: PathBuf,
    seed: bool,
    adjust: fn(&mut Config),
) -> (SocketAddr, oneshot::Sender<()>, JoinHandle<()>) {
    let mut config = Config::for_tests(data_dir);
    config.demo = seed;
    adjust(&mut config);
    let state = open(config).expect("server state opens");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("binds port 0");
    let addr = listener.local_addr().expect("has address");
    let (tx, rx) = oneshot::channel::<()>();
    let handle = tokio::spawn(async move {
        run(listener, state, async {
            let _ = rx.await;
        })
        .await
        .expect("server runs");
    });
    (addr, tx, handle)
}

/// A server with the demo estate and users on a new database.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Like `spawn_app`, with the configuration adjusted first.
pub async fn spawn_app_with(adjust: fn(&mut Config)) -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let data_dir = dir.path().to_path_buf();
    let (addr, shutdown, handle) = start(data_dir.clone(), true, adjust).await;
    TestApp {
        addr,
        data_dir,
        _dir: Some(dir),
        shutdown: Some(shutdown),
        handle: Some(handle),
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Stops the server (as a crash would, connections and all) and starts it again on the
    /// same database, without re-seeding.
    pub async fn restart(&mut self) {
        self.stop().await;
        self.start_again().await;
    }

    /// Stops the server, connections and all.
    pub async fn stop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(handle) = self.handle.take() {
            if tokio::time::timeout(Duration::from_secs(5), handle)
                .await
                .is_err()
            {
                panic!("server did not stop");
            }
        }
    }

    /// Starts the stopped server again on the same database, without re-seeding.
    pub async fn start_again(&mut self) {
        let (addr, shutdown, handle) = start(self.data_dir.clone(), false, |_| {}).await;
        self.addr = addr;
        self.shutdown = Some(shutdown);
        self.handle = Some(handle);
    }

    /// Adds a user straight to the database (as `gatehouse-server admin` does), in `estate`.
    pub fn add_user(
        &self,
        username: &str,
        password: &str,
        role: gatehouse_shared::Role,
        estate: &str,
    ) {
        let store = gatehouse_server::store::Store::open(&self.data_dir.join("gatehouse.db"))
            .expect("opens");
        gatehouse_server::admin::create_user(
            &store,
            &gatehouse_shared::user::NewUser {
                username: username.into(),
                display_name: format!("{username} 的名字"),
                password: password.into(),
                role,
                estates: vec![estate.into()],
            },
            T0,
        )
        .expect("user created");
    }

    /// Signs in on a new device of its own.
    pub async fn sign_in(&self, account: (&str, &str)) -> reqwest::Response {
        self.sign_in_on(&Device::new(), account).await
    }

    /// Signs in on `device`, enrolling it.
    pub async fn sign_in_on(
        &self,
        device: &Device,
        (username, password): (&str, &str),
    ) -> reqwest::Response {
        reqwest::Client::new()
            .post(self.url("/api/sign-in"))
            .json(&SignInRequest {
                username: username.into(),
                password: password.into(),
                device: device.enrolment(username),
            })
            .send()
            .await
            .expect("request sent")
    }

    /// Signs in on a new device and returns the session (for tests that write nothing).
    pub async fn session(&self, account: (&str, &str)) -> SignInResponse {
        self.session_on(&Device::new(), account).await
    }

    /// Signs in on `device` and returns the session.
    pub async fn session_on(&self, device: &Device, account: (&str, &str)) -> SignInResponse {
        let response = self.sign_in_on(device, account).await;
        assert_eq!(response.status(), 200, "sign-in of {}", account.0);
        response.json().await.expect("sign-in body")
    }
}

/// A request with the session's bearer token.
pub fn authed(method: reqwest::Method, url: String, token: &str) -> reqwest::RequestBuilder {
    reqwest::Client::new()
        .request(method, url)
        .bearer_auth(token)
}

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_millis() as i64
}
