//! `signer_key.activated`: a chair's key may now sign this body's protocols.

use kutse_messaging::catalogue::SignerKeyActivated;
use kutse_messaging::{Envelope, HandlerError, Handles};
use sqlx::PgConnection;

use super::CommitteeHandler;

impl Handles<SignerKeyActivated> for CommitteeHandler {
    async fn handle(
        &self,
        conn: &mut PgConnection,
        k: SignerKeyActivated,
        _: &Envelope,
    ) -> Result<(), HandlerError> {
        key_activated(conn, k).await
    }
}

async fn key_activated(conn: &mut PgConnection, k: SignerKeyActivated) -> Result<(), HandlerError> {
    sqlx::query(
        "INSERT INTO signer_keys (kid, awarding_body_id, owner, public_key, activated_at)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (kid) DO NOTHING",
    )
    .bind(&k.kid)
    .bind(k.awarding_body_id)
    .bind(k.owner.to_string())
    .bind(&k.public_key)
    .bind(k.activated_at)
    .execute(conn)
    .await?;
    Ok(())
}
