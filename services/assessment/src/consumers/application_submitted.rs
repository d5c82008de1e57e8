//! `application.submitted`: an assessment case opens, due 10 working days after the round's
//! deadline. The first submission stands; a redelivery changes nothing. A duplicate copies a
//! certificate already awarded: nothing is assessed, no case opens.

use kutse_messaging::catalogue::ApplicationSubmitted;
use kutse_messaging::{Envelope, HandlerError, Handles};
use sqlx::PgConnection;

use super::AssessmentHandler;
use crate::db;

impl Handles<ApplicationSubmitted> for AssessmentHandler {
    async fn handle(
        &self,
        conn: &mut PgConnection,
        submitted: ApplicationSubmitted,
        _: &Envelope,
    ) -> Result<(), HandlerError> {
        if submitted.kind == kutse_domain::ApplicationKind::Duplicate {
            tracing::info!(application = %submitted.application_id, "a duplicate: nothing to assess");
            return Ok(());
        }
        let review_due = kutse_domain::clocks::review_due(submitted.round_deadline, 0);
        if db::cases::open(conn, &submitted, review_due).await? {
            tracing::info!(application = %submitted.application_id, %review_due, "assessment case opened");
        }
        Ok(())
    }
}
