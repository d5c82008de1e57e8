//! Saved responses of requests made with an `Idempotency-Key` (see `crate::idempotency`).

use sqlx::PgConnection;

/// A saved response with the caller and key it is saved under.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Keyed {
    pub subject: String,
    pub key: String,
    #[sqlx(flatten)]
    pub saved: Saved,
}

/// A saved response and the hash of the request that produced it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Saved {
    pub request_hash: String,
    pub status: i16,
    pub body: serde_json::Value,
}

/// The saved responses of many `(subject, key)` pairs in one statement; pairs with none are
/// missing from the answer.
pub async fn find_all(conn: &mut PgConnection, pairs: &[(&str, &str)]) -> sqlx::Result<Vec<Keyed>> {
    let subjects: Vec<&str> = pairs.iter().map(|p| p.0).collect();
    let keys: Vec<&str> = pairs.iter().map(|p| p.1).collect();
    sqlx::query_as(
        "SELECT i.subject, i.key, i.request_hash, i.status, i.body
           FROM idempotency_keys i
           JOIN UNNEST($1::text[], $2::text[]) AS p(subject, key)
             ON i.subject = p.subject AND i.key = p.key",
    )
    .bind(&subjects)
    .bind(&keys)
    .fetch_all(conn)
    .await
}

/// A response to save: `(subject, key, request_hash, status, body)`.
pub type Row<'a> = (&'a str, &'a str, &'a str, i16, &'a serde_json::Value);

/// Saves many responses in one statement. A unique violation means one of the keys is in use
/// by a request still running.
pub async fn save_all(conn: &mut PgConnection, rows: &[Row<'_>]) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO idempotency_keys (subject, key, request_hash, status, body)
         SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::int2[], $5::jsonb[])",
    )
    .bind(rows.iter().map(|r| r.0).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.1).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.2).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.3).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.4).collect::<Vec<_>>())
    .execute(conn)
    .await
    .map(|_| ())
}
