//! The register on a signed protocol: verified, issued exactly once, sealed, verifiable — and
//! nothing issued from a protocol it cannot trust.

use std::time::Duration;

use chrono::{NaiveDate, Utc};
use ed25519_dalek::SigningKey;
use kutse_auth::Role;
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
const CHAIR: &str = "EE38001085718";

pub(crate) struct Register {
    pub(crate) certificates: Running,
    pub(crate) body: Uuid,
    pub(crate) chair: SigningKey,
    /// Last, so the services stop before their broker topology is deleted.
    pub(crate) harness: Harness,
}

impl Register {
    /// The certificates service, with a chair's key registered for an awarding body.
    pub(crate) async fn new() -> Self {
        Self::for_body(Uuid::now_v7()).await
    }

    /// The certificates service, with a chair's key registered by the authority for `body`.
    pub(crate) async fn for_body(body: Uuid) -> Self {
        let harness = Harness::new().expect("harness");
        let certificates = harness.start("certificates").await.expect("certificates");
        let chair = SigningKey::generate(&mut rand_core::OsRng);
        let register = Self {
            harness,
            certificates,
            body,
            chair,
        };
        register.register_chair().await;
        // Wait until the service has declared its queue, so events published now are routed.
        kutse_tests::wait_ready(&register.certificates).await;
        register
    }

    /// The chair's key (`chair-2026`, owner `CHAIR`), registered by the authority: active at once.
    pub(crate) async fn register_chair(&self) {
        let (status, signer) = self
            .post(
                "/register/signers",
                &self.authority(),
                json!({ "kid": "chair-2026", "awarding_body_id": self.body, "owner": CHAIR,
                        "public_key": kutse_protocol::encode_key(&self.chair.verifying_key()) }),
            )
            .await;
        assert_eq!(status, 201, "{signer}");
        assert_eq!(signer["status"], "active");
    }

    pub(crate) fn authority(&self) -> String {
        self.harness
            .token_for("EE37605030299", &[Role::Authority], None)
    }

    pub(crate) fn staff(&self) -> String {
        self.harness
            .token_for("EE36805280109", &[Role::AwardingBodyStaff], Some(self.body))
    }

    pub(crate) async fn post(
        &self,
        path: &str,
        token: &str,
        body: serde_json::Value,
    ) -> (u16, serde_json::Value) {
        call(
            &reqwest::Client::new(),
            "POST",
            &format!("{}{path}", self.certificates.url),
            token,
            Some(&body.to_string()),
            None,
        )
        .await
    }

    pub(crate) async fn get(&self, path: &str, token: &str) -> (u16, serde_json::Value) {
        call(
            &reqwest::Client::new(),
            "GET",
            &format!("{}{path}", self.certificates.url),
            token,
            None,
            None,
        )
        .await
    }

    /// Publishes a submitted and assessed application, as intake and assessment would.
    pub(crate) async fn assessed_application(&self, all_accepted: bool) -> Uuid {
        let application = Uuid::now_v7();
        self.assessed(application, all_accepted).await;
        application
    }

    /// The submission and decision of `application`.
    pub(crate) fn facts(
        &self,
        application: Uuid,
        all_accepted: bool,
    ) -> (ApplicationSubmitted, AssessmentDecided) {
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
            kind: kutse_domain::ApplicationKind::PriorLearning,
            competences: competences.clone(),
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
            awarding_body_name: Some("Eesti Juuksurite Liit".to_owned()),
            awarding_body_email: None,
            certificate_number: None,
            duplicate_reason: None,
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
                    evidence: vec![],
                })
                .collect(),
            recommendations: None,
            all_accepted,
            decided_at: Utc::now(),
            review_due: NaiveDate::from_ymd_opt(2027, 1, 6).expect("date"),
            decision_number: None,
            notice_due: None,
        };
        (submitted, decided)
    }

    /// Publishes the submission and decision of `application`, as intake and assessment would.
    pub(crate) async fn assessed(&self, application: Uuid, all_accepted: bool) {
        let (submitted, decided) = self.facts(application, all_accepted);
        self.harness
            .publish(&Envelope::new(&submitted, Some(application)).expect("e"))
            .await
            .expect("publish");
        self.harness
            .publish(&Envelope::new(&decided, Some(application)).expect("e"))
            .await
            .expect("publish");
    }

    pub(crate) fn protocol(&self, decisions: Vec<(Uuid, Outcome)>) -> Protocol {
        Protocol {
            protocol_id: Uuid::now_v7(),
            awarding_body_id: self.body,
            session_id: Uuid::now_v7(),
            round_id: Uuid::now_v7(),
            chair: CHAIR.into(),
            signed_at: Utc::now(),
            decisions: decisions
                .into_iter()
                .map(|(application_id, outcome)| ProtocolDecision {
                    application_id,
                    outcome,
                    // The vote that carries the outcome: a refusal against a carried vote is refused.
                    votes_for: if outcome == Outcome::Award { 4 } else { 1 },
                    votes_against: if outcome == Outcome::Award { 1 } else { 4 },
                    reason: (outcome == Outcome::Refuse)
                        .then(|| "Kompetents B.2.2 tõendamata".to_owned()),
                    recused: Vec::new(),
                })
                .collect(),
            held_on: None,
            place: None,
            roster: Vec::new(),
            present: Vec::new(),
            quorum: None,
        }
    }

    pub(crate) async fn publish_protocol(&self, jws: String) -> Envelope {
        let envelope = Envelope::new(&ProtocolSigned { jws }, None).expect("envelope");
        self.harness.publish(&envelope).await.expect("publish");
        envelope
    }

    pub(crate) async fn count(&self, sql: &str) -> i64 {
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
    // The holder's own view carries the seal (the public one does not: its payload holds the
    // personal code).
    assert!(verification.get("seal").is_none());
    let mari = register.harness.token_for("EE49403136526", &[], None);
    let (status, own) = register
        .get(&format!("/certificates/{number}"), &mari)
        .await;
    assert_eq!(status, 200, "{own}");
    let seal = own["seal"].as_str().expect("seal");
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
    let (_, error) = register.parked("the unknown-key protocol parked").await;
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
    let (reason, error) = register.parked("the altered protocol parked").await;
    assert!(error.contains("signature does not verify"), "{error}");
    assert_eq!(reason, "rejected");
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

impl Register {
    /// The next parked message's reason and error.
    async fn parked(&self, what: &str) -> (String, String) {
        let parked = eventually(WAIT, what, || async {
            self.harness.take_parked("certificates").await.expect("get")
        })
        .await;
        let headers = parked.delivery.properties.headers().clone();
        (
            headers::string(headers.as_ref(), headers::PARKED_REASON).unwrap_or_default(),
            headers::string(headers.as_ref(), headers::ERROR).unwrap_or_default(),
        )
    }

    pub(crate) async fn sign_and_publish(&self, protocol: &Protocol) -> Envelope {
        let jws = kutse_protocol::sign(protocol, &self.chair, "chair-2026", "kutse-protocol")
            .expect("sign");
        self.publish_protocol(jws).await
    }

    /// What the register says became of a protocol, as the body's staff read it.
    async fn status_of(&self, id: Uuid) -> serde_json::Value {
        eventually(WAIT, "the protocol's status", || async {
            let (status, receipts) = self
                .get(&format!("/register/protocols/{id}"), &self.staff())
                .await;
            (status == 200).then_some(receipts)
        })
        .await
    }

    async fn outbox(&self, message_type: &str) -> i64 {
        self.count(&format!(
            "SELECT count(*) FROM messaging.outbox WHERE message_type = '{message_type}'"
        ))
        .await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outcome_is_final_and_a_later_protocol_contradicting_it_issues_nothing() {
    let register = Register::new().await;
    // F is refused by a signed protocol; a second, validly signed protocol awarding F is rejected.
    let f = register.assessed_application(true).await;
    let refusal = register.protocol(vec![(f, Outcome::Refuse)]);
    register.sign_and_publish(&refusal).await;
    let receipts = register.status_of(refusal.protocol_id).await;
    assert_eq!(receipts[0]["status"], "accepted", "{receipts}");
    assert_eq!(receipts[0]["refused"], json!([f]));
    let award = register.protocol(vec![(f, Outcome::Award)]);
    let sent = register.sign_and_publish(&award).await;
    let (reason, error) = register.parked("the contradicting award parked").await;
    assert_eq!(reason, "rejected");
    assert!(
        error.contains("was refused by an earlier signed protocol"),
        "{error}"
    );
    let receipts = register.status_of(award.protocol_id).await;
    assert_eq!(receipts[0]["status"], "rejected", "{receipts}");
    assert_eq!(receipts[0]["message_id"], json!(sent.id));
    assert!(
        receipts[0]["reason"]
            .as_str()
            .unwrap_or_default()
            .contains("earlier")
    );
    assert_eq!(register.count("SELECT count(*) FROM certificates").await, 0);
    assert_eq!(register.outbox("certificate.issued").await, 0);

    // G holds a certificate; a later protocol refusing G is rejected and tells no one of a refusal.
    let g = register.assessed_application(true).await;
    let award = register.protocol(vec![(g, Outcome::Award)]);
    register.sign_and_publish(&award).await;
    let receipts = register.status_of(award.protocol_id).await;
    let number = receipts[0]["issued"][0]["register_number"]
        .as_str()
        .expect("register number")
        .to_owned();
    let refusal = register.protocol(vec![(g, Outcome::Refuse)]);
    register.sign_and_publish(&refusal).await;
    let (_, error) = register.parked("the contradicting refusal parked").await;
    assert!(error.contains("already holds a certificate"), "{error}");
    assert_eq!(
        register.status_of(refusal.protocol_id).await[0]["status"],
        "rejected"
    );
    assert_eq!(
        register.outbox("application.refused").await,
        1,
        "only F's refusal"
    );
    let (status, verification) = register
        .get(&format!("/certificates/{number}/verification"), "")
        .await;
    assert_eq!(status, 200);
    assert_eq!(verification["valid"], true);

    // A refusal against the panel's full acceptance and a carried vote is refused.
    let h = register.assessed_application(true).await;
    let mut against_the_vote = register.protocol(vec![(h, Outcome::Refuse)]);
    against_the_vote.decisions[0].votes_for = 5;
    against_the_vote.decisions[0].votes_against = 0;
    register.sign_and_publish(&against_the_vote).await;
    let (_, error) = register.parked("a refusal against a carried vote").await;
    assert!(error.contains("vote carried"), "{error}");

    // Every protocol got exactly one answer: two accepted, three rejected.
    assert_eq!(register.outbox("protocol.accepted").await, 2);
    assert_eq!(register.outbox("protocol.rejected").await, 3);
    // The answer names the protocol message as its cause, so a pipeline can match it.
    let cause: Option<Uuid> = sqlx::query_scalar(
        "SELECT (convert_from(body, 'UTF8')::jsonb ->> 'causation_id')::uuid FROM messaging.outbox
          WHERE message_type = 'protocol.rejected' ORDER BY seq LIMIT 1",
    )
    .fetch_one(&register.certificates.db.pool)
    .await
    .expect("causation");
    assert_eq!(cause, Some(sent.id));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signer_key_belongs_to_its_chair_who_must_confirm_it_and_revoked_keys_sign_nothing_new() {
    let register = Register::new().await;
    let key = SigningKey::generate(&mut rand_core::OsRng);
    let chair = "EE33105048161";
    let (status, proposed) = register
        .post(
            "/register/signers",
            &register.staff(),
            json!({ "kid": "proposed-1", "awarding_body_id": register.body, "owner": chair,
                    "public_key": kutse_protocol::encode_key(&key.verifying_key()) }),
        )
        .await;
    assert_eq!(status, 201, "{proposed}");
    assert_eq!(proposed["status"], "proposed");

    // Staff alone cannot issue: the proposed key signs nothing.
    let application = register.assessed_application(true).await;
    let mut protocol = register.protocol(vec![(application, Outcome::Award)]);
    protocol.chair = chair.into();
    let jws = kutse_protocol::sign(&protocol, &key, "proposed-1", "kutse-protocol").expect("sign");
    register.publish_protocol(jws).await;
    let (_, error) = register.parked("a protocol under a proposed key").await;
    assert!(error.contains("unknown key"), "{error}");

    // Only the owner confirms it, with their own login.
    let (status, _) = register
        .post(
            "/register/signers/proposed-1/confirmation",
            &register.staff(),
            json!({}),
        )
        .await;
    assert_eq!(status, 403);
    let owner = register
        .harness
        .token_for(chair, &[Role::CommitteeMember], Some(register.body));
    let (status, confirmed) = register
        .post(
            "/register/signers/proposed-1/confirmation",
            &owner,
            json!({}),
        )
        .await;
    assert_eq!(status, 200, "{confirmed}");
    assert_eq!(confirmed["status"], "active");
    assert_eq!(register.outbox("signer_key.activated").await, 2);

    // A protocol whose chair is not the key's owner is refused.
    let mut stranger = register.protocol(vec![(application, Outcome::Award)]);
    stranger.chair = "EE30411030851".into();
    let jws = kutse_protocol::sign(&stranger, &key, "proposed-1", "kutse-protocol").expect("sign");
    register.publish_protocol(jws).await;
    let (_, error) = register
        .parked("a protocol whose chair does not own the key")
        .await;
    assert!(error.contains("chair is not the owner"), "{error}");

    // The owner revokes it; what is signed from then on issues nothing, the key stays listed.
    let (status, revoked) = register
        .post(
            "/register/signers/proposed-1/revocation",
            &owner,
            json!({ "reason": "Võti kadunud" }),
        )
        .await;
    assert_eq!(status, 200, "{revoked}");
    let mut late = register.protocol(vec![(application, Outcome::Award)]);
    late.chair = chair.into();
    let jws = kutse_protocol::sign(&late, &key, "proposed-1", "kutse-protocol").expect("sign");
    register.publish_protocol(jws).await;
    let (_, error) = register.parked("a protocol signed after revocation").await;
    assert!(error.contains("revoked"), "{error}");
    // Backdating does not help: a revoked key signs nothing that arrives after the revocation.
    let mut backdated = register.protocol(vec![(application, Outcome::Award)]);
    backdated.chair = chair.into();
    backdated.signed_at = Utc::now() - chrono::Duration::days(30);
    let jws = kutse_protocol::sign(&backdated, &key, "proposed-1", "kutse-protocol").expect("sign");
    register.publish_protocol(jws).await;
    let (_, error) = register
        .parked("a backdated protocol under a revoked key")
        .await;
    assert!(error.contains("revoked"), "{error}");

    // A key proposed and revoked before its owner ever confirmed it signs nothing, whatever date.
    let never = SigningKey::generate(&mut rand_core::OsRng);
    let (status, _) = register
        .post(
            "/register/signers",
            &register.staff(),
            json!({ "kid": "never-confirmed", "awarding_body_id": register.body, "owner": chair,
                    "public_key": kutse_protocol::encode_key(&never.verifying_key()) }),
        )
        .await;
    assert_eq!(status, 201);
    let (status, _) = register
        .post(
            "/register/signers/never-confirmed/revocation",
            &owner,
            json!({ "reason": "Ei ole minu võti" }),
        )
        .await;
    assert_eq!(status, 200);
    let mut early = register.protocol(vec![(application, Outcome::Award)]);
    early.chair = chair.into();
    early.signed_at = Utc::now() - chrono::Duration::days(30);
    let jws =
        kutse_protocol::sign(&early, &never, "never-confirmed", "kutse-protocol").expect("sign");
    register.publish_protocol(jws).await;
    let (_, error) = register
        .parked("a protocol under a never-confirmed key")
        .await;
    assert!(error.contains("unknown key"), "{error}");

    // Whoever proposed a key cannot confirm it: a staff member naming themselves as owner.
    let (status, _) = register
        .post(
            "/register/signers",
            &register.staff(),
            json!({ "kid": "self-made", "awarding_body_id": register.body, "owner": "EE36805280109",
                    "public_key": kutse_protocol::encode_key(&never.verifying_key()) }),
        )
        .await;
    assert_eq!(status, 201);
    let staff_as_member = register.harness.token_for(
        "EE36805280109",
        &[Role::AwardingBodyStaff, Role::CommitteeMember],
        Some(register.body),
    );
    let (status, problem) = register
        .post(
            "/register/signers/self-made/confirmation",
            &staff_as_member,
            json!({}),
        )
        .await;
    assert_eq!(status, 403, "{problem}");
    assert_eq!(register.count("SELECT count(*) FROM certificates").await, 0);
    let (status, keys) = register
        .get(
            &format!("/register/signers?awarding_body_id={}", register.body),
            &register.staff(),
        )
        .await;
    assert_eq!(status, 200, "{keys}");
    let listed = keys
        .as_array()
        .expect("keys")
        .iter()
        .find(|k| k["kid"] == "proposed-1")
        .expect("revoked key listed");
    assert_eq!(listed["status"], "revoked");
    assert_eq!(listed["revocation_reason"], "Võti kadunud");
    assert_eq!(register.outbox("signer_key.revoked").await, 2);

    // The chair registered by the authority still issues.
    register
        .sign_and_publish(&register.protocol(vec![(application, Outcome::Award)]))
        .await;
    eventually(WAIT, "the certificate issued", || async {
        (register.count("SELECT count(*) FROM certificates").await == 1).then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn facts_are_first_write_wins_and_a_type_forged_under_another_routing_key_is_parked() {
    let register = Register::new().await;
    let application = Uuid::now_v7();
    let (submitted, decided) = register.facts(application, true);
    for event in [
        Envelope::new(&submitted, Some(application)).expect("e"),
        Envelope::new(&submitted, Some(application)).expect("e"),
        Envelope::new(&decided, Some(application)).expect("e"),
    ] {
        register.harness.publish(&event).await.expect("publish");
    }
    // A second submission naming another person is parked, not applied.
    let mut forged = submitted.clone();
    forged.applicant.isikukood = Isikukood::parse("38001085718").expect("code");
    forged.applicant.email = kutse_domain::Email::parse("attacker@example.com").expect("email");
    register
        .harness
        .publish(&Envelope::new(&forged, Some(application)).expect("e"))
        .await
        .expect("publish");
    let (reason, error) = register.parked("the different second submission").await;
    assert_eq!(reason, "rejected");
    assert!(error.contains("differs"), "{error}");

    // The same forgery under the routing key a pipeline may publish is parked unread.
    let envelope = Envelope::new(&forged, Some(application)).expect("e");
    let connection = kutse_testkit::broker().await.expect("broker");
    register
        .harness
        .publish_on(&connection, &envelope, "protocol.signed")
        .await
        .expect("published");
    let (reason, error) = register.parked("the misrouted submission").await;
    assert_eq!(reason, "misrouted");
    assert!(error.contains("protocol.signed"), "{error}");

    // Through an exchange of someone else's bound to the events exchange (which would carry any
    // routing key past the broker's topic permissions): parked too.
    let channel = connection.create_channel().await.expect("channel");
    let side = format!("{}.side-door", register.harness.prefix);
    channel
        .exchange_declare(
            side.as_str().into(),
            lapin::ExchangeKind::Fanout,
            lapin::options::ExchangeDeclareOptions {
                auto_delete: true,
                ..Default::default()
            },
            lapin::types::FieldTable::default(),
        )
        .await
        .expect("exchange");
    let events = register.harness.topology().exchange();
    channel
        .exchange_bind(
            events.as_str().into(),
            side.as_str().into(),
            "".into(),
            lapin::options::ExchangeBindOptions::default(),
            lapin::types::FieldTable::default(),
        )
        .await
        .expect("bind");
    let through_side = Envelope::new(&forged, Some(application)).expect("e");
    let body = through_side.to_bytes();
    kutse_messaging::Publisher::new(&connection)
        .await
        .expect("publisher")
        .publish(kutse_messaging::publisher::Outgoing {
            exchange: &side,
            routing_key: "application.submitted",
            body: &body,
            properties: kutse_messaging::publisher::properties(
                &through_side.id.to_string(),
                &through_side.message_type,
                &through_side.correlation_id.to_string(),
                "kutse-test",
                lapin::types::FieldTable::default(),
            ),
        })
        .await
        .expect("published");
    let (reason, error) = register.parked("the message through a side exchange").await;
    assert_eq!(reason, "misrouted");
    assert!(error.contains("side-door"), "{error}");

    // The certificate names the person of the first submission.
    register
        .sign_and_publish(&register.protocol(vec![(application, Outcome::Award)]))
        .await;
    eventually(WAIT, "the certificate issued", || async {
        (register.count("SELECT count(*) FROM certificates").await == 1).then_some(())
    })
    .await;
    assert_eq!(
        register
            .count("SELECT count(*) FROM certificates WHERE holder = '49403136526'")
            .await,
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn canonical_protocols_from_an_independent_implementation_are_accepted_and_others_refused() {
    // Payloads canonicalised by Trail of Bits' `rfc8785` (Python), see tests/fixtures.
    let fixtures: serde_json::Value =
        serde_json::from_str(include_str!("../../fixtures/canonical_protocols.json"))
            .expect("json");
    let body: Uuid = fixtures["body"]
        .as_str()
        .expect("body")
        .parse()
        .expect("uuid");
    let register = Register::for_body(body).await;
    let cases = fixtures["cases"].as_array().expect("cases");
    for case in cases {
        let payload: serde_json::Value =
            serde_json::from_str(case["payload"].as_str().expect("payload")).expect("json");
        let application: Uuid = payload["decisions"][0]["application_id"]
            .as_str()
            .expect("id")
            .parse()
            .expect("uuid");
        register.assessed(application, true).await;
    }
    let mut expected_rejections = 0;
    for case in cases {
        let name = case["name"].as_str().expect("name");
        let payload = case["payload"].as_str().expect("payload");
        let jws = kutse_protocol::sign_bytes(
            payload.as_bytes(),
            &register.chair,
            "chair-2026",
            "kutse-protocol",
        );
        let sent = register.publish_protocol(jws).await;
        let receipts = register.status_of(sent.id).await;
        if case["canonical"] == true {
            assert_eq!(receipts[0]["status"], "accepted", "{name}: {receipts}");
            assert_eq!(
                receipts[0]["issued"].as_array().map(Vec::len),
                Some(1),
                "{name}"
            );
        } else {
            expected_rejections += 1;
            assert_eq!(receipts[0]["status"], "rejected", "{name}: {receipts}");
            let reason = receipts[0]["reason"].as_str().unwrap_or_default();
            assert!(
                reason.contains("not RFC 8785 canonical"),
                "{name}: {reason}"
            );
        }
    }
    assert_eq!(
        register.outbox("protocol.rejected").await,
        expected_rejections
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_published_before_the_register_ever_ran_reach_it_when_it_starts() {
    // Another service starts first and declares the whole topology; the register has never run.
    let harness = Harness::new().expect("harness");
    let committee = harness.start("committee").await.expect("committee");
    kutse_tests::wait_ready(&committee).await;
    let body = Uuid::now_v7();
    let early = Register {
        harness,
        certificates: committee,
        body,
        chair: SigningKey::generate(&mut rand_core::OsRng),
    };
    let application = early.assessed_application(true).await;

    // Now the register starts for the first time, its chair's key is registered, and the protocol
    // arrives: the submission and decision published before it existed are there.
    let Register {
        harness,
        certificates: committee,
        body,
        chair,
    } = early;
    let certificates = harness.start("certificates").await.expect("certificates");
    let register = Register {
        harness,
        certificates,
        body,
        chair,
    };
    register.register_chair().await;
    register
        .sign_and_publish(&register.protocol(vec![(application, Outcome::Award)]))
        .await;
    eventually(WAIT, "the certificate issued", || async {
        (register.count("SELECT count(*) FROM certificates").await == 1).then_some(())
    })
    .await;
    committee.stop().await.expect("committee stops");
}

/// The management API of the local broker (guest over loopback).
async fn management(method: reqwest::Method, path: &str, body: serde_json::Value) {
    let response = reqwest::Client::new()
        .request(method, format!("http://127.0.0.1:15672/api{path}"))
        .basic_auth("guest", Some("guest"))
        .json(&body)
        .send()
        .await
        .expect("management API");
    assert!(
        response.status().is_success(),
        "{path}: {}",
        response.status()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_broker_itself_refuses_a_pipeline_that_publishes_anything_but_signed_protocols() {
    // The pipeline user of this test's topology, with the permissions the catalogue gives it.
    let register = Register::new().await;
    let topology = register.harness.topology();
    let user = kutse_messaging::authorisation::pipeline_user(&topology);
    let password = Uuid::now_v7().to_string();
    let name = user.name.clone();
    management(
        reqwest::Method::PUT,
        &format!("/users/{name}"),
        json!({ "password": password, "tags": "" }),
    )
    .await;
    management(
        reqwest::Method::PUT,
        &format!("/permissions/%2F/{name}"),
        json!({ "configure": user.configure, "write": user.write, "read": user.read }),
    )
    .await;
    management(
        reqwest::Method::PUT,
        &format!("/topic-permissions/%2F/{name}"),
        json!({ "exchange": topology.exchange(), "write": user.topic_write, "read": user.topic_read }),
    )
    .await;

    let url = format!("amqp://{name}:{password}@127.0.0.1:5672/%2f");
    let publish = |envelope: Envelope| {
        let url = url.clone();
        let harness = &register.harness;
        async move {
            let connection = kutse_messaging::connect(&url, "kutse-test-pipeline").await?;
            harness
                .publish_on(&connection, &envelope, envelope.routing_key())
                .await
        }
    };

    // A signed protocol goes through (and is answered by the register).
    let application = register.assessed_application(true).await;
    let protocol = register.protocol(vec![(application, Outcome::Award)]);
    let jws = kutse_protocol::sign(&protocol, &register.chair, "chair-2026", "kutse-protocol")
        .expect("sign");
    publish(Envelope::new(&ProtocolSigned { jws }, None).expect("e"))
        .await
        .expect("the pipeline may publish protocol.signed");
    assert_eq!(
        register.status_of(protocol.protocol_id).await[0]["status"],
        "accepted"
    );

    // An application.submitted is refused by RabbitMQ: the publish fails, nothing is routed.
    let (forged, _) = register.facts(Uuid::now_v7(), true);
    let refused = publish(Envelope::new(&forged, None).expect("e")).await;
    let error = format!("{:#}", refused.expect_err("the broker refuses it"));
    assert!(
        error.contains("ACCESS_REFUSED") || error.contains("403"),
        "{error}"
    );
    assert_eq!(
        register
            .count(
                "SELECT count(*) FROM messaging.inbox WHERE message_type = 'application.submitted'"
            )
            .await,
        1,
        "only the test's own submission arrived"
    );
    management(
        reqwest::Method::DELETE,
        &format!("/users/{name}"),
        json!({}),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_instances_sharing_a_database_and_a_mounted_key_verify_each_others_seals() {
    let register = Register::new().await;
    let second = register
        .harness
        .start_with(
            "certificates",
            &[("DATABASE_URL", register.certificates.db.url.as_str())],
        )
        .await
        .expect("second instance");
    let application = register.assessed_application(true).await;
    register
        .sign_and_publish(&register.protocol(vec![(application, Outcome::Award)]))
        .await;
    let number: String = eventually(WAIT, "the certificate issued", || async {
        sqlx::query_scalar("SELECT register_number FROM certificates")
            .fetch_optional(&register.certificates.db.pool)
            .await
            .expect("query")
    })
    .await;
    let http = reqwest::Client::new();
    for instance in [&register.certificates, &second] {
        let (status, verification) = call(
            &http,
            "GET",
            &format!("{}/certificates/{number}/verification", instance.url),
            "",
            None,
            None,
        )
        .await;
        assert_eq!(status, 200, "{verification}");
        assert_eq!(verification["valid"], true);
    }

    // Rotation: a new current key, the old one still published — old seals still verify.
    let rotated_key = register
        .harness
        .register_key_path()
        .with_file_name("register-key-2.pem");
    kutse_protocol::keys::generate_signing_key(&rotated_key).expect("new key");
    let old_key = register.harness.register_key_path();
    let rotated = register
        .harness
        .start_with(
            "certificates",
            &[
                ("DATABASE_URL", register.certificates.db.url.as_str()),
                (
                    "REGISTER_SIGNING_KEY_FILE",
                    &rotated_key.display().to_string(),
                ),
                (
                    "REGISTER_PUBLISHED_KEY_FILES",
                    &old_key.display().to_string(),
                ),
            ],
        )
        .await
        .expect("rotated instance");
    let (_, jwks) = call(
        &http,
        "GET",
        &format!("{}/register/jwks.json", rotated.url),
        "",
        None,
        None,
    )
    .await;
    assert_eq!(jwks["keys"].as_array().map(Vec::len), Some(2), "{jwks}");
    let (status, verification) = call(
        &http,
        "GET",
        &format!("{}/certificates/{number}/verification", rotated.url),
        "",
        None,
        None,
    )
    .await;
    assert_eq!(status, 200, "{verification}");

    // Outside development a missing key is an error at start, never a new key.
    let missing = register
        .harness
        .start_with(
            "certificates",
            &[
                ("REGISTER_SIGNING_KEY_GENERATE", "false"),
                ("REGISTER_SIGNING_KEY_FILE", "/nonexistent/register-key.pem"),
            ],
        )
        .await
        .expect_err("no key, no register");
    assert!(
        format!("{missing:#}").contains("REGISTER_SIGNING_KEY_FILE"),
        "{missing:#}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_an_upheld_appeal_reopens_a_refusal_so_that_a_later_protocol_may_award() {
    let register = Register::new().await;
    let f = register.assessed_application(true).await;
    let refusal = register.protocol(vec![(f, Outcome::Refuse)]);
    register.sign_and_publish(&refusal).await;
    assert_eq!(
        register.status_of(refusal.protocol_id).await[0]["status"],
        "accepted"
    );
    let (submitted, _) = register.facts(f, true);
    let resolution = |outcome: &str| kutse_messaging::catalogue::AppealResolved {
        appeal_id: Uuid::now_v7(),
        application_id: f,
        awarding_body_id: register.body,
        against: "committee".into(),
        outcome: outcome.into(),
        reasons: "Töötõendid jäid arvestamata".into(),
        resolved_at: Utc::now(),
        applicant: submitted.applicant.clone(),
        qualification: submitted.qualification.clone(),
    };
    // A dismissed appeal reopens nothing: an award is still refused.
    register
        .harness
        .publish(&Envelope::new(&resolution("dismissed"), Some(f)).expect("envelope"))
        .await
        .expect("publish");
    let award = register.protocol(vec![(f, Outcome::Award)]);
    register.sign_and_publish(&award).await;
    let (_, error) = register
        .parked("the award after a dismissed appeal parked")
        .await;
    assert!(
        error.contains("only an upheld appeal reopens it"),
        "{error}"
    );

    // Upheld: the panel decides anew (a decision differing from the first now stands) and the
    // committee's next protocol awards.
    register
        .harness
        .publish(&Envelope::new(&resolution("upheld"), Some(f)).expect("envelope"))
        .await
        .expect("publish");
    eventually(WAIT, "the upheld appeal recorded", || async {
        (register.count("SELECT count(*) FROM upheld_appeals").await == 1).then_some(())
    })
    .await;
    let (_, decided) = register.facts(f, true);
    register
        .harness
        .publish(&Envelope::new(&decided, Some(f)).expect("envelope"))
        .await
        .expect("publish");
    eventually(WAIT, "the new decision stored", || async {
        (register
            .count(&format!(
                "SELECT count(*) FROM applications WHERE decision ->> 'decided_at' = '{}'",
                decided
                    .decided_at
                    .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
            ))
            .await
            == 1)
            .then_some(())
    })
    .await;
    let award = register.protocol(vec![(f, Outcome::Award)]);
    register.sign_and_publish(&award).await;
    let receipts = register.status_of(award.protocol_id).await;
    assert_eq!(receipts[0]["status"], "accepted", "{receipts}");
    assert_eq!(receipts[0]["issued"][0]["application_id"], json!(f));
    assert_eq!(register.outbox("certificate.issued").await, 1);

    // Reopened and refused again, the applicant is told again.
    let g = register.assessed_application(true).await;
    register
        .sign_and_publish(&register.protocol(vec![(g, Outcome::Refuse)]))
        .await;
    eventually(WAIT, "g refused", || async {
        (register.outbox("application.refused").await == 2).then_some(())
    })
    .await;
    let upheld = kutse_messaging::catalogue::AppealResolved {
        application_id: g,
        ..resolution("upheld")
    };
    register
        .harness
        .publish(&Envelope::new(&upheld, Some(g)).expect("envelope"))
        .await
        .expect("publish");
    eventually(WAIT, "the second upheld appeal recorded", || async {
        (register.count("SELECT count(*) FROM upheld_appeals").await == 2).then_some(())
    })
    .await;
    let (_, decided) = register.facts(g, true);
    register
        .harness
        .publish(&Envelope::new(&decided, Some(g)).expect("envelope"))
        .await
        .expect("publish");
    eventually(WAIT, "g's new decision stored", || async {
        (register
            .count(&format!(
                "SELECT count(*) FROM applications WHERE decision ->> 'decided_at' = '{}'",
                decided
                    .decided_at
                    .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
            ))
            .await
            == 1)
            .then_some(())
    })
    .await;
    let again = register.protocol(vec![(g, Outcome::Refuse)]);
    register.sign_and_publish(&again).await;
    let receipts = register.status_of(again.protocol_id).await;
    assert_eq!(receipts[0]["status"], "accepted", "{receipts}");
    assert_eq!(register.outbox("application.refused").await, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_protocol_whose_session_had_no_quorum_or_too_many_votes_issues_nothing() {
    let register = Register::new().await;
    let a = register.assessed_application(true).await;
    let roster: Vec<String> = ["38001085718", "30411030851", "36805280109", "33105048161"]
        .iter()
        .map(|c| format!("EE{c}"))
        .collect();
    let mut protocol = register.protocol(vec![(a, Outcome::Award)]);
    protocol.roster = roster.clone();
    protocol.present = roster[..2].to_vec();
    register.sign_and_publish(&protocol).await;
    let (_, error) = register
        .parked("the protocol without a quorum parked")
        .await;
    assert!(
        error.contains("no quorum: 2 present of 4 members, 3 needed"),
        "{error}"
    );

    // With a quorum, an application cannot get more votes than members present and not recused.
    let mut protocol = register.protocol(vec![(a, Outcome::Award)]);
    protocol.roster = roster.clone();
    protocol.present = roster[..3].to_vec();
    protocol.decisions[0].recused = vec![roster[2].clone()];
    register.sign_and_publish(&protocol).await;
    let (_, error) = register
        .parked("the protocol with too many votes parked")
        .await;
    assert!(error.contains("5 votes cast by 2 members"), "{error}");
    assert_eq!(register.count("SELECT count(*) FROM certificates").await, 0);

    // A session that could decide is applied.
    let mut protocol = register.protocol(vec![(a, Outcome::Award)]);
    protocol.roster = roster.clone();
    protocol.present = roster[..3].to_vec();
    protocol.decisions[0].votes_for = 2;
    protocol.decisions[0].votes_against = 1;
    register.sign_and_publish(&protocol).await;
    let receipts = register.status_of(protocol.protocol_id).await;
    assert_eq!(receipts[0]["status"], "accepted", "{receipts}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recertification_succeeds_the_certificate_it_names_and_a_duplicate_is_issued_once_to_its_holder_only()
 {
    let register = Register::new().await;
    let publish = |envelope: Envelope| {
        let register = &register;
        async move { register.harness.publish(&envelope).await.expect("publish") }
    };
    let issue = |application: Uuid| {
        let register = &register;
        async move {
            let protocol = register.protocol(vec![(application, Outcome::Award)]);
            let jws =
                kutse_protocol::sign(&protocol, &register.chair, "chair-2026", "kutse-protocol")
                    .expect("sign");
            register.publish_protocol(jws).await;
            eventually(WAIT, "the certificate issued", || async {
                sqlx::query_scalar::<_, String>(
                    "SELECT register_number FROM certificates WHERE application_id = $1",
                )
                .bind(application)
                .fetch_optional(&register.certificates.db.pool)
                .await
                .ok()
                .flatten()
            })
            .await
        }
    };
    let verification = |number: String| {
        let register = &register;
        async move {
            register
                .get(&format!("/certificates/{number}/verification"), "")
                .await
                .1
        }
    };

    // The first certificate.
    let first = Uuid::now_v7();
    let (submitted, decided) = register.facts(first, true);
    let qualification = submitted.qualification.clone();
    publish(Envelope::new(&submitted, Some(first)).expect("e")).await;
    publish(Envelope::new(&decided, Some(first)).expect("e")).await;
    let old = issue(first).await;

    // A recertification of the same qualification names it: the new certificate succeeds it.
    let renewal = Uuid::now_v7();
    let (mut submitted, decided) = register.facts(renewal, true);
    submitted.kind = kutse_domain::ApplicationKind::Recertification;
    submitted.qualification = qualification.clone();
    submitted.certificate_number = Some(old.clone());
    publish(Envelope::new(&submitted, Some(renewal)).expect("e")).await;
    publish(Envelope::new(&decided, Some(renewal)).expect("e")).await;
    let new = issue(renewal).await;
    assert_ne!(new, old);
    let renewed = verification(new.clone()).await;
    assert_eq!(renewed["certificate"]["successor_of"], json!(old));
    let superseded = verification(old.clone()).await;
    assert_eq!(superseded["certificate"]["superseded_by"], json!(new));
    assert_eq!(
        superseded["certificate"]["status"], "valid",
        "still genuine"
    );
    let issued: serde_json::Value = sqlx::query_scalar(
        "SELECT convert_from(body, 'UTF8')::jsonb -> 'payload' FROM messaging.outbox
          WHERE message_type = 'certificate.issued' ORDER BY seq DESC LIMIT 1",
    )
    .fetch_one(&register.certificates.db.pool)
    .await
    .expect("certificate.issued");
    assert_eq!(issued["successor_of"], json!(old));

    // A recertification naming someone else's certificate stands alone.
    let other = Uuid::now_v7();
    let (mut submitted, decided) = register.facts(other, true);
    submitted.kind = kutse_domain::ApplicationKind::Recertification;
    submitted.qualification = qualification.clone();
    submitted.applicant.isikukood = Isikukood::parse("38001085718").expect("code");
    submitted.certificate_number = Some(new.clone());
    publish(Envelope::new(&submitted, Some(other)).expect("e")).await;
    publish(Envelope::new(&decided, Some(other)).expect("e")).await;
    let alone = issue(other).await;
    assert_eq!(
        verification(alone).await["certificate"]["successor_of"],
        json!(null)
    );
    assert_eq!(
        verification(new.clone()).await["certificate"]["superseded_by"],
        json!(null)
    );

    // So does one of the holder's own naming it for another qualification.
    let another = Uuid::now_v7();
    let (mut submitted, decided) = register.facts(another, true);
    submitted.kind = kutse_domain::ApplicationKind::Recertification;
    submitted.certificate_number = Some(new.clone());
    publish(Envelope::new(&submitted, Some(another)).expect("e")).await;
    publish(Envelope::new(&decided, Some(another)).expect("e")).await;
    let unrelated = issue(another).await;
    assert_eq!(
        verification(unrelated).await["certificate"]["successor_of"],
        json!(null)
    );
    assert_eq!(
        verification(new.clone()).await["certificate"]["superseded_by"],
        json!(null)
    );

    // A duplicate for someone else is parked and changes nothing.
    let duplicate = |holder: &str, reason: kutse_domain::DuplicateReason| {
        let application = Uuid::now_v7();
        let (mut submitted, _) = register.facts(application, true);
        submitted.kind = kutse_domain::ApplicationKind::Duplicate;
        submitted.qualification = qualification.clone();
        submitted.competences = vec![];
        submitted.applicant.isikukood = Isikukood::parse(holder).expect("code");
        submitted.applicant.family_name = "Mustikas".into();
        submitted.certificate_number = Some(new.clone());
        submitted.duplicate_reason = Some(reason);
        submitted
    };
    let theirs = duplicate("38001085718", kutse_domain::DuplicateReason::NameChanged);
    publish(Envelope::new(&theirs, Some(theirs.application_id)).expect("e")).await;
    let (_, error) = register.parked("someone else's duplicate parked").await;
    assert!(error.contains("is not the applicant's"), "{error}");
    assert_eq!(
        verification(new.clone()).await["certificate"]["holder"]["family_name"],
        "Maasikas"
    );

    // The holder's duplicate (lost: the name stays), delivered twice: one new edition.
    let lost = duplicate("49403136526", kutse_domain::DuplicateReason::Lost);
    let deliveries: Vec<Envelope> = (0..2)
        .map(|_| Envelope::new(&lost, Some(lost.application_id)).expect("e"))
        .collect();
    let ids: Vec<Uuid> = deliveries.iter().map(|e| e.id).collect();
    for envelope in deliveries {
        publish(envelope).await;
    }
    // Both deliveries handled before anything is counted.
    eventually(WAIT, "both deliveries handled", || async {
        let handled: i64 =
            sqlx::query_scalar("SELECT count(*) FROM messaging.inbox WHERE message_id = ANY($1)")
                .bind(&ids)
                .fetch_one(&register.certificates.db.pool)
                .await
                .ok()?;
        (handled == 2).then_some(())
    })
    .await;
    let shown = eventually(WAIT, "the duplicate issued", || async {
        let v = verification(new.clone()).await;
        (v["certificate"]["duplicate"]["edition"] == 2).then_some(v)
    })
    .await;
    assert_eq!(shown["certificate"]["duplicate"]["reason"], "lost");
    assert_eq!(shown["certificate"]["holder"]["family_name"], "Maasikas");
    assert_eq!(shown["valid"], true, "the new edition's seal verifies");
    assert_eq!(
        register
            .count(
                "SELECT count(*) FROM messaging.outbox WHERE message_type = 'certificate.reissued'"
            )
            .await,
        1
    );
    assert_eq!(
        register
            .count("SELECT count(*) FROM certificate_editions")
            .await,
        1
    );
}
