//! The documents stored for applications.

use sqlx::PgConnection;
use uuid::Uuid;

/// A stored document, as it is recorded.
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
}

pub async fn insert(conn: &mut PgConnection, d: &NewDocument<'_>) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO documents (id, application_id, owner, document_type, file_name, content_type, object_key, sha256, size_bytes)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
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
    .execute(conn)
    .await
    .map(|_| ())
}

/// What a download needs: whose it is, where it is.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Download {
    pub owner: String,
    pub object_key: String,
    pub document_type: String,
    pub sha256: String,
    pub awarding_body_id: Uuid,
}

pub async fn for_download(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<Download>> {
    sqlx::query_as(
        "SELECT d.owner, d.object_key, d.document_type, d.sha256, a.awarding_body_id
           FROM documents d JOIN applications a ON a.application_id = d.application_id
          WHERE d.id = $1",
    )
    .bind(id)
    .fetch_optional(conn)
    .await
}
