//! Application rounds (taotlusvoorud): deadline, fees per application kind, required documents
//! and certificate delivery options. A round cannot open without delivery options: applications
//! got stuck without them in the first stage.

use std::collections::HashSet;

use axum::Router;
use axum::extract::State;
use axum::routing::{get, post};
use chrono::NaiveDate;
use kutse_auth::Authenticated;
use kutse_domain::Money;
use kutse_http::{ApiError, FieldError, Json, PathId};
use serde::{Deserialize, Serialize};
use sqlx::Row;
use uuid::Uuid;

use axum::response::Response;

use super::{AppState, created, replayed, require_staff_of};
use crate::domain::{ApplicationKind, DeliveryOption};
use crate::idempotency::{self, IdempotencyKey};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/rounds", post(create))
        .route("/rounds/{id}", get(read))
        .route("/rounds/{id}/close", post(close))
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct Fee {
    kind: ApplicationKind,
    amount_cents: Money,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct Delivery {
    option: DeliveryOption,
    #[serde(default)]
    cost_cents: Money,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct NewRound {
    qualification_id: Uuid,
    deadline: NaiveDate,
    fees: Vec<Fee>,
    #[serde(default)]
    required_documents: Vec<String>,
    delivery_options: Vec<Delivery>,
}

#[derive(Debug, Serialize)]
struct RoundView {
    id: Uuid,
    awarding_body_id: Uuid,
    qualification_id: Uuid,
    deadline: NaiveDate,
    open: bool,
    fees: Vec<Fee>,
    required_documents: Vec<String>,
    delivery_options: Vec<Delivery>,
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
    let qualification = sqlx::query("SELECT awarding_body_id FROM qualifications WHERE id = $1")
        .bind(input.qualification_id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| ApiError::invalid("qualification_id", "no such qualification"))?;
    let body: Uuid = qualification.get("awarding_body_id");
    require_staff_of(&principal, body)?;
    let errors = validate(&input);
    if !errors.is_empty() {
        return Err(ApiError::Invalid(errors));
    }
    let id = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO rounds (id, awarding_body_id, qualification_id, deadline, required_documents)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(id)
    .bind(body)
    .bind(input.qualification_id)
    .bind(input.deadline)
    .bind(&input.required_documents)
    .execute(&mut *tx)
    .await?;
    for fee in &input.fees {
        sqlx::query("INSERT INTO round_fees (round_id, kind, amount_cents) VALUES ($1, $2, $3)")
            .bind(id)
            .bind(fee.kind.as_str())
            .bind(fee.amount_cents.cents())
            .execute(&mut *tx)
            .await?;
    }
    for d in &input.delivery_options {
        sqlx::query(
            "INSERT INTO round_delivery_options (round_id, option, cost_cents) VALUES ($1, $2, $3)",
        )
        .bind(id)
        .bind(d.option.as_str())
        .bind(d.cost_cents.cents())
        .execute(&mut *tx)
        .await?;
    }
    let view = RoundView {
        id,
        awarding_body_id: body,
        qualification_id: input.qualification_id,
        deadline: input.deadline,
        open: true,
        fees: input.fees,
        required_documents: input.required_documents,
        delivery_options: input.delivery_options,
    };
    let response = created(&mut tx, scope.as_ref(), &view).await?;
    tx.commit().await?;
    tracing::info!(round = %id, "round opened");
    Ok(response)
}

async fn read(
    State(state): State<AppState>,
    Authenticated(_): Authenticated,
    PathId(id): PathId,
) -> Result<Json<RoundView>, ApiError> {
    load(&state, id).await.map(Json)
}

async fn load(state: &AppState, id: Uuid) -> Result<RoundView, ApiError> {
    let row = sqlx::query(
        "SELECT awarding_body_id, qualification_id, deadline, required_documents, closed_at IS NULL AS open
           FROM rounds WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(&state.pool)
    .await?
    .ok_or_else(|| ApiError::NotFound("round".to_owned()))?;
    let fees = sqlx::query(
        "SELECT kind, amount_cents FROM round_fees WHERE round_id = $1 ORDER BY kind",
    )
    .bind(id)
    .fetch_all(&state.pool)
    .await?
    .into_iter()
    .filter_map(|r| {
        let kind: String = r.get("kind");
        let fee =
            serde_json::json!({ "kind": kind, "amount_cents": r.get::<i64, _>("amount_cents") });
        serde_json::from_value(fee).ok()
    })
    .collect();
    let delivery_options = sqlx::query(
        "SELECT option, cost_cents FROM round_delivery_options WHERE round_id = $1 ORDER BY option",
    )
    .bind(id)
    .fetch_all(&state.pool)
    .await?
    .into_iter()
    .filter_map(|r| {
        let option: String = r.get("option");
        let d =
            serde_json::json!({ "option": option, "cost_cents": r.get::<i64, _>("cost_cents") });
        serde_json::from_value(d).ok()
    })
    .collect();
    Ok(RoundView {
        id,
        awarding_body_id: row.get("awarding_body_id"),
        qualification_id: row.get("qualification_id"),
        deadline: row.get("deadline"),
        open: row.get("open"),
        fees,
        required_documents: row.get("required_documents"),
        delivery_options,
    })
}

async fn close(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    PathId(id): PathId,
) -> Result<Json<RoundView>, ApiError> {
    let round = load(&state, id).await?;
    require_staff_of(&principal, round.awarding_body_id)?;
    sqlx::query("UPDATE rounds SET closed_at = coalesce(closed_at, now()) WHERE id = $1")
        .bind(id)
        .execute(&state.pool)
        .await?;
    load(&state, id).await.map(Json)
}
