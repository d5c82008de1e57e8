//! The signer keys the register announced (`signer_key.activated` / `signer_key.revoked`).

use sqlx::PgConnection;
use uuid::Uuid;

/// Whether `owner` holds an unrevoked key of the body.
pub async fn owner_can_sign(
    conn: &mut PgConnection,
    body: Uuid,
    owner: &str,
) -> sqlx::Result<bool> {
    sqlx::query("SELECT 1 FROM signer_keys WHERE awarding_body_id = $1 AND owner = $2 AND revoked_at IS NULL")
        .bind(body)
        .bind(owner)
        .fetch_optional(conn)
        .await
        .map(|row| row.is_some())
}

/// The public key (base64url) of `kid`, if it is an unrevoked key of `owner` for the body.
pub async fn public_key(
    conn: &mut PgConnection,
    kid: &str,
    body: Uuid,
    owner: &str,
) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar(
        "SELECT public_key FROM signer_keys
          WHERE kid = $1 AND awarding_body_id = $2 AND owner = $3 AND revoked_at IS NULL",
    )
    .bind(kid)
    .bind(body)
    .bind(owner)
    .fetch_optional(conn)
    .await
}
