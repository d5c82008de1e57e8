//! Certificates' status: their entries in the status lists, and every change of status.

use std::collections::HashSet;

use sqlx::PgConnection;
use uuid::Uuid;

use crate::status_list::{Entry, LIST_SIZE, Purpose};

/// A list is left for the next once it is three-quarters full, so random picks stay cheap.
const LIST_FILL: usize = LIST_SIZE as usize * 3 / 4;

/// Assigns `count` random free indices of `purpose`'s lists, opening new lists as they fill.
/// Allocation is serialised across replicas by a transaction-scoped advisory lock, held until
/// the caller's transaction ends (the entries are inserted with the certificates).
pub async fn allocate(
    conn: &mut PgConnection,
    purpose: Purpose,
    count: usize,
) -> sqlx::Result<Vec<Entry>> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext('kutse_status_lists'), $1)")
        .bind(match purpose {
            Purpose::Revocation => 1,
            Purpose::Suspension => 2,
        })
        .execute(&mut *conn)
        .await?;
    let mut list: i32 =
        sqlx::query_scalar("SELECT coalesce(max(list), 1) FROM status_entries WHERE purpose = $1")
            .bind(purpose.as_str())
            .fetch_one(&mut *conn)
            .await?;
    let mut taken: HashSet<i32> =
        sqlx::query_scalar("SELECT index FROM status_entries WHERE purpose = $1 AND list = $2")
            .bind(purpose.as_str())
            .bind(list)
            .fetch_all(&mut *conn)
            .await?
            .into_iter()
            .collect();
    let mut entries = Vec::with_capacity(count);
    while entries.len() < count {
        let room = LIST_FILL.saturating_sub(taken.len());
        if room == 0 {
            list += 1;
            taken.clear();
            continue;
        }
        let chunk = room.min(count - entries.len());
        let picked = crate::status_list::pick_free(&taken, chunk).unwrap_or_default();
        taken.extend(picked.iter().copied());
        entries.extend(picked.into_iter().map(|index| Entry {
            purpose,
            list,
            index,
        }));
    }
    Ok(entries)
}

/// Stores each certificate's entries.
pub async fn insert_entries(
    conn: &mut PgConnection,
    entries: &[(Uuid, Entry)],
) -> sqlx::Result<()> {
    let certificates: Vec<Uuid> = entries.iter().map(|(c, _)| *c).collect();
    let purposes: Vec<&str> = entries.iter().map(|(_, e)| e.purpose.as_str()).collect();
    let lists: Vec<i32> = entries.iter().map(|(_, e)| e.list).collect();
    let indices: Vec<i32> = entries.iter().map(|(_, e)| e.index).collect();
    sqlx::query(
        "INSERT INTO status_entries (certificate_id, purpose, list, index)
         SELECT * FROM UNNEST($1::uuid[], $2::text[], $3::int[], $4::int[])",
    )
    .bind(certificates)
    .bind(purposes)
    .bind(lists)
    .bind(indices)
    .execute(conn)
    .await?;
    Ok(())
}

/// Whether a list exists (has any entry).
pub async fn list_exists(
    conn: &mut PgConnection,
    purpose: Purpose,
    list: i32,
) -> sqlx::Result<bool> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM status_entries WHERE purpose = $1 AND list = $2)",
    )
    .bind(purpose.as_str())
    .bind(list)
    .fetch_one(conn)
    .await
}

/// The indices of a list whose bit is set: certificates revoked (for the revocation list) or
/// suspended now (for the suspension list).
pub async fn set_indices(
    conn: &mut PgConnection,
    purpose: Purpose,
    list: i32,
) -> sqlx::Result<Vec<i32>> {
    let status = match purpose {
        Purpose::Revocation => "revoked",
        Purpose::Suspension => "suspended",
    };
    sqlx::query_scalar(
        "SELECT e.index FROM status_entries e JOIN certificates c ON c.id = e.certificate_id
          WHERE e.purpose = $1 AND e.list = $2 AND c.status = $3",
    )
    .bind(purpose.as_str())
    .bind(list)
    .bind(status)
    .fetch_all(conn)
    .await
}

/// The lists of every purpose, for the index of lists.
pub async fn lists(conn: &mut PgConnection) -> sqlx::Result<Vec<(String, i32)>> {
    sqlx::query_as("SELECT DISTINCT purpose, list FROM status_entries ORDER BY purpose, list")
        .fetch_all(conn)
        .await
}

/// A change of a certificate's status.
#[derive(Debug, Clone)]
pub struct Change<'a> {
    pub certificate_id: Uuid,
    /// `revoked`, `suspended` or `reinstated`.
    pub action: &'a str,
    /// The status the certificate has afterwards.
    pub status: &'a str,
    pub reason: &'a str,
    pub actor: &'a str,
    pub actor_role: &'a str,
}

/// Sets the certificate's status and records the change; when it happened.
pub async fn change(
    conn: &mut PgConnection,
    c: &Change<'_>,
) -> sqlx::Result<chrono::DateTime<chrono::Utc>> {
    sqlx::query("UPDATE certificates SET status = $2 WHERE id = $1")
        .bind(c.certificate_id)
        .bind(c.status)
        .execute(&mut *conn)
        .await?;
    sqlx::query_scalar(
        "INSERT INTO status_changes (id, certificate_id, action, reason, actor, actor_role)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING changed_at",
    )
    .bind(Uuid::now_v7())
    .bind(c.certificate_id)
    .bind(c.action)
    .bind(c.reason)
    .bind(c.actor)
    .bind(c.actor_role)
    .fetch_one(conn)
    .await
}

/// A recorded change, as the certificate's history shows it.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct Recorded {
    pub action: String,
    pub reason: String,
    pub actor_role: String,
    pub changed_at: chrono::DateTime<chrono::Utc>,
}

/// The certificate's changes of status, oldest first.
pub async fn history(conn: &mut PgConnection, certificate: Uuid) -> sqlx::Result<Vec<Recorded>> {
    sqlx::query_as(
        "SELECT action, reason, actor_role, changed_at FROM status_changes
          WHERE certificate_id = $1 ORDER BY changed_at, id",
    )
    .bind(certificate)
    .fetch_all(conn)
    .await
}

/// The role that made the certificate's latest suspension, if it was ever suspended.
pub async fn last_suspended_by(
    conn: &mut PgConnection,
    certificate: Uuid,
) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar(
        "SELECT actor_role FROM status_changes WHERE certificate_id = $1 AND action = 'suspended'
          ORDER BY changed_at DESC, id DESC LIMIT 1",
    )
    .bind(certificate)
    .fetch_optional(conn)
    .await
}
