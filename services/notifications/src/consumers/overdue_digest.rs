//! `assessment.overdue_digest`: the body's staff are e-mailed, at its desk address, what is
//! overdue today.

use kutse_messaging::catalogue::OverdueDigest;
use kutse_messaging::{Envelope, HandlerError, Handles};
use sqlx::PgConnection;

use super::{NotificationsHandler, queue};
use crate::domain::MailKind;
use crate::templates;

impl Handles<OverdueDigest> for NotificationsHandler {
    async fn handle(
        &self,
        conn: &mut PgConnection,
        e: OverdueDigest,
        envelope: &Envelope,
    ) -> Result<(), HandlerError> {
        queue(
            conn,
            envelope.id,
            MailKind::OverdueDigest,
            &e.email,
            &templates::overdue_digest(&e)?,
        )
        .await
    }
}
