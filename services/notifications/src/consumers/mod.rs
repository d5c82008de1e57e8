//! Events become queued e-mails, one file per event:
//! - [`application_submitted`]: the receipt (and whom to tell later);
//! - [`assessment_decided`]: the panel's decision notice;
//! - [`certificate_issued`]: the certificate's number and verification link;
//! - [`application_refused`]: the refusal with its reasons.
//!
//! Nothing is sent from here: a handler runs inside the message's transaction, and an e-mail
//! cannot be rolled back. The mail worker sends after commit. One mail per event and kind,
//! however often the event is delivered.

mod application_refused;
mod application_submitted;
mod assessment_decided;
mod certificate_issued;

use kutse_messaging::catalogue::{
    ApplicationRefused, ApplicationSubmitted, AssessmentDecided, CertificateIssued,
};
use kutse_messaging::{Dispatcher, HandlerError};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::MailKind;
use crate::templates::Rendered;

/// What notifications' handlers share (nothing yet).
#[derive(Debug, Default)]
pub struct NotificationsHandler;

/// Every message notifications handles, by type; its queue is bound to exactly these.
pub fn dispatcher() -> Dispatcher<NotificationsHandler> {
    Dispatcher::new(NotificationsHandler)
        .on::<ApplicationSubmitted>()
        .on::<AssessmentDecided>()
        .on::<CertificateIssued>()
        .on::<ApplicationRefused>()
}

/// Queues `mail` to `recipient`, once per (`cause`, `kind`).
pub(super) async fn queue(
    conn: &mut PgConnection,
    cause: Uuid,
    kind: MailKind,
    recipient: &kutse_domain::Email,
    mail: &Rendered,
) -> Result<(), HandlerError> {
    Ok(crate::db::mails::queue(
        conn,
        cause,
        kind.as_str(),
        recipient.as_str(),
        &mail.subject,
        &mail.body,
    )
    .await?)
}
