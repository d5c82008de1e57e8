//! The documents stored for applications.

use sqlx::PgConnection;
use uuid::Uuid;

/// A stored document, as it is recorded (waiting to be scanned).
#[derive(Debug, Clone)]
pub struct NewDocument<'a> {
    pub id: Uuid,
    pub application_id: Uuid,
    /// The uploader's personal code.
    pub owner: &'a str,
    pub document_type: &'a str,
    pub file_name: Option<&'a str>,
    pub content_type: &'a str,
    pub object_key: &'a str,
    pub sha256: &'a str,
    pub size_bytes: i64,
    /// The request for more documents it answers, if uploaded under one.
    pub request_id: Option<Uuid>,
}

pub async fn insert(conn: &mut PgConnection, d: &NewDocument<'_>) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO documents (id, application_id, owner, document_type, file_name, content_type, object_key, sha256, size_bytes, scan_status, request_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'pending', $10)",
    )
    .bind(d.id)
    .bind(d.application_id)
    .bind(d.owner)
    .bind(d.document_type)
    .bind(d.file_name)
    .bind(d.content_type)
    .bind(d.object_key)
    .bind(d.sha256)
    .bind(d.size_bytes)
    .bind(d.request_id)
    .execute(conn)
    .await
    .map(|_| ())
}

/// What a download needs: whose it is, where it is.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Download {
    pub owner: String,
    /// `pending`, `clean` or `infected`.
    pub scan_status: String,
    pub scan_result: Option<String>,
    pub object_key: String,
    pub document_type: String,
    pub sha256: String,
    pub awarding_body_id: Uuid,
}

pub async fn for_download(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<Download>> {
    sqlx::query_as(
        "SELECT d.owner, d.scan_status, d.scan_result, d.object_key, d.document_type, d.sha256, a.awarding_body_id
           FROM documents d JOIN applications a ON a.application_id = d.application_id
          WHERE d.id = $1",
    )
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// A document waiting to be scanned, claimed for the transaction.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Pending {
    pub id: Uuid,
    pub content_type: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub application_id: Uuid,
    pub owner: String,
    pub document_type: String,
    pub object_key: String,
    pub sha256: String,
    pub size_bytes: i64,
    pub scan_attempts: i32,
    pub request_id: Option<Uuid>,
}

/// Leases the next document due for scanning: counts the attempt and puts the document out of
/// reach for `lease_seconds`, in a statement of its own (committed before the scan), so a scanner
/// that dies mid-scan — even for lack of memory — costs one attempt, and another replica takes the
/// document up only once the lease runs out. `FOR UPDATE SKIP LOCKED`: replicas lease different
/// documents.
pub async fn lease_pending(
    conn: &mut PgConnection,
    lease_seconds: f64,
) -> sqlx::Result<Option<Pending>> {
    sqlx::query_as(
        "UPDATE documents SET scan_attempts = scan_attempts + 1,
                next_scan_at = now() + make_interval(secs => $1)
          WHERE id = (SELECT id FROM documents
                       WHERE scan_status = 'pending' AND next_scan_at <= now()
                       ORDER BY next_scan_at LIMIT 1
                       FOR UPDATE SKIP LOCKED)
          RETURNING id, content_type, created_at, application_id, owner, document_type, object_key,
                    sha256, size_bytes, scan_attempts, request_id",
    )
    .bind(lease_seconds)
    .fetch_optional(conn)
    .await
}

/// Locks a leased document for recording its verdict; `false` if it is no longer pending (another
/// scanner recorded one after this one's lease ran out).
pub async fn lock_pending(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<bool> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM documents WHERE id = $1 AND scan_status = 'pending' FOR UPDATE)",
    )
    .bind(id)
    .fetch_one(conn)
    .await
}

/// Records a scan's verdict: `clean`, or `infected` with the signature and the object's new
/// (quarantine) key.
pub async fn scanned(
    conn: &mut PgConnection,
    id: Uuid,
    infected: Option<(&str, &str)>,
) -> sqlx::Result<()> {
    let (status, result, key) = match infected {
        Some((signature, quarantine_key)) => ("infected", Some(signature), Some(quarantine_key)),
        None => ("clean", None, None),
    };
    sqlx::query(
        "UPDATE documents SET scan_status = $2, scan_result = $3, scanned_at = now(),
                object_key = COALESCE($4, object_key)
          WHERE id = $1",
    )
    .bind(id)
    .bind(status)
    .bind(result)
    .bind(key)
    .execute(conn)
    .await
    .map(|_| ())
}

/// A scan that could not be made: tried again after `delay_seconds`, with the reason kept.
pub async fn scan_later(
    conn: &mut PgConnection,
    id: Uuid,
    error: &str,
    delay_seconds: f64,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE documents SET scan_result = $2, next_scan_at = now() + make_interval(secs => $3)
          WHERE id = $1",
    )
    .bind(id)
    .bind(error)
    .bind(delay_seconds)
    .execute(conn)
    .await
    .map(|_| ())
}

/// Records a signed container's report (it passed Kutse's checks).
pub async fn set_container(
    conn: &mut PgConnection,
    id: Uuid,
    report: &serde_json::Value,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE documents SET container = $2 WHERE id = $1")
        .bind(id)
        .bind(report)
        .execute(conn)
        .await
        .map(|_| ())
}

/// Refuses a document after upload (a signed container that fails its checks), with the reason:
/// it is never announced nor shown to the panel.
pub async fn reject(conn: &mut PgConnection, id: Uuid, reason: &str) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE documents SET scan_status = 'rejected', scan_result = $2, scanned_at = now()
          WHERE id = $1",
    )
    .bind(id)
    .bind(reason)
    .execute(conn)
    .await
    .map(|_| ())
}

/// A document's container report, if it is a checked container.
pub async fn container(
    conn: &mut PgConnection,
    id: Uuid,
) -> sqlx::Result<Option<serde_json::Value>> {
    sqlx::query_scalar("SELECT container FROM documents WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await
        .map(Option::flatten)
}
