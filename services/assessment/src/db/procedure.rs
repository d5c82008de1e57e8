//! The procedure's tables: assignments, requests for more documents, overdue findings.

use chrono::NaiveDate;
use sqlx::PgConnection;
use uuid::Uuid;

/// Assigns `assessor` to the case; `false` if they already were.
pub async fn assign(
    conn: &mut PgConnection,
    application: Uuid,
    assessor: &str,
    by: &str,
) -> sqlx::Result<bool> {
    sqlx::query(
        "INSERT INTO assignments (application_id, assessor, assigned_by) VALUES ($1, $2, $3)
         ON CONFLICT DO NOTHING",
    )
    .bind(application)
    .bind(assessor)
    .bind(by)
    .execute(conn)
    .await
    .map(|r| r.rows_affected() == 1)
}

/// The personal codes of the case's assessors, in the order they were assigned.
pub async fn assessors(conn: &mut PgConnection, application: Uuid) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar(
        "SELECT assessor FROM assignments WHERE application_id = $1 ORDER BY assigned_at, assessor",
    )
    .bind(application)
    .fetch_all(conn)
    .await
}

/// A request as it is made.
#[derive(Debug, Clone)]
pub struct NewRequest<'a> {
    pub id: Uuid,
    pub application_id: Uuid,
    pub documents: serde_json::Value,
    pub reason: &'a str,
    pub due_on: NaiveDate,
    pub requested_by: &'a str,
    pub requested_on: NaiveDate,
}

pub async fn insert_request(conn: &mut PgConnection, r: &NewRequest<'_>) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO document_requests (id, application_id, documents, reason, due_on, requested_by, requested_on)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(r.id)
    .bind(r.application_id)
    .bind(&r.documents)
    .bind(r.reason)
    .bind(r.due_on)
    .bind(r.requested_by)
    .bind(r.requested_on)
    .execute(conn)
    .await
    .map(|_| ())
}

/// A request as the case shows it.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct Request {
    pub id: Uuid,
    pub application_id: Uuid,
    /// The documents asked for: `[{document_type, description}]`.
    #[schema(value_type = Vec<Object>)]
    pub documents: serde_json::Value,
    pub reason: String,
    pub due_on: NaiveDate,
    pub requested_on: NaiveDate,
    pub closed_on: Option<NaiveDate>,
    pub outcome: Option<String>,
    pub extension_days: Option<i32>,
    /// The requested types that have arrived.
    pub received: Vec<String>,
}

const REQUEST_COLUMNS: &str = "r.id, r.application_id, r.documents, r.reason, r.due_on, r.requested_on, r.closed_on, r.outcome, r.extension_days,
        coalesce((SELECT array_agg(a.document_type ORDER BY a.document_type) FROM request_answers a WHERE a.request_id = r.id), '{}') AS received";

/// The case's requests, oldest first.
pub async fn requests(conn: &mut PgConnection, application: Uuid) -> sqlx::Result<Vec<Request>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {REQUEST_COLUMNS} FROM document_requests r WHERE r.application_id = $1 ORDER BY r.requested_at, r.id"
    )))
    .bind(application)
    .fetch_all(conn)
    .await
}

/// An open request, locked.
pub async fn lock_open_request(
    conn: &mut PgConnection,
    request: Uuid,
) -> sqlx::Result<Option<Request>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {REQUEST_COLUMNS} FROM document_requests r WHERE r.id = $1 AND r.closed_on IS NULL FOR UPDATE"
    )))
    .bind(request)
    .fetch_optional(conn)
    .await
}

/// Open requests whose due day is before `today`, locked, skipping those another sweep holds.
pub async fn lock_expired(conn: &mut PgConnection, today: NaiveDate) -> sqlx::Result<Vec<Request>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {REQUEST_COLUMNS} FROM document_requests r
          WHERE r.closed_on IS NULL AND r.due_on < $1
          ORDER BY r.due_on FOR UPDATE SKIP LOCKED"
    )))
    .bind(today)
    .fetch_all(conn)
    .await
}

/// Records a document received against a request; `false` if that type had arrived before.
pub async fn receive(
    conn: &mut PgConnection,
    request: Uuid,
    document_type: &str,
    document: Uuid,
) -> sqlx::Result<bool> {
    sqlx::query(
        "INSERT INTO request_answers (request_id, document_type, document_id) VALUES ($1, $2, $3)
         ON CONFLICT DO NOTHING",
    )
    .bind(request)
    .bind(document_type)
    .bind(document)
    .execute(conn)
    .await
    .map(|r| r.rows_affected() == 1)
}

/// Closes a request, recording what it `added` to the periods, and sets its case's extension to
/// `total` (the working days any of its closed requests was open) and its review due day.
pub async fn close_request(
    conn: &mut PgConnection,
    request: Uuid,
    outcome: &str,
    closed_on: NaiveDate,
    added: i32,
    total: i32,
    review_due: NaiveDate,
) -> sqlx::Result<()> {
    let application: Uuid = sqlx::query_scalar(
        "UPDATE document_requests SET closed_on = $2, outcome = $3, extension_days = $4
          WHERE id = $1 RETURNING application_id",
    )
    .bind(request)
    .bind(closed_on)
    .bind(outcome)
    .bind(added)
    .fetch_one(&mut *conn)
    .await?;
    sqlx::query("UPDATE cases SET extension_days = $2, review_due = $3 WHERE application_id = $1")
        .bind(application)
        .bind(total)
        .bind(review_due)
        .execute(conn)
        .await
        .map(|_| ())
}

/// An open case as the sweep reads it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OpenCase {
    pub application_id: Uuid,
    pub awarding_body_id: Uuid,
    pub round_deadline: NaiveDate,
    /// Every request of the case, from the day it was made (`requested_on`) to the day it
    /// closed (`open_until`: today for one still open) — the periods stand still meanwhile.
    pub requested_on: Vec<NaiveDate>,
    pub open_until: Vec<NaiveDate>,
}

/// Every open case whose round deadline has passed, except those an upheld appeal reopened (no
/// legal clock runs from the deadline for them any more).
pub async fn open_cases(conn: &mut PgConnection, today: NaiveDate) -> sqlx::Result<Vec<OpenCase>> {
    sqlx::query_as(
        "SELECT c.application_id, c.awarding_body_id, c.round_deadline,
                coalesce((SELECT array_agg(r.requested_on ORDER BY r.id) FROM document_requests r
                           WHERE r.application_id = c.application_id), '{}') AS requested_on,
                coalesce((SELECT array_agg(coalesce(r.closed_on, $1) ORDER BY r.id) FROM document_requests r
                           WHERE r.application_id = c.application_id), '{}') AS open_until
           FROM cases c
          WHERE c.status = 'open' AND c.round_deadline < $1 AND c.reopened_at IS NULL
          ORDER BY c.application_id",
    )
    .bind(today)
    .fetch_all(conn)
    .await
}

/// Records an overdue finding; `false` if it was found before (by this or another sweep).
pub async fn record_overdue(
    conn: &mut PgConnection,
    application: Uuid,
    clock: &str,
    due: NaiveDate,
    found_on: NaiveDate,
) -> sqlx::Result<bool> {
    sqlx::query(
        "INSERT INTO overdue (application_id, clock, due, found_on) VALUES ($1, $2, $3, $4)
         ON CONFLICT DO NOTHING",
    )
    .bind(application)
    .bind(clock)
    .bind(due)
    .bind(found_on)
    .execute(conn)
    .await
    .map(|r| r.rows_affected() == 1)
}

/// A decided case whose applicant has not been told in time.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Untold {
    pub application_id: Uuid,
    pub awarding_body_id: Uuid,
    pub due: NaiveDate,
}

/// Decided cases whose notice was due before `today` and not yet given.
pub async fn untold(conn: &mut PgConnection, today: NaiveDate) -> sqlx::Result<Vec<Untold>> {
    sqlx::query_as(
        "SELECT application_id, awarding_body_id, notice_due AS due FROM cases
          WHERE status = 'decided' AND noticed_at IS NULL AND notice_due < $1
          ORDER BY application_id",
    )
    .bind(today)
    .fetch_all(conn)
    .await
}

/// A clock still overdue, as the body's digest lists it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Outstanding {
    pub awarding_body_id: Uuid,
    pub application_id: Uuid,
    pub clock: String,
    pub due: NaiveDate,
    pub applicant_name: String,
    pub qualification: String,
    /// The body's desk address as the application's submission carried it.
    pub email: Option<String>,
    pub status: String,
    pub round_deadline: NaiveDate,
    pub extension_days: i32,
    pub notice_due: Option<NaiveDate>,
    pub reopened: bool,
}

/// Every clock found overdue and possibly still not met — the review or decision of a case still
/// open, the notice of a decision still not told — at its latest due day. The sweep keeps those
/// whose due day is the case's current one (see `sweep::still_overdue`). Of every case, or of one.
pub async fn outstanding(
    conn: &mut PgConnection,
    application: Option<Uuid>,
) -> sqlx::Result<Vec<Outstanding>> {
    sqlx::query_as(
        "SELECT DISTINCT ON (o.application_id, o.clock)
                c.awarding_body_id, o.application_id, o.clock, o.due,
                concat_ws(' ', c.submission -> 'applicant' ->> 'given_name',
                               c.submission -> 'applicant' ->> 'family_name') AS applicant_name,
                c.submission -> 'qualification' ->> 'name' AS qualification,
                c.submission ->> 'awarding_body_email' AS email,
                c.status, c.round_deadline, c.extension_days, c.notice_due,
                c.reopened_at IS NOT NULL AS reopened
           FROM overdue o JOIN cases c USING (application_id)
          WHERE ($1::uuid IS NULL OR o.application_id = $1)
            AND ((o.clock IN ('review', 'decision') AND c.status = 'open')
                 OR (o.clock = 'notice' AND c.noticed_at IS NULL))
          ORDER BY o.application_id, o.clock, o.due DESC",
    )
    .bind(application)
    .fetch_all(conn)
    .await
}

/// Records that the body's digest of `day` is sent; `false` if it was already.
pub async fn record_digest(
    conn: &mut PgConnection,
    body: Uuid,
    day: NaiveDate,
    items: i32,
) -> sqlx::Result<bool> {
    sqlx::query(
        "INSERT INTO digests (awarding_body_id, day, items) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
    )
    .bind(body)
    .bind(day)
    .bind(items)
    .execute(conn)
    .await
    .map(|r| r.rows_affected() == 1)
}

/// The requested types that have arrived for a request.
pub async fn received(conn: &mut PgConnection, request: Uuid) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar("SELECT document_type FROM request_answers WHERE request_id = $1")
        .bind(request)
        .fetch_all(conn)
        .await
}
