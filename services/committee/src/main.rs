//! The `kutse-committee` service binary: configuration → telemetry → build → run until stopped.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = kutse_committee::Config::from_env(kutse_config::Env::from_process())?;
    let _telemetry = kutse_telemetry::init(&config.service.telemetry)?;
    let service = kutse_committee::build(config).await.inspect_err(|e| {
        tracing::error!(error = format!("{e:#}"), "kutse-committee failed to start");
    })?;
    service.run().await
}
