//! The Gatehouse server: sign-in, the WebSocket sync endpoint, the office's record lists,
//! and the built web app, over one SQLite database.
//!
//! `app(state)` builds the router so tests can drive it; `run` serves it on a listener.
//! Only `store` knows SQL; `sync` holds the sync protocol's server side.

pub mod admin;
pub mod auth;
pub mod config;
pub mod demo;
pub mod error;
pub mod http;
pub mod metrics;
pub mod rate_limit;
pub mod readers;
pub mod store;
pub mod sync;

use std::future::Future;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};

use axum::http::{header, HeaderValue};
use axum::response::IntoResponse;
use axum::routing::{any, get, post, put};
use axum::serve::ListenerExt;
use axum::Router;
use tokio::net::TcpListener;
use tower_http::services::{ServeDir, ServeFile};
use tower_http::set_header::SetResponseHeaderLayer;

pub use config::Config;
use error::HttpError;
use readers::{ReadFailed, Readers};
use store::Store;

/// Largest HTTP request body accepted, in bytes.
const MAX_BODY_BYTES: usize = 64 * 1024;

/// Only this origin's scripts, styles and connections; WebAssembly may compile; no inline
/// script or style, no frames, no plugins.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; \
    style-src 'self'; img-src 'self' data:; connect-src 'self'; worker-src 'self'; manifest-src 'self'; \
    object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

/// What every request handler shares.
#[derive(Clone)]
pub struct AppState {
    /// The database, used from blocking tasks only ([`AppState::blocking`]).
    pub store: Arc<Mutex<Store>>,
    /// One permit: the task that holds it may take a blocking thread to use `store`; the
    /// others wait for it without holding a thread (hundreds of blocked threads waiting on
    /// the lock cost memory and gain nothing).
    pub store_turn: Arc<tokio::sync::Semaphore>,
    /// Announces access and retention changes to every connection.
    pub hub: tokio::sync::broadcast::Sender<sync::HubEvent>,
    /// Hands each stored change to the connections it may concern.
    pub router: Arc<sync::Router>,
    pub config: Arc<Config>,
    /// Numbers connections so a change is not echoed to its sender.
    pub next_connection: Arc<AtomicU64>,
    /// Sync connections open now (upgraded, not yet closed).
    pub open_connections: Arc<std::sync::atomic::AtomicUsize>,
    /// What `/metrics` reports.
    pub metrics: Arc<metrics::Metrics>,
    /// Counts failed sign-ins.
    pub sign_in_limiter: Arc<rate_limit::SignInLimiter>,
    /// Stores sync frames with group commit (`None`: each frame in its own transaction on
    /// `store`, as before; `--group-commit false`).
    pub writer: Option<sync::GroupWriter>,
    /// Connections that only read (empty without group commit: everything on `store`, as
    /// before).
    pub readers: Arc<Readers>,
}

impl AppState {
    pub fn new(store: Store, config: Config) -> Self {
        // Only rare events (access, retention) go through the hub.
        let (hub, _) = tokio::sync::broadcast::channel(64);
        let router = Arc::new(sync::Router::new(config.change_events));
        Self {
            store: Arc::new(Mutex::new(store)),
            store_turn: Arc::new(tokio::sync::Semaphore::new(1)),
            hub,
            router,
            config: Arc::new(config),
            next_connection: Arc::new(AtomicU64::new(1)),
            open_connections: Arc::new(std::sync::atomic::AtomicUsize::new(0)),
            metrics: Arc::new(metrics::Metrics::default()),
            sign_in_limiter: Arc::new(rate_limit::SignInLimiter::default()),
            writer: None,
            readers: Arc::new(Readers::default()),
        }
    }

    /// Tells the connections of `estate_id` that its retention changed.
    pub fn retention_changed(&self, estate_id: String) {
        // No receivers is fine: nobody is connected.
        let _ = self.hub.send(sync::HubEvent::RetentionChanged(estate_id));
    }

    /// Tells every connection to check its session again (after a sign-out, revocation or
    /// password change).
    pub fn access_changed(&self) {
        // No receivers is fine: nobody is connected.
        let _ = self.hub.send(sync::HubEvent::AccessChanged);
    }

    /// Runs store work on a blocking thread.
    pub async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Store) -> T + Send + 'static,
    ) -> Result<T, HttpError> {
        self.with_store(work)
            .await
            .map_err(|e| HttpError::Internal(e.to_string()))
    }

    /// Runs `work`, which only reads, for an HTTP request: on the requests' read connection
    /// on a blocking thread once it is free; on `store` when there is none.
    pub async fn read<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Store) -> T + Send + 'static,
    ) -> Result<T, ReadFailed> {
        self.read_on(|readers| &readers.requests, work).await
    }

    /// Runs `work`, which only reads, for the sync path, on its read connections.
    pub async fn sync_read<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Store) -> T + Send + 'static,
    ) -> Result<T, ReadFailed> {
        self.read_on(|readers| &readers.sync, work).await
    }

    async fn read_on<T: Send + 'static>(
        &self,
        pool: fn(&Readers) -> &readers::ReadPool,
        work: impl FnOnce(&Store) -> T + Send + 'static,
    ) -> Result<T, ReadFailed> {
        let pool = pool(&self.readers);
        if !pool.is_open() {
            return self
                .with_store(move |store| work(store))
                .await
                .map_err(|_| ReadFailed::panicked());
        }
        pool.read(work).await
    }

    /// Runs `work` on the store on a blocking thread, once it is this task's turn.
    pub async fn with_store<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Store) -> T + Send + 'static,
    ) -> Result<T, tokio::task::JoinError> {
        // The semaphore is never closed.
        let _turn = self.store_turn.acquire().await;
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || {
            let mut guard = store
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            work(&mut guard)
        })
        .await
    }
}

/// Milliseconds since the Unix epoch, server time.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// The folder of the static files that holds each build of the app's code, in a folder
/// named by the hash of its bytes (`cargo xtask build-client` writes it).
pub const APP_DIR: &str = "app";

/// The whole HTTP application.
pub fn app(state: AppState) -> Router {
    let static_dir = state.config.static_dir.clone();
    // `cargo xtask build-client` writes each file also brotli- and gzip-compressed
    // (`app_bg.wasm.br`, `.gz`): sent as the browser accepts them, with `Vary`.
    let index = ServeFile::new(static_dir.join("index.html"))
        .precompressed_br()
        .precompressed_gzip();
    let api = Router::new()
        .route("/api/health", get(http::health))
        .route("/metrics", get(http::metrics))
        .route("/api/sign-in", post(http::sign_in))
        .route("/api/sign-out", post(http::sign_out))
        .route("/api/me", get(http::me))
        .route("/api/estates", get(http::my_estates))
        .route("/api/devices", get(http::my_devices))
        .route("/api/devices/{id}/name", put(http::name_device))
        .route("/api/password", post(http::change_password))
        .route("/api/records", get(http::list_records))
        .route("/api/device-keys", get(http::device_keys))
        .route("/api/staff", get(http::staff))
        .route(
            "/api/admin/users",
            get(http::admin_users).post(http::admin_create_user),
        )
        .route(
            "/api/admin/users/{id}/password",
            post(http::admin_set_password),
        )
        .route(
            "/api/admin/users/{id}/revoke",
            post(http::admin_revoke_user),
        )
        .route("/api/admin/devices", get(http::admin_devices))
        .route(
            "/api/admin/devices/{id}/revoke",
            post(http::admin_revoke_device),
        )
        .route(
            "/api/admin/devices/{id}/restore",
            post(http::admin_restore_device),
        )
        .route(
            "/api/admin/users/{id}/restore",
            post(http::admin_restore_user),
        )
        .route(
            "/api/admin/estates",
            get(http::admin_estates).post(http::admin_create_estate),
        )
        .route(
            "/api/admin/estates/{id}/retention",
            put(http::admin_set_retention),
        )
        .route(
            "/api/admin/estates/{id}/found-items",
            put(http::admin_set_found_item_periods),
        )
        .route("/api/sync", get(http::sync_socket))
        // Any other API path: a JSON 404, never the app's page.
        .route("/api", any(http::no_such_route))
        .route("/api/", any(http::no_such_route))
        .route("/api/{*rest}", any(http::no_such_route))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES));
    let header =
        |name, value| SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value));
    // A path that is no file: the app's page for a navigation (a path with no file
    // extension), 404 for a missing file (`/favicon.ico`), so nothing mistakes the page for it.
    let page_or_missing = move |request: axum::extract::Request| {
        let mut index = index.clone();
        async move {
            let name = request.uri().path().rsplit('/').next().unwrap_or_default();
            if name.contains('.') {
                return axum::http::StatusCode::NOT_FOUND.into_response();
            }
            match index.try_call(request).await {
                Ok(response) => response.into_response(),
                Err(error) => {
                    tracing::error!(%error, "reading index.html failed");
                    axum::http::StatusCode::INTERNAL_SERVER_ERROR.into_response()
                }
            }
        }
    };
    // The app's code is under `app/<hash of the build>/`: a name never reused for other
    // bytes, so browsers keep it for good. Everything else (the page, the service worker,
    // the manifest, the icons) keeps its name from build to build: checked every time.
    let built = ServeDir::new(static_dir.join(APP_DIR))
        .precompressed_br()
        .precompressed_gzip();
    let built = Router::new()
        .fallback_service(built)
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            |response: &axum::response::Response| {
                // Not a missing file: it may be there once a deploy is complete.
                let found = response.status().is_success()
                    || response.status() == axum::http::StatusCode::NOT_MODIFIED;
                found.then(|| HeaderValue::from_static("public, max-age=31536000, immutable"))
            },
        ));
    let files = ServeDir::new(static_dir)
        .precompressed_br()
        .precompressed_gzip()
        .fallback(axum::handler::HandlerWithoutStateExt::into_service(
            page_or_missing,
        ));
    let files = Router::new()
        .nest_service(&format!("/{APP_DIR}"), built)
        .fallback_service(files)
        .layer(header(header::CACHE_CONTROL, "no-cache"))
        // Caches must keep the encodings apart (ServeDir does not say so itself).
        .layer(SetResponseHeaderLayer::overriding(
            header::VARY,
            HeaderValue::from_static("accept-encoding"),
        ));
    api.fallback_service(files)
        .layer(header(
            header::CONTENT_SECURITY_POLICY,
            CONTENT_SECURITY_POLICY,
        ))
        .layer(header(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .layer(header(header::X_FRAME_OPTIONS, "DENY"))
        .layer(header(header::REFERRER_POLICY, "no-referrer"))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}

/// Takes the data directory for this process: a server holds it for as long as it runs,
/// and a restore while it does is refused. Released when the returned file is dropped.
pub fn lock_data_dir(data_dir: &std::path::Path) -> anyhow::Result<std::fs::File> {
    std::fs::create_dir_all(data_dir)?;
    let path = data_dir.join("gatehouse.lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => anyhow::bail!(
            "a Gatehouse server is running on {}: stop it first",
            data_dir.display()
        ),
        Err(std::fs::TryLockError::Error(error)) => Err(error.into()),
    }
}

/// Read connections of the sync path beside the writer: one per core of the machine this
/// runs on but one (at least one). Frames are judged on them ahead of the writer, which is
/// work for a whole core each; the core left over keeps the sockets, the writer and the
/// office's requests answered. On a 2-core machine, in the wave benchmark: with two, the
/// phones' p99 was 1.41-1.65 s, the office list's 26-35 ms, and the server's memory peaked
/// at 183-200 MB (judged frames waiting for the writer); with one, 1.40-1.88 s, 8-20 ms
/// and 76-117 MB. HTTP requests have one more of their own.
fn sync_readers() -> usize {
    std::thread::available_parallelism().map_or(1, |cores| cores.get().saturating_sub(1).max(1))
}

/// Opens the database (seeding demo data if configured) and builds the state.
pub fn open(config: Config) -> anyhow::Result<AppState> {
    std::fs::create_dir_all(&config.data_dir)?;
    let store = Store::open(&config.database_path())?;
    if config.demo {
        demo::seed(&store, now_ms())?;
    }
    let metrics = Arc::new(metrics::Metrics::default());
    let (writer, readers) = if config.group_commit {
        (
            Some(sync::GroupWriter::start(
                &config.database_path(),
                metrics.clone(),
            )?),
            Readers::open(&config.database_path(), sync_readers())?,
        )
    } else {
        (None, Readers::default())
    };
    Ok(AppState {
        writer,
        metrics,
        readers: Arc::new(readers),
        ..AppState::new(store, config)
    })
}

/// Serves until `shutdown` completes.
pub async fn run(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let hub = state.hub.clone();
    let open = state.open_connections.clone();
    // Sign-in rate limiting needs the client's address.
    let service = app(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    // Sync frames are small and answered at once: don't let Nagle's algorithm hold them back.
    let listener = listener.tap_io(|tcp| {
        if let Err(error) = tcp.set_nodelay(true) {
            tracing::warn!(%error, "could not set TCP_NODELAY");
        }
    });
    // On shutdown every sync connection finishes the frame it is storing, tells its device
    // (close 1012, "server restarting": it reconnects later) and ends.
    let shutdown = async move {
        shutdown.await;
        tracing::info!("shutting down: telling the connected devices");
        let _ = hub.send(sync::HubEvent::ShuttingDown);
    };
    axum::serve(listener, service)
        .with_graceful_shutdown(shutdown)
        .await?;
    let deadline = tokio::time::Instant::now() + SHUTDOWN_GRACE;
    while open.load(std::sync::atomic::Ordering::Acquire) > 0
        && tokio::time::Instant::now() < deadline
    {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let left = open.load(std::sync::atomic::Ordering::Acquire);
    if left > 0 {
        tracing::warn!(left, "stopping with sync connections still open");
    }
    Ok(())
}

/// How long a stopping server waits for its sync connections to end.
const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(10);

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    /// The sync path's read connections all busy (a wave of phones saying hello), with more
    /// reads queued behind them: a clerk's list is still read at once, on the requests' own.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_request_never_queues_behind_the_sync_paths_reads() {
        let dir = tempfile::tempdir().expect("temp dir");
        let state = open(Config::for_tests(dir.path().to_owned())).expect("opens");
        let (release, held) = std::sync::mpsc::channel::<()>();
        let held = Arc::new(Mutex::new(held));
        let busy: Vec<_> = (0..sync_readers() + 3)
            .map(|_| {
                let (state, held) = (state.clone(), held.clone());
                tokio::spawn(async move {
                    state
                        .sync_read(move |store| {
                            let _ = held.lock().expect("lock").recv();
                            store.document_count().expect("reads")
                        })
                        .await
                        .expect("runs")
                })
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(100)).await;
        let listed = tokio::time::timeout(
            Duration::from_secs(2),
            state.read(|store| store.document_count()),
        )
        .await
        .expect("the request was read while every sync reader was busy");
        assert_eq!(listed.expect("runs").expect("reads"), 0);
        drop(release);
        for task in busy {
            assert_eq!(task.await.expect("joins"), 0);
        }
    }
}
