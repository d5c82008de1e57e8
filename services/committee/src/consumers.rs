//! Decided applications join the committee's agenda.

use futures::future::BoxFuture;
use kutse_messaging::catalogue::AssessmentDecided;
use kutse_messaging::{Handler, HandlerError, Incoming, Message};
use sqlx::PgConnection;

/// Committee's handler.
#[derive(Debug, Default)]
pub struct CommitteeHandler;

impl Handler for CommitteeHandler {
    fn handle<'a>(
        &'a self,
        conn: &'a mut PgConnection,
        message: &'a Incoming,
    ) -> BoxFuture<'a, Result<(), HandlerError>> {
        Box::pin(async move {
            match message.envelope.message_type.as_str() {
                AssessmentDecided::TYPE => {
                    let d: AssessmentDecided = message.envelope.decode()?;
                    sqlx::query(
                        "INSERT INTO agenda_items (application_id, round_id, awarding_body_id, all_accepted, decided_at)
                         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (application_id) DO NOTHING",
                    )
                    .bind(d.application_id)
                    .bind(d.round_id)
                    .bind(d.awarding_body_id)
                    .bind(d.all_accepted)
                    .bind(d.decided_at)
                    .execute(conn)
                    .await?;
                    Ok(())
                }
                other => Err(HandlerError::Permanent(format!(
                    "committee does not handle {other}"
                ))),
            }
        })
    }
}
