//! The delivery guarantees, against the real PostgreSQL and RabbitMQ of the local stack.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use futures::future::BoxFuture;
use kutse_messaging::consumer::BatchReport;
use kutse_messaging::outbox::pending_count;
use kutse_messaging::publisher::{self, Outgoing};
use kutse_messaging::{
    Consumer, ConsumerSettings, Envelope, Handler, HandlerError, Incoming, Message, Outbox,
    PublishError, Publisher, Relay, RelaySettings, Topology, headers,
};
use kutse_testkit::{TestDb, eventually};
use lapin::options::BasicGetOptions;
use serde::{Deserialize, Serialize};
use sqlx::{PgConnection, PgPool, Row};
use tokio_util::sync::CancellationToken;

const SERVICE: &str = "probe";
const WAIT: Duration = Duration::from_secs(20);

/// Counts a key up by one: a state change we can count.
#[derive(Debug, Serialize, Deserialize)]
struct Count {
    key: String,
}
impl Message for Count {
    const TYPE: &'static str = "test.count";
    const VERSION: u16 = 1;
}

/// Always fails, transiently.
#[derive(Debug, Serialize, Deserialize)]
struct Fail {
    key: String,
}
impl Message for Fail {
    const TYPE: &'static str = "test.fail";
    const VERSION: u16 = 1;
}

/// Takes longer than any handler may.
#[derive(Debug, Serialize, Deserialize)]
struct Slow {
    key: String,
}
impl Message for Slow {
    const TYPE: &'static str = "test.slow";
    const VERSION: u16 = 1;
}

/// The handler under test: counts in the database, and counts its calls in memory (failed calls
/// roll back their database effects, so only memory remembers them).
#[derive(Debug, Default)]
struct Probe {
    calls: AtomicU32,
    /// `Incoming::attempt` of every call for a message that fails.
    failed_attempts: std::sync::Mutex<std::collections::BTreeSet<u32>>,
    trace_ids: std::sync::Mutex<Vec<Option<String>>>,
}

impl Handler for Probe {
    fn handle<'a>(
        &'a self,
        conn: &'a mut PgConnection,
        message: &'a Incoming,
    ) -> BoxFuture<'a, Result<(), HandlerError>> {
        Box::pin(async move {
            self.calls.fetch_add(1, Ordering::SeqCst);
            if let Ok(mut ids) = self.trace_ids.lock() {
                ids.push(kutse_telemetry::current_trace_id());
            }
            match message.envelope.message_type.as_str() {
                Count::TYPE => {
                    let count: Count = message.envelope.decode()?;
                    bump(conn, &count.key).await?;
                    Ok(())
                }
                Fail::TYPE => {
                    if let Ok(mut seen) = self.failed_attempts.lock() {
                        seen.insert(message.attempt);
                    }
                    let fail: Fail = message.envelope.decode()?;
                    // Its effect must vanish with the failure.
                    bump(conn, &fail.key).await?;
                    Err(HandlerError::Transient(anyhow::anyhow!(
                        "the printer is on fire"
                    )))
                }
                Slow::TYPE => {
                    let slow: Slow = message.envelope.decode()?;
                    bump(conn, &slow.key).await?;
                    tokio::time::sleep(Duration::from_secs(60)).await;
                    Ok(())
                }
                other => Err(HandlerError::Permanent(format!("unexpected type {other}"))),
            }
        })
    }
}

async fn bump(conn: &mut PgConnection, key: &str) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO counts (key, n) VALUES ($1, 1)
         ON CONFLICT (key) DO UPDATE SET n = counts.n + 1",
    )
    .bind(key)
    .execute(conn)
    .await
    .map(|_| ())
}

async fn count_of(pool: &PgPool, key: &str) -> i64 {
    sqlx::query("SELECT n FROM counts WHERE key = $1")
        .bind(key)
        .fetch_optional(pool)
        .await
        .expect("query")
        .map_or(0, |row| row.get::<i32, _>(0).into())
}

/// One test's world: a database, a topology, a broker connection, the probe handler.
struct World {
    db: TestDb,
    topology: Topology,
    broker: Arc<lapin::Connection>,
    probe: Arc<Probe>,
    shutdown: CancellationToken,
}

impl Drop for World {
    /// Deletes the test's queues now instead of leaving them to expire in a burst with others.
    fn drop(&mut self) {
        self.shutdown.cancel();
        let topology = self.topology.clone();
        let prefix = topology.prefix.clone();
        kutse_testkit::delete_on_broker(&prefix, move |channel| async move {
            topology.delete_consumer(&channel, SERVICE).await
        });
    }
}

impl World {
    async fn new() -> Self {
        kutse_telemetry::init_for_tests();
        let db = TestDb::with_messaging().await.expect("database");
        sqlx::query("CREATE TABLE counts (key text PRIMARY KEY, n int NOT NULL)")
            .execute(&db.pool)
            .await
            .expect("table");
        let topology = kutse_testkit::topology();
        let broker = Arc::new(kutse_testkit::broker().await.expect("broker"));
        let channel = broker.create_channel().await.expect("channel");
        topology
            .declare_consumer(
                &channel,
                SERVICE,
                &[Count::TYPE, Fail::TYPE, Slow::TYPE, "test.other"],
            )
            .await
            .expect("declare");
        Self {
            db,
            topology,
            broker,
            probe: Arc::new(Probe::default()),
            shutdown: CancellationToken::new(),
        }
    }

    fn consumer(&self) -> Consumer<Probe> {
        self.consumer_with(ConsumerSettings::default())
    }

    fn consumer_with(&self, settings: ConsumerSettings) -> Consumer<Probe> {
        Consumer::new(
            self.db.pool.clone(),
            self.topology.clone(),
            SERVICE,
            self.probe.clone(),
            settings,
        )
    }

    /// Runs the consumer in the background until the test ends.
    fn start_consumer(&self) {
        let consumer = self.consumer();
        let shutdown = self.shutdown.clone();
        let broker = self.broker.clone();
        tokio::spawn(async move { consumer.run(&broker, shutdown).await });
    }

    async fn relay(&self) -> Relay {
        Relay::new(
            self.db.pool.clone(),
            Publisher::new(&self.broker).await.expect("publisher"),
            self.topology.exchange(),
            "kutse-test".to_owned(),
            RelaySettings {
                batch_size: 200,
                ..RelaySettings::default()
            },
        )
    }

    /// Publishes raw bytes to the exchange, as an outside publisher might.
    async fn publish_raw(&self, routing_key: &str, body: &[u8], message_id: &str) {
        let publisher = Publisher::new(&self.broker).await.expect("publisher");
        let exchange = self.topology.exchange();
        publisher
            .publish(Outgoing {
                exchange: &exchange,
                routing_key,
                body,
                properties: publisher::properties(
                    message_id,
                    routing_key,
                    "",
                    "kutse-test",
                    Default::default(),
                ),
            })
            .await
            .expect("published");
    }

    /// Takes one message from the service's parking queue, if any.
    async fn take_parked(&self) -> Option<lapin::message::BasicGetMessage> {
        let channel = self.broker.create_channel().await.expect("channel");
        channel
            .basic_get(
                self.topology.parked_queue(SERVICE).into(),
                BasicGetOptions { no_ack: true },
            )
            .await
            .expect("basic.get")
    }

    /// Puts `n` counting events, each with a correlation id of its own, into the outbox in one
    /// statement; returns them in order.
    async fn enqueue_counts(&self, n: usize) -> Vec<Envelope> {
        let envelopes: Vec<_> = (0..n)
            .map(|i| {
                let key = format!("k{}", i % 10);
                Envelope::new(&Count { key }, None).expect("envelope")
            })
            .collect();
        let mut conn = self.db.pool.acquire().await.expect("conn");
        Outbox::enqueue_all(&mut conn, &envelopes)
            .await
            .expect("enqueue");
        envelopes
    }

    /// Takes every message waiting in the service's queue, in queue order.
    async fn take_all(&self) -> Vec<lapin::message::Delivery> {
        let channel = self.broker.create_channel().await.expect("channel");
        let mut taken = Vec::new();
        while let Some(message) = channel
            .basic_get(
                self.topology.queue(SERVICE).into(),
                BasicGetOptions { no_ack: true },
            )
            .await
            .expect("get")
        {
            taken.push(message.delivery);
        }
        taken
    }

    async fn inbox_len(&self) -> i64 {
        sqlx::query("SELECT count(*) FROM messaging.inbox")
            .fetch_one(&self.db.pool)
            .await
            .expect("query")
            .get(0)
    }
}

#[tokio::test]
async fn an_event_reaches_the_consumer_when_the_relay_dies_before_marking_it_sent() {
    let world = World::new().await;
    // The state change and its event commit together.
    let mut tx = world.db.pool.begin().await.expect("tx");
    sqlx::query("INSERT INTO counts (key, n) VALUES ('state', 0)")
        .execute(&mut *tx)
        .await
        .expect("state change");
    let envelope = Envelope::new(
        &Count {
            key: "relayed".into(),
        },
        None,
    )
    .expect("envelope");
    Outbox::enqueue(&mut tx, &envelope).await.expect("enqueue");
    tx.commit().await.expect("commit");

    // The relay claims and publishes, then dies: its transaction never marks the row sent.
    let relay = world.relay().await;
    let batch = relay.claim().await.expect("claim");
    assert_eq!(batch.rows.len(), 1);
    let results = relay.publish(&batch).await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    drop(batch);
    assert_eq!(pending_count(&world.db.pool).await.expect("count"), 1);

    // A new relay publishes it again and marks it.
    let report = world.relay().await.run_once().await.expect("relay");
    assert_eq!(report.published, 1);
    assert_eq!(pending_count(&world.db.pool).await.expect("count"), 0);

    // The consumer sees it twice and applies it once.
    world.start_consumer();
    eventually(WAIT, "both deliveries handled", || async {
        (world.probe.calls.load(Ordering::SeqCst) >= 1
            && world.inbox_len().await == 1
            && queue_is_empty(&world).await)
            .then_some(())
    })
    .await;
    assert_eq!(count_of(&world.db.pool, "relayed").await, 1);
    assert_eq!(
        world.probe.calls.load(Ordering::SeqCst),
        1,
        "the duplicate never reached the handler"
    );
}

async fn queue_is_empty(world: &World) -> bool {
    let channel = world.broker.create_channel().await.expect("channel");
    let queue = channel
        .queue_declare(
            world.topology.queue(SERVICE).into(),
            lapin::options::QueueDeclareOptions {
                passive: true,
                ..Default::default()
            },
            Default::default(),
        )
        .await
        .expect("passive declare");
    queue.message_count() == 0
}

#[tokio::test]
async fn the_same_message_delivered_three_times_changes_state_once() {
    let world = World::new().await;
    let envelope = Envelope::new(
        &Count {
            key: "thrice".into(),
        },
        None,
    )
    .expect("envelope");
    let body = envelope.to_bytes();
    for _ in 0..3 {
        world
            .publish_raw(Count::TYPE, &body, &envelope.id.to_string())
            .await;
    }
    world.start_consumer();
    eventually(WAIT, "three deliveries settled", || async {
        (world.inbox_len().await == 1 && queue_is_empty(&world).await).then_some(())
    })
    .await;
    assert_eq!(count_of(&world.db.pool, "thrice").await, 1);
    assert_eq!(world.probe.calls.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_batch_reports_duplicates_without_calling_the_handler() {
    // The same guarantee, one level down: process() called directly on fetched deliveries.
    let world = World::new().await;
    let envelope = Envelope::new(
        &Count {
            key: "direct".into(),
        },
        None,
    )
    .expect("envelope");
    for _ in 0..2 {
        world
            .publish_raw(Count::TYPE, &envelope.to_bytes(), "x")
            .await;
    }
    let channel = world.broker.create_channel().await.expect("channel");
    let mut deliveries = Vec::new();
    for _ in 0..2 {
        let got = channel
            .basic_get(
                world.topology.queue(SERVICE).into(),
                BasicGetOptions::default(),
            )
            .await
            .expect("get")
            .expect("a message");
        deliveries.push(got.delivery);
    }
    let publisher = Publisher::new(&world.broker).await.expect("publisher");
    let report = world
        .consumer()
        .process(&deliveries, &publisher)
        .await
        .expect("process");
    assert_eq!(
        report,
        BatchReport {
            handled: 1,
            duplicates: 1,
            retried: 0,
            parked: 0
        }
    );
    assert_eq!(count_of(&world.db.pool, "direct").await, 1);
}

#[tokio::test]
async fn a_handler_that_always_fails_is_retried_then_parked_and_the_queue_keeps_flowing() {
    let world = World::new().await;
    let poison = Envelope::new(
        &Fail {
            key: "poison".into(),
        },
        None,
    )
    .expect("envelope");
    let good = Envelope::new(&Count { key: "good".into() }, None).expect("envelope");
    world
        .publish_raw(Fail::TYPE, &poison.to_bytes(), &poison.id.to_string())
        .await;
    world
        .publish_raw(Count::TYPE, &good.to_bytes(), &good.id.to_string())
        .await;
    world.start_consumer();

    // The message behind the poison one is handled without waiting for the poison's retries.
    eventually(
        Duration::from_secs(5),
        "the good message handled",
        || async { (count_of(&world.db.pool, "good").await == 1).then_some(()) },
    )
    .await;

    let parked = eventually(WAIT, "the poison message parked", || world.take_parked()).await;
    let headers = parked.delivery.properties.headers().clone();
    assert_eq!(
        headers::string(headers.as_ref(), headers::PARKED_REASON).as_deref(),
        Some("exhausted")
    );
    let error = headers::string(headers.as_ref(), headers::ERROR).expect("error header");
    assert!(error.contains("the printer is on fire"), "{error}");
    assert!(error.contains("failed after 3 attempts"), "{error}");
    assert_eq!(
        headers::string(headers.as_ref(), headers::ROUTING_KEY).as_deref(),
        Some(Fail::TYPE)
    );
    assert_eq!(
        parked.delivery.data,
        poison.to_bytes(),
        "parked as it was published"
    );
    // Handled on the first delivery and after each retry delay; none of the failed effects stayed.
    let attempts: Vec<u32> = world
        .probe
        .failed_attempts
        .lock()
        .expect("lock")
        .iter()
        .copied()
        .collect();
    assert_eq!(attempts, vec![0, 1, 2]);
    assert_eq!(count_of(&world.db.pool, "poison").await, 0);
    assert_eq!(
        world.inbox_len().await,
        1,
        "only the good message is in the inbox"
    );
}

#[tokio::test]
async fn a_malformed_message_is_parked_at_once() {
    let world = World::new().await;
    world
        .publish_raw(Count::TYPE, b"{ this is not json", "m1")
        .await;
    world.start_consumer();
    let parked = eventually(WAIT, "the malformed message parked", || world.take_parked()).await;
    let headers = parked.delivery.properties.headers().clone();
    assert_eq!(
        headers::string(headers.as_ref(), headers::PARKED_REASON).as_deref(),
        Some("malformed")
    );
    assert!(
        headers::integer(headers.as_ref(), headers::ATTEMPT).is_none(),
        "never retried"
    );
    assert_eq!(world.probe.calls.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn a_payload_of_the_wrong_shape_is_rejected_and_parked_without_retries() {
    let world = World::new().await;
    let mut envelope = Envelope::new(&Count { key: "x".into() }, None).expect("envelope");
    envelope.payload = serde_json::json!({ "key": 42 });
    world
        .publish_raw(Count::TYPE, &envelope.to_bytes(), "m2")
        .await;
    world.start_consumer();
    let parked = eventually(WAIT, "the message parked", || world.take_parked()).await;
    let headers = parked.delivery.properties.headers().clone();
    assert_eq!(
        headers::string(headers.as_ref(), headers::PARKED_REASON).as_deref(),
        Some("rejected")
    );
    let error = headers::string(headers.as_ref(), headers::ERROR).expect("error");
    assert!(
        error.contains("payload of test.count is invalid"),
        "{error}"
    );
    // One delivery only: tried in its batch, then alone in its savepoint, then parked; no retry.
    assert_eq!(world.probe.calls.load(Ordering::SeqCst), 2);
    assert!(queue_is_empty(&world).await, "nothing waiting for a retry");
    assert_eq!(
        world.inbox_len().await,
        0,
        "a rejected message leaves no inbox row"
    );
}

#[tokio::test]
async fn an_unroutable_publish_is_detected_not_dropped() {
    let world = World::new().await;
    let publisher = Publisher::new(&world.broker).await.expect("publisher");
    let exchange = world.topology.exchange();
    let result = publisher
        .publish(Outgoing {
            exchange: &exchange,
            routing_key: "nobody.listens",
            body: b"{}",
            properties: Default::default(),
        })
        .await;
    assert!(
        matches!(result, Err(PublishError::Unroutable { .. })),
        "{result:?}"
    );

    // Through the outbox: the row stays pending with the reason, and is retried later.
    let mut envelope = Envelope::new(
        &Count {
            key: "lost?".into(),
        },
        None,
    )
    .expect("envelope");
    envelope.message_type = "nobody.listens".into();
    let mut conn = world.db.pool.acquire().await.expect("conn");
    Outbox::enqueue(&mut conn, &envelope)
        .await
        .expect("enqueue");
    let report = world.relay().await.run_once().await.expect("relay");
    assert_eq!((report.published, report.failed), (0, 1));
    let row = sqlx::query(
        "SELECT published_at IS NULL AS pending, attempts, last_error,
                next_attempt_at > now() AS backing_off
           FROM messaging.outbox WHERE message_id = $1",
    )
    .bind(envelope.id)
    .fetch_one(&world.db.pool)
    .await
    .expect("row");
    assert!(row.get::<bool, _>("pending"));
    assert_eq!(row.get::<i32, _>("attempts"), 1);
    assert!(row.get::<String, _>("last_error").contains("unroutable"));
    assert!(row.get::<bool, _>("backing_off"));
}

#[tokio::test]
async fn two_relays_running_at_once_publish_each_row_once() {
    let world = World::new().await;
    world.enqueue_counts(1000).await;

    let (a, b) = (world.relay().await, world.relay().await);
    let drain = |relay: Relay| async move {
        let mut published = 0;
        loop {
            let report = relay.run_once().await.expect("relay");
            if report.published == 0 {
                return published;
            }
            published += report.published;
        }
    };
    let (pa, pb) = tokio::join!(drain(a), drain(b));
    assert_eq!(pa + pb, 1000, "relay a {pa}, relay b {pb}");
    assert_eq!(pending_count(&world.db.pool).await.expect("count"), 0);

    // Every message reached the queue exactly once.
    let mut seen = std::collections::HashSet::new();
    for delivery in world.take_all().await {
        let envelope = Envelope::from_bytes(&delivery.data).expect("envelope");
        assert!(seen.insert(envelope.id), "{} published twice", envelope.id);
    }
    assert_eq!(seen.len(), 1000);
}

#[tokio::test]
async fn a_relay_round_publishes_its_rows_in_order_with_their_ids_as_properties() {
    let world = World::new().await;
    // 150 rows, published together in one round (the test relay's batch is 200).
    let envelopes = world.enqueue_counts(150).await;
    let report = world.relay().await.run_once().await.expect("relay");
    assert_eq!((report.published, report.failed), (150, 0));

    let got = world.take_all().await;
    assert_eq!(got.len(), envelopes.len());
    for (sent, delivery) in envelopes.iter().zip(&got) {
        let body = Envelope::from_bytes(&delivery.data).expect("envelope");
        assert_eq!(body.id, sent.id, "published out of order");
        let property = |p: Option<&lapin::types::ShortString>| p.map(|s| s.as_str().to_owned());
        assert_eq!(
            property(delivery.properties.message_id().as_ref()),
            Some(sent.id.to_string())
        );
        assert_eq!(
            property(delivery.properties.correlation_id().as_ref()),
            Some(sent.correlation_id.to_string())
        );
    }
}

#[tokio::test]
async fn the_trace_context_travels_from_the_outbox_through_amqp_headers_to_the_handler() {
    use tracing::Instrument;
    let world = World::new().await;
    let span = tracing::info_span!("http.request");
    let envelope = async {
        Envelope::new(
            &Count {
                key: "traced".into(),
            },
            None,
        )
        .expect("envelope")
    }
    .instrument(span.clone())
    .await;
    let traceparent = envelope
        .trace_context
        .traceparent
        .clone()
        .expect("traceparent");
    let trace_id = traceparent.split('-').nth(1).expect("trace id").to_owned();

    let mut conn = world.db.pool.acquire().await.expect("conn");
    Outbox::enqueue(&mut conn, &envelope)
        .await
        .expect("enqueue");
    world.relay().await.run_once().await.expect("relay");

    // On the wire: the AMQP headers carry it.
    let channel = world.broker.create_channel().await.expect("channel");
    let got = channel
        .basic_get(
            world.topology.queue(SERVICE).into(),
            BasicGetOptions { no_ack: true },
        )
        .await
        .expect("get")
        .expect("message");
    let on_wire = headers::string(got.delivery.properties.headers().as_ref(), "traceparent");
    assert_eq!(on_wire.as_deref(), Some(traceparent.as_str()));

    // In the handler: its span belongs to the same trace.
    world.publish_with_headers(&got.delivery).await;
    world.start_consumer();
    let seen = eventually(WAIT, "the handler ran", || async {
        world
            .probe
            .trace_ids
            .lock()
            .ok()
            .and_then(|ids| ids.first().cloned())
    })
    .await;
    assert_eq!(seen.as_deref(), Some(trace_id.as_str()));
}

impl World {
    async fn publish_with_headers(&self, delivery: &lapin::message::Delivery) {
        let publisher = Publisher::new(&self.broker).await.expect("publisher");
        let exchange = self.topology.exchange();
        publisher
            .publish(Outgoing {
                exchange: &exchange,
                routing_key: delivery.routing_key.as_str(),
                body: &delivery.data,
                properties: delivery.properties.clone(),
            })
            .await
            .expect("published");
    }
}

#[tokio::test]
async fn a_message_that_keeps_crashing_its_consumer_is_parked_by_the_delivery_limit() {
    // A consumer that dies before settling returns the message to the queue each time; quorum
    // queues count those deliveries, and past the limit the broker parks it itself.
    let world = World::new().await;
    let envelope = Envelope::new(
        &Count {
            key: "crash".into(),
        },
        None,
    )
    .expect("envelope");
    world
        .publish_raw(Count::TYPE, &envelope.to_bytes(), "crash")
        .await;
    let channel = world.broker.create_channel().await.expect("channel");
    // Take it and return it, as a crashing consumer would, until the broker parks it.
    let deliveries = AtomicU32::new(0);
    let parked = eventually(WAIT, "parked by the broker", || async {
        if let Some(got) = channel
            .basic_get(
                world.topology.queue(SERVICE).into(),
                BasicGetOptions::default(),
            )
            .await
            .expect("get")
        {
            deliveries.fetch_add(1, Ordering::SeqCst);
            got.delivery
                .acker
                .nack(lapin::options::BasicNackOptions {
                    multiple: false,
                    requeue: true,
                })
                .await
                .expect("nack");
            return None;
        }
        world.take_parked().await
    })
    .await;
    let deliveries = deliveries.load(Ordering::SeqCst);
    assert!(
        (world.topology.delivery_limit..=world.topology.delivery_limit + 1).contains(&deliveries),
        "parked after {deliveries} deliveries"
    );
    assert_eq!(parked.delivery.data, envelope.to_bytes());
    assert!(queue_is_empty(&world).await);
}

#[tokio::test]
async fn a_handler_that_hangs_is_cut_off_at_its_time_limit_retried_and_parked() {
    let world = World::new().await;
    let stuck = Envelope::new(
        &Slow {
            key: "stuck".into(),
        },
        None,
    )
    .expect("envelope");
    let good = Envelope::new(
        &Count {
            key: "after".into(),
        },
        None,
    )
    .expect("envelope");
    world
        .publish_raw(Slow::TYPE, &stuck.to_bytes(), &stuck.id.to_string())
        .await;
    world
        .publish_raw(Count::TYPE, &good.to_bytes(), &good.id.to_string())
        .await;
    let consumer = world.consumer_with(ConsumerSettings {
        handler_timeout: Duration::from_millis(200),
        ..ConsumerSettings::default()
    });
    let shutdown = world.shutdown.clone();
    let broker = world.broker.clone();
    tokio::spawn(async move { consumer.run(&broker, shutdown).await });

    eventually(WAIT, "the message behind it handled", || async {
        (count_of(&world.db.pool, "after").await == 1).then_some(())
    })
    .await;
    let parked = eventually(WAIT, "the hanging message parked", || world.take_parked()).await;
    let headers = parked.delivery.properties.headers().clone();
    assert_eq!(
        headers::string(headers.as_ref(), headers::PARKED_REASON).as_deref(),
        Some("exhausted")
    );
    let error = headers::string(headers.as_ref(), headers::ERROR).expect("error header");
    assert!(error.contains("took longer than 200 ms"), "{error}");
    assert_eq!(
        count_of(&world.db.pool, "stuck").await,
        0,
        "its effects rolled back"
    );
}

#[tokio::test]
async fn handled_ids_older_than_the_retention_are_pruned_and_recent_ones_kept() {
    let db = TestDb::with_messaging().await.expect("database");
    sqlx::query(
        "INSERT INTO messaging.inbox (message_id, message_type, handled_at)
         SELECT gen_random_uuid(), 'test.count', now() - make_interval(days => d)
           FROM generate_series(0, 39) AS d",
    )
    .execute(&db.pool)
    .await
    .expect("ids");
    let pruned = kutse_messaging::prune_inbox(&db.pool, Duration::from_secs(30 * 86_400))
        .await
        .expect("prune");
    // Day 30's id is a moment older than 30 days by the time the pruning runs.
    assert_eq!(pruned, 10, "the ids of days 30 to 39");
    let left: i64 = sqlx::query_scalar("SELECT count(*) FROM messaging.inbox")
        .fetch_one(&db.pool)
        .await
        .expect("count");
    assert_eq!(left, 30);
}
