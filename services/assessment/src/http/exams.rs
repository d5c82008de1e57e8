//! Exams (stage III): the body's exam events per round, applicants' registrations and the
//! assessors' results per competence, which the panel sees in the case.
//!
//! | route | who |
//! |---|---|
//! | `POST /exams` | staff of the body: `{awarding_body_id, round_id, starts_at, place, capacity, competences}` |
//! | `GET /exams?round_id=` | anyone logged in: the round's exam events and how full they are |
//! | `POST /exams/{id}/registrations` | an applicant with an application in the exam's round; never beyond capacity (409 when full) |
//! | `PUT /exams/{id}/results/{application_id}` | assessors assigned to the case: `{results: [{code, passed, note}]}` for the exam's competences |

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use kutse_auth::{Authenticated, Role};
use kutse_http::{ApiError, FieldError, Json, PathId};
use kutse_messaging::catalogue::ExamRegistered;
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
        .routes(routes!(create, list))
        .routes(routes!(register))
        .routes(routes!(results))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct NewExam {
    awarding_body_id: Uuid,
    round_id: Uuid,
    starts_at: DateTime<Utc>,
    place: String,
    capacity: u32,
    competences: Vec<String>,
}

/// The body's staff schedule an exam event for a round.
#[utoipa::path(
    post,
    path = "/exams",
    tag = "exams",
    request_body = NewExam,
    responses(
        (status = 201, description = "Scheduled.", body = db::exams::Exam),
    ),
)]
async fn create(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    Json(input): Json<NewExam>,
) -> Result<(StatusCode, Json<db::exams::Exam>), ApiError> {
    if !principal.acts_for(Role::AwardingBodyStaff, input.awarding_body_id) {
        return Err(ApiError::Forbidden(
            "only the body's staff publish exams".to_owned(),
        ));
    }
    let mut errors = Vec::new();
    let place = input.place.trim();
    if place.is_empty() {
        errors.push(FieldError::new("place", "where the exam is held"));
    }
    if input.capacity == 0 || input.capacity > 10_000 {
        errors.push(FieldError::new("capacity", "1-10000"));
    }
    let competences: Vec<String> = input
        .competences
        .iter()
        .map(|c| c.trim().to_owned())
        .filter(|c| !c.is_empty())
        .collect();
    if competences.is_empty() {
        errors.push(FieldError::new(
            "competences",
            "name the competences it assesses",
        ));
    }
    if input.starts_at < Utc::now() {
        errors.push(FieldError::new("starts_at", "in the future"));
    }
    if !errors.is_empty() {
        return Err(ApiError::Invalid(errors));
    }
    let id = Uuid::now_v7();
    let mut tx = state.pool.begin().await?;
    if db::exams::round_of_another_body(&mut tx, input.round_id, input.awarding_body_id).await? {
        return Err(ApiError::invalid(
            "round_id",
            "a round of another awarding body",
        ));
    }
    db::exams::insert(
        &mut tx,
        &db::exams::NewExam {
            id,
            awarding_body_id: input.awarding_body_id,
            round_id: input.round_id,
            starts_at: input.starts_at,
            place,
            capacity: i32::try_from(input.capacity).unwrap_or(i32::MAX),
            competences: &competences,
            created_by: &principal.subject,
        },
    )
    .await?;
    let exam = db::exams::find(&mut tx, id, false)
        .await?
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("exam {id} vanished")))?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(exam)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct RoundQuery {
    /// The round whose exams to list.
    round_id: Uuid,
}

/// A round's exam events, with their registrations so far.
#[utoipa::path(
    get,
    path = "/exams",
    tag = "exams",
    params(RoundQuery),
    responses(
        (status = 200, description = "The round's exams.", body = Vec<db::exams::Exam>),
    ),
)]
async fn list(
    State(state): State<AppState>,
    Authenticated(_): Authenticated,
    Query(query): Query<RoundQuery>,
) -> Result<Json<Vec<db::exams::Exam>>, ApiError> {
    let mut conn = state.pool.acquire().await?;
    Ok(Json(db::exams::of_round(&mut conn, query.round_id).await?))
}

/// An applicant registers for an exam of their round. The exam's row is locked while its
/// registrations are counted, so concurrent registrations never exceed its capacity.
#[utoipa::path(
    post,
    path = "/exams/{id}/registrations",
    tag = "exams",
    params(("id" = Uuid, Path, description = "The exam.")),
    responses(
        (status = 201, description = "Registered.", body = db::exams::Exam),
        (status = 200, description = "Already registered: the exam unchanged.", body = db::exams::Exam),
    ),
)]
async fn register(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    PathId(id): PathId,
) -> Result<(StatusCode, Json<db::exams::Exam>), ApiError> {
    let applicant = principal.person()?.to_string();
    let mut tx = state.pool.begin().await?;
    let exam = db::exams::find(&mut tx, id, true)
        .await?
        .ok_or_else(|| ApiError::NotFound("exam".to_owned()))?;
    let application =
        db::exams::case_in_round(&mut tx, exam.round_id, exam.awarding_body_id, &applicant)
            .await?
            .ok_or_else(|| {
                ApiError::Forbidden("you have no application in this exam's round".to_owned())
            })?;
    if exam.starts_at <= Utc::now() {
        return Err(ApiError::Conflict("the exam has begun".to_owned()));
    }
    if db::exams::is_registered(&mut tx, id, application).await? {
        return Ok((StatusCode::OK, Json(exam)));
    }
    if exam.registered >= i64::from(exam.capacity) {
        return Err(ApiError::Conflict(format!(
            "the exam is full ({} places)",
            exam.capacity
        )));
    }
    db::exams::register(&mut tx, id, application).await?;
    let case = db::cases::find(&mut tx, application, false)
        .await?
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("case {application} vanished")))?;
    let event = ExamRegistered {
        exam_id: id,
        application_id: application,
        applicant: case.submission.applicant.clone(),
        qualification: case.submission.qualification.clone(),
        starts_at: exam.starts_at,
        place: exam.place.clone(),
        competences: exam.competences.clone(),
    };
    let envelope =
        Envelope::new(&event, Some(application)).map_err(|e| ApiError::Internal(e.into()))?;
    Outbox::enqueue(&mut tx, &envelope).await?;
    let exam = db::exams::find(&mut tx, id, false)
        .await?
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("exam {id} vanished")))?;
    tx.commit().await?;
    tracing::info!(exam = %id, application = %application, "registered for an exam");
    Ok((StatusCode::CREATED, Json(exam)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct Results {
    results: Vec<ResultInput>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct ResultInput {
    code: String,
    passed: bool,
    #[serde(default)]
    note: Option<String>,
}

/// An assigned assessor enters the application's results of an exam, per competence.
#[utoipa::path(
    put,
    path = "/exams/{id}/results/{application_id}",
    tag = "exams",
    params(("id" = Uuid, Path, description = "The exam."), ("application_id" = Uuid, Path, description = "The application.")),
    request_body = Results,
    responses(
        (status = 200, description = "The application's results of this exam.", body = Vec<db::exams::ExamResult>),
    ),
)]
async fn results(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    Path((id, application)): Path<(Uuid, Uuid)>,
    Json(input): Json<Results>,
) -> Result<Json<Vec<db::exams::ExamResult>>, ApiError> {
    let mut tx = state.pool.begin().await?;
    let exam = db::exams::find(&mut tx, id, false)
        .await?
        .ok_or_else(|| ApiError::NotFound("exam".to_owned()))?;
    let code = principal.person()?.to_string();
    let assigned = db::procedure::assessors(&mut tx, application)
        .await?
        .contains(&code);
    if !(principal.acts_for(Role::Assessor, exam.awarding_body_id) && assigned) {
        return Err(ApiError::Forbidden(
            "only assessors assigned to the case enter its results".to_owned(),
        ));
    }
    // Results feed the panel's decision: once it is made, they change nothing.
    db::cases::lock(&mut tx, application).await?;
    let progress = db::cases::progress(&mut tx, application).await?;
    if progress.status != "open" {
        return Err(ApiError::Conflict(
            "the panel has decided this case; its exam results are final".to_owned(),
        ));
    }
    if !db::exams::is_registered(&mut tx, id, application).await? {
        return Err(ApiError::invalid(
            "application_id",
            "not registered for this exam",
        ));
    }
    let mut errors = Vec::new();
    if input.results.is_empty() {
        errors.push(FieldError::new("results", "at least one"));
    }
    for (i, r) in input.results.iter().enumerate() {
        if !exam.competences.contains(&r.code) {
            errors.push(FieldError::new(
                format!("results[{i}].code"),
                "not a competence this exam assesses",
            ));
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::Invalid(errors));
    }
    for r in &input.results {
        let note = r.note.as_deref().map(str::trim).filter(|n| !n.is_empty());
        db::exams::record_result(
            &mut tx,
            id,
            application,
            &r.code,
            r.passed,
            note,
            &principal.subject,
        )
        .await?;
    }
    let all = db::exams::results_of(&mut tx, application).await?;
    tx.commit().await?;
    Ok(Json(all))
}
