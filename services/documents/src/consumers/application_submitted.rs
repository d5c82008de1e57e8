//! `application.submitted`: the application is no longer a draft; uploads to it stop (until a
//! request for more documents opens them again).

use kutse_messaging::catalogue::ApplicationSubmitted;
use kutse_messaging::{Envelope, HandlerError, Handles};
use sqlx::PgConnection;

use super::DocumentsHandler;
use crate::db;

impl Handles<ApplicationSubmitted> for DocumentsHandler {
    async fn handle(
        &self,
        conn: &mut PgConnection,
        submitted: ApplicationSubmitted,
        envelope: &Envelope,
    ) -> Result<(), HandlerError> {
        let applicant = submitted.applicant.isikukood.to_string();
        db::applications::close_for_uploads(
            conn,
            submitted.application_id,
            submitted.awarding_body_id,
            &applicant,
            envelope.occurred_at,
        )
        .await?;
        Ok(())
    }
}
