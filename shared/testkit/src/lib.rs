//! Helpers for tests that run against the real local stack (`make stack`).
//!
//! Every test gets its own PostgreSQL database ([`TestDb`], dropped when the test ends) and its
//! own broker names ([`topology`], a unique prefix whose queues expire), so tests run in
//! parallel on one PostgreSQL and one RabbitMQ without seeing each other.
//!
//! Where the servers are is read from `KUTSE_TEST_DATABASE_URL` (a database the role may connect
//! to; default `postgres://kutse:kutse@127.0.0.1:5432/postgres`) and `KUTSE_TEST_AMQP_URL`
//! (default `amqp://guest:guest@127.0.0.1:5672/%2f`).

use std::future::Future;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, Connection, PgPool};

/// The admin connection URL tests create databases through.
#[expect(
    clippy::disallowed_methods,
    reason = "where the test servers are is the test runner's setting"
)]
pub fn admin_database_url() -> String {
    std::env::var("KUTSE_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://kutse:kutse@127.0.0.1:5432/postgres".to_owned())
}

/// The broker tests use.
#[expect(
    clippy::disallowed_methods,
    reason = "where the test servers are is the test runner's setting"
)]
pub fn amqp_url() -> String {
    std::env::var("KUTSE_TEST_AMQP_URL")
        .unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".to_owned())
}

/// Runs `work` to completion on a thread of its own with its own runtime, and waits for it: for
/// clean-up in `Drop`, which runs outside async (and may run on the test's runtime, which must
/// not be blocked from inside).
pub fn block_on_side<F>(work: F) -> anyhow::Result<()>
where
    F: Future<Output = anyhow::Result<()>> + Send + 'static,
{
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?
            .block_on(work)
    })
    .join()
    .map_err(|_| anyhow::anyhow!("clean-up thread panicked"))?
}

/// The youngest a test's quorum queues may be when they are deleted. RabbitMQ 3.10 starts a
/// dead-letter worker for each quorum queue with at-least-once dead-lettering; deleted before
/// that worker has looked the queue up, the worker crashes (`{badmatch,{error,not_found}}`), and a
/// few such crashes close together take down `rabbit_fifo_dlx_sup`, after which no such queue can
/// start until the broker is restarted. Quick tests therefore wait this long before deleting.
pub const MIN_QUEUE_AGE: Duration = Duration::from_secs(2);

/// How long ago a topology made by [`topology`] was made (its prefix is a UUIDv7).
fn age_of(prefix: &str) -> Option<Duration> {
    let id: uuid::Uuid = prefix.strip_prefix("test-")?.parse().ok()?;
    let (seconds, nanos) = id.get_timestamp()?.to_unix();
    let made = std::time::UNIX_EPOCH + Duration::new(seconds, nanos);
    std::time::SystemTime::now().duration_since(made).ok()
}

/// Deletes a test's broker queues (and exchange) when it is done, from `Drop`: what `delete`
/// does with a channel of a fresh connection, once the topology named by `prefix` is at least
/// [`MIN_QUEUE_AGE`] old. Failures are ignored — the queues expire anyway.
pub fn delete_on_broker<D, Fut>(prefix: &str, delete: D)
where
    D: FnOnce(lapin::Channel) -> Fut + Send + 'static,
    Fut: Future<Output = Result<(), lapin::Error>> + Send,
{
    if let Some(wait) = age_of(prefix).and_then(|age| MIN_QUEUE_AGE.checked_sub(age)) {
        std::thread::sleep(wait);
    }
    let _ = block_on_side(async move {
        let connection = broker().await?;
        let channel = connection.create_channel().await?;
        delete(channel.clone()).await?;
        // Closed and waited for before the connection: a channel only dropped is closed by lapin
        // in the background, racing the connection's close (a spurious ERROR in the log).
        let _ = channel.close(200, "test finished".into()).await;
        let _ = connection.close(200, "test finished".into()).await;
        anyhow::Ok(())
    });
}

/// A throw-away database, dropped (with any connections left) when this value is dropped.
#[derive(Debug)]
pub struct TestDb {
    pub name: String,
    pub url: String,
    pub pool: PgPool,
}

impl TestDb {
    /// Creates an empty database with a unique name.
    pub async fn new() -> anyhow::Result<Self> {
        let admin: PgConnectOptions = admin_database_url().parse()?;
        let name = format!("kutse_test_{}", uuid::Uuid::now_v7().simple());
        let mut conn = admin.connect().await?;
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await?;
        conn.close().await?;
        let options = admin.clone().database(&name);
        let url = options.to_url_lossy().to_string();
        let pool = PgPoolOptions::new()
            .max_connections(10)
            .connect_with(options)
            .await?;
        Ok(Self { name, url, pool })
    }

    /// A database with the messaging schema (outbox, inbox) migrated.
    pub async fn with_messaging() -> anyhow::Result<Self> {
        let db = Self::new().await?;
        kutse_messaging::migrate(&db.pool).await?;
        Ok(db)
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        // Drop runs outside async; a small thread with its own runtime does the DROP DATABASE.
        // The pool is left alone: closing it needs the test's runtime, which this thread blocks;
        // `WITH (FORCE)` ends its connections instead.
        let name = self.name.clone();
        let joined = block_on_side(async move {
            let admin: PgConnectOptions = admin_database_url().parse()?;
            let mut conn = admin.connect().await?;
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
            )))
            .execute(&mut conn)
            .await?;
            anyhow::Ok(())
        });
        if let Err(e) = joined {
            eprintln!("could not drop test database {}: {e:#}", self.name);
        }
    }
}

/// A topology of this test's own: unique prefix, short retry delays (100 ms, 300 ms), a low
/// delivery limit, and queues that expire five minutes after the test stops using them.
pub fn topology() -> kutse_messaging::Topology {
    kutse_messaging::Topology {
        prefix: format!("test-{}", uuid::Uuid::now_v7().simple()),
        retry_delays: vec![Duration::from_millis(100), Duration::from_millis(300)],
        delivery_limit: 5,
        queue_expiry: Some(Duration::from_secs(300)),
    }
}

/// A broker connection for a test. Retried for up to a minute: RabbitMQ stalls new connections
/// for a while when it deletes many expired quorum queues at once (test queues of earlier runs).
pub async fn broker() -> anyhow::Result<lapin::Connection> {
    let mut last = None;
    for _ in 0..6 {
        match kutse_messaging::connect(&amqp_url(), "kutse-test").await {
            Ok(connection) => return Ok(connection),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| anyhow::anyhow!("no broker")))
}

/// Polls `check` every 25 ms until it returns `Some`, for at most `limit`; fails the test with
/// `what` if it never does. For effects that cross the broker, which a test cannot await directly.
pub async fn eventually<T, F, Fut>(limit: Duration, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out after {limit:?} waiting for: {what}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}
