//! Signer keys of committee chairs.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

/// A key that was activated (proposed keys never sign), as a signature is checked against it.
pub async fn find_activated(conn: &mut PgConnection, kid: &str) -> sqlx::Result<Option<SignerKey>> {
    sqlx::query_as("SELECT * FROM signer_keys WHERE kid = $1 AND activated_at IS NOT NULL")
        .bind(kid)
        .fetch_optional(conn)
        .await
}

/// A signer key as the register keeps it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SignerKey {
    pub kid: String,
    pub awarding_body_id: Uuid,
    /// The chair's personal code (absent only on keys registered before owners were recorded,
    /// all of them revoked).
    pub owner: Option<String>,
    pub public_key: String,
    #[sqlx(try_from = "String")]
    pub status: crate::domain::SignerStatus,
    pub registered_by: String,
    pub registered_at: DateTime<Utc>,
    pub activated_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub revocation_reason: Option<String>,
}

/// A key being registered.
#[derive(Debug, Clone)]
pub struct NewKey<'a> {
    pub kid: &'a str,
    pub awarding_body_id: Uuid,
    pub public_key: &'a str,
    pub owner: &'a str,
    pub registered_by: &'a str,
    /// Registered by the authority: active at once.
    pub active: bool,
}

/// Registers a key; a unique violation means the `kid` is taken.
pub async fn insert(conn: &mut PgConnection, key: &NewKey<'_>) -> sqlx::Result<SignerKey> {
    sqlx::query_as(
        "INSERT INTO signer_keys (kid, awarding_body_id, public_key, owner, registered_by, status, activated_at, confirmed_by)
         VALUES ($1, $2, $3, $4, $5,
                 CASE WHEN $6 THEN 'active' ELSE 'proposed' END,
                 CASE WHEN $6 THEN now() END,
                 CASE WHEN $6 THEN $5 END)
         RETURNING *",
    )
    .bind(key.kid)
    .bind(key.awarding_body_id)
    .bind(key.public_key)
    .bind(key.owner)
    .bind(key.registered_by)
    .bind(key.active)
    .fetch_one(conn)
    .await
}

/// The key, locked for a change.
pub async fn lock(conn: &mut PgConnection, kid: &str) -> sqlx::Result<Option<SignerKey>> {
    sqlx::query_as("SELECT * FROM signer_keys WHERE kid = $1 FOR UPDATE")
        .bind(kid)
        .fetch_optional(conn)
        .await
}

/// The owner confirms a proposed key: it becomes active.
pub async fn activate(conn: &mut PgConnection, kid: &str, by: &str) -> sqlx::Result<SignerKey> {
    sqlx::query_as(
        "UPDATE signer_keys SET status = 'active', activated_at = now(), confirmed_by = $2
          WHERE kid = $1 RETURNING *",
    )
    .bind(kid)
    .bind(by)
    .fetch_one(conn)
    .await
}

pub async fn revoke(
    conn: &mut PgConnection,
    kid: &str,
    effective_at: DateTime<Utc>,
    by: &str,
    reason: &str,
) -> sqlx::Result<SignerKey> {
    sqlx::query_as(
        "UPDATE signer_keys SET status = 'revoked', revoked_at = $2, revoked_by = $3, revocation_reason = $4
          WHERE kid = $1 RETURNING *",
    )
    .bind(kid)
    .bind(effective_at)
    .bind(by)
    .bind(reason)
    .fetch_one(conn)
    .await
}

/// Every key of a body, revoked ones too, oldest first.
pub async fn of_body(conn: &mut PgConnection, body: Uuid) -> sqlx::Result<Vec<SignerKey>> {
    sqlx::query_as("SELECT * FROM signer_keys WHERE awarding_body_id = $1 ORDER BY registered_at")
        .bind(body)
        .fetch_all(conn)
        .await
}
