//! Qualifications and their occupational standard (the competences), per awarding body.

use std::collections::HashSet;

use axum::Router;
use axum::extract::State;
use axum::routing::{get, post};
use kutse_auth::Authenticated;
use kutse_http::{ApiError, FieldError, Json, PathId};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use axum::response::Response;

use super::{AppState, created, replayed, require_staff_of};
use crate::db;
use crate::idempotency::{self, IdempotencyKey};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/qualifications", post(create))
        .route("/qualifications/{id}", get(read))
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Competence {
    pub code: String,
    pub name: String,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct NewQualification {
    awarding_body_id: Uuid,
    name: String,
    level: i16,
    #[serde(default)]
    partial: bool,
    #[serde(default = "yes")]
    prior_learning_allowed: bool,
    competences: Vec<Competence>,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Serialize)]
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
