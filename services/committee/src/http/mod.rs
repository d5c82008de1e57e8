//! The HTTP API: a router per resource, merged here (see each module for its routes).

mod appeals;
mod sessions;

use axum::Router;

/// What handlers share: the database and the token verifier.
pub type AppState = kutse_service::ApiContext;

/// The service's API routes, and `/openapi.json` describing them.
pub fn router(state: AppState) -> Router {
    let (api, described) = utoipa_axum::router::OpenApiRouter::new()
        .merge(sessions::router())
        .merge(appeals::router())
        .split_for_parts();
    api.merge(kutse_http::Described::new(described, "Kutse committee", DESCRIPTION).serve())
        .with_state(state)
}

const DESCRIPTION: &str = "The qualification committee's sessions: presence, votes and recusals on the assessed applications, the frozen protocol and the chair's signature over it (published to the register as protocol.signed); and the appeals the committee resolves.";
