//! What the register knows of each application: its submission and the panel's decision, as
//! their events told it (first write wins).

use sqlx::PgConnection;
use uuid::Uuid;

/// A fact the register keeps about an application.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fact {
    Submission,
    Decision,
}

/// Stores `value` as the application's `fact` if it has none yet; `true` if it was stored.
pub async fn store_first(
    conn: &mut PgConnection,
    application: Uuid,
    fact: Fact,
    value: &serde_json::Value,
) -> sqlx::Result<bool> {
    let sql = match fact {
        Fact::Submission => {
            "INSERT INTO applications (application_id, submission) VALUES ($1, $2)
             ON CONFLICT (application_id) DO UPDATE SET submission = $2, updated_at = now()
              WHERE applications.submission IS NULL"
        }
        Fact::Decision => {
            "INSERT INTO applications (application_id, decision) VALUES ($1, $2)
             ON CONFLICT (application_id) DO UPDATE SET decision = $2, updated_at = now()
              WHERE applications.decision IS NULL"
        }
    };
    sqlx::query(sql)
        .bind(application)
        .bind(value)
        .execute(conn)
        .await
        .map(|r| r.rows_affected() == 1)
}

/// Whether the stored `fact` equals `value` (as JSON values, whatever the key order).
pub async fn holds(
    conn: &mut PgConnection,
    application: Uuid,
    fact: Fact,
    value: &serde_json::Value,
) -> sqlx::Result<bool> {
    let sql = match fact {
        Fact::Submission => "SELECT submission = $2 FROM applications WHERE application_id = $1",
        Fact::Decision => "SELECT decision = $2 FROM applications WHERE application_id = $1",
    };
    sqlx::query_scalar::<_, Option<bool>>(sql)
        .bind(application)
        .bind(value)
        .fetch_one(conn)
        .await
        .map(|same| same.unwrap_or(false))
}

/// The submission and decision of an application, locked: two protocols deciding it (on two
/// replicas) are applied one after the other, so the second sees the first's outcome.
pub async fn lock_known(
    conn: &mut PgConnection,
    application: Uuid,
) -> sqlx::Result<(Option<serde_json::Value>, Option<serde_json::Value>)> {
    let row: Option<(Option<serde_json::Value>, Option<serde_json::Value>)> = sqlx::query_as(
        "SELECT submission, decision FROM applications WHERE application_id = $1 FOR UPDATE",
    )
    .bind(application)
    .fetch_optional(conn)
    .await?;
    Ok(row.unwrap_or((None, None)))
}

/// The submission and decision of each of `applications`, locked in one statement (in id order,
/// so two replicas locking overlapping sets wait rather than deadlock). Applications the
/// register has never heard of are absent.
pub async fn lock_known_all(
    conn: &mut PgConnection,
    applications: &[Uuid],
) -> sqlx::Result<Vec<(Uuid, Option<serde_json::Value>, Option<serde_json::Value>)>> {
    sqlx::query_as(
        "SELECT application_id, submission, decision FROM applications
          WHERE application_id = ANY($1) ORDER BY application_id FOR UPDATE",
    )
    .bind(applications)
    .fetch_all(conn)
    .await
}

/// The applicant of an application as its submission named them (for e-mails about its
/// certificate).
pub async fn applicant(
    conn: &mut PgConnection,
    application: Uuid,
) -> sqlx::Result<Option<serde_json::Value>> {
    sqlx::query_scalar(
        "SELECT submission -> 'applicant' FROM applications WHERE application_id = $1",
    )
    .bind(application)
    .fetch_optional(conn)
    .await
    .map(Option::flatten)
}
