//! The assessment API.
//!
//! | route | who |
//! |---|---|
//! | `GET /assessments/{application_id}` | assessors and staff of the body; the applicant |
//! | `POST /assessments/{application_id}/assessors` | staff of the body: `{assessor}` (a personal code) assigned to the case |
//! | `POST /assessments/{application_id}/requests` | assessors assigned to the case: more documents wanted, `{documents: [{document_type, description}], reason, due_on}` |
//! | `POST /assessments/{application_id}/appeals` | the applicant: `{against: assessment\|committee, reasons, documents}`, within 30 days of being told (one in progress at a time) |
//! | `PUT /assessments/{application_id}/competences/{code}` | assessors assigned to the case: `{accepted, justification, evidence: [document ids]}` |
//! | `POST /assessments/{application_id}/decision` | assessors assigned to the case: completes the decision (numbered; the applicant must be told within 14 days) |
//!
//! The case shows its clocks as they stand (`review_due`, `decision_due`, from
//! `kutse_domain::clocks` with the working days requests were open) and what the sweep found
//! overdue.

use axum::extract::{Path, State};
use chrono::{DateTime, NaiveDate, Utc};
use kutse_auth::{Authenticated, Principal, Role};
use kutse_http::{ApiError, FieldError, Json};
use kutse_messaging::Envelope;
use kutse_messaging::catalogue::{AssessmentDecided, CompetenceDecision};
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::AppState;
use crate::db::{self, cases::Case};
use crate::domain::CaseStatus;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(read))
        .routes(routes!(decide_competence))
        .routes(routes!(complete))
        .routes(routes!(assign))
        .routes(routes!(request_documents))
        .routes(routes!(appeal))
}

/// An assessment case: the panel's decisions per competence, its clocks, requests and appeals.
#[derive(Debug, Serialize, ToSchema)]
struct CaseView {
    application_id: Uuid,
    status: CaseStatus,
    round_deadline: NaiveDate,
    review_due: NaiveDate,
    decision_due: NaiveDate,
    /// Working days added to both periods by closed requests for more documents.
    extension_working_days: i32,
    assessors: Vec<String>,
    requests: Vec<db::procedure::Request>,
    /// What is overdue now: found by the daily sweep and neither met nor moved since, `{clock, due}`.
    #[schema(value_type = Vec<Object>)]
    overdue: Vec<serde_json::Value>,
    competences: Vec<CompetenceView>,
    recommendations: Option<String>,
    decided_at: Option<DateTime<Utc>>,
    /// The decision's number, once decided.
    decision_number: Option<String>,
    /// The last day the applicant must be told the decision by (14 calendar days).
    notice_due: Option<NaiveDate>,
    /// When the decision mail was accepted by the mail server.
    noticed_at: Option<DateTime<Utc>>,
    appeals: Vec<db::appeals::Appeal>,
    /// Exam results per competence (stage III), which the panel weighs.
    exam_results: Vec<db::exams::ExamResult>,
}

/// One competence and the panel's decision on it.
#[derive(Debug, Serialize, ToSchema)]
struct CompetenceView {
    code: String,
    name: String,
    accepted: Option<bool>,
    justification: Option<String>,
    /// The documents the decision rests on.
    evidence: Vec<Uuid>,
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

/// The caller may act as the case's assessor: an assessor of its body, assigned to it.
async fn require_assessor(
    conn: &mut PgConnection,
    principal: &Principal,
    id: Uuid,
    case: &Case,
) -> Result<(), ApiError> {
    if !principal.acts_for(Role::Assessor, case.awarding_body_id) {
        return Err(ApiError::Forbidden(
            "only the body's assessors decide".to_owned(),
        ));
    }
    let code = principal.person()?.to_string();
    if !db::procedure::assessors(conn, id).await?.contains(&code) {
        return Err(ApiError::Forbidden(
            "only assessors assigned to this case by the body's staff act on it".to_owned(),
        ));
    }
    Ok(())
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
                evidence: decision.map(|d| d.evidence.clone()).unwrap_or_default(),
            }
        })
        .collect();
    let extension = u32::try_from(progress.extension_days).unwrap_or(0);
    // Only findings that stand: a clock met since, or moved by a request that closed, is not
    // overdue any more.
    let mut overdue: Vec<_> = db::procedure::outstanding(conn, Some(id))
        .await?
        .into_iter()
        .filter(crate::sweep::stands)
        .map(|item| (item.due, item.clock))
        .collect();
    overdue.sort();
    let overdue = overdue
        .into_iter()
        .map(|(due, clock)| serde_json::json!({ "clock": clock, "due": due }))
        .collect();
    Ok(CaseView {
        application_id: id,
        status: CaseStatus::parse(&progress.status)
            .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("case {id}: unknown status")))?,
        round_deadline: progress.round_deadline,
        review_due: kutse_domain::clocks::review_due(progress.round_deadline, extension),
        decision_due: kutse_domain::clocks::decision_due(progress.round_deadline, extension),
        extension_working_days: progress.extension_days,
        assessors: db::procedure::assessors(conn, id).await?,
        requests: db::procedure::requests(conn, id).await?,
        overdue,
        competences,
        recommendations: progress.recommendations,
        decided_at: progress.decided_at,
        decision_number: progress.decision_number,
        notice_due: progress.notice_due,
        noticed_at: progress.noticed_at,
        appeals: db::appeals::of(conn, id).await?,
        exam_results: db::exams::results_of(conn, id).await?,
    })
}

/// A case, for the assessors and staff of its body and its applicant.
#[utoipa::path(
    get,
    path = "/assessments/{id}",
    tag = "assessments",
    params(("id" = Uuid, Path, description = "The application (its case has its id).")),
    responses(
        (status = 200, description = "The case as it stands now.", body = CaseView),
    ),
)]
async fn read(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    Path(id): Path<String>,
) -> Result<Json<CaseView>, ApiError> {
    let mut conn = state.pool.acquire().await?;
    let (id, case) = case_for(&mut conn, &principal, &id, false).await?;
    let view = view(&mut conn, id, &case).await?;
    // The panel reading someone's case: tracked for them.
    kutse_service::data_reads::announce::<kutse_messaging::catalogue::AssessmentDataRead>(
        &mut conn,
        &principal,
        &[kutse_service::data_reads::Read {
            person: case.applicant.clone(),
            what: "assessment case",
            resource: id.to_string(),
        }],
    )
    .await?;
    Ok(Json(for_caller(view, &principal, &case)))
}

/// The view as the caller may see it: the applicant sees how many assessors there are, never
/// their personal codes (roles and bodies, not other people's identities).
fn for_caller(mut view: CaseView, principal: &Principal, case: &Case) -> CaseView {
    let panel = principal.acts_for(Role::Assessor, case.awarding_body_id)
        || principal.acts_for(Role::AwardingBodyStaff, case.awarding_body_id);
    if !panel {
        view.assessors = view
            .assessors
            .iter()
            .map(|_| "assessor".to_owned())
            .collect();
    }
    view
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct CompetenceInput {
    accepted: bool,
    justification: String,
    /// The documents (ids, of this application) the decision rests on.
    #[serde(default)]
    evidence: Vec<Uuid>,
}

/// The case, locked, if the caller is an assessor of its body and it is still open.
async fn open_case_for_assessor(
    conn: &mut PgConnection,
    principal: &Principal,
    raw_id: &str,
) -> Result<(Uuid, Case), ApiError> {
    let (id, case) = case_for(conn, principal, raw_id, true).await?;
    require_assessor(conn, principal, id, &case).await?;
    if case.status != CaseStatus::Open {
        return Err(ApiError::Conflict(
            "the decision is already complete".to_owned(),
        ));
    }
    Ok((id, case))
}

/// An assigned assessor decides one competence, with the justification and the evidence.
#[utoipa::path(
    put,
    path = "/assessments/{id}/competences/{code}",
    tag = "assessments",
    params(("id" = Uuid, Path, description = "The application (its case has its id)."), ("code" = String, Path, description = "The competence's code, e.g. `B.2.1`.")),
    request_body = CompetenceInput,
    responses(
        (status = 200, description = "The case as it stands now.", body = CaseView),
    ),
)]
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
    let mut errors = Vec::new();
    if justification.is_empty() {
        errors.push(FieldError::new(
            "justification",
            "every decision needs a justification",
        ));
    }
    let stored = db::cases::documents(&mut tx, id).await?;
    for (i, document) in input.evidence.iter().enumerate() {
        if !stored.contains(document) {
            errors.push(FieldError::new(
                format!("evidence[{i}]"),
                "not a document of this application (stored and scanned clean)",
            ));
        }
    }
    // The exam feeds the decision: a competence whose latest exam result is a fail is accepted
    // only on documents that prove it otherwise (recognition of prior learning), named as
    // evidence.
    let failed_exam = db::exams::results_of(&mut tx, id)
        .await?
        .into_iter()
        .filter(|r| r.code == code)
        .max_by_key(|r| r.starts_at)
        .is_some_and(|r| !r.passed);
    if input.accepted && failed_exam && input.evidence.is_empty() {
        errors.push(FieldError::new(
            "evidence",
            "the competence's exam was failed: accepting it needs the documents that prove it",
        ));
    }
    if !errors.is_empty() {
        return Err(ApiError::Invalid(errors));
    }
    let mut evidence = input.evidence.clone();
    evidence.sort();
    evidence.dedup();
    db::cases::decide(
        &mut tx,
        id,
        &code,
        input.accepted,
        justification,
        &evidence,
        &principal.subject,
    )
    .await?;
    let view = view(&mut tx, id, &case).await?;
    tx.commit().await?;
    Ok(Json(view))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct CompleteInput {
    #[serde(default)]
    recommendations: Option<String>,
}

/// An assigned assessor completes the panel's decision once every competence is decided.
#[utoipa::path(
    post,
    path = "/assessments/{id}/decision",
    tag = "assessments",
    params(("id" = Uuid, Path, description = "The application (its case has its id).")),
    request_body = CompleteInput,
    responses(
        (status = 200, description = "The case as it stands now.", body = CaseView),
    ),
)]
async fn complete(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    Path(id): Path<String>,
    Json(input): Json<CompleteInput>,
) -> Result<Json<CaseView>, ApiError> {
    let mut tx = state.pool.begin().await?;
    let (id, case) = open_case_for_assessor(&mut tx, &principal, &id).await?;
    let current = view(&mut tx, id, &case).await?;
    let open_requests = current
        .requests
        .iter()
        .filter(|r| r.closed_on.is_none())
        .count();
    if open_requests > 0 {
        return Err(ApiError::Conflict(format!(
            "{open_requests} request(s) for more documents are still open: the decision waits until they are answered or expire"
        )));
    }
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
    let decided_on = kutse_domain::tallinn_date(decided_at);
    let decision_number =
        db::cases::next_decision_number(&mut tx, chrono::Datelike::year(&decided_on)).await?;
    let notice_due = kutse_domain::clocks::notice_due(decided_on);
    let message_id = Uuid::now_v7();
    if !db::cases::mark_decided(
        &mut tx,
        id,
        decided_at,
        recommendations,
        &decision_number,
        notice_due,
        message_id,
    )
    .await?
    {
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
                evidence: c.evidence.clone(),
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
        decision_number: Some(decision_number),
        notice_due: Some(notice_due),
    };
    let mut envelope = Envelope::new(&event, Some(id)).map_err(|e| ApiError::Internal(e.into()))?;
    // The notice of this decision is matched to it by the message's id.
    envelope.id = message_id;
    kutse_messaging::Outbox::enqueue(&mut tx, &envelope).await?;
    let view = view(&mut tx, id, &case).await?;
    tx.commit().await?;
    tracing::info!(application = %id, all_accepted = event.all_accepted, "assessment decided");
    Ok(Json(view))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct AssignInput {
    /// The assessor's personal code (`EE` prefix optional).
    assessor: String,
}

/// Assigns an assessor to the case: the body's staff, never the applicant themselves.
#[utoipa::path(
    post,
    path = "/assessments/{id}/assessors",
    tag = "assessments",
    params(("id" = Uuid, Path, description = "The application (its case has its id).")),
    request_body = AssignInput,
    responses(
        (status = 201, description = "Assigned.", body = CaseView),
        (status = 200, description = "Already assigned: the case unchanged.", body = CaseView),
    ),
)]
async fn assign(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    Path(id): Path<String>,
    Json(input): Json<AssignInput>,
) -> Result<(axum::http::StatusCode, Json<CaseView>), ApiError> {
    let mut tx = state.pool.begin().await?;
    let (id, case) = case_for(&mut tx, &principal, &id, true).await?;
    if !principal.acts_for(Role::AwardingBodyStaff, case.awarding_body_id) {
        return Err(ApiError::Forbidden(
            "only the body's staff assign assessors".to_owned(),
        ));
    }
    if principal.is_person(&case.applicant) {
        return Err(ApiError::Forbidden(
            "nobody assigns assessors to their own application".to_owned(),
        ));
    }
    let assessor = kutse_domain::Isikukood::from_subject(input.assessor.trim())
        .or_else(|_| kutse_domain::Isikukood::parse(input.assessor.trim()))
        .map_err(|e| ApiError::invalid("assessor", format!("not a personal code: {e}")))?
        .to_string();
    if assessor == case.applicant {
        return Err(ApiError::invalid(
            "assessor",
            "the applicant cannot assess their own application",
        ));
    }
    if case.status != CaseStatus::Open {
        return Err(ApiError::Conflict(
            "the decision is already complete".to_owned(),
        ));
    }
    let added = db::procedure::assign(&mut tx, id, &assessor, &principal.subject).await?;
    let view = view(&mut tx, id, &case).await?;
    tx.commit().await?;
    if added {
        tracing::info!(application = %id, "assessor assigned");
    }
    let status = if added {
        axum::http::StatusCode::CREATED
    } else {
        axum::http::StatusCode::OK
    };
    Ok((status, Json(view)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct RequestInput {
    documents: Vec<RequestedInput>,
    reason: String,
    due_on: NaiveDate,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct RequestedInput {
    document_type: String,
    description: String,
}

/// The longest a request may stay open, in calendar days.
const MAX_REQUEST_DAYS: i64 = 60;

/// An assigned assessor asks the applicant for more documents.
#[utoipa::path(
    post,
    path = "/assessments/{id}/requests",
    tag = "assessments",
    params(("id" = Uuid, Path, description = "The application (its case has its id).")),
    request_body = RequestInput,
    responses(
        (status = 201, description = "Requested; the case's clocks stop until it is answered.", body = CaseView),
    ),
)]
async fn request_documents(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    Path(id): Path<String>,
    Json(input): Json<RequestInput>,
) -> Result<(axum::http::StatusCode, Json<CaseView>), ApiError> {
    let today = kutse_domain::tallinn_today();
    let mut errors = Vec::new();
    if input.documents.is_empty() {
        errors.push(FieldError::new("documents", "name at least one document"));
    }
    let mut documents = Vec::new();
    for (i, d) in input.documents.iter().enumerate() {
        match kutse_domain::DocumentType::parse(d.document_type.trim()) {
            Ok(t) => documents.push(kutse_messaging::catalogue::RequestedDocument {
                document_type: t,
                description: d.description.trim().to_owned(),
            }),
            Err(_) => errors.push(FieldError::new(
                format!("documents[{i}].document_type"),
                "a document type: lowercase words joined by _ (e.g. employment_proof)",
            )),
        }
        if d.description.trim().is_empty() {
            errors.push(FieldError::new(
                format!("documents[{i}].description"),
                "say what is wanted",
            ));
        }
    }
    let reason = input.reason.trim();
    if reason.is_empty() {
        errors.push(FieldError::new(
            "reason",
            "say why the documents are needed",
        ));
    }
    if input.due_on < today || (input.due_on - today).num_days() > MAX_REQUEST_DAYS {
        errors.push(FieldError::new(
            "due_on",
            format!("from today to {MAX_REQUEST_DAYS} days ahead"),
        ));
    }
    if !errors.is_empty() {
        return Err(ApiError::Invalid(errors));
    }
    let mut tx = state.pool.begin().await?;
    let (id, case) = open_case_for_assessor(&mut tx, &principal, &id).await?;
    let request_id = Uuid::now_v7();
    let requested_at = Utc::now();
    db::procedure::insert_request(
        &mut tx,
        &db::procedure::NewRequest {
            id: request_id,
            application_id: id,
            documents: serde_json::to_value(&documents)
                .map_err(|e| ApiError::Internal(e.into()))?,
            reason,
            due_on: input.due_on,
            requested_by: &principal.subject,
            requested_on: kutse_domain::tallinn_date(requested_at),
        },
    )
    .await?;
    let event = kutse_messaging::catalogue::DocumentsRequested {
        request_id,
        application_id: id,
        awarding_body_id: case.awarding_body_id,
        applicant: case.submission.applicant.clone(),
        qualification: case.submission.qualification.clone(),
        documents,
        reason: reason.to_owned(),
        due_on: input.due_on,
        requested_at,
    };
    let envelope = Envelope::new(&event, Some(id)).map_err(|e| ApiError::Internal(e.into()))?;
    kutse_messaging::Outbox::enqueue(&mut tx, &envelope).await?;
    let view = view(&mut tx, id, &case).await?;
    tx.commit().await?;
    tracing::info!(application = %id, request = %request_id, "more documents requested");
    Ok((axum::http::StatusCode::CREATED, Json(view)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct AppealInput {
    /// `assessment` (the panel's decision) or `committee` (the committee's refusal).
    against: String,
    reasons: String,
    #[serde(default)]
    documents: Vec<Uuid>,
}

/// The applicant contests the panel's decision or the committee's refusal, within 30 days of
/// being told (`kutse_domain::clocks::appeal_until`).
#[utoipa::path(
    post,
    path = "/assessments/{id}/appeals",
    tag = "assessments",
    params(("id" = Uuid, Path, description = "The application (its case has its id).")),
    request_body = AppealInput,
    responses(
        (status = 201, description = "Lodged.", body = CaseView),
    ),
)]
async fn appeal(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    Path(id): Path<String>,
    Json(input): Json<AppealInput>,
) -> Result<(axum::http::StatusCode, Json<CaseView>), ApiError> {
    let mut tx = state.pool.begin().await?;
    let (id, case) = case_for(&mut tx, &principal, &id, true).await?;
    if !principal.is_person(&case.applicant) {
        return Err(ApiError::Forbidden(
            "only the applicant lodges an appeal".to_owned(),
        ));
    }
    let mut errors = Vec::new();
    let reasons = input.reasons.trim();
    if reasons.is_empty() || reasons.chars().count() > 10_000 {
        errors.push(FieldError::new("reasons", "say why (1-10000 characters)"));
    }
    let stored = db::cases::documents(&mut tx, id).await?;
    for (i, document) in input.documents.iter().enumerate() {
        if !stored.contains(document) {
            errors.push(FieldError::new(
                format!("documents[{i}]"),
                "not a document of this application",
            ));
        }
    }
    let (awarded_at, noticed_at, refused_at) = db::cases::told(&mut tx, id).await?;
    // The period runs from being told; a decision not yet told may be contested already, with
    // no period running yet.
    let told = match input.against.as_str() {
        _ if awarded_at.is_some() => {
            return Err(ApiError::Conflict(
                "the qualification was awarded; there is no refusal to contest".to_owned(),
            ));
        }
        "assessment" if case.status == CaseStatus::Decided => noticed_at,
        "assessment" => {
            return Err(ApiError::Conflict(
                "the panel has not decided yet".to_owned(),
            ));
        }
        "committee" => match refused_at {
            Some(at) => Some(at),
            None => {
                return Err(ApiError::Conflict(
                    "the committee has not refused this application".to_owned(),
                ));
            }
        },
        _ => {
            errors.push(FieldError::new("against", "assessment or committee"));
            None
        }
    };
    if !errors.is_empty() {
        return Err(ApiError::Invalid(errors));
    }
    let now = Utc::now();
    if let Some(told) = told {
        let until = kutse_domain::clocks::appeal_until(kutse_domain::tallinn_date(told));
        if kutse_domain::tallinn_date(now) > until {
            return Err(ApiError::Unprocessable {
                kind: "appeal-period-over",
                detail: format!("an appeal was possible until {until} (30 days from being told)"),
                errors: vec![],
            });
        }
    }
    let appeal_id = Uuid::now_v7();
    let mut documents = input.documents.clone();
    documents.sort();
    documents.dedup();
    if !db::appeals::lodge(
        &mut tx,
        appeal_id,
        id,
        &input.against,
        reasons,
        &documents,
        now,
    )
    .await?
    {
        return Err(ApiError::Conflict(
            "an appeal of this application is already in progress".to_owned(),
        ));
    }
    let event = kutse_messaging::catalogue::AppealLodged {
        appeal_id,
        application_id: id,
        awarding_body_id: case.awarding_body_id,
        against: input.against.clone(),
        reasons: reasons.to_owned(),
        documents,
        lodged_at: now,
        applicant: case.submission.applicant.clone(),
        qualification: case.submission.qualification.clone(),
        awarding_body_email: case.submission.awarding_body_email.clone(),
    };
    let envelope = Envelope::new(&event, Some(id)).map_err(|e| ApiError::Internal(e.into()))?;
    kutse_messaging::Outbox::enqueue(&mut tx, &envelope).await?;
    // The appeal reaches the register through the portal's form (DVVK 323).
    kutse_service::exchanges::announce::<kutse_messaging::catalogue::AssessmentExchange>(
        &mut tx,
        "appeal.lodged",
        &appeal_id.to_string(),
        kutse_domain::Dvvk::WebForm,
    )
    .await?;
    let view = view(&mut tx, id, &case).await?;
    tx.commit().await?;
    tracing::info!(application = %id, appeal = %appeal_id, dvvk = 323, "appeal lodged");
    Ok((
        axum::http::StatusCode::CREATED,
        Json(for_caller(view, &principal, &case)),
    ))
}
