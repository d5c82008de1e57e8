//! The mail worker: sends queued e-mails, `SMTP_CONCURRENCY` at a time, claiming each with `FOR
//! UPDATE SKIP LOCKED` so any number of senders and replicas may run.
//!
//! It wakes the moment a mail is queued (`LISTEN kutse_mail_queued`, notified by a trigger on
//! insert), and looks anyway every second (for retries that come due, or while the listening
//! connection is being re-established). Mails go over the SMTP transport's pool of open
//! connections, not a new connection each.
//!
//! Each mail is claimed, sent and marked in a transaction of its own, so a sender that dies
//! repeats at most the mails it was sending (SMTP delivery is at least once): one with the default
//! concurrency of 1. Each mail carries
//! a stable `Message-ID` (its id), by which mail clients recognise such a repeat. A failed send is
//! retried with back-off, at most [`MAX_ATTEMPTS`] times; a mail the server refuses for good, or
//! that failed every attempt, is parked (`given_up_at`, with the reason in `last_error`).
//!
//! On shutdown a send in progress is abandoned (its transaction rolls back, the mail stays
//! queued), so a mail server that stops answering cannot hold the process.

use std::time::Duration;

use lettre::Message;
use lettre::message::header::ContentType;
use lettre::message::{Attachment as LettreAttachment, MultiPart, SinglePart};
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;
use uuid::Uuid;

use crate::db::mails;
use crate::domain::{AfterFailure, Attachment, MAX_ATTACHMENT_BYTES, after_failure};
use crate::mail::Mailer;

pub use crate::domain::MAX_ATTEMPTS;

/// The channel a trigger notifies when mail is queued.
const QUEUED: &str = "kutse_mail_queued";
/// How often the queue is looked at without a notification.
const POLL: Duration = Duration::from_secs(1);

/// Sends until `shutdown`; returns an error only when the database fails.
pub async fn run(pool: PgPool, mailer: Mailer, shutdown: CancellationToken) -> anyhow::Result<()> {
    let wake = tokio::sync::Notify::new();
    let senders = futures::future::try_join_all(
        (0..mailer.concurrency).map(|_| send_until(&pool, &mailer, &wake, &shutdown)),
    );
    tokio::select! {
        sent = senders => sent.map(|_| ()),
        () = listen(&pool, &wake, &shutdown) => Ok(()),
    }
}

/// One sender: sends while mail is due, then waits to be woken.
async fn send_until(
    pool: &PgPool,
    mailer: &Mailer,
    wake: &tokio::sync::Notify,
    shutdown: &CancellationToken,
) -> anyhow::Result<()> {
    loop {
        // Registered before looking, so a notification that comes while the queue is read is
        // not lost.
        let notified = wake.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        let sent = tokio::select! {
            () = shutdown.cancelled() => return Ok(()),
            sent = send_next(pool, mailer) => sent?,
        };
        if !sent {
            tokio::select! {
                () = shutdown.cancelled() => return Ok(()),
                () = notified => {}
                () = tokio::time::sleep(POLL) => {}
            }
        }
    }
}

/// Wakes the senders on every notification until `shutdown`; re-listens after a lost connection.
async fn listen(pool: &PgPool, wake: &tokio::sync::Notify, shutdown: &CancellationToken) {
    loop {
        let listening = async {
            let mut listener = sqlx::postgres::PgListener::connect_with(pool).await?;
            listener.listen(QUEUED).await?;
            loop {
                listener.recv().await?;
                wake.notify_waiters();
            }
        };
        let ended: sqlx::Result<()> = tokio::select! {
            () = shutdown.cancelled() => return,
            ended = listening => ended,
        };
        if let Err(e) = ended {
            tracing::warn!(error = %e, "not listening for queued mail; polling until it is back");
        }
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(Duration::from_secs(5)) => {}
        }
    }
}

/// Sends the next due e-mail, if any; returns whether there was one.
pub async fn send_next(pool: &PgPool, mailer: &Mailer) -> anyhow::Result<bool> {
    let mut tx = pool.begin().await?;
    let Some(mail) = mails::claim_next(&mut tx).await? else {
        tx.commit().await?;
        return Ok(false);
    };
    // Sending continues the trace of what caused the mail.
    let span = tracing::info_span!(
        "mail.send",
        otel.name = "mail send",
        mail = %mail.id,
        kind = mail.kind.as_str(),
    );
    if let Some(traceparent) = &mail.traceparent {
        kutse_telemetry::set_parent_from(&span, [("traceparent".to_owned(), traceparent.clone())]);
    }
    async move {
        let attempts = mail.attempts + 1;
        let attachment = mail.attachment.map(|a| a.0);
        match send(
            mailer,
            mail.id,
            mail.recipient,
            mail.subject,
            Body {
                text: mail.body,
                html: mail.html,
            },
            attachment,
        )
        .await
        {
            Ok(()) => {
                mails::mark_sent(&mut tx, mail.id, attempts).await?;
                if let (Some(application), "decision") = (mail.application_id, mail.kind.as_str()) {
                    let event = kutse_messaging::catalogue::NoticeSent {
                        cause_id: mail.cause_id,
                        application_id: application,
                        kind: mail.kind.clone(),
                        sent_at: chrono::Utc::now(),
                    };
                    let envelope = kutse_messaging::Envelope::new(&event, Some(application))?;
                    kutse_messaging::Outbox::enqueue(&mut tx, &envelope).await?;
                }
                // One sending, counted once whatever its recipients (DVVK 321), with its sent mark.
                kutse_service::exchanges::announce::<kutse_messaging::catalogue::NotificationsExchange>(
                    &mut tx,
                    "mail.sent",
                    &mail.id.to_string(),
                    kutse_domain::Dvvk::Email,
                )
                .await?;
                mailer.count("sent");
                tracing::info!(mail = %mail.id, dvvk = 321, "e-mail sent");
            }
            Err(e) => match after_failure(attempts, e.permanent) {
                AfterFailure::GiveUp => {
                    mails::give_up(&mut tx, mail.id, attempts, &e.message).await?;
                    mailer.count("given_up");
                    tracing::error!(mail = %mail.id, attempts, error = e.message.as_str(), "e-mail undeliverable; parked");
                }
                AfterFailure::RetryIn(delay) => {
                    let delay = delay.as_secs_f64();
                    mailer.count("failed");
                    tracing::warn!(mail = %mail.id, attempts, error = e.message.as_str(), retry_in_s = delay, "e-mail not sent");
                    mails::retry_later(&mut tx, mail.id, attempts, &e.message, delay).await?;
                }
            },
        }
        tx.commit().await?;
        anyhow::Ok(true)
    }
    .instrument(span)
    .await
}

/// Why a send failed, and whether trying again could help.
#[derive(Debug)]
struct SendError {
    permanent: bool,
    message: String,
}

/// Fetches an attachment and checks its digest. A URL outside `ATTACHMENT_URL_PREFIXES` or a
/// digest that differs from the announced one fails the mail for good (it is parked, never sent
/// with the wrong file); a fetch that fails is tried again (the network may be down).
async fn fetch(mailer: &Mailer, attachment: &Attachment) -> Result<Vec<u8>, SendError> {
    let temporary = |message: String| SendError {
        permanent: false,
        message: format!("attachment {}: {message}", attachment.filename),
    };
    let refused = |message: String| SendError {
        permanent: true,
        message: format!("attachment {}: {message}", attachment.filename),
    };
    if !mailer
        .attachment_prefixes
        .iter()
        .any(|prefix| attachment.url.starts_with(prefix.as_str()))
    {
        return Err(refused(
            "its URL is outside ATTACHMENT_URL_PREFIXES; not fetched".to_owned(),
        ));
    }
    let mut response = mailer
        .http
        .get(&attachment.url)
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .map_err(|e| temporary(e.without_url().to_string()))?;
    let mut bytes = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| temporary(e.without_url().to_string()))?
    {
        if bytes.len() + chunk.len() > MAX_ATTACHMENT_BYTES {
            return Err(temporary(format!(
                "larger than {MAX_ATTACHMENT_BYTES} bytes"
            )));
        }
        bytes.extend_from_slice(&chunk);
    }
    let digest = hex::encode(Sha256::digest(&bytes));
    if !digest.eq_ignore_ascii_case(&attachment.sha256) {
        return Err(refused(format!(
            "SHA-256 {digest} differs from the announced {}; not sent",
            attachment.sha256
        )));
    }
    Ok(bytes)
}

/// A mail's body: text, and the same as HTML (sent together as `multipart/alternative`).
struct Body {
    text: String,
    html: Option<String>,
}

impl Body {
    fn into_multipart(self) -> MultiPart {
        match self.html {
            Some(html) => MultiPart::alternative_plain_html(self.text, html),
            None => MultiPart::mixed().singlepart(SinglePart::plain(self.text)),
        }
    }
}

async fn send(
    mailer: &Mailer,
    id: Uuid,
    recipient: String,
    subject: String,
    body: Body,
    attachment: Option<Attachment>,
) -> Result<(), SendError> {
    let permanent = |e: &dyn std::fmt::Display| SendError {
        permanent: true,
        message: e.to_string(),
    };
    let to = recipient
        .parse()
        .map_err(|e: lettre::address::AddressError| permanent(&e))?;
    let builder = Message::builder()
        .from(mailer.from.clone())
        .to(to)
        .subject(subject)
        .message_id(Some(format!("<{id}@kutse>")));
    let message = match (attachment, body.html.is_some()) {
        (None, false) => builder
            .header(ContentType::TEXT_PLAIN)
            .body(body.text)
            .map_err(|e| permanent(&e))?,
        (None, true) => builder
            .multipart(body.into_multipart())
            .map_err(|e| permanent(&e))?,
        (Some(attachment), _) => {
            let bytes = fetch(mailer, &attachment).await?;
            let content_type =
                ContentType::parse(&attachment.content_type).map_err(|e| permanent(&e))?;
            builder
                .multipart(
                    MultiPart::mixed()
                        .multipart(body.into_multipart())
                        .singlepart(
                            LettreAttachment::new(attachment.filename.clone())
                                .body(bytes, content_type),
                        ),
                )
                .map_err(|e| permanent(&e))?
        }
    };
    mailer.deliver(&message).await.map_err(|e| SendError {
        permanent: e.permanent,
        message: e.message,
    })
}
