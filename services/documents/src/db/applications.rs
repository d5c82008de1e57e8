//! Applications, as `application.created` told of them: whose they are, and of which body.

use sqlx::PgConnection;
use uuid::Uuid;

/// Records an application; the first announcement stands.
pub async fn record(
    conn: &mut PgConnection,
    application: Uuid,
    awarding_body: Uuid,
    applicant: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO applications (application_id, awarding_body_id, applicant) VALUES ($1, $2, $3)
         ON CONFLICT (application_id) DO NOTHING",
    )
    .bind(application)
    .bind(awarding_body)
    .bind(applicant)
    .execute(conn)
    .await
    .map(|_| ())
}

/// The applicant of an application, if it is known (yet).
pub async fn applicant_of(
    conn: &mut PgConnection,
    application: Uuid,
) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar("SELECT applicant FROM applications WHERE application_id = $1")
        .bind(application)
        .fetch_optional(conn)
        .await
}
