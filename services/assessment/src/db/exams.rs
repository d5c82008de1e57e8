//! Exam events, registrations and results.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

/// An exam event.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct Exam {
    pub id: Uuid,
    pub awarding_body_id: Uuid,
    pub round_id: Uuid,
    pub starts_at: DateTime<Utc>,
    pub place: String,
    pub capacity: i32,
    pub competences: Vec<String>,
    /// Registrations so far.
    pub registered: i64,
}

const COLUMNS: &str =
    "e.id, e.awarding_body_id, e.round_id, e.starts_at, e.place, e.capacity, e.competences,
        (SELECT count(*) FROM exam_registrations r WHERE r.exam_id = e.id) AS registered";

/// A new exam event.
#[derive(Debug, Clone)]
pub struct NewExam<'a> {
    pub id: Uuid,
    pub awarding_body_id: Uuid,
    pub round_id: Uuid,
    pub starts_at: DateTime<Utc>,
    pub place: &'a str,
    pub capacity: i32,
    pub competences: &'a [String],
    pub created_by: &'a str,
}

pub async fn insert(conn: &mut PgConnection, e: &NewExam<'_>) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO exams (id, awarding_body_id, round_id, starts_at, place, capacity, competences, created_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(e.id)
    .bind(e.awarding_body_id)
    .bind(e.round_id)
    .bind(e.starts_at)
    .bind(e.place)
    .bind(e.capacity)
    .bind(e.competences)
    .bind(e.created_by)
    .execute(conn)
    .await
    .map(|_| ())
}

/// An exam; `lock` holds its row for the transaction (registrations are counted under it, so
/// concurrent registrations never exceed the capacity).
pub async fn find(conn: &mut PgConnection, id: Uuid, lock: bool) -> sqlx::Result<Option<Exam>> {
    if lock {
        sqlx::query("SELECT 1 FROM exams WHERE id = $1 FOR UPDATE")
            .bind(id)
            .execute(&mut *conn)
            .await?;
    }
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM exams e WHERE e.id = $1"
    )))
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// The round's exams, soonest first.
pub async fn of_round(conn: &mut PgConnection, round: Uuid) -> sqlx::Result<Vec<Exam>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM exams e WHERE e.round_id = $1 ORDER BY e.starts_at, e.id"
    )))
    .bind(round)
    .fetch_all(conn)
    .await
}

/// Registers an application; `false` if it was registered already.
pub async fn register(
    conn: &mut PgConnection,
    exam: Uuid,
    application: Uuid,
) -> sqlx::Result<bool> {
    sqlx::query(
        "INSERT INTO exam_registrations (exam_id, application_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
    )
    .bind(exam)
    .bind(application)
    .execute(conn)
    .await
    .map(|r| r.rows_affected() == 1)
}

/// Whether the application is registered for the exam.
pub async fn is_registered(
    conn: &mut PgConnection,
    exam: Uuid,
    application: Uuid,
) -> sqlx::Result<bool> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM exam_registrations WHERE exam_id = $1 AND application_id = $2)",
    )
    .bind(exam)
    .bind(application)
    .fetch_one(conn)
    .await
}

/// Records (or corrects) a result.
pub async fn record_result(
    conn: &mut PgConnection,
    exam: Uuid,
    application: Uuid,
    code: &str,
    passed: bool,
    note: Option<&str>,
    by: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO exam_results (exam_id, application_id, code, passed, note, entered_by)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (exam_id, application_id, code)
         DO UPDATE SET passed = $4, note = $5, entered_by = $6, entered_at = now()",
    )
    .bind(exam)
    .bind(application)
    .bind(code)
    .bind(passed)
    .bind(note)
    .bind(by)
    .execute(conn)
    .await
    .map(|_| ())
}

/// An exam result as the case shows it.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct ExamResult {
    pub exam_id: Uuid,
    pub starts_at: DateTime<Utc>,
    pub code: String,
    pub passed: bool,
    pub note: Option<String>,
}

/// The application's exam results, by exam and competence.
pub async fn results_of(
    conn: &mut PgConnection,
    application: Uuid,
) -> sqlx::Result<Vec<ExamResult>> {
    sqlx::query_as(
        "SELECT r.exam_id, e.starts_at, r.code, r.passed, r.note
           FROM exam_results r JOIN exams e ON e.id = r.exam_id
          WHERE r.application_id = $1 ORDER BY e.starts_at, r.code",
    )
    .bind(application)
    .fetch_all(conn)
    .await
}

/// The application of `applicant` in `round` of `body`, if they have a case there.
pub async fn case_in_round(
    conn: &mut PgConnection,
    round: Uuid,
    body: Uuid,
    applicant: &str,
) -> sqlx::Result<Option<Uuid>> {
    sqlx::query_scalar(
        "SELECT application_id FROM cases WHERE round_id = $1 AND awarding_body_id = $2 AND applicant = $3
          ORDER BY opened_at DESC LIMIT 1",
    )
    .bind(round)
    .bind(body)
    .bind(applicant)
    .fetch_optional(conn)
    .await
}

/// Whether any case of `round` belongs to a body other than `body` (the round is not its).
pub async fn round_of_another_body(
    conn: &mut PgConnection,
    round: Uuid,
    body: Uuid,
) -> sqlx::Result<bool> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM cases WHERE round_id = $1 AND awarding_body_id <> $2)",
    )
    .bind(round)
    .bind(body)
    .fetch_one(conn)
    .await
}
