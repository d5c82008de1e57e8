//! Questions: put, passed on, answered; listed for front pages; the holders a question put to
//! many reaches.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgConnection;
use sqlx::types::Json;
use uuid::Uuid;

/// A question as stored. What identifies people (personal codes, addresses) is never shown.
#[derive(Debug, Clone, sqlx::FromRow, Serialize, utoipa::ToSchema)]
pub struct Question {
    pub id: Uuid,
    pub campaign_id: Option<Uuid>,
    pub register_number: Option<String>,
    /// `holder` or `authority`.
    pub asked_by: String,
    pub asker_name: String,
    /// `awarding_body`, `authority` or `holder`.
    pub recipient_kind: String,
    pub recipient_body: Option<Uuid>,
    pub recipient_name: String,
    pub text: String,
    pub asked_at: DateTime<Utc>,
    /// Each time it was passed on: `{from, to, by, note, at}`.
    #[schema(value_type = Vec<Object>)]
    pub forwards: Json<serde_json::Value>,
    pub answer: Option<String>,
    pub answered_by_name: Option<String>,
    pub answered_at: Option<DateTime<Utc>>,
    #[serde(skip)]
    pub asker: Option<String>,
    #[serde(skip)]
    pub asker_email: Option<String>,
    #[serde(skip)]
    pub asker_language: String,
    #[serde(skip)]
    pub recipient_holder: Option<String>,
    #[serde(skip)]
    pub recipient_email: Option<String>,
    #[serde(skip)]
    pub recipient_language: String,
}

// The columns are constants and the ordering one of two: no caller text reaches the SQL.
const COLUMNS: &str = "id, campaign_id, register_number, asked_by, asker_name, recipient_kind,
    recipient_body, recipient_name, text, asked_at, forwards, answer, answered_by_name,
    answered_at, asker, asker_email, asker_language, recipient_holder, recipient_email,
    recipient_language";

/// One side of a question as stored.
#[derive(Debug, Clone)]
pub struct Party {
    /// `holder`, `awarding_body` or `authority`.
    pub kind: &'static str,
    pub body: Option<Uuid>,
    /// A holder's personal code.
    pub holder: Option<String>,
    pub name: String,
    pub email: Option<String>,
    pub language: String,
}

/// A question to put.
#[derive(Debug, Clone)]
pub struct NewQuestion<'a> {
    pub id: Uuid,
    pub campaign_id: Option<Uuid>,
    pub register_number: Option<&'a str>,
    pub asker: &'a Party,
    pub recipient: &'a Party,
    pub text: &'a str,
}

pub async fn insert(conn: &mut PgConnection, q: &NewQuestion<'_>) -> sqlx::Result<Question> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "INSERT INTO questions (id, campaign_id, register_number, asked_by, asker, asker_name,
                                asker_email, asker_language, recipient_kind, recipient_body,
                                recipient_holder, recipient_name, recipient_email,
                                recipient_language, text)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
         RETURNING {COLUMNS}"
    )))
    .bind(q.id)
    .bind(q.campaign_id)
    .bind(q.register_number)
    .bind(q.asker.kind)
    .bind(&q.asker.holder)
    .bind(&q.asker.name)
    .bind(&q.asker.email)
    .bind(&q.asker.language)
    .bind(q.recipient.kind)
    .bind(q.recipient.body)
    .bind(&q.recipient.holder)
    .bind(&q.recipient.name)
    .bind(&q.recipient.email)
    .bind(&q.recipient.language)
    .bind(q.text)
    .fetch_one(conn)
    .await
}

/// The question, locked for an answer or a forward.
pub async fn lock(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<Question>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM questions WHERE id = $1 FOR UPDATE"
    )))
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// Records the answer of the question the caller locked.
pub async fn answer(
    conn: &mut PgConnection,
    id: Uuid,
    answer: &str,
    by: &str,
) -> sqlx::Result<Question> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "UPDATE questions SET answer = $2, answered_by_name = $3, answered_at = now()
          WHERE id = $1 RETURNING {COLUMNS}"
    )))
    .bind(id)
    .bind(answer)
    .bind(by)
    .fetch_one(conn)
    .await
}

/// Passes the question the caller locked on to `to`, noting who did and why.
pub async fn forward(
    conn: &mut PgConnection,
    id: Uuid,
    to: &Party,
    entry: &serde_json::Value,
) -> sqlx::Result<Question> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "UPDATE questions SET recipient_kind = $2, recipient_body = $3, recipient_name = $4,
                recipient_email = $5, recipient_language = $6, forwards = forwards || $7
          WHERE id = $1 RETURNING {COLUMNS}"
    )))
    .bind(id)
    .bind(to.kind)
    .bind(to.body)
    .bind(&to.name)
    .bind(&to.email)
    .bind(&to.language)
    .bind(Json(serde_json::json!([entry])))
    .fetch_one(conn)
    .await
}

/// Whose questions a list shows.
#[derive(Debug, Clone)]
pub enum Listing {
    /// A holder's: those they asked and those put to them.
    Holder(String),
    /// Those waiting for an awarding body.
    Body(Uuid),
    /// Those waiting for the authority, and those it put.
    Authority,
}

/// A page of questions, newest first (oldest first when only the unanswered are asked for: the
/// longest waiting on top); and how many there are.
pub async fn list(
    conn: &mut PgConnection,
    listing: &Listing,
    unanswered: bool,
    limit: i64,
    offset: i64,
) -> sqlx::Result<(Vec<Question>, i64)> {
    let (holder, body, authority) = match listing {
        Listing::Holder(code) => (Some(code.as_str()), None, false),
        Listing::Body(id) => (None, Some(*id), false),
        Listing::Authority => (None, None, true),
    };
    // Unanswered means waiting for this reader: their own questions waiting for others are not
    // on their front page (nor are the authority's questions waiting for holders).
    const WHERE: &str =
        "WHERE (($1::text IS NOT NULL AND (recipient_holder = $1 OR (NOT $4 AND asker = $1)))
            OR ($2::uuid IS NOT NULL AND recipient_body = $2)
            OR ($3 AND (recipient_kind = 'authority' OR (NOT $4 AND asked_by = 'authority'))))
        AND (NOT $4 OR answered_at IS NULL)";
    let order = if unanswered {
        "asked_at, id"
    } else {
        "asked_at DESC, id DESC"
    };
    // The page and its total from one snapshot (see `super::snapshot`).
    let mut tx = super::snapshot(conn).await?;
    let rows = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM questions {WHERE} ORDER BY {order} LIMIT $5 OFFSET $6"
    )))
    .bind(holder)
    .bind(body)
    .bind(authority)
    .bind(unanswered)
    .bind(limit)
    .bind(offset)
    .fetch_all(&mut *tx)
    .await?;
    let total = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT count(*) FROM questions {WHERE}"
    )))
    .bind(holder)
    .bind(body)
    .bind(authority)
    .bind(unanswered)
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok((rows, total))
}

/// Who a question put to many reaches.
#[derive(Debug, Clone, Default)]
pub struct Target {
    pub qualification_id: Option<Uuid>,
    pub awarding_body_id: Option<Uuid>,
    pub certificate_numbers: Option<Vec<String>>,
}

/// A holder a question put to many reaches: their code, name, address and language (from the
/// application their certificate was awarded on).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Holder {
    pub holder: String,
    pub name: String,
    pub email: String,
    pub language: String,
}

/// The holders of certificates matching every part of `target` that is set — certificates in
/// force (not revoked, not succeeded), each holder once.
pub async fn holders(conn: &mut PgConnection, target: &Target) -> sqlx::Result<Vec<Holder>> {
    sqlx::query_as(
        "SELECT DISTINCT ON (c.holder) c.holder, c.given_name || ' ' || c.family_name AS name,
                a.email, a.language
           FROM certificates c JOIN applications a ON a.id = c.application_id
          WHERE c.status <> 'revoked' AND c.superseded_by IS NULL
            AND ($1::uuid IS NULL OR c.qualification_id = $1)
            AND ($2::uuid IS NULL OR c.awarding_body_id = $2)
            AND ($3::text[] IS NULL OR c.register_number = ANY($3))
          ORDER BY c.holder, c.updated_at DESC",
    )
    .bind(target.qualification_id)
    .bind(target.awarding_body_id)
    .bind(&target.certificate_numbers)
    .fetch_all(conn)
    .await
}

/// A holder's address and language, from the application their certificate was awarded on.
pub async fn holder_contact(
    conn: &mut PgConnection,
    register_number: &str,
) -> sqlx::Result<Option<(Option<String>, String)>> {
    sqlx::query_as(
        "SELECT a.email, a.language FROM certificates c JOIN applications a ON a.id = c.application_id
          WHERE c.register_number = $1",
    )
    .bind(register_number)
    .fetch_optional(conn)
    .await
}
