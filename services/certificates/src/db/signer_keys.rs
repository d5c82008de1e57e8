//! Signer keys of committee chairs.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

/// A key that was once activated (proposed keys never sign), as a signature is checked against it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SigningKey {
    pub awarding_body_id: Uuid,
    /// Ed25519, base64url.
    pub public_key: String,
    /// The chair's personal code.
    pub owner: Option<String>,
    /// `active` or `revoked`.
    pub status: String,
    pub revoked_at: Option<DateTime<Utc>>,
}

pub async fn find_activated(
    conn: &mut PgConnection,
    kid: &str,
) -> sqlx::Result<Option<SigningKey>> {
    sqlx::query_as(
        "SELECT awarding_body_id, public_key, owner, status, revoked_at
           FROM signer_keys WHERE kid = $1 AND activated_at IS NOT NULL",
    )
    .bind(kid)
    .fetch_optional(conn)
    .await
}
