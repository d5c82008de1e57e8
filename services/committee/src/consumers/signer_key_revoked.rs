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
        if !crate::db::signer_keys::revoked(conn, &k).await? {
            // A proposed key revoked before it was ever activated is not known here.
            tracing::info!(kid = k.kid.as_str(), "revocation of a key not active here");
        }
        Ok(())
    }
}
