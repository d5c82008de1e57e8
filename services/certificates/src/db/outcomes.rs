//! What signed protocols decided: certificates issued, refusals told.

use sqlx::PgConnection;
use uuid::Uuid;

/// `Some(true)` if the application holds a certificate, `Some(false)` if it was refused, `None`
/// if no signed protocol has decided it yet.
pub async fn decided(conn: &mut PgConnection, application: Uuid) -> sqlx::Result<Option<bool>> {
    sqlx::query_scalar(
        "SELECT true FROM certificates WHERE application_id = $1
         UNION ALL
         SELECT false FROM refusals WHERE application_id = $1
         LIMIT 1",
    )
    .bind(application)
    .fetch_optional(conn)
    .await
}
