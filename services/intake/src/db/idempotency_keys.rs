//! Saved responses of requests made with an `Idempotency-Key` (see `crate::idempotency`).

use sqlx::PgConnection;

/// A saved response and the hash of the request that produced it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Saved {
    pub request_hash: String,
    pub status: i16,
    pub body: serde_json::Value,
}

/// The saved response for `key` of `subject`, if any.
pub async fn find(
    conn: &mut PgConnection,
    subject: &str,
    key: &str,
) -> sqlx::Result<Option<Saved>> {
    sqlx::query_as(
        "SELECT request_hash, status, body FROM idempotency_keys WHERE subject = $1 AND key = $2",
    )
    .bind(subject)
    .bind(key)
    .fetch_optional(conn)
    .await
}

/// Saves a response; a unique violation means the same key is in use by a request still running.
pub async fn save(
    conn: &mut PgConnection,
    subject: &str,
    key: &str,
    request_hash: &str,
    status: i16,
    body: &serde_json::Value,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO idempotency_keys (subject, key, request_hash, status, body)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(subject)
    .bind(key)
    .bind(request_hash)
    .bind(status)
    .bind(body)
    .execute(conn)
    .await
    .map(|_| ())
}
