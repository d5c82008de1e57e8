//! `signer_key.revoked`: the key signs nothing from its effective time.

use kutse_messaging::catalogue::SignerKeyRevoked;
use kutse_messaging::{Envelope, HandlerError, Handles};
use sqlx::PgConnection;

use super::CommitteeHandler;

impl Handles<SignerKeyRevoked> for CommitteeHandler {
    async fn handle(
        &self,
        conn: &mut PgConnection,
        k: SignerKeyRevoked,
        _: &Envelope,
    ) -> Result<(), HandlerError> {
        key_revoked(conn, k).await
    }
}

async fn key_revoked(conn: &mut PgConnection, k: SignerKeyRevoked) -> Result<(), HandlerError> {
    let updated = sqlx::query(
        "UPDATE signer_keys SET revoked_at = $2, revocation_reason = $3
          WHERE kid = $1 AND revoked_at IS NULL",
    )
    .bind(&k.kid)
    .bind(k.effective_at)
    .bind(&k.reason)
    .execute(conn)
    .await?
    .rows_affected();
    if updated == 0 {
        // A proposed key revoked before it was ever activated is not known here: nothing to do.
        tracing::info!(kid = k.kid.as_str(), "revocation of a key not active here");
    }
    Ok(())
}
