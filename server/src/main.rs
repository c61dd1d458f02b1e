use std::io::BufRead;

use anyhow::{bail, Context};
use clap::Parser;
use gatehouse_server::config::{AdminCommand, Cli, Command};
use gatehouse_server::store::Store;
use gatehouse_server::{admin, demo, lock_data_dir, now_ms, open, run, Config};
use gatehouse_shared::record::found_item::FoundItemPeriods;
use gatehouse_shared::user::NewUser;
use gatehouse_shared::Role;

/// The server allocates through jemalloc, not the C library's malloc. Many threads allocate
/// at once (the connections' tasks, the read connections judging frames, the store's
/// writer), and the Automerge documents a frame works on are made on one thread and dropped
/// on another. glibc's malloc either serialises them on one arena's lock (bounded to one
/// arena, as the server did, the wave benchmark spent 2.5-3 of its 7 CPU seconds waiting
/// on it) or, with an arena per thread, keeps freed memory in each (the 10-minute soak's
/// RSS grew 18-24 % after warm-up). jemalloc gives each thread a cache and returns freed
/// pages to the system from a background thread of its own once they have been unused for
/// a second (set when it is built: `.cargo/config.toml`; `_RJEM_MALLOC_CONF` in the
/// environment overrides it).
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> anyhow::Result<()> {
    tokio::runtime::Runtime::new()?.block_on(start())
}

async fn start() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Admin(command)) => run_admin(&cli.config, command),
        None => serve(cli.config).await,
    }
}

async fn serve(config: Config) -> anyhow::Result<()> {
    // Held until the server stops: a restore meanwhile is refused.
    let _lock = lock_data_dir(&config.data_dir)?;
    let state = open(config.clone())?;
    let listener = tokio::net::TcpListener::bind(config.listen).await?;
    let address = listener.local_addr()?;
    if config.demo {
        println!(
            "Demo estates: {} and {} (the guard and the admin work in both)",
            demo::ESTATE_NAME,
            demo::SECOND_ESTATE_NAME
        );
        for (username, password, name, role) in demo::USERS {
            println!(
                "  {:<10} {name:<4} username: {username:<6} password: {password}",
                role.as_str()
            );
        }
    }
    println!("Gatehouse is listening on http://{address}");
    run(listener, state, async {
        // Ctrl-C, or SIGTERM from a service manager.
        let mut terminate =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = async {
                match terminate.as_mut() {
                    Some(signal) => { signal.recv().await; }
                    None => std::future::pending::<()>().await,
                }
            } => {}
        }
    })
    .await
}

fn read_password() -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("reading the password from standard input")?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

fn split_estates(list: &str) -> Vec<String> {
    list.split(',')
        .map(|e| e.trim().to_owned())
        .filter(|e| !e.is_empty())
        .collect()
}

fn user_id(store: &Store, username: &str) -> anyhow::Result<String> {
    match store.user_by_username(username)? {
        Some(user) => Ok(user.info.id),
        None => bail!("no user named {username}"),
    }
}

/// `gatehouse-server admin ...`: works on the database directly, so it needs no running
/// server. A running server refuses a revoked device at its next sync message.
fn run_admin(config: &Config, command: AdminCommand) -> anyhow::Result<()> {
    std::fs::create_dir_all(&config.data_dir)?;
    if let AdminCommand::Restore { file } = &command {
        // Held while the backup goes in: no server starts meanwhile.
        let _lock = lock_data_dir(&config.data_dir)?;
        let kept = gatehouse_server::store::restore(file, &config.database_path(), now_ms())?;
        println!(
            "restored {}; the database it replaced is kept at {}",
            file.display(),
            kept.display()
        );
        return Ok(());
    }
    let store = Store::open(&config.database_path())?;
    let now = now_ms();
    match command {
        AdminCommand::AddEstate { id, name } => {
            admin::upsert_estate(&store, &id, &name)?;
            println!("estate {id} saved");
        }
        AdminCommand::SetRetention { estate, days } => {
            admin::set_retention(&store, &estate, days)?;
            println!("phones keep the records of {estate} {days} days after they are done with");
        }
        AdminCommand::Backup { file } => {
            store.backup_to(&file)?;
            println!("backed up to {}", file.display());
        }
        AdminCommand::Restore { .. } => unreachable!("handled before the store is opened"),
        AdminCommand::SetFoundItemPeriods {
            estate,
            notice_days,
            retention_days,
            valuables_retention_days,
        } => {
            let periods = FoundItemPeriods {
                notice_days,
                retention_days,
                valuables_retention_days,
            };
            admin::set_found_item_periods(&store, &estate, &periods)?;
            println!(
                "{estate} posts unclaimed found items after {notice_days} days and keeps them \
                 {retention_days} days ({valuables_retention_days} for valuables)"
            );
        }
        AdminCommand::AddUser {
            username,
            display_name,
            role,
            estates,
        } => {
            let Some(role) = Role::parse(&role) else {
                bail!("role must be one of guard, technician, office, cleaner, admin");
            };
            let new = NewUser {
                username,
                display_name,
                password: read_password()?,
                role,
                estates: split_estates(&estates),
            };
            let user = admin::create_user(&store, &new, now)?;
            println!("user {} created ({})", user.username, user.id);
        }
        AdminCommand::SetEstates { username, estates } => {
            let id = user_id(&store, &username)?;
            admin::set_estates(&store, &id, &split_estates(&estates))?;
            println!("estates of {username} set to {estates}");
        }
        AdminCommand::SetPassword { username } => {
            let id = user_id(&store, &username)?;
            admin::set_password(&store, &id, &read_password()?)?;
            println!("password of {username} changed; their sessions have ended");
        }
        AdminCommand::RevokeUser { username } => {
            let id = user_id(&store, &username)?;
            store.revoke_user(&id, now)?;
            println!("user {username} revoked");
        }
        AdminCommand::RevokeDevice { device_id } => {
            if !store.revoke_device(&device_id, now)? {
                bail!("no device {device_id}");
            }
            println!("device {device_id} revoked");
        }
        AdminCommand::ListUsers => {
            for user in store.list_users(None)? {
                let state = if user.revoked_at.is_some() {
                    "revoked"
                } else {
                    "active"
                };
                println!(
                    "{}\t{}\t{}\t{}\t{}",
                    user.info.username,
                    user.info.display_name,
                    user.info.role.as_str(),
                    user.info.estate_ids().join(","),
                    state
                );
            }
        }
        AdminCommand::ListDevices => {
            let users: Vec<String> = store
                .list_users(None)?
                .into_iter()
                .map(|u| u.info.id)
                .collect();
            for device in store.list_devices(&users, None, now)? {
                let state = if device.revoked_at.is_some() {
                    "revoked"
                } else {
                    "active"
                };
                println!(
                    "{}\t{}\t{}\tactor {}\t{}",
                    device.device_id, device.username, device.label, device.actor, state
                );
            }
        }
    }
    Ok(())
}
