//! Appeals the committee resolves.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

/// Records a lodged appeal; the first announcement stands.
pub async fn record(
    conn: &mut PgConnection,
    lodged: &kutse_messaging::catalogue::AppealLodged,
) -> sqlx::Result<()> {
    let json = serde_json::to_value(lodged).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
    sqlx::query(
        "INSERT INTO appeals (id, application_id, awarding_body_id, lodged, lodged_at)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING",
    )
    .bind(lodged.appeal_id)
    .bind(lodged.application_id)
    .bind(lodged.awarding_body_id)
    .bind(json)
    .bind(lodged.lodged_at)
    .execute(conn)
    .await
    .map(|_| ())
}

/// An appeal as the committee sees it.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct Appeal {
    pub id: Uuid,
    pub application_id: Uuid,
    pub awarding_body_id: Uuid,
    /// The appeal as the applicant lodged it (grounds, contact).
    #[schema(value_type = Object)]
    pub lodged: serde_json::Value,
    pub lodged_at: DateTime<Utc>,
    pub status: String,
    pub resolution: Option<String>,
    pub resolved_at: Option<DateTime<Utc>>,
}

/// The body's appeals, those in progress first.
pub async fn of_body(conn: &mut PgConnection, body: Uuid) -> sqlx::Result<Vec<Appeal>> {
    sqlx::query_as(
        "SELECT id, application_id, awarding_body_id, lodged, lodged_at, status, resolution, resolved_at
           FROM appeals WHERE awarding_body_id = $1
          ORDER BY status <> 'lodged', lodged_at",
    )
    .bind(body)
    .fetch_all(conn)
    .await
}

/// An appeal, locked.
pub async fn lock(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<Appeal>> {
    sqlx::query_as(
        "SELECT id, application_id, awarding_body_id, lodged, lodged_at, status, resolution, resolved_at
           FROM appeals WHERE id = $1 FOR UPDATE",
    )
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// Records the resolution.
pub async fn resolve(
    conn: &mut PgConnection,
    id: Uuid,
    outcome: &str,
    reasons: &str,
    by: &str,
    at: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE appeals SET status = $2, resolution = $3, resolved_by = $4, resolved_at = $5 WHERE id = $1",
    )
    .bind(id)
    .bind(outcome)
    .bind(reasons)
    .bind(by)
    .bind(at)
    .execute(conn)
    .await
    .map(|_| ())
}
