//! Events become queued e-mails. Nothing is sent from here: the handler runs inside the message's
//! transaction, and an e-mail cannot be rolled back. The mail worker sends after commit.

use futures::future::BoxFuture;
use kutse_messaging::catalogue::{ApplicationRefused, ApplicationSubmitted, CertificateIssued};
use kutse_messaging::{Handler, HandlerError, Incoming, Message};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::templates::{self, Rendered};

/// Notifications' handler.
#[derive(Debug, Default)]
pub struct NotificationsHandler;

impl Handler for NotificationsHandler {
    fn handle<'a>(
        &'a self,
        conn: &'a mut PgConnection,
        message: &'a Incoming,
    ) -> BoxFuture<'a, Result<(), HandlerError>> {
        Box::pin(async move {
            let envelope = &message.envelope;
            let (kind, recipient, mail) = match envelope.message_type.as_str() {
                ApplicationSubmitted::TYPE => {
                    let e: ApplicationSubmitted = envelope.decode()?;
                    ("receipt", e.applicant.email.clone(), templates::receipt(&e))
                }
                CertificateIssued::TYPE => {
                    let e: CertificateIssued = envelope.decode()?;
                    (
                        "certificate_issued",
                        e.holder.email.clone(),
                        templates::issued(&e),
                    )
                }
                ApplicationRefused::TYPE => {
                    let e: ApplicationRefused = envelope.decode()?;
                    ("refusal", e.applicant.email.clone(), templates::refused(&e))
                }
                other => {
                    return Err(HandlerError::Permanent(format!(
                        "notifications does not handle {other}"
                    )));
                }
            };
            queue(conn, envelope.id, kind, &recipient, &mail).await
        })
    }
}

async fn queue(
    conn: &mut PgConnection,
    cause: Uuid,
    kind: &str,
    recipient: &str,
    mail: &Rendered,
) -> Result<(), HandlerError> {
    sqlx::query(
        "INSERT INTO mails (id, cause_id, kind, recipient, subject, body) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (cause_id, kind) DO NOTHING",
    )
    .bind(Uuid::now_v7())
    .bind(cause)
    .bind(kind)
    .bind(recipient)
    .bind(&mail.subject)
    .bind(&mail.body)
    .execute(conn)
    .await?;
    Ok(())
}
