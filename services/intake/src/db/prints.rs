//! Paper prints ordered after issuance, and the body's print queue.

use sqlx::PgConnection;
use uuid::Uuid;

/// A print order.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct PrintOrder {
    pub id: Uuid,
    pub application_id: Uuid,
    pub awarding_body_id: Uuid,
    pub register_number: String,
    pub delivery_option: String,
    pub address: Option<String>,
    pub cost_cents: i64,
    pub ordered_at: chrono::DateTime<chrono::Utc>,
    pub status: String,
    pub sent_at: Option<chrono::DateTime<chrono::Utc>>,
    /// The holder's personal code: never shown to the body, only tracked as read.
    #[serde(skip)]
    pub holder: String,
}

const COLUMNS: &str = "id, application_id, awarding_body_id, register_number, delivery_option, address, cost_cents, ordered_at, status, sent_at,
        (SELECT a.applicant FROM applications a WHERE a.id = application_id) AS holder";

/// The register number the application's certificate was issued under, if it was.
pub async fn register_number(
    conn: &mut PgConnection,
    application: Uuid,
) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar(
        "SELECT detail ->> 'register_number' FROM application_history
          WHERE application_id = $1 AND event IN ('certificate_issued', 'duplicate_issued')
          ORDER BY id DESC LIMIT 1",
    )
    .bind(application)
    .fetch_optional(conn)
    .await
    .map(Option::flatten)
}

/// A new order.
#[derive(Debug, Clone)]
pub struct NewOrder<'a> {
    pub id: Uuid,
    pub application_id: Uuid,
    pub awarding_body_id: Uuid,
    pub register_number: &'a str,
    pub delivery_option: &'a str,
    pub address: Option<&'a str>,
    pub cost_cents: i64,
}

pub async fn insert(conn: &mut PgConnection, o: &NewOrder<'_>) -> sqlx::Result<PrintOrder> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "INSERT INTO print_orders (id, application_id, awarding_body_id, register_number, delivery_option, address, cost_cents)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {COLUMNS}"
    )))
    .bind(o.id)
    .bind(o.application_id)
    .bind(o.awarding_body_id)
    .bind(o.register_number)
    .bind(o.delivery_option)
    .bind(o.address)
    .bind(o.cost_cents)
    .fetch_one(conn)
    .await
}

/// The body's print queue: orders not yet sent, oldest first.
pub async fn queue(conn: &mut PgConnection, body: Uuid) -> sqlx::Result<Vec<PrintOrder>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM print_orders WHERE awarding_body_id = $1 AND status = 'ordered'
          ORDER BY ordered_at, id"
    )))
    .bind(body)
    .fetch_all(conn)
    .await
}

/// An order, locked.
pub async fn lock(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<PrintOrder>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM print_orders WHERE id = $1 FOR UPDATE"
    )))
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// Marks an order sent.
pub async fn sent(conn: &mut PgConnection, id: Uuid, by: &str) -> sqlx::Result<PrintOrder> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "UPDATE print_orders SET status = 'sent', sent_at = now(), sent_by = $2 WHERE id = $1 RETURNING {COLUMNS}"
    )))
    .bind(id)
    .bind(by)
    .fetch_one(conn)
    .await
}
