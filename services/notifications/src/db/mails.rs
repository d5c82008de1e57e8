//! Queued e-mails: queued by the message handlers, claimed and settled by the mail worker.

use sqlx::PgConnection;
use uuid::Uuid;

/// A mail to queue.
#[derive(Debug, Clone)]
pub struct NewMail<'a> {
    pub cause: Uuid,
    pub kind: &'a str,
    pub recipient: &'a str,
    /// The subject and the body, as text and HTML.
    pub mail: &'a crate::templates::Rendered,
    pub attachment: Option<&'a crate::domain::Attachment>,
    /// The application the mail is about, for notices the law puts a clock on.
    pub application_id: Option<Uuid>,
}

/// Queues a mail, once per (`cause`, `kind`): a redelivered event queues nothing more.
pub async fn queue(conn: &mut PgConnection, m: &NewMail<'_>) -> sqlx::Result<()> {
    let attachment = m
        .attachment
        .map(|a| serde_json::to_value(a).unwrap_or_default());
    sqlx::query(
        "INSERT INTO mails (id, cause_id, kind, recipient, subject, body, html, attachment, application_id, traceparent)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
         ON CONFLICT (cause_id, kind) DO NOTHING",
    )
    .bind(Uuid::now_v7())
    .bind(m.cause)
    .bind(m.kind)
    .bind(m.recipient)
    .bind(&m.mail.subject)
    .bind(&m.mail.text)
    .bind(&m.mail.html)
    .bind(attachment)
    .bind(m.application_id)
    // The trace of what caused the mail (the handling of its event), continued by its sending.
    .bind(kutse_telemetry::trace_headers().remove("traceparent"))
    .execute(conn)
    .await
    .map(|_| ())
}

/// Whether a mail of `kind` about `application` was queued.
pub async fn queued_for(
    conn: &mut PgConnection,
    application: Uuid,
    kind: &str,
) -> sqlx::Result<bool> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM mails WHERE application_id = $1 AND kind = $2)",
    )
    .bind(application)
    .bind(kind)
    .fetch_one(conn)
    .await
}

/// A mail due to be sent, claimed for the transaction.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Due {
    pub id: Uuid,
    pub recipient: String,
    pub subject: String,
    pub body: String,
    /// The same body as HTML (absent from mails queued before HTML was sent).
    pub html: Option<String>,
    /// Tries before this one.
    pub attempts: i32,
    pub attachment: Option<sqlx::types::Json<crate::domain::Attachment>>,
    pub cause_id: Uuid,
    pub kind: String,
    pub application_id: Option<Uuid>,
    /// The trace the mail was caused in.
    pub traceparent: Option<String>,
}

/// Claims the next due mail (`FOR UPDATE SKIP LOCKED`: replicas never take the same one).
pub async fn claim_next(conn: &mut PgConnection) -> sqlx::Result<Option<Due>> {
    sqlx::query_as(
        "SELECT id, recipient, subject, body, html, attempts, attachment, cause_id, kind, application_id, traceparent FROM mails
          WHERE sent_at IS NULL AND given_up_at IS NULL AND next_attempt_at <= now()
          ORDER BY next_attempt_at LIMIT 1
          FOR UPDATE SKIP LOCKED",
    )
    .fetch_optional(conn)
    .await
}

pub async fn mark_sent(conn: &mut PgConnection, id: Uuid, attempts: i32) -> sqlx::Result<()> {
    sqlx::query("UPDATE mails SET sent_at = now(), attempts = $2, last_error = NULL WHERE id = $1")
        .bind(id)
        .bind(attempts)
        .execute(conn)
        .await
        .map(|_| ())
}

/// Parks a mail for good, with the reason.
pub async fn give_up(
    conn: &mut PgConnection,
    id: Uuid,
    attempts: i32,
    error: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE mails SET given_up_at = now(), attempts = $2, last_error = $3 WHERE id = $1",
    )
    .bind(id)
    .bind(attempts)
    .bind(error)
    .execute(conn)
    .await
    .map(|_| ())
}

/// Schedules another try after `delay_seconds`.
pub async fn retry_later(
    conn: &mut PgConnection,
    id: Uuid,
    attempts: i32,
    error: &str,
    delay_seconds: f64,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE mails SET attempts = $2, last_error = $3,
                next_attempt_at = now() + make_interval(secs => $4) WHERE id = $1",
    )
    .bind(id)
    .bind(attempts)
    .bind(error)
    .bind(delay_seconds)
    .execute(conn)
    .await
    .map(|_| ())
}
