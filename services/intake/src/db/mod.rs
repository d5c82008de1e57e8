//! Intake's queries, by table; they return `sqlx` results and plain rows and know nothing of
//! HTTP (the API maps errors at its edge, `From<sqlx::Error> for ApiError`).

pub mod applications;
pub mod appointments;
pub mod awarding_bodies;
pub mod certificates;
pub mod clients;
pub mod data_reads;
pub mod desk;
pub mod dvvk_ledger;
pub mod exchanges;
pub mod idempotency_keys;
pub mod partners;
pub mod prints;
pub mod qualifications;
pub mod questions;
pub mod rounds;

/// A read-only transaction on one snapshot: a page and its total read in it agree, however the
/// rows change meanwhile.
pub async fn snapshot(
    conn: &mut sqlx::PgConnection,
) -> sqlx::Result<sqlx::Transaction<'_, sqlx::Postgres>> {
    let mut tx = sqlx::Connection::begin(conn).await?;
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        .execute(&mut *tx)
        .await?;
    Ok(tx)
}
