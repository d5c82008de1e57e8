//! `assessment.decided`: the panel's decision notice, to the applicant named at submission; once
//! the mail server accepts it, `notice.sent` stops the 14-day clock. If the submission has not
//! arrived yet, the message is retried.

use kutse_messaging::catalogue::AssessmentDecided;
use kutse_messaging::{Envelope, HandlerError, Handles};
use sqlx::PgConnection;

use super::{NotificationsHandler, queue_notice};
use crate::domain::MailKind;
use crate::{db, templates};

impl Handles<AssessmentDecided> for NotificationsHandler {
    async fn handle(
        &self,
        conn: &mut PgConnection,
        e: AssessmentDecided,
        envelope: &Envelope,
    ) -> Result<(), HandlerError> {
        let Some(known) = db::applicants::find(conn, e.application_id).await? else {
            return Err(HandlerError::Transient(anyhow::anyhow!(
                "the submission of application {} has not arrived yet",
                e.application_id
            )));
        };
        let mail = templates::decision(
            &known.applicant,
            &known.qualification,
            &known.competences,
            &e,
        )?;
        queue_notice(
            conn,
            envelope.id,
            MailKind::Decision,
            &known.applicant.email,
            &mail,
            e.application_id,
        )
        .await
    }
}
