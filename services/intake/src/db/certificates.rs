//! What intake knows of the register's certificates, kept from its events: whose each is, of which
//! qualification and body, until when, whether revoked or succeeded — what a recertification or a
//! duplicate is checked against.

use chrono::NaiveDate;
use sqlx::PgConnection;
use uuid::Uuid;

/// A certificate as intake knows it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Held {
    pub register_number: String,
    pub holder: String,
    pub awarding_body_id: Uuid,
    pub qualification_id: Uuid,
    pub given_name: String,
    pub family_name: String,
    /// Unknown for certificates issued before intake kept them.
    pub valid_until: Option<NaiveDate>,
    pub status: String,
    pub superseded_by: Option<String>,
}

/// Records a certificate issued on one of intake's applications (its body from the application);
/// a certificate known before gets what it lacked. Marks the one it succeeds, if any.
pub async fn issued(
    conn: &mut PgConnection,
    issued: &kutse_messaging::catalogue::CertificateIssued,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO certificates (register_number, certificate_id, application_id, holder,
                                   awarding_body_id, qualification_id, given_name, family_name,
                                   valid_until)
         SELECT $1, $2, a.id, $4, a.awarding_body_id, $5, $6, $7, $8
           FROM applications a WHERE a.id = $3
         ON CONFLICT (register_number) DO UPDATE
            SET certificate_id = excluded.certificate_id, valid_until = excluded.valid_until,
                updated_at = now()",
    )
    .bind(&issued.register_number)
    .bind(issued.certificate_id)
    .bind(issued.application_id)
    .bind(issued.holder.isikukood.to_string())
    .bind(issued.qualification.id)
    .bind(&issued.holder.given_name)
    .bind(&issued.holder.family_name)
    .bind(issued.valid_until)
    .execute(&mut *conn)
    .await?;
    if let Some(predecessor) = &issued.successor_of {
        sqlx::query(
            "UPDATE certificates SET superseded_by = $2, updated_at = now()
              WHERE register_number = $1 AND superseded_by IS NULL",
        )
        .bind(predecessor)
        .bind(&issued.register_number)
        .execute(conn)
        .await?;
    }
    Ok(())
}

/// Records a certificate's status (`valid`, `suspended`, `revoked`).
pub async fn set_status(conn: &mut PgConnection, number: &str, status: &str) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE certificates SET status = $2, updated_at = now() WHERE register_number = $1",
    )
    .bind(number)
    .bind(status)
    .execute(conn)
    .await
    .map(|_| ())
}

/// Records the name a duplicate carries.
pub async fn renamed(
    conn: &mut PgConnection,
    number: &str,
    given_name: &str,
    family_name: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE certificates SET given_name = $2, family_name = $3, updated_at = now()
          WHERE register_number = $1",
    )
    .bind(number)
    .bind(given_name)
    .bind(family_name)
    .execute(conn)
    .await
    .map(|_| ())
}

/// The certificate with register number `number`, if intake knows it.
pub async fn find(conn: &mut PgConnection, number: &str) -> sqlx::Result<Option<Held>> {
    sqlx::query_as(
        "SELECT register_number, holder, awarding_body_id, qualification_id, given_name,
                family_name, valid_until, status, superseded_by
           FROM certificates WHERE register_number = $1",
    )
    .bind(number)
    .fetch_optional(conn)
    .await
}
