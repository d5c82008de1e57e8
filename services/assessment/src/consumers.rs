//! An assessment case opens when an application is submitted.

use futures::future::BoxFuture;
use kutse_domain::WorkingDays;
use kutse_messaging::catalogue::ApplicationSubmitted;
use kutse_messaging::{Handler, HandlerError, Incoming, Message};
use sqlx::PgConnection;

/// Working days the panel has after the round's deadline (DOMAIN.md, step 3).
pub const REVIEW_WORKING_DAYS: u32 = 10;

/// Assessment's handler.
#[derive(Debug, Default)]
pub struct AssessmentHandler;

impl Handler for AssessmentHandler {
    fn handle<'a>(
        &'a self,
        conn: &'a mut PgConnection,
        message: &'a Incoming,
    ) -> BoxFuture<'a, Result<(), HandlerError>> {
        Box::pin(async move {
            match message.envelope.message_type.as_str() {
                ApplicationSubmitted::TYPE => open_case(conn, message.envelope.decode()?).await,
                other => Err(HandlerError::Permanent(format!(
                    "assessment does not handle {other}"
                ))),
            }
        })
    }
}

async fn open_case(
    conn: &mut PgConnection,
    submitted: ApplicationSubmitted,
) -> Result<(), HandlerError> {
    let review_due = WorkingDays::add(submitted.round_deadline, REVIEW_WORKING_DAYS);
    let submission =
        serde_json::to_value(&submitted).map_err(|e| HandlerError::Transient(e.into()))?;
    sqlx::query(
        "INSERT INTO cases (application_id, round_id, awarding_body_id, applicant, round_deadline, review_due, submission)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (application_id) DO NOTHING",
    )
    .bind(submitted.application_id)
    .bind(submitted.round_id)
    .bind(submitted.awarding_body_id)
    .bind(submitted.applicant.isikukood.to_string())
    .bind(submitted.round_deadline)
    .bind(review_due)
    .bind(submission)
    .execute(conn)
    .await?;
    tracing::info!(application = %submitted.application_id, %review_due, "assessment case opened");
    Ok(())
}
