//! Duplicates: a new edition of a certificate's document on the holder's paid application; the
//! editions it superseded are kept as they were.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::status_list::{Entry, Purpose};

/// A certificate's current edition, locked.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Current {
    pub id: Uuid,
    pub register_number: String,
    pub holder: String,
    pub holder_salt: Option<String>,
    pub status: String,
    pub superseded_by: Option<String>,
    pub edition: i32,
    pub document: serde_json::Value,
    pub seal: String,
    pub credential: Option<String>,
    pub pdf_key: Option<String>,
    pub pdf_sha256: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// The certificate numbered `number`, locked for the transaction.
pub async fn lock(conn: &mut PgConnection, number: &str) -> sqlx::Result<Option<Current>> {
    sqlx::query_as(
        "SELECT id, register_number, holder, holder_salt, status, superseded_by, edition, document,
                seal, credential, pdf_key, pdf_sha256, created_at
           FROM certificates WHERE register_number = $1 FOR UPDATE",
    )
    .bind(number)
    .fetch_optional(conn)
    .await
}

/// Records that `application` asked for edition `edition` of `certificate`; `false` if that
/// application was applied before (a duplicate is issued once per application).
pub async fn record(
    conn: &mut PgConnection,
    application: Uuid,
    certificate: Uuid,
    edition: i32,
    reason: &str,
) -> sqlx::Result<bool> {
    sqlx::query(
        "INSERT INTO duplicates (application_id, certificate_id, edition, reason)
         VALUES ($1, $2, $3, $4) ON CONFLICT (application_id) DO NOTHING",
    )
    .bind(application)
    .bind(certificate)
    .bind(edition)
    .bind(reason)
    .execute(conn)
    .await
    .map(|r| r.rows_affected() == 1)
}

/// The certificate's entries in the status lists.
pub async fn entries(conn: &mut PgConnection, certificate: Uuid) -> sqlx::Result<Vec<Entry>> {
    let rows: Vec<(String, i32, i32)> = sqlx::query_as(
        "SELECT purpose, list, index FROM status_entries WHERE certificate_id = $1 ORDER BY purpose",
    )
    .bind(certificate)
    .fetch_all(conn)
    .await?;
    rows.into_iter()
        .map(|(purpose, list, index)| {
            let purpose = match purpose.as_str() {
                "revocation" => Purpose::Revocation,
                "suspension" => Purpose::Suspension,
                other => {
                    return Err(sqlx::Error::Decode(
                        format!("stored status purpose {other:?}").into(),
                    ));
                }
            };
            Ok(Entry {
                purpose,
                list,
                index,
            })
        })
        .collect()
}

/// Whether a duplicate was issued on `application` before.
pub async fn applied(conn: &mut PgConnection, application: Uuid) -> sqlx::Result<bool> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM duplicates WHERE application_id = $1)")
        .bind(application)
        .fetch_one(conn)
        .await
}

/// A new edition of a certificate's document.
#[derive(Debug)]
pub struct Edition<'a> {
    pub edition: i32,
    pub document: &'a serde_json::Value,
    pub seal: &'a str,
    pub credential: &'a str,
    /// The salt of the credential's identity hash (kept; new for certificates issued before
    /// credentials).
    pub salt: &'a str,
    /// The application whose address the new PDF is mailed to.
    pub contact: Uuid,
}

/// The new edition replaces the current one, which is kept in `certificate_editions`; its PDF is
/// to be rendered anew (the renderer is woken by a trigger), and mailed to the contact's address.
pub async fn replace(
    conn: &mut PgConnection,
    current: &Current,
    new: &Edition<'_>,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO certificate_editions (certificate_id, edition, document, seal, credential,
                                           pdf_key, pdf_sha256)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(current.id)
    .bind(current.edition)
    .bind(&current.document)
    .bind(&current.seal)
    .bind(&current.credential)
    .bind(&current.pdf_key)
    .bind(&current.pdf_sha256)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "UPDATE certificates
            SET edition = $2, document = $3, seal = $4, credential = $5, contact_application_id = $6,
                holder_salt = coalesce(holder_salt, $7),
                pdf_key = NULL, pdf_sha256 = NULL, pdf_size = NULL, pdf_rendered_at = NULL,
                pdf_attempts = 0, pdf_leased_until = NULL, pdf_error = NULL, traceparent = $8
          WHERE id = $1",
    )
    .bind(current.id)
    .bind(new.edition)
    .bind(new.document)
    .bind(new.seal)
    .bind(new.credential)
    .bind(new.contact)
    .bind(new.salt)
    // The new edition's PDF continues this trace (migration `render_trace`). A duplicate written
    // by an older replica during a rolling deploy leaves the issuance's context here, and its PDF
    // joins that older trace: harmless, and only during the deploy.
    .bind(kutse_telemetry::trace_headers().remove("traceparent"))
    .execute(conn)
    .await
    .map(|_| ())
}
