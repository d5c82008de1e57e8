//! The HTTP API: a router per resource, merged here (see each module for its routes).

mod documents;

use std::sync::Arc;

use aws_sdk_s3::Client;
use axum::Router;
use axum::extract::FromRef;
use kutse_auth::Verifier;
use sqlx::PgPool;

/// What handlers share.
#[derive(Debug, Clone)]
pub struct AppState {
    pub pool: PgPool,
    pub verifier: Arc<Verifier>,
    pub s3: Client,
    pub bucket: String,
    /// What an upload may be.
    pub limits: crate::config::Limits,
    /// Upload slots of this instance (`DOCUMENT_UPLOADS_IN_FLIGHT`).
    pub uploads: Arc<tokio::sync::Semaphore>,
    /// Wakes the virus scanner when an upload is recorded.
    pub scan_wake: Arc<tokio::sync::Notify>,
}

impl FromRef<AppState> for Arc<Verifier> {
    fn from_ref(state: &AppState) -> Self {
        state.verifier.clone()
    }
}

/// The service's API routes, and `/openapi.json` describing them.
pub fn router(state: AppState) -> Router {
    let (api, described) = utoipa_axum::router::OpenApiRouter::new()
        .merge(documents::router())
        .split_for_parts();
    api.merge(kutse_http::Described::new(described, "Kutse documents", DESCRIPTION).serve())
        .with_state(state)
}

const DESCRIPTION: &str = "Applicants' uploads (streamed to storage, checked by their bytes, virus-scanned before anyone else sees them) and their download by the applicant and the assessment panel.";
