//! What signed protocols decided: certificates issued, refusals told.

use sqlx::PgConnection;
use uuid::Uuid;

/// What signed protocols already decided of `applications`: per application, whether it was
/// awarded (with its register number) or refused.
pub async fn decided_all(
    conn: &mut PgConnection,
    applications: &[Uuid],
) -> sqlx::Result<std::collections::HashMap<Uuid, Option<String>>> {
    let rows: Vec<(Uuid, Option<String>)> = sqlx::query_as(
        "SELECT application_id, register_number FROM certificates WHERE application_id = ANY($1)
         UNION ALL
         SELECT application_id, NULL FROM refusals WHERE application_id = ANY($1)",
    )
    .bind(applications)
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().collect())
}

/// The next `count` register numbers of `year`: `KT-<year>-<six digits>`.
pub async fn next_register_numbers(
    conn: &mut PgConnection,
    year: i32,
    count: usize,
) -> sqlx::Result<Vec<String>> {
    let seqs: Vec<i64> = sqlx::query_scalar(
        "SELECT nextval('register_number_seq') FROM generate_series(1, $1::int)",
    )
    .bind(i32::try_from(count).unwrap_or(i32::MAX))
    .fetch_all(conn)
    .await?;
    Ok(seqs
        .into_iter()
        .map(|seq| format!("KT-{year}-{seq:06}"))
        .collect())
}

/// A certificate as it is issued.
#[derive(Debug, Clone)]
pub struct NewCertificate {
    pub id: Uuid,
    pub register_number: String,
    pub application_id: Uuid,
    pub protocol_id: Uuid,
    /// The holder's personal code.
    pub holder: String,
    pub holder_salt: String,
    pub issued_on: chrono::NaiveDate,
    pub valid_until: chrono::NaiveDate,
    pub document: serde_json::Value,
    pub seal: String,
    pub credential: String,
}

/// Issues certificates in one statement; how many were inserted (an application that already
/// holds one is skipped: one per application). Each keeps the current trace context, which the
/// PDF worker continues (migration `render_trace`).
pub async fn insert_certificates(
    conn: &mut PgConnection,
    certificates: &[NewCertificate],
) -> sqlx::Result<u64> {
    macro_rules! column {
        ($field:ident) => {
            certificates
                .iter()
                .map(|c| c.$field.clone())
                .collect::<Vec<_>>()
        };
    }
    sqlx::query(
        "INSERT INTO certificates (id, register_number, application_id, protocol_id, holder,
                                   holder_salt, issued_on, valid_until, document, seal, credential,
                                   traceparent)
         SELECT *, $12::text FROM UNNEST($1::uuid[], $2::text[], $3::uuid[], $4::uuid[], $5::text[],
                              $6::text[], $7::date[], $8::date[], $9::jsonb[], $10::text[], $11::text[])
         ON CONFLICT (application_id) DO NOTHING",
    )
    .bind(column!(id))
    .bind(column!(register_number))
    .bind(column!(application_id))
    .bind(column!(protocol_id))
    .bind(column!(holder))
    .bind(column!(holder_salt))
    .bind(column!(issued_on))
    .bind(column!(valid_until))
    .bind(column!(document))
    .bind(column!(seal))
    .bind(column!(credential))
    .bind(kutse_telemetry::trace_headers().remove("traceparent"))
    .execute(conn)
    .await
    .map(|r| r.rows_affected())
}

/// Records a refusal; `false` if the application was refused before.
pub async fn insert_refusal(
    conn: &mut PgConnection,
    application: Uuid,
    protocol: Uuid,
) -> sqlx::Result<bool> {
    sqlx::query(
        "INSERT INTO refusals (application_id, protocol_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
    )
    .bind(application)
    .bind(protocol)
    .execute(conn)
    .await
    .map(|r| r.rows_affected() == 1)
}

/// A stored certificate, as the register's routes read it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Stored {
    pub id: Uuid,
    pub application_id: Uuid,
    pub seal: String,
    pub status: String,
    pub holder_salt: Option<String>,
    pub credential: Option<String>,
    pub pdf_key: Option<String>,
    pub pdf_sha256: Option<String>,
    pub pdf_size: Option<i64>,
    /// The recertification's certificate that succeeded this one.
    pub superseded_by: Option<String>,
    /// The application whose submission gives the holder's address now (a duplicate's, after
    /// one).
    pub contact_application_id: Uuid,
}

const STORED: &str = "id, application_id, seal, status, holder_salt, credential, pdf_key,
        pdf_sha256, pdf_size, superseded_by,
        coalesce(contact_application_id, application_id) AS contact_application_id";

/// The certificate with this register number.
pub async fn by_number(
    conn: &mut PgConnection,
    register_number: &str,
) -> sqlx::Result<Option<Stored>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {STORED} FROM certificates WHERE register_number = $1"
    )))
    .bind(register_number)
    .fetch_optional(conn)
    .await
}

/// The certificate with this register number, locked for a change of its status.
pub async fn lock_by_number(
    conn: &mut PgConnection,
    register_number: &str,
) -> sqlx::Result<Option<Stored>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {STORED} FROM certificates WHERE register_number = $1 FOR UPDATE"
    )))
    .bind(register_number)
    .fetch_optional(conn)
    .await
}

/// Of `applications`, those refused by a signed protocol and reopened since by an upheld appeal:
/// a later protocol may award them.
pub async fn reopened_by_appeal(
    conn: &mut PgConnection,
    applications: &[Uuid],
) -> sqlx::Result<std::collections::HashSet<Uuid>> {
    let rows: Vec<Uuid> = sqlx::query_scalar(
        "SELECT r.application_id FROM refusals r
          WHERE r.application_id = ANY($1)
            AND EXISTS (SELECT 1 FROM upheld_appeals u
                         WHERE u.application_id = r.application_id AND u.resolved_at > r.created_at)",
    )
    .bind(applications)
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().collect())
}

/// Records an upheld appeal and clears the application's panel decision, so the new decision
/// is taken (first write wins again); `false` if it was recorded before.
pub async fn appeal_upheld(
    conn: &mut PgConnection,
    appeal: Uuid,
    application: Uuid,
    resolved_at: chrono::DateTime<chrono::Utc>,
) -> sqlx::Result<bool> {
    let recorded = sqlx::query(
        "INSERT INTO upheld_appeals (appeal_id, application_id, resolved_at) VALUES ($1, $2, $3)
         ON CONFLICT DO NOTHING",
    )
    .bind(appeal)
    .bind(application)
    .bind(resolved_at)
    .execute(&mut *conn)
    .await?
    .rows_affected()
        == 1;
    if recorded {
        // An application that holds a certificate keeps its decision: its outcome is final.
        sqlx::query(
            "UPDATE applications SET decision = NULL, updated_at = now()
              WHERE application_id = $1
                AND NOT EXISTS (SELECT 1 FROM certificates c WHERE c.application_id = $1)",
        )
        .bind(application)
        .execute(conn)
        .await?;
    }
    Ok(recorded)
}

/// Records a refusal of an application refused before and reopened since by an upheld appeal
/// (the new refusal is told like the first); `false` if it was not so reopened.
pub async fn refuse_again(
    conn: &mut PgConnection,
    application: Uuid,
    protocol: Uuid,
) -> sqlx::Result<bool> {
    sqlx::query(
        "UPDATE refusals r SET protocol_id = $2, created_at = now()
          WHERE r.application_id = $1 AND r.protocol_id <> $2
            AND EXISTS (SELECT 1 FROM upheld_appeals u
                         WHERE u.application_id = r.application_id AND u.resolved_at > r.created_at)",
    )
    .bind(application)
    .bind(protocol)
    .execute(conn)
    .await
    .map(|r| r.rows_affected() == 1)
}

/// A certificate a recertification names, as the register holds it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Predecessor {
    pub register_number: String,
    pub holder: String,
    pub qualification_id: Option<String>,
    pub superseded_by: Option<String>,
    pub status: String,
}

/// The certificates `numbers` name, locked (a succession is recorded once).
pub async fn lock_predecessors(
    conn: &mut PgConnection,
    numbers: &[String],
) -> sqlx::Result<Vec<Predecessor>> {
    if numbers.is_empty() {
        return Ok(Vec::new());
    }
    sqlx::query_as(
        "SELECT register_number, holder, document #>> '{qualification,id}' AS qualification_id,
                superseded_by, status
           FROM certificates WHERE register_number = ANY($1)
          ORDER BY register_number FOR UPDATE",
    )
    .bind(numbers)
    .fetch_all(conn)
    .await
}

/// Records each `(predecessor, successor)`: the new certificate succeeds the old, which is
/// superseded from now.
pub async fn supersede(conn: &mut PgConnection, pairs: &[(String, String)]) -> sqlx::Result<()> {
    if pairs.is_empty() {
        return Ok(());
    }
    let (old, new): (Vec<&str>, Vec<&str>) =
        pairs.iter().map(|(o, n)| (o.as_str(), n.as_str())).unzip();
    sqlx::query(
        "UPDATE certificates c SET superseded_by = x.new, superseded_at = now()
           FROM UNNEST($1::text[], $2::text[]) AS x(old, new)
          WHERE c.register_number = x.old AND c.superseded_by IS NULL",
    )
    .bind(&old)
    .bind(&new)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "UPDATE certificates c SET successor_of = x.old
           FROM UNNEST($1::text[], $2::text[]) AS x(old, new)
          WHERE c.register_number = x.new",
    )
    .bind(&old)
    .bind(&new)
    .execute(conn)
    .await
    .map(|_| ())
}
