//! `certificate.status_changed`: the holder is told their certificate was revoked, suspended or
//! reinstated, by whom and why. `certificate.expiring`: six months before it expires, how to
//! recertify.

use kutse_messaging::catalogue::{CertificateExpiring, CertificateStatusChanged};
use kutse_messaging::{Envelope, HandlerError, Handles};
use sqlx::PgConnection;

use super::{NotificationsHandler, queue};
use crate::domain::MailKind;
use crate::templates;

impl Handles<CertificateStatusChanged> for NotificationsHandler {
    async fn handle(
        &self,
        conn: &mut PgConnection,
        e: CertificateStatusChanged,
        envelope: &Envelope,
    ) -> Result<(), HandlerError> {
        queue(
            conn,
            envelope.id,
            MailKind::CertificateStatus,
            &e.holder.email,
            &templates::status_changed(&e)?,
        )
        .await
    }
}

impl Handles<CertificateExpiring> for NotificationsHandler {
    async fn handle(
        &self,
        conn: &mut PgConnection,
        e: CertificateExpiring,
        envelope: &Envelope,
    ) -> Result<(), HandlerError> {
        queue(
            conn,
            envelope.id,
            MailKind::Expiring,
            &e.holder.email,
            &templates::expiring(&e)?,
        )
        .await
    }
}
