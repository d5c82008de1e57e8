//! Awarding bodies (kutse andjad): created by the authority, with an optional desk address
//! (`email`, where the body's staff are e-mailed) that the authority or the body's administrators
//! change with `PATCH`.

use axum::extract::State;
use kutse_auth::{Authenticated, Role};
use kutse_domain::Email;
use kutse_http::{ApiError, FieldError, Json, PathId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use axum::response::Response;

use super::{AppState, created, replayed};
use crate::db;
use crate::domain::RecertificationWindow;
use crate::idempotency::{self, IdempotencyKey};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create))
        .routes(routes!(read, update))
}

/// A new awarding body.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct NewBody {
    /// The body's name, 1-300 characters.
    name: String,
    /// The body's desk address (optional).
    #[serde(default)]
    email: Option<String>,
}

/// An awarding body.
#[derive(Debug, Serialize, ToSchema)]
struct BodyView {
    id: Uuid,
    name: String,
    /// The body's desk address, where its staff are e-mailed; `null` if none.
    email: Option<String>,
    recertification_window: RecertificationWindow,
}

/// A window as given: each side 0-60 months.
fn checked(window: RecertificationWindow) -> Result<RecertificationWindow, ApiError> {
    let errors: Vec<FieldError> = [
        ("recertification_window.months_before", window.months_before),
        ("recertification_window.months_after", window.months_after),
    ]
    .into_iter()
    .filter(|(_, months)| *months > RecertificationWindow::MAX_MONTHS)
    .map(|(field, _)| FieldError::new(field, "0 to 60 months"))
    .collect();
    if errors.is_empty() {
        Ok(window)
    } else {
        Err(ApiError::Invalid(errors))
    }
}

async fn view_of(conn: &mut sqlx::PgConnection, id: Uuid) -> Result<BodyView, ApiError> {
    let (name, email) = db::awarding_bodies::find(conn, id)
        .await?
        .ok_or_else(|| ApiError::NotFound("awarding body".to_owned()))?;
    let recertification_window = db::awarding_bodies::recertification_window(conn, id)
        .await?
        .unwrap_or(RecertificationWindow::DEFAULT);
    Ok(BodyView {
        id,
        name,
        email,
        recertification_window,
    })
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

/// Creates an awarding body: the authority.
#[utoipa::path(
    post,
    path = "/awarding-bodies",
    tag = "awarding-bodies",
    operation_id = "create_awarding_body",
    params(
        ("Idempotency-Key" = Option<String>, Header, description = "1-255 characters: a retry with the same key and body gets the first response again."),
    ),
    request_body = NewBody,
    responses(
        (status = 201, description = "Created (also the saved answer when replayed with the same `Idempotency-Key`).", body = BodyView),
    ),
)]
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
        recertification_window: RecertificationWindow::DEFAULT,
    };
    let response = created(&mut tx, scope.as_ref(), &view).await?;
    tx.commit().await?;
    tracing::info!(%id, "awarding body created");
    Ok(response)
}

/// An awarding body: anyone signed in.
#[utoipa::path(
    get,
    path = "/awarding-bodies/{id}",
    tag = "awarding-bodies",
    operation_id = "read_awarding_body",
    params(("id" = Uuid, Path, description = "The awarding body.")),
    responses(
        (status = 200, description = "The awarding body.", body = BodyView),
    ),
)]
async fn read(
    State(state): State<AppState>,
    Authenticated(_): Authenticated,
    PathId(id): PathId,
) -> Result<Json<BodyView>, ApiError> {
    let mut conn = state.pool.acquire().await?;
    Ok(Json(view_of(&mut conn, id).await?))
}

/// A change to an awarding body: its desk address, its recertification window, or both.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct BodyChange {
    /// The new desk address; `null` or blank removes it, leaving it out keeps it (a change
    /// without it or a window is refused rather than removing the address by omission).
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    email: Option<Option<String>>,
    /// The body's recertification window.
    #[serde(default)]
    recertification_window: Option<RecertificationWindow>,
}

/// A field that is present, though it may be `null`.
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

/// Sets the body's desk address or recertification window: the authority, or the body's
/// administrators.
#[utoipa::path(
    patch,
    path = "/awarding-bodies/{id}",
    tag = "awarding-bodies",
    operation_id = "update_awarding_body",
    params(("id" = Uuid, Path, description = "The awarding body.")),
    request_body = BodyChange,
    responses(
        (status = 200, description = "Changed: the body as it is now.", body = BodyView),
    ),
)]
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
    if input.email.is_none() && input.recertification_window.is_none() {
        return Err(ApiError::invalid(
            "email",
            "give the desk address (null removes it) or the recertification window",
        ));
    }
    let window = input.recertification_window.map(checked).transpose()?;
    let mut tx = state.pool.begin().await?;
    if let Some(given) = &input.email {
        let email = desk_address(given.as_deref())
            .map_err(|e| ApiError::Invalid(vec![e]))?
            .map(|e| e.as_str().to_owned());
        if !db::awarding_bodies::set_email(&mut tx, id, email.as_deref()).await? {
            return Err(ApiError::NotFound("awarding body".to_owned()));
        }
        tracing::info!(%id, "awarding body's desk address changed");
    }
    if let Some(w) = window {
        if !db::awarding_bodies::set_recertification_window(&mut tx, id, w).await? {
            return Err(ApiError::NotFound("awarding body".to_owned()));
        }
        tracing::info!(%id, months_before = w.months_before, months_after = w.months_after, "awarding body's recertification window changed");
    }
    let view = view_of(&mut tx, id).await?;
    tx.commit().await?;
    Ok(Json(view))
}
