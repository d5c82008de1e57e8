//! The public register's search: published certificates only, never a personal code.

use sqlx::PgConnection;
use uuid::Uuid;

/// What is searched for; every given field must match (prefixes, case-insensitive).
#[derive(Debug, Clone, Default)]
pub struct Query {
    pub name: Option<String>,
    pub qualification: Option<String>,
    pub awarding_body_id: Option<Uuid>,
    pub register_number: Option<String>,
}

/// A certificate as the public register lists it.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct Found {
    pub register_number: String,
    pub given_name: String,
    pub family_name: String,
    pub qualification: String,
    pub level: i32,
    pub awarding_body_id: Uuid,
    pub awarding_body_name: Option<String>,
    pub issued_on: chrono::NaiveDate,
    pub valid_until: chrono::NaiveDate,
    /// `valid`, `suspended` or `revoked` as stored (expiry is by `valid_until`).
    pub status: String,
}

const WHERE: &str = "NOT EXISTS (SELECT 1 FROM publication_decisions d
                     WHERE d.certificate_id = c.id
                       AND d.decided_at = (SELECT max(decided_at) FROM publication_decisions e
                                            WHERE e.certificate_id = c.id)
                       AND NOT d.published)
      AND ($1::text IS NULL OR lower(c.document #>> '{holder,family_name}') LIKE lower($1) || '%'
                            OR lower(c.document #>> '{holder,given_name}') LIKE lower($1) || '%')
      AND ($2::text IS NULL OR lower(c.document #>> '{qualification,name}') LIKE lower($2) || '%')
      AND ($3::uuid IS NULL OR c.document ->> 'awarding_body_id' = $3::text)
      AND ($4::text IS NULL OR c.register_number = $4)";

/// A page of matches, and how many match in all.
pub async fn search(
    conn: &mut PgConnection,
    q: &Query,
    limit: i64,
    offset: i64,
) -> sqlx::Result<(Vec<Found>, i64)> {
    let escape = |s: &Option<String>| {
        s.as_deref().map(|v| {
            v.trim()
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_")
        })
    };
    let (name, qualification) = (escape(&q.name), escape(&q.qualification));
    let found: Vec<Found> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT c.register_number,
                c.document #>> '{{holder,given_name}}' AS given_name,
                c.document #>> '{{holder,family_name}}' AS family_name,
                c.document #>> '{{qualification,name}}' AS qualification,
                (c.document #>> '{{qualification,level}}')::int AS level,
                (c.document ->> 'awarding_body_id')::uuid AS awarding_body_id,
                c.document ->> 'awarding_body_name' AS awarding_body_name,
                c.issued_on, c.valid_until, c.status
           FROM certificates c
          WHERE {WHERE}
          ORDER BY c.register_number LIMIT $5 OFFSET $6"
    )))
    .bind(&name)
    .bind(&qualification)
    .bind(q.awarding_body_id)
    .bind(&q.register_number)
    .bind(limit)
    .bind(offset)
    .fetch_all(&mut *conn)
    .await?;
    let total: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT count(*) FROM certificates c WHERE {WHERE}"
    )))
    .bind(&name)
    .bind(&qualification)
    .bind(q.awarding_body_id)
    .bind(&q.register_number)
    .fetch_one(conn)
    .await?;
    Ok((found, total))
}
