//! Assessment cases.

use chrono::{DateTime, NaiveDate, Utc};
use kutse_messaging::catalogue::ApplicationSubmitted;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::CaseStatus;

/// A case as the API needs it to authorise and act.
#[derive(Debug, Clone)]
pub struct Case {
    pub awarding_body_id: Uuid,
    /// The applicant's personal code.
    pub applicant: String,
    pub status: CaseStatus,
    /// The application as submitted (competences applied for, applicant).
    pub submission: ApplicationSubmitted,
}

#[derive(sqlx::FromRow)]
struct CaseRow {
    awarding_body_id: Uuid,
    applicant: String,
    status: String,
    submission: serde_json::Value,
}

/// The case of `application`, locked for the transaction when `lock` is set.
pub async fn find(
    conn: &mut PgConnection,
    application: Uuid,
    lock: bool,
) -> sqlx::Result<Option<Case>> {
    let sql = if lock {
        "SELECT awarding_body_id, applicant, status, submission FROM cases WHERE application_id = $1 FOR UPDATE"
    } else {
        "SELECT awarding_body_id, applicant, status, submission FROM cases WHERE application_id = $1"
    };
    let row: Option<CaseRow> = sqlx::query_as(sql)
        .bind(application)
        .fetch_optional(conn)
        .await?;
    row.map(|row| {
        let decode = |e: String| sqlx::Error::Decode(e.into());
        Ok(Case {
            awarding_body_id: row.awarding_body_id,
            applicant: row.applicant,
            status: CaseStatus::parse(&row.status)
                .ok_or_else(|| decode(format!("unknown case status {:?}", row.status)))?,
            submission: serde_json::from_value(row.submission)
                .map_err(|e| decode(format!("stored submission: {e}")))?,
        })
    })
    .transpose()
}

/// Opens the case of a submitted application, due `review_due`; the first submission stands
/// (`false` if the case was already open).
pub async fn open(
    conn: &mut PgConnection,
    submitted: &ApplicationSubmitted,
    review_due: NaiveDate,
) -> sqlx::Result<bool> {
    let submission =
        serde_json::to_value(submitted).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
    sqlx::query(
        "INSERT INTO cases (application_id, round_id, awarding_body_id, applicant, round_deadline, review_due, submission)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (application_id) DO NOTHING",
    )
    .bind(submitted.application_id)
    .bind(submitted.round_id)
    .bind(submitted.awarding_body_id)
    .bind(submitted.applicant.isikukood.to_string())
    .bind(submitted.round_deadline)
    .bind(review_due)
    .bind(submission)
    .execute(conn)
    .await
    .map(|r| r.rows_affected() == 1)
}

/// The next decision number of `year`: `HK-<year>-<six digits>` (hindamiskomisjoni otsus).
pub async fn next_decision_number(conn: &mut PgConnection, year: i32) -> sqlx::Result<String> {
    let seq: i64 = sqlx::query_scalar("SELECT nextval('decision_number_seq')")
        .fetch_one(conn)
        .await?;
    Ok(format!("HK-{year}-{seq:06}"))
}

/// Marks the case decided (`open` → `decided`) with its number and the day the applicant must
/// be told by; `false` if it was not open.
pub async fn mark_decided(
    conn: &mut PgConnection,
    application: Uuid,
    decided_at: DateTime<Utc>,
    recommendations: Option<&str>,
    decision_number: &str,
    notice_due: NaiveDate,
    message_id: Uuid,
) -> sqlx::Result<bool> {
    sqlx::query(
        "UPDATE cases SET status = 'decided', decided_at = $2, recommendations = $3,
                          decision_number = $4, notice_due = $5, decision_message_id = $6
          WHERE application_id = $1 AND status = 'open'",
    )
    .bind(application)
    .bind(decided_at)
    .bind(recommendations)
    .bind(decision_number)
    .bind(notice_due)
    .bind(message_id)
    .execute(conn)
    .await
    .map(|r| r.rows_affected() == 1)
}

/// Records when the applicant was told the decision the message `decision_message` announced
/// (the first report stands; a notice of an earlier decision, before an upheld appeal reopened
/// the case, changes nothing).
pub async fn noticed(
    conn: &mut PgConnection,
    application: Uuid,
    decision_message: Uuid,
    at: DateTime<Utc>,
) -> sqlx::Result<bool> {
    sqlx::query(
        "UPDATE cases SET noticed_at = $3
          WHERE application_id = $1 AND status = 'decided' AND decision_message_id = $2
            AND noticed_at IS NULL",
    )
    .bind(application)
    .bind(decision_message)
    .bind(at)
    .execute(conn)
    .await
    .map(|r| r.rows_affected() == 1)
}

/// Records that the qualification was awarded (the first report stands).
pub async fn awarded(
    conn: &mut PgConnection,
    application: Uuid,
    at: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE cases SET awarded_at = $2 WHERE application_id = $1 AND awarded_at IS NULL")
        .bind(application)
        .bind(at)
        .execute(conn)
        .await
        .map(|_| ())
}

/// Locks the case's row (two requests of one case closing at once are applied one after the
/// other, each on the other's extension).
pub async fn lock(conn: &mut PgConnection, application: Uuid) -> sqlx::Result<()> {
    sqlx::query("SELECT 1 FROM cases WHERE application_id = $1 FOR UPDATE")
        .bind(application)
        .execute(conn)
        .await
        .map(|_| ())
}

/// Records a document stored for an application (what evidence may name).
pub async fn add_document(
    conn: &mut PgConnection,
    application: Uuid,
    document: Uuid,
    document_type: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO case_documents (document_id, application_id, document_type) VALUES ($1, $2, $3)
         ON CONFLICT DO NOTHING",
    )
    .bind(document)
    .bind(application)
    .bind(document_type)
    .execute(conn)
    .await
    .map(|_| ())
}

/// The ids of the documents stored for an application.
pub async fn documents(conn: &mut PgConnection, application: Uuid) -> sqlx::Result<Vec<Uuid>> {
    sqlx::query_scalar("SELECT document_id FROM case_documents WHERE application_id = $1")
        .bind(application)
        .fetch_all(conn)
        .await
}

/// A case's dates and outcome, as its view shows them.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Progress {
    pub status: String,
    pub round_deadline: chrono::NaiveDate,
    pub review_due: chrono::NaiveDate,
    pub extension_days: i32,
    pub recommendations: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    pub decision_number: Option<String>,
    pub notice_due: Option<NaiveDate>,
    pub noticed_at: Option<DateTime<Utc>>,
}

pub async fn progress(conn: &mut PgConnection, application: Uuid) -> sqlx::Result<Progress> {
    sqlx::query_as(
        "SELECT status, round_deadline, review_due, extension_days, recommendations, decided_at, decision_number, notice_due, noticed_at FROM cases WHERE application_id = $1",
    )
    .bind(application)
    .fetch_one(conn)
    .await
}

/// The panel's decision on one competence.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CompetenceDecision {
    pub code: String,
    pub accepted: bool,
    pub justification: String,
    pub evidence: Vec<Uuid>,
}

pub async fn decisions(
    conn: &mut PgConnection,
    application: Uuid,
) -> sqlx::Result<Vec<CompetenceDecision>> {
    sqlx::query_as(
        "SELECT code, accepted, justification, evidence FROM competence_decisions WHERE application_id = $1",
    )
    .bind(application)
    .fetch_all(conn)
    .await
}

/// Records (or changes, while the case is open) the panel's decision on a competence.
pub async fn decide(
    conn: &mut PgConnection,
    application: Uuid,
    code: &str,
    accepted: bool,
    justification: &str,
    evidence: &[Uuid],
    by: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO competence_decisions (application_id, code, accepted, justification, decided_by, evidence)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (application_id, code)
         DO UPDATE SET accepted = $3, justification = $4, decided_by = $5, evidence = $6, decided_at = now()",
    )
    .bind(application)
    .bind(code)
    .bind(accepted)
    .bind(justification)
    .bind(by)
    .bind(evidence)
    .execute(conn)
    .await
    .map(|_| ())
}

/// Records when the applicant was told the committee refused (the first report stands).
pub async fn refused(
    conn: &mut PgConnection,
    application: Uuid,
    at: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE cases SET refused_at = $2 WHERE application_id = $1 AND refused_at IS NULL")
        .bind(application)
        .bind(at)
        .execute(conn)
        .await
        .map(|_| ())
}

/// Reopens a decided case for assessment (an upheld appeal): the panel decides again, and the
/// new decision is numbered and told anew. The competence decisions stay as the starting point.
pub async fn reopen(conn: &mut PgConnection, application: Uuid) -> sqlx::Result<bool> {
    sqlx::query(
        "UPDATE cases SET status = 'open', decided_at = NULL, decision_number = NULL,
                          notice_due = NULL, noticed_at = NULL, refused_at = NULL,
                          decision_message_id = NULL, reopened_at = now()
          WHERE application_id = $1 AND status = 'decided'",
    )
    .bind(application)
    .execute(conn)
    .await
    .map(|r| r.rows_affected() == 1)
}

/// When the qualification was awarded, and when the applicant was told the decision and the
/// committee's refusal, if they were.
pub async fn told(
    conn: &mut PgConnection,
    application: Uuid,
) -> sqlx::Result<(
    Option<DateTime<Utc>>,
    Option<DateTime<Utc>>,
    Option<DateTime<Utc>>,
)> {
    sqlx::query_as("SELECT awarded_at, noticed_at, refused_at FROM cases WHERE application_id = $1")
        .bind(application)
        .fetch_one(conn)
        .await
}
