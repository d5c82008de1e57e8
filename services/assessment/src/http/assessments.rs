//! The assessment API.
//!
//! | route | who |
//! |---|---|
//! | `GET /assessments/{application_id}` | assessors and staff of the body; the applicant |
//! | `PUT /assessments/{application_id}/competences/{code}` | assessors of the body |
//! | `POST /assessments/{application_id}/decision` | assessors of the body: completes the decision |

use axum::Router;
use axum::extract::{Path, State};
use axum::routing::{get, post, put};
use chrono::{DateTime, NaiveDate, Utc};
use kutse_auth::{Authenticated, Principal, Role};
use kutse_http::{ApiError, FieldError, Json};
use kutse_messaging::Envelope;
use kutse_messaging::catalogue::{AssessmentDecided, CompetenceDecision};
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;
use uuid::Uuid;

use super::AppState;
use crate::db::{self, cases::Case};
use crate::domain::CaseStatus;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/assessments/{id}", get(read))
        .route(
            "/assessments/{id}/competences/{code}",
            put(decide_competence),
        )
        .route("/assessments/{id}/decision", post(complete))
}

#[derive(Debug, Serialize)]
struct CaseView {
    application_id: Uuid,
    status: CaseStatus,
    round_deadline: NaiveDate,
    review_due: NaiveDate,
    competences: Vec<CompetenceView>,
    recommendations: Option<String>,
    decided_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize)]
struct CompetenceView {
    code: String,
    name: String,
    accepted: Option<bool>,
    justification: Option<String>,
}

/// Loads a case if the caller may see it: assessors and staff of its body, or its applicant.
/// Anyone else gets 404, as if there were no case.
async fn case_for(
    conn: &mut PgConnection,
    principal: &Principal,
    raw_id: &str,
    lock: bool,
) -> Result<(Uuid, Case), ApiError> {
    let id: Uuid = raw_id
        .parse()
        .map_err(|_| ApiError::NotFound("assessment case".to_owned()))?;
    let case = db::cases::find(conn, id, lock)
        .await?
        .ok_or_else(|| ApiError::NotFound("assessment case".to_owned()))?;
    let panel = principal.acts_for(Role::Assessor, case.awarding_body_id)
        || principal.acts_for(Role::AwardingBodyStaff, case.awarding_body_id);
    let own = principal
        .isikukood
        .is_some_and(|c| c.to_string() == case.applicant);
    if panel || own {
        Ok((id, case))
    } else {
        Err(ApiError::NotFound("assessment case".to_owned()))
    }
}

fn require_assessor(principal: &Principal, case: &Case) -> Result<(), ApiError> {
    if principal.acts_for(Role::Assessor, case.awarding_body_id) {
        Ok(())
    } else {
        Err(ApiError::Forbidden(
            "only the body's assessors decide".to_owned(),
        ))
    }
}

async fn view(conn: &mut PgConnection, id: Uuid, case: &Case) -> Result<CaseView, ApiError> {
    let progress = db::cases::progress(conn, id).await?;
    let decided = db::cases::decisions(conn, id).await?;
    let competences = case
        .submission
        .competences
        .iter()
        .map(|c| {
            let decision = decided.iter().find(|d| d.code == c.code);
            CompetenceView {
                code: c.code.clone(),
                name: c.name.clone(),
                accepted: decision.map(|d| d.accepted),
                justification: decision.map(|d| d.justification.clone()),
            }
        })
        .collect();
    Ok(CaseView {
        application_id: id,
        status: CaseStatus::parse(&progress.status)
            .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("case {id}: unknown status")))?,
        round_deadline: progress.round_deadline,
        review_due: progress.review_due,
        competences,
        recommendations: progress.recommendations,
        decided_at: progress.decided_at,
    })
}

async fn read(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    Path(id): Path<String>,
) -> Result<Json<CaseView>, ApiError> {
    let mut conn = state.pool.acquire().await?;
    let (id, case) = case_for(&mut conn, &principal, &id, false).await?;
    view(&mut conn, id, &case).await.map(Json)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CompetenceInput {
    accepted: bool,
    justification: String,
}

/// The case, locked, if the caller is an assessor of its body and it is still open.
async fn open_case_for_assessor(
    conn: &mut PgConnection,
    principal: &Principal,
    raw_id: &str,
) -> Result<(Uuid, Case), ApiError> {
    let (id, case) = case_for(conn, principal, raw_id, true).await?;
    require_assessor(principal, &case)?;
    if case.status != CaseStatus::Open {
        return Err(ApiError::Conflict(
            "the decision is already complete".to_owned(),
        ));
    }
    Ok((id, case))
}

async fn decide_competence(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    Path((id, code)): Path<(String, String)>,
    Json(input): Json<CompetenceInput>,
) -> Result<Json<CaseView>, ApiError> {
    let mut tx = state.pool.begin().await?;
    let (id, case) = open_case_for_assessor(&mut tx, &principal, &id).await?;
    if !case.submission.competences.iter().any(|c| c.code == code) {
        return Err(ApiError::NotFound(format!(
            "competence {code} in this application"
        )));
    }
    let justification = input.justification.trim();
    if justification.is_empty() {
        return Err(ApiError::Invalid(vec![FieldError::new(
            "justification",
            "every decision needs a justification",
        )]));
    }
    db::cases::decide(
        &mut tx,
        id,
        &code,
        input.accepted,
        justification,
        &principal.subject,
    )
    .await?;
    let view = view(&mut tx, id, &case).await?;
    tx.commit().await?;
    Ok(Json(view))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CompleteInput {
    #[serde(default)]
    recommendations: Option<String>,
}

async fn complete(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    Path(id): Path<String>,
    Json(input): Json<CompleteInput>,
) -> Result<Json<CaseView>, ApiError> {
    let mut tx = state.pool.begin().await?;
    let (id, case) = open_case_for_assessor(&mut tx, &principal, &id).await?;
    let current = view(&mut tx, id, &case).await?;
    let undecided: Vec<FieldError> = current
        .competences
        .iter()
        .filter(|c| c.accepted.is_none())
        .map(|c| FieldError::new(format!("competences.{}", c.code), "not decided yet"))
        .collect();
    if !undecided.is_empty() {
        return Err(ApiError::Unprocessable {
            kind: "competences-undecided",
            detail: "every competence applied for must be decided first".to_owned(),
            errors: undecided,
        });
    }
    let decided_at = Utc::now();
    let recommendations = input
        .recommendations
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty());
    if !db::cases::mark_decided(&mut tx, id, decided_at, recommendations).await? {
        return Err(ApiError::Internal(anyhow::anyhow!(
            "case {id} left open while locked"
        )));
    }
    // Every competence was checked decided above; one that is not is a fault, not a refusal.
    let decisions: Vec<CompetenceDecision> = current
        .competences
        .iter()
        .map(|c| match (c.accepted, &c.justification) {
            (Some(accepted), Some(justification)) => Ok(CompetenceDecision {
                code: c.code.clone(),
                accepted,
                justification: justification.clone(),
            }),
            _ => Err(ApiError::Internal(anyhow::anyhow!(
                "competence {} of {id} undecided after the check",
                c.code
            ))),
        })
        .collect::<Result<_, _>>()?;
    let event = AssessmentDecided {
        application_id: id,
        round_id: case.submission.round_id,
        awarding_body_id: case.awarding_body_id,
        all_accepted: decisions.iter().all(|d| d.accepted),
        decisions,
        recommendations: input.recommendations,
        decided_at,
        review_due: current.review_due,
    };
    let envelope = Envelope::new(&event, Some(id)).map_err(|e| ApiError::Internal(e.into()))?;
    kutse_messaging::Outbox::enqueue(&mut tx, &envelope).await?;
    let view = view(&mut tx, id, &case).await?;
    tx.commit().await?;
    tracing::info!(application = %id, all_accepted = event.all_accepted, "assessment decided");
    Ok(Json(view))
}
