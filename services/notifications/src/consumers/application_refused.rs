//! `application.refused`: the refusal, with the committee's reasons and the competences still
//! to be proven.

use kutse_messaging::catalogue::ApplicationRefused;
use kutse_messaging::{Envelope, HandlerError, Handles};
use sqlx::PgConnection;

use super::{NotificationsHandler, queue};
use crate::domain::MailKind;
use crate::templates;

impl Handles<ApplicationRefused> for NotificationsHandler {
    async fn handle(
        &self,
        conn: &mut PgConnection,
        e: ApplicationRefused,
        envelope: &Envelope,
    ) -> Result<(), HandlerError> {
        queue(
            conn,
            envelope.id,
            MailKind::Refusal,
            &e.applicant.email,
            &templates::refused(&e)?,
        )
        .await
    }
}
