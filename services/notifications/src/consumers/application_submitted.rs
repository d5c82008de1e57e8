//! `application.awaiting_fee` and `application.submitted`: the applicant's receipt; and the
//! applicant, kept to tell them of the assessment later (the decision event does not name them).
//!
//! An application submitted with its fee already confirmed gets one receipt (received, being
//! processed). One submitted before the fee gets a receipt saying it waits for the fee, and a
//! second mail when the body confirms it.

use kutse_messaging::catalogue::{ApplicationAwaitingFee, ApplicationSubmitted};
use kutse_messaging::{Envelope, HandlerError, Handles};
use sqlx::PgConnection;

use super::{NotificationsHandler, queue_notice};
use crate::domain::MailKind;
use crate::{db, templates};

impl Handles<ApplicationAwaitingFee> for NotificationsHandler {
    async fn handle(
        &self,
        conn: &mut PgConnection,
        ApplicationAwaitingFee(e): ApplicationAwaitingFee,
        envelope: &Envelope,
    ) -> Result<(), HandlerError> {
        // Heard after the submission itself (redelivered late): the applicant already has the
        // receipt that matters.
        if db::applicants::find(conn, e.application_id)
            .await?
            .is_some()
        {
            return Ok(());
        }
        queue_notice(
            conn,
            envelope.id,
            MailKind::ReceiptAwaitingFee,
            &e.applicant.email,
            &templates::receipt_awaiting_fee(&e)?,
            e.application_id,
        )
        .await
    }
}

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
        let waited = db::mails::queued_for(
            conn,
            e.application_id,
            MailKind::ReceiptAwaitingFee.as_str(),
        )
        .await?;
        let (kind, mail) = if waited {
            (MailKind::FeeConfirmed, templates::fee_confirmed(&e)?)
        } else {
            (MailKind::Receipt, templates::receipt(&e)?)
        };
        queue_notice(
            conn,
            envelope.id,
            kind,
            &e.applicant.email,
            &mail,
            e.application_id,
        )
        .await
    }
}
