//! P3: one signed protocol with 10,000 awards → 10,000 certificates sealed, their Open Badges
//! credentials signed and status-list indices assigned, committed — and then their PDFs rendered
//! and stored (`make bench`, release build).
//!
//! The register runs in this process (the tests' harness) against the local stack. The 10,000
//! applications' facts (submission and panel decision) are loaded straight into its database
//! beforehand — that is set-up, not issuance. Measured:
//! - **issuance**: from publishing `protocol.signed` to the register's committed answer
//!   (`protocols.status = 'accepted'`, polled every 5 ms);
//! - **PDFs**: from the same start to the last PDF stored in S3 with its checksum;
//! - **raw baselines** in the same run: the same number of rows written by one bare `UNNEST`
//!   insert, and the same number of Ed25519 signatures over payloads of the same size — what
//!   issuance cannot go below; and PDFs rendered per second on one core, without storage.

use std::time::{Duration, Instant};

use chrono::{NaiveDate, Utc};
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

const AWARDS: usize = 10_000;
const CHAIR: &str = "EE38001085718";
const TARGET: Duration = Duration::from_secs(5);

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

fn facts(body: Uuid, application: Uuid) -> (serde_json::Value, serde_json::Value) {
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
            email: kutse_domain::Email::parse("mari@example.com").expect("email"),
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

async fn count(pool: &sqlx::PgPool, sql: &'static str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(pool).await.unwrap_or(0)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let harness = Harness::new()?;
    let register = harness.start("certificates").await?;
    kutse_tests::wait_ready(&register).await;
    let pool = register.db.pool.clone();
    let body = Uuid::now_v7();
    let chair = ed25519_dalek::SigningKey::generate(&mut rand_core::OsRng);
    let http = reqwest::Client::new();
    let (status, answer) = call(
        &http,
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

    // Set-up: the facts of 10,000 assessed applications.
    let ids: Vec<Uuid> = (0..AWARDS).map(|_| Uuid::now_v7()).collect();
    let (submissions, decisions): (Vec<_>, Vec<_>) = ids.iter().map(|id| facts(body, *id)).unzip();
    sqlx::query(
        "INSERT INTO applications (application_id, submission, decision)
         SELECT * FROM UNNEST($1::uuid[], $2::jsonb[], $3::jsonb[])",
    )
    .bind(&ids)
    .bind(&submissions)
    .bind(&decisions)
    .execute(&pool)
    .await?;

    // Raw baselines, measured in this run on this machine.
    let baseline_db = kutse_testkit::TestDb::new().await?;
    sqlx::query(
        "CREATE TABLE raw (id uuid PRIMARY KEY, n text UNIQUE, a uuid UNIQUE, d jsonb, s text, c text)",
    )
    .execute(&baseline_db.pool)
    .await?;
    let documents: Vec<serde_json::Value> = submissions.clone();
    let seals: Vec<String> = (0..AWARDS).map(|i| format!("{i:0>1200}")).collect();
    let numbers: Vec<String> = (0..AWARDS).map(|i| format!("KT-2026-{i:06}")).collect();
    let started = Instant::now();
    sqlx::query(
        "INSERT INTO raw SELECT * FROM UNNEST($1::uuid[], $2::text[], $3::uuid[], $4::jsonb[], $5::text[], $6::text[])",
    )
    .bind(&ids)
    .bind(&numbers)
    .bind(&ids)
    .bind(&documents)
    .bind(&seals)
    .bind(&seals)
    .execute(&baseline_db.pool)
    .await?;
    let raw_insert = started.elapsed();
    let payload = vec![b'x'; 1500];
    let started = Instant::now();
    for _ in 0..AWARDS * 2 {
        std::hint::black_box(kutse_protocol::sign_bytes(&payload, &chair, "k", "t"));
    }
    let raw_signatures = started.elapsed();
    let q = QualificationRef {
        id: Uuid::nil(),
        name: "Juuksur, tase 4".into(),
        level: 4,
        partial: false,
    };
    let c = competences();
    let renders = 200;
    let started = Instant::now();
    for i in 0..renders {
        let number = format!("KT-2026-{i:06}");
        std::hint::black_box(kutse_certificates::pdf::render(
            &kutse_certificates::pdf::Certificate {
                register_number: &number,
                given_name: "Mari",
                family_name: "Maasikas",
                qualification: &q,
                competences: &c,
                awarding_body: "Eesti Juuksurite Liit",
                issued_on: NaiveDate::from_ymd_opt(2026, 11, 25).expect("date"),
                valid_until: NaiveDate::from_ymd_opt(2031, 11, 25).expect("date"),
                verification_url: "https://kutse.example/certificates/KT-2026-000001",
                duplicate: None,
            },
        )?);
    }
    let per_core = f64::from(renders) / started.elapsed().as_secs_f64();

    // The protocol.
    let protocol = Protocol {
        protocol_id: Uuid::now_v7(),
        awarding_body_id: body,
        session_id: Uuid::now_v7(),
        round_id: Uuid::nil(),
        chair: CHAIR.into(),
        signed_at: Utc::now(),
        decisions: ids
            .iter()
            .map(|id| ProtocolDecision {
                application_id: *id,
                outcome: Outcome::Award,
                votes_for: 5,
                votes_against: 0,
                reason: None,
                recused: Vec::new(),
            })
            .collect(),
        held_on: None,
        place: None,
        roster: Vec::new(),
        present: Vec::new(),
        quorum: None,
    };
    let jws = kutse_protocol::sign(&protocol, &chair, "bench-chair", "kutse-protocol")?;
    let envelope = Envelope::new(&ProtocolSigned { jws: jws.clone() }, None)?;
    let started = Instant::now();
    harness.publish(&envelope).await?;
    let issued = loop {
        let status: Option<String> =
            sqlx::query_scalar("SELECT status FROM protocols WHERE message_id = $1")
                .bind(envelope.id)
                .fetch_optional(&pool)
                .await?;
        match status.as_deref() {
            Some("accepted") => break started.elapsed(),
            Some(other) => anyhow::bail!("the protocol was {other}"),
            None if started.elapsed() > Duration::from_secs(300) => {
                anyhow::bail!("no answer in 300 s")
            }
            None => tokio::time::sleep(Duration::from_millis(5)).await,
        }
    };
    let certificates = count(&pool, "SELECT count(*) FROM certificates").await;
    let entries = count(&pool, "SELECT count(*) FROM status_entries").await;
    let credentials = count(
        &pool,
        "SELECT count(*) FROM certificates WHERE credential IS NOT NULL",
    )
    .await;
    anyhow::ensure!(
        certificates == AWARDS as i64 && credentials == AWARDS as i64,
        "{certificates} certificates, {credentials} credentials"
    );
    anyhow::ensure!(entries == 2 * AWARDS as i64, "{entries} status entries");
    let pdfs = loop {
        let stored = count(
            &pool,
            "SELECT count(*) FROM certificates WHERE pdf_sha256 IS NOT NULL",
        )
        .await;
        if stored == AWARDS as i64 {
            break started.elapsed();
        }
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(1800),
            "only {stored} PDFs in 30 min"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };

    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "P3 issuance: one signed protocol, {AWARDS} awards ({} KiB of JWS)",
        jws.len() / 1024
    );
    println!(
        "  protocol → {AWARDS} certificates sealed, credentials signed, status indices assigned, committed: {:.0} ms ({:.0} certificates/s)  target ≤ {} ms: {}",
        ms(issued),
        AWARDS as f64 / issued.as_secs_f64(),
        TARGET.as_millis(),
        if issued <= TARGET { "met" } else { "NOT MET" }
    );
    println!(
        "  raw baselines: one UNNEST insert of {AWARDS} rows {:.0} ms; {} Ed25519 signatures {:.0} ms; together {:.0} ms — issuance takes {:.1}× that",
        ms(raw_insert),
        AWARDS * 2,
        ms(raw_signatures),
        ms(raw_insert + raw_signatures),
        issued.as_secs_f64() / (raw_insert + raw_signatures).as_secs_f64()
    );
    println!(
        "  PDFs: {per_core:.0} rendered per second on one core (raw render); protocol → last of {AWARDS} PDFs stored in S3: {:.1} s ({:.0} PDFs/s with the machine's {} cores, storage included)",
        pdfs.as_secs_f64(),
        AWARDS as f64 / (pdfs - issued).as_secs_f64(),
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    Ok(())
}
