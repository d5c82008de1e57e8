//! Appeals (vaie): lodged by the applicant, resolved by the committee.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

/// An appeal as the case shows it.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct Appeal {
    pub id: Uuid,
    pub against: String,
    pub reasons: String,
    pub documents: Vec<Uuid>,
    pub lodged_at: DateTime<Utc>,
    pub status: String,
    pub resolution: Option<String>,
    pub resolved_at: Option<DateTime<Utc>>,
}

/// Lodges an appeal; `false` if one is already in progress for the application.
pub async fn lodge(
    conn: &mut PgConnection,
    id: Uuid,
    application: Uuid,
    against: &str,
    reasons: &str,
    documents: &[Uuid],
    at: DateTime<Utc>,
) -> sqlx::Result<bool> {
    sqlx::query(
        "INSERT INTO appeals (id, application_id, against, reasons, documents, lodged_at)
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (application_id) WHERE status = 'lodged' DO NOTHING",
    )
    .bind(id)
    .bind(application)
    .bind(against)
    .bind(reasons)
    .bind(documents)
    .bind(at)
    .execute(conn)
    .await
    .map(|r| r.rows_affected() == 1)
}

/// The application's appeals, oldest first.
pub async fn of(conn: &mut PgConnection, application: Uuid) -> sqlx::Result<Vec<Appeal>> {
    sqlx::query_as(
        "SELECT id, against, reasons, documents, lodged_at, status, resolution, resolved_at
           FROM appeals WHERE application_id = $1 ORDER BY lodged_at, id",
    )
    .bind(application)
    .fetch_all(conn)
    .await
}

/// Records the committee's resolution of a lodged appeal; `false` if it was not in progress.
pub async fn resolve(
    conn: &mut PgConnection,
    id: Uuid,
    outcome: &str,
    reasons: &str,
    at: DateTime<Utc>,
) -> sqlx::Result<bool> {
    sqlx::query(
        "UPDATE appeals SET status = $2, resolution = $3, resolved_at = $4
          WHERE id = $1 AND status = 'lodged'",
    )
    .bind(id)
    .bind(outcome)
    .bind(reasons)
    .bind(at)
    .execute(conn)
    .await
    .map(|r| r.rows_affected() == 1)
}

/// Adds a document uploaded to a lodged appeal of `application` (`request` is the appeal's id);
/// `false` if no such appeal is lodged.
pub async fn add_document(
    conn: &mut PgConnection,
    request: Uuid,
    application: Uuid,
    document: Uuid,
) -> sqlx::Result<bool> {
    sqlx::query(
        "UPDATE appeals SET documents = array_append(documents, $3)
          WHERE id = $1 AND application_id = $2 AND status = 'lodged'
            AND NOT ($3 = ANY (documents))",
    )
    .bind(request)
    .bind(application)
    .bind(document)
    .execute(conn)
    .await
    .map(|r| r.rows_affected() == 1)
}
