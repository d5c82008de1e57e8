//! The PDF worker's queue: certificates without a stored PDF, leased in batches.

use sqlx::PgConnection;
use uuid::Uuid;

/// A certificate whose PDF is to be rendered.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ToRender {
    pub id: Uuid,
    pub register_number: String,
    /// The application whose submission names the holder's address: the awarded one, or a
    /// duplicate's own.
    pub application_id: Uuid,
    pub document: serde_json::Value,
    /// The applicant as the submission named them (e-mail, language).
    pub applicant: Option<serde_json::Value>,
    pub pdf_attempts: i32,
    /// The document's edition leased: a PDF is recorded only for the edition it was rendered
    /// from (a duplicate issued meanwhile is rendered anew).
    pub edition: i32,
    /// The trace context of the issuance or duplicate that asked for the PDF, continued by its
    /// rendering (and so by the e-mail that follows).
    pub traceparent: Option<String>,
}

/// Leases up to `limit` certificates without a PDF whose lease (or back-off) has run out and
/// which have been tried fewer than `max_attempts` times. Certificates issued before credentials
/// and PDFs existed (no credential) are not rendered: their holders were e-mailed then.
pub async fn lease(
    conn: &mut PgConnection,
    limit: i64,
    lease_seconds: f64,
    max_attempts: i32,
) -> sqlx::Result<Vec<ToRender>> {
    sqlx::query_as(
        "WITH leased AS (
            UPDATE certificates SET pdf_attempts = pdf_attempts + 1,
                   pdf_leased_until = now() + make_interval(secs => $2)
             WHERE id IN (SELECT id FROM certificates
                           WHERE pdf_sha256 IS NULL AND pdf_attempts < $3 AND credential IS NOT NULL
                             AND (pdf_leased_until IS NULL OR pdf_leased_until < now())
                           ORDER BY created_at LIMIT $1
                           FOR UPDATE SKIP LOCKED)
         RETURNING id, register_number, application_id, contact_application_id, document, pdf_attempts, edition,
                   traceparent)
         SELECT l.id, l.register_number, coalesce(l.contact_application_id, l.application_id) AS application_id,
                l.document, l.pdf_attempts, l.edition, l.traceparent, a.submission -> 'applicant' AS applicant
           FROM leased l
           LEFT JOIN applications a
                  ON a.application_id = coalesce(l.contact_application_id, l.application_id)",
    )
    .bind(limit)
    .bind(lease_seconds)
    .bind(max_attempts)
    .fetch_all(conn)
    .await
}

/// Records a stored PDF; `false` if one was recorded already (another replica finished after
/// this one's lease ran out), in which case nothing is to be announced.
pub async fn stored(
    conn: &mut PgConnection,
    id: Uuid,
    edition: i32,
    key: &str,
    sha256: &str,
    size: i64,
) -> sqlx::Result<bool> {
    sqlx::query(
        "UPDATE certificates SET pdf_key = $2, pdf_sha256 = $3, pdf_size = $4,
                pdf_rendered_at = now(), pdf_leased_until = NULL, pdf_error = NULL
          WHERE id = $1 AND pdf_sha256 IS NULL AND edition = $5",
    )
    .bind(id)
    .bind(key)
    .bind(sha256)
    .bind(size)
    .bind(edition)
    .execute(conn)
    .await
    .map(|r| r.rows_affected() == 1)
}

/// Records a failed attempt and when the next may start: the wait doubles from 30 s with each
/// attempt, up to an hour (an S3 outage is waited out for the better part of a day before the
/// certificate is given up on).
pub async fn failed(
    conn: &mut PgConnection,
    id: Uuid,
    edition: i32,
    error: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE certificates SET pdf_error = $2,
                pdf_leased_until = now() + make_interval(secs => least(3600, 30 * power(2, least(pdf_attempts, 12))))
          WHERE id = $1 AND edition = $3",
    )
    .bind(id)
    .bind(error)
    .bind(edition)
    .execute(conn)
    .await?;
    Ok(())
}

/// Certificates still without a PDF (for the benchmark and readiness details).
pub async fn pending(conn: &mut PgConnection) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT count(*) FROM certificates WHERE pdf_sha256 IS NULL")
        .fetch_one(conn)
        .await
}
