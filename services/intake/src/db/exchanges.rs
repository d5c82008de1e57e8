//! TARA ID tokens already exchanged at the token endpoint.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;

/// Records that ID token `jti` was exchanged for `scope`; `false` if it had been already.
/// Records past their token's expiry are pruned on the way.
pub async fn mark_exchanged(
    conn: &mut PgConnection,
    jti: &str,
    scope: &str,
    expires_at: DateTime<Utc>,
) -> sqlx::Result<bool> {
    sqlx::query("DELETE FROM exchanged_id_tokens WHERE expires_at < now() - interval '1 hour'")
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "INSERT INTO exchanged_id_tokens (jti, scope, expires_at) VALUES ($1, $2, $3)
         ON CONFLICT DO NOTHING",
    )
    .bind(jti)
    .bind(scope)
    .bind(expires_at)
    .execute(conn)
    .await
    .map(|r| r.rows_affected() == 1)
}
