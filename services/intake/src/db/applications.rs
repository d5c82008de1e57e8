//! Applications, their history and the documents recorded for them.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::{ApplicationStatus, Submission};

/// Who an application belongs to.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Ownership {
    /// The applicant's personal code.
    pub applicant: String,
    pub awarding_body_id: Uuid,
    /// The partner organisation that created it on the applicant's behalf.
    pub partner_code: Option<String>,
    /// When the applicant confirmed a partner's application.
    pub confirmed_at: Option<chrono::DateTime<chrono::Utc>>,
}

pub async fn ownership(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<Ownership>> {
    sqlx::query_as("SELECT applicant, awarding_body_id, partner_code, confirmed_at FROM applications WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await
}

#[derive(sqlx::FromRow)]
struct SubmissionRow {
    status: String,
    fee_confirmed: bool,
    open: bool,
    deadline: NaiveDate,
    required_documents: Vec<String>,
}

/// What a submission is checked against, with the application locked (`FOR UPDATE`): two
/// submits at once must not both pass.
pub async fn lock_for_submission(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Submission> {
    let row: SubmissionRow = sqlx::query_as(
        // A duplicate copies a certificate: the round's documents are for assessment, which a
        // duplicate does not go through.
        "SELECT a.status, a.fee_confirmed, r.closed_at IS NULL AS open, r.deadline,
                CASE WHEN a.kind = 'duplicate' THEN '{}'::text[] ELSE r.required_documents END
                    AS required_documents
           FROM applications a JOIN rounds r ON r.id = a.round_id
          WHERE a.id = $1
          FOR UPDATE OF a",
    )
    .bind(id)
    .fetch_one(&mut *conn)
    .await?;
    let uploaded: HashSet<String> = sqlx::query_scalar(
        "SELECT document_type FROM application_documents WHERE application_id = $1",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .collect();
    let status = ApplicationStatus::parse(&row.status)
        .ok_or_else(|| sqlx::Error::Decode(format!("unknown status {:?}", row.status).into()))?;
    Ok(Submission {
        status,
        fee_confirmed: row.fee_confirmed,
        round_open: row.open,
        deadline: row.deadline,
        required_documents: row.required_documents,
        uploaded,
    })
}

/// The application's status, locked for the transaction (`FOR UPDATE`); `None` if there is no
/// such application.
pub async fn lock_status(
    conn: &mut PgConnection,
    id: Uuid,
) -> sqlx::Result<Option<ApplicationStatus>> {
    let status: Option<String> =
        sqlx::query_scalar("SELECT status FROM applications WHERE id = $1 FOR UPDATE")
            .bind(id)
            .fetch_optional(conn)
            .await?;
    status
        .map(|s| {
            ApplicationStatus::parse(&s)
                .ok_or_else(|| sqlx::Error::Decode(format!("unknown status {s:?}").into()))
        })
        .transpose()
}

/// A document the documents service stored for an application (`document.stored`).
#[derive(Debug, Clone)]
pub struct StoredDocument<'a> {
    pub document_id: Uuid,
    pub document_type: &'a str,
    pub sha256: &'a str,
    pub size_bytes: i64,
}

/// Records a stored document; the same document again changes nothing.
pub async fn add_document(
    conn: &mut PgConnection,
    application: Uuid,
    d: &StoredDocument<'_>,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO application_documents (document_id, application_id, document_type, sha256, size_bytes)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (document_id) DO NOTHING",
    )
    .bind(d.document_id)
    .bind(application)
    .bind(d.document_type)
    .bind(d.sha256)
    .bind(d.size_bytes)
    .execute(conn)
    .await
    .map(|_| ())
}

/// When the applicant submitted the application, if they have.
pub async fn submitted_at(
    conn: &mut PgConnection,
    id: Uuid,
) -> sqlx::Result<Option<chrono::DateTime<chrono::Utc>>> {
    sqlx::query_scalar("SELECT submitted_at FROM applications WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await
        .map(Option::flatten)
}

/// Records the submission time (the deadline was met at it).
pub async fn mark_submitted(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<()> {
    sqlx::query("UPDATE applications SET submitted_at = now() WHERE id = $1")
        .bind(id)
        .execute(conn)
        .await
        .map(|_| ())
}

/// Moves the status from `from` to `to`; `false` if the application was not in `from`.
pub async fn move_status(
    conn: &mut PgConnection,
    id: Uuid,
    from: ApplicationStatus,
    to: ApplicationStatus,
) -> sqlx::Result<bool> {
    sqlx::query("UPDATE applications SET status = $3 WHERE id = $1 AND status = $2")
        .bind(id)
        .bind(from.as_str())
        .bind(to.as_str())
        .execute(conn)
        .await
        .map(|r| r.rows_affected() == 1)
}

/// Adds an entry to the application's history. `detail` is shown to the applicant: roles and
/// bodies, never another person's code.
pub async fn add_history(
    conn: &mut PgConnection,
    id: Uuid,
    event: &str,
    detail: serde_json::Value,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO application_history (application_id, event, detail) VALUES ($1, $2, $3)",
    )
    .bind(id)
    .bind(event)
    .bind(detail)
    .execute(conn)
    .await
    .map(|_| ())
}

/// An application as it is created (a draft).
#[derive(Debug, Clone)]
pub struct NewApplication {
    pub id: Uuid,
    pub round_id: Uuid,
    pub awarding_body_id: Uuid,
    /// The applicant's personal code.
    pub applicant: String,
    pub given_name: String,
    pub family_name: String,
    pub email: String,
    pub language: kutse_domain::Language,
    pub kind: kutse_domain::ApplicationKind,
    pub delivery_option: kutse_domain::DeliveryOption,
    /// Codes of the competences applied for.
    pub competences: Vec<String>,
    /// The partner organisation creating it on the applicant's behalf.
    pub partner_code: Option<String>,
    /// The certificate a recertification renews or a duplicate copies.
    pub certificate_number: Option<String>,
    /// Why a duplicate is asked for.
    pub duplicate_reason: Option<kutse_domain::DuplicateReason>,
}

/// The status and fee mark a new application is written with.
pub const NEW_STATUS: &str = "draft";
pub const NEW_FEE_CONFIRMED: bool = false;

/// Creates draft applications in one statement: one round trip, and one commit, for a whole
/// batch of the group commit (`crate::http::creations`), where a transaction per application
/// took five round trips and a WAL flush (issue 16's P1). Each application, with its
/// competences, is created `at` (its history's first entry is read from it, see [`history`]);
/// with it go its event (`events`, the outbox's columns, and `event_of`, the application each is
/// of) and, for a request made with an `Idempotency-Key`, its saved answer (`keys`, each with its
/// application).
///
/// An application is written only if its round is still open, and the round is held
/// (`FOR SHARE`) until the statement commits, so that neither closing it nor editing it (allowed
/// before its first application, `db::desk::lock_round`) crosses the write. Answers the ids
/// written: one missing had its round closed after its facts were read.
pub async fn create_all(
    conn: &mut PgConnection,
    at: chrono::DateTime<chrono::Utc>,
    apps: &[&NewApplication],
    events: &kutse_messaging::outbox::Columns,
    event_of: &[Uuid],
    keys: &[(Uuid, crate::db::idempotency_keys::Row<'_>)],
) -> sqlx::Result<Vec<Uuid>> {
    static SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        format!(
            "WITH open AS (
                 SELECT id FROM rounds WHERE id = ANY($2::uuid[]) AND closed_at IS NULL
                    FOR SHARE),
             a AS (
                 INSERT INTO applications (id, round_id, awarding_body_id, applicant, given_name,
                                           family_name, email, language, kind, delivery_option,
                                           partner_code, certificate_number, duplicate_reason,
                                           competences, status, fee_confirmed, created_at)
                 SELECT u.*,
                        ARRAY(SELECT x.code
                                FROM UNNEST($14::uuid[], $15::text[]) AS x(application_id, code)
                               WHERE x.application_id = u.id ORDER BY x.code),
                        $16, $17, $18
                   FROM UNNEST($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::text[],
                               $6::text[], $7::text[], $8::text[], $9::text[], $10::text[],
                               $11::text[], $12::text[], $13::text[])
                     AS u(id, round_id, awarding_body_id, applicant, given_name, family_name,
                          email, language, kind, delivery_option, partner_code,
                          certificate_number, duplicate_reason)
                  WHERE u.round_id IN (SELECT id FROM open)
                 RETURNING id),
             e AS (
                 {events} UNNEST($19::uuid[], $20::text[], $21::bytea[], $22::jsonb[], $23::uuid[])
                     AS e(message_id, message_type, body, headers, application_id)
                  WHERE application_id IN (SELECT id FROM a)),
             k AS (
                 INSERT INTO idempotency_keys (subject, key, request_hash, status, body)
                 SELECT subject, key, request_hash, status, body
                   FROM UNNEST($24::uuid[], $25::text[], $26::text[], $27::text[], $28::int2[],
                               $29::jsonb[])
                     AS k(application_id, subject, key, request_hash, status, body)
                  WHERE application_id IN (SELECT id FROM a))
             SELECT id FROM a",
            events = kutse_messaging::Outbox::INSERT_FROM
        )
    });
    let text =
        |f: fn(&NewApplication) -> &str| -> Vec<&str> { apps.iter().map(|a| f(a)).collect() };
    let optional = |f: fn(&NewApplication) -> Option<&str>| -> Vec<Option<&str>> {
        apps.iter().map(|a| f(a)).collect()
    };
    let ids: Vec<Uuid> = apps.iter().map(|a| a.id).collect();
    let rounds: Vec<Uuid> = apps.iter().map(|a| a.round_id).collect();
    let bodies: Vec<Uuid> = apps.iter().map(|a| a.awarding_body_id).collect();
    let (mut competence_of, mut competences) = (Vec::new(), Vec::new());
    for a in apps {
        for code in &a.competences {
            competence_of.push(a.id);
            competences.push(code.as_str());
        }
    }
    let written = sqlx::query_scalar(sqlx::AssertSqlSafe(SQL.as_str()))
        .bind(&ids)
        .bind(&rounds)
        .bind(&bodies)
        .bind(text(|a| &a.applicant))
        .bind(text(|a| &a.given_name))
        .bind(text(|a| &a.family_name))
        .bind(text(|a| &a.email))
        .bind(text(|a| a.language.as_str()))
        .bind(text(|a| a.kind.as_str()))
        .bind(text(|a| a.delivery_option.as_str()))
        .bind(optional(|a| a.partner_code.as_deref()))
        .bind(optional(|a| a.certificate_number.as_deref()))
        .bind(optional(|a| a.duplicate_reason.map(|r| r.as_str())))
        .bind(&competence_of)
        .bind(&competences)
        .bind(NEW_STATUS)
        .bind(NEW_FEE_CONFIRMED)
        .bind(at)
        .bind(&events.message_ids)
        .bind(&events.message_types)
        .bind(&events.bodies)
        .bind(&events.headers)
        .bind(event_of)
        .bind(keys.iter().map(|k| k.0).collect::<Vec<_>>())
        .bind(keys.iter().map(|k| k.1.0).collect::<Vec<_>>())
        .bind(keys.iter().map(|k| k.1.1).collect::<Vec<_>>())
        .bind(keys.iter().map(|k| k.1.2).collect::<Vec<_>>())
        .bind(keys.iter().map(|k| k.1.3).collect::<Vec<_>>())
        .bind(keys.iter().map(|k| k.1.4).collect::<Vec<_>>())
        .fetch_all(conn)
        .await?;
    kutse_messaging::Outbox::written();
    Ok(written)
}

/// What an application to a round is checked against: the round, its fees and delivery
/// options, and its qualification with the codes of its competences.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RoundFacts {
    pub id: Uuid,
    pub awarding_body_id: Uuid,
    pub qualification_id: Uuid,
    pub open: bool,
    pub allowed_types: sqlx::types::Json<crate::db::rounds::AllowedTypes>,
    /// The kinds of application the round has a fee for.
    pub fee_kinds: Vec<String>,
    pub delivery_options: Vec<String>,
    pub prior_learning_allowed: bool,
    /// The codes of the qualification's competences, in order.
    pub competences: Vec<String>,
}

/// Reads the [`RoundFacts`] of `rounds` in one statement. Nothing is held: [`create_all`] writes
/// an application only if its round is still open, and holds the round while it writes. A round
/// that does not exist is missing from the answer. Only `open` ever changes, and only once (the
/// database refuses any other change: migration `round_facts_fixed`), so the group commit keeps
/// them (`http::creations`).
pub async fn round_facts(
    conn: &mut PgConnection,
    rounds: &[Uuid],
) -> sqlx::Result<HashMap<Uuid, RoundFacts>> {
    let facts: Vec<RoundFacts> = sqlx::query_as(
        "SELECT r.id, r.awarding_body_id, r.qualification_id, r.closed_at IS NULL AS open,
                r.allowed_types, q.prior_learning_allowed,
                ARRAY(SELECT kind FROM round_fees WHERE round_id = r.id) AS fee_kinds,
                ARRAY(SELECT option FROM round_delivery_options WHERE round_id = r.id)
                    AS delivery_options,
                ARRAY(SELECT code FROM competences WHERE qualification_id = q.id ORDER BY code)
                    AS competences
           FROM rounds r JOIN qualifications q ON q.id = r.qualification_id
          WHERE r.id = ANY($1)",
    )
    .bind(rounds)
    .fetch_all(conn)
    .await?;
    Ok(facts.into_iter().map(|f| (f.id, f)).collect())
}

/// An application's own columns, as its view shows them.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Record {
    pub round_id: Uuid,
    pub awarding_body_id: Uuid,
    pub status: String,
    pub kind: String,
    pub delivery_option: String,
    pub fee_confirmed: bool,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub submitted_at: Option<chrono::DateTime<chrono::Utc>>,
    pub partner_code: Option<String>,
    pub confirmed_at: Option<chrono::DateTime<chrono::Utc>>,
    pub certificate_number: Option<String>,
    pub duplicate_reason: Option<String>,
}

pub async fn record(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Record> {
    sqlx::query_as(
        "SELECT round_id, awarding_body_id, status, kind, delivery_option, fee_confirmed, created_at, submitted_at,
                partner_code, confirmed_at, certificate_number, duplicate_reason
           FROM applications WHERE id = $1",
    )
    .bind(id)
    .fetch_one(conn)
    .await
}

/// Codes of the competences applied for, in order.
pub async fn competence_codes(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar("SELECT competences FROM applications WHERE id = $1")
        .bind(id)
        .fetch_one(conn)
        .await
}

/// A document recorded for an application (from `document.stored`).
#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow, utoipa::ToSchema)]
#[schema(as = ApplicationDocument)]
pub struct Document {
    pub document_id: Uuid,
    pub document_type: String,
    pub sha256: String,
    pub size_bytes: i64,
}

pub async fn documents(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Vec<Document>> {
    sqlx::query_as(
        "SELECT document_id, document_type, sha256, size_bytes FROM application_documents
          WHERE application_id = $1 ORDER BY stored_at",
    )
    .bind(id)
    .fetch_all(conn)
    .await
}

/// One entry of an application's history (shown to the applicant).
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct HistoryEntry {
    pub at: chrono::DateTime<chrono::Utc>,
    pub event: String,
    pub detail: serde_json::Value,
}

/// An application's first history entry, `created`, at its creation, by the applicant or by
/// the partner that created it. Not stored: [`history`] builds it from the application's row,
/// and the creation's answer from what is written.
pub fn created_entry(
    at: chrono::DateTime<chrono::Utc>,
    partner_code: Option<&str>,
) -> HistoryEntry {
    HistoryEntry {
        at,
        event: "created".to_owned(),
        detail: match partner_code {
            Some(code) => serde_json::json!({ "by": "partner", "partner_code": code }),
            None => serde_json::json!({ "by": "applicant" }),
        },
    }
}

/// An application's history, oldest first. Its first entry, `created`, is not stored (it would
/// repeat the application's row: one row and two index entries fewer per new application, issue
/// 16's P1): it is built from the creation time and the partner ([`created_entry`]). A stored
/// one (written by an intake older than migration `created_from_application`, during a rolling
/// deploy) is passed over: it says the same.
pub async fn history(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Vec<HistoryEntry>> {
    type Row = (
        chrono::DateTime<chrono::Utc>,
        String,
        Option<serde_json::Value>,
        Option<String>,
    );
    // The application's row comes first, with no detail and its partner; then the stored
    // entries, with their detail.
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT at, event, detail, partner_code FROM (
             SELECT 0::bigint AS id, created_at AS at, 'created' AS event, NULL::jsonb AS detail,
                    partner_code
               FROM applications WHERE id = $1
             UNION ALL
             SELECT id, at, event, detail, NULL FROM application_history
              WHERE application_id = $1 AND event <> 'created'
         ) h ORDER BY id",
    )
    .bind(id)
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(at, event, detail, partner_code)| match detail {
            Some(detail) => HistoryEntry { at, event, detail },
            None => created_entry(at, partner_code.as_deref()),
        })
        .collect())
}

/// Locks the application and marks its fee confirmed; returns its status and whether the fee
/// was confirmed just now (`false`: it had been before).
pub async fn confirm_fee(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<(String, bool)> {
    let status: String =
        sqlx::query_scalar("SELECT status FROM applications WHERE id = $1 FOR UPDATE")
            .bind(id)
            .fetch_one(&mut *conn)
            .await?;
    let updated = sqlx::query(
        "UPDATE applications SET fee_confirmed = true WHERE id = $1 AND NOT fee_confirmed",
    )
    .bind(id)
    .execute(conn)
    .await?
    .rows_affected();
    Ok((status, updated == 1))
}

/// Everything `application.submitted` says of an application, as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SubmissionFacts {
    pub applicant: String,
    pub kind: String,
    pub delivery_option: String,
    pub round_id: Uuid,
    pub awarding_body_id: Uuid,
    pub given_name: String,
    pub family_name: String,
    pub email: String,
    pub language: String,
    pub submitted_at: Option<chrono::DateTime<chrono::Utc>>,
    pub deadline: NaiveDate,
    pub qualification_id: Uuid,
    pub qualification_name: String,
    pub level: i16,
    pub partial: bool,
    pub certificate_number: Option<String>,
    pub duplicate_reason: Option<String>,
    /// (code, name) of the competences applied for.
    #[sqlx(skip)]
    pub competences: Vec<(String, String)>,
}

pub async fn submission_facts(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<SubmissionFacts> {
    let mut facts: SubmissionFacts = sqlx::query_as(
        "SELECT a.applicant, a.kind, a.delivery_option, a.round_id, a.awarding_body_id,
                a.given_name, a.family_name, a.email, a.language, a.submitted_at,
                r.deadline, q.id AS qualification_id, q.name AS qualification_name, q.level, q.partial,
                a.certificate_number, a.duplicate_reason
           FROM applications a
           JOIN rounds r ON r.id = a.round_id
           JOIN qualifications q ON q.id = r.qualification_id
          WHERE a.id = $1",
    )
    .bind(id)
    .fetch_one(&mut *conn)
    .await?;
    facts.competences = sqlx::query_as(
        "SELECT c.code, c.name FROM applications a
           JOIN competences c ON c.code = ANY (a.competences) AND c.qualification_id = $2
          WHERE a.id = $1 ORDER BY c.code",
    )
    .bind(id)
    .bind(facts.qualification_id)
    .fetch_all(conn)
    .await?;
    Ok(facts)
}

/// The applicant confirms an application a partner created for them; `false` if it was
/// confirmed before.
pub async fn confirm(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<bool> {
    sqlx::query(
        "UPDATE applications SET confirmed_at = now() WHERE id = $1 AND confirmed_at IS NULL",
    )
    .bind(id)
    .execute(conn)
    .await
    .map(|r| r.rows_affected() == 1)
}

/// One of a person's applications, as their own list shows it.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct OwnApplication {
    pub id: Uuid,
    pub round_id: Uuid,
    pub awarding_body_id: Uuid,
    pub status: String,
    pub kind: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub submitted_at: Option<chrono::DateTime<chrono::Utc>>,
    /// The partner organisation that created it on their behalf, if one did.
    pub partner_code: Option<String>,
    pub confirmed_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// The applications a partner organisation created at a body, newest first, with the round's
/// qualification (a partner reads only within the scope it is authorised for now).
pub async fn of_partner(
    conn: &mut PgConnection,
    partner_code: &str,
    awarding_body: Uuid,
) -> sqlx::Result<Vec<(OwnApplication, Uuid)>> {
    #[derive(sqlx::FromRow)]
    struct Row {
        #[sqlx(flatten)]
        application: OwnApplication,
        qualification_id: Uuid,
    }
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT a.id, a.round_id, a.awarding_body_id, a.status, a.kind, a.created_at,
                a.submitted_at, a.partner_code, a.confirmed_at, r.qualification_id
           FROM applications a JOIN rounds r ON r.id = a.round_id
          WHERE a.partner_code = $1 AND a.awarding_body_id = $2
          ORDER BY a.created_at DESC, a.id",
    )
    .bind(partner_code)
    .bind(awarding_body)
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.application, r.qualification_id))
        .collect())
}

/// A person's applications, newest first (those partners created for them too).
pub async fn of_applicant(
    conn: &mut PgConnection,
    applicant: &str,
) -> sqlx::Result<Vec<OwnApplication>> {
    sqlx::query_as(
        "SELECT id, round_id, awarding_body_id, status, kind, created_at, submitted_at, partner_code, confirmed_at
           FROM applications WHERE applicant = $1 ORDER BY created_at DESC, id",
    )
    .bind(applicant)
    .fetch_all(conn)
    .await
}
