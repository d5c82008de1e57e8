//! Events become queued e-mails, one file per event:
//! - [`application_submitted`]: the receipt, the fee's confirmation (and whom to tell later);
//! - [`assessment_decided`]: the panel's decision notice;
//! - [`certificate_rendered`]: the certificate, with its PDF attached and the verification link
//!   (sent once the PDF exists, not on `certificate.issued`);
//! - [`certificate_status_changed`]: revocation, suspension, reinstatement, with the reason;
//! - [`documents_requested`]: the panel's request for more documents;
//! - [`overdue_digest`]: a body's daily digest of overdue clocks, to its desk;
//! - [`appeals`]: an appeal's receipt (applicant and body) and resolution; an exam registration;
//! - [`application_refused`]: the refusal with its reasons;
//! - [`questions`]: a question to its recipient, an answer to whoever asked.
//!
//! Nothing is sent from here: a handler runs inside the message's transaction, and an e-mail
//! cannot be rolled back. The mail worker sends after commit. One mail per event and kind,
//! however often the event is delivered.

mod appeals;
mod application_refused;
mod application_submitted;
mod assessment_decided;
mod certificate_rendered;
mod certificate_status_changed;
mod documents_requested;
mod overdue_digest;
mod questions;

use kutse_messaging::catalogue::{
    AppealLodged, AppealResolved, CertificateExpiring, ExamRegistered,
};
use kutse_messaging::catalogue::{
    ApplicationAwaitingFee, ApplicationRefused, ApplicationSubmitted, AssessmentDecided,
    CertificateRendered, CertificateStatusChanged, DocumentsRequested, OverdueDigest,
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
        .on::<ApplicationAwaitingFee>()
        .on::<ApplicationSubmitted>()
        .on::<AssessmentDecided>()
        .on::<CertificateRendered>()
        .on::<CertificateStatusChanged>()
        .on::<DocumentsRequested>()
        .on::<OverdueDigest>()
        .on::<AppealLodged>()
        .on::<AppealResolved>()
        .on::<ExamRegistered>()
        .on::<CertificateExpiring>()
        .on::<ApplicationRefused>()
        .on::<kutse_messaging::catalogue::QuestionAsked>()
        .on::<kutse_messaging::catalogue::QuestionForwarded>()
        .on::<kutse_messaging::catalogue::QuestionAnswered>()
}

/// Queues `mail` about `application` to `recipient`, once per (`cause`, `kind`); once sent it is
/// reported as `notice.sent` (for notices the law puts a clock on).
pub(super) async fn queue_notice(
    conn: &mut PgConnection,
    cause: Uuid,
    kind: MailKind,
    recipient: &kutse_domain::Email,
    mail: &Rendered,
    application: Uuid,
) -> Result<(), HandlerError> {
    Ok(crate::db::mails::queue(
        conn,
        &crate::db::mails::NewMail {
            cause,
            kind: kind.as_str(),
            recipient: recipient.as_str(),
            mail,
            attachment: None,
            application_id: Some(application),
        },
    )
    .await?)
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
        &crate::db::mails::NewMail {
            cause,
            kind: kind.as_str(),
            recipient: recipient.as_str(),
            mail,
            attachment: None,
            application_id: None,
        },
    )
    .await?)
}
