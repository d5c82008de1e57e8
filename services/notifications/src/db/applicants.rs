//! Applicants, kept from `application.submitted` to tell them of later steps (the decision event
//! does not name them).

use kutse_messaging::catalogue::{ApplicantRef, CompetenceRef, QualificationRef};
use sqlx::PgConnection;
use uuid::Uuid;

/// The applicant of an application, with what they applied for.
#[derive(Debug, Clone)]
pub struct Applicant {
    pub applicant: ApplicantRef,
    pub qualification: QualificationRef,
    pub competences: Vec<CompetenceRef>,
}

fn encode(e: serde_json::Error) -> sqlx::Error {
    sqlx::Error::Encode(Box::new(e))
}

fn decode(e: serde_json::Error) -> sqlx::Error {
    sqlx::Error::Decode(format!("stored applicant: {e}").into())
}

/// Keeps the applicant of `application`; the first submission stands.
pub async fn remember(
    conn: &mut PgConnection,
    application: Uuid,
    a: &Applicant,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO applicants (application_id, applicant, qualification, competences)
         VALUES ($1, $2, $3, $4) ON CONFLICT (application_id) DO NOTHING",
    )
    .bind(application)
    .bind(serde_json::to_value(&a.applicant).map_err(encode)?)
    .bind(serde_json::to_value(&a.qualification).map_err(encode)?)
    .bind(serde_json::to_value(&a.competences).map_err(encode)?)
    .execute(conn)
    .await
    .map(|_| ())
}

/// The applicant of `application`, if its submission has arrived.
pub async fn find(conn: &mut PgConnection, application: Uuid) -> sqlx::Result<Option<Applicant>> {
    let row: Option<(serde_json::Value, serde_json::Value, serde_json::Value)> = sqlx::query_as(
        "SELECT applicant, qualification, competences FROM applicants WHERE application_id = $1",
    )
    .bind(application)
    .fetch_optional(conn)
    .await?;
    row.map(|(applicant, qualification, competences)| {
        Ok(Applicant {
            applicant: serde_json::from_value(applicant).map_err(decode)?,
            qualification: serde_json::from_value(qualification).map_err(decode)?,
            competences: serde_json::from_value(competences).map_err(decode)?,
        })
    })
    .transpose()
}
