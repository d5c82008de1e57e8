//! Decided applications waiting for (or on the agenda of) a session.

use kutse_messaging::catalogue::AssessmentDecided;
use sqlx::PgConnection;
use uuid::Uuid;

/// Puts a decided application on the waiting agenda; `false` if it was there already.
pub async fn add(conn: &mut PgConnection, d: &AssessmentDecided) -> sqlx::Result<bool> {
    sqlx::query(
        "INSERT INTO agenda_items (application_id, round_id, awarding_body_id, all_accepted, decided_at)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (application_id) DO NOTHING",
    )
    .bind(d.application_id)
    .bind(d.round_id)
    .bind(d.awarding_body_id)
    .bind(d.all_accepted)
    .bind(d.decided_at)
    .execute(conn)
    .await
    .map(|r| r.rows_affected() == 1)
}

/// Whether the agenda holds this very decision (first write wins: another is refused).
pub async fn holds(conn: &mut PgConnection, d: &AssessmentDecided) -> sqlx::Result<bool> {
    sqlx::query_scalar(
        "SELECT round_id = $2 AND awarding_body_id = $3 AND all_accepted = $4 AND decided_at = $5
           FROM agenda_items WHERE application_id = $1",
    )
    .bind(d.application_id)
    .bind(d.round_id)
    .bind(d.awarding_body_id)
    .bind(d.all_accepted)
    .bind(d.decided_at)
    .fetch_one(conn)
    .await
}

/// Takes the application off the agenda (an upheld appeal reopened its assessment): the panel's
/// new decision joins the agenda afresh.
pub async fn reopen(conn: &mut PgConnection, application: Uuid) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM agenda_items WHERE application_id = $1")
        .bind(application)
        .execute(conn)
        .await
        .map(|_| ())
}

/// Whether the application sits on a session whose protocol is frozen or signed and not yet
/// answered by the register.
pub async fn awaiting_register(conn: &mut PgConnection, application: Uuid) -> sqlx::Result<bool> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM agenda_items a JOIN sessions s ON s.id = a.session_id
                         WHERE a.application_id = $1 AND s.status IN ('closed', 'signed')
                           AND s.register_outcome IS NULL)",
    )
    .bind(application)
    .fetch_one(conn)
    .await
}
