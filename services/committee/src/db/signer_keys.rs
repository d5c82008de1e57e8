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

/// Remembers a key the register activated (once: a redelivery changes nothing).
pub async fn activated(
    conn: &mut PgConnection,
    key: &kutse_messaging::catalogue::SignerKeyActivated,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO signer_keys (kid, awarding_body_id, owner, public_key, activated_at)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (kid) DO NOTHING",
    )
    .bind(&key.kid)
    .bind(key.awarding_body_id)
    .bind(key.owner.to_string())
    .bind(&key.public_key)
    .bind(key.activated_at)
    .execute(conn)
    .await
    .map(|_| ())
}

/// Marks a key revoked from its effective time; `false` if it is not known here (a proposed key
/// revoked before it was ever activated) or was revoked before.
pub async fn revoked(
    conn: &mut PgConnection,
    key: &kutse_messaging::catalogue::SignerKeyRevoked,
) -> sqlx::Result<bool> {
    sqlx::query(
        "UPDATE signer_keys SET revoked_at = $2, revocation_reason = $3
          WHERE kid = $1 AND revoked_at IS NULL",
    )
    .bind(&key.kid)
    .bind(key.effective_at)
    .bind(&key.reason)
    .execute(conn)
    .await
    .map(|r| r.rows_affected() == 1)
}
