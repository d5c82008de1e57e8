//! The awarding body's desk: its applications, filtered and counted, and its rounds.

use sqlx::PgConnection;
use uuid::Uuid;

/// What the desk filters by.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub awarding_body_id: Uuid,
    pub round_id: Option<Uuid>,
    pub status: Option<String>,
    pub kind: Option<String>,
    /// Only applications an assessment clock was found overdue for (and not yet decided).
    pub overdue: bool,
    /// Only applications whose fee the body has not confirmed yet.
    pub fee_waiting: bool,
}

/// One application as the desk lists it.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize, utoipa::ToSchema)]
#[schema(as = DeskApplication)]
pub struct Row {
    pub id: Uuid,
    pub round_id: Uuid,
    pub applicant_name: String,
    pub status: String,
    pub kind: String,
    pub fee_confirmed: bool,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub submitted_at: Option<chrono::DateTime<chrono::Utc>>,
    pub overdue: bool,
    pub partner_code: Option<String>,
    /// The applicant's personal code: never shown on the desk, only tracked as read.
    #[serde(skip)]
    pub applicant: String,
}

/// An overdue finding of the application that still stands: the review and decision clocks are
/// met by the panel's decision, and moved by a request for documents that closed since (the
/// assessment's daily sweep raises the clock again if it is still overdue at its new day). A
/// late notice stands until the outcome (intake does not hear when the applicant was told).
macro_rules! standing_overdue {
    () => {
        "SELECT 1 FROM application_history h
         WHERE h.application_id = a.id AND h.event = 'assessment_overdue'
           AND NOT (h.detail ->> 'clock' IN ('review', 'decision') AND EXISTS (
                    SELECT 1 FROM application_history later
                     WHERE later.application_id = a.id AND later.id > h.id
                       AND later.event IN ('assessment_decided', 'request_closed')))"
    };
}

const ROW: &str = concat!(
    "a.id, a.round_id, concat_ws(' ', a.given_name, a.family_name) AS applicant_name,
        a.status, a.kind, a.fee_confirmed, a.created_at, a.submitted_at,
        (a.status = 'submitted' AND EXISTS (",
    standing_overdue!(),
    ")) AS overdue,
        a.partner_code, a.applicant"
);

const WHERE: &str = concat!(
    "a.awarding_body_id = $1
        AND ($2::uuid IS NULL OR a.round_id = $2)
        AND ($3::text IS NULL OR a.status = $3)
        AND ($4::text IS NULL OR a.kind = $4)
        AND (NOT $5 OR (a.status = 'submitted' AND EXISTS (",
    standing_overdue!(),
    ")))
        AND (NOT $6 OR (NOT a.fee_confirmed AND a.status IN ('draft', 'awaiting_fee')))"
);

/// A page of the body's applications, newest first, and how many match in all.
pub async fn page(
    conn: &mut PgConnection,
    f: &Filter,
    limit: i64,
    offset: i64,
) -> sqlx::Result<(Vec<Row>, i64)> {
    // The page and its total from one snapshot: read apart, an application that changed in
    // between (turned overdue, say) was counted on a page that did not show it.
    let mut tx = super::snapshot(conn).await?;
    let rows: Vec<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {ROW} FROM applications a WHERE {WHERE} ORDER BY a.created_at DESC, a.id LIMIT $7 OFFSET $8"
    )))
    .bind(f.awarding_body_id)
    .bind(f.round_id)
    .bind(&f.status)
    .bind(&f.kind)
    .bind(f.overdue)
    .bind(f.fee_waiting)
    .bind(limit)
    .bind(offset)
    .fetch_all(&mut *tx)
    .await?;
    let total: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT count(*) FROM applications a WHERE {WHERE}"
    )))
    .bind(f.awarding_body_id)
    .bind(f.round_id)
    .bind(&f.status)
    .bind(&f.kind)
    .bind(f.overdue)
    .bind(f.fee_waiting)
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok((rows, total))
}

/// How many of the body's applications (in the round, if given) are in each status.
pub async fn counts(
    conn: &mut PgConnection,
    body: Uuid,
    round: Option<Uuid>,
) -> sqlx::Result<Vec<(String, i64)>> {
    sqlx::query_as(
        "SELECT status, count(*) FROM applications
          WHERE awarding_body_id = $1 AND ($2::uuid IS NULL OR round_id = $2)
          GROUP BY status ORDER BY status",
    )
    .bind(body)
    .bind(round)
    .fetch_all(conn)
    .await
}

/// A round of the body, as its staff list them.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct RoundRow {
    pub id: Uuid,
    pub qualification_id: Uuid,
    /// The qualification's name.
    pub qualification: String,
    pub deadline: chrono::NaiveDate,
    /// Not closed.
    pub open: bool,
    /// How many applications the round has.
    pub applications: i64,
    /// An outside page with more information about the round.
    pub info_url: Option<String>,
}

pub async fn rounds(conn: &mut PgConnection, body: Uuid) -> sqlx::Result<Vec<RoundRow>> {
    sqlx::query_as(
        "SELECT r.id, r.qualification_id, q.name AS qualification, r.deadline, r.closed_at IS NULL AS open,
                (SELECT count(*) FROM applications a WHERE a.round_id = r.id) AS applications, r.info_url
           FROM rounds r JOIN qualifications q ON q.id = r.qualification_id
          WHERE r.awarding_body_id = $1 ORDER BY r.deadline DESC, r.id",
    )
    .bind(body)
    .fetch_all(conn)
    .await
}

/// A round's published extras: its "more information" page and prerequisites.
pub async fn extras(
    conn: &mut PgConnection,
    round: Uuid,
) -> sqlx::Result<(Option<String>, Option<String>)> {
    sqlx::query_as("SELECT info_url, prerequisites FROM rounds WHERE id = $1")
        .bind(round)
        .fetch_one(conn)
        .await
}

/// How many applications a round has.
pub async fn applications_of_round(conn: &mut PgConnection, round: Uuid) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT count(*) FROM applications WHERE round_id = $1")
        .bind(round)
        .fetch_one(conn)
        .await
}

/// Changes a round's deadline, required documents and published extras (only before its first
/// application; the caller checks, under the round's lock).
pub async fn update_round(
    conn: &mut PgConnection,
    round: Uuid,
    deadline: chrono::NaiveDate,
    required_documents: &[String],
    info_url: Option<&str>,
    prerequisites: Option<&str>,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE rounds SET deadline = $2, required_documents = $3, info_url = $4, prerequisites = $5
          WHERE id = $1",
    )
    .bind(round)
    .bind(deadline)
    .bind(required_documents)
    .bind(info_url)
    .bind(prerequisites)
    .execute(conn)
    .await
    .map(|_| ())
}

/// Locks a round's row (an update and a first application do not cross: creating an application
/// holds the round with `db::applications::create_all`).
pub async fn lock_round(conn: &mut PgConnection, round: Uuid) -> sqlx::Result<bool> {
    let found: Option<Uuid> = sqlx::query_scalar("SELECT id FROM rounds WHERE id = $1 FOR UPDATE")
        .bind(round)
        .fetch_optional(conn)
        .await?;
    Ok(found.is_some())
}
