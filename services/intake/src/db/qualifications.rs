//! Qualifications and the competences of their occupational standards.

use sqlx::PgConnection;
use uuid::Uuid;

/// Whether the awarding body exists.
pub async fn body_exists(conn: &mut PgConnection, body: Uuid) -> sqlx::Result<bool> {
    sqlx::query("SELECT 1 FROM awarding_bodies WHERE id = $1")
        .bind(body)
        .fetch_optional(conn)
        .await
        .map(|row| row.is_some())
}

/// A qualification as it is created.
#[derive(Debug, Clone)]
pub struct NewQualification<'a> {
    pub id: Uuid,
    pub awarding_body_id: Uuid,
    pub name: &'a str,
    pub level: i16,
    pub partial: bool,
    pub prior_learning_allowed: bool,
    /// (code, name) of each competence.
    pub competences: Vec<(&'a str, &'a str)>,
}

pub async fn insert(conn: &mut PgConnection, q: &NewQualification<'_>) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO qualifications (id, awarding_body_id, name, level, partial, prior_learning_allowed)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(q.id)
    .bind(q.awarding_body_id)
    .bind(q.name)
    .bind(q.level)
    .bind(q.partial)
    .bind(q.prior_learning_allowed)
    .execute(&mut *conn)
    .await?;
    let (codes, names): (Vec<&str>, Vec<&str>) = q.competences.iter().copied().unzip();
    sqlx::query(
        "INSERT INTO competences (qualification_id, code, name)
         SELECT $1, code, name FROM UNNEST($2::text[], $3::text[]) AS x(code, name)",
    )
    .bind(q.id)
    .bind(&codes)
    .bind(&names)
    .execute(conn)
    .await
    .map(|_| ())
}

/// A qualification as it is read.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Qualification {
    pub awarding_body_id: Uuid,
    pub name: String,
    pub level: i16,
    pub partial: bool,
    pub prior_learning_allowed: bool,
}

pub async fn find(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<Qualification>> {
    sqlx::query_as(
        "SELECT awarding_body_id, name, level, partial, prior_learning_allowed
           FROM qualifications WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// The competences of a qualification, by code: (code, name).
pub async fn competences(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Vec<(String, String)>> {
    sqlx::query_as("SELECT code, name FROM competences WHERE qualification_id = $1 ORDER BY code")
        .bind(id)
        .fetch_all(conn)
        .await
}
