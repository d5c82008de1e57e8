//! `protocol.signed`: verified, checked whole, applied — every awarded certificate issued
//! exactly once, every refusal told — and answered with `protocol.accepted`; or, when it is
//! parked, answered with `protocol.rejected` and its reason (see the module above).

use kutse_messaging::catalogue::ProtocolSigned;
use kutse_messaging::{Envelope, HandlerError, Handles};
use sqlx::PgConnection;

use super::{CertificatesHandler, record_rejection};

impl Handles<ProtocolSigned> for CertificatesHandler {
    async fn handle(
        &self,
        conn: &mut PgConnection,
        signed: ProtocolSigned,
        envelope: &Envelope,
    ) -> Result<(), HandlerError> {
        self.protocol_signed(conn, envelope, signed).await
    }

    async fn parked(
        &self,
        conn: &mut PgConnection,
        envelope: &Envelope,
        error: &str,
    ) -> Result<(), HandlerError> {
        record_rejection(conn, envelope, error).await
    }
}
