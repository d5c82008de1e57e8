//! `assessment.documents_requested`: the applicant is told what the panel needs, why, and by when.

use kutse_messaging::catalogue::DocumentsRequested;
use kutse_messaging::{Envelope, HandlerError, Handles};
use sqlx::PgConnection;

use super::{NotificationsHandler, queue};
use crate::domain::MailKind;
use crate::templates;

impl Handles<DocumentsRequested> for NotificationsHandler {
    async fn handle(
        &self,
        conn: &mut PgConnection,
        e: DocumentsRequested,
        envelope: &Envelope,
    ) -> Result<(), HandlerError> {
        queue(
            conn,
            envelope.id,
            MailKind::DocumentsRequested,
            &e.applicant.email,
            &templates::documents_requested(&e)?,
        )
        .await
    }
}
