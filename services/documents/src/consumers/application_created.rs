//! `application.created`: documents may now be uploaded to the application, by its applicant.

use kutse_messaging::catalogue::ApplicationCreated;
use kutse_messaging::{Envelope, HandlerError, Handles};
use sqlx::PgConnection;

use super::DocumentsHandler;

impl Handles<ApplicationCreated> for DocumentsHandler {
    async fn handle(
        &self,
        conn: &mut PgConnection,
        created: ApplicationCreated,
        _: &Envelope,
    ) -> Result<(), HandlerError> {
        sqlx::query(
            "INSERT INTO applications (application_id, awarding_body_id, applicant) VALUES ($1, $2, $3)
             ON CONFLICT (application_id) DO NOTHING",
        )
        .bind(created.application_id)
        .bind(created.awarding_body_id)
        .bind(created.applicant.to_string())
        .execute(conn)
        .await?;
        Ok(())
    }
}
