//! P5, latency on an idle system (`make bench`, release build): one signed protocol with one
//! award at a time, from its publication to
//! - the certificate committed in the register (`protocols.status = 'accepted'`, polled every
//!   millisecond): target p95 ≤ 100 ms;
//! - its e-mail, with the PDF attached, accepted by the SMTP server (the mail's `sent_at` mark,
//!   committed after the server's 250, polled every millisecond): target p95 ≤ 250 ms.
//!
//! The register and notifications run in this process (the tests' harness) against the local
//! stack; each application's facts are loaded into the register's database beforehand (set-up).
//! Raw baseline in the same run: a bare RabbitMQ round trip (publish with confirm → delivered
//! to a consumer) plus one committed single-row INSERT — what any event-driven step pays.

use std::time::{Duration, Instant};

use chrono::{NaiveDate, Utc};
use futures::StreamExt as _;
use kutse_auth::Role;
use kutse_domain::{Dvvk, Isikukood};
use kutse_messaging::Envelope;
use kutse_messaging::catalogue::{
    ApplicantRef, ApplicationSubmitted, AssessmentDecided, CompetenceDecision, CompetenceRef,
    ProtocolSigned, QualificationRef,
};
use kutse_protocol::{Outcome, Protocol, ProtocolDecision};
use kutse_tests::{AUTHORITY_CODE, Harness, call};
use serde_json::json;
use uuid::Uuid;

const SAMPLES: usize = 50;
const CHAIR: &str = "EE38001085718";

fn competences() -> Vec<CompetenceRef> {
    vec![
        CompetenceRef {
            code: "B.2.1".into(),
            name: "Juuste lõikamine".into(),
        },
        CompetenceRef {
            code: "B.2.2".into(),
            name: "Juuste värvimine".into(),
        },
    ]
}

fn facts(body: Uuid, application: Uuid, email: &str) -> (serde_json::Value, serde_json::Value) {
    let submitted = ApplicationSubmitted {
        application_id: application,
        round_id: Uuid::nil(),
        awarding_body_id: body,
        qualification: QualificationRef {
            id: Uuid::nil(),
            name: "Juuksur, tase 4".into(),
            level: 4,
            partial: false,
        },
        kind: kutse_domain::ApplicationKind::Initial,
        competences: competences(),
        applicant: ApplicantRef {
            isikukood: Isikukood::parse("49403136526").expect("code"),
            given_name: "Mari".into(),
            family_name: "Maasikas".into(),
            email: kutse_domain::Email::parse(email).expect("email"),
            language: kutse_domain::Language::Et,
        },
        delivery_option: kutse_domain::DeliveryOption::Electronic,
        round_deadline: NaiveDate::from_ymd_opt(2026, 12, 18).expect("date"),
        submitted_at: Utc::now(),
        dvvk: Dvvk::WebForm,
        awarding_body_name: Some("Eesti Juuksurite Liit".into()),
        awarding_body_email: None,
        certificate_number: None,
        duplicate_reason: None,
    };
    let decided = AssessmentDecided {
        application_id: application,
        round_id: Uuid::nil(),
        awarding_body_id: body,
        decisions: competences()
            .into_iter()
            .map(|c| CompetenceDecision {
                code: c.code,
                accepted: true,
                justification: "Tõendatud".into(),
                evidence: vec![],
            })
            .collect(),
        recommendations: None,
        all_accepted: true,
        decided_at: Utc::now(),
        review_due: NaiveDate::from_ymd_opt(2027, 1, 5).expect("date"),
        decision_number: None,
        notice_due: None,
    };
    (
        serde_json::to_value(submitted).expect("json"),
        serde_json::to_value(decided).expect("json"),
    )
}

fn percentile(sorted: &[Duration], p: usize) -> f64 {
    sorted[(sorted.len() * p / 100).min(sorted.len() - 1)].as_secs_f64() * 1000.0
}

/// Polls `sql` (one boolean) every millisecond until it is true.
async fn until(pool: &sqlx::PgPool, sql: &str, key: &str) -> anyhow::Result<()> {
    let started = Instant::now();
    loop {
        let done: Option<Option<bool>> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
            .bind(key)
            .fetch_optional(pool)
            .await?;
        if done.flatten() == Some(true) {
            return Ok(());
        }
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(30),
            "waited 30 s: {sql}"
        );
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

/// A bare RabbitMQ round trip plus one committed INSERT, `SAMPLES` times.
async fn raw_baseline(harness: &Harness) -> anyhow::Result<Vec<Duration>> {
    let connection = kutse_testkit::broker().await?;
    let channel = connection.create_channel().await?;
    let queue = format!("{}.raw-latency", harness.prefix);
    channel
        .queue_declare(
            queue.as_str().into(),
            lapin::options::QueueDeclareOptions {
                auto_delete: true,
                ..Default::default()
            },
            lapin::types::FieldTable::default(),
        )
        .await?;
    let mut deliveries = channel
        .basic_consume(
            queue.as_str().into(),
            "raw".into(),
            lapin::options::BasicConsumeOptions {
                no_ack: true,
                ..Default::default()
            },
            lapin::types::FieldTable::default(),
        )
        .await?;
    let publisher = kutse_messaging::Publisher::new(&connection).await?;
    let db = kutse_testkit::TestDb::new().await?;
    sqlx::query("CREATE TABLE raw (id uuid PRIMARY KEY, at timestamptz)")
        .execute(&db.pool)
        .await?;
    let mut samples = Vec::with_capacity(SAMPLES);
    for _ in 0..SAMPLES {
        let started = Instant::now();
        publisher
            .publish(kutse_messaging::publisher::Outgoing {
                exchange: "",
                routing_key: &queue,
                body: b"{}",
                properties: lapin::BasicProperties::default(),
            })
            .await?;
        deliveries
            .next()
            .await
            .ok_or_else(|| anyhow::anyhow!("consumer ended"))??;
        sqlx::query("INSERT INTO raw VALUES ($1, now())")
            .bind(Uuid::now_v7())
            .execute(&db.pool)
            .await?;
        samples.push(started.elapsed());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    samples.sort();
    Ok(samples)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let harness = Harness::new()?;
    let register = harness.start("certificates").await?;
    let notifications = harness.start("notifications").await?;
    kutse_tests::wait_ready(&register).await;
    kutse_tests::wait_ready(&notifications).await;
    let body = Uuid::now_v7();
    let chair = ed25519_dalek::SigningKey::generate(&mut rand_core::OsRng);
    let (status, answer) = call(
        &reqwest::Client::new(),
        "POST",
        &format!("{}/register/signers", register.url),
        &harness.token_for(&format!("EE{AUTHORITY_CODE}"), &[Role::Authority], None),
        Some(
            &json!({ "kid": "bench-chair", "awarding_body_id": body, "owner": CHAIR,
                     "public_key": kutse_protocol::encode_key(&chair.verifying_key()) })
            .to_string(),
        ),
        None,
    )
    .await;
    anyhow::ensure!(status == 201, "registering the chair's key: {answer}");

    let raw = raw_baseline(&harness).await?;
    let mut issued = Vec::with_capacity(SAMPLES);
    let mut mailed = Vec::with_capacity(SAMPLES);
    for i in 0..SAMPLES {
        let application = Uuid::now_v7();
        let email = format!("p5-{i}-{}@example.com", application.simple());
        let (submission, decision) = facts(body, application, &email);
        sqlx::query(
            "INSERT INTO applications (application_id, submission, decision) VALUES ($1, $2, $3)",
        )
        .bind(application)
        .bind(&submission)
        .bind(&decision)
        .execute(&register.db.pool)
        .await?;
        let protocol = Protocol {
            protocol_id: Uuid::now_v7(),
            awarding_body_id: body,
            session_id: Uuid::now_v7(),
            round_id: Uuid::nil(),
            chair: CHAIR.into(),
            signed_at: Utc::now(),
            decisions: vec![ProtocolDecision {
                application_id: application,
                outcome: Outcome::Award,
                votes_for: 5,
                votes_against: 0,
                reason: None,
                recused: Vec::new(),
            }],
            held_on: None,
            place: None,
            roster: Vec::new(),
            present: Vec::new(),
            quorum: None,
        };
        let jws = kutse_protocol::sign(&protocol, &chair, "bench-chair", "kutse-protocol")?;
        let envelope = Envelope::new(&ProtocolSigned { jws }, None)?;
        let started = Instant::now();
        harness.publish(&envelope).await?;
        until(
            &register.db.pool,
            "SELECT status = 'accepted' FROM protocols WHERE message_id = $1::uuid",
            &envelope.id.to_string(),
        )
        .await?;
        issued.push(started.elapsed());
        until(
            &notifications.db.pool,
            "SELECT bool_or(sent_at IS NOT NULL) FROM mails WHERE recipient = $1 AND attachment IS NOT NULL",
            &email,
        )
        .await?;
        mailed.push(started.elapsed());
        // An idle system: the next protocol comes once everything has settled.
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    issued.sort();
    mailed.sort();
    let (i95, m95) = (percentile(&issued, 95), percentile(&mailed, 95));
    println!("P5 latency on an idle system: {SAMPLES} protocols of one award each");
    println!(
        "  raw baseline: RabbitMQ round trip + one committed INSERT   p50 {:.1} ms, p95 {:.1} ms",
        percentile(&raw, 50),
        percentile(&raw, 95)
    );
    println!(
        "  protocol → certificate committed                          p50 {:.1} ms, p95 {i95:.1} ms ({:.1}× raw p95)  target p95 ≤ 100 ms: {}",
        percentile(&issued, 50),
        i95 / percentile(&raw, 95),
        if i95 <= 100.0 { "met" } else { "NOT MET" }
    );
    println!(
        "  protocol → e-mail with the PDF accepted by SMTP            p50 {:.1} ms, p95 {m95:.1} ms  target p95 ≤ 250 ms: {}",
        percentile(&mailed, 50),
        if m95 <= 250.0 { "met" } else { "NOT MET" }
    );
    Ok(())
}
