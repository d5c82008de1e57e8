//! Applications, as `application.created` told of them: whose they are, and of which body.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

/// The kinds of file an application's round accepts, per document type.
pub type AllowedTypes =
    std::collections::BTreeMap<kutse_domain::DocumentType, Vec<kutse_domain::FileKind>>;

/// Records an application; the first announcement stands.
pub async fn record(
    conn: &mut PgConnection,
    application: Uuid,
    awarding_body: Uuid,
    applicant: &str,
    allowed_types: &AllowedTypes,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO applications (application_id, awarding_body_id, applicant, allowed_types)
         VALUES ($1, $2, $3, $4)
         ON CONFLICT (application_id) DO NOTHING",
    )
    .bind(application)
    .bind(awarding_body)
    .bind(applicant)
    .bind(sqlx::types::Json(allowed_types))
    .execute(conn)
    .await
    .map(|_| ())
}

/// Closes an application for uploads (it was submitted at `at`); records the application too if
/// its creation has not arrived yet. The first submission stands.
pub async fn close_for_uploads(
    conn: &mut PgConnection,
    application: Uuid,
    awarding_body: Uuid,
    applicant: &str,
    at: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO applications (application_id, awarding_body_id, applicant, submitted_at)
         VALUES ($1, $2, $3, $4)
         ON CONFLICT (application_id) DO UPDATE SET submitted_at = EXCLUDED.submitted_at
          WHERE applications.submitted_at IS NULL",
    )
    .bind(application)
    .bind(awarding_body)
    .bind(applicant)
    .bind(at)
    .execute(conn)
    .await
    .map(|_| ())
}

/// An application as an upload to it is checked: whose it is, whether it is still a draft, and
/// what is stored for it so far.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UploadTarget {
    pub applicant: String,
    pub allowed_types: sqlx::types::Json<AllowedTypes>,
    pub submitted_at: Option<DateTime<Utc>>,
    pub documents: i64,
    pub bytes: i64,
}

/// The application `application` as an upload sees it, if it is known (yet); `lock` holds its row
/// for the transaction first (so two uploads cannot both fit the last of the quota: the counts are
/// read after the lock is held, in a statement of their own, and so see what the other committed).
pub async fn upload_target(
    conn: &mut PgConnection,
    application: Uuid,
    lock: bool,
) -> sqlx::Result<Option<UploadTarget>> {
    if lock {
        let known: Option<i32> =
            sqlx::query_scalar("SELECT 1 FROM applications WHERE application_id = $1 FOR UPDATE")
                .bind(application)
                .fetch_optional(&mut *conn)
                .await?;
        if known.is_none() {
            return Ok(None);
        }
    }
    sqlx::query_as(
        "SELECT a.applicant, a.allowed_types, a.submitted_at,
                (SELECT count(*) FROM documents d WHERE d.application_id = a.application_id) AS documents,
                (SELECT COALESCE(sum(size_bytes), 0)::bigint FROM documents d WHERE d.application_id = a.application_id) AS bytes
           FROM applications a WHERE a.application_id = $1",
    )
    .bind(application)
    .fetch_optional(conn)
    .await
}

/// Records a request for more documents: uploads of `types` are accepted until `open_until`.
/// The first announcement stands.
pub async fn open_request(
    conn: &mut PgConnection,
    request: Uuid,
    application: Uuid,
    types: &[String],
    open_until: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO upload_requests (request_id, application_id, document_types, open_until)
         VALUES ($1, $2, $3, $4) ON CONFLICT (request_id) DO NOTHING",
    )
    .bind(request)
    .bind(application)
    .bind(types)
    .bind(open_until)
    .execute(conn)
    .await
    .map(|_| ())
}

/// Closes a request: no more uploads against it.
pub async fn close_request(conn: &mut PgConnection, request: Uuid) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE upload_requests SET closed_at = now() WHERE request_id = $1 AND closed_at IS NULL",
    )
    .bind(request)
    .execute(conn)
    .await
    .map(|_| ())
}

/// The open request of `application` that asks for `document_type`, if any.
pub async fn request_for(
    conn: &mut PgConnection,
    application: Uuid,
    document_type: &str,
) -> sqlx::Result<Option<Uuid>> {
    sqlx::query_scalar(
        "SELECT request_id FROM upload_requests
          WHERE application_id = $1 AND closed_at IS NULL AND open_until > now()
            AND $2 = ANY (document_types)
          ORDER BY open_until LIMIT 1",
    )
    .bind(application)
    .bind(document_type)
    .fetch_optional(conn)
    .await
}
