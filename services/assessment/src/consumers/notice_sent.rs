//! `notice.sent`: the decision mail was accepted by the mail server; the applicant has been told,
//! which stops the 14-day notice clock.

use kutse_messaging::catalogue::NoticeSent;
use kutse_messaging::{Envelope, HandlerError, Handles};
use sqlx::PgConnection;

use super::AssessmentHandler;

impl Handles<NoticeSent> for AssessmentHandler {
    async fn handle(
        &self,
        conn: &mut PgConnection,
        sent: NoticeSent,
        _: &Envelope,
    ) -> Result<(), HandlerError> {
        if sent.kind == "decision"
            && !crate::db::cases::noticed(conn, sent.application_id, sent.cause_id, sent.sent_at)
                .await?
        {
            tracing::info!(application = %sent.application_id, "notice of an earlier decision, or told before; nothing to do");
        }
        Ok(())
    }
}
