//! # kutse-intake
//!
//! Applications: awarding bodies, qualifications with their competences, application rounds; applicants
//! create, fill in and submit applications, and read their status and history.
//!
//! Who is who: intake owns the role registry (the authority's people, each body's administrators,
//! staff, assessors, committee and partners, and machine clients) and the token endpoint that
//! turns a TARA login into a Kutse access token carrying the roles held now.
//!
//! # Layout
//! - `config`: settings from the environment (the common ones, see `kutse_service::ServiceConfig`).
//! - `domain`: an application's state machine and the submission rule (deadlines in Tallinn).
//! - `db`: the queries (applications).
//! - `http`: the API, a module per resource, each with its `router()`.
//! - `consumers`: a file per message it handles (documents stored, outcomes of protocols).
//! - `dvvk_report`: the state's document-exchange report (DVVK counts, questions B7–B15) from
//!   the ledger every service feeds (`db::dvvk_ledger`).
//! - `idempotency`: replaying POSTs made with an `Idempotency-Key`.
//! - `registry`: the role registry's rules (who appoints whom, what a token carries).
//! - `tokens`: the token service: TARA ID tokens in, Kutse access tokens out.
//! - `migrations/`: this service's own schema (sqlx).
//!
//! The process is assembled by [`build`]; `main.rs` hands it to `kutse_service::main`, which reads
//! the configuration, starts telemetry and runs it (or migrates, or declares the topology).

pub mod config;
pub mod consumers;
pub mod db;
pub mod domain;
pub mod dvvk_report;
pub mod http;
pub mod idempotency;
pub mod registry;
pub mod tokens;

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
    let tokens = tokens::TokenService::new(&config).await?;
    // Intake checks the access tokens it issues with its own keys, in process.
    let mut service_config = config.service.clone();
    service_config.auth.jwks = kutse_auth::JwksSource::Static(tokens.issuer.jwks());
    let platform = Platform::connect(service_config, &MIGRATOR).await?;
    let mut tx = platform.pool.begin().await?;
    db::appointments::sync_authority(&mut tx, &config.authority).await?;
    tx.commit().await?;
    let tara = tokens.tara.clone();
    let tara_ready = tokens.tara.clone();
    let state = http::AppState {
        pool: platform.pool.clone(),
        verifier: platform.verifier.clone(),
        tokens: std::sync::Arc::new(tokens),
        public_base_url: platform.config.public_base_url.as_str().into(),
        authority_email: std::sync::Arc::new(config.authority_email.clone()),
        creations: http::creations::Creations::start(&platform.pool),
    };
    let service = Service::new(platform, http::router(state))
        .with_check("TARA keys", move || {
            let tara = tara_ready.clone();
            async move { tara.ready() }
        })
        .with_handler(std::sync::Arc::new(consumers::dispatcher()))
        .with_worker(
            "TARA keys",
            std::sync::Arc::new(move |shutdown| {
                let tara = tara.clone();
                Box::pin(async move {
                    tara.keep_fresh(shutdown).await;
                    Ok(())
                })
            }),
        );
    Ok(service)
}
