//! The HTTP API. Each resource is a module with its own `router()`, merged here.

use axum::Router;

/// What handlers share: the database and the token verifier.
pub type AppState = kutse_service::ApiContext;

/// The service's API routes.
pub fn router(state: AppState) -> Router {
    Router::new().with_state(state)
}
