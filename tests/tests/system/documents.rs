//! Documents: streamed to S3 with the SHA-256 the API reports, downloadable only by those
//! allowed, and counted towards the application's submission.

use std::time::Duration;

use chrono::{Days, Utc};
use kutse_auth::Role;
use kutse_testkit::eventually;
use kutse_tests::{Harness, Running, TestBucket, call};
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

    // A PDF larger than one upload part (8 MiB), so it goes up in parts.
    let file: Vec<u8> = b"%PDF-1.7\n"
        .iter()
        .copied()
        .chain((0..9 * 1024 * 1024 + 123).map(|i: usize| (i * 31 % 251) as u8))
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
    assert_eq!(stored["content_type"], "application/pdf");
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
    assert_eq!(response.headers()["cache-control"], "no-store");
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

/// How a test's draft application is set up.
#[derive(Clone, Copy)]
struct Setup<'a> {
    /// Settings of the documents service.
    settings: &'a [(&'a str, &'a str)],
    /// The round's kinds of file per document type.
    allowed_types: &'a str,
    /// Wait for documents to be ready (its scanner may be meant to be away).
    ready: bool,
}

const DEFAULT: Setup<'static> = Setup {
    settings: &[],
    allowed_types: "{}",
    ready: true,
};

/// intake and documents (with a bucket of the test's own), a body with a round requiring a CV,
/// and Mari's draft application: (intake, documents, bucket, application, Mari's token, staff's
/// token).
async fn draft_application(
    h: &Harness,
    setup: Setup<'_>,
) -> (Running, Running, TestBucket, String, String, String) {
    let allowed_types: Value = serde_json::from_str(setup.allowed_types).expect("allowed types");
    let system = start_draft(h, setup.settings, allowed_types).await;
    if setup.ready {
        kutse_tests::wait_ready(&system.1).await;
    }
    system
}

/// The setting-up of [`draft_application`], short of waiting for documents to be ready.
async fn start_draft(
    h: &Harness,
    settings: &[(&str, &str)],
    allowed_types: Value,
) -> (Running, Running, TestBucket, String, String, String) {
    let bucket = TestBucket::new().await.expect("bucket");
    let mut all = vec![("S3_BUCKET", bucket.name.as_str())];
    all.extend_from_slice(settings);
    let intake = h.start("intake").await.expect("intake");
    let documents = h.start_with("documents", &all).await.expect("documents");
    kutse_tests::wait_ready(&intake).await;
    h.wait_for_queue("documents").await;
    let http = reqwest::Client::new();
    let post = |path: &str, token: &str, body: Value| {
        let url = format!("{}{path}", intake.url);
        let http = http.clone();
        let token = token.to_owned();
        async move {
            let (status, answer) =
                call(&http, "POST", &url, &token, Some(&body.to_string()), None).await;
            assert!((200..300).contains(&status), "{url}: {status} {answer}");
            answer
        }
    };
    let authority = token(h, "EE37605030299", &[Role::Authority], None);
    let body = post("/awarding-bodies", &authority, json!({ "name": "KJVÜ" })).await;
    let body_id: Uuid = body["id"].as_str().expect("id").parse().expect("uuid");
    let staff = token(
        h,
        "EE36805280109",
        &[Role::AwardingBodyStaff],
        Some(body_id),
    );
    let q = post(
        "/qualifications",
        &staff,
        json!({
            "awarding_body_id": body_id, "name": "Juuksur, tase 4", "level": 4,
            "competences": [{ "code": "B.1", "name": "Lõikamine" }]
        }),
    )
    .await;
    let round = post("/rounds", &staff, json!({
        "qualification_id": q["id"], "deadline": (Utc::now().date_naive() + Days::new(10)).to_string(),
        "fees": [{ "kind": "initial", "amount_cents": 17000 }], "required_documents": ["cv"],
        "allowed_types": allowed_types,
        "delivery_options": [{ "option": "electronic" }]
    })).await;
    let mari = token(h, "EE49403136526", &[], None);
    let app = post(
        "/applications",
        &mari,
        json!({
            "round_id": round["id"], "kind": "initial", "delivery_option": "electronic"
        }),
    )
    .await;
    let id = app["id"].as_str().expect("id").to_owned();
    (intake, documents, bucket, id, mari, staff)
}

async fn upload(
    http: &reqwest::Client,
    documents: &Running,
    application: &str,
    token: &str,
    content_type: &str,
    bytes: Vec<u8>,
) -> (u16, Value) {
    let response = http
        .post(format!(
            "{}/documents?application_id={application}&type=cv",
            documents.url
        ))
        .bearer_auth(token)
        .header("content-type", content_type)
        .body(bytes)
        .send()
        .await
        .expect("answer");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or_default())
}

/// Sends an upload's headers declaring `length` bytes and then only `start` of the body; the
/// status line of the answer.
async fn declared_only(
    documents: &Running,
    application: &str,
    token: &str,
    length: usize,
    start: &[u8],
) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let address = documents.url.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address)
        .await
        .expect("connect");
    let request = format!(
        "POST /documents?application_id={application}&type=cv HTTP/1.1\r\nHost: {address}\r\n\
         Authorization: Bearer {token}\r\nContent-Type: application/pdf\r\n\
         Content-Length: {length}\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.expect("send");
    stream.write_all(start).await.expect("send");
    let mut answer = vec![0u8; 512];
    let read = tokio::time::timeout(WAIT, stream.read(&mut answer))
        .await
        .expect("an answer before the body")
        .expect("read");
    String::from_utf8_lossy(&answer[..read])
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned()
}

fn pdf(len: usize) -> Vec<u8> {
    let mut bytes = b"%PDF-1.7\n".to_vec();
    bytes.resize(len, b'x');
    bytes
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_is_what_its_bytes_are_and_a_refused_one_leaves_nothing_behind() {
    let h = Harness::new().expect("harness");
    let (_intake, documents, bucket, id, mari, _) = draft_application(
        &h,
        Setup {
            settings: &[("DOCUMENT_ALLOWED_TYPES", "pdf,png,asice")],
            ..DEFAULT
        },
    )
    .await;
    let http = reqwest::Client::new();
    // Wait until documents knows the application (a PDF is accepted).
    eventually(WAIT, "documents knows the application", || async {
        let (status, _) = upload(&http, &documents, &id, &mari, "application/pdf", pdf(100)).await;
        (status == 201).then_some(())
    })
    .await;

    // A Windows executable declared as a PDF.
    let mut exe = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00".to_vec();
    exe.resize(4096, 0);
    let (status, problem) = upload(&http, &documents, &id, &mari, "application/pdf", exe).await;
    assert_eq!(status, 415, "{problem}");
    assert!(
        problem["detail"]
            .as_str()
            .expect("detail")
            .starts_with("body:"),
        "{problem}"
    );
    assert!(
        problem.to_string().contains("portable-executable"),
        "{problem}"
    );
    // A PDF declared as a PNG.
    let (status, problem) = upload(&http, &documents, &id, &mari, "image/png", pdf(100)).await;
    assert_eq!(status, 415, "{problem}");
    assert!(
        problem["detail"]
            .as_str()
            .expect("detail")
            .starts_with("Content-Type:"),
        "{problem}"
    );
    // A kind this service was told not to take (a JPEG).
    let (status, problem) = upload(
        &http,
        &documents,
        &id,
        &mari,
        "image/jpeg",
        b"\xff\xd8\xff\xe0\x00\x10JFIF\x00".to_vec(),
    )
    .await;
    assert_eq!(status, 415, "{problem}");
    // A signed container is taken, stored as what it is.
    let mut asice = b"PK\x03\x04\x14\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x1f\x00\x00\x00\x1f\x00\x00\x00\x08\x00\x00\x00mimetype".to_vec();
    asice.extend_from_slice(b"application/vnd.etsi.asic-e+zip");
    let (status, stored) = upload(
        &http,
        &documents,
        &id,
        &mari,
        "application/octet-stream",
        asice,
    )
    .await;
    assert_eq!(status, 201, "{stored}");
    assert_eq!(stored["content_type"], "application/vnd.etsi.asic-e+zip");

    // Two documents recorded, two objects in the bucket: the refused ones left nothing.
    let rows: Vec<String> =
        sqlx::query_scalar("SELECT object_key FROM documents ORDER BY object_key")
            .fetch_all(&documents.db.pool)
            .await
            .expect("rows");
    assert_eq!(rows.len(), 2);
    assert_eq!(bucket.keys().await.expect("keys"), rows);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_keep_to_the_quota_and_the_size_limit_and_stop_when_the_application_is_submitted() {
    let h = Harness::new().expect("harness");
    let (intake, documents, bucket, id, mari, staff) = draft_application(
        &h,
        Setup {
            settings: &[
                ("DOCUMENTS_PER_APPLICATION", "2"),
                ("DOCUMENT_MAX_BYTES", "100000"),
                ("DOCUMENT_IDLE_TIMEOUT_SECONDS", "1"),
            ],
            ..DEFAULT
        },
    )
    .await;
    let http = reqwest::Client::new();
    eventually(WAIT, "documents knows the application", || async {
        let (status, _) = upload(&http, &documents, &id, &mari, "application/pdf", pdf(100)).await;
        (status == 201).then_some(())
    })
    .await;
    // Over the size limit by its declared length: refused before a byte of the body is sent
    // (the request below has headers only).
    let status_line = declared_only(&documents, &id, &mari, 100_001, b"").await;
    assert!(status_line.contains(" 413 "), "{status_line}");
    // A client that stops sending halfway is dropped with a 408 once no byte came for 1 s.
    let status_line = declared_only(&documents, &id, &mari, 50_000, b"%PDF-1.7\n").await;
    assert!(status_line.contains(" 408 "), "{status_line}");
    // Two uploads at once for the last place of the quota: one is recorded, the other refused,
    // and its object removed again.
    let (a, b) = tokio::join!(
        upload(
            &http,
            &documents,
            &id,
            &mari,
            "application/pdf",
            pdf(50_000)
        ),
        upload(
            &http,
            &documents,
            &id,
            &mari,
            "application/pdf",
            pdf(60_000)
        ),
    );
    let mut statuses = [a.0, b.0];
    statuses.sort_unstable();
    assert_eq!(statuses, [201, 409], "{a:?} {b:?}");
    let refused = if a.0 == 409 { &a.1 } else { &b.1 };
    assert!(
        refused.to_string().contains("holds 2 documents"),
        "{refused}"
    );
    let rows: Vec<String> =
        sqlx::query_scalar("SELECT object_key FROM documents ORDER BY object_key")
            .fetch_all(&documents.db.pool)
            .await
            .expect("rows");
    assert_eq!(rows.len(), 2);
    assert_eq!(bucket.keys().await.expect("keys"), rows);

    // Submitted, the application takes no more: 409 naming the state.
    sqlx::query("DELETE FROM documents WHERE object_key = $1")
        .bind(&rows[1])
        .execute(&documents.db.pool)
        .await
        .expect("make room in the quota");
    let intake_call = |method: &'static str, path: String, token: String| {
        let http = http.clone();
        let url = format!("{}{path}", intake.url);
        async move { call(&http, method, &url, &token, None, None).await }
    };
    let (status, answer) = intake_call(
        "POST",
        format!("/applications/{id}/fee-confirmation"),
        staff.clone(),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    eventually(WAIT, "intake knows the CV", || async {
        let (status, _) =
            intake_call("POST", format!("/applications/{id}/submit"), mari.clone()).await;
        (status == 200).then_some(())
    })
    .await;
    let problem = eventually(WAIT, "documents closes the application", || async {
        let (status, problem) =
            upload(&http, &documents, &id, &mari, "application/pdf", pdf(100)).await;
        (status == 409).then_some(problem)
    })
    .await;
    assert!(problem.to_string().contains("submitted"), "{problem}");
}

/// The EICAR test string, inside a PDF: assembled here, never stored whole in the repository.
fn infected_pdf() -> Vec<u8> {
    let mut bytes = b"%PDF-1.7\n".to_vec();
    bytes.extend_from_slice(b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS");
    bytes.extend_from_slice(b"-TEST-FILE!$H+H*");
    bytes.extend_from_slice(b"\n%%EOF\n");
    bytes
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_upload_is_scanned_and_an_infected_one_is_quarantined_never_shown_to_the_panel() {
    let h = Harness::new().expect("harness");
    let (intake, documents, bucket, id, mari, staff) = draft_application(&h, DEFAULT).await;
    let http = reqwest::Client::new();
    let clean: Value = eventually(WAIT, "documents knows the application", || async {
        let (status, stored) =
            upload(&http, &documents, &id, &mari, "application/pdf", pdf(1000)).await;
        (status == 201).then_some(stored)
    })
    .await;
    assert_eq!(clean["scan"], "pending");
    let (status, infected) = upload(
        &http,
        &documents,
        &id,
        &mari,
        "application/pdf",
        infected_pdf(),
    )
    .await;
    assert_eq!(status, 201, "{infected}");
    let download = |document: &Value, token: &str| {
        let url = format!(
            "{}/documents/{}",
            documents.url,
            document["id"].as_str().expect("id")
        );
        let http = http.clone();
        let token = token.to_owned();
        async move { call(&http, "GET", &url, &token, None, None).await }
    };
    // The clean one reaches the panel once scanned.
    eventually(WAIT, "the clean document scanned", || async {
        (download(&clean, &staff).await.0 == 200).then_some(())
    })
    .await;
    // The infected one is quarantined: the uploader is told, the panel never sees it, and its
    // object is kept under quarantine/.
    let (status, problem) = eventually(WAIT, "the infected document quarantined", || async {
        let answer = download(&infected, &mari).await;
        (answer.0 == 409).then_some(answer)
    })
    .await;
    assert!(
        problem.to_string().contains("Eicar-Test-Signature"),
        "{problem}"
    );
    assert_eq!(status, 409);
    assert_eq!(download(&infected, &staff).await.0, 404);
    let infected_id = infected["id"].as_str().expect("id");
    let keys = bucket.keys().await.expect("keys");
    assert!(
        keys.contains(&format!("quarantine/{infected_id}")),
        "{keys:?}"
    );
    assert!(
        !keys.contains(&format!("documents/{infected_id}")),
        "{keys:?}"
    );
    // intake counts the clean one and notes the quarantined one in the history.
    let app = eventually(WAIT, "intake hears of both", || async {
        let (_, app) = call(
            &http,
            "GET",
            &format!("{}/applications/{id}", intake.url),
            &mari,
            None,
            None,
        )
        .await;
        let noted = app["history"]
            .as_array()
            .is_some_and(|h| h.iter().any(|e| e["event"] == "document_quarantined"));
        (noted && app["documents"].as_array().map(Vec::len) == Some(1)).then_some(app)
    })
    .await;
    assert_eq!(app["documents"][0]["sha256"], clean["sha256"]);
    h.assert_parked(&[]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_scanner_an_upload_waits_unseen_and_the_service_is_not_ready() {
    let h = Harness::new().expect("harness");
    // A scanner address where nothing answers.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let address = closed.local_addr().expect("addr").to_string();
    drop(closed);
    let (intake, documents, _bucket, id, mari, staff) = draft_application(
        &h,
        Setup {
            settings: &[("CLAMD_ADDRESS", &address), ("CLAMD_TIMEOUT_SECONDS", "1")],
            ready: false,
            ..DEFAULT
        },
    )
    .await;
    let http = reqwest::Client::new();
    let (status, report) = call(
        &http,
        "GET",
        &format!("{}/readyz", documents.url),
        "",
        None,
        None,
    )
    .await;
    assert_eq!(status, 503, "{report}");
    assert!(report.to_string().contains("virus scanner"), "{report}");
    let stored: Value = eventually(WAIT, "documents knows the application", || async {
        let (status, stored) =
            upload(&http, &documents, &id, &mari, "application/pdf", pdf(1000)).await;
        (status == 201).then_some(stored)
    })
    .await;
    // Tried and failed: still pending, with the reason kept; the panel does not see it, and intake
    // has not heard of it.
    let document = stored["id"].as_str().expect("id").to_owned();
    let row: (String, Option<String>) = eventually(WAIT, "a failed scan attempt", || async {
        let row: (String, Option<String>, i32) = sqlx::query_as(
            "SELECT scan_status, scan_result, scan_attempts FROM documents WHERE id = $1::uuid",
        )
        .bind(&document)
        .fetch_one(&documents.db.pool)
        .await
        .ok()?;
        (row.2 > 0 && row.1.is_some()).then_some((row.0, row.1))
    })
    .await;
    assert_eq!(row.0, "pending");
    assert!(
        row.1.as_deref().unwrap_or_default().contains("clamd"),
        "{row:?}"
    );
    let (status, _) = call(
        &http,
        "GET",
        &format!("{}/documents/{document}", documents.url),
        &staff,
        None,
        None,
    )
    .await;
    assert_eq!(status, 404);
    let (_, app) = call(
        &http,
        "GET",
        &format!("{}/applications/{id}", intake.url),
        &mari,
        None,
        None,
    )
    .await;
    assert_eq!(app["documents"], json!([]), "{app}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_round_names_the_kinds_of_file_it_takes_per_document_type() {
    let h = Harness::new().expect("harness");
    let (_intake, documents, _bucket, id, mari, _) = draft_application(
        &h,
        Setup {
            allowed_types: r#"{ "cv": ["pdf"], "photo": ["png", "jpeg"] }"#,
            ..DEFAULT
        },
    )
    .await;
    let http = reqwest::Client::new();
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    let send = |document_type: &'static str, content_type: &'static str, bytes: Vec<u8>| {
        let http = http.clone();
        let url = format!(
            "{}/documents?application_id={id}&type={document_type}",
            documents.url
        );
        let mari = mari.clone();
        async move {
            let response = http
                .post(url)
                .bearer_auth(mari)
                .header("content-type", content_type)
                .body(bytes)
                .send()
                .await
                .expect("answer");
            let status = response.status().as_u16();
            (status, response.json::<Value>().await.unwrap_or_default())
        }
    };
    eventually(WAIT, "documents knows the application", || async {
        (send("cv", "application/pdf", pdf(100)).await.0 == 201).then_some(())
    })
    .await;
    let (status, problem) = send("cv", "image/png", png.clone()).await;
    assert_eq!(status, 415, "{problem}");
    assert!(
        problem.to_string().contains("accepted are pdf"),
        "{problem}"
    );
    let (status, stored) = send("photo", "image/png", png).await;
    assert_eq!(status, 201, "{stored}");
    let (status, problem) = send("photo", "application/pdf", pdf(100)).await;
    assert_eq!(status, 415, "{problem}");
    // A type the round does not name takes what the service takes.
    let (status, stored) = send("employment_proof", "application/pdf", pdf(100)).await;
    assert_eq!(status, 201, "{stored}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_container_shows_its_signer_to_the_panel_and_a_broken_one_is_refused() {
    let h = Harness::new().expect("harness");
    let (_intake, documents, _bucket, id, mari, staff) = draft_application(&h, DEFAULT).await;
    let http = reqwest::Client::new();
    let valid = include_bytes!("../../fixtures/asice/valid.asice").to_vec();
    let traversal = include_bytes!("../../fixtures/asice/traversal.asice").to_vec();
    let stored: Value = eventually(WAIT, "documents knows the application", || async {
        let (status, stored) = upload(
            &http,
            &documents,
            &id,
            &mari,
            "application/vnd.etsi.asic-e+zip",
            valid.clone(),
        )
        .await;
        (status == 201).then_some(stored)
    })
    .await;
    assert_eq!(stored["content_type"], "application/vnd.etsi.asic-e+zip");
    let url = format!(
        "{}/documents/{}/container",
        documents.url,
        stored["id"].as_str().expect("id")
    );
    let report = eventually(WAIT, "the container checked", || async {
        let (status, report) = call(&http, "GET", &url, &staff, None, None).await;
        (status == 200).then_some(report)
    })
    .await;
    assert_eq!(report["data_files"], json!(["cv.pdf", "tootoend.pdf"]));
    assert_eq!(report["signers"][0]["name"], "MARI-LIIS MÄNNIK");
    assert_eq!(report["signers"][0]["personal_code"], "61709210125");
    assert_eq!(report["legally_validated"], false);

    let (status, refused) = upload(
        &http,
        &documents,
        &id,
        &mari,
        "application/octet-stream",
        traversal,
    )
    .await;
    assert_eq!(status, 201, "{refused}");
    let download = format!(
        "{}/documents/{}",
        documents.url,
        refused["id"].as_str().expect("id")
    );
    let (_, problem) = eventually(WAIT, "the container refused", || async {
        let answer = call(&http, "GET", &download, &mari, None, None).await;
        (answer.0 == 409).then_some(answer)
    })
    .await;
    assert!(
        problem.to_string().contains("could leave the container"),
        "{problem}"
    );
    assert_eq!(
        call(&http, "GET", &download, &staff, None, None).await.0,
        404
    );
}

/// A portal uploads right after creating the application, before documents has heard of it: the
/// upload waits for it instead of answering "not found". An application that never arrives is
/// still not found.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_right_after_the_applications_creation_waits_for_it() {
    let h = Harness::new().expect("harness");
    let bucket = TestBucket::new().await.expect("bucket");
    let documents = h
        .start_with("documents", &[("S3_BUCKET", bucket.name.as_str())])
        .await
        .expect("documents");
    h.wait_for_queue("documents").await;
    let mari = token(&h, "EE49403136526", &[], None);
    let application = Uuid::now_v7();
    let created = kutse_messaging::Envelope::new(
        &kutse_messaging::catalogue::ApplicationCreated {
            application_id: application,
            awarding_body_id: Uuid::now_v7(),
            applicant: kutse_domain::Isikukood::parse("49403136526").expect("code"),
            allowed_types: Default::default(),
        },
        Some(application),
    )
    .expect("envelope");
    let http = reqwest::Client::new();
    let pdf = b"%PDF-1.4\n% CV\n%%EOF\n".to_vec();
    // The upload is sent first; the application's creation is heard half a second later.
    let id = application.to_string();
    let ((status, stored), ()) = tokio::join!(
        upload(
            &http,
            &documents,
            &id,
            &mari,
            "application/pdf",
            pdf.clone()
        ),
        async {
            tokio::time::sleep(Duration::from_millis(500)).await;
            h.publish(&created).await.expect("publish");
        }
    );
    assert_eq!(status, 201, "{stored}");
    let (status, problem) = upload(
        &http,
        &documents,
        &Uuid::now_v7().to_string(),
        &mari,
        "application/pdf",
        pdf,
    )
    .await;
    assert_eq!(status, 404, "{problem}");
}
