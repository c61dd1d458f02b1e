//! Server configuration, from command-line flags or environment variables.

use std::net::SocketAddr;
use std::path::PathBuf;

/// How the server runs.
#[derive(Debug, Clone, clap::Parser)]
#[command(name = "gatehouse-server", about = "Gatehouse records and sync server")]
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
}

impl Config {
    /// A configuration for tests: data in `data_dir`, nothing served statically.
    pub fn for_tests(data_dir: PathBuf) -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            static_dir: data_dir.join("no-static"),
            data_dir,
            demo: false,
            session_days: 30,
        }
    }

    pub fn database_path(&self) -> PathBuf {
        self.data_dir.join("gatehouse.db")
    }
}
