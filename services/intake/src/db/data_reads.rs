//! The data tracker's records: reads of a person's data by someone else.

use chrono::{DateTime, Utc};
use kutse_messaging::catalogue::PersonalDataRead;
use sqlx::PgConnection;
use uuid::Uuid;

/// Records a read announced by `service`; a redelivered announcement is recorded once.
pub async fn record(
    conn: &mut PgConnection,
    service: &str,
    read: &PersonalDataRead,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO data_reads (read_id, person, service, reader_role, reader_body,
                                 reader_partner, reader_name, what, resource, read_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (read_id) DO NOTHING",
    )
    .bind(read.read_id)
    .bind(read.person.to_string())
    .bind(service)
    .bind(&read.reader_role)
    .bind(read.reader_body)
    .bind(&read.reader_partner)
    .bind(&read.reader_name)
    .bind(&read.what)
    .bind(&read.resource)
    .bind(read.read_at)
    .execute(conn)
    .await
    .map(|_| ())
}

/// Tracks the reads `principal` made at intake (not of their own data): one multi-row insert,
/// before the read is answered (see `kutse_service::data_reads`).
pub async fn track(
    conn: &mut PgConnection,
    principal: &kutse_auth::Principal,
    reads: &[kutse_service::data_reads::Read],
) -> sqlx::Result<()> {
    record_own(conn, &kutse_service::data_reads::reads_of(principal, reads)).await
}

async fn record_own(conn: &mut PgConnection, reads: &[PersonalDataRead]) -> sqlx::Result<()> {
    if reads.is_empty() {
        return Ok(());
    }
    let column = |f: fn(&PersonalDataRead) -> String| reads.iter().map(f).collect::<Vec<_>>();
    sqlx::query(
        "INSERT INTO data_reads (read_id, person, service, reader_role, reader_body,
                                 reader_partner, reader_name, what, resource, read_at)
         SELECT id, person, 'intake', role, body, partner, name, what, resource, at
           FROM UNNEST($1::uuid[], $2::text[], $3::text[], $4::uuid[], $5::text[], $6::text[],
                       $7::text[], $8::text[], $9::timestamptz[])
             AS x(id, person, role, body, partner, name, what, resource, at)",
    )
    .bind(reads.iter().map(|r| r.read_id).collect::<Vec<_>>())
    .bind(column(|r| r.person.to_string()))
    .bind(column(|r| r.reader_role.clone()))
    .bind(reads.iter().map(|r| r.reader_body).collect::<Vec<_>>())
    .bind(
        reads
            .iter()
            .map(|r| r.reader_partner.clone())
            .collect::<Vec<_>>(),
    )
    .bind(column(|r| r.reader_name.clone()))
    .bind(column(|r| r.what.clone()))
    .bind(column(|r| r.resource.clone()))
    .bind(reads.iter().map(|r| r.read_at).collect::<Vec<_>>())
    .execute(&mut *conn)
    .await
    .map(|_| ())
}

/// A read as the person sees it.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct Seen {
    pub read_at: DateTime<Utc>,
    pub service: String,
    pub reader_role: String,
    pub reader_body: Option<Uuid>,
    /// The body's name, when intake knows the body.
    pub reader_body_name: Option<String>,
    pub reader_partner: Option<String>,
    pub reader_name: String,
    pub what: String,
    pub resource: String,
}

/// A page of the reads of `person`'s data, newest first, and how many there are in all.
pub async fn of_person(
    conn: &mut PgConnection,
    person: &str,
    limit: i64,
    offset: i64,
) -> sqlx::Result<(Vec<Seen>, i64)> {
    let seen = sqlx::query_as(
        "SELECT d.read_at, d.service, d.reader_role, d.reader_body, b.name AS reader_body_name,
                d.reader_partner, d.reader_name, d.what, d.resource
           FROM data_reads d LEFT JOIN awarding_bodies b ON b.id = d.reader_body
          WHERE d.person = $1
          ORDER BY d.read_at DESC, d.read_id DESC LIMIT $2 OFFSET $3",
    )
    .bind(person)
    .bind(limit)
    .bind(offset)
    .fetch_all(&mut *conn)
    .await?;
    let total = sqlx::query_scalar("SELECT count(*) FROM data_reads WHERE person = $1")
        .bind(person)
        .fetch_one(conn)
        .await?;
    Ok((seen, total))
}
