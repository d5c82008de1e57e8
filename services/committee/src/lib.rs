//! # kutse-committee
//!
//! Qualification committee sessions: the agenda of decided applications, members' votes, and the
//! protocol the chair signs (JWS over canonical JSON) and publishes as `protocol.signed`.
//!
//! # Layout
//! - `config`: settings from the environment (the common ones, see `kutse_service::ServiceConfig`).
//! - `domain`: a session's state machine.
//! - `db`: every query (sessions, the agenda and votes, the signer keys the register announced).
//! - `http`: sessions, votes, the frozen protocol and the chair's signature (`http/sessions.rs`).
//! - `consumers`: a file per message: decided applications join the agenda; signer keys; the
//!   register's answers.
//! - `migrations/`: this service's own schema (sqlx).
//!
//! The process is assembled by [`build`]; `main.rs` hands it to `kutse_service::main`, which reads
//! the configuration, starts telemetry and runs it (or migrates, or declares the topology).

pub mod config;
pub mod consumers;
pub mod db;
pub mod domain;
pub mod http;

use kutse_service::{Platform, Service};
use sqlx::migrate::Migrator;

pub use config::Config;

/// The service's name: its queue, log and trace names derive from it.
pub const NAME: &str = kutse_messaging::catalogue::services::COMMITTEE;

/// The default HTTP port in the local stack.
pub const DEFAULT_PORT: u16 = 8084;

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
