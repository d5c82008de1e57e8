//! The mail worker: sends queued e-mails, claiming them with `FOR UPDATE SKIP LOCKED` so any
//! number of replicas may run, and retrying failures with back-off.
//!
//! An e-mail is marked sent after the SMTP server accepted it. If the process dies in between,
//! it is sent again: at the SMTP boundary delivery is at least once. Each mail carries a stable
//! `Message-ID` (its id), by which mail systems recognise such a duplicate.

use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::{AsyncTransport, Message};
use sqlx::{PgPool, Row};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::mail::Mailer;

/// Sends until `shutdown`; returns an error only when the database fails.
pub async fn run(pool: PgPool, mailer: Mailer, shutdown: CancellationToken) -> anyhow::Result<()> {
    loop {
        let sent = send_pending(&pool, &mailer).await?;
        if sent == 0 {
            tokio::select! {
                () = shutdown.cancelled() => return Ok(()),
                () = tokio::time::sleep(Duration::from_millis(250)) => {}
            }
        }
    }
}

/// Sends up to 20 due e-mails; returns how many were tried.
pub async fn send_pending(pool: &PgPool, mailer: &Mailer) -> anyhow::Result<usize> {
    let mut tx = pool.begin().await?;
    let rows = sqlx::query(
        "SELECT id, recipient, subject, body, attempts FROM mails
          WHERE sent_at IS NULL AND next_attempt_at <= now()
          ORDER BY next_attempt_at LIMIT 20
          FOR UPDATE SKIP LOCKED",
    )
    .fetch_all(&mut *tx)
    .await?;
    for row in &rows {
        let id: Uuid = row.get("id");
        let attempts: i32 = row.get("attempts");
        match send(
            mailer,
            id,
            row.get("recipient"),
            row.get("subject"),
            row.get("body"),
        )
        .await
        {
            Ok(()) => {
                sqlx::query("UPDATE mails SET sent_at = now(), attempts = attempts + 1, last_error = NULL WHERE id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                tracing::info!(mail = %id, dvvk = 321, "e-mail sent");
            }
            Err(e) => {
                let delay = 2f64.powi(attempts.min(12)) * 5.0;
                tracing::warn!(mail = %id, attempts = attempts + 1, error = %e, retry_in_s = delay, "e-mail not sent");
                sqlx::query(
                    "UPDATE mails SET attempts = attempts + 1, last_error = $2,
                            next_attempt_at = now() + make_interval(secs => $3) WHERE id = $1",
                )
                .bind(id)
                .bind(e.to_string())
                .bind(delay)
                .execute(&mut *tx)
                .await?;
            }
        }
    }
    tx.commit().await?;
    Ok(rows.len())
}

async fn send(
    mailer: &Mailer,
    id: Uuid,
    recipient: String,
    subject: String,
    body: String,
) -> anyhow::Result<()> {
    let message = Message::builder()
        .from(mailer.from.clone())
        .to(recipient.parse()?)
        .subject(subject)
        .message_id(Some(format!("<{id}@kutse>")))
        .header(ContentType::TEXT_PLAIN)
        .body(body)?;
    mailer.transport().send(message).await?;
    Ok(())
}
