use clap::Parser;
use gatehouse_server::{demo, open, run, Config};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let config = Config::parse();
    let state = open(config.clone())?;
    let listener = tokio::net::TcpListener::bind(config.listen).await?;
    let address = listener.local_addr()?;
    if config.demo {
        println!("Demo estate: {}", demo::ESTATE_NAME);
        for (username, password, name, role) in demo::USERS {
            println!(
                "  {:<7} {name:<4} username: {username:<6} password: {password}",
                role.as_str()
            );
        }
    }
    println!("Gatehouse is listening on http://{address}");
    run(listener, state, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
}
