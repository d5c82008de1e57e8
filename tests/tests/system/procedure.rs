//! The assessment procedure's clocks and requests on the real stack: an assigned assessor asks
//! for more documents, uploads of that type reopen on the submitted application and answer the
//! request, an unanswered request expires and extends the periods, and the daily sweep raises
//! what is overdue once however often it runs.

use std::time::Duration;

use chrono::{Days, Utc};
use kutse_auth::Role;
use kutse_domain::{Dvvk, Isikukood, clocks};
use kutse_messaging::Envelope;
use kutse_messaging::catalogue::{
    ApplicantRef, ApplicationCreated, ApplicationSubmitted, CompetenceRef, QualificationRef,
};
use kutse_testkit::eventually;
use kutse_tests::{Harness, TestBucket, call};
use serde_json::{Value, json};
use uuid::Uuid;

const WAIT: Duration = Duration::from_secs(20);
const MARI: &str = "49403136526";
const ASSESSOR: &str = "33105048161";

/// A minimal PDF, by its bytes.
fn pdf() -> Vec<u8> {
    b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n".to_vec()
}

async fn upload(documents: &str, application: Uuid, kind: &str, token: &str) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(format!(
            "{documents}/documents?application_id={application}&type={kind}"
        ))
        .bearer_auth(token)
        .header("content-type", "application/pdf")
        .body(pdf())
        .send()
        .await
        .expect("upload");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_for_documents_reopens_uploads_of_its_types_and_the_sweep_raises_each_overdue_clock_once()
 {
    let h = Harness::new().expect("harness");
    let bucket = TestBucket::new().await.expect("bucket");
    let assessment = h.start("assessment").await.expect("assessment");
    let notifications = h.start("notifications").await.expect("notifications");
    let documents = h
        .start_with("documents", &[("S3_BUCKET", bucket.name.as_str())])
        .await
        .expect("documents");
    kutse_tests::wait_ready(&assessment).await;
    kutse_tests::wait_ready(&documents).await;
    h.wait_for_queue("documents").await;
    h.wait_for_queue("assessment").await;

    // A submitted application whose round closed five weeks ago: both clocks have run out.
    let body = Uuid::now_v7();
    let application = Uuid::now_v7();
    let today = kutse_domain::tallinn_today();
    let deadline = today - Days::new(35);
    let desk = format!("desk-{}@example.ee", Uuid::now_v7().simple());
    let applicant = ApplicantRef {
        isikukood: Isikukood::parse(MARI).expect("code"),
        given_name: "Mari".into(),
        family_name: "Maasikas".into(),
        email: kutse_domain::Email::parse("mari@example.com").expect("email"),
        language: kutse_domain::Language::Et,
    };
    let created = ApplicationCreated {
        application_id: application,
        awarding_body_id: body,
        applicant: applicant.isikukood,
        allowed_types: Default::default(),
    };
    let submitted = ApplicationSubmitted {
        application_id: application,
        round_id: Uuid::now_v7(),
        awarding_body_id: body,
        qualification: QualificationRef {
            id: Uuid::now_v7(),
            name: "Juuksur, tase 4".into(),
            level: 4,
            partial: false,
        },
        kind: kutse_domain::ApplicationKind::PriorLearning,
        competences: vec![CompetenceRef {
            code: "B.1".into(),
            name: "Juuste lõikamine".into(),
        }],
        applicant,
        delivery_option: kutse_domain::DeliveryOption::Electronic,
        round_deadline: deadline,
        submitted_at: Utc::now(),
        dvvk: Dvvk::WebForm,
        awarding_body_name: None,
        awarding_body_email: Some(kutse_domain::Email::parse(&desk).expect("desk")),
        certificate_number: None,
        duplicate_reason: None,
    };
    h.publish(&Envelope::new(&created, Some(application)).expect("envelope"))
        .await
        .expect("publish");
    h.publish(&Envelope::new(&submitted, Some(application)).expect("envelope"))
        .await
        .expect("publish");

    let http = reqwest::Client::new();
    let staff = h.token_for("EE36805280109", &[Role::AwardingBodyStaff], Some(body));
    let assessor = h.token_for(&format!("EE{ASSESSOR}"), &[Role::Assessor], Some(body));
    let mari = h.token_for(&format!("EE{MARI}"), &[], None);
    let case_url = format!("{}/assessments/{application}", assessment.url);
    eventually(WAIT, "the case opened", || async {
        let (status, _) = call(&http, "GET", &case_url, &staff, None, None).await;
        (status == 200).then_some(())
    })
    .await;
    let post = |path: &'static str, token: String, body: Value| {
        let url = format!("{case_url}{path}");
        let http = http.clone();
        async move { call(&http, "POST", &url, &token, Some(&body.to_string()), None).await }
    };
    let (status, _) = post("/assessors", staff.clone(), json!({ "assessor": ASSESSOR })).await;
    assert_eq!(status, 201);

    // Submitted: no uploads, until a request opens them.
    eventually(
        WAIT,
        "documents knows the application is submitted",
        || async {
            let (status, _) = upload(&documents.url, application, "employment_proof", &mari).await;
            (status == 409).then_some(())
        },
    )
    .await;

    // A request needs documents, a reason and a due day from today on; only assigned assessors.
    let (status, problem) = post(
        "/requests",
        assessor.clone(),
        json!({ "documents": [], "reason": "", "due_on": today - Days::new(1) }),
    )
    .await;
    assert_eq!(status, 422, "{problem}");
    let fields = kutse_tests::problem_fields(&problem);
    assert_eq!(fields, ["documents", "reason", "due_on"]);
    let request = json!({
        "documents": [{ "document_type": "employment_proof", "description": "Tööandja tõend 2021-2026" }],
        "reason": "Töökogemus on tõendamata",
        "due_on": today + Days::new(7),
    });
    let (status, _) = post("/requests", staff.clone(), request.clone()).await;
    assert_eq!(status, 403, "staff do not assess");
    let (status, case) = post("/requests", assessor.clone(), request).await;
    assert_eq!(status, 201, "{case}");
    assert_eq!(case["requests"][0]["outcome"], Value::Null);

    // Uploads of the requested type reopen; of another type, not.
    let uploaded = eventually(WAIT, "uploads open for the request", || async {
        let (status, answer) = upload(&documents.url, application, "employment_proof", &mari).await;
        (status == 201).then_some(answer)
    })
    .await;
    let (status, _) = upload(&documents.url, application, "cv", &mari).await;
    assert_eq!(status, 409, "a type nobody asked for");

    // Scanned clean, the document answers the request, which closes the same day: nothing added.
    let case = eventually(WAIT, "the request answered", || async {
        let (_, case) = call(&http, "GET", &case_url, &assessor, None, None).await;
        (case["requests"][0]["outcome"] == "answered").then_some(case)
    })
    .await;
    assert_eq!(case["requests"][0]["received"], json!(["employment_proof"]));
    assert_eq!(case["extension_working_days"], 0);
    let request_of_document: Option<Uuid> =
        sqlx::query_scalar("SELECT request_id FROM documents WHERE id = $1")
            .bind(
                uploaded["id"]
                    .as_str()
                    .and_then(|i| i.parse::<Uuid>().ok())
                    .expect("document id"),
            )
            .fetch_one(&documents.db.pool)
            .await
            .expect("document");
    assert!(request_of_document.is_some());

    // The sweep: both clocks are overdue; a second sweep (or a second replica) raises nothing.
    let pool = &assessment.db.pool;
    let first = kutse_assessment::sweep::run_once(pool, today)
        .await
        .expect("sweep");
    let again = kutse_assessment::sweep::run_once(pool, today)
        .await
        .expect("sweep");
    assert_eq!(first.overdue_raised, 2, "{first:?}");
    assert_eq!(again.overdue_raised, 0, "{again:?}");
    // The body's desk gets one digest of the day, listing both.
    assert_eq!((first.digests_sent, again.digests_sent), (1, 0));
    kutse_tests::wait_ready(&notifications).await;
    let digest = eventually(WAIT, "the digest at the body's desk", || async {
        kutse_tests::inbox(&desk).await.pop()
    })
    .await;
    let text = digest["text"].as_str().expect("text");
    assert!(text.contains(&application.to_string()), "{text}");
    assert!(text.contains("hindamine / review"), "{text}");
    assert!(
        text.contains("otsus kutsekomisjonile / decision to the committee"),
        "{text}"
    );
    let raised: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM messaging.outbox WHERE message_type = 'assessment.overdue'",
    )
    .fetch_one(pool)
    .await
    .expect("count");
    assert_eq!(raised, 2);
    let (_, case) = call(&http, "GET", &case_url, &staff, None, None).await;
    assert_eq!(
        case["overdue"],
        json!([
            { "clock": "review", "due": clocks::review_due(deadline, 0) },
            { "clock": "decision", "due": clocks::decision_due(deadline, 0) },
        ])
    );

    // A second request nobody answers expires after its due day, and the periods grow by the
    // working days it was open.
    let due_on = today + Days::new(5);
    let (status, _) = post(
        "/requests",
        assessor.clone(),
        json!({
            "documents": [{ "document_type": "training_certificate", "description": "Koolituse tunnistus" }],
            "reason": "Koolitus on tõendamata",
            "due_on": due_on,
        }),
    )
    .await;
    assert_eq!(status, 201);
    // The decision waits while documents are awaited.
    let (status, problem) = post("/decision", assessor.clone(), json!({})).await;
    assert_eq!(status, 409, "{problem}");
    assert!(problem.to_string().contains("still open"), "{problem}");
    let later = due_on + Days::new(3);
    let swept = kutse_assessment::sweep::run_once(pool, later)
        .await
        .expect("sweep");
    assert_eq!(swept.requests_expired, 1);
    let added = clocks::extension(today, due_on);
    assert!(added > 0);
    let (_, case) = call(&http, "GET", &case_url, &staff, None, None).await;
    assert_eq!(case["requests"][1]["outcome"], "expired");
    assert_eq!(case["extension_working_days"], added);
    assert_eq!(
        case["review_due"],
        json!(clocks::review_due(deadline, added))
    );
    assert_eq!(
        case["decision_due"],
        json!(clocks::decision_due(deadline, added))
    );
    // The findings at the old due days no longer stand; the sweep found both clocks overdue at
    // their new days, and only those are shown.
    assert_eq!(
        case["overdue"],
        json!([
            { "clock": "review", "due": clocks::review_due(deadline, added) },
            { "clock": "decision", "due": clocks::decision_due(deadline, added) },
        ])
    );
    let again = kutse_assessment::sweep::run_once(pool, later)
        .await
        .expect("sweep");
    assert_eq!(again.requests_expired, 0);
    // An expired request takes no more uploads.
    eventually(WAIT, "uploads closed again", || async {
        let (status, _) = upload(&documents.url, application, "training_certificate", &mari).await;
        (status == 409).then_some(())
    })
    .await;
    drop(bucket);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_decision_notice_is_numbered_names_its_evidence_reaches_the_applicant_and_stops_its_clock()
 {
    let h = Harness::new().expect("harness");
    let assessment = h.start("assessment").await.expect("assessment");
    let notifications = h.start("notifications").await.expect("notifications");
    kutse_tests::wait_ready(&assessment).await;
    kutse_tests::wait_ready(&notifications).await;
    h.wait_for_queue("assessment").await;
    h.wait_for_queue("notifications").await;

    let body = Uuid::now_v7();
    let application = Uuid::now_v7();
    let email = format!("mari-{}@example.com", Uuid::now_v7().simple());
    let applicant = ApplicantRef {
        isikukood: Isikukood::parse(MARI).expect("code"),
        given_name: "Mari".into(),
        family_name: "Maasikas".into(),
        email: kutse_domain::Email::parse(&email).expect("email"),
        language: kutse_domain::Language::En,
    };
    let submitted = ApplicationSubmitted {
        application_id: application,
        round_id: Uuid::now_v7(),
        awarding_body_id: body,
        qualification: QualificationRef {
            id: Uuid::now_v7(),
            name: "Juuksur, tase 4".into(),
            level: 4,
            partial: false,
        },
        kind: kutse_domain::ApplicationKind::PriorLearning,
        competences: vec![
            CompetenceRef {
                code: "B.1".into(),
                name: "Juuste lõikamine".into(),
            },
            CompetenceRef {
                code: "B.2".into(),
                name: "Juuste värvimine".into(),
            },
        ],
        applicant: applicant.clone(),
        delivery_option: kutse_domain::DeliveryOption::Electronic,
        round_deadline: kutse_domain::tallinn_today(),
        submitted_at: Utc::now(),
        dvvk: Dvvk::WebForm,
        awarding_body_name: None,
        awarding_body_email: None,
        certificate_number: None,
        duplicate_reason: None,
    };
    h.publish(&Envelope::new(&submitted, Some(application)).expect("envelope"))
        .await
        .expect("publish");
    // The applicant's employment proof, stored and scanned clean (as documents announces it).
    let proof = Uuid::now_v7();
    let stored = kutse_messaging::catalogue::DocumentStored {
        document_id: proof,
        application_id: application,
        owner: applicant.isikukood,
        document_type: kutse_domain::DocumentType::parse("employment_proof").expect("type"),
        sha256: "0".repeat(64),
        size_bytes: 1000,
        dvvk: Dvvk::FileExchange,
        uploaded_at: Some(Utc::now()),
        request_id: None,
    };
    h.publish(&Envelope::new(&stored, Some(application)).expect("envelope"))
        .await
        .expect("publish");

    let http = reqwest::Client::new();
    let staff = h.token_for("EE36805280109", &[Role::AwardingBodyStaff], Some(body));
    let assessor = h.token_for(&format!("EE{ASSESSOR}"), &[Role::Assessor], Some(body));
    let case_url = format!("{}/assessments/{application}", assessment.url);
    eventually(WAIT, "the case opened", || async {
        let (status, _) = call(&http, "GET", &case_url, &staff, None, None).await;
        (status == 200).then_some(())
    })
    .await;
    let (status, _) = call(
        &http,
        "POST",
        &format!("{case_url}/assessors"),
        &staff,
        Some(&json!({ "assessor": ASSESSOR }).to_string()),
        None,
    )
    .await;
    assert_eq!(status, 201);
    let decide = |code: &'static str, body: Value| {
        let url = format!("{case_url}/competences/{code}");
        let http = http.clone();
        let assessor = assessor.clone();
        async move { call(&http, "PUT", &url, &assessor, Some(&body.to_string()), None).await }
    };
    // Evidence must be the application's own documents.
    let (status, problem) = decide(
        "B.1",
        json!({ "accepted": true, "justification": "Viis aastat tööd", "evidence": [Uuid::now_v7()] }),
    )
    .await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(problem["errors"][0]["field"], "evidence[0]");
    let decided = eventually(WAIT, "the proof known to assessment", || async {
        let (status, case) = decide(
            "B.1",
            json!({ "accepted": true, "justification": "Viis aastat tööd", "evidence": [proof] }),
        )
        .await;
        (status == 200).then_some(case)
    })
    .await;
    assert_eq!(decided["competences"][0]["evidence"], json!([proof]));
    let (status, _) = decide(
        "B.2",
        json!({ "accepted": false, "justification": "Värvimistööde tõendid puuduvad" }),
    )
    .await;
    assert_eq!(status, 200);
    let (status, case) = call(
        &http,
        "POST",
        &format!("{case_url}/decision"),
        &assessor,
        Some(&json!({ "recommendations": "Lisada värvimistööde portfoolio" }).to_string()),
        None,
    )
    .await;
    assert_eq!(status, 200, "{case}");
    let number = case["decision_number"].as_str().expect("number").to_owned();
    let today = kutse_domain::tallinn_today();
    assert_eq!(number, format!("HK-{}-000001", today.format("%Y")));
    assert_eq!(case["notice_due"], json!(clocks::notice_due(today)));

    // The notice reaches the applicant in their language: number, date, each competence with its
    // justification and evidence, what is still to prove, the recommendations.
    let notice = eventually(WAIT, "the decision notice", || async {
        kutse_tests::inbox(&email).await.into_iter().find(|m| {
            m["subject"]
                .as_str()
                .is_some_and(|s| s.contains(number.as_str()))
        })
    })
    .await;
    let text = notice["text"].as_str().expect("text");
    for expected in [
        number.as_str(),
        "B.1 Juuste lõikamine: accepted. Viis aastat tööd",
        &proof.to_string(),
        "Competences still to be proven:\n\n- B.2 Juuste värvimine",
        "Lisada värvimistööde portfoolio",
        "within 30 days",
    ] {
        assert!(text.contains(expected), "{expected:?} not in {text}");
    }
    // Sent, it stops the 14-day clock: a sweep after it finds nothing to raise.
    let told = eventually(WAIT, "assessment learns the applicant was told", || async {
        let (_, case) = call(&http, "GET", &case_url, &staff, None, None).await;
        case["noticed_at"].is_string().then_some(case)
    })
    .await;
    assert!(told["noticed_at"].is_string());
    let pool = &assessment.db.pool;
    let after = clocks::notice_due(today) + Days::new(1);
    let swept = kutse_assessment::sweep::run_once(pool, after)
        .await
        .expect("sweep");
    assert_eq!(swept.overdue_raised, 0, "{swept:?}");

    // Had it not been sent, the sweep would raise the notice clock, once.
    sqlx::query("UPDATE cases SET noticed_at = NULL")
        .execute(pool)
        .await
        .expect("untold");
    let first = kutse_assessment::sweep::run_once(pool, after)
        .await
        .expect("sweep");
    let again = kutse_assessment::sweep::run_once(pool, after)
        .await
        .expect("sweep");
    assert_eq!((first.overdue_raised, again.overdue_raised), (1, 0));
    let (_, case) = call(&http, "GET", &case_url, &staff, None, None).await;
    assert_eq!(
        case["overdue"],
        json!([{ "clock": "notice", "due": clocks::notice_due(today) }])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_appeal_is_lodged_within_its_period_resolved_by_the_chair_and_if_upheld_reopens_the_case()
 {
    let h = Harness::new().expect("harness");
    let assessment = h.start("assessment").await.expect("assessment");
    let committee = h.start("committee").await.expect("committee");
    let notifications = h.start("notifications").await.expect("notifications");
    for service in [&assessment, &committee, &notifications] {
        kutse_tests::wait_ready(service).await;
    }
    for queue in ["assessment", "committee", "notifications"] {
        h.wait_for_queue(queue).await;
    }
    let body = Uuid::now_v7();
    let application = Uuid::now_v7();
    let email = format!("mari-{}@example.com", Uuid::now_v7().simple());
    let desk = format!("desk-{}@example.ee", Uuid::now_v7().simple());
    let submitted = ApplicationSubmitted {
        application_id: application,
        round_id: Uuid::now_v7(),
        awarding_body_id: body,
        qualification: QualificationRef {
            id: Uuid::now_v7(),
            name: "Juuksur, tase 4".into(),
            level: 4,
            partial: false,
        },
        kind: kutse_domain::ApplicationKind::PriorLearning,
        competences: vec![CompetenceRef {
            code: "B.2".into(),
            name: "Juuste värvimine".into(),
        }],
        applicant: ApplicantRef {
            isikukood: Isikukood::parse(MARI).expect("code"),
            given_name: "Mari".into(),
            family_name: "Maasikas".into(),
            email: kutse_domain::Email::parse(&email).expect("email"),
            language: kutse_domain::Language::Et,
        },
        delivery_option: kutse_domain::DeliveryOption::Electronic,
        round_deadline: kutse_domain::tallinn_today(),
        submitted_at: Utc::now(),
        dvvk: Dvvk::WebForm,
        awarding_body_name: None,
        awarding_body_email: Some(kutse_domain::Email::parse(&desk).expect("desk")),
        certificate_number: None,
        duplicate_reason: None,
    };
    h.publish(&Envelope::new(&submitted, Some(application)).expect("envelope"))
        .await
        .expect("publish");
    // The committee's chair, as the role registry announces the appointment.
    let chair_code = "38001085718";
    let appointed = kutse_messaging::catalogue::RoleAppointed {
        appointment_id: Uuid::now_v7(),
        person: Isikukood::parse(chair_code).expect("code"),
        role: "committee_chair".into(),
        awarding_body_id: body,
        partner_code: None,
        valid_from: kutse_domain::tallinn_today() - Days::new(1),
        valid_to: None,
    };
    h.publish(&Envelope::new(&appointed, None).expect("envelope"))
        .await
        .expect("publish");

    let http = reqwest::Client::new();
    let staff = h.token_for("EE36805280109", &[Role::AwardingBodyStaff], Some(body));
    let assessor = h.token_for(&format!("EE{ASSESSOR}"), &[Role::Assessor], Some(body));
    let mari = h.token_for(&format!("EE{MARI}"), &[], None);
    let chair = h.token_for(
        &format!("EE{chair_code}"),
        &[Role::CommitteeChair, Role::CommitteeMember],
        Some(body),
    );
    let member = h.token_for("EE30411030851", &[Role::CommitteeMember], Some(body));
    let case_url = format!("{}/assessments/{application}", assessment.url);
    let send = |method: &'static str, url: String, token: String, body: Option<Value>| {
        let http = http.clone();
        async move {
            call(
                &http,
                method,
                &url,
                &token,
                body.map(|b| b.to_string()).as_deref(),
                None,
            )
            .await
        }
    };
    eventually(WAIT, "the case opened", || async {
        (send("GET", case_url.clone(), staff.clone(), None).await.0 == 200).then_some(())
    })
    .await;
    let appeal = |body: Value| {
        send(
            "POST",
            format!("{case_url}/appeals"),
            mari.clone(),
            Some(body),
        )
    };

    // Nothing to contest before the panel decides.
    let (status, _) = appeal(json!({ "against": "assessment", "reasons": "Ei nõustu" })).await;
    assert_eq!(status, 409);
    send(
        "POST",
        format!("{case_url}/assessors"),
        staff.clone(),
        Some(json!({ "assessor": ASSESSOR })),
    )
    .await;
    let (status, _) = send(
        "PUT",
        format!("{case_url}/competences/B.2"),
        assessor.clone(),
        Some(json!({ "accepted": false, "justification": "Tõendid puuduvad" })),
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = send(
        "POST",
        format!("{case_url}/decision"),
        assessor.clone(),
        Some(json!({})),
    )
    .await;
    assert_eq!(status, 200);

    // Only the applicant appeals; with reasons; against the committee only once it refused.
    let (status, _) = send(
        "POST",
        format!("{case_url}/appeals"),
        staff.clone(),
        Some(json!({ "against": "assessment", "reasons": "x" })),
    )
    .await;
    assert_eq!(status, 403);
    let (status, problem) = appeal(json!({ "against": "assessment", "reasons": " " })).await;
    assert_eq!(
        (status, &problem["errors"][0]["field"]),
        (422, &json!("reasons")),
        "{problem}"
    );
    let (status, _) = appeal(json!({ "against": "committee", "reasons": "Ei nõustu" })).await;
    assert_eq!(status, 409, "the committee has not refused");
    let (status, case) = appeal(
        json!({ "against": "assessment", "reasons": "Värvimistööd on tehtud, tõendid lisatud" }),
    )
    .await;
    assert_eq!(status, 201, "{case}");
    // The applicant sees that an assessor decided, never who by personal code.
    assert_eq!(case["assessors"], json!(["assessor"]));
    assert!(!case.to_string().contains(ASSESSOR));
    let (status, _) = appeal(json!({ "against": "assessment", "reasons": "Veel kord" })).await;
    assert_eq!(status, 409, "one appeal in progress at a time");

    // The body's staff see it at the committee; the chair (in the register) resolves it, a member
    // does not.
    let appeals_url = format!("{}/appeals?awarding_body_id={body}", committee.url);
    let listed = eventually(WAIT, "the committee has the appeal", || async {
        let (_, list) = send("GET", appeals_url.clone(), staff.clone(), None).await;
        list.as_array().filter(|l| !l.is_empty()).cloned()
    })
    .await;
    let appeal_id = listed[0]["id"].as_str().expect("id").to_owned();
    let resolution_url = format!("{}/appeals/{appeal_id}/resolution", committee.url);
    let resolve = |token: String, outcome: &str, reasons: &str| {
        send(
            "POST",
            resolution_url.clone(),
            token,
            Some(json!({ "outcome": outcome, "reasons": reasons })),
        )
    };
    let (status, _) = resolve(member.clone(), "upheld", "jah").await;
    assert_eq!(status, 403);
    let (status, problem) = resolve(chair.clone(), "maybe", "").await;
    assert_eq!(status, 422, "{problem}");
    let resolved = eventually(WAIT, "the chair is in the committee's roster", || async {
        let (status, resolved) =
            resolve(chair.clone(), "dismissed", "Uusi tõendeid ei esitatud").await;
        (status == 200).then_some(resolved)
    })
    .await;
    assert_eq!(resolved["status"], "dismissed");
    let (status, _) = resolve(chair.clone(), "upheld", "ümber").await;
    assert_eq!(status, 409, "resolved once");

    // The applicant is told, with the reasons; the body's desk was told of the appeal.
    let told = eventually(WAIT, "the resolution e-mailed", || async {
        kutse_tests::inbox(&email).await.into_iter().find(|m| {
            m["subject"]
                .as_str()
                .is_some_and(|s| s.contains("vaie on lahendatud"))
        })
    })
    .await;
    assert!(
        told["text"]
            .as_str()
            .expect("text")
            .contains("Uusi tõendeid ei esitatud")
    );
    let to_desk = eventually(WAIT, "the body's desk told", || async {
        kutse_tests::inbox(&desk).await.pop()
    })
    .await;
    assert!(
        to_desk["text"]
            .as_str()
            .expect("text")
            .contains(&application.to_string())
    );
    eventually(WAIT, "assessment records the dismissal", || async {
        let (_, case) = send("GET", case_url.clone(), mari.clone(), None).await;
        (case["appeals"][0]["status"] == "dismissed").then_some(())
    })
    .await;

    // Told 31 days ago (at noon in Tallinn), no appeal is taken; told 30 days ago, today is
    // its last day.
    let pool = &assessment.db.pool;
    let told = |days_ago: u64| {
        use chrono::TimeZone;
        let day = kutse_domain::tallinn_today() - Days::new(days_ago);
        kutse_domain::calendar::TIME_ZONE
            .from_local_datetime(&day.and_hms_opt(12, 0, 0).expect("noon"))
            .single()
            .expect("one noon")
            .with_timezone(&Utc)
    };
    sqlx::query("UPDATE cases SET noticed_at = $1")
        .bind(told(31))
        .execute(pool)
        .await
        .expect("told 31 days ago");
    let (status, problem) = appeal(json!({ "against": "assessment", "reasons": "Hilja" })).await;
    assert_eq!(status, 422, "{problem}");
    assert!(
        problem.to_string().contains("appeal-period-over"),
        "{problem}"
    );

    // On the last day, an upheld appeal reopens the case: the panel decides again, under a new
    // number.
    sqlx::query("UPDATE cases SET noticed_at = $1")
        .bind(told(30))
        .execute(pool)
        .await
        .expect("told 30 days ago");
    let (status, _) =
        appeal(json!({ "against": "assessment", "reasons": "Tõendid on nüüd olemas" })).await;
    assert_eq!(status, 201);
    let listed = eventually(WAIT, "the second appeal at the committee", || async {
        let (_, list) = send("GET", appeals_url.clone(), staff.clone(), None).await;
        list.as_array()
            .and_then(|l| l.iter().find(|a| a["status"] == "lodged").cloned())
    })
    .await;
    let (status, _) = send(
        "POST",
        format!(
            "{}/appeals/{}/resolution",
            committee.url,
            listed["id"].as_str().expect("id")
        ),
        chair.clone(),
        Some(json!({ "outcome": "upheld", "reasons": "Tõendid on asjakohased" })),
    )
    .await;
    assert_eq!(status, 200);
    let reopened = eventually(WAIT, "the case reopened", || async {
        let (_, case) = send("GET", case_url.clone(), assessor.clone(), None).await;
        (case["status"] == "open").then_some(case)
    })
    .await;
    assert_eq!(reopened["decision_number"], Value::Null);
    let first_number = format!("HK-{}-000001", kutse_domain::tallinn_today().format("%Y"));
    let (status, _) = send(
        "PUT",
        format!("{case_url}/competences/B.2"),
        assessor.clone(),
        Some(json!({ "accepted": true, "justification": "Tõendatud vaide käigus" })),
    )
    .await;
    assert_eq!(status, 200);
    let (status, decided) = send(
        "POST",
        format!("{case_url}/decision"),
        assessor.clone(),
        Some(json!({})),
    )
    .await;
    assert_eq!(status, 200, "{decided}");
    assert_ne!(decided["decision_number"], json!(first_number));
    // The committee's agenda takes the new decision (the first no longer stands).
    eventually(
        WAIT,
        "the new decision on the committee's agenda",
        || async {
            let accepted: Option<bool> = sqlx::query_scalar(
                "SELECT all_accepted FROM agenda_items WHERE application_id = $1",
            )
            .bind(application)
            .fetch_optional(&committee.db.pool)
            .await
            .ok()
            .flatten();
            (accepted == Some(true)).then_some(())
        },
    )
    .await;
    h.assert_parked(&[]).await;
}

/// Personal codes python-stdnum accepts (the domain's test vectors).
fn applicants(n: usize) -> Vec<String> {
    let vectors: Value = serde_json::from_str(include_str!(
        "../../../shared/domain/tests/fixtures/isikukood-vectors.json"
    ))
    .expect("vectors");
    vectors["valid"]
        .as_array()
        .expect("valid")
        .iter()
        .filter_map(|c| c.as_str().map(str::to_owned))
        .filter(|c| c != ASSESSOR)
        .take(n)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_exam_is_never_overbooked_under_concurrent_registration_and_its_results_reach_the_case()
{
    let h = Harness::new().expect("harness");
    let assessment = h.start("assessment").await.expect("assessment");
    let notifications = h.start("notifications").await.expect("notifications");
    kutse_tests::wait_ready(&assessment).await;
    kutse_tests::wait_ready(&notifications).await;
    h.wait_for_queue("assessment").await;
    h.wait_for_queue("notifications").await;
    let body = Uuid::now_v7();
    let round = Uuid::now_v7();
    let codes = applicants(12);
    let tag = Uuid::now_v7().simple().to_string();
    let email_of = |code: &str| format!("exam-{tag}-{code}@example.com");
    let mut applications = Vec::new();
    for code in &codes {
        let application = Uuid::now_v7();
        let submitted = ApplicationSubmitted {
            application_id: application,
            round_id: round,
            awarding_body_id: body,
            qualification: QualificationRef {
                id: Uuid::now_v7(),
                name: "Juuksur, tase 4".into(),
                level: 4,
                partial: false,
            },
            kind: kutse_domain::ApplicationKind::Initial,
            competences: vec![CompetenceRef {
                code: "B.1".into(),
                name: "Juuste lõikamine".into(),
            }],
            applicant: ApplicantRef {
                isikukood: Isikukood::parse(code).expect("code"),
                given_name: "Mari".into(),
                family_name: "Maasikas".into(),
                email: kutse_domain::Email::parse(&email_of(code)).expect("email"),
                language: kutse_domain::Language::Et,
            },
            delivery_option: kutse_domain::DeliveryOption::Electronic,
            round_deadline: kutse_domain::tallinn_today(),
            submitted_at: Utc::now(),
            dvvk: Dvvk::WebForm,
            awarding_body_name: None,
            awarding_body_email: None,
            certificate_number: None,
            duplicate_reason: None,
        };
        h.publish(&Envelope::new(&submitted, Some(application)).expect("envelope"))
            .await
            .expect("publish");
        applications.push(application);
    }
    let http = reqwest::Client::new();
    let staff = h.token_for("EE36805280109", &[Role::AwardingBodyStaff], Some(body));
    let (status, problem) = call(
        &http,
        "POST",
        &format!("{}/exams", assessment.url),
        &staff,
        Some(
            &json!({ "awarding_body_id": body, "round_id": round, "starts_at": Utc::now() + chrono::Duration::days(10),
                     "place": "", "capacity": 0, "competences": [] })
            .to_string(),
        ),
        None,
    )
    .await;
    assert_eq!(status, 422, "{problem}");
    let (status, exam) = call(
        &http,
        "POST",
        &format!("{}/exams", assessment.url),
        &staff,
        Some(
            &json!({ "awarding_body_id": body, "round_id": round, "starts_at": Utc::now() + chrono::Duration::days(10),
                     "place": "Tallinn, Pärnu mnt 1", "capacity": 5, "competences": ["B.1"] })
            .to_string(),
        ),
        None,
    )
    .await;
    assert_eq!(status, 201, "{exam}");
    let exam_id = exam["id"].as_str().expect("id").to_owned();
    eventually(WAIT, "every case opened", || async {
        let count: i64 = sqlx::query_scalar("SELECT count(*) FROM cases")
            .fetch_one(&assessment.db.pool)
            .await
            .unwrap_or(0);
        (count == codes.len() as i64).then_some(())
    })
    .await;

    // Twelve applicants register at once for five places: five get them, the rest are told it is
    // full, nobody is booked twice.
    let mut attempts = tokio::task::JoinSet::new();
    for (i, code) in codes.iter().enumerate() {
        let token = h.token_for(&format!("EE{code}"), &[], None);
        let url = format!("{}/exams/{exam_id}/registrations", assessment.url);
        let http = http.clone();
        attempts.spawn(async move { (i, call(&http, "POST", &url, &token, None, None).await.0) });
    }
    let mut statuses = vec![0u16; codes.len()];
    while let Some(done) = attempts.join_next().await {
        let (i, status) = done.expect("a registration");
        statuses[i] = status;
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        5,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 409).count(),
        7,
        "{statuses:?}"
    );
    let booked: i64 = sqlx::query_scalar("SELECT count(*) FROM exam_registrations")
        .fetch_one(&assessment.db.pool)
        .await
        .expect("count");
    assert_eq!(booked, 5);
    // Someone with no application in the round cannot register.
    let outsider = h.token_for(&format!("EE{MARI}"), &[], None);
    let (status, _) = call(
        &http,
        "POST",
        &format!("{}/exams/{exam_id}/registrations", assessment.url),
        &outsider,
        None,
        None,
    )
    .await;
    assert_eq!(status, 403);
    let registered = statuses
        .iter()
        .position(|s| *s == 201)
        .expect("someone registered");
    let application = applications[registered];
    assert_eq!(
        sqlx::query_scalar::<_, i64>(
            "SELECT count(*) FROM messaging.outbox WHERE message_type = 'exam.registered'"
        )
        .fetch_one(&assessment.db.pool)
        .await
        .expect("count"),
        5
    );
    // Each is e-mailed when and where; those who got no place are not.
    let exam_mails = |code: String| async move {
        kutse_tests::inbox(&code)
            .await
            .into_iter()
            .filter(|m| {
                m["subject"]
                    .as_str()
                    .is_some_and(|t| t.starts_with("Olete registreeritud eksamile"))
            })
            .count()
    };
    eventually(WAIT, "the exam e-mail", || async {
        (exam_mails(email_of(&codes[registered])).await == 1).then_some(())
    })
    .await;
    let unplaced = statuses
        .iter()
        .position(|s| *s != 201)
        .expect("someone left out");
    assert_eq!(exam_mails(email_of(&codes[unplaced])).await, 0);

    // The assigned assessor enters results for the exam's competences; they show in the case.
    let assessor = h.token_for(&format!("EE{ASSESSOR}"), &[Role::Assessor], Some(body));
    let results_url = format!("{}/exams/{exam_id}/results/{application}", assessment.url);
    let enter = |body: Value| {
        let http = http.clone();
        let url = results_url.clone();
        let assessor = assessor.clone();
        async move { call(&http, "PUT", &url, &assessor, Some(&body.to_string()), None).await }
    };
    let (status, _) = enter(json!({ "results": [{ "code": "B.1", "passed": true }] })).await;
    assert_eq!(status, 403, "not assigned yet");
    let (status, _) = call(
        &http,
        "POST",
        &format!("{}/assessments/{application}/assessors", assessment.url),
        &staff,
        Some(&json!({ "assessor": ASSESSOR }).to_string()),
        None,
    )
    .await;
    assert_eq!(status, 201);
    let (status, problem) = enter(json!({ "results": [{ "code": "B.9", "passed": true }] })).await;
    assert_eq!(
        (status, &problem["errors"][0]["field"]),
        (422, &json!("results[0].code"))
    );
    let (status, _) = enter(
        json!({ "results": [{ "code": "B.1", "passed": true, "note": "Lõikus puhas ja täpne" }] }),
    )
    .await;
    assert_eq!(status, 200);
    let (_, case) = call(
        &http,
        "GET",
        &format!("{}/assessments/{application}", assessment.url),
        &assessor,
        None,
        None,
    )
    .await;
    assert_eq!(case["exam_results"][0]["code"], "B.1");
    assert_eq!(case["exam_results"][0]["passed"], true);
    assert_eq!(case["exam_results"][0]["note"], "Lõikus puhas ja täpne");

    // The results feed the decision: a failed competence is accepted only on documents that
    // prove it; once the panel has decided, results are final.
    let (status, _) = enter(
        json!({ "results": [{ "code": "B.1", "passed": false, "note": "Lõikus ebaühtlane" }] }),
    )
    .await;
    assert_eq!(status, 200);
    let decide = |body: Value| {
        let http = http.clone();
        let url = format!(
            "{}/assessments/{application}/competences/B.1",
            assessment.url
        );
        let assessor = assessor.clone();
        async move { call(&http, "PUT", &url, &assessor, Some(&body.to_string()), None).await }
    };
    let (status, problem) = decide(json!({ "accepted": true, "justification": "Hea töö" })).await;
    assert_eq!(
        (status, &problem["errors"][0]["field"]),
        (422, &json!("evidence")),
        "{problem}"
    );
    let (status, _) = decide(
        json!({ "accepted": false, "justification": "Eksam sooritamata: lõikus ebaühtlane" }),
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = call(
        &http,
        "POST",
        &format!("{}/assessments/{application}/decision", assessment.url),
        &assessor,
        Some("{}"),
        None,
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = enter(json!({ "results": [{ "code": "B.1", "passed": true }] })).await;
    assert_eq!(status, 409, "the panel has decided");
}

/// Publishes a submitted application of `body` whose round closed on `deadline`, for Mari at
/// `email`; returns its id.
async fn submitted_to(h: &Harness, body: Uuid, deadline: chrono::NaiveDate, email: &str) -> Uuid {
    let application = Uuid::now_v7();
    let submitted = ApplicationSubmitted {
        application_id: application,
        round_id: Uuid::now_v7(),
        awarding_body_id: body,
        qualification: QualificationRef {
            id: Uuid::now_v7(),
            name: "Juuksur, tase 4".into(),
            level: 4,
            partial: false,
        },
        kind: kutse_domain::ApplicationKind::PriorLearning,
        competences: vec![CompetenceRef {
            code: "B.1".into(),
            name: "Juuste lõikamine".into(),
        }],
        applicant: ApplicantRef {
            isikukood: Isikukood::parse(MARI).expect("code"),
            given_name: "Mari".into(),
            family_name: "Maasikas".into(),
            email: kutse_domain::Email::parse(email).expect("email"),
            language: kutse_domain::Language::Et,
        },
        delivery_option: kutse_domain::DeliveryOption::Electronic,
        round_deadline: deadline,
        submitted_at: Utc::now(),
        dvvk: Dvvk::WebForm,
        awarding_body_name: None,
        awarding_body_email: None,
        certificate_number: None,
        duplicate_reason: None,
    };
    h.publish(&Envelope::new(&submitted, Some(application)).expect("envelope"))
        .await
        .expect("publish");
    application
}

fn day(s: &str) -> chrono::NaiveDate {
    s.parse().expect("date")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_clocks_skip_christmas_the_new_year_and_easter_and_overlapping_requests_stop_them_once()
{
    let h = Harness::new().expect("harness");
    let assessment = h.start("assessment").await.expect("assessment");
    let notifications = h.start("notifications").await.expect("notifications");
    kutse_tests::wait_ready(&assessment).await;
    kutse_tests::wait_ready(&notifications).await;
    h.wait_for_queue("assessment").await;
    h.wait_for_queue("notifications").await;

    let body = Uuid::now_v7();
    let email = format!("mari-{}@example.com", Uuid::now_v7().simple());
    // Rounds closing on Friday 18 December 2026 (Christmas and the new year follow) and on
    // Friday 19 March 2027 (Good Friday follows), and one that closed yesterday.
    let christmas = submitted_to(&h, body, day("2026-12-18"), &email).await;
    let easter = submitted_to(&h, body, day("2027-03-19"), &email).await;
    let today = kutse_domain::tallinn_today();
    let requests = submitted_to(&h, body, today - Days::new(1), &email).await;

    let http = reqwest::Client::new();
    let staff = h.token_for("EE36805280109", &[Role::AwardingBodyStaff], Some(body));
    let assessor = h.token_for(&format!("EE{ASSESSOR}"), &[Role::Assessor], Some(body));
    let case = |application: Uuid| {
        let url = format!("{}/assessments/{application}", assessment.url);
        let http = http.clone();
        let staff = staff.clone();
        async move {
            eventually(WAIT, "the case", || async {
                let (status, case) = call(&http, "GET", &url, &staff, None, None).await;
                (status == 200).then_some(case)
            })
            .await
        }
    };
    // The days as the holiday vectors give them (shared/domain/tests/fixtures/ee-public-holidays-2024-2032.json
    // and the unit tests of kutse_domain::clocks): 24–26 December and 1 January are not counted.
    let christmas_case = case(christmas).await;
    assert_eq!(christmas_case["review_due"], "2027-01-06");
    assert_eq!(christmas_case["decision_due"], "2027-01-20");
    let easter_case = case(easter).await;
    assert_eq!(easter_case["review_due"], "2027-04-05");
    assert_eq!(easter_case["decision_due"], "2027-04-19");

    // The sweep on the last day of the review finds nothing of that case; the next day it
    // raises the review, once, however many replicas sweep at once.
    let pool = &assessment.db.pool;
    let findings = |application: Uuid| async move {
        sqlx::query_as::<_, (String, chrono::NaiveDate)>(
            "SELECT clock, due FROM overdue WHERE application_id = $1 ORDER BY due",
        )
        .bind(application)
        .fetch_all(pool)
        .await
        .expect("findings")
    };
    kutse_assessment::sweep::run_once(pool, day("2027-01-06"))
        .await
        .expect("sweep");
    assert_eq!(findings(christmas).await, []);
    let (a, b) = tokio::join!(
        kutse_assessment::sweep::run_once(pool, day("2027-01-07")),
        kutse_assessment::sweep::run_once(pool, day("2027-01-07")),
    );
    let (a, b) = (a.expect("sweep"), b.expect("sweep"));
    assert_eq!(
        findings(christmas).await,
        [("review".to_owned(), day("2027-01-06"))]
    );
    let raised: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM messaging.outbox
          WHERE message_type = 'assessment.overdue'
            AND convert_from(body, 'UTF8')::jsonb -> 'payload' ->> 'application_id' = $1",
    )
    .bind(christmas.to_string())
    .fetch_one(pool)
    .await
    .expect("count");
    assert_eq!(raised, 1, "two sweeps at once raised it once: {a:?} {b:?}");
    kutse_assessment::sweep::run_once(pool, day("2027-01-21"))
        .await
        .expect("sweep");
    assert_eq!(
        findings(christmas).await,
        [
            ("review".to_owned(), day("2027-01-06")),
            ("decision".to_owned(), day("2027-01-20"))
        ]
    );
    assert_eq!(findings(easter).await, [], "Easter's review is due 5 April");

    // Two requests open over the same days stop the clocks once: the periods grow by the days
    // either was open, not by their sum.
    let requests_case = case(requests).await;
    let url = format!("{}/assessments/{requests}", assessment.url);
    let (status, _) = call(
        &http,
        "POST",
        &format!("{url}/assessors"),
        &staff,
        Some(&json!({ "assessor": ASSESSOR }).to_string()),
        None,
    )
    .await;
    assert_eq!(status, 201);
    for (kind, due) in [("employment_proof", 5), ("training_certificate", 8)] {
        let request = json!({
            "documents": [{ "document_type": kind, "description": "Tõend" }],
            "reason": "Tõendamata",
            "due_on": today + Days::new(due),
        });
        let (status, answer) = call(
            &http,
            "POST",
            &format!("{url}/requests"),
            &assessor,
            Some(&request.to_string()),
            None,
        )
        .await;
        assert_eq!(status, 201, "{answer}");
    }
    // The applicant is e-mailed each request.
    eventually(WAIT, "both requests in Mari's inbox", || async {
        let mails = kutse_tests::inbox(&email).await;
        let texts: Vec<String> = mails
            .iter()
            .filter_map(|m| m["text"].as_str().map(str::to_owned))
            .collect();
        (texts.iter().any(|t| t.contains("employment_proof"))
            && texts.iter().any(|t| t.contains("training_certificate")))
        .then_some(())
    })
    .await;
    let swept = kutse_assessment::sweep::run_once(pool, today + Days::new(9))
        .await
        .expect("sweep");
    assert!(swept.requests_expired >= 2, "{swept:?}");
    let first = clocks::extension(today, today + Days::new(5));
    let second = clocks::extension(today, today + Days::new(8));
    assert!(first > 0 && second > first);
    let after = case(requests).await;
    assert_eq!(after["extension_working_days"], second, "{after}");
    let deadline: chrono::NaiveDate =
        serde_json::from_value(requests_case["round_deadline"].clone()).expect("deadline");
    assert_eq!(
        after["review_due"],
        json!(clocks::review_due(deadline, second))
    );
    let added: Vec<i64> = after["requests"]
        .as_array()
        .expect("requests")
        .iter()
        .filter_map(|r| r["extension_days"].as_i64())
        .collect();
    assert_eq!(added.iter().sum::<i64>(), i64::from(second), "{after}");
}
