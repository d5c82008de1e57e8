//! Certificates nearing expiry, and the notices sent of it.

use chrono::NaiveDate;
use sqlx::PgConnection;
use uuid::Uuid;

/// A valid certificate expiring soon whose holder has not been told.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Expiring {
    pub id: Uuid,
    pub register_number: String,
    pub application_id: Uuid,
    pub valid_until: NaiveDate,
    pub document: serde_json::Value,
    pub applicant: Option<serde_json::Value>,
}

/// Valid certificates expiring from `today` up to `horizon` with no notice yet, in id order.
pub async fn due(
    conn: &mut PgConnection,
    today: NaiveDate,
    horizon: NaiveDate,
) -> sqlx::Result<Vec<Expiring>> {
    sqlx::query_as(
        "SELECT c.id, c.register_number, c.application_id, c.valid_until, c.document,
                a.submission -> 'applicant' AS applicant
           FROM certificates c
           LEFT JOIN applications a
                  ON a.application_id = coalesce(c.contact_application_id, c.application_id)
          WHERE c.status = 'valid' AND c.valid_until >= $1 AND c.valid_until <= $2
            AND NOT EXISTS (SELECT 1 FROM expiry_notices n WHERE n.certificate_id = c.id)
          ORDER BY c.id",
    )
    .bind(today)
    .bind(horizon)
    .fetch_all(conn)
    .await
}

/// Records a notice; `false` if one was recorded already (by another sweep).
pub async fn record(
    conn: &mut PgConnection,
    certificate: Uuid,
    valid_until: NaiveDate,
    today: NaiveDate,
) -> sqlx::Result<bool> {
    sqlx::query(
        "INSERT INTO expiry_notices (certificate_id, valid_until, noticed_on) VALUES ($1, $2, $3)
         ON CONFLICT DO NOTHING",
    )
    .bind(certificate)
    .bind(valid_until)
    .bind(today)
    .execute(conn)
    .await
    .map(|r| r.rows_affected() == 1)
}
