//! `protocol.accepted`: the register applied the session's protocol; the register numbers show
//! on the session.

use kutse_messaging::catalogue::ProtocolAccepted;
use kutse_messaging::{Envelope, HandlerError, Handles};
use sqlx::PgConnection;

use super::{CommitteeHandler, register_answer};

impl Handles<ProtocolAccepted> for CommitteeHandler {
    async fn handle(
        &self,
        conn: &mut PgConnection,
        accepted: ProtocolAccepted,
        _: &Envelope,
    ) -> Result<(), HandlerError> {
        let detail = serde_json::json!({ "issued": accepted.issued, "refused": accepted.refused });
        register_answer(
            conn,
            accepted.session_id,
            accepted.protocol_id,
            "accepted",
            detail,
        )
        .await
    }
}
