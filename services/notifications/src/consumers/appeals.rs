//! Appeals: the applicant's receipt and the body's notice when one is lodged (the body only if
//! it has a desk address); the applicant is told the committee's resolution with its reasons.
//! And exam registrations: the applicant is told when and where.

use kutse_messaging::catalogue::{AppealLodged, AppealResolved, ExamRegistered};
use kutse_messaging::{Envelope, HandlerError, Handles};
use sqlx::PgConnection;

use super::{NotificationsHandler, queue};
use crate::domain::MailKind;
use crate::templates;

impl Handles<AppealLodged> for NotificationsHandler {
    async fn handle(
        &self,
        conn: &mut PgConnection,
        e: AppealLodged,
        envelope: &Envelope,
    ) -> Result<(), HandlerError> {
        queue(
            conn,
            envelope.id,
            MailKind::AppealReceipt,
            &e.applicant.email,
            &templates::appeal_receipt(&e)?,
        )
        .await?;
        if let Some(desk) = &e.awarding_body_email {
            queue(
                conn,
                envelope.id,
                MailKind::AppealToBody,
                desk,
                &templates::appeal_to_body(&e)?,
            )
            .await?;
        }
        Ok(())
    }
}

impl Handles<AppealResolved> for NotificationsHandler {
    async fn handle(
        &self,
        conn: &mut PgConnection,
        e: AppealResolved,
        envelope: &Envelope,
    ) -> Result<(), HandlerError> {
        queue(
            conn,
            envelope.id,
            MailKind::AppealResolved,
            &e.applicant.email,
            &templates::appeal_resolved(&e)?,
        )
        .await
    }
}

impl Handles<ExamRegistered> for NotificationsHandler {
    async fn handle(
        &self,
        conn: &mut PgConnection,
        e: ExamRegistered,
        envelope: &Envelope,
    ) -> Result<(), HandlerError> {
        queue(
            conn,
            envelope.id,
            MailKind::ExamRegistered,
            &e.applicant.email,
            &templates::exam_registered(&e)?,
        )
        .await
    }
}
