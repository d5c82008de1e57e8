//! # kutse-assessment
//!
//! Assessment cases: one opens per submitted application; the body's staff assign assessors; the
//! assigned assessors may ask the applicant for more documents and decide each competence applied
//! for, within the procedure's clocks (`kutse_domain::clocks`: 10 working days for the review and
//! 20 for the decision from the round's deadline, extended by the time documents were awaited).
//!
//! # Layout
//! - `config`: settings from the environment (the common ones, see `kutse_service::ServiceConfig`).
//! - `domain`: a case's state machine.
//! - `db`: the queries (cases; the procedure: assignments, requests, overdue findings).
//! - `http`: the API: cases, assessors, requests for more documents, per-competence decisions.
//! - `consumers`: a file per message: a case opens on `application.submitted`; documents answer
//!   requests on `document.stored`.
//! - `sweep`: the daily sweep of the clocks (overdue cases, expired requests).
//! - `migrations/`: this service's own schema (sqlx).
//!
//! The process is assembled by [`build`]; `main.rs` hands it to `kutse_service::main`, which reads
//! the configuration, starts telemetry and runs it (or migrates, or declares the topology).

pub mod config;
pub mod consumers;
pub mod db;
pub mod domain;
pub mod http;
pub mod sweep;

use kutse_service::{Platform, Service};
use sqlx::migrate::Migrator;

pub use config::Config;

/// The service's name: its queue, log and trace names derive from it.
pub const NAME: &str = kutse_messaging::catalogue::services::ASSESSMENT;

/// The default HTTP port in the local stack.
pub const DEFAULT_PORT: u16 = 8083;

/// This service's schema migrations.
pub static MIGRATOR: Migrator = sqlx::migrate!();

/// Connects everything the service needs and assembles it.
pub async fn build(config: Config) -> anyhow::Result<Service> {
    let platform = Platform::connect(config.service.clone(), &MIGRATOR).await?;
    let state = platform.api_context();
    let pool = platform.pool.clone();
    let interval = config.sweep_interval;
    let service = Service::new(platform, http::router(state))
        .with_handler(std::sync::Arc::new(consumers::dispatcher()))
        .with_worker(
            "clock sweep",
            std::sync::Arc::new(move |shutdown| {
                Box::pin(sweep::run(pool.clone(), interval, shutdown))
            }),
        );
    Ok(service)
}
