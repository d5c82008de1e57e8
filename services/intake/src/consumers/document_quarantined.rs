//! `document.quarantined`: a virus scan found an upload infected. It never counts towards the
//! submission; the application's history tells the applicant and the body's staff.

use kutse_messaging::catalogue::DocumentQuarantined;
use kutse_messaging::{Envelope, HandlerError, Handles};
use sqlx::PgConnection;

use super::IntakeHandler;
use crate::db;

impl Handles<DocumentQuarantined> for IntakeHandler {
    async fn handle(
        &self,
        conn: &mut PgConnection,
        e: DocumentQuarantined,
        _: &Envelope,
    ) -> Result<(), HandlerError> {
        if db::applications::ownership(conn, e.application_id)
            .await?
            .is_none()
        {
            return Err(HandlerError::Permanent(format!(
                "no application {}",
                e.application_id
            )));
        }
        let detail = serde_json::json!({
            "document_type": e.document_type,
            "document_id": e.document_id,
            "signature": e.signature,
        });
        db::applications::add_history(conn, e.application_id, "document_quarantined", detail)
            .await?;
        Ok(())
    }
}
