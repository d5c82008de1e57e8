//! Appeals (vaie) the committee resolves.
//!
//! | route | who |
//! |---|---|
//! | `GET /appeals?awarding_body_id=` | the body's staff, committee members and chair |
//! | `POST /appeals/{id}/resolution` | the body's committee chair (in the register today): `{outcome: upheld\|dismissed, reasons}` |
//!
//! An upheld appeal reopens the case for assessment and takes the application off the agenda,
//! so the panel's new decision joins it afresh (and a new protocol may award what an earlier one
//! refused). A dismissed one sends the applicant the reasons. Either is `appeal.resolved`.

use axum::extract::{Query, State};
use chrono::Utc;
use kutse_auth::{Authenticated, Role};
use kutse_http::{ApiError, FieldError, Json, PathId};
use kutse_messaging::catalogue::{AppealLodged, AppealResolved};
use kutse_messaging::{Envelope, Outbox};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::AppState;
use crate::db;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(resolve))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// The awarding body whose appeals to list.
    awarding_body_id: Uuid,
}

/// The body's appeals, those in progress first.
#[utoipa::path(
    get,
    path = "/appeals",
    tag = "appeals",
    params(ListQuery),
    responses(
        (status = 200, description = "The appeals.", body = Vec<db::appeals::Appeal>),
    ),
)]
async fn list(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    Query(query): Query<ListQuery>,
) -> Result<Json<Vec<db::appeals::Appeal>>, ApiError> {
    let body = query.awarding_body_id;
    if ![
        Role::AwardingBodyStaff,
        Role::CommitteeMember,
        Role::CommitteeChair,
    ]
    .into_iter()
    .any(|role| principal.acts_for(role, body))
    {
        return Err(ApiError::Forbidden(
            "the body's staff and committee see its appeals".to_owned(),
        ));
    }
    let mut conn = state.pool.acquire().await?;
    let appeals = db::appeals::of_body(&mut conn, body).await?;
    // Each appeal carries its applicant's data (name, address, grounds): tracked for them.
    let reads: Vec<_> = appeals
        .iter()
        .filter_map(|a| {
            Some(kutse_service::data_reads::Read {
                person: a.lodged["applicant"]["isikukood"].as_str()?.to_owned(),
                what: "appeal",
                resource: a.id.to_string(),
            })
        })
        .collect();
    kutse_service::data_reads::announce::<kutse_messaging::catalogue::CommitteeDataRead>(
        &mut conn, &principal, &reads,
    )
    .await?;
    Ok(Json(appeals))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct Resolution {
    /// `upheld` or `dismissed`.
    outcome: String,
    /// Why, for the applicant.
    reasons: String,
}

/// The committee's chair resolves an appeal: upheld reopens the case, dismissed tells the
/// applicant why.
#[utoipa::path(
    post,
    path = "/appeals/{id}/resolution",
    tag = "appeals",
    params(("id" = Uuid, Path, description = "The appeal.")),
    request_body = Resolution,
    responses(
        (status = 200, description = "The appeal, resolved.", body = db::appeals::Appeal),
    ),
)]
async fn resolve(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    PathId(id): PathId,
    Json(input): Json<Resolution>,
) -> Result<Json<db::appeals::Appeal>, ApiError> {
    let mut errors = Vec::new();
    if !matches!(input.outcome.as_str(), "upheld" | "dismissed") {
        errors.push(FieldError::new("outcome", "upheld or dismissed"));
    }
    let reasons = input.reasons.trim();
    if reasons.is_empty() {
        errors.push(FieldError::new(
            "reasons",
            "the committee's reasons are required",
        ));
    }
    if !errors.is_empty() {
        return Err(ApiError::Invalid(errors));
    }
    let mut tx = state.pool.begin().await?;
    let appeal = db::appeals::lock(&mut tx, id)
        .await?
        .ok_or_else(|| ApiError::NotFound("appeal".to_owned()))?;
    let body = appeal.awarding_body_id;
    let today = kutse_domain::tallinn_today();
    let chairs = db::roster::holding(&mut tx, body, "committee_chair", today).await?;
    let is_chair = principal.acts_for(Role::CommitteeChair, body)
        && principal
            .isikukood
            .is_some_and(|code| chairs.contains(&code.to_string()));
    if !is_chair {
        return Err(ApiError::Forbidden(
            "the committee's chair records its resolution".to_owned(),
        ));
    }
    if appeal.status != "lodged" {
        return Err(ApiError::Conflict(format!(
            "the appeal is already {}",
            appeal.status
        )));
    }
    let lodged: AppealLodged =
        serde_json::from_value(appeal.lodged.clone()).map_err(|e| ApiError::Internal(e.into()))?;
    if principal.isikukood == Some(lodged.applicant.isikukood) {
        return Err(ApiError::Forbidden(
            "nobody resolves their own appeal".to_owned(),
        ));
    }
    // An application on a protocol the register has not answered yet cannot be reopened: that
    // protocol would be checked against a decision that no longer stands.
    if input.outcome == "upheld"
        && db::agenda::awaiting_register(&mut tx, appeal.application_id).await?
    {
        return Err(ApiError::Conflict(
            "the application is on a protocol the register has not answered yet; resolve the appeal once it has".to_owned(),
        ));
    }
    let now = Utc::now();
    db::appeals::resolve(
        &mut tx,
        id,
        &input.outcome,
        reasons,
        &principal.subject,
        now,
    )
    .await?;
    if input.outcome == "upheld" {
        db::agenda::reopen(&mut tx, appeal.application_id).await?;
    }
    let event = AppealResolved {
        appeal_id: id,
        application_id: appeal.application_id,
        awarding_body_id: body,
        against: lodged.against,
        outcome: input.outcome.clone(),
        reasons: reasons.to_owned(),
        resolved_at: now,
        applicant: lodged.applicant,
        qualification: lodged.qualification,
    };
    let envelope = Envelope::new(&event, Some(appeal.application_id))
        .map_err(|e| ApiError::Internal(e.into()))?;
    Outbox::enqueue(&mut tx, &envelope).await?;
    let resolved = db::appeals::lock(&mut tx, id)
        .await?
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("appeal {id} vanished")))?;
    tx.commit().await?;
    tracing::info!(appeal = %id, outcome = input.outcome.as_str(), "appeal resolved");
    Ok(Json(resolved))
}
