//! Server configuration, from command-line flags or environment variables.

use std::net::SocketAddr;
use std::path::PathBuf;

/// How the server runs.
#[derive(Debug, Clone, clap::Args)]
pub struct Config {
    /// Address to listen on (loopback by default).
    #[arg(long, env = "GATEHOUSE_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Directory holding the SQLite database; created if missing.
    #[arg(long, env = "GATEHOUSE_DATA_DIR", default_value = "data")]
    pub data_dir: PathBuf,
    /// Directory of the built web app, served at `/`.
    #[arg(long, env = "GATEHOUSE_STATIC_DIR", default_value = "client/dist")]
    pub static_dir: PathBuf,
    /// Create (or reset the passwords of) the demo estate and users at start-up.
    #[arg(long, env = "GATEHOUSE_DEMO")]
    pub demo: bool,
    /// How long a sign-in stays valid, in days. Phones may stay offline for days.
    #[arg(long, env = "GATEHOUSE_SESSION_DAYS", default_value_t = 30)]
    pub session_days: i64,
    /// Most bytes of stored history one record document may grow to.
    #[arg(long, env = "GATEHOUSE_MAX_DOCUMENT_BYTES", default_value_t = 2 * 1024 * 1024)]
    pub max_document_bytes: i64,
    /// How often an open sync connection checks its session again, in seconds (sign-out,
    /// revocation and password changes made through this server end it at once).
    #[arg(long, env = "GATEHOUSE_SESSION_RECHECK_SECS", default_value_t = 15)]
    pub session_recheck_secs: u64,
    /// Bytes a sync connection reads from its socket at a time, and keeps for it while idle.
    /// The WebSocket layer's own default, 131072, zero-fills that much before every read
    /// attempt and costs every idle connection as much: kept settable only to measure
    /// against (`cargo xtask bench`). Frames larger than this are read in several reads.
    #[arg(long, env = "GATEHOUSE_SOCKET_READ_BUFFER", default_value_t = SOCKET_READ_BUFFER)]
    pub socket_read_buffer: usize,
    /// Stored changes a connection's queue holds: one that falls further behind is told to
    /// resync (its pushes lost, it syncs everything again).
    #[arg(long, env = "GATEHOUSE_CHANGE_EVENTS", default_value_t = 1024)]
    pub change_events: usize,
    /// Store the sync frames waiting at one moment in one transaction (one WAL sync for
    /// all). `false`: each frame in a transaction of its own, behind the lock every other
    /// store access takes: kept only to measure against (`cargo xtask bench`).
    #[arg(long, env = "GATEHOUSE_GROUP_COMMIT", default_value_t = true, action = clap::ArgAction::Set)]
    pub group_commit: bool,
    /// Most sync connections open at once; one more is refused (`503`, retry later) before
    /// it costs anything.
    #[arg(long, env = "GATEHOUSE_MAX_CONNECTIONS", default_value_t = 10_000)]
    pub max_connections: usize,
    /// The bearer token `GET /metrics` asks for (Prometheus: `authorization: credentials`);
    /// without one, `/metrics` is not served.
    #[arg(long, env = "GATEHOUSE_METRICS_TOKEN")]
    pub metrics_token: Option<String>,
}

/// Bytes a sync connection reads at a time by default: a reconnect's first frame, a typical
/// push, fit in one or two reads.
pub const SOCKET_READ_BUFFER: usize = 8 * 1024;

impl Config {
    /// A configuration for tests: data in `data_dir`, nothing served statically.
    pub fn for_tests(data_dir: PathBuf) -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            static_dir: data_dir.join("no-static"),
            data_dir,
            demo: false,
            session_days: 30,
            max_document_bytes: 2 * 1024 * 1024,
            session_recheck_secs: 15,
            socket_read_buffer: SOCKET_READ_BUFFER,
            change_events: 1024,
            group_commit: true,
            max_connections: 10_000,
            metrics_token: None,
        }
    }

    pub fn database_path(&self) -> PathBuf {
        self.data_dir.join("gatehouse.db")
    }
}

/// The command line: serve (the default), or manage users, estates and devices.
#[derive(Debug, clap::Parser)]
#[command(name = "gatehouse-server", about = "Gatehouse records and sync server")]
pub struct Cli {
    #[command(flatten)]
    pub config: Config,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Manage estates, users and devices in the database (the server may be running).
    #[command(subcommand)]
    Admin(AdminCommand),
}

#[derive(Debug, clap::Subcommand)]
pub enum AdminCommand {
    /// Create an estate, or rename it.
    AddEstate { id: String, name: String },
    /// Set how long (days, 1 to 365) phones keep an estate's closed slips and finished work
    /// orders; a running server applies it at each phone's next connection.
    SetRetention { estate: String, days: u32 },
    /// Set how long an estate keeps unclaimed found items: days before the public notice
    /// (1 to 60), then days before disposal (1 to 730), and for valuables (1 to 730).
    SetFoundItemPeriods {
        estate: String,
        notice_days: u32,
        retention_days: u32,
        valuables_retention_days: u32,
    },
    /// Create a user; the password is read from the first line of standard input.
    AddUser {
        username: String,
        display_name: String,
        /// guard, technician, office, cleaner or admin.
        role: String,
        /// Estate IDs, comma-separated; new records go to the first.
        estates: String,
    },
    /// Replace a user's estates (comma-separated; new records go to the first).
    SetEstates { username: String, estates: String },
    /// Set a user's password (read from standard input); all their sessions end.
    SetPassword { username: String },
    /// Revoke a user: no more sign-ins or syncing from any device.
    RevokeUser { username: String },
    /// Revoke a device by its ID (see list-devices).
    RevokeDevice { device_id: String },
    /// Copy the database into a new file, while the server runs: a consistent snapshot
    /// (SQLite's online backup).
    Backup { file: PathBuf },
    /// Put a backup in place of the database. Refused while a server runs on this data
    /// directory; the database it replaces is kept beside it.
    Restore { file: PathBuf },
    /// List users with their role and estates.
    ListUsers,
    /// List devices, with their user, actor ID and state.
    ListDevices,
}
