//! Appeals bring documents of their own: while an appeal is lodged (`appeal.lodged`) its
//! applicant may upload documents of type [`APPEAL_DOCUMENT_TYPE`] to the application, each
//! announced against the appeal; its resolution (`appeal.resolved`) closes that again. Bounded
//! by [`APPEAL_UPLOAD_DAYS`] should the resolution never come.

use kutse_messaging::catalogue::{AppealLodged, AppealResolved};
use kutse_messaging::{Envelope, HandlerError, Handles};
use sqlx::PgConnection;

use super::DocumentsHandler;
use crate::db;

/// The document type of what an applicant adds to their appeal.
pub const APPEAL_DOCUMENT_TYPE: &str = "appeal";
/// The longest an appeal takes uploads, from its lodging.
pub const APPEAL_UPLOAD_DAYS: i64 = 30;

impl Handles<AppealLodged> for DocumentsHandler {
    async fn handle(
        &self,
        conn: &mut PgConnection,
        lodged: AppealLodged,
        _: &Envelope,
    ) -> Result<(), HandlerError> {
        db::applications::open_request(
            conn,
            lodged.appeal_id,
            lodged.application_id,
            &[APPEAL_DOCUMENT_TYPE.to_owned()],
            lodged.lodged_at + chrono::Duration::days(APPEAL_UPLOAD_DAYS),
        )
        .await?;
        tracing::info!(application = %lodged.application_id, appeal = %lodged.appeal_id, "uploads open for an appeal");
        Ok(())
    }
}

impl Handles<AppealResolved> for DocumentsHandler {
    async fn handle(
        &self,
        conn: &mut PgConnection,
        resolved: AppealResolved,
        _: &Envelope,
    ) -> Result<(), HandlerError> {
        db::applications::close_request(conn, resolved.appeal_id).await?;
        Ok(())
    }
}
