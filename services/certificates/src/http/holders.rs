//! The holder's own certificates, and whether each shows in the public register.
//!
//! | route | who |
//! |---|---|
//! | `GET /me/certificates` | anyone signed in as a person: their certificates (valid, expired, suspended, revoked), each with whether it is published |
//! | `PUT /certificates/{number}/publication` | the holder: `{published: true\|false}`; the decision is recorded |

use axum::extract::{Path, State};
use kutse_auth::Authenticated;
use kutse_http::{ApiError, Json};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(mine))
        .routes(routes!(publication))
}

/// The caller's own certificates (valid, expired, suspended, revoked), newest first, each with
/// whether it shows in the public register.
#[utoipa::path(
    get,
    path = "/me/certificates",
    tag = "holders",
    responses(
        (status = 200, description = "The caller's certificates, newest first.", body = Vec<crate::db::holders::Own>),
    ),
)]
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

/// Whether the certificate shows in the public register.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct Publication {
    /// `true` to show it in the public register's search, `false` to hide it.
    published: bool,
}

/// Shows or hides one of the caller's certificates in the public register (the holder only);
/// the decision is recorded.
#[utoipa::path(
    put,
    path = "/certificates/{number}/publication",
    tag = "holders",
    params(("number" = String, Path, description = "The certificate's register number.", example = "KT-2026-000001")),
    request_body = Publication,
    responses(
        (status = 200, description = "Decided.", body = Published),
    ),
)]
async fn publication(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    Path(number): Path<String>,
    Json(input): Json<Publication>,
) -> Result<Json<Published>, ApiError> {
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
    Ok(Json(Published {
        register_number: number,
        published: input.published,
    }))
}

/// The holder's decision on a certificate's place in the public register's search.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
struct Published {
    #[schema(example = "KT-2026-000001")]
    register_number: String,
    /// Whether the public register's search finds it (verification by its number always works).
    published: bool,
}
