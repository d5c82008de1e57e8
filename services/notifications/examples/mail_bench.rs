//! P5, the e-mail leg (`make bench`, release build): how fast the notifications sender hands
//! queued mail to the local stack's SMTP server (maildev), against the same server fed by a bare
//! loop over the same pooled transport with no database — the raw baseline in the same run.
//!
//! - **throughput**: 1,000 mails queued in one statement, the sender started, until the last is
//!   marked sent; at `SMTP_CONCURRENCY` 1 (the default: a killed sender repeats at most one
//!   mail) and 4;
//! - **latency on an idle system**: one mail queued at a time, from its insert's commit to its
//!   `sent_at` mark's commit (accepted by the server), 100 times; p50 and p95 (target p95
//!   ≤ 250 ms for the whole leg from protocol to mail, of which this is the notifications part);
//! - **raw baseline**: the same 1,000 messages handed over by `Mailer::deliver` in a bare loop
//!   (open sessions, no database), one at a time, then 4 at a time; and, for comparison, by
//!   lettre's own pooled transport (`AsyncTransport::send`), whose sockets lack `TCP_NODELAY`.

use std::time::{Duration, Instant};

use lettre::AsyncTransport;
use lettre::message::header::ContentType;
use sqlx::PgPool;
use uuid::Uuid;

const MAILS: usize = 1_000;
const LATENCY_SAMPLES: usize = 100;

fn mailer(concurrency: usize) -> kutse_notifications::mail::Mailer {
    let vars = [("SMTP_CONCURRENCY".to_owned(), concurrency.to_string())]
        .into_iter()
        .collect();
    let config =
        kutse_notifications::mail::SmtpConfig::from_env(&mut kutse_config::Env::from_map(vars));
    kutse_notifications::mail::Mailer::new(&config).expect("mailer")
}

async fn database() -> kutse_testkit::TestDb {
    let db = kutse_testkit::TestDb::new().await.expect("database");
    kutse_notifications::MIGRATOR
        .run(&db.pool)
        .await
        .expect("migrations");
    kutse_messaging::migrate(&db.pool)
        .await
        .expect("messaging schema");
    db
}

async fn queue(pool: &PgPool, n: usize, run: &str) {
    sqlx::query(
        "INSERT INTO mails (id, cause_id, kind, recipient, subject, body)
         SELECT gen_random_uuid(), gen_random_uuid(), 'receipt', 'bench-' || $1 || '-' || i || '@example.com',
                'Avaldus on kätte saadud ' || i, repeat('Tere! Teie avaldus on kätte saadud. ', 20)
         FROM generate_series(1, $2) AS i",
    )
    .bind(run)
    .bind(i64::try_from(n).expect("count"))
    .execute(pool)
    .await
    .expect("queued");
}

async fn unsent(pool: &PgPool) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM mails WHERE sent_at IS NULL")
        .fetch_one(pool)
        .await
        .expect("count")
}

/// Mails per second through the sender at `concurrency`.
async fn through_sender(concurrency: usize) -> f64 {
    let db = database().await;
    queue(&db.pool, MAILS, &format!("s{concurrency}")).await;
    let shutdown = tokio_util::sync::CancellationToken::new();
    let started = Instant::now();
    let sender = tokio::spawn(kutse_notifications::sender::run(
        db.pool.clone(),
        mailer(concurrency),
        shutdown.clone(),
    ));
    while unsent(&db.pool).await > 0 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let elapsed = started.elapsed();
    shutdown.cancel();
    sender.await.expect("joined").expect("sender");
    MAILS as f64 / elapsed.as_secs_f64()
}

/// Mails per second from a bare loop, `concurrency` at a time: over the sender's sessions, or
/// over lettre's pooled transport.
async fn raw(concurrency: usize, lettre_pool: bool) -> f64 {
    let mailer = mailer(concurrency);
    let body = "Tere! Teie avaldus on kätte saadud. ".repeat(20);
    let messages: Vec<lettre::Message> = (0..MAILS)
        .map(|i| {
            lettre::Message::builder()
                .from(mailer.from.clone())
                .to(format!("raw-{concurrency}-{i}@example.com")
                    .parse()
                    .expect("address"))
                .subject(format!("Avaldus on kätte saadud {i}"))
                .header(ContentType::TEXT_PLAIN)
                .body(body.clone())
                .expect("message")
        })
        .collect();
    let started = Instant::now();
    futures::stream::iter(messages)
        .for_each_concurrent(concurrency, |message| {
            let mailer = mailer.clone();
            async move {
                if lettre_pool {
                    mailer.transport().send(message).await.expect("sent");
                } else {
                    mailer.deliver(&message).await.expect("sent");
                }
            }
        })
        .await;
    MAILS as f64 / started.elapsed().as_secs_f64()
}

/// From one mail's queueing to its being marked sent, one at a time on an idle sender.
async fn latencies() -> Vec<Duration> {
    let db = database().await;
    let shutdown = tokio_util::sync::CancellationToken::new();
    let sender = tokio::spawn(kutse_notifications::sender::run(
        db.pool.clone(),
        mailer(1),
        shutdown.clone(),
    ));
    // Let the sender settle into waiting.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut samples = Vec::with_capacity(LATENCY_SAMPLES);
    for i in 0..LATENCY_SAMPLES {
        let started = Instant::now();
        queue(&db.pool, 1, &format!("l{i}-{}", Uuid::now_v7().simple())).await;
        while unsent(&db.pool).await > 0 {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        samples.push(started.elapsed());
        // An idle system: the next mail comes after the sender went back to waiting.
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    shutdown.cancel();
    sender.await.expect("joined").expect("sender");
    samples.sort();
    samples
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

use futures::StreamExt as _;

#[tokio::main]
async fn main() {
    println!("P5 e-mail leg: notifications' sender → maildev (SMTP), {MAILS} mails");
    let raw_one = raw(1, false).await;
    let raw_four = raw(4, false).await;
    let lettre_one = raw(1, true).await;
    let sender_one = through_sender(1).await;
    let sender_four = through_sender(4).await;
    println!("  raw baseline, bare sessions, 1 at a time          {raw_one:>7.0} mails/s");
    println!("  raw baseline, bare sessions, 4 at a time          {raw_four:>7.0} mails/s");
    println!("  lettre's pooled transport, 1 at a time (before)   {lettre_one:>7.0} mails/s");
    println!(
        "  sender, SMTP_CONCURRENCY=1 (default)              {sender_one:>7.0} mails/s  ({:.0} % of raw; target ≥ 200/s)",
        100.0 * sender_one / raw_one
    );
    println!(
        "  sender, SMTP_CONCURRENCY=4                        {sender_four:>7.0} mails/s  ({:.0} % of raw at 4)",
        100.0 * sender_four / raw_four
    );
    let samples = latencies().await;
    let p50 = samples[samples.len() / 2];
    let p95 = samples[samples.len() * 95 / 100];
    println!(
        "  queued → accepted by SMTP, idle, {LATENCY_SAMPLES} mails: p50 {:.1} ms, p95 {:.1} ms",
        ms(p50),
        ms(p95)
    );
}
