//! The `kutse-intake` binary: `serve` (default), `migrate`, `topology` or `healthcheck`
//! (see `kutse_service::command`). Configuration → telemetry → build → run until stopped.

use kutse_service::{Command, Platform};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = kutse_intake::Config::from_env(kutse_config::Env::from_process())?;
    let command = Command::from_args()?;
    if command == Command::Healthcheck {
        return kutse_service::healthcheck(config.service.http_addr);
    }
    let _telemetry = kutse_telemetry::init(&config.service.telemetry)?;
    let result = match command {
        Command::Migrate => Platform::migrate(&config.service, &kutse_intake::MIGRATOR).await,
        Command::Topology => Platform::declare_topology(&config.service).await,
        _ => match kutse_intake::build(config).await {
            Ok(service) => service.run().await,
            Err(e) => Err(e),
        },
    };
    if let Err(e) = &result {
        tracing::error!(error = format!("{e:#}"), "kutse-intake failed");
    }
    result
}
