//! Documents: streamed to S3 with the SHA-256 the API reports, downloadable only by those
//! allowed, and counted towards the application's submission.

use std::time::Duration;

use chrono::{Days, Utc};
use kutse_auth::Role;
use kutse_testkit::eventually;
use kutse_tests::{Harness, call};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use uuid::Uuid;

const WAIT: Duration = Duration::from_secs(20);

fn token(h: &Harness, subject: &str, roles: &[Role], body: Option<Uuid>) -> String {
    h.token_for(subject, roles, body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_streams_to_s3_with_its_checksum_and_only_the_allowed_can_download_it() {
    let h = Harness::new().expect("harness");
    let intake = h.start("intake").await.expect("intake");
    let documents = h.start("documents").await.expect("documents");
    let http = reqwest::Client::new();
    for running in [&intake, &documents] {
        kutse_tests::wait_ready(running).await;
    }
    let post = |url: String, token: String, body: Value| {
        let http = http.clone();
        async move {
            call(&http, "POST", &url, &token, Some(&body.to_string()), None)
                .await
                .1
        }
    };
    let authority = token(&h, "EE37605030299", &[Role::Authority], None);
    let body_id: Uuid = post(
        format!("{}/awarding-bodies", intake.url),
        authority,
        json!({ "name": "KJVÜ" }),
    )
    .await["id"]
        .as_str()
        .expect("id")
        .parse()
        .expect("uuid");
    let staff = token(
        &h,
        "EE36805280109",
        &[Role::AwardingBodyStaff],
        Some(body_id),
    );
    let q = post(format!("{}/qualifications", intake.url), staff.clone(), json!({
        "awarding_body_id": body_id, "name": "Juuksur, tase 4", "level": 4, "competences": [{ "code": "B.1", "name": "Lõikamine" }]
    })).await;
    let round = post(format!("{}/rounds", intake.url), staff.clone(), json!({
        "qualification_id": q["id"], "deadline": (Utc::now().date_naive() + Days::new(10)).to_string(),
        "fees": [{ "kind": "initial", "amount_cents": 17000 }], "required_documents": ["cv"],
        "delivery_options": [{ "option": "electronic" }]
    })).await;
    let mari = token(&h, "EE49403136526", &[], None);
    let app = post(
        format!("{}/applications", intake.url),
        mari.clone(),
        json!({
            "round_id": round["id"], "kind": "initial", "delivery_option": "electronic"
        }),
    )
    .await;
    let id = app["id"].as_str().expect("id").to_owned();

    // A file larger than one upload part (8 MiB), so it goes up in parts.
    let file: Vec<u8> = (0..9 * 1024 * 1024 + 123)
        .map(|i: usize| (i * 31 % 251) as u8)
        .collect();
    let expected = hex::encode(Sha256::digest(&file));
    let upload_url = format!("{}/documents?application_id={id}&type=cv", documents.url);
    let stored: Value = eventually(WAIT, "documents knows the application", || async {
        let response = http
            .post(&upload_url)
            .bearer_auth(&mari)
            .header("content-type", "application/pdf")
            .header("x-file-name", "Mari Maasikas CV.pdf")
            .body(file.clone())
            .send()
            .await
            .ok()?;
        if response.status() != 201 {
            eprintln!(
                "upload: {} {}",
                response.status(),
                response.text().await.unwrap_or_default()
            );
            return None;
        }
        response.json().await.ok()
    })
    .await;
    assert_eq!(stored["sha256"], expected.as_str());
    assert_eq!(stored["size_bytes"], file.len());
    let doc_id = stored["id"].as_str().expect("id").to_owned();

    // In S3 under a key of the server's making, with exactly those bytes.
    let in_s3 = kutse_tests::stored_document_sha256(&doc_id)
        .await
        .expect("object in S3");
    assert_eq!(in_s3, expected);

    // Downloads: the owner and staff, as an attachment that browsers will not sniff; nobody else.
    let download = format!("{}/documents/{doc_id}", documents.url);
    let response = http
        .get(&download)
        .bearer_auth(&mari)
        .send()
        .await
        .expect("download");
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["x-content-type-options"], "nosniff");
    assert!(
        response.headers()["content-disposition"]
            .to_str()
            .expect("header")
            .starts_with("attachment")
    );
    assert_eq!(
        hex::encode(Sha256::digest(response.bytes().await.expect("body"))),
        expected
    );
    assert_eq!(
        http.get(&download)
            .bearer_auth(&staff)
            .send()
            .await
            .expect("staff")
            .status(),
        200
    );
    let jaan = token(&h, "EE38001085718", &[], None);
    let other_staff = token(
        &h,
        "EE36805280109",
        &[Role::AwardingBodyStaff],
        Some(Uuid::now_v7()),
    );
    assert_eq!(
        http.get(&download)
            .bearer_auth(&jaan)
            .send()
            .await
            .expect("jaan")
            .status(),
        404
    );
    assert_eq!(
        http.get(&download)
            .bearer_auth(&other_staff)
            .send()
            .await
            .expect("other")
            .status(),
        404
    );
    // Jaan cannot upload to Mari's application either.
    let jaans = http
        .post(&upload_url)
        .bearer_auth(&jaan)
        .body("x")
        .send()
        .await
        .expect("upload");
    assert_eq!(jaans.status(), 404);

    // intake learns of the document: the round's required CV is there.
    eventually(WAIT, "intake records the document", || async {
        let (_, app) = call(
            &http,
            "GET",
            &format!("{}/applications/{id}", intake.url),
            &mari,
            None,
            None,
        )
        .await;
        (app["documents"][0]["sha256"] == expected.as_str()).then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_uploads_get_a_problem_naming_the_parameter() {
    let h = Harness::new().expect("harness");
    let documents = h.start("documents").await.expect("documents");
    let http = reqwest::Client::new();
    let mari = token(&h, "EE49403136526", &[], None);
    for (query, field) in [
        ("type=cv", "application_id"),
        ("application_id=nope&type=cv", "application_id"),
        (
            &*format!("application_id={}&type=../etc", Uuid::now_v7()),
            "type",
        ),
    ] {
        let response = http
            .post(format!("{}/documents?{query}", documents.url))
            .bearer_auth(&mari)
            .body("x")
            .send()
            .await
            .expect("response");
        assert_eq!(response.status(), 422, "{query}");
        let problem: Value = response.json().await.expect("problem");
        assert_eq!(problem["errors"][0]["field"], field, "{query}");
    }
    let response = http
        .post(format!(
            "{}/documents?application_id={}&type=cv",
            documents.url,
            Uuid::now_v7()
        ))
        .bearer_auth(&mari)
        .body("x")
        .send()
        .await
        .expect("response");
    assert_eq!(
        response.status(),
        404,
        "an application documents does not know"
    );
}
