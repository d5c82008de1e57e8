//! What signed protocols decided: certificates issued, refusals told.

use sqlx::PgConnection;
use uuid::Uuid;

/// `Some(true)` if the application holds a certificate, `Some(false)` if it was refused, `None`
/// if no signed protocol has decided it yet.
pub async fn decided(conn: &mut PgConnection, application: Uuid) -> sqlx::Result<Option<bool>> {
    sqlx::query_scalar(
        "SELECT true FROM certificates WHERE application_id = $1
         UNION ALL
         SELECT false FROM refusals WHERE application_id = $1
         LIMIT 1",
    )
    .bind(application)
    .fetch_optional(conn)
    .await
}

/// The register number of the application's certificate, if it has one.
pub async fn certificate_number(
    conn: &mut PgConnection,
    application: Uuid,
) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar("SELECT register_number FROM certificates WHERE application_id = $1")
        .bind(application)
        .fetch_optional(conn)
        .await
}

/// The next register number of `year`: `KT-<year>-<six digits>`.
pub async fn next_register_number(conn: &mut PgConnection, year: i32) -> sqlx::Result<String> {
    let seq: i64 = sqlx::query_scalar("SELECT nextval('register_number_seq')")
        .fetch_one(conn)
        .await?;
    Ok(format!("KT-{year}-{seq:06}"))
}

/// A certificate as it is issued.
#[derive(Debug, Clone)]
pub struct NewCertificate<'a> {
    pub id: Uuid,
    pub register_number: &'a str,
    pub application_id: Uuid,
    pub protocol_id: Uuid,
    /// The holder's personal code.
    pub holder: &'a str,
    pub issued_on: chrono::NaiveDate,
    pub valid_until: chrono::NaiveDate,
    pub document: serde_json::Value,
    pub seal: &'a str,
}

/// Issues a certificate; `false` if the application already holds one (one per application).
pub async fn insert_certificate(
    conn: &mut PgConnection,
    c: &NewCertificate<'_>,
) -> sqlx::Result<bool> {
    sqlx::query(
        "INSERT INTO certificates (id, register_number, application_id, protocol_id, holder, issued_on, valid_until, document, seal)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         ON CONFLICT (application_id) DO NOTHING",
    )
    .bind(c.id)
    .bind(c.register_number)
    .bind(c.application_id)
    .bind(c.protocol_id)
    .bind(c.holder)
    .bind(c.issued_on)
    .bind(c.valid_until)
    .bind(&c.document)
    .bind(c.seal)
    .execute(conn)
    .await
    .map(|r| r.rows_affected() == 1)
}

/// Records a refusal; `false` if the application was refused before.
pub async fn insert_refusal(
    conn: &mut PgConnection,
    application: Uuid,
    protocol: Uuid,
) -> sqlx::Result<bool> {
    sqlx::query(
        "INSERT INTO refusals (application_id, protocol_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
    )
    .bind(application)
    .bind(protocol)
    .execute(conn)
    .await
    .map(|r| r.rows_affected() == 1)
}

/// The seal of the certificate with this register number.
pub async fn seal(conn: &mut PgConnection, register_number: &str) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar("SELECT seal FROM certificates WHERE register_number = $1")
        .bind(register_number)
        .fetch_optional(conn)
        .await
}
