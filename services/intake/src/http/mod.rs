//! The HTTP API. Each resource is a module with its own `router()`, merged here.
//!
//! | route | who |
//! |---|---|
//! | `POST /awarding-bodies`, `GET /awarding-bodies/{id}` | the authority creates; anyone signed in reads |
//! | `POST /qualifications`, `GET /qualifications/{id}` | staff of the body create; anyone signed in reads |
//! | `POST /rounds`, `GET /rounds?awarding_body_id=`, `PATCH /rounds/{id}` (before its first application), `POST /rounds/{id}/close` | staff of the body; anyone signed in reads `GET /rounds/{id}` |
//! | `GET /public/rounds/{id}` | anyone, without a token: the round's fees, deadline, prerequisites, "more information" page |
//! | `GET /desk/applications`, `GET /desk/applications.csv` | staff of the body: see [`desk`] |
//! | `POST /applications`, `GET /applications/{id}`, `POST /applications/{id}/submit` | the applicant (and the body's staff may read); an authorised partner's people on a person's behalf (`on_behalf_of`), seeing only their own |
//! | `POST /applications/{id}/confirmation` | the applicant: confirms an application a partner created for them |
//! | `GET /me/applications` | anyone signed in as a person: their applications, partners' for them included |
//! | `POST /applications/{id}/print-orders`, `GET /desk/print-queue`, `POST /print-orders/{id}/sent` | paper prints after issuance: see [`prints`] |
//! | `POST /applications/{id}/fee-confirmation` | staff of the body |
//! | `/me/questions`, `/questions…` | questions about certificates: see [`questions`] |
//! | `GET /reports/dvvk?from=&to=&format=` | the authority: the state's document-exchange report, see [`reports`] |
//! | `/oauth/…` | the token endpoint: see [`oauth`] |
//! | `/awarding-bodies/{id}/appointments`, `…/partners`, `…/clients`, `/appointments/…`, `/me/appointments` | the role registry: see [`registry`] |
//!
//! Every route but the token endpoint's and `/public/…` takes a Kutse access token, which intake checks with its
//! own keys in process.
//!
//! `POST /applications` is written in batches with whatever other creations arrive at the same
//! time: see [`creations`].

mod applications;
mod awarding_bodies;
pub mod creations;
pub mod desk;
pub mod oauth;
mod prints;
mod qualifications;
mod questions;
pub mod registry;
pub mod reports;
mod rounds;

use axum::Router;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use kutse_auth::{Principal, Role};
use kutse_http::ApiError;
use uuid::Uuid;

/// What handlers share: the database, the access-token verifier and the token service.
///
/// axum clones the state for every request (more than once), so each field is cheap to clone: a
/// handle or an `Arc`. Cloned as values, the token service's keys and strings were a dozen
/// allocations per request, about 2 % of intake's CPU under load (issue 16's P1).
#[derive(Debug, Clone)]
pub struct AppState {
    pub pool: sqlx::PgPool,
    pub verifier: std::sync::Arc<kutse_auth::Verifier>,
    pub tokens: std::sync::Arc<crate::tokens::TokenService>,
    /// Where intake is reached from outside (the token endpoint's metadata names it).
    pub public_base_url: std::sync::Arc<str>,
    /// The authority's desk (`AUTHORITY_EMAIL`), for questions.
    pub authority_email: std::sync::Arc<kutse_domain::Email>,
    /// The group commit of new applications.
    pub creations: creations::Creations,
}

impl axum::extract::FromRef<AppState> for std::sync::Arc<kutse_auth::Verifier> {
    fn from_ref(state: &AppState) -> Self {
        state.verifier.clone()
    }
}

/// The service's API routes, and `/openapi.json` describing them.
pub fn router(state: AppState) -> Router {
    let (api, described) = utoipa_axum::router::OpenApiRouter::new()
        .merge(awarding_bodies::router())
        .merge(qualifications::router())
        .merge(rounds::router())
        .merge(applications::router())
        .merge(desk::router())
        .merge(prints::router())
        .merge(oauth::router())
        .merge(registry::router())
        .merge(reports::router())
        .merge(questions::router())
        .split_for_parts();
    api.merge(kutse_http::Described::new(described, "Kutse intake", DESCRIPTION).serve())
        .with_state(state)
}

const DESCRIPTION: &str = "Awarding bodies, qualifications and rounds; applications from start to submission; the role registry and the token endpoint (TARA ID token for a Kutse access token); print orders, holders' questions and the state's DVVK report.";

/// 403 unless the caller is staff of `body`.
fn require_staff_of(principal: &Principal, body: Uuid) -> Result<(), ApiError> {
    if principal.acts_for(Role::AwardingBodyStaff, body) {
        Ok(())
    } else {
        Err(ApiError::Forbidden(
            "only staff of the awarding body may do this".to_owned(),
        ))
    }
}

/// The saved response of an earlier request with the same `Idempotency-Key`, as a response.
fn replayed(saved: Option<(StatusCode, serde_json::Value)>) -> Option<Response> {
    saved.map(|(status, body)| (status, axum::Json(body)).into_response())
}

/// A 201 with `view` as its body, saved for replay under the request's `Idempotency-Key`.
async fn created(
    conn: &mut sqlx::PgConnection,
    scope: Option<&crate::idempotency::Scope>,
    view: &impl serde::Serialize,
) -> Result<Response, ApiError> {
    let body = serde_json::to_value(view).map_err(|e| ApiError::Internal(e.into()))?;
    crate::idempotency::record(conn, scope, StatusCode::CREATED, &body).await?;
    Ok((StatusCode::CREATED, axum::Json(body)).into_response())
}
