//! The HTTP API. Each resource is a module with its own `router()`, merged here.
//!
//! | route | who |
//! |---|---|
//! | `POST /awarding-bodies`, `GET /awarding-bodies/{id}` | the authority creates; anyone signed in reads |
//! | `POST /qualifications`, `GET /qualifications/{id}` | staff of the body create; anyone signed in reads |
//! | `POST /rounds`, `GET /rounds/{id}`, `POST /rounds/{id}/close` | staff of the body; anyone signed in reads |
//! | `POST /applications`, `GET /applications/{id}`, `POST /applications/{id}/submit` | the applicant (and the body's staff may read) |
//! | `POST /applications/{id}/fee-confirmation` | staff of the body |

mod applications;
mod awarding_bodies;
mod qualifications;
mod rounds;

use axum::Router;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use kutse_auth::{Principal, Role};
use kutse_http::ApiError;
use uuid::Uuid;

/// What handlers share: the database and the token verifier.
pub type AppState = kutse_service::ApiContext;

/// The service's API routes.
pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(awarding_bodies::router())
        .merge(qualifications::router())
        .merge(rounds::router())
        .merge(applications::router())
        .with_state(state)
}

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
