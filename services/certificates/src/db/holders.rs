//! A holder's own certificates, and their decisions to show or hide them in the public register.

use sqlx::PgConnection;
use uuid::Uuid;

/// A certificate as its holder lists it.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct Own {
    pub register_number: String,
    /// The qualification as the certificate names it: `{id, name, level, partial}`.
    pub qualification: serde_json::Value,
    pub awarding_body_id: Uuid,
    pub issued_on: chrono::NaiveDate,
    pub valid_until: chrono::NaiveDate,
    /// The stored status: `valid`, `suspended` or `revoked` (expiry is by `valid_until`).
    pub status: String,
    /// Shown in the public register (unless the holder hid it).
    pub published: bool,
}

/// The holder's certificates, newest first.
pub async fn of_holder(conn: &mut PgConnection, holder: &str) -> sqlx::Result<Vec<Own>> {
    sqlx::query_as(
        "SELECT c.register_number, c.document -> 'qualification' AS qualification,
                (c.document ->> 'awarding_body_id')::uuid AS awarding_body_id,
                c.issued_on, c.valid_until, c.status,
                coalesce((SELECT d.published FROM publication_decisions d WHERE d.certificate_id = c.id
                           ORDER BY d.decided_at DESC, d.id DESC LIMIT 1), true) AS published
           FROM certificates c WHERE c.holder = $1
          ORDER BY c.issued_on DESC, c.register_number DESC",
    )
    .bind(holder)
    .fetch_all(conn)
    .await
}

/// Records the holder's decision to show (`true`) or hide a certificate.
pub async fn decide(
    conn: &mut PgConnection,
    certificate: Uuid,
    published: bool,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO publication_decisions (id, certificate_id, published) VALUES ($1, $2, $3)",
    )
    .bind(Uuid::now_v7())
    .bind(certificate)
    .bind(published)
    .execute(conn)
    .await
    .map(|_| ())
}

/// Whether the certificate shows in the public register.
pub async fn published(conn: &mut PgConnection, certificate: Uuid) -> sqlx::Result<bool> {
    sqlx::query_scalar(
        "SELECT coalesce((SELECT published FROM publication_decisions WHERE certificate_id = $1
                           ORDER BY decided_at DESC, id DESC LIMIT 1), true)",
    )
    .bind(certificate)
    .fetch_one(conn)
    .await
}
