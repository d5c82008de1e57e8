//! The register on a signed protocol: verified, issued exactly once, sealed, verifiable — and
//! nothing issued from a protocol it cannot trust.

use std::time::Duration;

use chrono::{NaiveDate, Utc};
use ed25519_dalek::SigningKey;
use kutse_auth::Role;
use kutse_auth::dev::TokenRequest;
use kutse_domain::{Dvvk, Isikukood};
use kutse_messaging::Envelope;
use kutse_messaging::catalogue::{
    ApplicantRef, ApplicationSubmitted, AssessmentDecided, CompetenceDecision, CompetenceRef,
    ProtocolSigned, QualificationRef,
};
use kutse_messaging::headers;
use kutse_protocol::{Outcome, Protocol, ProtocolDecision};
use kutse_testkit::eventually;
use kutse_tests::{Harness, Running, call};
use serde_json::json;
use sqlx::Row;
use uuid::Uuid;

const WAIT: Duration = Duration::from_secs(20);

struct Register {
    harness: Harness,
    certificates: Running,
    body: Uuid,
    chair: SigningKey,
}

impl Register {
    /// The certificates service, with a chair's key registered for an awarding body.
    async fn new() -> Self {
        let harness = Harness::new().expect("harness");
        let certificates = harness.start("certificates").await.expect("certificates");
        let body = Uuid::now_v7();
        let chair = SigningKey::generate(&mut rand_core::OsRng);
        let staff = harness.token(&TokenRequest {
            subject: "EE36805280109".into(),
            roles: vec![Role::AwardingBodyStaff],
            awarding_body_id: Some(body),
            ttl_seconds: 600,
            ..TokenRequest::default()
        });
        let (status, signer) = call(
            &reqwest::Client::new(),
            "POST",
            &format!("{}/register/signers", certificates.url),
            &staff,
            Some(&json!({ "kid": "chair-2026", "awarding_body_id": body, "public_key": kutse_protocol::encode_key(&chair.verifying_key()) }).to_string()),
            None,
        )
        .await;
        assert_eq!(status, 201, "{signer}");
        // Wait until the service has declared its queue, so events published now are routed.
        eventually(WAIT, "certificates ready", || async {
            let (status, _) = call(
                &reqwest::Client::new(),
                "GET",
                &format!("{}/readyz", certificates.url),
                "",
                None,
                None,
            )
            .await;
            (status == 200).then_some(())
        })
        .await;
        Self {
            harness,
            certificates,
            body,
            chair,
        }
    }

    /// Publishes a submitted and assessed application, as intake and assessment would.
    async fn assessed_application(&self, all_accepted: bool) -> Uuid {
        let application = Uuid::now_v7();
        let competences = vec![
            CompetenceRef {
                code: "B.2.1".into(),
                name: "Juuste lõikamine".into(),
            },
            CompetenceRef {
                code: "B.2.2".into(),
                name: "Juuste värvimine".into(),
            },
        ];
        let submitted = ApplicationSubmitted {
            application_id: application,
            round_id: Uuid::now_v7(),
            awarding_body_id: self.body,
            qualification: QualificationRef {
                id: Uuid::now_v7(),
                name: "Juuksur, tase 4".into(),
                level: 4,
                partial: false,
            },
            kind: "prior_learning".into(),
            competences: competences.clone(),
            applicant: ApplicantRef {
                isikukood: Isikukood::parse("49403136526").expect("code"),
                given_name: "Mari".into(),
                family_name: "Maasikas".into(),
                email: "mari@example.com".into(),
                language: "et".into(),
            },
            delivery_option: "electronic".into(),
            round_deadline: NaiveDate::from_ymd_opt(2026, 12, 18).expect("date"),
            submitted_at: Utc::now(),
            dvvk: Dvvk::WebForm,
        };
        let decided = AssessmentDecided {
            application_id: application,
            round_id: submitted.round_id,
            awarding_body_id: self.body,
            decisions: competences
                .iter()
                .enumerate()
                .map(|(i, c)| CompetenceDecision {
                    code: c.code.clone(),
                    accepted: all_accepted || i == 0,
                    justification: "Töötõendid".into(),
                })
                .collect(),
            recommendations: None,
            all_accepted,
            decided_at: Utc::now(),
            review_due: NaiveDate::from_ymd_opt(2027, 1, 6).expect("date"),
        };
        self.harness
            .publish(&Envelope::new(&submitted, Some(application)).expect("e"))
            .await
            .expect("publish");
        self.harness
            .publish(&Envelope::new(&decided, Some(application)).expect("e"))
            .await
            .expect("publish");
        application
    }

    fn protocol(&self, decisions: Vec<(Uuid, Outcome)>) -> Protocol {
        Protocol {
            protocol_id: Uuid::now_v7(),
            awarding_body_id: self.body,
            session_id: Uuid::now_v7(),
            round_id: Uuid::now_v7(),
            chair: "EE38001085718".into(),
            signed_at: Utc::now(),
            decisions: decisions
                .into_iter()
                .map(|(application_id, outcome)| ProtocolDecision {
                    application_id,
                    outcome,
                    votes_for: 4,
                    votes_against: 1,
                    reason: (outcome == Outcome::Refuse)
                        .then(|| "Kompetents B.2.2 tõendamata".to_owned()),
                })
                .collect(),
        }
    }

    async fn publish_protocol(&self, jws: String) -> Envelope {
        let envelope = Envelope::new(&ProtocolSigned { jws }, None).expect("envelope");
        self.harness.publish(&envelope).await.expect("publish");
        envelope
    }

    async fn count(&self, sql: &str) -> i64 {
        sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
            .fetch_one(&self.certificates.db.pool)
            .await
            .expect("count")
            .get(0)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_protocol_delivered_twice_issues_one_sealed_verifiable_certificate_per_awarded_application()
 {
    let register = Register::new().await;
    let awarded = register.assessed_application(true).await;
    let refused = register.assessed_application(false).await;
    let protocol = register.protocol(vec![(awarded, Outcome::Award), (refused, Outcome::Refuse)]);
    let jws = kutse_protocol::sign(&protocol, &register.chair, "chair-2026", "kutse-protocol")
        .expect("sign");
    // Two deliveries of the same protocol, under two message ids: the second must issue nothing.
    register.publish_protocol(jws.clone()).await;
    register.publish_protocol(jws).await;

    eventually(WAIT, "the certificate issued", || async {
        (register.count("SELECT count(*) FROM certificates").await == 1).then_some(())
    })
    .await;
    eventually(WAIT, "both protocol messages handled", || async {
        (register
            .count("SELECT count(*) FROM messaging.inbox WHERE message_type = 'protocol.signed'")
            .await
            == 2)
            .then_some(())
    })
    .await;
    assert_eq!(register.count("SELECT count(*) FROM certificates").await, 1);
    assert_eq!(register.count("SELECT count(*) FROM certificates WHERE application_id IS NOT NULL AND holder = '49403136526'").await, 1);
    assert_eq!(
        register
            .count(
                "SELECT count(*) FROM messaging.outbox WHERE message_type = 'certificate.issued'"
            )
            .await,
        1
    );
    assert_eq!(
        register
            .count(
                "SELECT count(*) FROM messaging.outbox WHERE message_type = 'application.refused'"
            )
            .await,
        1
    );

    let number: String = sqlx::query_scalar("SELECT register_number FROM certificates")
        .fetch_one(&register.certificates.db.pool)
        .await
        .expect("number");
    let http = reqwest::Client::new();
    let (status, verification) = call(
        &http,
        "GET",
        &format!(
            "{}/certificates/{number}/verification",
            register.certificates.url
        ),
        "",
        None,
        None,
    )
    .await;
    assert_eq!(status, 200, "{verification}");
    assert_eq!(verification["valid"], true);
    assert_eq!(
        verification["certificate"]["holder"]["family_name"],
        "Maasikas"
    );
    assert_eq!(
        verification["certificate"]["competences"]
            .as_array()
            .expect("competences")
            .len(),
        2
    );

    // Anyone can check the seal with the published key.
    let (_, jwks) = call(
        &http,
        "GET",
        &format!("{}/register/jwks.json", register.certificates.url),
        "",
        None,
        None,
    )
    .await;
    let key =
        kutse_protocol::verifying_key(jwks["keys"][0]["x"].as_str().expect("x")).expect("key");
    let seal = verification["seal"].as_str().expect("seal");
    let sealed: serde_json::Value =
        kutse_protocol::verify(seal, |_| Some(key)).expect("seal verifies");
    assert_eq!(sealed["register_number"], number.as_str());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_protocol_with_an_unknown_key_or_altered_after_signing_issues_nothing_and_is_parked() {
    let register = Register::new().await;
    let application = register.assessed_application(true).await;
    let protocol = register.protocol(vec![(application, Outcome::Award)]);

    // Signed by a key nobody registered.
    let stranger = SigningKey::generate(&mut rand_core::OsRng);
    let unknown =
        kutse_protocol::sign(&protocol, &stranger, "someone", "kutse-protocol").expect("sign");
    register.publish_protocol(unknown).await;
    let parked = eventually(WAIT, "the unknown-key protocol parked", || async {
        register
            .harness
            .take_parked("certificates")
            .await
            .expect("get")
    })
    .await;
    let error = headers::string(
        parked.delivery.properties.headers().as_ref(),
        headers::ERROR,
    )
    .expect("error");
    assert!(error.contains("unknown key"), "{error}");

    // Signed by the chair, then altered: the recorded vote changed after signing.
    let jws = kutse_protocol::sign(&protocol, &register.chair, "chair-2026", "kutse-protocol")
        .expect("sign");
    let mut altered = protocol.clone();
    altered.decisions[0].votes_against = 0;
    let parts: Vec<&str> = jws.split('.').collect();
    use base64::Engine as _;
    let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(kutse_protocol::canonical(&altered).expect("jcs"));
    register
        .publish_protocol(format!("{}.{}.{}", parts[0], payload, parts[2]))
        .await;
    let parked = eventually(WAIT, "the altered protocol parked", || async {
        register
            .harness
            .take_parked("certificates")
            .await
            .expect("get")
    })
    .await;
    let error = headers::string(
        parked.delivery.properties.headers().as_ref(),
        headers::ERROR,
    )
    .expect("error");
    assert!(error.contains("signature does not verify"), "{error}");
    assert_eq!(
        headers::string(
            parked.delivery.properties.headers().as_ref(),
            headers::PARKED_REASON
        )
        .as_deref(),
        Some("rejected")
    );
    assert_eq!(register.count("SELECT count(*) FROM certificates").await, 0);
    assert_eq!(
        register
            .count(
                "SELECT count(*) FROM messaging.outbox WHERE message_type = 'certificate.issued'"
            )
            .await,
        0
    );
}
