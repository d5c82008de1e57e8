//! Bad input to the assessment, committee and register APIs: a 4xx problem document naming the
//! field, and nothing written. (intake's and documents' own cases are in their files.)

use kutse_auth::Role;
use kutse_tests::{Harness, Running, call};
use serde_json::{Value, json};
use uuid::Uuid;

fn token(h: &Harness, subject: &str, roles: &[Role], body: Option<Uuid>) -> String {
    h.token_for(subject, roles, body)
}

/// (what, method, path, token, body, expected status, field at fault)
type Case = (
    &'static str,
    &'static str,
    String,
    String,
    String,
    u16,
    Option<&'static str>,
);

async fn check(service: &Running, cases: Vec<Case>, tables: &[&str]) {
    let http = reqwest::Client::new();
    let before = counts(service, tables).await;
    for (what, method, path, token, body, status, field) in cases {
        let (got, problem) = call(
            &http,
            method,
            &format!("{}{path}", service.url),
            &token,
            Some(&body),
            None,
        )
        .await;
        assert_eq!(got, status, "{what}: {problem}");
        assert_eq!(
            problem["status"],
            json!(status),
            "{what}: not a problem document: {problem}"
        );
        if let Some(field) = field {
            let fields = kutse_tests::problem_fields(&problem);
            assert!(fields.contains(&field), "{what}: {problem}");
        }
    }
    assert_eq!(counts(service, tables).await, before, "no partial rows");
}

async fn counts(service: &Running, tables: &[&str]) -> Vec<i64> {
    let mut out = Vec::new();
    for table in tables {
        let n: i64 =
            sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT count(*) FROM {table}")))
                .fetch_one(&service.db.pool)
                .await
                .expect("count");
        out.push(n);
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn assessment_committee_and_register_refuse_bad_input_by_field() {
    let h = Harness::new().expect("harness");
    let body = Uuid::now_v7();
    let assessor = token(&h, "EE33105048161", &[Role::Assessor], Some(body));
    let staff = token(&h, "EE36805280109", &[Role::AwardingBodyStaff], Some(body));
    let member = token(&h, "EE30411030851", &[Role::CommitteeMember], Some(body));
    let unknown = Uuid::now_v7();

    let assessment = h.start("assessment").await.expect("assessment");
    check(
        &assessment,
        vec![
            (
                "malformed JSON",
                "PUT",
                format!("/assessments/{unknown}/competences/B.1"),
                assessor.clone(),
                "{".into(),
                400,
                None,
            ),
            (
                "unknown case",
                "PUT",
                format!("/assessments/{unknown}/competences/B.1"),
                assessor.clone(),
                json!({ "accepted": true, "justification": "x" }).to_string(),
                404,
                None,
            ),
            (
                "not a uuid",
                "POST",
                "/assessments/nope/decision".into(),
                assessor.clone(),
                "{}".into(),
                404,
                None,
            ),
            (
                "no token",
                "POST",
                format!("/assessments/{unknown}/decision"),
                String::new(),
                "{}".into(),
                401,
                None,
            ),
        ],
        &["cases", "competence_decisions"],
    )
    .await;

    let committee = h.start("committee").await.expect("committee");
    check(
        &committee,
        vec![
            (
                "missing field",
                "POST",
                "/sessions".into(),
                staff.clone(),
                json!({ "round_id": unknown }).to_string(),
                422,
                Some("awarding_body_id"),
            ),
            (
                "not a uuid",
                "POST",
                "/sessions".into(),
                staff.clone(),
                json!({ "round_id": "x", "awarding_body_id": body }).to_string(),
                422,
                Some("round_id"),
            ),
            (
                "nothing to decide",
                "POST",
                "/sessions".into(),
                staff.clone(),
                json!({ "round_id": unknown, "awarding_body_id": body }).to_string(),
                422,
                Some("round_id"),
            ),
            (
                "another body's staff",
                "POST",
                "/sessions".into(),
                staff.clone(),
                json!({ "round_id": unknown, "awarding_body_id": Uuid::now_v7() }).to_string(),
                403,
                None,
            ),
            (
                "unknown session",
                "POST",
                format!("/sessions/{unknown}/votes"),
                member.clone(),
                json!({ "application_id": unknown, "in_favour": true }).to_string(),
                404,
                None,
            ),
            (
                "unknown field",
                "POST",
                format!("/sessions/{unknown}/votes"),
                member.clone(),
                json!({ "application_id": unknown, "in_favour": true, "weight": 2 }).to_string(),
                422,
                Some("weight"),
            ),
            (
                "vote not a boolean",
                "POST",
                format!("/sessions/{unknown}/votes"),
                member.clone(),
                json!({ "application_id": unknown, "in_favour": "yes" }).to_string(),
                422,
                Some("in_favour"),
            ),
        ],
        &["sessions", "votes", "agenda_items", "messaging.outbox"],
    )
    .await;

    let certificates = h.start("certificates").await.expect("certificates");
    let key = kutse_protocol::encode_key(
        &ed25519_dalek::SigningKey::generate(&mut rand_core::OsRng).verifying_key(),
    );
    check(
        &certificates,
        vec![
            (
                "short key",
                "POST",
                "/register/signers".into(),
                staff.clone(),
                json!({ "kid": "k", "awarding_body_id": body, "owner": "EE38001085718", "public_key": "AAAA" }).to_string(),
                422,
                Some("public_key"),
            ),
            (
                "empty kid",
                "POST",
                "/register/signers".into(),
                staff.clone(),
                json!({ "kid": " ", "awarding_body_id": body, "owner": "EE38001085718", "public_key": key }).to_string(),
                422,
                Some("kid"),
            ),
            (
                "another body",
                "POST",
                "/register/signers".into(),
                staff.clone(),
                json!({ "kid": "k", "awarding_body_id": Uuid::now_v7(), "owner": "EE38001085718", "public_key": key })
                    .to_string(),
                403,
                None,
            ),
            (
                "applicant",
                "POST",
                "/register/signers".into(),
                token(&h, "EE49403136526", &[], None),
                json!({ "kid": "k", "awarding_body_id": body, "owner": "EE38001085718", "public_key": key }).to_string(),
                403,
                None,
            ),
            (
                "missing field",
                "POST",
                "/register/signers".into(),
                staff.clone(),
                json!({ "kid": "k", "awarding_body_id": body, "owner": "EE38001085718" }).to_string(),
                422,
                Some("public_key"),
            ),
            (
                "owner not a personal code",
                "POST",
                "/register/signers".into(),
                staff.clone(),
                json!({ "kid": "k", "awarding_body_id": body, "owner": "EE38001085719", "public_key": key }).to_string(),
                422,
                Some("owner"),
            ),
            (
                "confirming a key nobody registered",
                "POST",
                "/register/signers/nobody/confirmation".into(),
                staff.clone(),
                "{}".to_owned(),
                404,
                None,
            ),
            (
                "revocation without a reason",
                "POST",
                "/register/signers/nobody/revocation".into(),
                staff.clone(),
                json!({ "reason": " " }).to_string(),
                422,
                Some("reason"),
            ),
            (
                "revocation in the future",
                "POST",
                "/register/signers/nobody/revocation".into(),
                staff.clone(),
                json!({ "reason": "lost", "effective_at": "2099-01-01T00:00:00Z" }).to_string(),
                422,
                Some("effective_at"),
            ),
        ],
        &["signer_keys"],
    )
    .await;
    let (status, problem): (u16, Value) = call(
        &reqwest::Client::new(),
        "GET",
        &format!(
            "{}/certificates/KT-0000-000000/verification",
            certificates.url
        ),
        "",
        None,
        None,
    )
    .await;
    assert_eq!(status, 404, "{problem}");
}
