//! # kutse-intake
//!
//! Applications: awarding bodies, qualifications with their competences, application rounds; applicants
//! create, fill in and submit applications, and read their status and history.
//!
//! # Layout
//! - `config`: settings from the environment (the common ones, see `kutse_service::ServiceConfig`).
//! - `domain`: an application's state machine and the submission rule (deadlines in Tallinn).
//! - `db`: the queries (applications).
//! - `http`: the API, a module per resource, each with its `router()`.
//! - `consumers`: a file per message it handles (documents stored, outcomes of protocols).
//! - `idempotency`: replaying POSTs made with an `Idempotency-Key`.
//! - `migrations/`: this service's own schema (sqlx).
//!
//! The process is assembled by [`build`]; `main.rs` hands it to `kutse_service::main`, which reads
//! the configuration, starts telemetry and runs it (or migrates, or declares the topology).

pub mod config;
pub mod consumers;
pub mod db;
pub mod domain;
pub mod http;
pub mod idempotency;

use kutse_service::{Platform, Service};
use sqlx::migrate::Migrator;

pub use config::Config;

/// The service's name: its queue, log and trace names derive from it.
pub const NAME: &str = kutse_messaging::catalogue::services::INTAKE;

/// The default HTTP port in the local stack.
pub const DEFAULT_PORT: u16 = 8081;

/// This service's schema migrations.
pub static MIGRATOR: Migrator = sqlx::migrate!();

/// Connects everything the service needs and assembles it.
pub async fn build(config: Config) -> anyhow::Result<Service> {
    let platform = Platform::connect(config.service.clone(), &MIGRATOR).await?;
    let state = platform.api_context();
    let service = Service::new(platform, http::router(state))
        .with_handler(std::sync::Arc::new(consumers::dispatcher()));
    Ok(service)
}
