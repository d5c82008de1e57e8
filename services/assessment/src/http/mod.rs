//! The HTTP API: a router per resource, merged here (see each module for its routes).

mod assessments;
mod exams;

use axum::Router;

/// What handlers share: the database and the token verifier.
pub type AppState = kutse_service::ApiContext;

/// The service's API routes, and `/openapi.json` describing them.
pub fn router(state: AppState) -> Router {
    let (api, described) = utoipa_axum::router::OpenApiRouter::new()
        .merge(assessments::router())
        .merge(exams::router())
        .split_for_parts();
    api.merge(kutse_http::Described::new(described, "Kutse assessment", DESCRIPTION).serve())
        .with_state(state)
}

const DESCRIPTION: &str = "The assessment panel's work on each submitted application: assessors assigned by the body, a decision per competence with its justification and evidence, requests for more documents (which stop the case's clocks), exams and their results, the panel's decision and appeals against it.";
