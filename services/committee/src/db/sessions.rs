//! Sessions.

use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::SessionStatus;

/// A session's owner and state, locked for the rest of the transaction.
#[derive(Debug, Clone, Copy)]
pub struct LockedSession {
    pub awarding_body_id: Uuid,
    pub status: SessionStatus,
    /// The session's day: the committee's roster is read as of it.
    pub held_on: chrono::NaiveDate,
}

pub async fn lock(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<LockedSession>> {
    let row: Option<(Uuid, String, chrono::NaiveDate)> = sqlx::query_as(
        // Sessions opened before they had a day: the day they were opened, in Tallinn.
        "SELECT awarding_body_id, status,
                coalesce(held_on, (created_at AT TIME ZONE 'Europe/Tallinn')::date)
           FROM sessions WHERE id = $1 FOR UPDATE",
    )
    .bind(id)
    .fetch_optional(conn)
    .await?;
    row.map(|(awarding_body_id, status, held_on)| {
        let status = SessionStatus::parse(&status).ok_or_else(|| {
            sqlx::Error::Decode(format!("unknown session status {status:?}").into())
        })?;
        Ok(LockedSession {
            awarding_body_id,
            status,
            held_on,
        })
    })
    .transpose()
}

/// Freezes the protocol: `voting` → `closed`, with the document the chair will sign. `false` if
/// the session was not voting.
pub async fn freeze(
    conn: &mut PgConnection,
    id: Uuid,
    protocol: &serde_json::Value,
) -> sqlx::Result<bool> {
    debug_assert!(SessionStatus::Voting.may_become(SessionStatus::Closed));
    sqlx::query(
        "UPDATE sessions SET status = 'closed', protocol = $2 WHERE id = $1 AND status = 'voting'",
    )
    .bind(id)
    .bind(protocol)
    .execute(conn)
    .await
    .map(|r| r.rows_affected() == 1)
}

/// Records the chair's signature: `closed` → `signed`. `false` if the session was not closed.
pub async fn sign(conn: &mut PgConnection, id: Uuid, jws: &str) -> sqlx::Result<bool> {
    debug_assert!(SessionStatus::Closed.may_become(SessionStatus::Signed));
    sqlx::query(
        "UPDATE sessions SET status = 'signed', protocol_jws = $2, signed_at = now()
          WHERE id = $1 AND status = 'closed'",
    )
    .bind(id)
    .bind(jws)
    .execute(conn)
    .await
    .map(|r| r.rows_affected() == 1)
}

/// Opens a session and takes onto its agenda every decided application of the round that waits
/// for one; returns how many it took.
pub async fn open(
    conn: &mut PgConnection,
    id: Uuid,
    awarding_body_id: Uuid,
    round_id: Uuid,
    created_by: &str,
    when: (chrono::NaiveDate, Option<&str>, Option<i32>),
) -> sqlx::Result<u64> {
    let (held_on, place, quorum) = when;
    sqlx::query(
        "INSERT INTO sessions (id, awarding_body_id, round_id, created_by, held_on, place, quorum)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(id)
    .bind(awarding_body_id)
    .bind(round_id)
    .bind(created_by)
    .bind(held_on)
    .bind(place)
    .bind(quorum)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "UPDATE agenda_items SET session_id = $1
          WHERE round_id = $2 AND awarding_body_id = $3 AND session_id IS NULL",
    )
    .bind(id)
    .bind(round_id)
    .bind(awarding_body_id)
    .execute(conn)
    .await
    .map(|r| r.rows_affected())
}

/// A session as its view shows it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Summary {
    pub round_id: Uuid,
    pub status: String,
    pub held_on: Option<chrono::NaiveDate>,
    pub place: Option<String>,
    pub quorum: Option<i32>,
    pub protocol: Option<serde_json::Value>,
    pub register_outcome: Option<String>,
    pub register_detail: Option<serde_json::Value>,
}

pub async fn summary(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Summary> {
    sqlx::query_as(
        "SELECT round_id, status, held_on, place, quorum, protocol, register_outcome, register_detail FROM sessions WHERE id = $1",
    )
    .bind(id)
    .fetch_one(conn)
    .await
}

/// One application on a session's agenda, with its votes counted.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AgendaItem {
    pub application_id: Uuid,
    pub all_accepted: bool,
    pub votes_for: i64,
    pub votes_against: i64,
}

pub async fn agenda(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Vec<AgendaItem>> {
    sqlx::query_as(
        "SELECT a.application_id, a.all_accepted,
                count(*) FILTER (WHERE v.in_favour) AS votes_for,
                count(*) FILTER (WHERE NOT v.in_favour) AS votes_against
           FROM agenda_items a
           LEFT JOIN votes v ON v.application_id = a.application_id AND v.session_id = a.session_id
                -- Only the votes of members present and not recused count.
                AND EXISTS (SELECT 1 FROM presence p
                             WHERE p.session_id = v.session_id AND 'EE' || p.member = v.member)
                AND NOT EXISTS (SELECT 1 FROM recusals r
                                 WHERE r.session_id = v.session_id AND r.application_id = v.application_id
                                   AND 'EE' || r.member = v.member)
          WHERE a.session_id = $1
          GROUP BY a.application_id, a.all_accepted
          ORDER BY a.application_id",
    )
    .bind(id)
    .fetch_all(conn)
    .await
}

/// Records (or changes) a member's vote; `false` if the application is not on the agenda.
pub async fn vote(
    conn: &mut PgConnection,
    id: Uuid,
    application: Uuid,
    member: &str,
    in_favour: bool,
) -> sqlx::Result<bool> {
    let on_agenda =
        sqlx::query("SELECT 1 FROM agenda_items WHERE session_id = $1 AND application_id = $2")
            .bind(id)
            .bind(application)
            .fetch_optional(&mut *conn)
            .await?
            .is_some();
    if !on_agenda {
        return Ok(false);
    }
    sqlx::query(
        "INSERT INTO votes (session_id, application_id, member, in_favour) VALUES ($1, $2, $3, $4)
         ON CONFLICT (session_id, application_id, member) DO UPDATE SET in_favour = $4",
    )
    .bind(id)
    .bind(application)
    .bind(member)
    .bind(in_favour)
    .execute(conn)
    .await
    .map(|_| true)
}

/// The frozen protocol document of a session.
pub async fn frozen_protocol(
    conn: &mut PgConnection,
    id: Uuid,
) -> sqlx::Result<Option<serde_json::Value>> {
    sqlx::query_scalar("SELECT protocol FROM sessions WHERE id = $1")
        .bind(id)
        .fetch_one(conn)
        .await
}

/// Notes the register's answer on the session whose protocol it was. A rejection names its
/// session from an unverified payload: it never overwrites an acceptance (which only a verified
/// protocol can cause).
pub async fn register_answer(
    conn: &mut PgConnection,
    session: Uuid,
    protocol: Uuid,
    outcome: &str,
    detail: &serde_json::Value,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE sessions SET register_outcome = $3, register_detail = $4
          WHERE id = $1 AND protocol->>'protocol_id' = $2::text
            AND register_outcome IS DISTINCT FROM 'accepted'",
    )
    .bind(session)
    .bind(protocol)
    .bind(outcome)
    .bind(detail)
    .execute(conn)
    .await
    .map(|_| ())
}

/// Marks a member present or absent.
pub async fn mark_presence(
    conn: &mut PgConnection,
    id: Uuid,
    member: &str,
    present: bool,
    by: &str,
) -> sqlx::Result<()> {
    if present {
        sqlx::query(
            "INSERT INTO presence (session_id, member, marked_by) VALUES ($1, $2, $3)
             ON CONFLICT DO NOTHING",
        )
        .bind(id)
        .bind(member)
        .bind(by)
        .execute(conn)
        .await?;
    } else {
        sqlx::query("DELETE FROM presence WHERE session_id = $1 AND member = $2")
            .bind(id)
            .bind(member)
            .execute(&mut *conn)
            .await?;
        // Someone not present has not voted.
        sqlx::query("DELETE FROM votes WHERE session_id = $1 AND member = $2")
            .bind(id)
            .bind(format!("EE{member}"))
            .execute(conn)
            .await?;
    }
    Ok(())
}

/// The members present (personal codes), sorted.
pub async fn present(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar("SELECT member FROM presence WHERE session_id = $1 ORDER BY member")
        .bind(id)
        .fetch_all(conn)
        .await
}

/// A member recuses themselves from an application; any vote of theirs on it is withdrawn.
pub async fn recuse(
    conn: &mut PgConnection,
    id: Uuid,
    application: Uuid,
    member: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO recusals (session_id, application_id, member) VALUES ($1, $2, $3)
         ON CONFLICT DO NOTHING",
    )
    .bind(id)
    .bind(application)
    .bind(member)
    .execute(&mut *conn)
    .await?;
    sqlx::query("DELETE FROM votes WHERE session_id = $1 AND application_id = $2 AND member = $3")
        .bind(id)
        .bind(application)
        .bind(format!("EE{member}"))
        .execute(conn)
        .await
        .map(|_| ())
}

/// The recusals of a session: (application, member), sorted.
pub async fn recusals(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Vec<(Uuid, String)>> {
    sqlx::query_as(
        "SELECT application_id, member FROM recusals WHERE session_id = $1 ORDER BY application_id, member",
    )
    .bind(id)
    .fetch_all(conn)
    .await
}

/// Records whose application it is (the first word stands).
pub async fn record_applicant(
    conn: &mut PgConnection,
    application: Uuid,
    applicant: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO applicants (application_id, applicant) VALUES ($1, $2) ON CONFLICT DO NOTHING",
    )
    .bind(application)
    .bind(applicant)
    .execute(conn)
    .await
    .map(|_| ())
}

/// Whose application it is, if known.
pub async fn applicant(conn: &mut PgConnection, application: Uuid) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar("SELECT applicant FROM applicants WHERE application_id = $1")
        .bind(application)
        .fetch_optional(conn)
        .await
}

/// Whether the application is on the session's agenda.
pub async fn on_agenda(conn: &mut PgConnection, id: Uuid, application: Uuid) -> sqlx::Result<bool> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM agenda_items WHERE session_id = $1 AND application_id = $2)",
    )
    .bind(id)
    .bind(application)
    .fetch_one(conn)
    .await
}
