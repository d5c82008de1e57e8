//! `assessment.decided`: the panel's decision notice in the application's history, as the
//! applicant reads it: its number and date, per competence accepted or not with the justification
//! and the evidence it rests on, the recommendations, the competences still to prove, and the day
//! by which the applicant must have been told.

use kutse_messaging::catalogue::AssessmentDecided;
use kutse_messaging::{Envelope, HandlerError, Handles};
use sqlx::PgConnection;

use super::IntakeHandler;
use crate::db;

impl Handles<AssessmentDecided> for IntakeHandler {
    async fn handle(
        &self,
        conn: &mut PgConnection,
        e: AssessmentDecided,
        _: &Envelope,
    ) -> Result<(), HandlerError> {
        let still_to_prove: Vec<&str> = e
            .decisions
            .iter()
            .filter(|d| !d.accepted)
            .map(|d| d.code.as_str())
            .collect();
        let detail = serde_json::json!({
            "decision_number": e.decision_number,
            "decided_at": e.decided_at,
            "decisions": e.decisions,
            "recommendations": e.recommendations,
            "all_accepted": e.all_accepted,
            "still_to_prove": still_to_prove,
            "notice_due": e.notice_due,
        });
        db::applications::add_history(conn, e.application_id, "assessment_decided", detail).await?;
        Ok(())
    }
}
