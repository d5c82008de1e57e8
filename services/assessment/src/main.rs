//! The `kutse-assessment` binary: `serve` (default), `migrate`, `topology` or `healthcheck`
//! (see `kutse_service::command`). Configuration → telemetry → build → run until stopped.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    kutse_service::main(
        kutse_assessment::Config::from_env,
        |config| &config.service,
        &kutse_assessment::MIGRATOR,
        kutse_assessment::build,
    )
    .await
}
