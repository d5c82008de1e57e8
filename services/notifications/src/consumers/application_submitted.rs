//! `application.submitted`: the receipt; and the applicant, kept to tell them of the assessment
//! later (the decision event does not name them).

use kutse_messaging::catalogue::ApplicationSubmitted;
use kutse_messaging::{Envelope, HandlerError, Handles};
use sqlx::PgConnection;

use super::{NotificationsHandler, queue};
use crate::templates;

impl Handles<ApplicationSubmitted> for NotificationsHandler {
    async fn handle(
        &self,
        conn: &mut PgConnection,
        e: ApplicationSubmitted,
        envelope: &Envelope,
    ) -> Result<(), HandlerError> {
        let json = |v: serde_json::Result<serde_json::Value>| {
            v.map_err(|e| HandlerError::Transient(e.into()))
        };
        sqlx::query(
            "INSERT INTO applicants (application_id, applicant, qualification, competences)
             VALUES ($1, $2, $3, $4) ON CONFLICT (application_id) DO NOTHING",
        )
        .bind(e.application_id)
        .bind(json(serde_json::to_value(&e.applicant))?)
        .bind(json(serde_json::to_value(&e.qualification))?)
        .bind(json(serde_json::to_value(&e.competences))?)
        .execute(&mut *conn)
        .await?;
        queue(
            conn,
            envelope.id,
            "receipt",
            &e.applicant.email,
            &templates::receipt(&e),
        )
        .await
    }
}
