//! The holder's own certificates, and whether each shows in the public register.
//!
//! | route | who |
//! |---|---|
//! | `GET /me/certificates` | anyone signed in as a person: their certificates (valid, expired, suspended, revoked), each with whether it is published |
//! | `PUT /certificates/{number}/publication` | the holder: `{published: true\|false}`; the decision is recorded |

use axum::Router;
use axum::extract::{Path, State};
use axum::routing::{get, put};
use kutse_auth::Authenticated;
use kutse_http::{ApiError, Json};
use serde::Deserialize;

use super::AppState;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/me/certificates", get(mine))
        .route("/certificates/{number}/publication", put(publication))
}

async fn mine(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
) -> Result<Json<Vec<crate::db::holders::Own>>, ApiError> {
    let holder = principal.person()?.to_string();
    let mut conn = state.pool.acquire().await?;
    Ok(Json(
        crate::db::holders::of_holder(&mut conn, &holder).await?,
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Publication {
    published: bool,
}

async fn publication(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    Path(number): Path<String>,
    Json(input): Json<Publication>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let (document, stored) = super::certificates::sealed(&state, &number).await?;
    // Only the holder decides; to anyone else the certificate is not theirs to find here.
    if !principal.is_person(&document.holder.isikukood) {
        return Err(ApiError::NotFound("certificate".to_owned()));
    }
    let mut tx = state.pool.begin().await?;
    crate::db::holders::decide(&mut tx, stored.id, input.published).await?;
    tx.commit().await?;
    tracing::info!(
        register_number = number.as_str(),
        published = input.published,
        "publication decided"
    );
    Ok(Json(serde_json::json!({
        "register_number": number,
        "published": input.published,
    })))
}
