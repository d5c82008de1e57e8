//! Documents learns which applications exist, and whose they are, from `application.created`.

use futures::future::BoxFuture;
use kutse_messaging::catalogue::ApplicationCreated;
use kutse_messaging::{Handler, HandlerError, Incoming, Message};
use sqlx::PgConnection;

/// Documents' handler.
#[derive(Debug, Default)]
pub struct DocumentsHandler;

impl Handler for DocumentsHandler {
    fn handle<'a>(
        &'a self,
        conn: &'a mut PgConnection,
        message: &'a Incoming,
    ) -> BoxFuture<'a, Result<(), HandlerError>> {
        Box::pin(async move {
            match message.envelope.message_type.as_str() {
                ApplicationCreated::TYPE => {
                    let created: ApplicationCreated = message.envelope.decode()?;
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
                other => Err(HandlerError::Permanent(format!(
                    "documents does not handle {other}"
                ))),
            }
        })
    }
}
