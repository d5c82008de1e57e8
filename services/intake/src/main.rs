//! The `kutse-intake` service binary: configuration → telemetry → build → run until stopped.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = kutse_intake::Config::from_env(kutse_config::Env::from_process())?;
    let _telemetry = kutse_telemetry::init(&config.service.telemetry)?;
    let service = kutse_intake::build(config).await.inspect_err(|e| {
        tracing::error!(error = format!("{e:#}"), "kutse-intake failed to start");
    })?;
    service.run().await
}
