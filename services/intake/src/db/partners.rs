//! Partner organisations a body has authorised.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Partner {
    pub id: Uuid,
    pub awarding_body_id: Uuid,
    pub registry_code: String,
    pub name: String,
    pub authorised_by: String,
    pub authorised_at: DateTime<Utc>,
    pub withdrawn_at: Option<DateTime<Utc>>,
    pub withdrawn_by: Option<String>,
    pub withdrawal_reason: Option<String>,
    /// The round, or the qualification, the authorisation is limited to (neither: all).
    pub round_id: Option<Uuid>,
    pub qualification_id: Option<Uuid>,
}

const COLUMNS: &str = "id, awarding_body_id, registry_code, name, authorised_by, authorised_at, withdrawn_at, withdrawn_by, withdrawal_reason, round_id, qualification_id";

/// Authorises a partner; `None` if it is authorised already (in force).
pub async fn authorise(
    conn: &mut PgConnection,
    body: Uuid,
    registry_code: &str,
    name: &str,
    by: &str,
    scope: (Option<Uuid>, Option<Uuid>),
) -> sqlx::Result<Option<Partner>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "INSERT INTO partners (id, awarding_body_id, registry_code, name, authorised_by, round_id, qualification_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (awarding_body_id, registry_code) WHERE withdrawn_at IS NULL DO NOTHING
         RETURNING {COLUMNS}"
    )))
    .bind(Uuid::now_v7())
    .bind(body)
    .bind(registry_code)
    .bind(name)
    .bind(by)
    .bind(scope.0)
    .bind(scope.1)
    .fetch_optional(conn)
    .await
}

/// Withdraws an authorisation; `None` if there was no such partner in force.
pub async fn withdraw(
    conn: &mut PgConnection,
    body: Uuid,
    registry_code: &str,
    by: &str,
    reason: &str,
) -> sqlx::Result<Option<Partner>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "UPDATE partners SET withdrawn_at = now(), withdrawn_by = $3, withdrawal_reason = $4
          WHERE awarding_body_id = $1 AND registry_code = $2 AND withdrawn_at IS NULL
          RETURNING {COLUMNS}"
    )))
    .bind(body)
    .bind(registry_code)
    .bind(by)
    .bind(reason)
    .fetch_optional(conn)
    .await
}

pub async fn of_body(conn: &mut PgConnection, body: Uuid) -> sqlx::Result<Vec<Partner>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM partners WHERE awarding_body_id = $1 ORDER BY registry_code, authorised_at"
    )))
    .bind(body)
    .fetch_all(conn)
    .await
}

/// Whether `registry_code` is a partner of `body` in force.
pub async fn in_force(
    conn: &mut PgConnection,
    body: Uuid,
    registry_code: &str,
) -> sqlx::Result<bool> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM partners
          WHERE awarding_body_id = $1 AND registry_code = $2 AND withdrawn_at IS NULL)",
    )
    .bind(body)
    .bind(registry_code)
    .fetch_one(conn)
    .await
}

/// Whether the partner is authorised, now, for applications to `round` (of `qualification`) of
/// `body`.
pub async fn authorised_for(
    conn: &mut PgConnection,
    body: Uuid,
    registry_code: &str,
    round: Uuid,
    qualification: Uuid,
) -> sqlx::Result<bool> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM partners
                         WHERE awarding_body_id = $1 AND registry_code = $2 AND withdrawn_at IS NULL
                           AND (round_id IS NULL OR round_id = $3)
                           AND (qualification_id IS NULL OR qualification_id = $4))",
    )
    .bind(body)
    .bind(registry_code)
    .bind(round)
    .bind(qualification)
    .fetch_one(conn)
    .await
}
