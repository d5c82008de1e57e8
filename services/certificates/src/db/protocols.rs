//! Every `protocol.signed` message that arrived, and what became of it: one receipt per message.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

/// A receipt's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReceiptStatus {
    Accepted,
    Rejected,
}

impl TryFrom<String> for ReceiptStatus {
    type Error = String;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        match s.as_str() {
            "accepted" => Ok(Self::Accepted),
            "rejected" => Ok(Self::Rejected),
            other => Err(format!("unknown receipt status {other:?}")),
        }
    }
}

/// What became of one delivery of a protocol.
#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Receipt {
    /// The `protocol.signed` message.
    pub message_id: Uuid,
    /// As read from the payload; unverified when the signature was what failed.
    pub protocol_id: Option<Uuid>,
    pub awarding_body_id: Option<Uuid>,
    pub session_id: Option<Uuid>,
    #[sqlx(try_from = "String")]
    pub status: ReceiptStatus,
    pub reason: Option<String>,
    /// `[{application_id, register_number}]` of an accepted protocol.
    pub issued: serde_json::Value,
    pub refused: Vec<Uuid>,
    pub received_at: DateTime<Utc>,
}

/// The receipts of a protocol id or of one message id, oldest first.
pub async fn receipts(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Vec<Receipt>> {
    sqlx::query_as(
        "SELECT message_id, protocol_id, awarding_body_id, session_id, status, reason, issued, refused, received_at
           FROM protocols WHERE protocol_id = $1 OR message_id = $1 ORDER BY received_at",
    )
    .bind(id)
    .fetch_all(conn)
    .await
}

/// Records an applied protocol (once per message).
pub async fn record_accepted(
    conn: &mut PgConnection,
    message_id: Uuid,
    protocol: &kutse_protocol::Protocol,
    issued: &serde_json::Value,
    refused: &[Uuid],
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO protocols (message_id, protocol_id, awarding_body_id, session_id, status, issued, refused)
         VALUES ($1, $2, $3, $4, 'accepted', $5, $6)
         ON CONFLICT (message_id) DO NOTHING",
    )
    .bind(message_id)
    .bind(protocol.protocol_id)
    .bind(protocol.awarding_body_id)
    .bind(protocol.session_id)
    .bind(issued)
    .bind(refused)
    .execute(conn)
    .await
    .map(|_| ())
}

/// A refused protocol, named as well as its unverified payload allows.
#[derive(Debug, Clone)]
pub struct Rejection<'a> {
    pub message_id: Uuid,
    pub protocol_id: Option<Uuid>,
    pub awarding_body_id: Option<Uuid>,
    pub session_id: Option<Uuid>,
    pub kid: Option<&'a str>,
    pub reason: &'a str,
}

/// Records a refused protocol; `false` if this message was recorded before.
pub async fn record_rejected(conn: &mut PgConnection, r: &Rejection<'_>) -> sqlx::Result<bool> {
    sqlx::query(
        "INSERT INTO protocols (message_id, protocol_id, awarding_body_id, session_id, kid, status, reason)
         VALUES ($1, $2, $3, $4, $5, 'rejected', $6)
         ON CONFLICT (message_id) DO NOTHING",
    )
    .bind(r.message_id)
    .bind(r.protocol_id)
    .bind(r.awarding_body_id)
    .bind(r.session_id)
    .bind(r.kid)
    .bind(r.reason)
    .execute(conn)
    .await
    .map(|res| res.rows_affected() == 1)
}
