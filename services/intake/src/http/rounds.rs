//! Application rounds (taotlusvoorud): deadline, fees per application kind, required documents
//! and certificate delivery options. A round cannot open without delivery options: applications
//! got stuck without them in the first stage.

use std::collections::{BTreeMap, HashSet};

use axum::extract::State;
use chrono::NaiveDate;
use kutse_auth::Authenticated;
use kutse_domain::{DocumentType, FileKind, Money};
use kutse_http::{ApiError, FieldError, Json, PathId};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use axum::response::Response;

use super::{AppState, created, replayed, require_staff_of};
use crate::db;
use crate::domain::{ApplicationKind, DeliveryOption};
use crate::idempotency::{self, IdempotencyKey};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create, list))
        .routes(routes!(read, update))
        .routes(routes!(close))
        .routes(routes!(public))
}

/// The fee of one kind of application.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct Fee {
    kind: ApplicationKind,
    amount_cents: Money,
}

/// A way the certificate may be delivered, and what it costs.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct Delivery {
    option: DeliveryOption,
    /// Default 0.
    #[serde(default)]
    cost_cents: Money,
}

/// A new round of a qualification.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct NewRound {
    qualification_id: Uuid,
    /// The last day to submit.
    deadline: NaiveDate,
    /// At least one; each application kind once.
    fees: Vec<Fee>,
    /// Document types (lowercase words joined by `_`, e.g. `employment_proof`).
    #[serde(default)]
    required_documents: Vec<String>,
    /// The kinds of file accepted per document type, e.g. `{"cv": ["pdf", "docx"]}`; types not
    /// named take what the documents service accepts.
    #[serde(default)]
    allowed_types: BTreeMap<String, Vec<String>>,
    /// At least one; each option once.
    delivery_options: Vec<Delivery>,
}

/// A round.
#[derive(Debug, Serialize, ToSchema)]
struct RoundView {
    id: Uuid,
    awarding_body_id: Uuid,
    qualification_id: Uuid,
    /// The last day to submit.
    deadline: NaiveDate,
    /// Not closed.
    open: bool,
    fees: Vec<Fee>,
    required_documents: Vec<String>,
    /// The kinds of file accepted per document type.
    #[schema(value_type = BTreeMap<DocumentType, Vec<FileKind>>)]
    allowed_types: db::rounds::AllowedTypes,
    delivery_options: Vec<Delivery>,
    /// An outside page with more information about the round.
    info_url: Option<String>,
    /// The published prerequisites of applying.
    prerequisites: Option<String>,
}

/// The round's kinds of file per document type, parsed; every bad name is an error naming it.
fn allowed_types(
    input: &BTreeMap<String, Vec<String>>,
    errors: &mut Vec<FieldError>,
) -> db::rounds::AllowedTypes {
    let mut allowed = db::rounds::AllowedTypes::new();
    for (document_type, kinds) in input {
        let Ok(parsed_type) = DocumentType::parse(document_type) else {
            errors.push(FieldError::new(
                format!("allowed_types.{document_type}"),
                "document types are lowercase words joined by _ (e.g. cv)",
            ));
            continue;
        };
        if kinds.is_empty() {
            errors.push(FieldError::new(
                format!("allowed_types.{document_type}"),
                "name at least one kind of file",
            ));
        }
        let mut parsed = Vec::new();
        for (i, kind) in kinds.iter().enumerate() {
            match FileKind::parse(kind) {
                Ok(kind) => parsed.push(kind),
                Err(e) => errors.push(FieldError::new(
                    format!("allowed_types.{document_type}[{i}]"),
                    e.to_string(),
                )),
            }
        }
        allowed.insert(parsed_type, parsed);
    }
    allowed
}

fn validate(input: &NewRound) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if input.fees.is_empty() {
        errors.push(FieldError::new(
            "fees",
            "a round needs a fee for at least one application kind",
        ));
    }
    let mut kinds = HashSet::new();
    for (i, fee) in input.fees.iter().enumerate() {
        if !kinds.insert(fee.kind) {
            errors.push(FieldError::new(format!("fees[{i}].kind"), "appears twice"));
        }
    }
    if input.delivery_options.is_empty() {
        errors.push(FieldError::new(
            "delivery_options",
            "a round cannot open without certificate delivery options",
        ));
    }
    let mut options = HashSet::new();
    for (i, d) in input.delivery_options.iter().enumerate() {
        if !options.insert(d.option) {
            errors.push(FieldError::new(
                format!("delivery_options[{i}].option"),
                "appears twice",
            ));
        }
    }
    for (i, doc) in input.required_documents.iter().enumerate() {
        let ok = !doc.is_empty()
            && doc.len() <= 50
            && doc.bytes().all(|b| b.is_ascii_lowercase() || b == b'_');
        if !ok {
            errors.push(FieldError::new(
                format!("required_documents[{i}]"),
                "document types are lowercase words joined by _ (e.g. employment_proof)",
            ));
        }
    }
    errors
}

/// Opens a round: staff of the qualification's awarding body.
#[utoipa::path(
    post,
    path = "/rounds",
    tag = "rounds",
    operation_id = "create_round",
    params(
        ("Idempotency-Key" = Option<String>, Header, description = "1-255 characters: a retry with the same key and body gets the first response again."),
    ),
    request_body = NewRound,
    responses(
        (status = 201, description = "Opened (also the saved answer when replayed with the same `Idempotency-Key`).", body = RoundView),
    ),
)]
async fn create(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    key: IdempotencyKey,
    Json(input): Json<NewRound>,
) -> Result<Response, ApiError> {
    let scope = key.scope(&principal.subject, "POST /rounds", &input);
    let mut tx = state.pool.begin().await?;
    if let Some(response) = replayed(idempotency::replay(&mut tx, scope.as_ref()).await?) {
        return Ok(response);
    }
    let body = db::rounds::qualification_body(&mut tx, input.qualification_id)
        .await?
        .ok_or_else(|| ApiError::invalid("qualification_id", "no such qualification"))?;
    require_staff_of(&principal, body)?;
    let mut errors = validate(&input);
    let allowed = allowed_types(&input.allowed_types, &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::Invalid(errors));
    }
    let id = Uuid::now_v7();
    db::rounds::insert(
        &mut tx,
        &db::rounds::NewRound {
            id,
            awarding_body_id: body,
            qualification_id: input.qualification_id,
            deadline: input.deadline,
            required_documents: &input.required_documents,
            allowed_types: &allowed,
            fees: input
                .fees
                .iter()
                .map(|f| (f.kind, f.amount_cents))
                .collect(),
            delivery_options: input
                .delivery_options
                .iter()
                .map(|d| (d.option, d.cost_cents))
                .collect(),
        },
    )
    .await?;
    let view = RoundView {
        id,
        awarding_body_id: body,
        qualification_id: input.qualification_id,
        deadline: input.deadline,
        open: true,
        fees: input.fees,
        required_documents: input.required_documents,
        allowed_types: allowed,
        delivery_options: input.delivery_options,
        info_url: None,
        prerequisites: None,
    };
    let response = created(&mut tx, scope.as_ref(), &view).await?;
    tx.commit().await?;
    tracing::info!(round = %id, "round opened");
    Ok(response)
}

/// A round: anyone signed in.
#[utoipa::path(
    get,
    path = "/rounds/{id}",
    tag = "rounds",
    operation_id = "read_round",
    params(("id" = Uuid, Path, description = "The round.")),
    responses(
        (status = 200, description = "The round.", body = RoundView),
    ),
)]
async fn read(
    State(state): State<AppState>,
    Authenticated(_): Authenticated,
    PathId(id): PathId,
) -> Result<Json<RoundView>, ApiError> {
    load(&state, id).await.map(Json)
}

async fn load(state: &AppState, id: Uuid) -> Result<RoundView, ApiError> {
    let mut conn = state.pool.acquire().await?;
    let round = db::rounds::find(&mut conn, id)
        .await?
        .ok_or_else(|| ApiError::NotFound("round".to_owned()))?;
    let (info_url, prerequisites) = db::desk::extras(&mut conn, id).await?;
    Ok(RoundView {
        info_url,
        prerequisites,
        id,
        awarding_body_id: round.awarding_body_id,
        qualification_id: round.qualification_id,
        deadline: round.deadline,
        open: round.open,
        fees: round
            .fees
            .into_iter()
            .map(|(kind, amount_cents)| Fee { kind, amount_cents })
            .collect(),
        required_documents: round.required_documents,
        allowed_types: round.allowed_types,
        delivery_options: round
            .delivery_options
            .into_iter()
            .map(|(option, cost_cents)| Delivery { option, cost_cents })
            .collect(),
    })
}

/// Closes a round to new applications: staff of its awarding body.
#[utoipa::path(
    post,
    path = "/rounds/{id}/close",
    tag = "rounds",
    operation_id = "close_round",
    params(("id" = Uuid, Path, description = "The round.")),
    responses(
        (status = 200, description = "Closed: the round as it is now.", body = RoundView),
    ),
)]
async fn close(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    PathId(id): PathId,
) -> Result<Json<RoundView>, ApiError> {
    let round = load(&state, id).await?;
    require_staff_of(&principal, round.awarding_body_id)?;
    let mut conn = state.pool.acquire().await?;
    db::rounds::close(&mut conn, id).await?;
    drop(conn);
    load(&state, id).await.map(Json)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct BodyQuery {
    /// The awarding body whose rounds are listed.
    awarding_body_id: Uuid,
}

/// The body's rounds, for its staff: open or closed, with how many applications each has.
#[utoipa::path(
    get,
    path = "/rounds",
    tag = "rounds",
    operation_id = "list_rounds",
    params(BodyQuery),
    responses(
        (status = 200, description = "The body's rounds, newest deadline first.", body = Vec<db::desk::RoundRow>),
    ),
)]
async fn list(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    axum::extract::Query(query): axum::extract::Query<BodyQuery>,
) -> Result<Json<Vec<db::desk::RoundRow>>, ApiError> {
    require_staff_of(&principal, query.awarding_body_id)?;
    let mut conn = state.pool.acquire().await?;
    Ok(Json(
        db::desk::rounds(&mut conn, query.awarding_body_id).await?,
    ))
}

/// A change to a round; what is left out is kept.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct RoundChange {
    /// Not in the past.
    deadline: Option<NaiveDate>,
    /// Document types (lowercase words joined by `_`).
    required_documents: Option<Vec<String>>,
    /// `https://…`; an empty string removes it.
    info_url: Option<String>,
    /// An empty string removes them.
    prerequisites: Option<String>,
}

/// Changes a round before its first application: its deadline and required documents, and what
/// it publishes (the "more information" page, the prerequisites).
#[utoipa::path(
    patch,
    path = "/rounds/{id}",
    tag = "rounds",
    operation_id = "update_round",
    params(("id" = Uuid, Path, description = "The round: open, without applications.")),
    request_body = RoundChange,
    responses(
        (status = 200, description = "Changed: the round as it is now.", body = RoundView),
    ),
)]
async fn update(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    PathId(id): PathId,
    Json(input): Json<RoundChange>,
) -> Result<Json<RoundView>, ApiError> {
    require_staff_of(&principal, load(&state, id).await?.awarding_body_id)?;
    // Read under the round's lock: two changes at once apply one after the other, each on the
    // other's result (the lock is held by the transaction below, read on its own connection
    // only after it is granted).
    let mut tx = state.pool.begin().await?;
    db::desk::lock_round(&mut tx, id).await?;
    let current = load(&state, id).await?;
    let mut errors = Vec::new();
    let deadline = input.deadline.unwrap_or(current.deadline);
    if input.deadline.is_some() && deadline < kutse_domain::tallinn_today() {
        errors.push(FieldError::new("deadline", "not in the past"));
    }
    let required = input
        .required_documents
        .clone()
        .unwrap_or_else(|| current.required_documents.clone());
    for (i, d) in required.iter().enumerate() {
        if DocumentType::parse(d).is_err() {
            errors.push(FieldError::new(
                format!("required_documents[{i}]"),
                "a document type: lowercase words joined by _",
            ));
        }
    }
    let keep_or = |given: &Option<String>, current: &Option<String>| match given {
        Some(v) if v.trim().is_empty() => None,
        Some(v) => Some(v.trim().to_owned()),
        None => current.clone(),
    };
    let info_url = keep_or(&input.info_url, &current.info_url);
    if info_url
        .as_deref()
        .is_some_and(|u| !u.starts_with("https://") || u.len() > 2000)
    {
        errors.push(FieldError::new("info_url", "an https:// address"));
    }
    let prerequisites = keep_or(&input.prerequisites, &current.prerequisites);
    if !errors.is_empty() {
        return Err(ApiError::Invalid(errors));
    }
    if db::desk::applications_of_round(&mut tx, id).await? > 0 {
        return Err(ApiError::Conflict(
            "the round has applications; it changes only before the first".to_owned(),
        ));
    }
    if !current.open {
        return Err(ApiError::Conflict("the round is closed".to_owned()));
    }
    db::desk::update_round(
        &mut tx,
        id,
        deadline,
        &required,
        info_url.as_deref(),
        prerequisites.as_deref(),
    )
    .await?;
    tx.commit().await?;
    tracing::info!(round = %id, "round changed");
    load(&state, id).await.map(Json)
}

/// What a round publishes, readable without logging in: the qualification, the deadline, fees and
/// delivery costs, required documents, prerequisites and the "more information" page.
#[utoipa::path(
    get,
    path = "/public/rounds/{id}",
    tag = "rounds",
    operation_id = "public_round",
    security(()),
    params(("id" = Uuid, Path, description = "The round.")),
    responses(
        (status = 200, description = "The round as published: `id`, `awarding_body_id`, `qualification` (`id`, `name`, `level`), `deadline`, `open`, `fees` (`kind`, `amount_cents`), `delivery_options` (`option`, `cost_cents`), `required_documents`, `prerequisites` and `info_url` (each a string or `null`).", body = kutse_http::openapi::AnyJson),
    ),
)]
async fn public(
    State(state): State<AppState>,
    PathId(id): PathId,
) -> Result<Json<serde_json::Value>, ApiError> {
    let round = load(&state, id).await?;
    let mut conn = state.pool.acquire().await?;
    let qualification = db::qualifications::find(&mut conn, round.qualification_id)
        .await?
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("round without its qualification")))?;
    Ok(Json(serde_json::json!({
        "id": round.id,
        "awarding_body_id": round.awarding_body_id,
        "qualification": { "id": round.qualification_id, "name": qualification.name, "level": qualification.level },
        "deadline": round.deadline,
        "open": round.open,
        "fees": round.fees,
        "delivery_options": round.delivery_options,
        "required_documents": round.required_documents,
        "prerequisites": round.prerequisites,
        "info_url": round.info_url,
    })))
}
