//! `assessment.decided`: the panel's decision notice, to the applicant named at submission. If
//! the submission has not arrived yet, the message is retried.

use kutse_messaging::catalogue::{
    ApplicantRef, AssessmentDecided, CompetenceRef, QualificationRef,
};
use kutse_messaging::{Envelope, HandlerError, Handles};
use sqlx::PgConnection;

use super::{NotificationsHandler, queue};
use crate::templates;

impl Handles<AssessmentDecided> for NotificationsHandler {
    async fn handle(
        &self,
        conn: &mut PgConnection,
        e: AssessmentDecided,
        envelope: &Envelope,
    ) -> Result<(), HandlerError> {
        let row: Option<(serde_json::Value, serde_json::Value, serde_json::Value)> =
            sqlx::query_as(
                "SELECT applicant, qualification, competences FROM applicants WHERE application_id = $1",
            )
            .bind(e.application_id)
            .fetch_optional(&mut *conn)
            .await?;
        let Some((applicant, qualification, competences)) = row else {
            return Err(HandlerError::Transient(anyhow::anyhow!(
                "the submission of application {} has not arrived yet",
                e.application_id
            )));
        };
        let stored =
            |e: serde_json::Error| HandlerError::Permanent(format!("stored applicant: {e}"));
        let applicant: ApplicantRef = serde_json::from_value(applicant).map_err(stored)?;
        let qualification: QualificationRef =
            serde_json::from_value(qualification).map_err(stored)?;
        let competences: Vec<CompetenceRef> =
            serde_json::from_value(competences).map_err(stored)?;
        let mail = templates::decision(&applicant, &qualification, &competences, &e);
        queue(conn, envelope.id, "decision", &applicant.email, &mail).await
    }
}
