//! Sessions.

use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::SessionStatus;

/// A session's owner and state, locked for the rest of the transaction.
#[derive(Debug, Clone, Copy)]
pub struct LockedSession {
    pub awarding_body_id: Uuid,
    pub status: SessionStatus,
}

pub async fn lock(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<LockedSession>> {
    let row: Option<(Uuid, String)> =
        sqlx::query_as("SELECT awarding_body_id, status FROM sessions WHERE id = $1 FOR UPDATE")
            .bind(id)
            .fetch_optional(conn)
            .await?;
    row.map(|(awarding_body_id, status)| {
        let status = SessionStatus::parse(&status).ok_or_else(|| {
            sqlx::Error::Decode(format!("unknown session status {status:?}").into())
        })?;
        Ok(LockedSession {
            awarding_body_id,
            status,
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
