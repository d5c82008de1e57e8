//! `application.submitted`: an assessment case opens, due 10 working days after the round's
//! deadline. The first submission stands; a redelivery changes nothing.

use kutse_domain::WorkingDays;
use kutse_messaging::catalogue::ApplicationSubmitted;
use kutse_messaging::{Envelope, HandlerError, Handles};
use sqlx::PgConnection;

use super::{AssessmentHandler, REVIEW_WORKING_DAYS};

impl Handles<ApplicationSubmitted> for AssessmentHandler {
    async fn handle(
        &self,
        conn: &mut PgConnection,
        submitted: ApplicationSubmitted,
        _: &Envelope,
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
}
