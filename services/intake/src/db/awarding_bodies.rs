//! Awarding bodies.

use sqlx::PgConnection;

use crate::domain::RecertificationWindow;
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

/// The body's recertification window: months before a certificate's expiry and months after it
/// within which a recertification may be applied for.
pub async fn recertification_window(
    conn: &mut PgConnection,
    id: Uuid,
) -> sqlx::Result<Option<RecertificationWindow>> {
    let row: Option<(i32, i32)> = sqlx::query_as(
        "SELECT recertification_months_before, recertification_months_after
           FROM awarding_bodies WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(conn)
    .await?;
    // The columns are checked 0-60 by the database.
    Ok(row.map(|(before, after)| RecertificationWindow {
        months_before: u32::try_from(before).unwrap_or(0),
        months_after: u32::try_from(after).unwrap_or(0),
    }))
}

/// Sets the body's recertification window; `false` if there is no such body.
pub async fn set_recertification_window(
    conn: &mut PgConnection,
    id: Uuid,
    window: RecertificationWindow,
) -> sqlx::Result<bool> {
    sqlx::query(
        "UPDATE awarding_bodies SET recertification_months_before = $2,
                recertification_months_after = $3 WHERE id = $1",
    )
    .bind(id)
    .bind(i32::try_from(window.months_before).unwrap_or(i32::MAX))
    .bind(i32::try_from(window.months_after).unwrap_or(i32::MAX))
    .execute(conn)
    .await
    .map(|r| r.rows_affected() == 1)
}
