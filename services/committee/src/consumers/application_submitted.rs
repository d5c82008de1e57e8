//! `application.submitted`: whose application it is, so that nobody votes on their own.

use kutse_messaging::catalogue::ApplicationSubmitted;
use kutse_messaging::{Envelope, HandlerError, Handles};
use sqlx::PgConnection;

use super::CommitteeHandler;

impl Handles<ApplicationSubmitted> for CommitteeHandler {
    async fn handle(
        &self,
        conn: &mut PgConnection,
        submitted: ApplicationSubmitted,
        _: &Envelope,
    ) -> Result<(), HandlerError> {
        crate::db::sessions::record_applicant(
            conn,
            submitted.application_id,
            &submitted.applicant.isikukood.to_string(),
        )
        .await?;
        Ok(())
    }
}
