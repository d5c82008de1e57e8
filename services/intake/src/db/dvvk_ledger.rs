//! The DVVK ledger: official document exchanges, one row each, and their counts per code.

use chrono::NaiveDate;
use kutse_domain::Dvvk;
use kutse_messaging::catalogue::DocumentExchange;
use sqlx::PgConnection;

/// Records an exchange counted by `service`; one announced twice is recorded once.
pub async fn record(
    conn: &mut PgConnection,
    service: &str,
    exchange: &DocumentExchange,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO dvvk_ledger (service, action, reference, dvvk, occurred_at)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
    )
    .bind(service)
    .bind(&exchange.action)
    .bind(&exchange.reference)
    .bind(i16::try_from(exchange.dvvk.code()).unwrap_or(i16::MAX))
    .bind(exchange.occurred_at)
    .execute(conn)
    .await
    .map(|_| ())
}

/// Records one of intake's own exchanges, in the transaction of its action.
pub async fn count(
    conn: &mut PgConnection,
    action: &str,
    reference: impl ToString,
    dvvk: Dvvk,
) -> sqlx::Result<()> {
    let exchange = DocumentExchange::now(action, reference, dvvk);
    record(
        conn,
        kutse_messaging::catalogue::services::INTAKE,
        &exchange,
    )
    .await
}

/// The exchanges per code from `from` to `to` (days in Tallinn, both included).
pub async fn counts(
    conn: &mut PgConnection,
    from: NaiveDate,
    to: NaiveDate,
) -> sqlx::Result<Vec<(i16, i64)>> {
    sqlx::query_as(
        "SELECT dvvk, count(*) FROM dvvk_ledger
          WHERE occurred_at >= $1 AND occurred_at < $2
          GROUP BY dvvk ORDER BY dvvk",
    )
    .bind(kutse_domain::tallinn_midnight(from))
    .bind(kutse_domain::tallinn_midnight(to.succ_opt().unwrap_or(to)))
    .fetch_all(conn)
    .await
}
