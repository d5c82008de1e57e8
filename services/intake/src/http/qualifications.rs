//! Qualifications and their occupational standard (the competences), per awarding body.

use std::collections::HashSet;

use axum::extract::State;
use kutse_auth::Authenticated;
use kutse_http::{ApiError, FieldError, Json, PathId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use axum::response::Response;

use super::{AppState, created, replayed, require_staff_of};
use crate::db;
use crate::idempotency::{self, IdempotencyKey};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create))
        .routes(routes!(read))
}

/// A competence of the occupational standard.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct Competence {
    /// Unique within the qualification.
    pub code: String,
    pub name: String,
}

/// A new qualification of an awarding body.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct NewQualification {
    awarding_body_id: Uuid,
    name: String,
    /// The EKR level, 1-8.
    level: i16,
    /// A partial qualification (default `false`).
    #[serde(default)]
    partial: bool,
    /// Whether prior learning (VÕTA) may be applied for (default `true`).
    #[serde(default = "yes")]
    prior_learning_allowed: bool,
    /// At least one; codes unique.
    competences: Vec<Competence>,
}

fn yes() -> bool {
    true
}

/// A qualification and its competences.
#[derive(Debug, Serialize, ToSchema)]
struct QualificationView {
    id: Uuid,
    awarding_body_id: Uuid,
    name: String,
    level: i16,
    partial: bool,
    prior_learning_allowed: bool,
    competences: Vec<Competence>,
}

fn validate(input: &NewQualification) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if input.name.trim().is_empty() {
        errors.push(FieldError::new("name", "must not be empty"));
    }
    if !(1..=8).contains(&input.level) {
        errors.push(FieldError::new("level", "must be an EKR level 1-8"));
    }
    if input.competences.is_empty() {
        errors.push(FieldError::new(
            "competences",
            "a qualification needs at least one competence",
        ));
    }
    let mut codes = HashSet::new();
    for (i, c) in input.competences.iter().enumerate() {
        if c.code.trim().is_empty() {
            errors.push(FieldError::new(
                format!("competences[{i}].code"),
                "must not be empty",
            ));
        } else if !codes.insert(c.code.trim()) {
            errors.push(FieldError::new(
                format!("competences[{i}].code"),
                "appears twice",
            ));
        }
        if c.name.trim().is_empty() {
            errors.push(FieldError::new(
                format!("competences[{i}].name"),
                "must not be empty",
            ));
        }
    }
    errors
}

/// Creates a qualification: staff of its awarding body.
#[utoipa::path(
    post,
    path = "/qualifications",
    tag = "qualifications",
    operation_id = "create_qualification",
    params(
        ("Idempotency-Key" = Option<String>, Header, description = "1-255 characters: a retry with the same key and body gets the first response again."),
    ),
    request_body = NewQualification,
    responses(
        (status = 201, description = "Created (also the saved answer when replayed with the same `Idempotency-Key`).", body = QualificationView),
    ),
)]
async fn create(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    key: IdempotencyKey,
    Json(input): Json<NewQualification>,
) -> Result<Response, ApiError> {
    require_staff_of(&principal, input.awarding_body_id)?;
    let errors = validate(&input);
    if !errors.is_empty() {
        return Err(ApiError::Invalid(errors));
    }
    let scope = key.scope(&principal.subject, "POST /qualifications", &input);
    let mut tx = state.pool.begin().await?;
    if let Some(response) = replayed(idempotency::replay(&mut tx, scope.as_ref()).await?) {
        return Ok(response);
    }
    if !db::qualifications::body_exists(&mut tx, input.awarding_body_id).await? {
        return Err(ApiError::invalid(
            "awarding_body_id",
            "no such awarding body",
        ));
    }
    let id = Uuid::now_v7();
    db::qualifications::insert(
        &mut tx,
        &db::qualifications::NewQualification {
            id,
            awarding_body_id: input.awarding_body_id,
            name: input.name.trim(),
            level: input.level,
            partial: input.partial,
            prior_learning_allowed: input.prior_learning_allowed,
            competences: input
                .competences
                .iter()
                .map(|c| (c.code.trim(), c.name.trim()))
                .collect(),
        },
    )
    .await?;
    let view = QualificationView {
        id,
        awarding_body_id: input.awarding_body_id,
        name: input.name.trim().to_owned(),
        level: input.level,
        partial: input.partial,
        prior_learning_allowed: input.prior_learning_allowed,
        competences: input.competences,
    };
    let response = created(&mut tx, scope.as_ref(), &view).await?;
    tx.commit().await?;
    Ok(response)
}

/// A qualification and its competences: anyone signed in.
#[utoipa::path(
    get,
    path = "/qualifications/{id}",
    tag = "qualifications",
    operation_id = "read_qualification",
    params(("id" = Uuid, Path, description = "The qualification.")),
    responses(
        (status = 200, description = "The qualification.", body = QualificationView),
    ),
)]
async fn read(
    State(state): State<AppState>,
    Authenticated(_): Authenticated,
    PathId(id): PathId,
) -> Result<Json<QualificationView>, ApiError> {
    let mut conn = state.pool.acquire().await?;
    let row = db::qualifications::find(&mut conn, id)
        .await?
        .ok_or_else(|| ApiError::NotFound("qualification".to_owned()))?;
    let competences = db::qualifications::competences(&mut conn, id)
        .await?
        .into_iter()
        .map(|(code, name)| Competence { code, name })
        .collect();
    Ok(Json(QualificationView {
        id,
        awarding_body_id: row.awarding_body_id,
        name: row.name,
        level: row.level,
        partial: row.partial,
        prior_learning_allowed: row.prior_learning_allowed,
        competences,
    }))
}
