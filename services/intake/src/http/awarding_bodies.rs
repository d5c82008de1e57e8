//! Awarding bodies (kutse andjad): created by the authority.

use axum::Router;
use axum::extract::State;
use axum::routing::{get, post};
use kutse_auth::{Authenticated, Role};
use kutse_http::{ApiError, FieldError, Json, PathId};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use axum::response::Response;

use super::{AppState, created, replayed};
use crate::db;
use crate::idempotency::{self, IdempotencyKey};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/awarding-bodies", post(create))
        .route("/awarding-bodies/{id}", get(read))
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct NewBody {
    name: String,
}

#[derive(Debug, Serialize)]
struct BodyView {
    id: Uuid,
    name: String,
}

async fn create(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    key: IdempotencyKey,
    Json(input): Json<NewBody>,
) -> Result<Response, ApiError> {
    principal.require(Role::Authority)?;
    let scope = key.scope(&principal.subject, "POST /awarding-bodies", &input);
    let mut tx = state.pool.begin().await?;
    if let Some(response) = replayed(idempotency::replay(&mut tx, scope.as_ref()).await?) {
        return Ok(response);
    }
    let name = input.name.trim();
    if name.is_empty() || name.len() > 300 {
        return Err(ApiError::Invalid(vec![FieldError::new(
            "name",
            "must be 1-300 characters",
        )]));
    }
    let id = Uuid::now_v7();
    db::awarding_bodies::insert(&mut tx, id, name).await?;
    let view = BodyView {
        id,
        name: name.to_owned(),
    };
    let response = created(&mut tx, scope.as_ref(), &view).await?;
    tx.commit().await?;
    tracing::info!(%id, "awarding body created");
    Ok(response)
}

async fn read(
    State(state): State<AppState>,
    Authenticated(_): Authenticated,
    PathId(id): PathId,
) -> Result<Json<BodyView>, ApiError> {
    let mut conn = state.pool.acquire().await?;
    let name = db::awarding_bodies::name(&mut conn, id)
        .await?
        .ok_or_else(|| ApiError::NotFound("awarding body".to_owned()))?;
    Ok(Json(BodyView { id, name }))
}
