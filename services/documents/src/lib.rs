//! # kutse-documents
//!
//! Documents attached to applications: streamed to S3 with the SHA-256 computed on the way, metadata in
//! PostgreSQL, downloads only for the owner and the awarding body's staff and assessors.
//!
//! # Layout
//! - `config`: settings from the environment (the common ones, see `kutse_service::ServiceConfig`).
//! - `content`: what a file is, by its first bytes (magic numbers, ASiC-E containers).
//! - `db`: the queries (applications known, documents).
//! - `domain`: the rules: who uploads, who reads, what names a stored object.
//! - `http`: upload (streamed to S3 with SHA-256) and download.
//! - `consumers`: a file per message: applications and their applicants from `application.created`.
//! - `migrations/`: this service's own schema (sqlx).
//!
//! The process is assembled by [`build`]; `main.rs` hands it to `kutse_service::main`, which reads
//! the configuration, starts telemetry and runs it (or migrates, or declares the topology).

pub mod config;
pub mod consumers;
pub mod content;
pub mod db;
pub mod domain;
pub mod http;

use kutse_service::{Platform, Service};
use sqlx::migrate::Migrator;

pub use config::Config;

/// The service's name: its queue, log and trace names derive from it.
pub const NAME: &str = kutse_messaging::catalogue::services::DOCUMENTS;

/// The default HTTP port in the local stack.
pub const DEFAULT_PORT: u16 = 8082;

/// This service's schema migrations.
pub static MIGRATOR: Migrator = sqlx::migrate!();

/// Connects everything the service needs and assembles it.
pub async fn build(config: Config) -> anyhow::Result<Service> {
    let platform = Platform::connect(config.service.clone(), &MIGRATOR).await?;
    let s3 = config.s3.client();
    let state = http::AppState {
        pool: platform.pool.clone(),
        verifier: platform.verifier.clone(),
        s3: s3.clone(),
        bucket: config.s3.bucket.clone(),
        uploads: std::sync::Arc::new(tokio::sync::Semaphore::new(config.limits.uploads_in_flight)),
        limits: config.limits.clone(),
    };
    let service = Service::new(platform, http::router(state))
        .with_handler(std::sync::Arc::new(consumers::dispatcher()));
    let service = service.with_check(
        "storage",
        kutse_storage::readiness(s3.clone(), config.s3.bucket.clone()),
    );
    Ok(service)
}
