//! The `kutse-certificates` binary: `serve` (default), `migrate`, `topology` or `healthcheck`
//! (see `kutse_service::command`). Configuration → telemetry → build → run until stopped.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    kutse_service::main(
        kutse_certificates::Config::from_env,
        |config| &config.service,
        &kutse_certificates::MIGRATOR,
        kutse_certificates::build,
    )
    .await
}
