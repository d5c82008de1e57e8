//! Awarding bodies (kutse andjad): created by the authority, with an optional desk address
//! (`email`, where the body's staff are e-mailed) that the authority or the body's administrators
//! change with `PATCH`.

use axum::Router;
use axum::extract::State;
use axum::routing::{get, post};
use kutse_auth::{Authenticated, Role};
use kutse_domain::Email;
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
        .route("/awarding-bodies/{id}", get(read).patch(update))
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct NewBody {
    name: String,
    /// The body's desk address (optional).
    #[serde(default)]
    email: Option<String>,
}

#[derive(Debug, Serialize)]
struct BodyView {
    id: Uuid,
    name: String,
    email: Option<String>,
}

/// A desk address as given: absent or blank means none.
fn desk_address(given: Option<&str>) -> Result<Option<Email>, FieldError> {
    match given.map(str::trim).filter(|e| !e.is_empty()) {
        None => Ok(None),
        Some(e) => Email::parse(e)
            .map(Some)
            .map_err(|_| FieldError::new("email", "not an e-mail address")),
    }
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
    let mut errors = Vec::new();
    if name.is_empty() || name.len() > 300 {
        errors.push(FieldError::new("name", "must be 1-300 characters"));
    }
    let email = desk_address(input.email.as_deref()).unwrap_or_else(|e| {
        errors.push(e);
        None
    });
    if !errors.is_empty() {
        return Err(ApiError::Invalid(errors));
    }
    let id = Uuid::now_v7();
    let email = email.map(|e| e.as_str().to_owned());
    db::awarding_bodies::insert(&mut tx, id, name, email.as_deref()).await?;
    let view = BodyView {
        id,
        name: name.to_owned(),
        email,
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
    let (name, email) = db::awarding_bodies::find(&mut conn, id)
        .await?
        .ok_or_else(|| ApiError::NotFound("awarding body".to_owned()))?;
    Ok(Json(BodyView { id, name, email }))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct BodyChange {
    /// The new desk address; `null` or blank removes it. Required: a body without it changes
    /// nothing rather than removing the address by omission.
    #[serde(deserialize_with = "present")]
    email: Option<String>,
}

/// A field that must be present, though it may be `null`.
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Option::<String>::deserialize(d)
}

/// Sets the body's desk address: the authority, or the body's administrators.
async fn update(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    PathId(id): PathId,
    Json(input): Json<BodyChange>,
) -> Result<Json<BodyView>, ApiError> {
    if !(principal.has_role(Role::Authority) || principal.acts_for(Role::BodyAdministrator, id)) {
        return Err(ApiError::Forbidden(
            "the authority or the body's administrators change it".to_owned(),
        ));
    }
    let email = desk_address(input.email.as_deref())
        .map_err(|e| ApiError::Invalid(vec![e]))?
        .map(|e| e.as_str().to_owned());
    let mut tx = state.pool.begin().await?;
    if !db::awarding_bodies::set_email(&mut tx, id, email.as_deref()).await? {
        return Err(ApiError::NotFound("awarding body".to_owned()));
    }
    let (name, email) = db::awarding_bodies::find(&mut tx, id)
        .await?
        .ok_or_else(|| ApiError::NotFound("awarding body".to_owned()))?;
    tx.commit().await?;
    tracing::info!(%id, "awarding body's desk address changed");
    Ok(Json(BodyView { id, name, email }))
}
