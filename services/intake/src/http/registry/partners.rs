//! Partner organisations a body authorises; withdrawing one ends its people's roles.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use kutse_auth::{Authenticated, Role};
use kutse_http::{ApiError, Json, PathId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::super::AppState;
use super::{
    Removal, actor, announce_removal, reason, require_administrator, require_registry_reader,
};
use crate::db;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(authorise_partner, partners))
        .routes(routes!(withdraw_partner))
}

/// A partner organisation to authorise.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct NewPartner {
    /// Its Estonian business registry code: 8 digits.
    registry_code: String,
    /// 1-300 characters.
    name: String,
    /// Limit the authorisation to one round, or to one qualification (neither: all).
    #[serde(default)]
    round_id: Option<Uuid>,
    #[serde(default)]
    qualification_id: Option<Uuid>,
}

/// A partner organisation of a body.
#[derive(Debug, Serialize, ToSchema)]
struct PartnerView {
    awarding_body_id: Uuid,
    /// Its Estonian business registry code.
    registry_code: String,
    name: String,
    /// Who authorised it: their role and personal code.
    authorised_by: String,
    authorised_at: DateTime<Utc>,
    /// Not withdrawn.
    in_force: bool,
    round_id: Option<Uuid>,
    qualification_id: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    withdrawn_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    withdrawal_reason: Option<String>,
}

impl From<db::partners::Partner> for PartnerView {
    fn from(p: db::partners::Partner) -> Self {
        Self {
            awarding_body_id: p.awarding_body_id,
            registry_code: p.registry_code,
            name: p.name,
            authorised_by: p.authorised_by,
            authorised_at: p.authorised_at,
            in_force: p.withdrawn_at.is_none(),
            round_id: p.round_id,
            qualification_id: p.qualification_id,
            withdrawn_at: p.withdrawn_at,
            withdrawal_reason: p.withdrawal_reason,
        }
    }
}

fn registry_code(value: &str) -> Result<String, ApiError> {
    let value = value.trim();
    if value.len() == 8 && value.bytes().all(|b| b.is_ascii_digit()) {
        Ok(value.to_owned())
    } else {
        Err(ApiError::invalid(
            "registry_code",
            "an Estonian business registry code: 8 digits",
        ))
    }
}

/// Authorises a partner organisation, whose people may then be appointed `partner`: the body's
/// administrators.
#[utoipa::path(
    post,
    path = "/awarding-bodies/{id}/partners",
    tag = "partners",
    operation_id = "authorise_partner",
    params(("id" = Uuid, Path, description = "The awarding body.")),
    request_body = NewPartner,
    responses(
        (status = 201, description = "Authorised.", body = PartnerView),
    ),
)]
async fn authorise_partner(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    PathId(body): PathId,
    Json(input): Json<NewPartner>,
) -> Result<(StatusCode, Json<PartnerView>), ApiError> {
    require_administrator(&principal, body)?;
    let code = registry_code(&input.registry_code)?;
    let name = input.name.trim();
    if name.is_empty() || name.chars().count() > 300 {
        return Err(ApiError::invalid("name", "must be 1-300 characters"));
    }
    let by = actor(&principal, Role::BodyAdministrator)?;
    let mut tx = state.pool.begin().await?;
    let partner = db::partners::authorise(
        &mut tx,
        body,
        &code,
        name,
        &by,
        (input.round_id, input.qualification_id),
    )
    .await?
    .ok_or_else(|| {
        ApiError::Conflict("this partner organisation is authorised already".to_owned())
    })?;
    tx.commit().await?;
    tracing::info!(awarding_body = %body, partner = code.as_str(), "partner authorised");
    Ok((StatusCode::CREATED, Json(partner.into())))
}

/// The body's partner organisations, withdrawn ones too: the authority and the body's
/// administrators.
#[utoipa::path(
    get,
    path = "/awarding-bodies/{id}/partners",
    tag = "partners",
    operation_id = "partners",
    params(("id" = Uuid, Path, description = "The awarding body.")),
    responses(
        (status = 200, description = "The body's partner organisations.", body = Vec<PartnerView>),
    ),
)]
async fn partners(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    PathId(body): PathId,
) -> Result<Json<Vec<PartnerView>>, ApiError> {
    require_registry_reader(&principal, body)?;
    let mut conn = state.pool.acquire().await?;
    let rows = db::partners::of_body(&mut conn, body).await?;
    Ok(Json(rows.into_iter().map(PartnerView::from).collect()))
}

/// Withdraws a partner organisation's authorisation, ending its people's roles: the body's
/// administrators.
#[utoipa::path(
    post,
    path = "/awarding-bodies/{id}/partners/{registry_code}/withdrawal",
    tag = "partners",
    operation_id = "withdraw_partner",
    params(
        ("id" = Uuid, Path, description = "The awarding body."),
        ("registry_code" = String, Path, description = "The partner organisation's business registry code."),
    ),
    request_body = Removal,
    responses(
        (status = 200, description = "Withdrawn: the partner as it is now.", body = PartnerView),
    ),
)]
async fn withdraw_partner(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    Path((body, code)): Path<(String, String)>,
    Json(input): Json<Removal>,
) -> Result<Json<PartnerView>, ApiError> {
    let not_found = || ApiError::NotFound("partner".to_owned());
    let body: Uuid = body.parse().map_err(|_| not_found())?;
    require_administrator(&principal, body)?;
    let reason = reason(&input.reason, "reason")?;
    let by = actor(&principal, Role::BodyAdministrator)?;
    let mut tx = state.pool.begin().await?;
    let partner = db::partners::withdraw(&mut tx, body, &code, &by, &reason)
        .await?
        .ok_or_else(not_found)?;
    // Its people's roles end with it.
    let why = format!("the partner's authorisation was withdrawn: {reason}");
    for appointment in db::appointments::of_partner(&mut tx, body, &code).await? {
        if let Some(ended) = db::appointments::remove(&mut tx, appointment.id, &by, &why).await? {
            announce_removal(&mut tx, &ended, &why).await?;
        }
    }
    tx.commit().await?;
    tracing::info!(awarding_body = %body, partner = code.as_str(), "partner authorisation withdrawn");
    Ok(Json(partner.into()))
}
