//! intake's API as a portal uses it: bodies, qualifications, rounds, applications, submission.

use std::collections::HashSet;

use chrono::{Days, Utc};
use kutse_auth::Role;
use kutse_auth::access::Grant;
use kutse_tests::{Harness, Running};
use serde_json::{Value, json};
use sqlx::Row;
use uuid::Uuid;

const MARI: &str = "EE49403136526";
const JAAN: &str = "EE38001085718";
const WAIT: std::time::Duration = std::time::Duration::from_secs(20);

async fn outbox_count(portal: &Portal, message_type: &str) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM messaging.outbox WHERE message_type = $1")
        .bind(message_type)
        .fetch_one(&portal.intake.db.pool)
        .await
        .expect("count")
}

struct Portal {
    intake: Running,
    http: reqwest::Client,
    /// Last, so the services stop before their broker topology is deleted.
    harness: Harness,
}

impl Portal {
    async fn new() -> Self {
        let harness = Harness::new().expect("harness");
        let intake = harness.start("intake").await.expect("intake");
        Self {
            harness,
            intake,
            http: reqwest::Client::new(),
        }
    }

    fn token(&self, subject: &str, roles: &[Role], body: Option<Uuid>) -> String {
        self.harness.token(&Grant {
            subject: subject.to_owned(),
            roles: roles.to_vec(),
            awarding_body_id: body,
            given_name: Some("Mari".into()),
            family_name: Some("Maasikas".into()),
            email: Some("mari@example.com".into()),
            ttl_seconds: 600,
            ..Grant::default()
        })
    }

    async fn send(
        &self,
        method: &str,
        path: &str,
        token: &str,
        body: Option<&str>,
        key: Option<&str>,
    ) -> (u16, Value) {
        let url = format!("{}{path}", self.intake.url);
        kutse_tests::call(&self.http, method, &url, token, body, key).await
    }

    async fn post(&self, path: &str, token: &str, body: &Value) -> (u16, Value) {
        self.send("POST", path, token, Some(&body.to_string()), None)
            .await
    }

    /// An awarding body with a qualification (juuksur, tase 4) and a round.
    async fn round(&self, round: Value) -> (Uuid, String, Value) {
        let authority = self.token("EE37605030299", &[Role::Authority], None);
        let (status, body) = self
            .post(
                "/awarding-bodies",
                &authority,
                &json!({ "name": "Eesti Juuksurite Ühendus" }),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        let body_id: Uuid = body["id"].as_str().expect("id").parse().expect("uuid");
        let staff = self.token("EE36805280109", &[Role::AwardingBodyStaff], Some(body_id));
        let (status, qualification) = self
            .post(
                "/qualifications",
                &staff,
                &json!({
                    "awarding_body_id": body_id, "name": "Juuksur, tase 4", "level": 4,
                    "competences": [
                        { "code": "B.2.1", "name": "Juuste lõikamine" },
                        { "code": "B.2.2", "name": "Juuste värvimine" }
                    ]
                }),
            )
            .await;
        assert_eq!(status, 201, "{qualification}");
        let mut round = round;
        round["qualification_id"] = qualification["id"].clone();
        let (status, round) = self.post("/rounds", &staff, &round).await;
        assert_eq!(status, 201, "{round}");
        (body_id, staff, round)
    }
}

fn open_round() -> Value {
    json!({
        "deadline": (Utc::now().date_naive() + Days::new(30)).to_string(),
        "fees": [ { "kind": "initial", "amount_cents": 17000 }, { "kind": "prior_learning", "amount_cents": 17000 } ],
        "delivery_options": [ { "option": "electronic" }, { "option": "post", "cost_cents": 500 } ]
    })
}

fn application(round: &Value) -> Value {
    json!({ "round_id": round["id"], "kind": "prior_learning", "delivery_option": "electronic" })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_applicant_creates_and_submits_an_application_once_the_fee_is_confirmed() {
    let portal = Portal::new().await;
    let (_, staff, round) = portal.round(open_round()).await;
    let mari = portal.token(MARI, &[], None);

    // Created once, even when the portal retries with the same Idempotency-Key.
    let body = application(&round).to_string();
    let (status, first) = portal
        .send("POST", "/applications", &mari, Some(&body), Some("k-1"))
        .await;
    assert_eq!(status, 201, "{first}");
    let (status, again) = portal
        .send("POST", "/applications", &mari, Some(&body), Some("k-1"))
        .await;
    assert_eq!(status, 201);
    assert_eq!(again["id"], first["id"]);
    assert_eq!(first["competences"], json!(["B.2.1", "B.2.2"]));
    let id = first["id"].as_str().expect("id").to_owned();
    let count: i64 = sqlx::query("SELECT count(*) FROM applications")
        .fetch_one(&portal.intake.db.pool)
        .await
        .expect("count")
        .get(0);
    assert_eq!(count, 1);

    // A payment proof uploaded by the applicant does not stand in for the body's confirmation.
    kutse_tests::wait_ready(&portal.intake).await;
    let proof = kutse_messaging::catalogue::DocumentStored {
        document_id: Uuid::now_v7(),
        application_id: id.parse().expect("uuid"),
        owner: kutse_domain::Isikukood::from_subject(MARI).expect("code"),
        document_type: kutse_domain::DocumentType::parse("payment_proof").expect("type"),
        sha256: "0".repeat(64),
        size_bytes: 10,
        dvvk: kutse_domain::Dvvk::FileExchange,
        uploaded_at: Some(chrono::Utc::now()),
        request_id: None,
    };
    portal
        .harness
        .publish(&kutse_messaging::Envelope::new(&proof, None).expect("envelope"))
        .await
        .expect("publish");
    kutse_testkit::eventually(WAIT, "intake records the payment proof", || async {
        let (_, app) = portal
            .send("GET", &format!("/applications/{id}"), &mari, None, None)
            .await;
        (app["documents"][0]["document_type"] == "payment_proof").then_some(())
    })
    .await;

    // Submitted before the fee is confirmed: it waits, and nothing is processed yet.
    let (status, waiting) = portal
        .send(
            "POST",
            &format!("/applications/{id}/submit"),
            &mari,
            None,
            None,
        )
        .await;
    assert_eq!(status, 200, "{waiting}");
    assert_eq!(waiting["status"], "awaiting_fee");
    assert_eq!(outbox_count(&portal, "application.submitted").await, 0);
    // Only the applicant's receipt follows: it waits for the fee.
    assert_eq!(outbox_count(&portal, "application.awaiting_fee").await, 1);

    let (status, submitted) = portal
        .send(
            "POST",
            &format!("/applications/{id}/fee-confirmation"),
            &staff,
            None,
            None,
        )
        .await;
    assert_eq!(status, 200, "{submitted}");
    assert_eq!(submitted["status"], "submitted");
    let events: Vec<&str> = submitted["history"]
        .as_array()
        .expect("history")
        .iter()
        .filter_map(|h| h["event"].as_str())
        .collect();
    assert_eq!(
        events,
        vec!["created", "document_stored", "submitted", "fee_confirmed"]
    );
    // The applicant's history names the role and the body, never the staff member's code.
    let (_, seen_by_mari) = portal
        .send("GET", &format!("/applications/{id}"), &mari, None, None)
        .await;
    let history = seen_by_mari["history"].to_string();
    assert!(!history.contains("36805280109"), "{history}");
    assert!(history.contains("awarding_body_staff"), "{history}");
    assert_eq!(outbox_count(&portal, "application.submitted").await, 1);
    assert_eq!(outbox_count(&portal, "application.awaiting_fee").await, 1);

    // The event left with the state change, with everything later steps need.
    let row = sqlx::query("SELECT message_type, body FROM messaging.outbox WHERE message_type = 'application.submitted'")
        .fetch_one(&portal.intake.db.pool)
        .await
        .expect("outbox row");
    assert_eq!(
        row.get::<String, _>("message_type"),
        "application.submitted"
    );
    let envelope: Value = serde_json::from_slice(&row.get::<Vec<u8>, _>("body")).expect("envelope");
    assert_eq!(envelope["payload"]["applicant"]["isikukood"], "49403136526");
    assert_eq!(
        envelope["payload"]["competences"][1]["name"],
        "Juuste värvimine"
    );
    assert_eq!(envelope["payload"]["dvvk"], 323);
    assert_eq!(envelope["correlation_id"], id.as_str());

    // Submitting twice is a conflict, not a second event.
    let (status, _) = portal
        .send(
            "POST",
            &format!("/applications/{id}/submit"),
            &mari,
            None,
            None,
        )
        .await;
    assert_eq!(status, 409);

    // A document uploaded after the applicant submitted is noted, not counted.
    let late = kutse_messaging::catalogue::DocumentStored {
        document_id: Uuid::now_v7(),
        uploaded_at: Some(chrono::Utc::now()),
        request_id: None,
        ..proof
    };
    portal
        .harness
        .publish(&kutse_messaging::Envelope::new(&late, None).expect("envelope"))
        .await
        .expect("publish");
    let app = kutse_testkit::eventually(WAIT, "intake notes the late document", || async {
        let (_, app) = portal
            .send("GET", &format!("/applications/{id}"), &mari, None, None)
            .await;
        app["history"]
            .as_array()?
            .iter()
            .any(|h| h["event"] == "document_after_submission")
            .then_some(app)
    })
    .await;
    assert_eq!(app["documents"].as_array().map(Vec::len), Some(1), "{app}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_awarded_application_stays_awarded_when_a_contradicting_refusal_arrives() {
    let portal = Portal::new().await;
    let (_, staff, round) = portal.round(open_round()).await;
    let mari = portal.token(MARI, &[], None);
    let (_, app) = portal
        .post("/applications", &mari, &application(&round))
        .await;
    let id = app["id"].as_str().expect("id").to_owned();
    let path = format!("/applications/{id}");
    portal
        .send(
            "POST",
            &format!("{path}/fee-confirmation"),
            &staff,
            None,
            None,
        )
        .await;
    let (status, _) = portal
        .send("POST", &format!("{path}/submit"), &mari, None, None)
        .await;
    assert_eq!(status, 200);
    kutse_tests::wait_ready(&portal.intake).await;

    let application_id: Uuid = id.parse().expect("uuid");
    let (_, envelope) = sqlx::query_as::<_, (String, Vec<u8>)>(
        "SELECT message_type, body FROM messaging.outbox WHERE message_type = 'application.submitted'",
    )
    .fetch_one(&portal.intake.db.pool)
    .await
    .expect("submitted event");
    let submitted: kutse_messaging::Envelope =
        kutse_messaging::Envelope::from_bytes(&envelope).expect("envelope");
    let submitted: kutse_messaging::catalogue::ApplicationSubmitted =
        submitted.decode().expect("payload");
    let issued = kutse_messaging::catalogue::CertificateIssued {
        certificate_id: Uuid::now_v7(),
        register_number: "KT-2026-000042".into(),
        application_id,
        holder: submitted.applicant.clone(),
        qualification: submitted.qualification.clone(),
        competences: submitted.competences.clone(),
        issued_on: Utc::now().date_naive(),
        valid_until: Utc::now().date_naive(),
        verification_url: "http://example.org".into(),
        successor_of: None,
    };
    let refused = kutse_messaging::catalogue::ApplicationRefused {
        application_id,
        protocol_id: Uuid::now_v7(),
        applicant: submitted.applicant.clone(),
        qualification: submitted.qualification.clone(),
        justification: "Teine protokoll".into(),
        competences_not_accepted: Vec::new(),
    };
    for envelope in [
        kutse_messaging::Envelope::new(&issued, None).expect("e"),
        kutse_messaging::Envelope::new(&refused, None).expect("e"),
    ] {
        portal.harness.publish(&envelope).await.expect("publish");
    }
    let parked = kutse_testkit::eventually(WAIT, "the contradicting refusal parked", || async {
        portal.harness.take_parked("intake").await.expect("get")
    })
    .await;
    let error = kutse_messaging::headers::string(
        parked.delivery.properties.headers().as_ref(),
        kutse_messaging::headers::ERROR,
    )
    .unwrap_or_default();
    assert!(
        error.contains("awarded and may not become refused"),
        "{error}"
    );
    let (_, app) = portal.send("GET", &path, &mari, None, None).await;
    assert_eq!(app["status"], "awarded", "{app}");
    let events: Vec<&str> = app["history"]
        .as_array()
        .expect("history")
        .iter()
        .filter_map(|h| h["event"].as_str())
        .collect();
    assert!(!events.contains(&"refused"), "{events:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nobody_but_the_applicant_and_the_bodys_staff_can_read_an_application() {
    let portal = Portal::new().await;
    let (_, staff, round) = portal.round(open_round()).await;
    let mari = portal.token(MARI, &[], None);
    let (_, created) = portal
        .post("/applications", &mari, &application(&round))
        .await;
    let path = format!("/applications/{}", created["id"].as_str().expect("id"));

    let jaan = portal.token(JAAN, &[], None);
    let other_staff = portal.token(
        "EE36805280109",
        &[Role::AwardingBodyStaff],
        Some(Uuid::now_v7()),
    );
    assert_eq!(portal.send("GET", &path, &mari, None, None).await.0, 200);
    assert_eq!(portal.send("GET", &path, &staff, None, None).await.0, 200);
    assert_eq!(portal.send("GET", &path, &jaan, None, None).await.0, 404);
    assert_eq!(
        portal.send("GET", &path, &other_staff, None, None).await.0,
        404
    );
    // Jaan cannot submit Mari's application, nor can other staff confirm its fee.
    assert_eq!(
        portal
            .send("POST", &format!("{path}/submit"), &jaan, None, None)
            .await
            .0,
        404
    );
    assert_eq!(
        portal
            .send(
                "POST",
                &format!("{path}/fee-confirmation"),
                &other_staff,
                None,
                None
            )
            .await
            .0,
        404
    );
    // Staff of the body may not submit for the applicant.
    assert_eq!(
        portal
            .send("POST", &format!("{path}/submit"), &staff, None, None)
            .await
            .0,
        403
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn submission_is_refused_when_the_round_is_closed_past_its_deadline_or_documents_are_missing()
{
    let portal = Portal::new().await;
    let mari = portal.token(MARI, &[], None);

    // Required document missing.
    let mut with_docs = open_round();
    with_docs["required_documents"] = json!(["cv", "employment_proof"]);
    let (_, staff, round) = portal.round(with_docs).await;
    let (_, app) = portal
        .post("/applications", &mari, &application(&round))
        .await;
    let id = app["id"].as_str().expect("id").to_owned();
    portal
        .send(
            "POST",
            &format!("/applications/{id}/fee-confirmation"),
            &staff,
            None,
            None,
        )
        .await;
    let (status, problem) = portal
        .send(
            "POST",
            &format!("/applications/{id}/submit"),
            &mari,
            None,
            None,
        )
        .await;
    assert_eq!(status, 422);
    assert_eq!(
        problem["type"],
        "https://kutse.ee/problems/documents-missing"
    );
    let fields = kutse_tests::problem_fields(&problem);
    assert_eq!(fields, vec!["documents.cv", "documents.employment_proof"]);

    // Closed round.
    let (_, staff, round) = portal.round(open_round()).await;
    let (_, app) = portal
        .post("/applications", &mari, &application(&round))
        .await;
    let id = app["id"].as_str().expect("id").to_owned();
    portal
        .send(
            "POST",
            &format!("/applications/{id}/fee-confirmation"),
            &staff,
            None,
            None,
        )
        .await;
    let round_id = round["id"].as_str().expect("id");
    assert_eq!(
        portal
            .send(
                "POST",
                &format!("/rounds/{round_id}/close"),
                &staff,
                None,
                None
            )
            .await
            .0,
        200
    );
    let (status, problem) = portal
        .send(
            "POST",
            &format!("/applications/{id}/submit"),
            &mari,
            None,
            None,
        )
        .await;
    assert_eq!(status, 422);
    assert_eq!(problem["type"], "https://kutse.ee/problems/round-closed");

    // Past its deadline.
    let mut past = open_round();
    past["deadline"] = json!((Utc::now().date_naive() - Days::new(1)).to_string());
    let (_, staff, round) = portal.round(past).await;
    let (_, app) = portal
        .post("/applications", &mari, &application(&round))
        .await;
    let id = app["id"].as_str().expect("id").to_owned();
    portal
        .send(
            "POST",
            &format!("/applications/{id}/fee-confirmation"),
            &staff,
            None,
            None,
        )
        .await;
    let (status, problem) = portal
        .send(
            "POST",
            &format!("/applications/{id}/submit"),
            &mari,
            None,
            None,
        )
        .await;
    assert_eq!(status, 422);
    assert_eq!(problem["type"], "https://kutse.ee/problems/deadline-passed");

    // None of these left an event behind.
    let events: i64 = sqlx::query(
        "SELECT count(*) FROM messaging.outbox WHERE message_type = 'application.submitted'",
    )
    .fetch_one(&portal.intake.db.pool)
    .await
    .expect("count")
    .get(0);
    assert_eq!(events, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_a_problem_naming_the_field_and_writes_nothing() {
    let portal = Portal::new().await;
    let (body_id, staff, round) = portal.round(open_round()).await;
    let mari = portal.token(MARI, &[], None);
    let qualification = round["qualification_id"].clone();
    let bad_code = portal.harness.token(&Grant {
        subject: "EE49403136527".into(),
        ttl_seconds: 600,
        ..Grant::default()
    });

    // (what, path, token, body, status, field at fault)
    type Case<'a> = (&'a str, &'a str, String, String, u16, Option<&'a str>);
    let cases: Vec<Case> = vec![
        ("malformed JSON", "/applications", mari.clone(), "{".into(), 400, None),
        ("missing field", "/applications", mari.clone(), json!({ "round_id": round["id"], "kind": "initial" }).to_string(), 422, Some("delivery_option")),
        ("unknown kind", "/applications", mari.clone(), json!({ "round_id": round["id"], "kind": "bribe", "delivery_option": "post" }).to_string(), 422, Some("kind")),
        ("unknown round", "/applications", mari.clone(), json!({ "round_id": Uuid::now_v7(), "kind": "initial", "delivery_option": "post" }).to_string(), 422, Some("round_id")),
        ("unknown competence", "/applications", mari.clone(), json!({ "round_id": round["id"], "kind": "initial", "delivery_option": "post", "competences": ["Z.9"] }).to_string(), 422, Some("competences[0]")),
        ("delivery not offered", "/applications", mari.clone(), json!({ "round_id": round["id"], "kind": "initial", "delivery_option": "pickup" }).to_string(), 422, Some("delivery_option")),
        ("invalid isikukood in the token", "/applications", bad_code, application(&round).to_string(), 401, None),
        ("round without delivery options", "/rounds", staff.clone(), json!({ "qualification_id": qualification, "deadline": "2030-01-31", "fees": [{ "kind": "initial", "amount_cents": 100 }], "delivery_options": [] }).to_string(), 422, Some("delivery_options")),
        ("negative fee", "/rounds", staff.clone(), json!({ "qualification_id": qualification, "deadline": "2030-01-31", "fees": [{ "kind": "initial", "amount_cents": -1 }], "delivery_options": [{ "option": "post" }] }).to_string(), 422, Some("fees[0].amount_cents")),
        ("a kind of file no one knows", "/rounds", staff.clone(), json!({ "qualification_id": qualification, "deadline": "2030-01-31", "fees": [{ "kind": "initial", "amount_cents": 100 }], "allowed_types": { "cv": ["pdf", "exe"] }, "delivery_options": [{ "option": "post" }] }).to_string(), 422, Some("allowed_types.cv[1]")),
        ("impossible date", "/rounds", staff.clone(), json!({ "qualification_id": qualification, "deadline": "2030-02-30", "fees": [], "delivery_options": [] }).to_string(), 422, Some("deadline")),
        ("qualification without competences", "/qualifications", staff.clone(), json!({ "awarding_body_id": body_id, "name": "X", "level": 9, "competences": [] }).to_string(), 422, Some("level")),
    ];
    let before = counts(&portal).await;
    for (name, path, token, body, status, field) in cases {
        let (got, problem) = portal.send("POST", path, &token, Some(&body), None).await;
        assert_eq!(got, status, "{name}: {problem}");
        assert!(
            problem["status"].as_u64() == Some(u64::from(status)),
            "{name}: not a problem document: {problem}"
        );
        if let Some(field) = field {
            let fields = kutse_tests::problem_fields(&problem);
            assert!(fields.contains(&field), "{name}: {fields:?}");
        }
    }
    assert_eq!(counts(&portal).await, before, "no partial rows");
    assert_eq!(
        portal
            .send("GET", "/applications/not-a-uuid", &mari, None, None)
            .await
            .0,
        404
    );
    assert_eq!(
        portal
            .send(
                "GET",
                &format!("/applications/{}", Uuid::now_v7()),
                &mari,
                None,
                None
            )
            .await
            .0,
        404
    );
}

async fn counts(portal: &Portal) -> Vec<i64> {
    let mut out = Vec::new();
    for table in [
        "applications",
        "application_history",
        "rounds",
        "round_fees",
        "round_delivery_options",
        "qualifications",
        "competences",
    ] {
        out.push(
            sqlx::query(sqlx::AssertSqlSafe(format!("SELECT count(*) FROM {table}")))
                .fetch_one(&portal.intake.db.pool)
                .await
                .expect("count")
                .get(0),
        );
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_create_replays_its_first_answer_for_a_repeated_idempotency_key() {
    let portal = Portal::new().await;
    let (_, staff, round) = portal.round(open_round()).await;
    let mut again = open_round();
    again["qualification_id"] = round["qualification_id"].clone();
    let body = again.to_string();
    let (first_status, first) = portal
        .send("POST", "/rounds", &staff, Some(&body), Some("round-1"))
        .await;
    let (second_status, second) = portal
        .send("POST", "/rounds", &staff, Some(&body), Some("round-1"))
        .await;
    assert_eq!((first_status, second_status), (201, 201));
    assert_eq!(first["id"], second["id"]);
    let rounds: i64 = sqlx::query("SELECT count(*) FROM rounds")
        .fetch_one(&portal.intake.db.pool)
        .await
        .expect("count")
        .get(0);
    assert_eq!(rounds, 2, "the fixture's round and one more");

    // The same key with another body is a client error, not a silent replay.
    again["deadline"] = json!("2031-01-31");
    let (status, problem) = portal
        .send(
            "POST",
            "/rounds",
            &staff,
            Some(&again.to_string()),
            Some("round-1"),
        )
        .await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(problem["errors"][0]["field"], "Idempotency-Key");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_has_a_desk_address_that_the_authority_and_its_administrators_set_and_submissions_carry()
 {
    let portal = Portal::new().await;
    let authority = portal.token("EE37605030299", &[Role::Authority], None);
    let (status, problem) = portal
        .post(
            "/awarding-bodies",
            &authority,
            &json!({ "name": "Eesti Juuksurite Ühendus", "email": "not an address" }),
        )
        .await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(problem["errors"][0]["field"], "email");
    let (body_id, staff, round) = portal.round(open_round()).await;
    let path = format!("/awarding-bodies/{body_id}");
    let change = |token: String, email: Value| {
        let path = path.clone();
        let portal = &portal;
        async move {
            portal
                .send(
                    "PATCH",
                    &path,
                    &token,
                    Some(&json!({ "email": email }).to_string()),
                    None,
                )
                .await
        }
    };
    let (status, _) = change(staff.clone(), json!("desk@example.ee")).await;
    assert_eq!(status, 403, "staff do not change it");
    // The field is required: leaving it out does not remove the address.
    let (status, _) = portal
        .send("PATCH", &path, &authority, Some("{}"), None)
        .await;
    assert!((400..500).contains(&status), "{status}");
    let admin = portal.token("EE48704147433", &[Role::BodyAdministrator], Some(body_id));
    let (status, body) = change(admin, json!("kantselei@juuksurid.ee")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["email"], "kantselei@juuksurid.ee");
    let (status, body) = portal.send("GET", &path, &staff, None, None).await;
    assert_eq!(
        (status, &body["email"]),
        (200, &json!("kantselei@juuksurid.ee"))
    );

    // A submission carries it to the services that write to the body.
    let mari = portal.token(MARI, &[], None);
    let (status, app) = portal
        .post("/applications", &mari, &application(&round))
        .await;
    assert_eq!(status, 201, "{app}");
    let id = app["id"].as_str().expect("id").to_owned();
    kutse_tests::wait_ready(&portal.intake).await;
    let proof = kutse_messaging::catalogue::DocumentStored {
        document_id: Uuid::now_v7(),
        application_id: id.parse().expect("uuid"),
        owner: kutse_domain::Isikukood::from_subject(MARI).expect("code"),
        document_type: kutse_domain::DocumentType::parse("payment_proof").expect("type"),
        sha256: "0".repeat(64),
        size_bytes: 10,
        dvvk: kutse_domain::Dvvk::FileExchange,
        uploaded_at: Some(chrono::Utc::now()),
        request_id: None,
    };
    portal
        .harness
        .publish(&kutse_messaging::Envelope::new(&proof, None).expect("envelope"))
        .await
        .expect("publish");
    kutse_testkit::eventually(WAIT, "intake records the payment proof", || async {
        let (_, app) = portal
            .send("GET", &format!("/applications/{id}"), &mari, None, None)
            .await;
        (app["documents"][0]["document_type"] == "payment_proof").then_some(())
    })
    .await;
    let (status, _) = portal
        .send(
            "POST",
            &format!("/applications/{id}/submit"),
            &mari,
            None,
            None,
        )
        .await;
    assert_eq!(status, 200);
    let (status, submitted) = portal
        .send(
            "POST",
            &format!("/applications/{id}/fee-confirmation"),
            &staff,
            None,
            None,
        )
        .await;
    assert_eq!(status, 200, "{submitted}");
    assert_eq!(submitted["status"], "submitted");
    let carried: Option<String> = sqlx::query_scalar(
        "SELECT convert_from(body, 'UTF8')::jsonb -> 'payload' ->> 'awarding_body_email'
           FROM messaging.outbox WHERE message_type = 'application.submitted'",
    )
    .fetch_one(&portal.intake.db.pool)
    .await
    .expect("the submission");
    assert_eq!(carried.as_deref(), Some("kantselei@juuksurid.ee"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_applicant_follows_requests_and_appeals_in_the_history_and_only_an_upheld_appeal_reopens_a_refusal()
 {
    let portal = Portal::new().await;
    let (_, staff, round) = portal.round(open_round()).await;
    let mari = portal.token(MARI, &[], None);
    let (_, app) = portal
        .post("/applications", &mari, &application(&round))
        .await;
    let id = app["id"].as_str().expect("id").to_owned();
    let path = format!("/applications/{id}");
    portal
        .send(
            "POST",
            &format!("{path}/fee-confirmation"),
            &staff,
            None,
            None,
        )
        .await;
    let (status, _) = portal
        .send("POST", &format!("{path}/submit"), &mari, None, None)
        .await;
    assert_eq!(status, 200);
    kutse_tests::wait_ready(&portal.intake).await;
    let application_id: Uuid = id.parse().expect("uuid");
    let (_, envelope) = sqlx::query_as::<_, (String, Vec<u8>)>(
        "SELECT message_type, body FROM messaging.outbox WHERE message_type = 'application.submitted'",
    )
    .fetch_one(&portal.intake.db.pool)
    .await
    .expect("submitted event");
    let submitted: kutse_messaging::catalogue::ApplicationSubmitted =
        kutse_messaging::Envelope::from_bytes(&envelope)
            .expect("envelope")
            .decode()
            .expect("payload");
    let today = kutse_domain::tallinn_today();
    let request = Uuid::now_v7();
    let requested = kutse_messaging::catalogue::DocumentsRequested {
        request_id: request,
        application_id,
        awarding_body_id: submitted.awarding_body_id,
        applicant: submitted.applicant.clone(),
        qualification: submitted.qualification.clone(),
        documents: vec![kutse_messaging::catalogue::RequestedDocument {
            document_type: kutse_domain::DocumentType::parse("employment_proof").expect("type"),
            description: "Tööandja tõend".into(),
        }],
        reason: "Töökogemus tõendamata".into(),
        due_on: today + Days::new(7),
        requested_at: Utc::now(),
    };
    let closed = kutse_messaging::catalogue::RequestClosed {
        request_id: request,
        application_id,
        outcome: "answered".into(),
        closed_on: today,
        extension_working_days: 0,
        review_due: today,
        decision_due: today,
    };
    let refused = kutse_messaging::catalogue::ApplicationRefused {
        application_id,
        protocol_id: Uuid::now_v7(),
        applicant: submitted.applicant.clone(),
        qualification: submitted.qualification.clone(),
        justification: "B.2.2 tõendamata".into(),
        competences_not_accepted: Vec::new(),
    };
    let appeal = Uuid::now_v7();
    let lodged = kutse_messaging::catalogue::AppealLodged {
        appeal_id: appeal,
        application_id,
        awarding_body_id: submitted.awarding_body_id,
        against: "committee".into(),
        reasons: "Tõendid olid olemas".into(),
        documents: vec![],
        lodged_at: Utc::now(),
        applicant: submitted.applicant.clone(),
        qualification: submitted.qualification.clone(),
        awarding_body_email: None,
    };
    let resolved = |outcome: &str| kutse_messaging::catalogue::AppealResolved {
        appeal_id: appeal,
        application_id,
        awarding_body_id: submitted.awarding_body_id,
        against: "committee".into(),
        outcome: outcome.into(),
        reasons: "Tõendid on asjakohased".into(),
        resolved_at: Utc::now(),
        applicant: submitted.applicant.clone(),
        qualification: submitted.qualification.clone(),
    };
    let publish = |envelope: kutse_messaging::Envelope| {
        let portal = &portal;
        async move { portal.harness.publish(&envelope).await.expect("publish") }
    };
    publish(kutse_messaging::Envelope::new(&requested, None).expect("e")).await;
    publish(kutse_messaging::Envelope::new(&closed, None).expect("e")).await;
    publish(kutse_messaging::Envelope::new(&refused, None).expect("e")).await;
    let status_of = || async {
        let (_, app) = portal.send("GET", &path, &mari, None, None).await;
        app
    };
    kutse_testkit::eventually(WAIT, "refused", || async {
        (status_of().await["status"] == "refused").then_some(())
    })
    .await;
    // A dismissed appeal leaves the refusal; an upheld one reopens the application.
    publish(kutse_messaging::Envelope::new(&lodged, None).expect("e")).await;
    publish(kutse_messaging::Envelope::new(&resolved("dismissed"), None).expect("e")).await;
    kutse_testkit::eventually(WAIT, "the dismissal in the history", || async {
        let app = status_of().await;
        app["history"]
            .as_array()
            .is_some_and(|h| h.iter().any(|e| e["event"] == "appeal_resolved"))
            .then_some(())
    })
    .await;
    assert_eq!(status_of().await["status"], "refused");
    publish(kutse_messaging::Envelope::new(&resolved("upheld"), None).expect("e")).await;
    let app = kutse_testkit::eventually(WAIT, "reopened", || async {
        let app = status_of().await;
        (app["status"] == "submitted").then_some(app)
    })
    .await;
    let events: Vec<&str> = app["history"]
        .as_array()
        .expect("history")
        .iter()
        .filter_map(|h| h["event"].as_str())
        .collect();
    assert_eq!(
        events[events.len() - 6..],
        [
            "documents_requested",
            "request_closed",
            "refused",
            "appeal_lodged",
            "appeal_resolved",
            "appeal_resolved"
        ],
        "{events:?}"
    );
    let requested_entry = &app["history"][events.len() - 6];
    assert_eq!(requested_entry["detail"]["reason"], "Töökogemus tõendamata");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partner_applies_on_a_persons_behalf_sees_only_its_own_and_the_person_confirms_before_submission()
 {
    let portal = Portal::new().await;
    let (body, staff, round) = portal.round(open_round()).await;
    let admin = portal.token("EE48704147433", &[Role::BodyAdministrator], Some(body));
    let partner_token = |code: &str, person: &str| {
        portal.harness.token(&Grant {
            subject: person.to_owned(),
            roles: vec![Role::Partner],
            awarding_body_id: Some(body),
            partner: Some(code.to_owned()),
            ttl_seconds: 600,
            ..Grant::default()
        })
    };
    let school = partner_token("12345678", "EE38001085718");
    let other = partner_token("87654321", "EE30411030851");
    let college = partner_token("11223344", "EE33105048161");
    // The body authorises the school and the college for this round; the other partner only for
    // another one.
    for (code, round_id) in [
        ("12345678", round["id"].clone()),
        ("87654321", json!(Uuid::now_v7())),
        ("11223344", round["id"].clone()),
    ] {
        let (status, answer) = portal
            .post(
                &format!("/awarding-bodies/{body}/partners"),
                &admin,
                &json!({ "registry_code": code, "name": "Kool", "round_id": round_id }),
            )
            .await;
        assert_eq!(status, 201, "{answer}");
    }
    let on_behalf = json!({
        "round_id": round["id"], "kind": "prior_learning", "delivery_option": "electronic",
        "on_behalf_of": MARI, "given_name": "Mari", "family_name": "Maasikas",
        "email": "mari@example.com",
    });
    let (status, _) = portal.post("/applications", &other, &on_behalf).await;
    assert_eq!(status, 403, "not authorised for this round");
    let mari = portal.token(MARI, &[], None);
    let (status, _) = portal.post("/applications", &mari, &on_behalf).await;
    assert_eq!(status, 403, "only partners apply on someone's behalf");
    let (status, app) = portal.post("/applications", &school, &on_behalf).await;
    assert_eq!(status, 201, "{app}");
    assert_eq!(app["partner_code"], "12345678");
    let id = app["id"].as_str().expect("id").to_owned();
    let path = format!("/applications/{id}");

    // The college, authorised for the same round, applies for Jaan.
    let mut for_jaan = on_behalf.clone();
    for_jaan["on_behalf_of"] = json!(JAAN);
    for_jaan["given_name"] = json!("Jaan");
    let (status, jaans) = portal.post("/applications", &college, &for_jaan).await;
    assert_eq!(status, 201, "{jaans}");

    // The school and Mari see Mari's; neither the other partner nor the college, authorised for
    // the same round, does. Each partner lists only what it created.
    let (status, seen) = portal.send("GET", &path, &school, None, None).await;
    assert_eq!(status, 200, "{seen}");
    // Its history begins with its creation by the partner, as the creation's answer said.
    assert_eq!(
        seen["history"][0],
        json!({ "at": app["created_at"], "event": "created",
                "detail": { "by": "partner", "partner_code": "12345678" } }),
        "{seen}"
    );
    assert_eq!(seen["history"], app["history"], "{seen}");
    assert_eq!(portal.send("GET", &path, &mari, None, None).await.0, 200);
    assert_eq!(portal.send("GET", &path, &other, None, None).await.0, 404);
    assert_eq!(portal.send("GET", &path, &college, None, None).await.0, 404);
    let listed = |token: String| {
        let portal = &portal;
        async move {
            let (status, list) = portal
                .send("GET", "/partner/applications", &token, None, None)
                .await;
            assert_eq!(status, 200, "{list}");
            list.as_array()
                .expect("list")
                .iter()
                .filter_map(|a| a["id"].as_str().map(str::to_owned))
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(listed(school.clone()).await, std::slice::from_ref(&id));
    assert_eq!(
        listed(college.clone()).await,
        [jaans["id"].as_str().expect("id").to_owned()]
    );
    assert_eq!(
        portal
            .send("GET", "/partner/applications", &mari, None, None)
            .await
            .0,
        403,
        "not a partner"
    );

    // Not submitted until Mari confirms it with her own login.
    portal
        .send(
            "POST",
            &format!("{path}/fee-confirmation"),
            &staff,
            None,
            None,
        )
        .await;
    let (status, problem) = portal
        .send("POST", &format!("{path}/submit"), &school, None, None)
        .await;
    assert_eq!(status, 422, "{problem}");
    assert!(problem.to_string().contains("not-confirmed"), "{problem}");
    let (status, _) = portal
        .send("POST", &format!("{path}/confirmation"), &school, None, None)
        .await;
    assert_eq!(status, 404, "the partner cannot confirm for her");
    let (status, confirmed) = portal
        .send("POST", &format!("{path}/confirmation"), &mari, None, None)
        .await;
    assert_eq!(status, 200, "{confirmed}");
    assert!(confirmed["confirmed_at"].is_string());
    let (status, submitted) = portal
        .send("POST", &format!("{path}/submit"), &school, None, None)
        .await;
    assert_eq!(status, 200, "{submitted}");
    assert_eq!(submitted["status"], "submitted");
    // Mari's own list shows it, made by the school for her.
    let (status, mine) = portal
        .send("GET", "/me/applications", &mari, None, None)
        .await;
    assert_eq!(status, 200, "{mine}");
    assert_eq!(mine[0]["id"], json!(id));
    assert_eq!(mine[0]["partner_code"], "12345678");

    // Withdrawn, the school neither applies nor reads any more.
    let (status, _) = portal
        .post(
            &format!("/awarding-bodies/{body}/partners/12345678/withdrawal"),
            &admin,
            &json!({ "reason": "Leping lõppes" }),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(portal.send("GET", &path, &school, None, None).await.0, 404);
    assert!(listed(school.clone()).await.is_empty());
    let (status, _) = portal.post("/applications", &school, &on_behalf).await;
    assert_eq!(status, 403);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bodys_desk_lists_filters_counts_and_exports_its_applications_and_manages_its_rounds() {
    let portal = Portal::new().await;
    let (body, staff, round) = portal.round(open_round()).await;
    let round_id = round["id"].as_str().expect("id").to_owned();
    // Three applicants: one submitted, one awaiting the fee, one still a draft.
    let mut ids = Vec::new();
    for (who, submit, pay) in [
        (MARI, true, true),
        (JAAN, true, false),
        ("EE48704147433", false, false),
    ] {
        let token = portal.token(who, &[], None);
        let (status, app) = portal
            .post("/applications", &token, &application(&round))
            .await;
        assert_eq!(status, 201, "{app}");
        let id = app["id"].as_str().expect("id").to_owned();
        if pay {
            portal
                .send(
                    "POST",
                    &format!("/applications/{id}/fee-confirmation"),
                    &staff,
                    None,
                    None,
                )
                .await;
        }
        if submit {
            let (status, _) = portal
                .send(
                    "POST",
                    &format!("/applications/{id}/submit"),
                    &token,
                    None,
                    None,
                )
                .await;
            assert_eq!(status, 200);
        }
        ids.push(id);
    }
    let desk = |query: &str| {
        let path = format!("/desk/applications?awarding_body_id={body}{query}");
        let portal = &portal;
        let staff = staff.clone();
        async move { portal.send("GET", &path, &staff, None, None).await }
    };
    let (status, page) = desk("&per_page=2").await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["total"], 3);
    assert_eq!(page["applications"].as_array().map(Vec::len), Some(2));
    assert_eq!(
        page["counts"],
        json!({ "awaiting_fee": 1, "draft": 1, "submitted": 1 })
    );
    let (_, second) = desk("&per_page=2&page=2").await;
    assert_eq!(second["applications"].as_array().map(Vec::len), Some(1));
    let (_, submitted) = desk("&status=submitted").await;
    assert_eq!(submitted["applications"][0]["id"], json!(ids[0]));
    let (_, waiting) = desk(&format!("&fee_waiting=true&round_id={round_id}")).await;
    assert_eq!(waiting["total"], 2, "{waiting}");
    let (_, by_kind) = desk("&kind=prior_learning").await;
    assert_eq!(by_kind["total"], 3, "{by_kind}");
    let (_, by_kind) = desk("&kind=initial").await;
    assert_eq!(by_kind["total"], 0, "{by_kind}");
    for (query, field) in [
        ("&status=approved", "status"),
        ("&per_page=500", "per_page"),
    ] {
        let (status, problem) = desk(query).await;
        assert_eq!(
            (status, &problem["errors"][0]["field"]),
            (422, &json!(field)),
            "{problem}"
        );
    }
    let other = portal.token(
        "EE36805280109",
        &[Role::AwardingBodyStaff],
        Some(Uuid::now_v7()),
    );
    let (status, _) = portal
        .send(
            "GET",
            &format!("/desk/applications?awarding_body_id={body}"),
            &other,
            None,
            None,
        )
        .await;
    assert_eq!(status, 403);

    // The assessment sweep's finding marks the submitted application overdue.
    kutse_tests::wait_ready(&portal.intake).await;
    let overdue = kutse_messaging::catalogue::AssessmentOverdue {
        application_id: ids[0].parse().expect("uuid"),
        awarding_body_id: body,
        clock: "review".into(),
        due: kutse_domain::tallinn_today(),
        found_on: kutse_domain::tallinn_today(),
    };
    portal
        .harness
        .publish(&kutse_messaging::Envelope::new(&overdue, None).expect("e"))
        .await
        .expect("publish");
    let overdue =
        kutse_testkit::eventually(WAIT, "the overdue application on the desk", || async {
            let (_, page) = desk("&overdue=true").await;
            (page["total"] == 1).then_some(page)
        })
        .await;
    assert_eq!(overdue["applications"][0]["overdue"], true);
    // A request for documents that closed since moved the clock: no longer overdue (the sweep
    // raises it again if it is still overdue at its new day).
    let today = kutse_domain::tallinn_today();
    let closed = kutse_messaging::catalogue::RequestClosed {
        request_id: Uuid::now_v7(),
        application_id: ids[0].parse().expect("uuid"),
        outcome: "answered".into(),
        closed_on: today,
        extension_working_days: 5,
        review_due: today + chrono::Days::new(7),
        decision_due: today + chrono::Days::new(21),
    };
    portal
        .harness
        .publish(&kutse_messaging::Envelope::new(&closed, None).expect("e"))
        .await
        .expect("publish");
    kutse_testkit::eventually(WAIT, "the moved clock off the overdue list", || async {
        let (_, page) = desk("&overdue=true").await;
        (page["total"] == 0).then_some(())
    })
    .await;
    let (_, submitted) = desk("&status=submitted").await;
    assert_eq!(
        submitted["applications"][0]["overdue"], false,
        "{submitted}"
    );

    // The same as CSV.
    let response = reqwest::Client::new()
        .get(format!(
            "{}/desk/applications.csv?awarding_body_id={body}",
            portal.intake.url
        ))
        .bearer_auth(&staff)
        .send()
        .await
        .expect("csv");
    assert!(
        response.headers()["content-type"]
            .to_str()
            .is_ok_and(|t| t.starts_with("text/csv"))
    );
    let csv = response.text().await.expect("text");
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 4, "{csv}");
    assert!(lines[0].starts_with("id,round_id,applicant,status"));
    assert!(csv.contains("Mari Maasikas"), "{csv}");

    // Rounds: listed with their applications; changed only before the first one; what they
    // publish is readable without logging in.
    let (_, rounds) = portal
        .send(
            "GET",
            &format!("/rounds?awarding_body_id={body}"),
            &staff,
            None,
            None,
        )
        .await;
    assert_eq!(rounds[0]["applications"], 3, "{rounds}");
    let (status, _) = portal
        .send(
            "PATCH",
            &format!("/rounds/{round_id}"),
            &staff,
            Some(&json!({ "prerequisites": "Kutseharidus" }).to_string()),
            None,
        )
        .await;
    assert_eq!(status, 409, "it has applications");
    let mut fresh = open_round();
    fresh["qualification_id"] = round["qualification_id"].clone();
    let (status, fresh) = portal.post("/rounds", &staff, &fresh).await;
    assert_eq!(status, 201, "{fresh}");
    let fresh_id = fresh["id"].as_str().expect("id").to_owned();
    let change = |body: Value| {
        let path = format!("/rounds/{fresh_id}");
        let portal = &portal;
        let staff = staff.clone();
        async move {
            portal
                .send("PATCH", &path, &staff, Some(&body.to_string()), None)
                .await
        }
    };
    let (status, problem) = change(json!({ "info_url": "http://example.ee" })).await;
    assert_eq!(
        (status, &problem["errors"][0]["field"]),
        (422, &json!("info_url"))
    );
    let (status, changed) = change(json!({
        "info_url": "https://juuksurid.example/voor-2027",
        "prerequisites": "Vähemalt kolm aastat töökogemust"
    }))
    .await;
    assert_eq!(status, 200, "{changed}");
    let response = reqwest::get(format!("{}/public/rounds/{fresh_id}", portal.intake.url))
        .await
        .expect("public");
    assert_eq!(response.status(), 200);
    let published: Value = response.json().await.expect("json");
    assert_eq!(published["info_url"], "https://juuksurid.example/voor-2027");
    assert_eq!(
        published["prerequisites"],
        "Vähemalt kolm aastat töökogemust"
    );
    assert_eq!(published["qualification"]["name"], "Juuksur, tase 4");
    assert!(published["fees"].as_array().is_some_and(|f| !f.is_empty()));
    // Closed, it changes no more.
    let (status, _) = portal
        .send(
            "POST",
            &format!("/rounds/{fresh_id}/close"),
            &staff,
            None,
            None,
        )
        .await;
    assert_eq!(status, 200);
    let (status, problem) = change(json!({ "prerequisites": "Muu" })).await;
    assert_eq!(status, 409, "{problem}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_holder_orders_a_paper_print_and_the_body_works_through_its_print_queue() {
    let portal = Portal::new().await;
    let (body, staff, round) = portal.round(open_round()).await;
    let mari = portal.token(MARI, &[], None);
    let (_, app) = portal
        .post("/applications", &mari, &application(&round))
        .await;
    let id = app["id"].as_str().expect("id").to_owned();
    let path = format!("/applications/{id}");
    portal
        .send(
            "POST",
            &format!("{path}/fee-confirmation"),
            &staff,
            None,
            None,
        )
        .await;
    portal
        .send("POST", &format!("{path}/submit"), &mari, None, None)
        .await;
    let order = |token: String, body: Value| {
        let path = format!("{path}/print-orders");
        let portal = &portal;
        async move { portal.post(&path, &token, &body).await }
    };
    let (status, _) = order(mari.clone(), json!({ "delivery_option": "pickup" })).await;
    assert_eq!(status, 409, "no certificate yet");

    // The certificate is issued (as the register announces it).
    kutse_tests::wait_ready(&portal.intake).await;
    let (_, envelope) = sqlx::query_as::<_, (String, Vec<u8>)>(
        "SELECT message_type, body FROM messaging.outbox WHERE message_type = 'application.submitted'",
    )
    .fetch_one(&portal.intake.db.pool)
    .await
    .expect("submitted event");
    let submitted: kutse_messaging::catalogue::ApplicationSubmitted =
        kutse_messaging::Envelope::from_bytes(&envelope)
            .expect("envelope")
            .decode()
            .expect("payload");
    let issued = kutse_messaging::catalogue::CertificateIssued {
        certificate_id: Uuid::now_v7(),
        register_number: "KT-2026-000042".into(),
        application_id: id.parse().expect("uuid"),
        holder: submitted.applicant.clone(),
        qualification: submitted.qualification.clone(),
        competences: submitted.competences.clone(),
        issued_on: Utc::now().date_naive(),
        valid_until: Utc::now().date_naive(),
        verification_url: "http://example.org".into(),
        successor_of: None,
    };
    portal
        .harness
        .publish(&kutse_messaging::Envelope::new(&issued, None).expect("e"))
        .await
        .expect("publish");
    kutse_testkit::eventually(WAIT, "awarded", || async {
        let (_, app) = portal.send("GET", &path, &mari, None, None).await;
        (app["status"] == "awarded").then_some(())
    })
    .await;

    // Only the holder orders; a print is posted (with an address) or picked up, at the round's
    // cost for it.
    let stranger = portal.token(JAAN, &[], None);
    let (status, _) = order(stranger, json!({ "delivery_option": "pickup" })).await;
    assert_eq!(status, 404);
    let (status, problem) = order(mari.clone(), json!({ "delivery_option": "electronic" })).await;
    assert_eq!(
        (status, &problem["errors"][0]["field"]),
        (422, &json!("delivery_option"))
    );
    let (status, problem) = order(mari.clone(), json!({ "delivery_option": "post" })).await;
    assert_eq!(
        (status, &problem["errors"][0]["field"]),
        (422, &json!("address"))
    );
    let (status, problem) = order(mari.clone(), json!({ "delivery_option": "pickup" })).await;
    assert_eq!(
        (status, &problem["errors"][0]["field"]),
        (422, &json!("delivery_option")),
        "the round offers no pickup"
    );
    let (status, ordered) = order(
        mari.clone(),
        json!({ "delivery_option": "post", "address": "Pärnu mnt 1, 10141 Tallinn" }),
    )
    .await;
    assert_eq!(status, 201, "{ordered}");
    assert_eq!(ordered["cost_cents"], 500);
    assert_eq!(ordered["register_number"], "KT-2026-000042");

    // The body's queue; marked sent, it leaves the queue and the history counts a paper sending.
    let queue_path = format!("/desk/print-queue?awarding_body_id={body}");
    let (_, queue) = portal.send("GET", &queue_path, &staff, None, None).await;
    assert_eq!(queue.as_array().map(Vec::len), Some(1), "{queue}");
    let order_id = ordered["id"].as_str().expect("id");
    let (status, sent) = portal
        .send(
            "POST",
            &format!("/print-orders/{order_id}/sent"),
            &staff,
            None,
            None,
        )
        .await;
    assert_eq!(status, 200, "{sent}");
    let (status, _) = portal
        .send(
            "POST",
            &format!("/print-orders/{order_id}/sent"),
            &staff,
            None,
            None,
        )
        .await;
    assert_eq!(status, 409);
    let (_, queue) = portal.send("GET", &queue_path, &staff, None, None).await;
    assert_eq!(queue, json!([]));
    let (_, app) = portal.send("GET", &path, &mari, None, None).await;
    let sent_entry = app["history"]
        .as_array()
        .expect("history")
        .iter()
        .find(|h| h["event"] == "print_sent")
        .expect("print_sent in the history")
        .clone();
    assert_eq!(sent_entry["detail"]["dvvk"], 2);
}

/// Valid personal codes (`EE…` subjects) of women born on 1994-03-13, one per serial number.
fn applicants(n: usize) -> Vec<String> {
    (0..1000)
        .filter_map(|serial| {
            (0..10)
                .map(|check| format!("4940313{serial:03}{check}"))
                .find_map(|code| kutse_domain::Isikukood::parse(&code).ok())
        })
        .map(|code| code.to_subject())
        .take(n)
        .collect()
}

/// Creations that arrive together are written together (the group commit,
/// `kutse_intake::http::creations`), and each is answered as if it had come alone: the refused
/// with their own fields, a retry with its first answer, a database error only to the request
/// that caused it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn applications_created_together_are_each_answered_as_if_alone() {
    let portal = Portal::new().await;
    let (_, staff, round) = portal.round(open_round()).await;
    // A database fault that only one request's row sets off, as a constraint would.
    sqlx::raw_sql(
        "CREATE FUNCTION refuse_viga() RETURNS trigger LANGUAGE plpgsql AS
             $$ BEGIN RAISE EXCEPTION 'a fault for the test'; END $$;
         CREATE TRIGGER refuse_viga BEFORE INSERT ON applications FOR EACH ROW
             WHEN (NEW.family_name = 'Viga') EXECUTE FUNCTION refuse_viga();",
    )
    .execute(&portal.intake.db.pool)
    .await
    .expect("trigger");

    // What each request is, and what it must be answered.
    #[derive(Clone, Copy, Debug, PartialEq)]
    enum Kind {
        Valid,
        NoRound,
        NotACompetence,
        Faulty,
        Keyed(usize),
    }
    let people = applicants(60);
    let mut requests = Vec::new();
    for (i, person) in people.iter().enumerate() {
        let mut body = application(&round);
        let kind = match i % 10 {
            1 => {
                body["round_id"] = json!(Uuid::now_v7());
                Kind::NoRound
            }
            2 => {
                body["competences"] = json!(["B.2.1", "X.9"]);
                Kind::NotACompetence
            }
            // Sent twice at once with the same key: a portal retrying before its first answer.
            3 | 4 => Kind::Keyed(i / 10),
            _ => Kind::Valid,
        };
        // A pair is one person's.
        let person = match kind {
            Kind::Keyed(pair) => &people[pair * 10 + 3],
            _ => person,
        };
        requests.push((kind, person.clone(), body));
    }
    let mut faulty = application(&round);
    faulty["family_name"] = json!("Viga");
    requests.push((Kind::Faulty, people[0].clone(), faulty));

    // Sends the requests all at once, a pair's with its key for the wave; answers each with
    // its request's kind.
    let send_all = |requests: Vec<(Kind, String, Value)>, wave: usize| {
        let mut sent = tokio::task::JoinSet::new();
        for (kind, person, body) in requests {
            let token = portal.token(&person, &[], None);
            let url = format!("{}/applications", portal.intake.url);
            let http = portal.http.clone();
            sent.spawn(async move {
                let key = match kind {
                    Kind::Keyed(pair) => Some(format!("wave-{wave}-pair-{pair}")),
                    _ => None,
                };
                let body = body.to_string();
                let answer =
                    kutse_tests::call(&http, "POST", &url, &token, Some(&body), key.as_deref())
                        .await;
                (kind, answer)
            });
        }
        sent.join_all()
    };
    let count = || async {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM applications")
            .fetch_one(&portal.intake.db.pool)
            .await
            .expect("count")
    };

    let mut waves = 0;
    let mut shared = 0;
    // Until some requests were seen to share a transaction (their rows then share a creation
    // time): that is almost always the first wave.
    while shared == 0 && waves < 5 {
        waves += 1;
        let before = count().await;
        let answers = send_all(requests.clone(), waves).await;
        let mut created = Vec::new();
        let mut pairs: std::collections::HashMap<usize, Vec<(u16, Value)>> = Default::default();
        for (kind, (status, body)) in answers {
            match kind {
                Kind::Valid => {
                    assert_eq!(status, 201, "{body}");
                    assert_eq!(body["history"][0]["event"], "created", "{body}");
                    assert_eq!(body["competences"], json!(["B.2.1", "B.2.2"]), "{body}");
                    created.push(body["id"].clone());
                }
                Kind::NoRound => {
                    assert_eq!(status, 422, "{body}");
                    assert_eq!(body["errors"][0]["field"], "round_id", "{body}");
                }
                Kind::NotACompetence => {
                    assert_eq!(status, 422, "{body}");
                    assert_eq!(body["errors"][0]["field"], "competences[1]", "{body}");
                }
                Kind::Faulty => assert_eq!(status, 500, "{body}"),
                Kind::Keyed(pair) => pairs.entry(pair).or_default().push((status, body)),
            }
        }
        for (pair, answers) in pairs {
            // The second of the pair replays the first's answer, or is told the first is still
            // running; never a second application.
            let ids: HashSet<&Value> = answers
                .iter()
                .filter(|(status, _)| *status == 201)
                .map(|(_, body)| &body["id"])
                .collect();
            assert_eq!(ids.len(), 1, "pair {pair}: {answers:?}");
            assert!(
                answers
                    .iter()
                    .all(|(status, _)| [201, 409].contains(status)),
                "pair {pair}: {answers:?}"
            );
            created.extend(ids.into_iter().cloned());
        }
        assert_eq!(created.len(), 6 * 6 + 6, "36 valid, 6 pairs");

        // Exactly the answered applications exist, each with its event.
        let rows: Vec<(Uuid, i64, i64)> = sqlx::query_as(
            "SELECT a.id,
                    cardinality(a.competences)::bigint,
                    (SELECT count(*) FROM messaging.outbox o
                      WHERE o.message_type = 'application.created'
                        AND convert_from(o.body, 'UTF8')::jsonb -> 'payload' ->> 'application_id' = a.id::text)
               FROM applications a ORDER BY a.id DESC LIMIT $1",
        )
        .bind(i64::try_from(created.len()).expect("count"))
        .fetch_all(&portal.intake.db.pool)
        .await
        .expect("rows");
        assert_eq!(
            count().await - before,
            i64::try_from(created.len()).expect("count")
        );
        let written: HashSet<String> = rows.iter().map(|(id, _, _)| id.to_string()).collect();
        let answered: HashSet<String> = created
            .iter()
            .map(|id| id.as_str().expect("id").to_owned())
            .collect();
        assert_eq!(written, answered);
        assert!(
            rows.iter()
                .all(|(_, competences, events)| (*competences, *events) == (2, 1)),
            "{rows:?}"
        );
        shared = sqlx::query_scalar::<_, i64>(
            "SELECT count(*) FROM (SELECT created_at FROM applications
                                    GROUP BY created_at HAVING count(*) > 1) s",
        )
        .fetch_one(&portal.intake.db.pool)
        .await
        .expect("shared");
    }
    assert!(
        shared > 0,
        "no two of {waves} waves' applications were written in one transaction"
    );

    // Retries of saved requests, each sent twice at once, all replay their first answer, even
    // now that the round is closed and a new request would be refused.
    let path = format!("/rounds/{}/close", round["id"].as_str().expect("id"));
    let (status, closed) = portal.post(&path, &staff, &json!({})).await;
    assert!((200..300).contains(&status), "{closed}");
    let keyed: Vec<_> = requests
        .into_iter()
        .filter(|(kind, _, _)| matches!(kind, Kind::Keyed(_)))
        .collect();
    for (_, (status, body)) in send_all(keyed, waves).await {
        assert_eq!(status, 201, "{body}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_application_checked_while_its_round_closes_is_refused_and_not_written() {
    let portal = Portal::new().await;
    let (_, _, round) = portal.round(open_round()).await;
    let pool = &portal.intake.db.pool;
    let round_id = Uuid::parse_str(round["id"].as_str().expect("id")).expect("uuid");

    // The round is closed in a transaction not yet committed: the creation's checks still see
    // it open, and its write must wait for the round.
    let mut closing = pool.begin().await.expect("begin");
    sqlx::query("UPDATE rounds SET closed_at = now() WHERE id = $1")
        .bind(round_id)
        .execute(&mut *closing)
        .await
        .expect("close");
    let person = applicants(1).remove(0);
    let token = portal.token(&person, &[], None);
    let (http, url) = (
        portal.http.clone(),
        format!("{}/applications", portal.intake.url),
    );
    let body = application(&round).to_string();
    let sent = tokio::spawn(async move {
        kutse_tests::call(&http, "POST", &url, &token, Some(&body), None).await
    });
    // Until the write waits on the round's lock.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let waiting: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity
              WHERE datname = current_database() AND wait_event_type = 'Lock'
                AND query LIKE '%INSERT INTO applications%'",
        )
        .fetch_one(pool)
        .await
        .expect("activity");
        if waiting > 0 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the creation never waited on the round"
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    closing.commit().await.expect("commit");

    let (status, body) = sent.await.expect("sent");
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["errors"][0]["field"], "round_id", "{body}");
    assert_eq!(
        body["errors"][0]["message"], "the round is closed",
        "{body}"
    );
    let written: (i64, i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM applications),
                (SELECT count(*) FROM application_history),
                (SELECT count(*) FROM messaging.outbox WHERE message_type = 'application.created')",
    )
    .fetch_one(pool)
    .await
    .expect("counts");
    assert_eq!(written, (0, 0, 0));
}

/// Intake keeps a round's facts once read (`http::creations`); the database refuses to change
/// them, and a round closed since they were read (here by another replica, straight in the
/// database) still gets no application.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rounds_facts_do_not_change_once_written_and_a_round_closed_since_they_were_read_takes_no_application()
 {
    let portal = Portal::new().await;
    let (_, _, round) = portal.round(open_round()).await;
    let pool = &portal.intake.db.pool;
    let round_id = Uuid::parse_str(round["id"].as_str().expect("id")).expect("uuid");
    let people = applicants(3);
    let portal = &portal;
    let apply = |person: &String| {
        let token = portal.token(person, &[], None);
        let body = application(&round);
        async move { portal.post("/applications", &token, &body).await }
    };
    // The first application reads the round's facts; intake keeps them. Its history begins
    // with its creation by the applicant, as the creation's answer said.
    let (status, first) = apply(&people[0]).await;
    assert_eq!(status, 201, "{first}");
    let token = portal.token(&people[0], &[], None);
    let path = format!("/applications/{}", first["id"].as_str().expect("id"));
    let (status, seen) = portal.send("GET", &path, &token, None, None).await;
    assert_eq!(status, 200, "{seen}");
    assert_eq!(
        seen["history"],
        json!([{ "at": first["created_at"], "event": "created", "detail": { "by": "applicant" } }]),
        "{seen}"
    );
    assert_eq!(seen["created_at"], first["created_at"], "{seen}");

    // Every fact an application is checked against is refused a change.
    let refused = [
        "UPDATE round_fees SET kind = 'recertification' WHERE round_id = $1 AND kind = 'initial'",
        "DELETE FROM round_delivery_options WHERE round_id = $1 AND option = 'post'",
        "INSERT INTO round_delivery_options (round_id, option, cost_cents) VALUES ($1, 'pickup', 0)",
        "INSERT INTO round_fees (round_id, kind, amount_cents) VALUES ($1, 'recertification', 1)",
        "UPDATE rounds SET allowed_types = '{\"cv\": [\"pdf\"]}' WHERE id = $1",
        "UPDATE rounds SET qualification_id = gen_random_uuid() WHERE id = $1",
        "UPDATE qualifications SET prior_learning_allowed = NOT prior_learning_allowed
          WHERE id = (SELECT qualification_id FROM rounds WHERE id = $1)",
        "DELETE FROM competences
          WHERE qualification_id = (SELECT qualification_id FROM rounds WHERE id = $1)",
        "UPDATE competences SET code = code || 'x'
          WHERE qualification_id = (SELECT qualification_id FROM rounds WHERE id = $1)",
        "INSERT INTO competences (qualification_id, code, name)
         SELECT qualification_id, 'Z.9', 'Later' FROM rounds WHERE id = $1",
    ];
    for statement in refused {
        let error = sqlx::query(sqlx::AssertSqlSafe(statement))
            .bind(round_id)
            .execute(pool)
            .await
            .expect_err(statement);
        assert!(
            error.to_string().contains("do not change once written"),
            "{statement}: {error}"
        );
    }
    // What may change does: the deadline, what the checks do not use (a fee's amount, an
    // option's cost, a competence's name), and the round's closing, once.
    for statement in [
        "UPDATE rounds SET deadline = deadline + 1 WHERE id = $1",
        "UPDATE round_fees SET amount_cents = amount_cents + 100 WHERE round_id = $1",
        "UPDATE round_delivery_options SET cost_cents = cost_cents + 1 WHERE round_id = $1",
        "UPDATE competences SET name = name || '.'
          WHERE qualification_id = (SELECT qualification_id FROM rounds WHERE id = $1)",
    ] {
        sqlx::query(sqlx::AssertSqlSafe(statement))
            .bind(round_id)
            .execute(pool)
            .await
            .expect(statement);
    }
    sqlx::query("UPDATE rounds SET closed_at = now() WHERE id = $1")
        .bind(round_id)
        .execute(pool)
        .await
        .expect("the round closes");
    let reopened = sqlx::query("UPDATE rounds SET closed_at = NULL WHERE id = $1")
        .bind(round_id)
        .execute(pool)
        .await
        .expect_err("a closed round stays closed");
    assert!(
        reopened.to_string().contains("do not change once written"),
        "{reopened}"
    );

    // Closed behind intake's back: the kept facts say open, the write finds it closed.
    for person in &people[1..] {
        let (status, body) = apply(person).await;
        assert_eq!(status, 422, "{body}");
        assert_eq!(body["errors"][0]["field"], "round_id", "{body}");
        assert_eq!(
            body["errors"][0]["message"], "the round is closed",
            "{body}"
        );
    }
    let written: (i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM applications),
                (SELECT count(*) FROM messaging.outbox WHERE message_type = 'application.created')",
    )
    .fetch_one(pool)
    .await
    .expect("counts");
    assert_eq!(written, (1, 1));
}

/// During a rolling deploy an intake older than the competences' array and the unstored
/// `created` entry still runs for a while, and writes applications its own way: they read as
/// today's do.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_application_an_older_intake_wrote_during_a_rolling_deploy_reads_as_todays_do() {
    let portal = Portal::new().await;
    let (body_id, _, round) = portal.round(open_round()).await;
    let pool = &portal.intake.db.pool;
    let person = applicants(1).remove(0);
    let id = Uuid::now_v7();
    let round_id = Uuid::parse_str(round["id"].as_str().expect("id")).expect("uuid");
    // As the older intake's statement did: the application, its competences in their own
    // table, and its first history entry stored.
    let mut tx = pool.begin().await.expect("begin");
    sqlx::query(
        "INSERT INTO applications (id, round_id, awarding_body_id, applicant, given_name,
                                   family_name, email, language, kind, delivery_option)
         VALUES ($1, $2, $3, $4, 'Mari', 'Maasikas', 'mari@example.com', 'et', 'prior_learning',
                 'electronic')",
    )
    .bind(id)
    .bind(round_id)
    .bind(body_id)
    .bind(person.trim_start_matches("EE"))
    .execute(&mut *tx)
    .await
    .expect("application");
    sqlx::query(
        "INSERT INTO application_competences (application_id, code)
         VALUES ($1, 'B.2.2'), ($1, 'B.2.1')",
    )
    .bind(id)
    .execute(&mut *tx)
    .await
    .expect("competences");
    sqlx::query(
        "INSERT INTO application_history (application_id, at, event, detail)
         SELECT id, created_at, 'created', '{\"by\": \"applicant\"}' FROM applications
          WHERE id = $1",
    )
    .bind(id)
    .execute(&mut *tx)
    .await
    .expect("history");
    tx.commit().await.expect("commit");

    let token = portal.token(&person, &[], None);
    let (status, seen) = portal
        .send("GET", &format!("/applications/{id}"), &token, None, None)
        .await;
    assert_eq!(status, 200, "{seen}");
    assert_eq!(seen["competences"], json!(["B.2.1", "B.2.2"]), "{seen}");
    assert_eq!(
        seen["history"],
        json!([{ "at": seen["created_at"], "event": "created", "detail": { "by": "applicant" } }]),
        "{seen}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_creation_that_meets_the_database_shutting_down_is_answered_503_and_not_written() {
    let portal = Portal::new().await;
    let (_, _, round) = portal.round(open_round()).await;
    let pool = &portal.intake.db.pool;
    // What PostgreSQL sends a running statement when it is shut down (SQLSTATE 57P01): the
    // database's trouble, not the request's, answered 503 so that the portal retries.
    sqlx::raw_sql(
        "CREATE FUNCTION shut_down() RETURNS trigger LANGUAGE plpgsql AS
             $$ BEGIN RAISE EXCEPTION 'shutting down' USING ERRCODE = 'admin_shutdown'; END $$;
         CREATE TRIGGER shut_down BEFORE INSERT ON applications FOR EACH ROW
             EXECUTE FUNCTION shut_down();",
    )
    .execute(pool)
    .await
    .expect("trigger");
    let person = applicants(1).remove(0);
    let token = portal.token(&person, &[], None);
    let url = format!("{}/applications", portal.intake.url);
    let body = application(&round).to_string();
    let (status, answer) =
        kutse_tests::call(&portal.http, "POST", &url, &token, Some(&body), None).await;
    assert_eq!(status, 503, "{answer}");
    let written: i64 = sqlx::query_scalar("SELECT count(*) FROM applications")
        .fetch_one(pool)
        .await
        .expect("count");
    assert_eq!(written, 0);
}
