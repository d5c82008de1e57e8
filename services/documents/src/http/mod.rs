//! The HTTP API. Each resource is a module with its own `router()`, merged here.

use std::sync::Arc;

use axum::Router;
use axum::extract::FromRef;
use kutse_auth::Verifier;
use sqlx::PgPool;

/// What handlers share.
#[derive(Debug, Clone)]
pub struct AppState {
    pub pool: PgPool,
    pub verifier: Arc<Verifier>,
}

impl FromRef<AppState> for Arc<Verifier> {
    fn from_ref(state: &AppState) -> Self {
        state.verifier.clone()
    }
}

/// The service's API routes.
pub fn router(state: AppState) -> Router {
    Router::new().with_state(state)
}
