//! # kutse-documents
//!
//! Documents attached to applications: streamed to S3 with the SHA-256 computed on the way, metadata in
//! PostgreSQL, downloads only for the owner and the awarding body's staff and assessors.
//!
//! # Layout
//! - `clamd`: the virus scanner's protocol (PING, INSTREAM).
//! - `config`: settings from the environment (the common ones, see `kutse_service::ServiceConfig`).
//! - `container`: signed containers (ASiC-E/BDOC) opened within limits, structure, digests, signers.
//! - `content`: what a file is, by its first bytes (magic numbers, ASiC-E containers).
//! - `db`: the queries (applications known, documents).
//! - `domain`: the rules: who uploads, who reads, what names a stored object.
//! - `http`: upload (streamed to S3 with SHA-256) and download.
//! - `scanner`: the worker that scans every upload before the panel may see it.
//! - `consumers`: a file per message: applications and their applicants from `application.created`.
//! - `migrations/`: this service's own schema (sqlx).
//!
//! The process is assembled by [`build`]; `main.rs` hands it to `kutse_service::main`, which reads
//! the configuration, starts telemetry and runs it (or migrates, or declares the topology).

pub mod clamd;
pub mod config;
pub mod consumers;
pub mod container;
pub mod content;
pub mod db;
pub mod domain;
pub mod http;
pub mod scanner;

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
        scan_wake: std::sync::Arc::new(tokio::sync::Notify::new()),
    };
    let scanner = scanner::Scanner {
        pool: platform.pool.clone(),
        s3: s3.clone(),
        bucket: config.s3.bucket.clone(),
        clamd: config.clamd.clone(),
        wake: state.scan_wake.clone(),
    };
    let clamd = config.clamd.clone();
    let service = Service::new(platform, http::router(state))
        .with_handler(std::sync::Arc::new(consumers::dispatcher()))
        .with_worker(
            "virus scanner",
            std::sync::Arc::new(move |shutdown| Box::pin(scanner.clone().run(shutdown))),
        )
        .with_check("virus scanner", move || {
            let clamd = clamd.clone();
            async move { clamd.ping().await.map_err(|e| e.to_string()) }
        });
    let service = service.with_check(
        "storage",
        kutse_storage::readiness(s3.clone(), config.s3.bucket.clone()),
    );
    Ok(service)
}
