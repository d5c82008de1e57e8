//! Awarding bodies.

use sqlx::PgConnection;
use uuid::Uuid;

pub async fn insert(conn: &mut PgConnection, id: Uuid, name: &str) -> sqlx::Result<()> {
    sqlx::query("INSERT INTO awarding_bodies (id, name) VALUES ($1, $2)")
        .bind(id)
        .bind(name)
        .execute(conn)
        .await
        .map(|_| ())
}

/// The body's name, if it exists.
pub async fn name(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar("SELECT name FROM awarding_bodies WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await
}

/// Locks the body for the transaction (appointments to it are made one at a time); its name, if
/// it exists.
pub async fn lock(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar("SELECT name FROM awarding_bodies WHERE id = $1 FOR UPDATE")
        .bind(id)
        .fetch_optional(conn)
        .await
}
