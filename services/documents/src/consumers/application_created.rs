//! `application.created`: documents may now be uploaded to the application, by its applicant.

use kutse_messaging::catalogue::ApplicationCreated;
use kutse_messaging::{Envelope, HandlerError, Handles};
use sqlx::PgConnection;

use super::DocumentsHandler;
use crate::db;

impl Handles<ApplicationCreated> for DocumentsHandler {
    async fn handle(
        &self,
        conn: &mut PgConnection,
        created: ApplicationCreated,
        _: &Envelope,
    ) -> Result<(), HandlerError> {
        let applicant = created.applicant.to_string();
        db::applications::record(
            conn,
            created.application_id,
            created.awarding_body_id,
            &applicant,
            &created.allowed_types,
        )
        .await?;
        Ok(())
    }
}
