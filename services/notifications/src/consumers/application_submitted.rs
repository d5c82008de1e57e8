//! `application.submitted`: the receipt; and the applicant, kept to tell them of the assessment
//! later (the decision event does not name them).

use kutse_messaging::catalogue::ApplicationSubmitted;
use kutse_messaging::{Envelope, HandlerError, Handles};
use sqlx::PgConnection;

use super::{NotificationsHandler, queue};
use crate::domain::MailKind;
use crate::{db, templates};

impl Handles<ApplicationSubmitted> for NotificationsHandler {
    async fn handle(
        &self,
        conn: &mut PgConnection,
        e: ApplicationSubmitted,
        envelope: &Envelope,
    ) -> Result<(), HandlerError> {
        let applicant = db::applicants::Applicant {
            applicant: e.applicant.clone(),
            qualification: e.qualification.clone(),
            competences: e.competences.clone(),
        };
        db::applicants::remember(conn, e.application_id, &applicant).await?;
        queue(
            conn,
            envelope.id,
            MailKind::Receipt,
            &e.applicant.email,
            &templates::receipt(&e),
        )
        .await
    }
}
