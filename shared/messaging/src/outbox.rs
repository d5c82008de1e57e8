//! The transactional outbox and its relay.
//!
//! A service calls [`Outbox::enqueue`] with the same connection (transaction) it changes its state
//! with, so the event exists if and only if the change committed. A [`Relay`] moves pending rows
//! to the broker:
//!
//! 1. claim up to `batch_size` pending rows, oldest first, `FOR UPDATE SKIP LOCKED` — another
//!    relay replica skips them and takes the next ones;
//! 2. publish them all (mandatory, confirmed, pipelined);
//! 3. mark the confirmed ones published; give the failed ones (unroutable, nacked) a growing
//!    back-off and keep the reason in `last_error`; commit, which releases the claim.
//!
//! If the relay dies after 2 and before 3 the transaction rolls back, the rows stay pending and
//! are published again: delivery is at least once, and the consumers' inbox makes it once in
//! effect. Ordering across rows is not guaranteed when several relays run; consumers must not
//! depend on it.
//!
//! **Waking.** [`Outbox::enqueue`] tells the relays of its own process that a row is coming. It
//! cannot know when the writer commits, so a relay so told looks again at short, growing
//! intervals (1 ms doubling to 64 ms) for a quarter of a second. Rows written by another process
//! are found by the idle poll (`idle_poll`, 1 s). A NOTIFY from a trigger did this before, but
//! PostgreSQL serialises the commits of notifying transactions through their WAL flush. Under a
//! steady stream of writes a round starts at most every 5 ms (unless the last one was full), so
//! that each takes several rows rather than one transaction per row.

use std::collections::HashMap;
use std::time::Duration;

use sqlx::{PgConnection, PgPool, Postgres, Row, Transaction};
use tokio_util::sync::CancellationToken;

use crate::envelope::Envelope;
use crate::headers;
use crate::publisher::{self, Outgoing, PublishError, Publisher};

/// Counts the rows enqueued in this process; relays watch it (see "Waking" above).
static WRITTEN: std::sync::LazyLock<tokio::sync::watch::Sender<u64>> =
    std::sync::LazyLock::new(|| tokio::sync::watch::Sender::new(0));

/// How long a relay told of a new row keeps looking for it, and how often.
const CHASE_FOR: Duration = Duration::from_millis(250);
const CHASE_FIRST: Duration = Duration::from_millis(1);
const CHASE_MAX: Duration = Duration::from_millis(64);
/// The least time from one round's start to the next one's, unless the last round was full:
/// under a steady stream of writes, rounds of a few rows each cost the database a transaction
/// apiece, and fewer, larger rounds are cheaper.
const ROUND_GAP: Duration = Duration::from_millis(5);

/// Writes events into the outbox.
#[derive(Debug, Clone, Copy)]
pub struct Outbox;

impl Outbox {
    /// Adds an event to the outbox, within the caller's transaction.
    pub async fn enqueue(conn: &mut PgConnection, envelope: &Envelope) -> sqlx::Result<()> {
        Self::enqueue_all(conn, std::slice::from_ref(envelope)).await
    }

    /// Adds many events in one statement.
    pub async fn enqueue_all(conn: &mut PgConnection, envelopes: &[Envelope]) -> sqlx::Result<()> {
        if envelopes.is_empty() {
            return Ok(());
        }
        static SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
            format!(
                "{} UNNEST($1::uuid[], $2::text[], $3::bytea[], $4::jsonb[])
                     AS e(message_id, message_type, body, headers)",
                Outbox::INSERT_FROM
            )
        });
        let columns = Self::columns(envelopes);
        sqlx::query(sqlx::AssertSqlSafe(SQL.as_str()))
            .bind(&columns.message_ids)
            .bind(&columns.message_types)
            .bind(&columns.bodies)
            .bind(&columns.headers)
            .execute(conn)
            .await?;
        Self::written();
        Ok(())
    }

    /// The start of a statement that adds events, for a service that writes them in a
    /// statement of its own, with its rows (one round trip where two would do): it is followed
    /// by a `FROM` item with the columns `message_id` (uuid), `message_type` (text), `body`
    /// (bytea) and `headers` (jsonb), as [`Outbox::columns`] gives them. Call
    /// [`Outbox::written`] once the statement has run.
    pub const INSERT_FROM: &str = "INSERT INTO messaging.outbox
                (message_id, message_type, routing_key, body, headers)
         SELECT message_id, message_type, message_type, body, headers FROM";

    /// `envelopes` as the outbox's columns, one array each (see [`Outbox::INSERT_FROM`]).
    pub fn columns(envelopes: &[Envelope]) -> Columns {
        let mut columns = Columns {
            message_ids: Vec::with_capacity(envelopes.len()),
            message_types: Vec::with_capacity(envelopes.len()),
            bodies: Vec::with_capacity(envelopes.len()),
            headers: Vec::with_capacity(envelopes.len()),
        };
        for envelope in envelopes {
            columns.message_ids.push(envelope.id);
            columns.message_types.push(envelope.message_type.clone());
            columns.bodies.push(envelope.to_bytes());
            let pairs: HashMap<String, String> =
                envelope.trace_context.pairs().into_iter().collect();
            columns
                .headers
                .push(serde_json::to_value(pairs).unwrap_or_default());
        }
        columns
    }

    /// Tells this process's relays that events were written (see "Waking" above).
    pub fn written() {
        WRITTEN.send_modify(|n| *n = n.wrapping_add(1));
    }
}

/// Events as the outbox's columns, one array per column ([`Outbox::columns`]).
#[derive(Debug, Clone, Default)]
pub struct Columns {
    pub message_ids: Vec<uuid::Uuid>,
    pub message_types: Vec<String>,
    pub bodies: Vec<Vec<u8>>,
    pub headers: Vec<serde_json::Value>,
}

/// How a relay paces itself.
#[derive(Debug, Clone)]
pub struct RelaySettings {
    /// Rows claimed and published per round.
    pub batch_size: i64,
    /// How long to wait for a notification before looking anyway (a missed notification, or rows
    /// whose back-off expired).
    pub idle_poll: Duration,
    /// Back-off after a failed publish: doubled per attempt, up to `retry_max`.
    pub retry_base: Duration,
    pub retry_max: Duration,
    /// Published rows are deleted after this long.
    pub retention: Duration,
}

impl Default for RelaySettings {
    fn default() -> Self {
        Self {
            batch_size: 500,
            idle_poll: Duration::from_secs(1),
            retry_base: Duration::from_secs(1),
            retry_max: Duration::from_secs(300),
            retention: Duration::from_secs(7 * 24 * 3600),
        }
    }
}

/// The one field of an envelope the relay needs to read.
#[derive(serde::Deserialize)]
struct Correlation {
    correlation_id: uuid::Uuid,
}

/// One pending outbox row.
#[derive(Debug, Clone)]
pub struct PendingRow {
    pub seq: i64,
    pub message_id: uuid::Uuid,
    pub message_type: String,
    pub routing_key: String,
    pub body: Vec<u8>,
    pub headers: HashMap<String, String>,
    pub attempts: i32,
}

/// Rows claimed by this relay: held locked until [`Relay::settle`] commits (or the batch is
/// dropped, which rolls back and releases them).
#[derive(Debug)]
pub struct ClaimedBatch {
    tx: Transaction<'static, Postgres>,
    pub rows: Vec<PendingRow>,
}

/// What one round of the relay did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RoundReport {
    pub published: usize,
    pub failed: usize,
}

/// Publishes outbox rows. Safe to run as any number of replicas against one database.
#[derive(Debug)]
pub struct Relay {
    pool: PgPool,
    publisher: Publisher,
    exchange: String,
    app_id: String,
    settings: RelaySettings,
}

impl Relay {
    pub fn new(
        pool: PgPool,
        publisher: Publisher,
        exchange: String,
        app_id: String,
        settings: RelaySettings,
    ) -> Self {
        Self {
            pool,
            publisher,
            exchange,
            app_id,
            settings,
        }
    }

    /// Step 1: claims pending rows whose back-off has expired.
    pub async fn claim(&self) -> sqlx::Result<ClaimedBatch> {
        let mut tx = self.pool.begin().await?;
        let rows = sqlx::query(
            "SELECT seq, message_id, message_type, routing_key, body, headers, attempts
               FROM messaging.outbox
              WHERE published_at IS NULL AND next_attempt_at <= now()
              ORDER BY seq
              LIMIT $1
              FOR UPDATE SKIP LOCKED",
        )
        .bind(self.settings.batch_size)
        .fetch_all(&mut *tx)
        .await?;
        let rows = rows
            .into_iter()
            .map(|row| {
                let headers: serde_json::Value = row.try_get("headers")?;
                Ok(PendingRow {
                    seq: row.try_get("seq")?,
                    message_id: row.try_get("message_id")?,
                    message_type: row.try_get("message_type")?,
                    routing_key: row.try_get("routing_key")?,
                    body: row.try_get("body")?,
                    headers: serde_json::from_value(headers).unwrap_or_else(|e| {
                        // Only trace context lives here: the message goes without it.
                        tracing::warn!(error = %e, "outbox row with unreadable headers");
                        Default::default()
                    }),
                    attempts: row.try_get("attempts")?,
                })
            })
            .collect::<sqlx::Result<Vec<_>>>()?;
        Ok(ClaimedBatch { tx, rows })
    }

    /// Step 2: publishes the claimed rows; one result per row, in order.
    pub async fn publish(&self, batch: &ClaimedBatch) -> Vec<Result<(), PublishError>> {
        let prepared: Vec<_> = batch
            .rows
            .iter()
            .map(|row| {
                // The correlation id travels in the envelope; AMQP's property mirrors it for tools.
                // Only that field is read: the payload is skipped, not built.
                let correlation = serde_json::from_slice::<Correlation>(&row.body)
                    .map(|e| e.correlation_id.to_string())
                    .unwrap_or_default();
                publisher::properties(
                    &row.message_id.to_string(),
                    &row.message_type,
                    &correlation,
                    &self.app_id,
                    headers::from_map(&row.headers),
                )
            })
            .collect();
        let outgoing: Vec<_> = batch
            .rows
            .iter()
            .zip(prepared)
            .map(|(row, properties)| Outgoing {
                exchange: &self.exchange,
                routing_key: &row.routing_key,
                body: &row.body,
                properties,
            })
            .collect();
        self.publisher.publish_all(&outgoing).await
    }

    /// Step 3: records the outcome and releases the claim.
    pub async fn settle(
        &self,
        mut batch: ClaimedBatch,
        results: Vec<Result<(), PublishError>>,
    ) -> anyhow::Result<RoundReport> {
        let mut published = Vec::new();
        let mut report = RoundReport::default();
        let mut broker_error = None;
        for (row, result) in batch.rows.iter().zip(results) {
            match result {
                Ok(()) => published.push(row.seq),
                Err(PublishError::Broker(e)) => {
                    // The connection is gone: leave the row pending, untouched, for the next relay.
                    broker_error.get_or_insert(e);
                }
                Err(e) => {
                    report.failed += 1;
                    let delay = self.backoff(row.attempts);
                    tracing::error!(
                        message_id = %row.message_id,
                        message_type = row.message_type.as_str(),
                        attempts = row.attempts + 1,
                        retry_in_s = delay.as_secs(),
                        error = %e,
                        "outbox message not published"
                    );
                    sqlx::query(
                        "UPDATE messaging.outbox
                            SET attempts = attempts + 1, last_error = $2,
                                next_attempt_at = now() + make_interval(secs => $3)
                          WHERE seq = $1",
                    )
                    .bind(row.seq)
                    .bind(e.to_string())
                    .bind(delay.as_secs_f64())
                    .execute(&mut *batch.tx)
                    .await?;
                }
            }
        }
        if !published.is_empty() {
            sqlx::query(
                "UPDATE messaging.outbox SET published_at = now(), last_error = NULL
                  WHERE seq = ANY($1)",
            )
            .bind(&published)
            .execute(&mut *batch.tx)
            .await?;
        }
        batch.tx.commit().await?;
        report.published = published.len();
        match broker_error {
            // Kept as the bare lapin error, so `run` can tell a broker failure from a database one.
            Some(e) => Err(anyhow::Error::new(e)),
            None => Ok(report),
        }
    }

    fn backoff(&self, attempts: i32) -> Duration {
        let factor = 2u32.saturating_pow(u32::try_from(attempts).unwrap_or(0).min(20));
        self.settings
            .retry_base
            .saturating_mul(factor)
            .min(self.settings.retry_max)
    }

    /// One round: claim, publish, settle.
    pub async fn run_once(&self) -> anyhow::Result<RoundReport> {
        let batch = self.claim().await?;
        if batch.rows.is_empty() {
            batch.tx.commit().await?;
            return Ok(RoundReport::default());
        }
        let results = self.publish(&batch).await;
        self.settle(batch, results).await
    }

    /// Relays until `shutdown` is cancelled, or until the broker fails (the caller reconnects).
    /// Database outages are waited out here, with back-off, so that they do not tear down the
    /// broker session.
    pub async fn run(&self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let mut written = WRITTEN.subscribe();
        let mut told = true;
        // While `Some`: rows were announced and may not be committed yet; look until then.
        let mut chase: Option<(std::time::Instant, Duration)> = None;
        let mut last_cleanup = std::time::Instant::now();
        let mut db_backoff =
            kutse_retry::Backoff::new(Duration::from_millis(200), Duration::from_secs(10));
        tracing::info!(exchange = self.exchange.as_str(), "outbox relay started");
        let mut round_started = std::time::Instant::now() - ROUND_GAP;
        let mut full = false;
        loop {
            let since = round_started.elapsed();
            if !full && since < ROUND_GAP {
                tokio::select! {
                    () = shutdown.cancelled() => return Ok(()),
                    () = tokio::time::sleep(ROUND_GAP - since) => {}
                }
            }
            round_started = std::time::Instant::now();
            if told || written.has_changed().unwrap_or(false) {
                written.mark_unchanged();
                told = false;
                chase = Some((std::time::Instant::now() + CHASE_FOR, CHASE_FIRST));
            }
            let report = match self.run_once().await {
                Ok(report) => {
                    db_backoff.reset();
                    report
                }
                Err(e) if e.downcast_ref::<lapin::Error>().is_some() => return Err(e),
                Err(e) => {
                    let db_delay = db_backoff.next_delay();
                    tracing::warn!(
                        error = format!("{e:#}"),
                        retry_in_ms = db_delay.as_millis() as u64,
                        "outbox relay cannot reach its database"
                    );
                    tokio::select! {
                        () = shutdown.cancelled() => return Ok(()),
                        () = tokio::time::sleep(db_delay) => {}
                    }
                    continue;
                }
            };
            if report.published > 0 {
                tracing::debug!(published = report.published, "outbox rows published");
            }
            if last_cleanup.elapsed() > Duration::from_secs(600) {
                if let Err(e) = self.delete_old().await {
                    tracing::warn!(error = %e, "old outbox rows not deleted");
                }
                last_cleanup = std::time::Instant::now();
            }
            // A full batch means more may be waiting: go again at once.
            full = report.published + report.failed
                == usize::try_from(self.settings.batch_size).unwrap_or(0);
            if full {
                continue;
            }
            let wait = match chase {
                Some((until, delay)) if std::time::Instant::now() < until => {
                    let delay = if report.published > 0 {
                        CHASE_FIRST
                    } else {
                        delay
                    };
                    chase = Some((until, (delay * 2).min(CHASE_MAX)));
                    delay
                }
                _ => {
                    chase = None;
                    self.settings.idle_poll
                }
            };
            tokio::select! {
                () = shutdown.cancelled() => return Ok(()),
                changed = written.changed() => told = changed.is_ok(),
                () = tokio::time::sleep(wait) => {}
            }
        }
    }

    async fn delete_old(&self) -> sqlx::Result<()> {
        let deleted = sqlx::query(
            "DELETE FROM messaging.outbox
              WHERE published_at < now() - make_interval(secs => $1)",
        )
        .bind(self.settings.retention.as_secs_f64())
        .execute(&self.pool)
        .await?
        .rows_affected();
        if deleted > 0 {
            tracing::info!(deleted, "old outbox rows deleted");
        }
        Ok(())
    }
}

/// How many outbox rows are waiting: for readiness details and tests.
pub async fn pending_count(pool: &PgPool) -> sqlx::Result<i64> {
    sqlx::query("SELECT count(*) FROM messaging.outbox WHERE published_at IS NULL")
        .fetch_one(pool)
        .await?
        .try_get(0)
}
