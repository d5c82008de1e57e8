//! # kutse-notifications
//!
//! E-mail to applicants at every step they should hear of (receipt, certificate, refusal), each sent
//! exactly once, in the applicant's language.
//!
//! # Layout
//! - `config`: settings from the environment (the common ones, see `kutse_service::ServiceConfig`).
//! - `consumers`: a file per message: events become queued e-mails (in the message's transaction).
//! - `db`: the queries (queued mails, the applicants to tell).
//! - `domain`: the rules: the kinds of notice, and retrying a mail that was not sent.
//! - `sender`: the worker that sends queued e-mails after commit.
//! - `templates`: the e-mails, in Estonian and English (minijinja, under `templates/`), as text
//!   and HTML; `samples`: an example of every notice, for the preview and the snapshot tests.
//! - `mail`: SMTP configuration and transport.
//! - `migrations/`: this service's own schema (sqlx).
//!
//! The process is assembled by [`build`]; `main.rs` hands it to `kutse_service::main`, which reads
//! the configuration, starts telemetry and runs it (or migrates, or declares the topology).

pub mod config;
pub mod consumers;
pub mod db;
pub mod domain;
pub mod mail;
pub mod samples;
pub mod sender;
pub mod templates;

use kutse_service::{Platform, Service};
use sqlx::migrate::Migrator;

pub use config::Config;

/// The service's name: its queue, log and trace names derive from it.
pub const NAME: &str = kutse_messaging::catalogue::services::NOTIFICATIONS;

/// The default HTTP port in the local stack.
pub const DEFAULT_PORT: u16 = 8086;

/// This service's schema migrations.
pub static MIGRATOR: Migrator = sqlx::migrate!();

/// Connects everything the service needs and assembles it.
pub async fn build(config: Config) -> anyhow::Result<Service> {
    let platform = Platform::connect(config.service.clone(), &MIGRATOR).await?;
    let pool = platform.pool.clone();
    let metrics = platform.metrics.clone();
    // No API of its own (yet): health, readiness, metrics, and a document that says so.
    let (api, described) = utoipa_axum::router::OpenApiRouter::new().split_for_parts();
    let api = api.merge(
        kutse_http::Described::new(
            described,
            "Kutse notifications",
            "E-mails every notice (receipts, decisions, certificates, questions) from the events of the other services. It has no API of its own: what it sent is in the applications' histories.",
        )
        .serve(),
    );
    let service =
        Service::new(platform, api).with_handler(std::sync::Arc::new(consumers::dispatcher()));
    let mailer = crate::mail::Mailer::new(&config.smtp)?.counting(&metrics);
    let check_mailer = mailer.clone();
    let service = service.with_check("smtp", move || {
        let mailer = check_mailer.clone();
        async move { mailer.check().await }
    });
    let sender_mailer = mailer.clone();
    let service = service.with_worker(
        "mail sender",
        std::sync::Arc::new(move |shutdown| {
            Box::pin(sender::run(pool.clone(), sender_mailer.clone(), shutdown))
        }),
    );
    Ok(service)
}
