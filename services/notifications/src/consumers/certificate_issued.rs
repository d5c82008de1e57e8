//! `certificate.issued`: the certificate's number, validity and verification link.

use kutse_messaging::catalogue::CertificateIssued;
use kutse_messaging::{Envelope, HandlerError, Handles};
use sqlx::PgConnection;

use super::{NotificationsHandler, queue};
use crate::domain::MailKind;
use crate::templates;

impl Handles<CertificateIssued> for NotificationsHandler {
    async fn handle(
        &self,
        conn: &mut PgConnection,
        e: CertificateIssued,
        envelope: &Envelope,
    ) -> Result<(), HandlerError> {
        queue(
            conn,
            envelope.id,
            MailKind::Certificate,
            &e.holder.email,
            &templates::issued(&e),
        )
        .await
    }
}
