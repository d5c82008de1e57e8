//! The one message contract between Kutse services, and the plumbing that makes delivery safe.
//!
//! # The contract
//! Every message is an [`Envelope`] (id, type, schema version, occurred-at, correlation id,
//! causation id, W3C trace context) around a typed payload. Every message type, its routing key,
//! producer and consumers are declared once, in [`catalogue`]; `docs/asyncapi.yaml` documents the
//! same for outside publishers.
//!
//! # Nothing lost, nothing twice
//! - **Outbox** ([`outbox`]): a service writes the events its state change causes into
//!   `messaging.outbox` in the same database transaction. A [`Relay`] publishes pending rows with
//!   publisher confirms and the mandatory flag, many in flight at once, and marks them published
//!   only after the broker confirmed. Relays claim rows with `FOR UPDATE SKIP LOCKED`, so any
//!   number of replicas may run. A relay that dies between publishing and marking leaves the rows
//!   pending: they are published again, and the consumer's inbox absorbs the duplicate.
//! - **Inbox** ([`consumer`]): a [`Consumer`] runs a [`Handler`] inside a transaction that also
//!   records the message id in `messaging.inbox`, commits, and only then acknowledges. A message
//!   whose id is already recorded is acknowledged without effect.
//! - **Retries and parking** ([`topology`]): a handler that fails is retried after growing delays
//!   (delay queues whose TTL dead-letters back into the service's queue), then parked in the
//!   service's parking queue with the error in its headers. A malformed message is parked at once.
//!   `x-delivery-limit` on the quorum queue parks a message that keeps crashing the consumer.
//!
//! # Layout
//! - [`envelope`]: the envelope and the `Message` trait for typed payloads.
//! - [`catalogue`]: every message type and routing key.
//! - [`authorisation`]: which broker user may publish which routing key.
//! - [`topology`]: exchange and queue names and declarations.
//! - [`publisher`]: pipelined confirmed publishing.
//! - [`outbox`]: enqueueing and the relay.
//! - [`consumer`]: the inbox consumer, retries and parking.
//! - [`dispatch`]: typed handlers (`Handles<M>`) and the dispatcher that routes to them.
//! - [`headers`]: AMQP header conventions, trace context in and out.

pub mod authorisation;
pub mod catalogue;
pub mod consumer;
pub mod dispatch;
pub mod envelope;
pub mod headers;
pub mod outbox;
pub mod publisher;
pub mod topology;

pub use consumer::{
    BatchObserver, BatchReport, Consumer, ConsumerSettings, Handler, HandlerError, Incoming,
};
pub use dispatch::{Dispatcher, Handles};
pub use envelope::{Envelope, Message, TraceContext};
pub use outbox::{Outbox, Relay, RelaySettings};
pub use publisher::{PublishError, Publisher};
pub use topology::Topology;

/// Creates the `messaging` schema and its tables (outbox, inbox) if missing. Every service runs
/// this at start next to its own migrations; its history is kept in `messaging._sqlx_migrations`
/// so it never mixes with the service's.
pub async fn migrate(pool: &sqlx::PgPool) -> Result<(), sqlx::migrate::MigrateError> {
    let mut migrator = sqlx::migrate!("./migrations");
    migrator.create_schema("messaging");
    migrator.dangerous_set_table_name("messaging._sqlx_migrations");
    migrator.run(pool).await
}

/// Deletes inbox ids recorded longer ago than `retention` (in batches, so a large backlog never
/// holds long locks); returns how many went. `retention` must be far longer than any redelivery
/// window — the retry schedule, the delivery limit, an operator moving parked messages back —
/// because a message whose id is gone would have its effect again.
pub async fn prune_inbox(pool: &sqlx::PgPool, retention: std::time::Duration) -> sqlx::Result<u64> {
    let seconds = i64::try_from(retention.as_secs()).unwrap_or(i64::MAX);
    let mut total = 0;
    loop {
        let deleted = sqlx::query(
            "DELETE FROM messaging.inbox WHERE message_id IN (
                 SELECT message_id FROM messaging.inbox
                  WHERE handled_at < now() - make_interval(secs => $1)
                  LIMIT 10000)",
        )
        .bind(seconds as f64)
        .execute(pool)
        .await?
        .rows_affected();
        total += deleted;
        if deleted < 10_000 {
            return Ok(total);
        }
    }
}

/// Connects to the broker. Heartbeats and the connection name make the connection recognisable
/// in the management UI (`kutse-intake`, …).
///
/// Gives up after `CONNECT_TIMEOUT`: lapin's handshake has been seen to hang now and then when
/// many connections open at once (amqp-rs/lapin#365, #470); callers retry.
pub async fn connect(amqp_url: &str, name: &str) -> anyhow::Result<lapin::Connection> {
    let properties = lapin::ConnectionProperties::default()
        .with_client_property("connection_name".into(), name.into());
    tokio::time::timeout(
        CONNECT_TIMEOUT,
        lapin::Connection::connect(amqp_url, properties),
    )
    .await
    .map_err(|_| anyhow::anyhow!("no answer from the broker within {CONNECT_TIMEOUT:?}"))?
    .map_err(Into::into)
}

/// How long one connection attempt may take.
pub const CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);
