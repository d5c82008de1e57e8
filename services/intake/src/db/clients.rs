//! Machine clients of awarding bodies.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Client {
    pub id: Uuid,
    pub awarding_body_id: Uuid,
    pub name: String,
    pub roles: Vec<String>,
    pub secret_sha256: String,
    pub broker_user: Option<String>,
    pub registered_by: String,
    pub registered_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub revoked_by: Option<String>,
    pub revocation_reason: Option<String>,
}

const COLUMNS: &str = "id, awarding_body_id, name, roles, secret_sha256, broker_user, registered_by, registered_at, revoked_at, revoked_by, revocation_reason";

#[derive(Debug, Clone)]
pub struct NewClient<'a> {
    pub id: Uuid,
    pub awarding_body_id: Uuid,
    pub name: &'a str,
    pub roles: &'a [String],
    pub secret_sha256: &'a str,
    pub broker_user: Option<&'a str>,
    pub registered_by: &'a str,
}

pub async fn insert(conn: &mut PgConnection, c: &NewClient<'_>) -> sqlx::Result<Client> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "INSERT INTO clients (id, awarding_body_id, name, roles, secret_sha256, broker_user, registered_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {COLUMNS}"
    )))
    .bind(c.id)
    .bind(c.awarding_body_id)
    .bind(c.name)
    .bind(c.roles)
    .bind(c.secret_sha256)
    .bind(c.broker_user)
    .bind(c.registered_by)
    .fetch_one(conn)
    .await
}

pub async fn find(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<Client>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM clients WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(conn)
    .await
}

pub async fn of_body(conn: &mut PgConnection, body: Uuid) -> sqlx::Result<Vec<Client>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM clients WHERE awarding_body_id = $1 ORDER BY registered_at, id"
    )))
    .bind(body)
    .fetch_all(conn)
    .await
}

/// Revokes a client; `None` if it was already revoked.
pub async fn revoke(
    conn: &mut PgConnection,
    id: Uuid,
    by: &str,
    reason: &str,
) -> sqlx::Result<Option<Client>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "UPDATE clients SET revoked_at = now(), revoked_by = $2, revocation_reason = $3
          WHERE id = $1 AND revoked_at IS NULL RETURNING {COLUMNS}"
    )))
    .bind(id)
    .bind(by)
    .bind(reason)
    .fetch_optional(conn)
    .await
}
