//! Awarding bodies.

use sqlx::PgConnection;
use uuid::Uuid;

pub async fn insert(
    conn: &mut PgConnection,
    id: Uuid,
    name: &str,
    email: Option<&str>,
) -> sqlx::Result<()> {
    sqlx::query("INSERT INTO awarding_bodies (id, name, email) VALUES ($1, $2, $3)")
        .bind(id)
        .bind(name)
        .bind(email)
        .execute(conn)
        .await
        .map(|_| ())
}

/// The body's name and desk address, if it exists.
pub async fn find(
    conn: &mut PgConnection,
    id: Uuid,
) -> sqlx::Result<Option<(String, Option<String>)>> {
    sqlx::query_as("SELECT name, email FROM awarding_bodies WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await
}

/// Sets the body's desk address; `false` if there is no such body.
pub async fn set_email(
    conn: &mut PgConnection,
    id: Uuid,
    email: Option<&str>,
) -> sqlx::Result<bool> {
    sqlx::query("UPDATE awarding_bodies SET email = $2 WHERE id = $1")
        .bind(id)
        .bind(email)
        .execute(conn)
        .await
        .map(|r| r.rows_affected() == 1)
}

/// Locks the body for the transaction (appointments to it are made one at a time); its name, if
/// it exists.
pub async fn lock(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar("SELECT name FROM awarding_bodies WHERE id = $1 FOR UPDATE")
        .bind(id)
        .fetch_optional(conn)
        .await
}
