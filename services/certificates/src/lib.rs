//! # kutse-certificates
//!
//! The register: on a signed protocol it verifies the signature against the registered signer keys,
//! issues every awarded certificate exactly once, seals it, and serves public verification.
//!
//! # Layout
//! - `config`: settings from the environment (the common ones, see `kutse_service::ServiceConfig`).
//! - `http`: a module per resource: signer keys, protocols' outcomes, certificates (public
//!   verification, the holder's view, the JWKS).
//! - `consumers`: a file per message: the application's facts (first write wins); a signed
//!   protocol verified, checked whole and applied, answered with `protocol.accepted`/`rejected`.
//! - `domain`: a signer key's life (proposed → active → revoked).
//! - `db`: the queries (applications' facts, outcomes and certificates, protocol receipts,
//!   signer keys).
//! - `register`: the register's sealing keys (mounted, rotated).
//! - `credential`: the Open Badges 3.0 credential (vc+jwt) and its embedded JSON-LD contexts.
//! - `status_list`: revocation and suspension as W3C Bitstring Status Lists.
//! - `pdf`: the certificate as a PDF/A-2b page with a QR code; `renderer`: the worker that
//!   renders it after issuance and stores it in the register's bucket.
//! - `expiry`: the daily sweep telling holders six months before their certificate expires.
//! - `migrations/`: this service's own schema (sqlx).
//!
//! The process is assembled by [`build`]; `main.rs` hands it to `kutse_service::main`, which reads
//! the configuration, starts telemetry and runs it (or migrates, or declares the topology).

pub mod config;
pub mod consumers;
pub mod credential;
pub mod db;
pub mod domain;
pub mod expiry;
pub mod http;
pub mod pdf;
pub mod register;
pub mod renderer;
pub mod status_list;

use kutse_service::{Platform, Service};
use sqlx::migrate::Migrator;

pub use config::Config;

/// The service's name: its queue, log and trace names derive from it.
pub const NAME: &str = kutse_messaging::catalogue::services::CERTIFICATES;

/// The default HTTP port in the local stack.
pub const DEFAULT_PORT: u16 = 8085;

/// This service's schema migrations.
pub static MIGRATOR: Migrator = sqlx::migrate!();

/// Connects everything the service needs and assembles it.
pub async fn build(config: Config) -> anyhow::Result<Service> {
    let platform = Platform::connect(config.service.clone(), &MIGRATOR).await?;
    let register = register::load(&config.keys)?;
    let handler = consumers::CertificatesHandler {
        register: register.clone(),
        public_base_url: platform.config.public_base_url.clone(),
        validity_years: config.validity_years,
        issuance_latency: platform.metrics.histogram(
            "issuance_latency_seconds",
            "From a signed protocol's publication to its certificates issued in the register.",
            &[],
        ),
    };
    let storage = renderer::Storage {
        client: config.s3.client(),
        bucket: config.s3.bucket.clone(),
    };
    let state = http::AppState {
        pool: platform.pool.clone(),
        verifier: platform.verifier.clone(),
        register,
        public_base_url: platform.config.public_base_url.clone(),
        storage: storage.clone(),
        templates: http::page::templates(),
        search_limit: std::sync::Arc::default(),
    };
    let renderer = renderer::Renderer {
        pool: platform.pool.clone(),
        storage: storage.clone(),
        public_base_url: platform.config.public_base_url.clone(),
    };
    let expiry_pool = platform.pool.clone();
    let expiry_base = platform.config.public_base_url.clone();
    let service = Service::new(platform, http::router(state))
        .with_handler(std::sync::Arc::new(consumers::dispatcher(handler)))
        .with_worker(
            "expiry notices",
            std::sync::Arc::new(move |shutdown| {
                Box::pin(expiry::run(
                    expiry_pool.clone(),
                    expiry_base.clone(),
                    shutdown,
                ))
            }),
        )
        .with_worker(
            "certificate PDFs",
            std::sync::Arc::new(move |shutdown| Box::pin(renderer.clone().run(shutdown))),
        );
    let service = service.with_check(
        "storage",
        kutse_storage::readiness(storage.client, storage.bucket),
    );
    Ok(service)
}
