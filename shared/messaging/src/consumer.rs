//! The idempotent consumer: inbox, retries with back-off, parking.
//!
//! Deliveries are handled in batches (whatever the broker has already sent, up to `batch_size`),
//! in one database transaction with a savepoint per message:
//!
//! 1. the envelope is parsed; a body that is not an envelope is parked at once (`malformed`);
//! 2. the message id is inserted into `messaging.inbox`; if it was already there the message is a
//!    redelivery and has no effect;
//! 3. the handler runs on the same transaction. `Ok` keeps its effects; `Permanent` (the message
//!    can never succeed: wrong payload, unknown version) rolls back to the savepoint and parks it
//!    (`rejected`); `Transient` rolls back and sends it to the next delay queue, or parks it
//!    (`exhausted`) when every retry is used;
//! 4. the transaction commits, failed messages are republished (confirmed) to their delay or
//!    parking queue, and only then is the batch acknowledged.
//!
//! A crash anywhere before the acknowledgement leaves the messages with the broker, which delivers
//! them again; the inbox makes that harmless. If the database itself is unreachable, the batch is
//! held and tried again with back-off instead of being bounced through the broker.

use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use futures::{FutureExt, StreamExt};
use lapin::message::Delivery;
use lapin::options::{BasicAckOptions, BasicConsumeOptions, BasicNackOptions, BasicQosOptions};
use lapin::types::FieldTable;
use sqlx::{PgConnection, PgPool};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::envelope::{DecodeError, Envelope};
use crate::headers;
use crate::publisher::{Outgoing, Publisher};
use crate::topology::Topology;

/// How long a stopping process waits for the broker to confirm a close (of the consumer's
/// channels, of the connection): a broker that does not answer must not hold the shutdown.
pub const CLOSE_WAIT: Duration = Duration::from_secs(2);

/// A message as a handler sees it.
#[derive(Debug, Clone)]
pub struct Incoming {
    pub envelope: Envelope,
    /// Failed handlings before this one (0 on the first delivery).
    pub attempt: u32,
}

/// How a handler failed.
#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    /// The message can never be handled (invalid payload, unknown version, refers to something
    /// that cannot exist): park it now.
    #[error("{0}")]
    Permanent(String),
    /// It may work later (a dependency is down, a row is locked): retry with back-off.
    #[error(transparent)]
    Transient(#[from] anyhow::Error),
}

impl From<DecodeError> for HandlerError {
    fn from(e: DecodeError) -> Self {
        HandlerError::Permanent(e.to_string())
    }
}

impl From<sqlx::Error> for HandlerError {
    fn from(e: sqlx::Error) -> Self {
        HandlerError::Transient(e.into())
    }
}

/// Handles the messages of one service. Its effects go through `conn`, the transaction that also
/// records the message in the inbox; events it causes go to the outbox on the same `conn`.
///
/// A handler must have no effect outside that transaction (no e-mail sent, no HTTP call made from
/// inside it): a batch whose handler fails is rolled back and run again message by message, and
/// only what is in the database is undone. Record the intent in a table instead, and act on it
/// after commit.
pub trait Handler: Send + Sync + 'static {
    fn handle<'a>(
        &'a self,
        conn: &'a mut PgConnection,
        message: &'a Incoming,
    ) -> BoxFuture<'a, Result<(), HandlerError>>;

    /// Called when `message` is about to be parked after the handler refused it (`Permanent`) or
    /// every retry failed, in a transaction of its own that commits with the batch: the place to
    /// record the refusal and tell its sender (e.g. `protocol.rejected`). `handle`'s effects are
    /// already rolled back. It may run again for the same message if the batch is redelivered,
    /// so it must be idempotent. The default does nothing.
    fn parked<'a>(
        &'a self,
        conn: &'a mut PgConnection,
        message: &'a Incoming,
        error: &'a str,
    ) -> BoxFuture<'a, Result<(), HandlerError>> {
        let _ = (conn, message, error);
        Box::pin(async { Ok(()) })
    }

    /// The message types this handler handles: what the service's queue must be bound to (the
    /// service skeleton refuses to start otherwise). A [`crate::Dispatcher`] lists its
    /// registered types; the default lists none, for handlers that are not a service's.
    fn message_types(&self) -> Vec<&'static str> {
        Vec::new()
    }
}

/// Consumer tuning.
#[derive(Debug, Clone)]
pub struct ConsumerSettings {
    /// Unacknowledged messages the broker may send ahead (`basic.qos`).
    pub prefetch: u16,
    /// Messages handled in one transaction at most.
    pub batch_size: usize,
    /// How long one handler may take; past it the handling fails transiently (rolled back,
    /// retried), so a stuck dependency cannot hold the queue forever.
    pub handler_timeout: Duration,
}

impl Default for ConsumerSettings {
    fn default() -> Self {
        Self {
            prefetch: 200,
            batch_size: 100,
            handler_timeout: Duration::from_secs(30),
        }
    }
}

/// The outcome of one message of a batch.
#[derive(Debug)]
enum Outcome {
    Handled,
    Duplicate,
    Retry { error: String },
    Park { reason: &'static str, error: String },
}

/// A delivery, read.
enum Parsed {
    Message(Box<Incoming>, tracing::Span),
    /// Parked without reaching the handler: `malformed` (not an envelope) or `misrouted` (its
    /// type is not the routing key it was published with).
    Refused {
        reason: &'static str,
        error: String,
    },
}

/// What a batch did, for tests and metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BatchReport {
    pub handled: usize,
    pub duplicates: usize,
    pub retried: usize,
    pub parked: usize,
}

/// A service's consumer.
pub struct Consumer<H: ?Sized> {
    pool: PgPool,
    topology: Topology,
    service: String,
    handler: Arc<H>,
    settings: ConsumerSettings,
    observer: Option<BatchObserver>,
}

/// Told what each batch did (the service's metrics count it).
pub type BatchObserver = Arc<dyn Fn(&BatchReport) + Send + Sync>;

impl<H: ?Sized> std::fmt::Debug for Consumer<H> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Consumer")
            .field("service", &self.service)
            .field("queue", &self.topology.queue(&self.service))
            .finish_non_exhaustive()
    }
}

impl<H: Handler + ?Sized> Consumer<H> {
    pub fn new(
        pool: PgPool,
        topology: Topology,
        service: impl Into<String>,
        handler: Arc<H>,
        settings: ConsumerSettings,
    ) -> Self {
        Self {
            pool,
            topology,
            service: service.into(),
            handler,
            settings,
            observer: None,
        }
    }

    /// Tells `observer` what each batch did.
    pub fn with_observer(mut self, observer: BatchObserver) -> Self {
        self.observer = Some(observer);
        self
    }

    /// Consumes until `shutdown` is cancelled, or the broker connection fails (the caller
    /// reconnects). Declares nothing: the service declares its topology at start.
    pub async fn run(
        &self,
        connection: &lapin::Connection,
        shutdown: CancellationToken,
    ) -> anyhow::Result<()> {
        let channel = connection.create_channel().await?;
        channel
            .basic_qos(self.settings.prefetch, BasicQosOptions::default())
            .await?;
        let queue = self.topology.queue(&self.service);
        let mut deliveries = channel
            .basic_consume(
                queue.as_str().into(),
                format!("kutse-{}-{}", self.service, uuid::Uuid::now_v7()).into(),
                BasicConsumeOptions::default(),
                FieldTable::default(),
            )
            .await?;
        let publisher = Publisher::new(connection).await?;
        tracing::info!(queue = queue.as_str(), "consumer started");
        loop {
            let first = tokio::select! {
                () = shutdown.cancelled() => {
                    // Closed here, and waited for, rather than dropped: lapin closes a dropped
                    // channel in the background, which races the connection's close that
                    // follows and logs a spurious "Connection error" at ERROR. Deliveries not
                    // yet acknowledged return to the queue.
                    let close = async {
                        for channel in [&channel, publisher.channel()] {
                            let _ = channel.close(200, "consumer stopping".into()).await;
                        }
                    };
                    let _ = tokio::time::timeout(CLOSE_WAIT, close).await;
                    return Ok(());
                }
                next = deliveries.next() => next,
            };
            let Some(first) = first else {
                anyhow::bail!("the broker ended consumption of {queue}");
            };
            let mut batch = vec![first?];
            while batch.len() < self.settings.batch_size {
                match deliveries.next().now_or_never() {
                    Some(Some(Ok(delivery))) => batch.push(delivery),
                    Some(Some(Err(e))) => return Err(e.into()),
                    _ => break,
                }
            }
            self.process_until_done(batch, &publisher, &shutdown)
                .await?;
        }
    }

    /// Processes a batch, waiting out database outages with back-off. On shutdown during an
    /// outage the batch is returned to the broker.
    async fn process_until_done(
        &self,
        batch: Vec<Delivery>,
        publisher: &Publisher,
        shutdown: &CancellationToken,
    ) -> anyhow::Result<()> {
        let mut backoff =
            kutse_retry::Backoff::new(Duration::from_millis(200), Duration::from_secs(10));
        loop {
            match self.process(&batch, publisher).await {
                Ok(report) => {
                    if let Some(observer) = &self.observer {
                        observer(&report);
                    }
                    return Ok(());
                }
                Err(ProcessError::Broker(e)) => return Err(e),
                Err(ProcessError::Database(e)) => {
                    let delay = backoff.next_delay();
                    tracing::warn!(error = %e, retry_in_ms = delay.as_millis() as u64, "database unavailable; holding the batch");
                    tokio::select! {
                        () = shutdown.cancelled() => {
                            if let Some(last) = batch.last() {
                                last.acker.nack(BasicNackOptions { multiple: true, requeue: true }).await?;
                            }
                            return Ok(());
                        }
                        () = tokio::time::sleep(delay) => {}
                    }
                }
            }
        }
    }

    /// Handles one batch of deliveries: inbox, handler, commit, republish failures, acknowledge.
    pub async fn process(
        &self,
        batch: &[Delivery],
        publisher: &Publisher,
    ) -> Result<BatchReport, ProcessError> {
        let parsed: Vec<Parsed> = batch.iter().map(|d| self.parse(d)).collect();
        let outcomes = match self.fast_path(&parsed).await? {
            Some(outcomes) => outcomes,
            None => self.slow_path(&parsed).await?,
        };

        let mut report = BatchReport::default();
        let mut republish = Vec::new();
        for (delivery, outcome) in batch.iter().zip(&outcomes) {
            match outcome {
                Outcome::Handled => report.handled += 1,
                Outcome::Duplicate => report.duplicates += 1,
                Outcome::Retry { error } => {
                    let attempt = attempt_of(delivery);
                    match self.topology.retry_delays.get(attempt as usize) {
                        Some(delay) => {
                            report.retried += 1;
                            republish.push(self.retry_message(delivery, *delay, attempt, error));
                        }
                        None => {
                            report.parked += 1;
                            republish.push(self.parked_message(
                                delivery,
                                "exhausted",
                                &format!("failed after {} attempts: {error}", attempt + 1),
                            ));
                        }
                    }
                }
                Outcome::Park { reason, error } => {
                    report.parked += 1;
                    republish.push(self.parked_message(delivery, reason, error));
                }
            }
        }
        if !republish.is_empty() {
            let outgoing: Vec<_> = republish
                .iter()
                .map(|(queue, delivery, properties)| Outgoing {
                    // The default exchange routes by queue name.
                    exchange: "",
                    routing_key: queue,
                    body: &delivery.data,
                    properties: properties.clone(),
                })
                .collect();
            for result in publisher.publish_all(&outgoing).await {
                // Not acknowledged: the broker will deliver it again, and the inbox is unchanged
                // for it (its savepoint rolled back), so nothing is lost or doubled.
                result.map_err(|e| {
                    ProcessError::Broker(anyhow::Error::new(e).context("moving a failed message"))
                })?;
            }
        }
        if let Some(last) = batch.last() {
            // Handling is sequential, so every unacknowledged delivery up to the last tag is in
            // this batch: one `multiple` ack settles it.
            last.acker
                .ack(BasicAckOptions { multiple: true })
                .await
                .map_err(|e| ProcessError::Broker(e.into()))?;
        }
        Ok(report)
    }

    /// Reads a delivery's envelope and opens its span; a body that is not an envelope is parked.
    fn parse(&self, delivery: &Delivery) -> Parsed {
        let envelope = match Envelope::from_bytes(&delivery.data) {
            Ok(envelope) => envelope,
            Err(e) => {
                tracing::error!(
                    queue = self.topology.queue(&self.service).as_str(),
                    message_id = ?delivery.properties.message_id(),
                    error = %e,
                    "malformed message"
                );
                return Parsed::Refused {
                    reason: "malformed",
                    error: format!("not a Kutse envelope: {e}"),
                };
            }
        };
        // Queues are bound by routing key and broker permissions are granted per routing key, so
        // the key is what was authorised; a type that differs from it is a forgery (e.g. an
        // `application.submitted` published under the `protocol.signed` key a pipeline may use).
        // Only the events exchange (or the default exchange, through which failed messages come
        // back from their delay queue) carries messages: one that reached the queue through an
        // exchange bound to it by someone else bypassed the broker's routing-key permissions.
        let exchange = delivery.exchange.as_str();
        if !exchange.is_empty() && exchange != self.topology.exchange() {
            return Parsed::Refused {
                reason: "misrouted",
                error: format!("published to exchange {exchange:?}, not the events exchange"),
            };
        }
        let published_as = published_routing_key(delivery);
        if envelope.message_type != published_as {
            tracing::error!(
                queue = self.topology.queue(&self.service).as_str(),
                message_id = %envelope.id,
                message_type = envelope.message_type.as_str(),
                routing_key = published_as.as_str(),
                "message type differs from its routing key"
            );
            return Parsed::Refused {
                reason: "misrouted",
                error: format!(
                    "envelope type {:?} was published with routing key {published_as:?}",
                    envelope.message_type
                ),
            };
        }
        let incoming = Incoming {
            attempt: attempt_of(delivery),
            envelope,
        };
        let span = tracing::info_span!(
            "message.handle",
            otel.name = format!("{} process", incoming.envelope.message_type),
            messaging.system = "rabbitmq",
            messaging.operation = "process",
            messaging.message.id = %incoming.envelope.id,
            messaging.destination = incoming.envelope.message_type.as_str(),
            messaging.consumer.group.name = self.service.as_str(),
            correlation_id = %incoming.envelope.correlation_id,
            attempt = incoming.attempt,
        );
        let mut trace = headers::trace_pairs(delivery.properties.headers().as_ref());
        if trace.is_empty() {
            trace = incoming.envelope.trace_context.pairs();
        }
        kutse_telemetry::set_parent_from(&span, trace);
        Parsed::Message(Box::new(incoming), span)
    }

    /// The common case, every handler succeeding: one transaction, the inbox ids recorded in one
    /// statement, no savepoints. `None` if any handler failed: everything is rolled back and the
    /// batch goes the slow path, where each message is isolated by a savepoint.
    async fn fast_path(&self, parsed: &[Parsed]) -> Result<Option<Vec<Outcome>>, ProcessError> {
        let mut tx = self.pool.begin().await.map_err(ProcessError::db)?;
        let (ids, types): (Vec<uuid::Uuid>, Vec<&str>) = parsed
            .iter()
            .filter_map(|p| match p {
                Parsed::Message(m, _) => Some((m.envelope.id, m.envelope.message_type.as_str())),
                Parsed::Refused { .. } => None,
            })
            .unzip();
        let fresh: std::collections::HashSet<uuid::Uuid> = sqlx::query_scalar(
            "INSERT INTO messaging.inbox (message_id, message_type)
             SELECT * FROM UNNEST($1::uuid[], $2::text[])
             ON CONFLICT (message_id) DO NOTHING
             RETURNING message_id",
        )
        .bind(&ids)
        .bind(&types)
        .fetch_all(&mut *tx)
        .await
        .map_err(ProcessError::db)?
        .into_iter()
        .collect();
        let mut seen = std::collections::HashSet::new();
        let mut outcomes = Vec::with_capacity(parsed.len());
        for item in parsed {
            let (incoming, span) = match item {
                Parsed::Refused { reason, error } => {
                    outcomes.push(Outcome::Park {
                        reason,
                        error: error.clone(),
                    });
                    continue;
                }
                Parsed::Message(incoming, span) => (incoming, span),
            };
            // Only the first copy of a fresh id in this batch is new.
            if !fresh.contains(&incoming.envelope.id) || !seen.insert(incoming.envelope.id) {
                span.in_scope(|| tracing::info!("duplicate delivery ignored"));
                outcomes.push(Outcome::Duplicate);
                continue;
            }
            let result = self
                .run_handler(&mut tx, incoming)
                .instrument(span.clone())
                .await;
            if result.is_err() {
                tx.rollback().await.map_err(ProcessError::db)?;
                return Ok(None);
            }
            span.in_scope(|| tracing::info!("message handled"));
            outcomes.push(Outcome::Handled);
        }
        tx.commit().await.map_err(ProcessError::db)?;
        Ok(Some(outcomes))
    }

    /// Each message in its own savepoint, so a failing one is rolled back alone.
    async fn slow_path(&self, parsed: &[Parsed]) -> Result<Vec<Outcome>, ProcessError> {
        let mut tx = self.pool.begin().await.map_err(ProcessError::db)?;
        let mut outcomes = Vec::with_capacity(parsed.len());
        for item in parsed {
            let outcome = match item {
                Parsed::Refused { reason, error } => Outcome::Park {
                    reason,
                    error: error.clone(),
                },
                Parsed::Message(incoming, span) => {
                    self.handle_isolated(&mut tx, incoming)
                        .instrument(span.clone())
                        .await?
                }
            };
            outcomes.push(outcome);
        }
        tx.commit().await.map_err(ProcessError::db)?;
        Ok(outcomes)
    }

    async fn handle_isolated(
        &self,
        tx: &mut sqlx::Transaction<'static, sqlx::Postgres>,
        incoming: &Incoming,
    ) -> Result<Outcome, ProcessError> {
        use sqlx::Acquire;
        let mut savepoint = tx.begin().await.map_err(ProcessError::db)?;
        let inserted = sqlx::query(
            "INSERT INTO messaging.inbox (message_id, message_type) VALUES ($1, $2)
             ON CONFLICT (message_id) DO NOTHING",
        )
        .bind(incoming.envelope.id)
        .bind(&incoming.envelope.message_type)
        .execute(&mut *savepoint)
        .await
        .map_err(ProcessError::db)?
        .rows_affected();
        if inserted == 0 {
            savepoint.rollback().await.map_err(ProcessError::db)?;
            tracing::info!("duplicate delivery ignored");
            return Ok(Outcome::Duplicate);
        }
        match self.run_handler(&mut savepoint, incoming).await {
            Ok(()) => {
                savepoint.commit().await.map_err(ProcessError::db)?;
                tracing::info!("message handled");
                Ok(Outcome::Handled)
            }
            Err(HandlerError::Permanent(error)) => {
                savepoint.rollback().await.map_err(ProcessError::db)?;
                tracing::error!(error = error.as_str(), "message rejected");
                self.before_parking(tx, incoming, &error).await?;
                Ok(Outcome::Park {
                    reason: "rejected",
                    error,
                })
            }
            Err(HandlerError::Transient(error)) => {
                savepoint.rollback().await.map_err(ProcessError::db)?;
                let error = format!("{error:#}");
                if self
                    .topology
                    .retry_delays
                    .get(incoming.attempt as usize)
                    .is_some()
                {
                    tracing::warn!(error = error.as_str(), "message failed; will retry");
                    return Ok(Outcome::Retry { error });
                }
                let error = format!("failed after {} attempts: {error}", incoming.attempt + 1);
                self.before_parking(tx, incoming, &error).await?;
                Ok(Outcome::Park {
                    reason: "exhausted",
                    error,
                })
            }
        }
    }

    /// Runs the handler's [`Handler::parked`] in a savepoint of its own; if it fails, the
    /// message is parked all the same and the failure logged.
    async fn before_parking(
        &self,
        tx: &mut sqlx::Transaction<'static, sqlx::Postgres>,
        incoming: &Incoming,
        error: &str,
    ) -> Result<(), ProcessError> {
        use sqlx::Acquire;
        let mut savepoint = tx.begin().await.map_err(ProcessError::db)?;
        let result =
            std::panic::AssertUnwindSafe(self.handler.parked(&mut savepoint, incoming, error))
                .catch_unwind()
                .await;
        match result {
            Ok(Ok(())) => savepoint.commit().await.map_err(ProcessError::db),
            Ok(Err(e)) => {
                tracing::error!(error = %e, "recording a parked message failed");
                savepoint.rollback().await.map_err(ProcessError::db)
            }
            Err(_) => {
                tracing::error!("recording a parked message panicked");
                savepoint.rollback().await.map_err(ProcessError::db)
            }
        }
    }

    /// Runs the handler within its time limit, turning a panic or a timeout into a transient
    /// failure.
    async fn run_handler(
        &self,
        conn: &mut PgConnection,
        incoming: &Incoming,
    ) -> Result<(), HandlerError> {
        let limit = self.settings.handler_timeout;
        let run = std::panic::AssertUnwindSafe(self.handler.handle(conn, incoming)).catch_unwind();
        match tokio::time::timeout(limit, run).await {
            Ok(Ok(result)) => result,
            Ok(Err(_)) => Err(HandlerError::Transient(anyhow::anyhow!("handler panicked"))),
            Err(_) => Err(HandlerError::Transient(anyhow::anyhow!(
                "handler took longer than {} ms",
                limit.as_millis()
            ))),
        }
    }

    fn retry_message<'d>(
        &self,
        delivery: &'d Delivery,
        delay: Duration,
        attempt: u32,
        error: &str,
    ) -> (String, &'d Delivery, lapin::BasicProperties) {
        let mut table = delivery.properties.headers().clone().unwrap_or_default();
        headers::set_integer(&mut table, headers::ATTEMPT, i64::from(attempt) + 1);
        headers::set_string(&mut table, headers::ERROR, truncate(error));
        set_original_key(&mut table, delivery);
        let properties = delivery.properties.clone().with_headers(table);
        (
            self.topology.retry_queue(&self.service, delay),
            delivery,
            properties,
        )
    }

    fn parked_message<'d>(
        &self,
        delivery: &'d Delivery,
        reason: &str,
        error: &str,
    ) -> (String, &'d Delivery, lapin::BasicProperties) {
        let mut table = delivery.properties.headers().clone().unwrap_or_default();
        headers::set_string(&mut table, headers::PARKED_REASON, reason);
        headers::set_string(&mut table, headers::ERROR, truncate(error));
        headers::set_string(&mut table, headers::PARKED_BY, &self.service);
        set_original_key(&mut table, delivery);
        let properties = delivery.properties.clone().with_headers(table);
        tracing::error!(
            queue = self.topology.parked_queue(&self.service).as_str(),
            reason,
            error,
            "message parked"
        );
        (
            self.topology.parked_queue(&self.service),
            delivery,
            properties,
        )
    }
}

/// Why a batch could not be processed.
#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    /// The database failed: the batch is held and tried again.
    #[error("database: {0}")]
    Database(#[source] sqlx::Error),
    /// The broker failed: the consumer stops and reconnects; unacknowledged messages return.
    #[error("broker: {0:#}")]
    Broker(anyhow::Error),
}

impl ProcessError {
    fn db(e: sqlx::Error) -> Self {
        ProcessError::Database(e)
    }
}

fn attempt_of(delivery: &Delivery) -> u32 {
    headers::integer(delivery.properties.headers().as_ref(), headers::ATTEMPT)
        .and_then(|a| u32::try_from(a).ok())
        .unwrap_or(0)
}

/// The routing key a message was published with. A retried message comes back from its delay
/// queue through the default exchange (which only Kutse's own services may publish to) under its
/// queue's name; its original key travels in a header set when it was moved.
fn published_routing_key(delivery: &Delivery) -> String {
    let moved = delivery.exchange.as_str().is_empty();
    match headers::string(delivery.properties.headers().as_ref(), headers::ROUTING_KEY) {
        Some(key) if moved => key,
        _ => delivery.routing_key.as_str().to_owned(),
    }
}

/// Keeps the routing key the message was first published with.
fn set_original_key(table: &mut FieldTable, delivery: &Delivery) {
    if headers::string(Some(table), headers::ROUTING_KEY).is_none() {
        headers::set_string(table, headers::ROUTING_KEY, delivery.routing_key.as_str());
    }
}

/// Header values stay small: the first 1,000 characters of an error.
fn truncate(error: &str) -> &str {
    match error.char_indices().nth(1000) {
        Some((i, _)) => &error[..i],
        None => error,
    }
}
