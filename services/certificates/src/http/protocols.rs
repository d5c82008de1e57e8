//! What became of each signed protocol that arrived (`protocol.accepted` / `protocol.rejected`),
//! for the body's staff and the authority.

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use kutse_auth::{Authenticated, Role};
use kutse_http::{ApiError, Json, PathId};

use super::AppState;
use crate::db::{self, protocols::Receipt};

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/register/protocols/{id}", get(protocol_status))
}

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
