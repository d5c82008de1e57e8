//! What became of each signed protocol that arrived (`protocol.accepted` / `protocol.rejected`),
//! for the body's staff and the authority.

use axum::extract::State;
use kutse_auth::{Authenticated, Role};
use kutse_http::{ApiError, Json, PathId};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use crate::db::{self, protocols::Receipt};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(protocol_status))
}

/// What became of a signed protocol: one receipt per delivery (accepted with the register
/// numbers issued, or rejected with the reason), for the body's staff and the authority.
#[utoipa::path(
    get,
    path = "/register/protocols/{id}",
    tag = "protocols",
    params(("id" = uuid::Uuid, Path, description = "The protocol's id, or the id of the `protocol.signed` message.")),
    responses(
        (status = 200, description = "The receipts the caller may see, oldest first (never empty: none is 404).", body = Vec<Receipt>),
    ),
)]
async fn protocol_status(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    PathId(id): PathId,
) -> Result<Json<Vec<Receipt>>, ApiError> {
    let mut conn = state.pool.acquire().await?;
    let authority = principal.has_role(Role::Authority);
    let receipts: Vec<Receipt> = db::protocols::receipts(&mut conn, id)
        .await?
        .into_iter()
        .filter(|r| {
            authority
                || r.awarding_body_id
                    .is_some_and(|b| principal.acts_for(Role::AwardingBodyStaff, b))
        })
        .collect();
    if receipts.is_empty() {
        return Err(ApiError::NotFound("protocol".to_owned()));
    }
    Ok(Json(receipts))
}
