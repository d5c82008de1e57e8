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
        Ok(crate::db::signer_keys::activated(conn, &k).await?)
    }
}
