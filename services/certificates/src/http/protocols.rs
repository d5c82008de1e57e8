//! What became of each signed protocol that arrived (`protocol.accepted` / `protocol.rejected`),
//! for the body's staff and the authority.

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use chrono::{DateTime, Utc};
use kutse_auth::{Authenticated, Role};
use kutse_http::{ApiError, Json, PathId};
use serde::Serialize;
use sqlx::Row;
use uuid::Uuid;

use super::AppState;

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/register/protocols/{id}", get(protocol_status))
}

/// What became of one delivery of a protocol.
#[derive(Debug, Serialize)]
struct ProtocolReceipt {
    /// The `protocol.signed` message.
    message_id: Uuid,
    protocol_id: Option<Uuid>,
    awarding_body_id: Option<Uuid>,
    session_id: Option<Uuid>,
    /// `accepted` or `rejected`.
    status: String,
    reason: Option<String>,
    issued: serde_json::Value,
    refused: Vec<Uuid>,
    received_at: DateTime<Utc>,
}

async fn protocol_status(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    PathId(id): PathId,
) -> Result<Json<Vec<ProtocolReceipt>>, ApiError> {
    let rows = sqlx::query(
        "SELECT message_id, protocol_id, awarding_body_id, session_id, status, reason, issued, refused, received_at
           FROM protocols WHERE protocol_id = $1 OR message_id = $1 ORDER BY received_at",
    )
    .bind(id)
    .fetch_all(&state.pool)
    .await?;
    let authority = principal.has_role(Role::Authority);
    let receipts: Vec<ProtocolReceipt> = rows
        .into_iter()
        .filter(|r| {
            authority
                || r.get::<Option<Uuid>, _>("awarding_body_id")
                    .is_some_and(|b| principal.acts_for(Role::AwardingBodyStaff, b))
        })
        .map(|r| ProtocolReceipt {
            message_id: r.get("message_id"),
            protocol_id: r.get("protocol_id"),
            awarding_body_id: r.get("awarding_body_id"),
            session_id: r.get("session_id"),
            status: r.get("status"),
            reason: r.get("reason"),
            issued: r.get("issued"),
            refused: r.get("refused"),
            received_at: r.get("received_at"),
        })
        .collect();
    if receipts.is_empty() {
        return Err(ApiError::NotFound("protocol".to_owned()));
    }
    Ok(Json(receipts))
}
