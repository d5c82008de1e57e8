//! The whole mission, once, through the services on the real stack, configured as production is:
//! people log in with (a stand-in for) TARA, whose ID tokens carry no roles; a portal-like client
//! exchanges them at intake for Kutse access tokens. The authority appoints the body's
//! administrator, who appoints its staff, assessor, committee member and chair; the application
//! travels to an e-mailed, sealed certificate. And the refusal path, to a refusal e-mail with the
//! panel's justification.

use std::time::Duration;

use chrono::{Days, Utc};
use ed25519_dalek::SigningKey;
use kutse_auth::dev::TaraLogin;
use kutse_testkit::eventually;
use kutse_tests::{AUTHORITY_CODE, Harness, Running, call, inbox, outside};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use uuid::Uuid;

pub(super) const WAIT: Duration = Duration::from_secs(30);
const CHAIR: &str = "EE38001085718";
const ADMIN: &str = "48704147433";
const STAFF: &str = "36805280109";
const ASSESSOR: &str = "33105048161";
const MEMBER: &str = "30411030851";
pub(super) const MARI: &str = "49403136526";

pub(super) struct System {
    pub(super) intake: Running,
    pub(super) documents: Running,
    pub(super) assessment: Running,
    pub(super) committee: Running,
    pub(super) certificates: Running,
    pub(super) notifications: Running,
    pub(super) http: reqwest::Client,
    /// Last, so the services stop before their broker topology is deleted.
    pub(super) harness: Harness,
}

impl System {
    pub(super) async fn start() -> Self {
        let harness = Harness::new().expect("harness");
        let system = Self {
            intake: harness.start("intake").await.expect("intake"),
            documents: harness.start("documents").await.expect("documents"),
            assessment: harness.start("assessment").await.expect("assessment"),
            committee: harness.start("committee").await.expect("committee"),
            certificates: harness.start("certificates").await.expect("certificates"),
            notifications: harness.start("notifications").await.expect("notifications"),
            harness,
            http: reqwest::Client::new(),
        };
        // Every consumer has declared its queue before the first event is published.
        for running in [
            &system.intake,
            &system.assessment,
            &system.committee,
            &system.certificates,
            &system.notifications,
        ] {
            kutse_tests::wait_ready(running).await;
        }
        system
    }

    /// A portal's login: the person authenticates with the TARA stand-in, and the ID token is
    /// exchanged at intake for an access token acting for `body`.
    pub(super) async fn login(
        &self,
        code: &str,
        name: (&str, &str),
        email: Option<&str>,
        body: Option<Uuid>,
    ) -> String {
        let mut login = TaraLogin::new(code, name.0, name.1);
        login.email = email.map(str::to_owned);
        self.harness
            .login(&self.http, &self.intake.url, &login, body)
            .await
    }

    /// Sends `body` (as JSON) to `url` with `token`: the status and the answer.
    pub(super) async fn send(
        &self,
        method: &str,
        url: &str,
        token: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let body = body.map(|b| b.to_string());
        call(&self.http, method, url, token, body.as_deref(), None).await
    }

    /// Application `id` as its applicant reads it, once intake has marked it awarded.
    pub(super) async fn awarded(&self, id: &str, applicant: &str) -> Value {
        eventually(WAIT, "intake marks the application awarded", || async {
            let (_, app) = call(
                &self.http,
                "GET",
                &format!("{}/applications/{id}", self.intake.url),
                applicant,
                None,
                None,
            )
            .await;
            (app["status"] == "awarded").then_some(app)
        })
        .await
    }

    /// `by` appoints `code` to `role` at `body` in the role registry.
    pub(super) async fn appoint(&self, by: &str, body: Uuid, code: &str, role: &str) -> Value {
        self.post(
            &self.intake,
            &format!("/awarding-bodies/{body}/appointments"),
            by,
            json!({ "personal_code": code, "role": role, "reason": "the body's decision" }),
        )
        .await
    }

    pub(super) async fn post(&self, base: &Running, path: &str, token: &str, body: Value) -> Value {
        let (status, answer) = call(
            &self.http,
            "POST",
            &format!("{}{path}", base.url),
            token,
            Some(&body.to_string()),
            None,
        )
        .await;
        assert!(
            (200..300).contains(&status),
            "POST {path}: {status} {answer}"
        );
        answer
    }

    async fn put(&self, base: &Running, path: &str, token: &str, body: Value) -> Value {
        let (status, answer) = call(
            &self.http,
            "PUT",
            &format!("{}{path}", base.url),
            token,
            Some(&body.to_string()),
            None,
        )
        .await;
        assert!(
            (200..300).contains(&status),
            "PUT {path}: {status} {answer}"
        );
        answer
    }
}

/// One application run through the flow, and who and what it ran with.
pub(super) struct Flow {
    pub(super) s: System,
    /// The application.
    pub(super) id: String,
    /// Mari's e-mails so far.
    pub(super) mails: Vec<Value>,
    /// Mari's e-mail address.
    pub(super) email: String,
    pub(super) body_id: Uuid,
    pub(super) round_id: String,
    pub(super) staff: String,
    pub(super) assessor: String,
    pub(super) chair: String,
    pub(super) member: String,
    pub(super) chair_key: SigningKey,
}

/// Runs one application through the flow; `accept_all` decides the panel's verdict on B.2.
pub(super) async fn run_flow(accept_all: bool) -> Flow {
    let s = System::start().await;
    let email = format!("mari-{}@example.com", Uuid::now_v7().simple());

    // The authority (from configuration) creates the awarding body and appoints its
    // administrator, who appoints the body's people; each then logs in acting for the body.
    let authority = s
        .login(AUTHORITY_CODE, ("Kati", "Kutsekoda"), None, None)
        .await;
    let body = s
        .post(
            &s.intake,
            "/awarding-bodies",
            &authority,
            json!({ "name": "Eesti Juuksurite ja Kosmeetikute Ühendus" }),
        )
        .await;
    let body_id: Uuid = body["id"].as_str().expect("id").parse().expect("uuid");
    s.appoint(&authority, body_id, ADMIN, "body_administrator")
        .await;
    let admin = s.login(ADMIN, ("Anu", "Haldur"), None, Some(body_id)).await;
    s.appoint(&admin, body_id, STAFF, "awarding_body_staff")
        .await;
    s.appoint(&admin, body_id, ASSESSOR, "assessor").await;
    s.appoint(&admin, body_id, &CHAIR[2..], "committee_chair")
        .await;
    s.appoint(&admin, body_id, MEMBER, "committee_member").await;
    let staff = s
        .login(STAFF, ("Siim", "Sekretär"), None, Some(body_id))
        .await;
    let assessor = s
        .login(ASSESSOR, ("Aino", "Hindaja"), None, Some(body_id))
        .await;
    let chair = s
        .login(&CHAIR[2..], ("Toomas", "Esimees"), None, Some(body_id))
        .await;
    let member = s
        .login(MEMBER, ("Mart", "Liige"), None, Some(body_id))
        .await;

    // The body's qualification with competences, and an open round.
    let qualification = s.post(&s.intake, "/qualifications", &staff, json!({
        "awarding_body_id": body_id, "name": "Juuksur, tase 4", "level": 4,
        "competences": [ { "code": "B.1", "name": "Juuste lõikamine" }, { "code": "B.2", "name": "Juuste värvimine" } ]
    })).await;
    let round = s.post(&s.intake, "/rounds", &staff, json!({
        "qualification_id": qualification["id"],
        "deadline": (Utc::now().date_naive() + Days::new(14)).to_string(),
        "fees": [ { "kind": "prior_learning", "amount_cents": 17000 } ],
        "required_documents": ["cv"],
        "delivery_options": [ { "option": "electronic" }, { "option": "post", "cost_cents": 450 } ]
    })).await;

    // The chair's key: proposed by the body's staff, confirmed by the chair with their own login.
    let chair_key = SigningKey::generate(&mut rand_core::OsRng);
    let proposed = s
        .post(
            &s.certificates,
            "/register/signers",
            &staff,
            json!({
                "kid": "kjvy-chair", "awarding_body_id": body_id, "owner": CHAIR,
                "public_key": kutse_protocol::encode_key(&chair_key.verifying_key())
            }),
        )
        .await;
    assert_eq!(proposed["status"], "proposed");
    let confirmed = s
        .post(
            &s.certificates,
            "/register/signers/kjvy-chair/confirmation",
            &chair,
            json!({}),
        )
        .await;
    assert_eq!(confirmed["status"], "active");

    // The applicant applies, the fee is confirmed, the application is submitted.
    let mari = s
        .login(MARI, ("Mari", "Maasikas"), Some(&email), None)
        .await;
    let application = s
        .post(
            &s.intake,
            "/applications",
            &mari,
            json!({
                "round_id": round["id"], "kind": "prior_learning", "delivery_option": "electronic"
            }),
        )
        .await;
    let id = application["id"].as_str().expect("id").to_owned();

    // The CV the round requires, uploaded to the documents service.
    let cv: Vec<u8> = b"%PDF-1.7 Mari Maasikas, juuksur 2019-2026".repeat(1000);
    let upload = format!("{}/documents?application_id={id}&type=cv", s.documents.url);
    let stored: Value = eventually(WAIT, "documents knows the application", || async {
        let response = s
            .http
            .post(&upload)
            .bearer_auth(&mari)
            .header("content-type", "application/pdf")
            .body(cv.clone())
            .send()
            .await
            .ok()?;
        (response.status() == 201).then_some(response.json().await.ok()?)
    })
    .await;
    let sha256 = stored["sha256"].as_str().expect("sha256").to_owned();
    eventually(WAIT, "intake records the CV", || async {
        let url = format!("{}/applications/{id}", s.intake.url);
        let (_, app) = call(&s.http, "GET", &url, &mari, None, None).await;
        (app["documents"][0]["document_type"] == "cv").then_some(())
    })
    .await;
    s.post(
        &s.intake,
        &format!("/applications/{id}/fee-confirmation"),
        &staff,
        json!({}),
    )
    .await;
    s.post(
        &s.intake,
        &format!("/applications/{id}/submit"),
        &mari,
        json!({}),
    )
    .await;

    // The panel decides every competence.
    let case_path = format!("/assessments/{id}");
    eventually(WAIT, "the assessment case", || async {
        let (status, _) = call(
            &s.http,
            "GET",
            &format!("{}{case_path}", s.assessment.url),
            &assessor,
            None,
            None,
        )
        .await;
        (status == 200).then_some(())
    })
    .await;
    s.post(
        &s.assessment,
        &format!("{case_path}/assessors"),
        &staff,
        json!({ "assessor": ASSESSOR }),
    )
    .await;
    s.put(
        &s.assessment,
        &format!("{case_path}/competences/B.1"),
        &assessor,
        json!({ "accepted": true, "justification": "Viis aastat töötõendeid" }),
    )
    .await;
    s.put(&s.assessment, &format!("{case_path}/competences/B.2"), &assessor, json!({
        "accepted": accept_all,
        "justification": if accept_all { "Koolitustunnistused" } else { "Värvimistööde tõendid puuduvad" }
    })).await;
    s.post(
        &s.assessment,
        &format!("{case_path}/decision"),
        &assessor,
        json!({}),
    )
    .await;

    // The committee meets, votes, and the chair signs the frozen protocol.
    let session = eventually(
        WAIT,
        "the application on the committee's agenda",
        || async {
            let (status, session) = call(
                &s.http,
                "POST",
                &format!("{}/sessions", s.committee.url),
                &staff,
                Some(&json!({ "round_id": round["id"], "awarding_body_id": body_id }).to_string()),
                None,
            )
            .await;
            (status == 201).then_some(session)
        },
    )
    .await;
    let session_id = session["id"].as_str().expect("id").to_owned();
    // The staff record who is present: the whole committee (the chair and the member).
    for present in [&CHAIR[2..], MEMBER] {
        eventually(WAIT, "the member on the committee's roster", || async {
            let (status, _) = call(
                &s.http,
                "PUT",
                &format!("{}/sessions/{session_id}/presence", s.committee.url),
                &staff,
                Some(&json!({ "member": present, "present": true }).to_string()),
                None,
            )
            .await;
            (status == 200).then_some(())
        })
        .await;
    }
    for voter in [&chair, &member] {
        s.post(
            &s.committee,
            &format!("/sessions/{session_id}/votes"),
            voter,
            json!({ "application_id": id, "in_favour": true }),
        )
        .await;
    }
    // A chair who is not a person, or not the body's chair in the register (a member is not),
    // cannot freeze (and so lock) the session.
    for (chair_field, why) in [
        ("somebody", "personal code"),
        ("EE30411030851", "not the chair"),
    ] {
        let (status, problem) = call(
            &s.http,
            "POST",
            &format!("{}/sessions/{session_id}/protocol", s.committee.url),
            &staff,
            Some(&json!({ "chair": chair_field }).to_string()),
            None,
        )
        .await;
        assert_eq!(status, 422, "{problem}");
        assert_eq!(problem["errors"][0]["field"], "chair");
        assert!(problem.to_string().contains(why), "{problem}");
    }
    // The protocol is frozen once the committee has heard of the chair's appointment and active key.
    let frozen = eventually(
        WAIT,
        "the committee knows the chair and their key",
        || async {
            let (status, frozen) = call(
                &s.http,
                "POST",
                &format!("{}/sessions/{session_id}/protocol", s.committee.url),
                &staff,
                Some(&json!({ "chair": CHAIR }).to_string()),
                None,
            )
            .await;
            (status == 200).then_some(frozen)
        },
    )
    .await;
    let protocol: kutse_protocol::Protocol = serde_json::from_value(frozen).expect("protocol");
    // A signature under the wrong key is refused with its reason, and the session stays signable.
    let wrong_key = SigningKey::generate(&mut rand_core::OsRng);
    let forged =
        kutse_protocol::sign(&protocol, &wrong_key, "kjvy-chair", "kutse-protocol").expect("sign");
    let (status, problem) = call(
        &s.http,
        "POST",
        &format!("{}/sessions/{session_id}/signature", s.committee.url),
        &chair,
        Some(&json!({ "jws": forged }).to_string()),
        None,
    )
    .await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(problem["errors"][0]["field"], "jws");
    assert!(
        problem.to_string().contains("signature does not verify"),
        "{problem}"
    );
    let jws =
        kutse_protocol::sign(&protocol, &chair_key, "kjvy-chair", "kutse-protocol").expect("sign");
    s.post(
        &s.committee,
        &format!("/sessions/{session_id}/signature"),
        &chair,
        json!({ "jws": jws }),
    )
    .await;
    // The register's answer reaches the session.
    eventually(WAIT, "the register's answer on the session", || async {
        let (_, session) = call(
            &s.http,
            "GET",
            &format!("{}/sessions/{session_id}", s.committee.url),
            &staff,
            None,
            None,
        )
        .await;
        (session["register_outcome"] == "accepted").then_some(())
    })
    .await;

    // The receipt, the panel's decision notice and the committee's outcome.
    let mails = eventually(
        WAIT,
        "the receipt, decision and outcome e-mailed",
        || async {
            let mails = inbox(&email).await;
            (mails.len() >= 3).then_some(mails)
        },
    )
    .await;
    let decision = mails
        .iter()
        .find(|m| {
            m["subject"]
                .as_str()
                .is_some_and(|t| t.starts_with("Hindamiskomisjoni otsus"))
        })
        .expect("the panel's decision notice");
    let text = decision["text"].as_str().expect("text");
    assert!(text.contains("B.1 Juuste lõikamine: arvestatud"), "{text}");
    // Nothing anywhere was parked on the way.
    s.harness.assert_parked(&[]).await;
    let document: String = sqlx::query_scalar("SELECT id::text FROM documents")
        .fetch_one(&s.documents.db.pool)
        .await
        .expect("document row");
    // The file in S3 has the SHA-256 the API reported.
    let in_s3 = kutse_tests::stored_document_sha256(&document)
        .await
        .expect("object in S3");
    assert_eq!(in_s3, sha256);
    Flow {
        s,
        id,
        mails,
        email,
        body_id,
        round_id: round["id"].as_str().expect("round").to_owned(),
        staff,
        assessor,
        chair,
        member,
        chair_key,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_application_travels_from_the_portal_to_an_emailed_sealed_certificate() {
    let Flow { s, id, mails, .. } = run_flow(true).await;
    let subjects: Vec<&str> = mails.iter().filter_map(|m| m["subject"].as_str()).collect();
    let issued = mails
        .iter()
        .find(|m| {
            m["subject"]
                .as_str()
                .is_some_and(|t| t.starts_with("Kutsetunnistus"))
        })
        .unwrap_or_else(|| panic!("no certificate e-mail among {subjects:?}"));
    let text = issued["text"].as_str().expect("text");
    let number = text
        .split_whitespace()
        .find(|w| w.starts_with("KT-"))
        .expect("certificate number in the e-mail")
        .to_owned();

    // The link in the e-mail verifies the sealed certificate.
    let (status, verification) = call(
        &s.http,
        "GET",
        &format!("{}/certificates/{number}/verification", s.certificates.url),
        "",
        None,
        None,
    )
    .await;
    assert_eq!(status, 200, "{verification}");
    assert_eq!(verification["valid"], true);
    // The public view never shows the personal code (nor the seal, whose payload carries it).
    assert!(
        !verification.to_string().contains("49403136526"),
        "{verification}"
    );
    assert!(verification.get("seal").is_none());
    assert_eq!(
        verification["certificate"]["holder"]["family_name"],
        "Maasikas"
    );
    // The holder's own view does.
    let mari = s.login(MARI, ("Mari", "Maasikas"), None, None).await;
    let (status, own) = call(
        &s.http,
        "GET",
        &format!("{}/certificates/{number}", s.certificates.url),
        &mari,
        None,
        None,
    )
    .await;
    assert_eq!(status, 200, "{own}");
    assert_eq!(own["certificate"]["holder"]["isikukood"], "49403136526");
    let stranger = s
        .login(&CHAIR[2..], ("Toomas", "Esimees"), None, None)
        .await;
    let (status, _) = call(
        &s.http,
        "GET",
        &format!("{}/certificates/{number}", s.certificates.url),
        &stranger,
        None,
        None,
    )
    .await;
    assert_eq!(status, 404);
    // The e-mail links the verification page and carries the certificate as a PDF, the one the
    // register stored (its checksum is on the verification).
    let page_url = format!("{}/certificates/{number}", s.certificates.url);
    assert!(text.contains(&page_url), "{text}");
    let pdf = outside::mail_attachment(issued, &format!("{number}.pdf"))
        .await
        .expect("the PDF attached");
    std::fs::write(outside::artefacts().join("certificate.pdf"), &pdf).expect("kept");
    assert_eq!(
        verification["pdf_sha256"].as_str(),
        Some(hex::encode(Sha256::digest(&pdf)).as_str()),
        "{verification}"
    );
    // A reader's PDF tools see the holder, the qualification and the number, never the code;
    // the QR code opens the verification page.
    let pdf_text = outside::pdf_text(&pdf).expect("pdftotext");
    for expected in [
        "Mari Maasikas",
        "Juuksur",
        number.as_str(),
        "KUTSETUNNISTUS",
    ] {
        assert!(pdf_text.contains(expected), "{expected} not in {pdf_text}");
    }
    let info = outside::pdf_info(&pdf).expect("pdfinfo");
    assert!(!pdf_text.contains(MARI) && !info.contains(MARI), "{info}");
    assert!(
        info.contains("pdfaid:part>2<") || info.contains("pdfaid:part=\"2\""),
        "not PDF/A-2: {info}"
    );
    let qr = outside::pdf_qr_codes(&pdf).expect("zbarimg");
    assert_eq!(qr, vec![page_url.clone()]);
    let page = s
        .http
        .get(&qr[0])
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("html");
    assert!(page.contains("KEHTIV"), "{page}");
    assert!(!page.contains(MARI), "{page}");

    // And intake shows the applicant the outcome.
    let status = s.awarded(&id, &mari).await;
    assert_eq!(status["status"], "awarded");
    // The panel's decision notice is in the application's history, as Mari reads it.
    let decision = status["history"]
        .as_array()
        .expect("history")
        .iter()
        .find(|h| h["event"] == "assessment_decided")
        .unwrap_or_else(|| panic!("no decision in {status}"));
    assert!(
        decision["detail"]["decision_number"]
            .as_str()
            .is_some_and(|n| n.starts_with("HK-")),
        "{decision}"
    );
    assert_eq!(decision["detail"]["still_to_prove"], json!([]));

    // The authority revokes the certificate: the same page, the verification and the status
    // list say so at once, and Mari is told why.
    let authority = s
        .login(AUTHORITY_CODE, ("Kati", "Kutsekoda"), None, None)
        .await;
    let (code, revoked) = call(
        &s.http,
        "POST",
        &format!("{page_url}/revocation"),
        &authority,
        Some(&json!({ "reason": "Tunnistus anti välja ekslikult" }).to_string()),
        None,
    )
    .await;
    assert_eq!(code, 200, "{revoked}");
    let page = s
        .http
        .get(&page_url)
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("html");
    assert!(page.contains("KEHTETUKS TUNNISTATUD"), "{page}");
    let (_, after) = call(
        &s.http,
        "GET",
        &format!("{page_url}/verification"),
        "",
        None,
        None,
    )
    .await;
    assert_eq!(after["certificate"]["status"], "revoked");
    let credential = s
        .http
        .get(format!("{page_url}/credential"))
        .send()
        .await
        .expect("credential")
        .text()
        .await
        .expect("jwt");
    let entry = &outside::jws_payload(&credential).expect("payload")["credentialStatus"][0];
    assert_eq!(entry["statusPurpose"], "revocation");
    let list = s
        .http
        .get(entry["statusListCredential"].as_str().expect("list url"))
        .send()
        .await
        .expect("list")
        .text()
        .await
        .expect("jwt");
    let encoded =
        outside::jws_payload(&list).expect("list payload")["credentialSubject"]["encodedList"]
            .as_str()
            .expect("encodedList")
            .to_owned();
    let index: u32 = entry["statusListIndex"]
        .as_str()
        .expect("index")
        .parse()
        .expect("number");
    assert_eq!(
        kutse_certificates::status_list::is_set(&encoded, index),
        Ok(true)
    );
    let notice = eventually(WAIT, "the revocation e-mail", || async {
        inbox(issued["to"][0]["address"].as_str().unwrap_or_default())
            .await
            .into_iter()
            .find(|m| {
                m["subject"]
                    .as_str()
                    .is_some_and(|t| t.contains("kehtetuks"))
            })
    })
    .await;
    assert!(
        notice["text"]
            .as_str()
            .expect("text")
            .contains("Tunnistus anti välja ekslikult"),
        "{notice}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_competence_not_accepted_means_no_certificate_and_a_refusal_email_with_the_justification()
{
    let Flow { s, id, mails, .. } = run_flow(false).await;
    let refusal = mails
        .iter()
        .find(|m| {
            m["subject"]
                .as_str()
                .is_some_and(|t| t.starts_with("Otsus"))
        })
        .expect("refusal e-mail");
    let text = refusal["text"].as_str().expect("text");
    assert!(text.contains("Värvimistööde tõendid puuduvad"), "{text}");
    assert!(text.contains("B.2 Juuste värvimine"), "{text}");
    let certificates: i64 = sqlx::query_scalar("SELECT count(*) FROM certificates")
        .fetch_one(&s.certificates.db.pool)
        .await
        .expect("count");
    assert_eq!(certificates, 0);
    let mari = s.login(MARI, ("Mari", "Maasikas"), None, None).await;
    eventually(WAIT, "intake marks the application refused", || async {
        let (_, app) = call(
            &s.http,
            "GET",
            &format!("{}/applications/{id}", s.intake.url),
            &mari,
            None,
            None,
        )
        .await;
        (app["status"] == "refused").then_some(())
    })
    .await;
}

/// The register number in the certificate e-mail among `mails`.
fn certificate_number(mails: &[Value]) -> String {
    mails
        .iter()
        .filter_map(|m| m["text"].as_str())
        .flat_map(str::split_whitespace)
        .find(|w| w.starts_with("KT-"))
        .expect("a certificate number in the e-mails")
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_the_certificate_its_holder_gets_a_duplicate_under_a_new_name_and_recertifies_within_the_bodys_window()
 {
    let Flow { s, id, mails, .. } = run_flow(true).await;
    let number = certificate_number(&mails);
    let email = format!("mari-{}@example.com", Uuid::now_v7().simple());
    let mari = s
        .login(MARI, ("Mari", "Maasikas"), Some(&email), None)
        .await;
    let (_, awarded) = call(
        &s.http,
        "GET",
        &format!("{}/applications/{id}", s.intake.url),
        &mari,
        None,
        None,
    )
    .await;
    let body_id: Uuid = awarded["awarding_body_id"]
        .as_str()
        .and_then(|b| b.parse().ok())
        .expect("body");
    let staff = s
        .login(STAFF, ("Siim", "Sekretär"), None, Some(body_id))
        .await;
    let admin = s.login(ADMIN, ("Anu", "Haldur"), None, Some(body_id)).await;
    let (_, first_round) = call(
        &s.http,
        "GET",
        &format!(
            "{}/rounds/{}",
            s.intake.url,
            awarded["round_id"].as_str().expect("round")
        ),
        &staff,
        None,
        None,
    )
    .await;
    // The body's round for duplicates and recertifications of the qualification.
    let round = s.post(&s.intake, "/rounds", &staff, json!({
        "qualification_id": first_round["qualification_id"],
        "deadline": (Utc::now().date_naive() + Days::new(14)).to_string(),
        "fees": [ { "kind": "duplicate", "amount_cents": 1500 }, { "kind": "recertification", "amount_cents": 9000 } ],
        "required_documents": ["cv"],
        "delivery_options": [ { "option": "electronic" }, { "option": "post", "cost_cents": 450 } ]
    })).await;
    let apply = |token: String, fields: Value| {
        let mut body = json!({ "round_id": round["id"], "delivery_option": "electronic" });
        if let (Some(body), Some(fields)) = (body.as_object_mut(), fields.as_object()) {
            body.extend(fields.clone());
        }
        let s = &s;
        async move {
            call(
                &s.http,
                "POST",
                &format!("{}/applications", s.intake.url),
                &token,
                Some(&body.to_string()),
                None,
            )
            .await
        }
    };
    let fields = |problem: &Value| -> Vec<(String, String)> {
        problem["errors"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|e| {
                (
                    e["field"].as_str().unwrap_or_default().to_owned(),
                    e["message"]
                        .as_str()
                        .or(e["detail"].as_str())
                        .unwrap_or_default()
                        .to_owned(),
                )
            })
            .collect()
    };

    // What a duplicate and a recertification must name, and what they are refused.
    let (status, problem) = apply(
        mari.clone(),
        json!({ "kind": "duplicate", "competences": ["B.1"] }),
    )
    .await;
    assert_eq!(status, 422, "{problem}");
    let named: Vec<String> = fields(&problem).into_iter().map(|(f, _)| f).collect();
    assert_eq!(
        named,
        ["competences", "duplicate_reason", "certificate_number"],
        "{problem}"
    );
    let (status, problem) = apply(
        mari.clone(),
        json!({ "kind": "duplicate", "duplicate_reason": "lost", "certificate_number": "KT-1999-000001" }),
    )
    .await;
    assert_eq!(
        (status, fields(&problem)[0].0.as_str()),
        (422, "certificate_number"),
        "{problem}"
    );
    let not_yours = fields(&problem)[0].1.clone();
    // Someone else naming Mari's certificate hears the same as for one that does not exist.
    let stranger = s
        .login(
            "38001085718",
            ("Jaan", "Võõras"),
            Some("jaan@example.com"),
            None,
        )
        .await;
    let (status, problem) = apply(
        stranger,
        json!({ "kind": "duplicate", "duplicate_reason": "lost", "certificate_number": number }),
    )
    .await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(
        fields(&problem),
        [("certificate_number".to_owned(), not_yours)]
    );
    // A new certificate is five years from expiry: outside the body's window (12 months before).
    let (status, problem) = apply(
        mari.clone(),
        json!({ "kind": "recertification", "certificate_number": number }),
    )
    .await;
    assert_eq!(status, 422, "{problem}");
    assert!(
        fields(&problem)[0].1.contains("recertification window"),
        "{problem}"
    );
    // The body's administrator widens its window (at most 60 months either side); then the
    // recertification is taken.
    let window = |months_before: u32| {
        let body = json!({ "recertification_window": { "months_before": months_before, "months_after": 6 } });
        let (s, admin) = (&s, &admin);
        async move {
            call(
                &s.http,
                "PATCH",
                &format!("{}/awarding-bodies/{body_id}", s.intake.url),
                admin,
                Some(&body.to_string()),
                None,
            )
            .await
        }
    };
    let (status, changed) = window(61).await;
    assert_eq!(status, 422, "{changed}");
    let (status, changed) = window(60).await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!(changed["recertification_window"]["months_before"], 60);
    let (status, recertification) = apply(
        mari.clone(),
        json!({ "kind": "recertification", "certificate_number": number }),
    )
    .await;
    assert_eq!(status, 201, "{recertification}");
    assert_eq!(recertification["certificate_number"], json!(number));
    // A changed name comes from the holder's login: the same name is no change.
    let (status, problem) = apply(
        mari.clone(),
        json!({ "kind": "duplicate", "duplicate_reason": "name_changed", "certificate_number": number }),
    )
    .await;
    assert_eq!(
        (status, fields(&problem)[0].0.as_str()),
        (422, "duplicate_reason"),
        "{problem}"
    );

    // Mari married: logged in under her new name, she orders a duplicate; the body confirms the
    // fee; no assessment, no committee — the register issues a new document of the same
    // certificate under her new name, and she is e-mailed it.
    let renamed = s
        .login(MARI, ("Mari", "Mustikas"), Some(&email), None)
        .await;
    let (status, duplicate) = apply(
        renamed.clone(),
        json!({ "kind": "duplicate", "duplicate_reason": "name_changed", "certificate_number": number,
                "given_name": "Typed", "family_name": "Ignored" }),
    )
    .await;
    assert_eq!(status, 201, "{duplicate}");
    let duplicate_id = duplicate["id"].as_str().expect("id").to_owned();
    let (status, submitted) = call(
        &s.http,
        "POST",
        &format!("{}/applications/{duplicate_id}/submit", s.intake.url),
        &renamed,
        None,
        None,
    )
    .await;
    assert_eq!(
        status, 200,
        "no documents are needed for a duplicate: {submitted}"
    );
    assert_eq!(submitted["status"], "awaiting_fee");
    s.post(
        &s.intake,
        &format!("/applications/{duplicate_id}/fee-confirmation"),
        &staff,
        json!({}),
    )
    .await;
    let mail = eventually(WAIT, "the duplicate e-mailed", || async {
        inbox(&email).await.into_iter().find(|m| {
            m["subject"]
                .as_str()
                .is_some_and(|t| t.starts_with(&format!("Kutsetunnistuse {number} duplikaat")))
        })
    })
    .await;
    assert!(
        mail["text"]
            .as_str()
            .is_some_and(|t| t.contains("Lugupeetud Mari")),
        "{mail}"
    );
    let pdf = outside::mail_attachment(&mail, &format!("{number}.pdf"))
        .await
        .expect("the duplicate's PDF attached");
    let pdf_text = outside::pdf_text(&pdf).expect("pdftotext");
    assert!(pdf_text.contains("Mari Mustikas"), "{pdf_text}");
    assert!(pdf_text.contains("DUPLIKAAT / DUPLICATE 1"), "{pdf_text}");
    let (_, verification) = call(
        &s.http,
        "GET",
        &format!("{}/certificates/{number}/verification", s.certificates.url),
        "",
        None,
        None,
    )
    .await;
    assert_eq!(
        verification["certificate"]["holder"]["family_name"],
        "Mustikas"
    );
    assert_eq!(verification["certificate"]["duplicate"]["edition"], 2);
    assert_eq!(verification["certificate"]["status"], "valid");
    assert_eq!(
        verification["pdf_sha256"].as_str(),
        Some(hex::encode(Sha256::digest(&pdf)).as_str()),
        "the verification names the new document"
    );
    // The earlier document is kept, superseded; one duplicate however often it is heard.
    let editions: Vec<i32> = sqlx::query_scalar("SELECT edition FROM certificate_editions")
        .fetch_all(&s.certificates.db.pool)
        .await
        .expect("editions");
    assert_eq!(editions, [1]);
    // Intake: the duplicate's application is awarded; nothing was assessed.
    s.awarded(&duplicate_id, &renamed).await;
    let (status, _) = call(
        &s.http,
        "GET",
        &format!("{}/assessments/{duplicate_id}", s.assessment.url),
        &staff,
        None,
        None,
    )
    .await;
    assert_eq!(status, 404, "a duplicate is not assessed");
    s.harness.assert_parked(&[]).await;
}

impl Flow {
    /// The committee meets again on `application`, at a place: presence, both votes in favour,
    /// then the member recuses themselves (their vote withdrawn), the protocol — roster,
    /// presence, quorum, recusal, place — frozen and signed by the chair; returns once the
    /// register verified and accepted it.
    async fn committee_decides(&self, application: &str) {
        let s = &self.s;
        let session = eventually(WAIT, "the application on the agenda", || async {
            let (status, session) = call(
                &s.http,
                "POST",
                &format!("{}/sessions", s.committee.url),
                &self.staff,
                Some(
                    &json!({ "round_id": self.round_id, "awarding_body_id": self.body_id,
                             "place": "Tartu, Küüni 5" })
                    .to_string(),
                ),
                None,
            )
            .await;
            (status == 201 && session["agenda"].to_string().contains(application))
                .then_some(session)
        })
        .await;
        let session_id = session["id"].as_str().expect("id").to_owned();
        for present in [&CHAIR[2..], MEMBER] {
            s.put(
                &s.committee,
                &format!("/sessions/{session_id}/presence"),
                &self.staff,
                json!({ "member": present, "present": true }),
            )
            .await;
        }
        for voter in [&self.chair, &self.member] {
            s.post(
                &s.committee,
                &format!("/sessions/{session_id}/votes"),
                voter,
                json!({ "application_id": application, "in_favour": true }),
            )
            .await;
        }
        s.post(
            &s.committee,
            &format!("/sessions/{session_id}/recusals"),
            &self.member,
            json!({ "application_id": application }),
        )
        .await;
        let frozen = s
            .post(
                &s.committee,
                &format!("/sessions/{session_id}/protocol"),
                &self.staff,
                json!({ "chair": CHAIR }),
            )
            .await;
        let protocol: kutse_protocol::Protocol = serde_json::from_value(frozen).expect("protocol");
        assert_eq!(protocol.place.as_deref(), Some("Tartu, Küüni 5"));
        assert_eq!(protocol.present.len(), 2);
        assert_eq!(protocol.decisions[0].recused, [format!("EE{MEMBER}")]);
        assert_eq!(protocol.decisions[0].votes_for, 1);
        let jws = kutse_protocol::sign(&protocol, &self.chair_key, "kjvy-chair", "kutse-protocol")
            .expect("sign");
        s.post(
            &s.committee,
            &format!("/sessions/{session_id}/signature"),
            &self.chair,
            json!({ "jws": jws }),
        )
        .await;
        eventually(WAIT, "the register accepts the protocol", || async {
            let (_, session) = call(
                &s.http,
                "GET",
                &format!("{}/sessions/{session_id}", s.committee.url),
                &self.staff,
                None,
                None,
            )
            .await;
            (session["register_outcome"] == "accepted").then_some(())
        })
        .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refusal_the_applicant_appeals_is_reopened_by_the_chair_and_a_new_protocol_awards_the_certificate()
 {
    let flow = run_flow(false).await;
    let s = &flow.s;
    let id = flow.id.clone();
    let mari = s.login(MARI, ("Mari", "Maasikas"), None, None).await;
    let case_url = format!("{}/assessments/{id}", s.assessment.url);
    // Evidence for an appeal is uploaded only while one is lodged.
    let evidence: Vec<u8> = b"%PDF-1.7 Mari Maasikas: varvimistood 2024-2026".repeat(100);
    let upload = || async {
        let response = s
            .http
            .post(format!(
                "{}/documents?application_id={id}&type=appeal",
                s.documents.url
            ))
            .bearer_auth(&mari)
            .header("content-type", "application/pdf")
            .body(evidence.clone())
            .send()
            .await
            .expect("upload");
        let status = response.status().as_u16();
        (
            status,
            response.json::<Value>().await.unwrap_or(Value::Null),
        )
    };
    let (status, _) = upload().await;
    assert_eq!(status, 409, "no appeal lodged yet");
    // Told of the refusal, Mari contests the committee's outcome within 30 days.
    let appeal = eventually(WAIT, "the appeal lodged", || async {
        let (status, case) = call(
            &s.http,
            "POST",
            &format!("{case_url}/appeals"),
            &mari,
            Some(
                &json!({ "against": "committee", "reasons": "Värvimistööde tõendid on lisatud taotlusele" })
                    .to_string(),
            ),
            None,
        )
        .await;
        (status == 201).then_some(case)
    })
    .await;
    assert_eq!(appeal["appeals"][0]["against"], "committee", "{appeal}");
    // She adds her evidence to it; scanned clean, it joins the appeal the chair resolves.
    let uploaded = eventually(WAIT, "uploads open for the appeal", || async {
        let (status, answer) = upload().await;
        (status == 201).then_some(answer)
    })
    .await;
    let document = uploaded["id"].as_str().expect("document").to_owned();
    eventually(WAIT, "the document on the appeal", || async {
        let (_, case) = call(&s.http, "GET", &case_url, &mari, None, None).await;
        (case["appeals"][0]["documents"]
            .to_string()
            .contains(&document))
        .then_some(())
    })
    .await;
    // The chair upholds it at the committee.
    let appeal_id = eventually(WAIT, "the appeal at the committee", || async {
        let (_, list) = call(
            &s.http,
            "GET",
            &format!(
                "{}/appeals?awarding_body_id={}",
                s.committee.url, flow.body_id
            ),
            &flow.staff,
            None,
            None,
        )
        .await;
        list.as_array()?
            .iter()
            .find(|a| a["status"] == "lodged")
            .and_then(|a| a["id"].as_str().map(str::to_owned))
    })
    .await;
    s.post(
        &s.committee,
        &format!("/appeals/{appeal_id}/resolution"),
        &flow.chair,
        json!({ "outcome": "upheld", "reasons": "Tõendid on olemas" }),
    )
    .await;
    // The case reopens; the panel decides anew and accepts every competence. The appeal takes no
    // more documents.
    eventually(WAIT, "the case reopened", || async {
        let (_, case) = call(&s.http, "GET", &case_url, &flow.assessor, None, None).await;
        (case["status"] == "open").then_some(())
    })
    .await;
    eventually(WAIT, "uploads closed with the appeal", || async {
        (upload().await.0 == 409).then_some(())
    })
    .await;
    for code in ["B.1", "B.2"] {
        s.put(
            &s.assessment,
            &format!("/assessments/{id}/competences/{code}"),
            &flow.assessor,
            json!({ "accepted": true, "justification": "Koolitustunnistused ja tööde fotod" }),
        )
        .await;
    }
    s.post(
        &s.assessment,
        &format!("/assessments/{id}/decision"),
        &flow.assessor,
        json!({}),
    )
    .await;
    // A new session decides it; the register, which refused it once, now awards it.
    flow.committee_decides(&id).await;
    let status = s.awarded(&id, &mari).await;
    let events: Vec<&str> = status["history"]
        .as_array()
        .expect("history")
        .iter()
        .filter_map(|h| h["event"].as_str())
        .collect();
    for expected in [
        "refused",
        "appeal_lodged",
        "appeal_resolved",
        "certificate_issued",
    ] {
        assert!(
            events.iter().any(|e| e.contains(expected)),
            "{expected} not in {events:?}"
        );
    }
    let certificates: i64 = sqlx::query_scalar("SELECT count(*) FROM certificates")
        .fetch_one(&s.certificates.db.pool)
        .await
        .expect("count");
    assert_eq!(certificates, 1);
    // The staff listing the appeals at the committee read Mari's: her data tracker says so.
    eventually(WAIT, "the appeal's read in Mari's tracker", || async {
        let (_, page) = call(
            &s.http,
            "GET",
            &format!("{}/me/data-reads?per_page=100", s.intake.url),
            &mari,
            None,
            None,
        )
        .await;
        page["reads"]
            .as_array()?
            .iter()
            .any(|r| r["service"] == "committee" && r["what"] == "appeal")
            .then_some(())
    })
    .await;
    s.harness.assert_parked(&[]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_sees_who_else_read_their_data_where_and_when_and_nobody_sees_anothers() {
    let flow = run_flow(true).await;
    let s = &flow.s;
    let id = flow.id.clone();
    let number = certificate_number(&flow.mails);
    let mari = s.login(MARI, ("Mari", "Maasikas"), None, None).await;
    let get = |base: String, path: String, token: String| async move {
        call(&s.http, "GET", &format!("{base}{path}"), &token, None, None).await
    };
    // Mari reading her own application is not tracked; the staff reading it is.
    let (status, own) = get(
        s.intake.url.clone(),
        format!("/applications/{id}"),
        mari.clone(),
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = get(
        s.intake.url.clone(),
        format!("/applications/{id}"),
        flow.staff.clone(),
    )
    .await;
    assert_eq!(status, 200);
    // The assessor downloads her CV; the authority reads her certificate with her personal code.
    let document = own["documents"][0]["document_id"]
        .as_str()
        .expect("CV")
        .to_owned();
    let response = s
        .http
        .get(format!("{}/documents/{document}", s.documents.url))
        .bearer_auth(&flow.assessor)
        .send()
        .await
        .expect("download");
    assert_eq!(response.status(), 200);
    let authority = s
        .login(AUTHORITY_CODE, ("Kati", "Kutsekoda"), None, None)
        .await;
    let (status, _) = get(
        s.certificates.url.clone(),
        format!("/certificates/{number}"),
        authority,
    )
    .await;
    assert_eq!(status, 200);

    let tracked = |token: String| async move {
        let (status, page) = get(
            s.intake.url.clone(),
            "/me/data-reads?per_page=100".into(),
            token,
        )
        .await;
        assert_eq!(status, 200, "{page}");
        page["reads"]
            .as_array()
            .expect("reads")
            .iter()
            .map(|r| {
                (
                    r["service"].as_str().unwrap_or_default().to_owned(),
                    r["what"].as_str().unwrap_or_default().to_owned(),
                    r["reader_role"].as_str().unwrap_or_default().to_owned(),
                    r["reader_name"].as_str().unwrap_or_default().to_owned(),
                )
            })
            .collect::<Vec<_>>()
    };
    let expected = [
        (
            "intake",
            "application",
            "awarding_body_staff",
            "Siim Sekretär",
        ),
        ("documents", "document", "assessor", "Aino Hindaja"),
        ("assessment", "assessment case", "assessor", "Aino Hindaja"),
        ("certificates", "certificate", "authority", "Kati Kutsekoda"),
    ];
    let reads = eventually(WAIT, "the reads in Mari's data tracker", || async {
        let reads = tracked(mari.clone()).await;
        expected
            .iter()
            .all(|(service, what, role, name)| {
                reads.iter().any(|r| {
                    (r.0.as_str(), r.1.as_str(), r.2.as_str(), r.3.as_str())
                        == (*service, *what, *role, *name)
                })
            })
            .then_some(reads)
    })
    .await;
    assert!(
        reads.iter().all(|r| r.3 != "Mari Maasikas"),
        "her own reads are not tracked: {reads:?}"
    );
    let (_, page) = get(s.intake.url.clone(), "/me/data-reads".into(), mari.clone()).await;
    let staff_read = page["reads"]
        .as_array()
        .expect("reads")
        .iter()
        .find(|r| r["what"] == "application")
        .expect("the staff's read")
        .clone();
    assert_eq!(staff_read["reader_body"], json!(flow.body_id));
    assert_eq!(
        staff_read["reader_body_name"],
        "Eesti Juuksurite ja Kosmeetikute Ühendus"
    );
    assert!(
        !page.to_string().contains(STAFF),
        "no reader's personal code"
    );
    // Nobody sees another's.
    let stranger = s.login("38001085718", ("Jaan", "Võõras"), None, None).await;
    assert!(tracked(stranger).await.is_empty());
    let (status, _) = get(
        s.intake.url.clone(),
        "/me/data-reads?per_page=500".into(),
        mari,
    )
    .await;
    assert_eq!(status, 422);
}
