//! The HTTP API: a router per resource, merged here (see each module for its routes).

mod assessments;
mod exams;

use axum::Router;

/// What handlers share: the database and the token verifier.
pub type AppState = kutse_service::ApiContext;

/// The service's API routes.
pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(assessments::router())
        .merge(exams::router())
        .with_state(state)
}
