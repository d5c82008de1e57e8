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
    kind: &str,
    recipient: &kutse_domain::Email,
    mail: &Rendered,
) -> Result<(), HandlerError> {
    sqlx::query(
        "INSERT INTO mails (id, cause_id, kind, recipient, subject, body) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (cause_id, kind) DO NOTHING",
    )
    .bind(Uuid::now_v7())
    .bind(cause)
    .bind(kind)
    .bind(recipient.as_str())
    .bind(&mail.subject)
    .bind(&mail.body)
    .execute(conn)
    .await?;
    Ok(())
}
