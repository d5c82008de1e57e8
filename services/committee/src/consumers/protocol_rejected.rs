//! `protocol.rejected`: the register refused the session's protocol; the reason shows on the
//! session.

use kutse_messaging::catalogue::ProtocolRejected;
use kutse_messaging::{Envelope, HandlerError, Handles};
use sqlx::PgConnection;

use super::{CommitteeHandler, register_answer};

impl Handles<ProtocolRejected> for CommitteeHandler {
    async fn handle(
        &self,
        conn: &mut PgConnection,
        rejected: ProtocolRejected,
        _: &Envelope,
    ) -> Result<(), HandlerError> {
        let (Some(session), Some(protocol)) = (rejected.session_id, rejected.protocol_id) else {
            // Not a protocol this committee froze (e.g. from an outside pipeline).
            return Ok(());
        };
        let detail = serde_json::json!({ "reason": rejected.reason });
        register_answer(conn, session, protocol, "rejected", detail).await
    }
}
