//! `make bench`: event-pipeline throughput beside the raw RabbitMQ baseline, on the local stack.
//!
//! - **raw**: lapin alone — pipelined publishes with confirms into a quorum queue while a consumer
//!   (prefetch 200) acknowledges them, messages the size of a real envelope;
//! - **pipeline**: Kutse's path — events inserted into the outbox (1,000 per transaction), relayed
//!   with confirms, consumed into the inbox (a transaction per batch), until the inbox holds all.
//!
//! Both figures are events per second from the first publish (insert) to the last ack (inbox
//! commit); the ratio is pipeline / raw. `BENCH_EVENTS` sets the count (default 20,000).
//! Run it in release mode: `make bench`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use futures::future::BoxFuture;
use kutse_messaging::consumer::Incoming;
use kutse_messaging::publisher::{self, Outgoing};
use kutse_messaging::{
    Consumer, ConsumerSettings, Envelope, Handler, HandlerError, Message, Outbox, Publisher, Relay,
    RelaySettings,
};
use kutse_testkit::TestDb;
use lapin::options::{BasicAckOptions, BasicConsumeOptions, BasicQosOptions, QueueDeclareOptions};
use lapin::types::{AMQPValue, FieldTable};
use serde::{Deserialize, Serialize};
use sqlx::{PgConnection, Row};
use tokio_util::sync::CancellationToken;

#[derive(Debug, Serialize, Deserialize)]
struct BenchEvent {
    application_id: uuid::Uuid,
    note: String,
}

impl Message for BenchEvent {
    const TYPE: &'static str = "bench.event";
    const VERSION: u16 = 1;
}

fn event() -> Envelope {
    let payload = BenchEvent {
        application_id: uuid::Uuid::now_v7(),
        note: "juuksur, tase 4".to_owned(),
    };
    Envelope::new(&payload, None).unwrap_or_else(|e| panic!("envelope: {e}"))
}

/// Does nothing but succeed: the figure is the plumbing's, not a handler's.
#[derive(Debug)]
struct Noop;

impl Handler for Noop {
    fn handle<'a>(
        &'a self,
        _conn: &'a mut PgConnection,
        _message: &'a Incoming,
    ) -> BoxFuture<'a, Result<(), HandlerError>> {
        Box::pin(async { Ok(()) })
    }
}

#[tokio::main]
#[expect(
    clippy::disallowed_methods,
    reason = "a benchmark's knobs, not a service's settings"
)]
async fn main() -> anyhow::Result<()> {
    let events: usize = std::env::var("BENCH_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let size = event().to_bytes().len();
    println!("Kutse event pipeline benchmark: {events} events of ~{size} bytes");

    let raw = raw_baseline(events, size).await?;
    println!("raw lapin (confirmed publish + acked consume): {raw:>9.0} events/s");
    let pipeline = pipeline(events).await?;
    println!("outbox → relay → consumer → inbox commit:      {pipeline:>9.0} events/s");
    println!(
        "ratio pipeline / raw: {:.0} % (goal: at least 50 %)",
        100.0 * pipeline / raw
    );
    Ok(())
}

async fn raw_baseline(events: usize, size: usize) -> anyhow::Result<f64> {
    let connection = kutse_testkit::broker().await?;
    let topology = kutse_testkit::topology();
    let queue = topology.queue("raw");
    let channel = connection.create_channel().await?;
    let mut args = FieldTable::default();
    args.insert(
        "x-queue-type".into(),
        AMQPValue::LongString("quorum".into()),
    );
    args.insert("x-expires".into(), AMQPValue::LongLongInt(300_000));
    channel
        .queue_declare(
            queue.as_str().into(),
            QueueDeclareOptions {
                durable: true,
                ..QueueDeclareOptions::default()
            },
            args,
        )
        .await?;
    let consume_channel = connection.create_channel().await?;
    consume_channel
        .basic_qos(200, BasicQosOptions::default())
        .await?;
    let mut consumer = consume_channel
        .basic_consume(
            queue.as_str().into(),
            "raw-bench".into(),
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await?;
    let publisher = Publisher::new(&connection).await?;
    let body = vec![b'x'; size];
    let started = Instant::now();
    let consume = tokio::spawn(async move {
        let mut received = 0;
        while received < events {
            let Some(delivery) = consumer.next().await else {
                break;
            };
            delivery?.acker.ack(BasicAckOptions::default()).await?;
            received += 1;
        }
        anyhow::Ok(received)
    });
    for chunk in (0..events).collect::<Vec<_>>().chunks(1000) {
        let outgoing: Vec<_> = chunk
            .iter()
            .map(|i| Outgoing {
                exchange: "",
                routing_key: &queue,
                body: &body,
                properties: publisher::properties(
                    &i.to_string(),
                    "bench.raw",
                    "",
                    "bench",
                    FieldTable::default(),
                ),
            })
            .collect();
        for result in publisher.publish_all(&outgoing).await {
            result?;
        }
    }
    let received = consume.await??;
    anyhow::ensure!(received == events, "raw consumer received {received}");
    Ok(events as f64 / started.elapsed().as_secs_f64())
}

async fn pipeline(events: usize) -> anyhow::Result<f64> {
    let db = TestDb::with_messaging().await?;
    let topology = kutse_testkit::topology();
    let connection = Arc::new(kutse_testkit::broker().await?);
    let channel = connection.create_channel().await?;
    topology
        .declare_consumer(&channel, "bench", &[BenchEvent::TYPE])
        .await?;
    let shutdown = CancellationToken::new();

    let relay = Relay::new(
        db.pool.clone(),
        Publisher::new(&connection).await?,
        topology.exchange(),
        "bench".to_owned(),
        RelaySettings::default(),
    );
    let consumer = Consumer::new(
        db.pool.clone(),
        topology.clone(),
        "bench",
        Arc::new(Noop),
        ConsumerSettings::default(),
    );
    let relay_shutdown = shutdown.clone();
    let relay_task = tokio::spawn(async move { relay.run(relay_shutdown).await });
    let consumer_connection = connection.clone();
    let consumer_shutdown = shutdown.clone();
    let consumer_task =
        tokio::spawn(async move { consumer.run(&consumer_connection, consumer_shutdown).await });

    let started = Instant::now();
    let mut inserted = 0;
    while inserted < events {
        let batch: Vec<_> = (0..1000.min(events - inserted)).map(|_| event()).collect();
        let mut tx = db.pool.begin().await?;
        Outbox::enqueue_all(&mut tx, &batch).await?;
        tx.commit().await?;
        inserted += batch.len();
    }
    loop {
        let handled: i64 = sqlx::query("SELECT count(*) FROM messaging.inbox")
            .fetch_one(&db.pool)
            .await?
            .get(0);
        if handled as usize >= events {
            break;
        }
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(600),
            "pipeline stalled at {handled} events"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let rate = events as f64 / started.elapsed().as_secs_f64();
    shutdown.cancel();
    relay_task.await??;
    consumer_task.await??;
    Ok(rate)
}
