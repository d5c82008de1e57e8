//! The role registry's appointments (see `crate::registry`).

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

/// An appointment as it is recorded, removed or not.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Appointment {
    pub id: Uuid,
    /// The person's personal code.
    pub person: String,
    pub role: String,
    pub awarding_body_id: Option<Uuid>,
    pub partner_code: Option<String>,
    pub valid_from: NaiveDate,
    pub valid_to: Option<NaiveDate>,
    pub reason: String,
    pub appointed_by: String,
    pub appointed_at: DateTime<Utc>,
    pub removed_at: Option<DateTime<Utc>>,
    pub removed_by: Option<String>,
    pub removal_reason: Option<String>,
}

const COLUMNS: &str =
    "id, person, role, awarding_body_id, partner_code, valid_from, valid_to, reason,
    appointed_by, appointed_at, removed_at, removed_by, removal_reason";

/// A new appointment.
#[derive(Debug, Clone)]
pub struct NewAppointment<'a> {
    pub id: Uuid,
    pub person: &'a str,
    pub role: &'a str,
    pub awarding_body_id: Option<Uuid>,
    pub partner_code: Option<&'a str>,
    pub valid_from: NaiveDate,
    pub valid_to: Option<NaiveDate>,
    pub reason: &'a str,
    pub appointed_by: &'a str,
}

pub async fn insert(conn: &mut PgConnection, a: &NewAppointment<'_>) -> sqlx::Result<Appointment> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "INSERT INTO appointments (id, person, role, awarding_body_id, partner_code, valid_from, valid_to, reason, appointed_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING {COLUMNS}"
    )))
    .bind(a.id)
    .bind(a.person)
    .bind(a.role)
    .bind(a.awarding_body_id)
    .bind(a.partner_code)
    .bind(a.valid_from)
    .bind(a.valid_to)
    .bind(a.reason)
    .bind(a.appointed_by)
    .fetch_one(conn)
    .await
}

/// The appointment `id`, locked for the transaction.
pub async fn lock(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<Appointment>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM appointments WHERE id = $1 FOR UPDATE"
    )))
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// Ends an appointment now; `None` if it was already ended.
pub async fn remove(
    conn: &mut PgConnection,
    id: Uuid,
    by: &str,
    reason: &str,
) -> sqlx::Result<Option<Appointment>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "UPDATE appointments SET removed_at = now(), removed_by = $2, removal_reason = $3
          WHERE id = $1 AND removed_at IS NULL RETURNING {COLUMNS}"
    )))
    .bind(id)
    .bind(by)
    .bind(reason)
    .fetch_optional(conn)
    .await
}

/// Every appointment at `body`, removed ones too, newest first.
pub async fn of_body(conn: &mut PgConnection, body: Uuid) -> sqlx::Result<Vec<Appointment>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM appointments WHERE awarding_body_id = $1 ORDER BY appointed_at DESC, id"
    )))
    .bind(body)
    .fetch_all(conn)
    .await
}

/// Every appointment of `person` (all of them when `None`), removed ones too, newest first; at
/// most `limit`.
pub async fn all(
    conn: &mut PgConnection,
    person: Option<&str>,
    limit: i64,
) -> sqlx::Result<Vec<Appointment>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM appointments WHERE $1::text IS NULL OR person = $1
          ORDER BY appointed_at DESC, id LIMIT $2"
    )))
    .bind(person)
    .bind(limit)
    .fetch_all(conn)
    .await
}

/// The appointments `person` holds on `day`: not removed, within their dates. With `body`, only
/// those at that body and the authority's.
pub async fn held(
    conn: &mut PgConnection,
    person: &str,
    day: NaiveDate,
    body: Option<Uuid>,
) -> sqlx::Result<Vec<Appointment>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM appointments
          WHERE person = $1 AND removed_at IS NULL
            AND valid_from <= $2 AND (valid_to IS NULL OR valid_to >= $2)
            AND ($3::uuid IS NULL OR awarding_body_id = $3 OR awarding_body_id IS NULL)
          ORDER BY appointed_at, id"
    )))
    .bind(person)
    .bind(day)
    .bind(body)
    .fetch_all(conn)
    .await
}

/// Whether `body` has a chair, not removed, whose dates overlap `from`..=`to` (`None`: open-ended).
/// Lock the body first, so two appointments cannot both see none.
pub async fn chair_overlapping(
    conn: &mut PgConnection,
    body: Uuid,
    from: NaiveDate,
    to: Option<NaiveDate>,
) -> sqlx::Result<bool> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM appointments
          WHERE awarding_body_id = $1 AND role = 'committee_chair' AND removed_at IS NULL
            AND ($3::date IS NULL OR valid_from <= $3)
            AND (valid_to IS NULL OR valid_to >= $2))",
    )
    .bind(body)
    .bind(from)
    .bind(to)
    .fetch_one(conn)
    .await
}

/// The partner appointments of `registry_code` at `body` still in force, locked (to end them when
/// the organisation's authorisation is withdrawn).
pub async fn of_partner(
    conn: &mut PgConnection,
    body: Uuid,
    registry_code: &str,
) -> sqlx::Result<Vec<Appointment>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM appointments
          WHERE awarding_body_id = $1 AND role = 'partner' AND partner_code = $2 AND removed_at IS NULL
          FOR UPDATE"
    )))
    .bind(body)
    .bind(registry_code)
    .fetch_all(conn)
    .await
}

/// The authority's people made from configuration and still in office.
pub async fn configured_authority(conn: &mut PgConnection) -> sqlx::Result<Vec<Appointment>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM appointments
          WHERE role = 'authority' AND appointed_by = 'configuration' AND removed_at IS NULL"
    )))
    .fetch_all(conn)
    .await
}

/// Makes the authority's people in the registry those of configuration: appoints each configured
/// code not yet in office, and ends the configuration-made appointments of codes no longer
/// configured. Run at start, in one transaction under an advisory lock, so replicas starting
/// together sync once.
pub async fn sync_authority(
    conn: &mut PgConnection,
    configured: &[kutse_domain::Isikukood],
) -> sqlx::Result<()> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext('kutse.intake.sync_authority'))")
        .execute(&mut *conn)
        .await?;
    let configured: Vec<String> = configured.iter().map(ToString::to_string).collect();
    let current = configured_authority(&mut *conn).await?;
    for code in &configured {
        if !current.iter().any(|a| &a.person == code) {
            insert(
                &mut *conn,
                &NewAppointment {
                    id: Uuid::now_v7(),
                    person: code,
                    role: "authority",
                    awarding_body_id: None,
                    partner_code: None,
                    valid_from: kutse_domain::tallinn_date(Utc::now()),
                    valid_to: None,
                    reason: "AUTHORITY_PERSONAL_CODES",
                    appointed_by: "configuration",
                },
            )
            .await?;
            tracing::info!("an authority person appointed from configuration");
        }
    }
    for appointment in current.iter().filter(|a| !configured.contains(&a.person)) {
        remove(
            &mut *conn,
            appointment.id,
            "configuration",
            "no longer in AUTHORITY_PERSONAL_CODES",
        )
        .await?;
        tracing::info!(appointment = %appointment.id, "an authority person removed by configuration");
    }
    Ok(())
}
