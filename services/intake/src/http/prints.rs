//! Paper prints after issuance: the holder of an electronic certificate orders it on paper with a
//! delivery option of its round (and that option's cost); the body works through its print queue
//! and marks each order sent — a paper document sent, DVVK channel 2.
//!
//! | route | who |
//! |---|---|
//! | `POST /applications/{id}/print-orders` | the applicant, once awarded: `{delivery_option: post\|pickup, address}` (an address for post) |
//! | `GET /desk/print-queue?awarding_body_id=` | the body's staff: orders not yet sent, oldest first |
//! | `POST /print-orders/{id}/sent` | the body's staff |

use axum::extract::{Query, State};
use axum::http::StatusCode;
use kutse_auth::Authenticated;
use kutse_domain::Dvvk;
use kutse_http::{ApiError, Json, PathId};
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::{AppState, require_staff_of};
use crate::db;
use crate::domain::{ApplicationStatus, DeliveryOption};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(order))
        .routes(routes!(queue))
        .routes(routes!(sent))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct NewOrder {
    delivery_option: DeliveryOption,
    #[serde(default)]
    address: Option<String>,
}

/// The holder orders their certificate on paper.
#[utoipa::path(
    post,
    path = "/applications/{id}/print-orders",
    tag = "prints",
    params(("id" = Uuid, Path, description = "The application.")),
    request_body = NewOrder,
    responses(
        (status = 201, description = "Ordered: the print order with its cost.", body = db::prints::PrintOrder),
    ),
)]
async fn order(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    PathId(id): PathId,
    Json(input): Json<NewOrder>,
) -> Result<(StatusCode, Json<db::prints::PrintOrder>), ApiError> {
    let mut tx = state.pool.begin().await?;
    let owner = db::applications::ownership(&mut tx, id)
        .await?
        .ok_or_else(|| ApiError::NotFound("application".to_owned()))?;
    if !principal.is_person(&owner.applicant) {
        return Err(ApiError::NotFound("application".to_owned()));
    }
    let status = db::applications::lock_status(&mut tx, id).await?;
    let number = db::prints::register_number(&mut tx, id).await?;
    let (Some(ApplicationStatus::Awarded), Some(number)) = (status, number) else {
        return Err(ApiError::Conflict(
            "no certificate has been issued on this application".to_owned(),
        ));
    };
    let record = db::applications::record(&mut tx, id).await?;
    let round = db::rounds::find(&mut tx, record.round_id)
        .await?
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("application without its round")))?;
    if input.delivery_option == DeliveryOption::Electronic {
        return Err(ApiError::invalid(
            "delivery_option",
            "a print is posted or picked up",
        ));
    }
    let Some((_, cost)) = round
        .delivery_options
        .iter()
        .find(|(option, _)| *option == input.delivery_option)
    else {
        return Err(ApiError::invalid(
            "delivery_option",
            "the round does not offer it",
        ));
    };
    let address = input
        .address
        .as_deref()
        .map(str::trim)
        .filter(|a| !a.is_empty());
    if input.delivery_option == DeliveryOption::Post && address.is_none() {
        return Err(ApiError::invalid("address", "where to post it"));
    }
    let order = db::prints::insert(
        &mut tx,
        &db::prints::NewOrder {
            id: Uuid::now_v7(),
            application_id: id,
            awarding_body_id: owner.awarding_body_id,
            register_number: &number,
            delivery_option: input.delivery_option.as_str(),
            address,
            cost_cents: cost.cents(),
        },
    )
    .await?;
    db::applications::add_history(
        &mut tx,
        id,
        "print_ordered",
        serde_json::json!({ "order_id": order.id, "delivery_option": order.delivery_option,
                             "cost_cents": order.cost_cents }),
    )
    .await?;
    // The holder's order is a document sent through the portal's form.
    db::dvvk_ledger::count(&mut tx, "print.ordered", order.id, Dvvk::WebForm).await?;
    tx.commit().await?;
    tracing::info!(application = %id, order = %order.id, "print ordered");
    Ok((StatusCode::CREATED, Json(order)))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct BodyQuery {
    awarding_body_id: Uuid,
}

/// The body's print queue.
#[utoipa::path(
    get,
    path = "/desk/print-queue",
    tag = "prints",
    params(BodyQuery),
    responses(
        (status = 200, description = "The body\'s print orders not yet sent.", body = Vec<db::prints::PrintOrder>),
    ),
)]
async fn queue(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    Query(query): Query<BodyQuery>,
) -> Result<Json<Vec<db::prints::PrintOrder>>, ApiError> {
    require_staff_of(&principal, query.awarding_body_id)?;
    let mut conn = state.pool.acquire().await?;
    let queue = db::prints::queue(&mut conn, query.awarding_body_id).await?;
    // The queue shows holders' postal addresses: tracked for each holder.
    let reads: Vec<_> = queue
        .iter()
        .map(|order| kutse_service::data_reads::Read {
            person: order.holder.clone(),
            what: "print order",
            resource: order.id.to_string(),
        })
        .collect();
    db::data_reads::track(&mut conn, &principal, &reads).await?;
    Ok(Json(queue))
}

/// The body's staff mark a print sent.
#[utoipa::path(
    post,
    path = "/print-orders/{id}/sent",
    tag = "prints",
    params(("id" = Uuid, Path, description = "The print order.")),
    responses(
        (status = 200, description = "Marked sent (posted or handed over).", body = db::prints::PrintOrder),
    ),
)]
async fn sent(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    PathId(id): PathId,
) -> Result<Json<db::prints::PrintOrder>, ApiError> {
    let mut tx = state.pool.begin().await?;
    let order = db::prints::lock(&mut tx, id)
        .await?
        .ok_or_else(|| ApiError::NotFound("print order".to_owned()))?;
    require_staff_of(&principal, order.awarding_body_id)?;
    if order.status == "sent" {
        return Err(ApiError::Conflict("the print was sent already".to_owned()));
    }
    let order = db::prints::sent(&mut tx, id, &principal.subject).await?;
    db::applications::add_history(
        &mut tx,
        order.application_id,
        "print_sent",
        serde_json::json!({ "order_id": order.id, "delivery_option": order.delivery_option,
                             "dvvk": Dvvk::Paper.code() }),
    )
    .await?;
    // Posted or handed over: a paper document.
    db::dvvk_ledger::count(&mut tx, "print.sent", order.id, Dvvk::Paper).await?;
    tx.commit().await?;
    Ok(Json(order))
}
