//! The bodies' people, from the role registry's `role.appointed` and `role.removed`.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

/// Records an appointment; a redelivery, or an appointment whose removal came first, changes
/// nothing already known.
pub async fn appointed(
    conn: &mut PgConnection,
    appointment: Uuid,
    person: &str,
    role: &str,
    body: Uuid,
    valid_from: NaiveDate,
    valid_to: Option<NaiveDate>,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO roster (appointment_id, person, role, awarding_body_id, valid_from, valid_to)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (appointment_id) DO UPDATE
            SET valid_from = EXCLUDED.valid_from, valid_to = EXCLUDED.valid_to
          WHERE roster.valid_from IS NULL",
    )
    .bind(appointment)
    .bind(person)
    .bind(role)
    .bind(body)
    .bind(valid_from)
    .bind(valid_to)
    .execute(conn)
    .await
    .map(|_| ())
}

/// Records a removal, whether or not the appointment has arrived yet; the first removal stands.
pub async fn removed(
    conn: &mut PgConnection,
    appointment: Uuid,
    person: &str,
    role: &str,
    body: Uuid,
    at: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO roster (appointment_id, person, role, awarding_body_id, removed_at)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (appointment_id) DO UPDATE SET removed_at = EXCLUDED.removed_at
          WHERE roster.removed_at IS NULL",
    )
    .bind(appointment)
    .bind(person)
    .bind(role)
    .bind(body)
    .bind(at)
    .execute(conn)
    .await
    .map(|_| ())
}

/// The people holding `role` at `body` on `day`, by personal code.
pub async fn holding(
    conn: &mut PgConnection,
    body: Uuid,
    role: &str,
    day: NaiveDate,
) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar(
        "SELECT DISTINCT person FROM roster
          WHERE awarding_body_id = $1 AND role = $2 AND removed_at IS NULL
            AND valid_from <= $3 AND (valid_to IS NULL OR valid_to >= $3)
          ORDER BY person",
    )
    .bind(body)
    .bind(role)
    .bind(day)
    .fetch_all(conn)
    .await
}

/// The committee on `day`: its members and its chair (personal codes, sorted, once each).
pub async fn committee(
    conn: &mut PgConnection,
    body: Uuid,
    day: NaiveDate,
) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar(
        "SELECT DISTINCT person FROM roster
          WHERE awarding_body_id = $1 AND role IN ('committee_member', 'committee_chair')
            AND removed_at IS NULL AND valid_from <= $2 AND (valid_to IS NULL OR valid_to >= $2)
          ORDER BY person",
    )
    .bind(body)
    .bind(day)
    .fetch_all(conn)
    .await
}
