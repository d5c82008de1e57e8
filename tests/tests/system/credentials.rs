//! The certificate as a document anyone can verify: its Open Badges credential checked by an
//! outside JOSE library, revocation and suspension in the status lists, the PDF, and the
//! verification page in a real browser — never with the holder's personal code in public.

use std::time::Duration;

use kutse_auth::Role;
use kutse_messaging::Envelope;
use kutse_protocol::Outcome;
use kutse_testkit::eventually;
use kutse_tests::{call, outside};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::certificates::Register;

const WAIT: Duration = Duration::from_secs(20);
const HOLDER: &str = "49403136526";

/// A register holding one certificate, issued to a holder whose name has Estonian letters; its
/// register number.
async fn issued() -> (Register, String) {
    let (register, number, _) =
        issued_to(&format!("zanna-{}@example.ee", Uuid::now_v7().simple())).await;
    (register, number)
}

/// [`issued`], to a holder whose e-mail address is `email`; with that address.
async fn issued_to(email: &str) -> (Register, String, String) {
    let register = Register::new().await;
    let application = Uuid::now_v7();
    let (mut submitted, decided) = register.facts(application, true);
    submitted.applicant.given_name = "Žanna".into();
    submitted.applicant.family_name = "Õunapuu-Šmidt".into();
    submitted.applicant.email = kutse_domain::Email::parse(email).expect("email");
    for envelope in [
        Envelope::new(&submitted, Some(application)).expect("envelope"),
        Envelope::new(&decided, Some(application)).expect("envelope"),
    ] {
        register.harness.publish(&envelope).await.expect("publish");
    }
    let protocol = register.protocol(vec![(application, Outcome::Award)]);
    let jws = kutse_protocol::sign(&protocol, &register.chair, "chair-2026", "kutse-protocol")
        .expect("sign");
    register.publish_protocol(jws).await;
    let number = eventually(WAIT, "the certificate issued", || async {
        sqlx::query_scalar::<_, String>("SELECT register_number FROM certificates")
            .fetch_optional(&register.certificates.db.pool)
            .await
            .ok()
            .flatten()
    })
    .await;
    (register, number, email.to_owned())
}

async fn text(url: &str) -> (u16, String, String) {
    let response = reqwest::get(url).await.expect("GET");
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    (status, content_type, response.text().await.expect("body"))
}

/// Whether `index` of the list at `url` is set, after jwcrypto verified the list's signature.
async fn bit(url: &str, index: &str, jwks: &Value) -> bool {
    let (status, content_type, jwt) = text(url).await;
    assert_eq!(status, 200, "{jwt}");
    assert_eq!(content_type, "application/vc+jwt");
    let verified = outside::verify_jws(&jwt, jwks).expect("the status list verifies");
    let subject = &verified["payload"]["credentialSubject"];
    assert_eq!(subject["type"], "BitstringStatusList");
    let encoded = subject["encodedList"].as_str().expect("encodedList");
    kutse_certificates::status_list::is_set(encoded, index.parse().expect("index"))
        .expect("decodes")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_credential_verifies_with_an_outside_jose_library_and_names_the_holder_only_by_a_salted_hash()
 {
    let (register, number) = issued().await;
    let base = &register.certificates.url;
    let (_, _, jwks) = text(&format!("{base}/register/jwks.json")).await;
    let jwks: Value = serde_json::from_str(&jwks).expect("JWKS");

    let (status, content_type, credential) =
        text(&format!("{base}/certificates/{number}/credential")).await;
    assert_eq!(status, 200, "{credential}");
    assert_eq!(content_type, "application/vc+jwt");
    let verified = outside::verify_jws(&credential, &jwks).expect("jwcrypto verifies it");
    assert_eq!(verified["header"]["typ"], "vc+jwt");
    assert_eq!(verified["header"]["alg"], "EdDSA");
    let vc = &verified["payload"];
    assert_eq!(
        vc["@context"],
        json!([
            "https://www.w3.org/ns/credentials/v2",
            "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
        ])
    );
    assert_eq!(
        vc["type"],
        json!(["VerifiableCredential", "OpenBadgeCredential"])
    );
    assert_eq!(vc["issuer"]["id"], format!("{base}/register"));
    let achievement = &vc["credentialSubject"]["achievement"];
    assert_eq!(achievement["name"], "Juuksur, tase 4");
    assert_eq!(achievement["humanCode"], number.as_str());
    assert_eq!(
        achievement["creator"]["name"], "Eesti Juuksurite Liit",
        "the awarding body"
    );
    let competences: Vec<&str> = achievement["alignment"]
        .as_array()
        .expect("alignment")
        .iter()
        .filter(|a| a["targetType"] == "ceasn:Competency")
        .filter_map(|a| a["targetCode"].as_str())
        .collect();
    assert_eq!(competences, ["B.2.1", "B.2.2"]);
    assert_eq!(vc["evidence"][0]["type"], json!(["Evidence"]));
    // The personal code is nowhere in it; the salted hash is, and the salt only in the holder's
    // own view, where it proves the credential names them.
    assert!(!credential.contains(HOLDER) && !vc.to_string().contains(HOLDER));
    let identity = &vc["credentialSubject"]["identifier"][0];
    assert_eq!(identity["hashed"], true);
    assert!(identity.get("salt").is_none(), "{identity}");
    let holder = register
        .harness
        .token_for(&format!("EE{HOLDER}"), &[], None);
    let (status, own) = register
        .get(&format!("/certificates/{number}"), &holder)
        .await;
    assert_eq!(status, 200, "{own}");
    let salt = own["identity_salt"].as_str().expect("salt");
    assert_eq!(
        identity["identityHash"].as_str(),
        Some(
            format!(
                "sha256${}",
                hex::encode(Sha256::digest(format!("{HOLDER}{salt}")))
            )
            .as_str()
        )
    );
    assert_eq!(own["credential"].as_str(), Some(credential.as_str()));

    // Both status entries point at signed lists of 131,072 entries, neither bit set yet.
    let entries = vc["credentialStatus"].as_array().expect("status");
    let purposes: Vec<&str> = entries
        .iter()
        .filter_map(|e| e["statusPurpose"].as_str())
        .collect();
    assert_eq!(purposes, ["revocation", "suspension"]);
    for entry in entries {
        let url = entry["statusListCredential"].as_str().expect("url");
        assert!(
            !bit(
                url,
                entry["statusListIndex"].as_str().expect("index"),
                &jwks
            )
            .await
        );
        let (_, _, list) = text(url).await;
        let payload = outside::jws_payload(&list).expect("payload");
        let encoded = payload["credentialSubject"]["encodedList"]
            .as_str()
            .expect("list");
        assert!(!list.contains(HOLDER));
        // GZIP of 16 KiB, multibase base64url: the list is the full 131,072 entries.
        assert!(encoded.starts_with('u'));
    }
    // The contexts the credential names are served as embedded.
    for file in ["credentials-v2.jsonld", "ob-v3p0-context-3.0.3.jsonld"] {
        let (status, _, context) = text(&format!("{base}/register/contexts/{file}")).await;
        assert_eq!(status, 200);
        assert!(serde_json::from_str::<Value>(&context).expect("JSON")["@context"].is_object());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_authority_and_the_body_suspend_reinstate_and_revoke_with_a_reason_and_the_lists_follow()
 {
    let email = format!("zanna-{}@example.ee", Uuid::now_v7().simple());
    let (register, number, _) = issued_to(&email).await;
    let notifications = register
        .harness
        .start("notifications")
        .await
        .expect("notifications");
    kutse_tests::wait_ready(&notifications).await;
    register.harness.wait_for_queue("notifications").await;
    // The holder's mails of status changes (not the certificate's own), by subject, once `n`
    // have arrived.
    let subjects = |n: usize| {
        let email = email.clone();
        let prefix = format!("Kutsetunnistus {number} ");
        async move {
            eventually(WAIT, "the holder's mails", || async {
                let subjects: Vec<String> = kutse_tests::inbox(&email)
                    .await
                    .iter()
                    .filter_map(|m| m["subject"].as_str().map(str::to_owned))
                    .filter(|s| s.starts_with(&prefix) && !s.contains(" on välja antud: "))
                    .collect();
                (subjects.len() >= n).then_some(subjects)
            })
            .await
        }
    };
    let base = register.certificates.url.clone();
    let (_, _, jwks) = text(&format!("{base}/register/jwks.json")).await;
    let jwks: Value = serde_json::from_str(&jwks).expect("JWKS");
    let (_, _, credential) = text(&format!("{base}/certificates/{number}/credential")).await;
    let vc = outside::jws_payload(&credential).expect("payload");
    let entry = |purpose: &str| -> (String, String) {
        let e = vc["credentialStatus"]
            .as_array()
            .expect("entries")
            .iter()
            .find(|e| e["statusPurpose"] == purpose)
            .expect("entry")
            .clone();
        (
            e["statusListCredential"].as_str().expect("url").to_owned(),
            e["statusListIndex"].as_str().expect("index").to_owned(),
        )
    };
    let (revocation_list, revocation_index) = entry("revocation");
    let (suspension_list, suspension_index) = entry("suspension");
    let shown = || async {
        let (_, v) = register
            .get(&format!("/certificates/{number}/verification"), "")
            .await;
        v["certificate"]["status"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };
    let change = |what: &'static str, token: String, reason: &'static str| {
        let path = format!("/certificates/{number}/{what}");
        let register = &register;
        async move {
            register
                .post(&path, &token, json!({ "reason": reason }))
                .await
        }
    };

    // Neither the holder nor another body's staff may; a change needs a reason.
    let holder = register
        .harness
        .token_for(&format!("EE{HOLDER}"), &[], None);
    let (status, _) = change("revocation", holder, "I lost it").await;
    assert_eq!(status, 403);
    let other_staff = register.harness.token_for(
        "EE36805280109",
        &[Role::AwardingBodyStaff],
        Some(Uuid::now_v7()),
    );
    let (status, _) = change("suspension", other_staff, "not ours").await;
    assert_eq!(status, 403);
    let (status, problem) = change("suspension", register.staff(), "  ").await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(problem["errors"][0]["field"], "reason", "{problem}");
    let (status, _) = change("reinstatement", register.staff(), "nothing to lift").await;
    assert_eq!(status, 409, "a valid certificate is not reinstated");
    assert_eq!(shown().await, "valid");

    // The body suspends: the suspension list's bit is set at once, the revocation list's not.
    let (status, changed) = change("suspension", register.staff(), "Kaebus menetluses").await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!(changed["status"], "suspended");
    assert_eq!(shown().await, "suspended");
    assert!(bit(&suspension_list, &suspension_index, &jwks).await);
    assert!(!bit(&revocation_list, &revocation_index, &jwks).await);
    let (status, _) = change("suspension", register.staff(), "again").await;
    assert_eq!(status, 409);
    // The holder is told, in their language, with the reason.
    let mails = subjects(1).await;
    assert!(
        mails
            .iter()
            .any(|s| s.starts_with(&format!("Kutsetunnistus {number} peatatud"))),
        "{mails:?}"
    );

    // Reinstated: valid again, the bit cleared.
    let (status, _) = change("reinstatement", register.staff(), "Kaebus lahendatud").await;
    assert_eq!(status, 200);
    assert_eq!(shown().await, "valid");
    assert!(!bit(&suspension_list, &suspension_index, &jwks).await);
    let mails = subjects(2).await;
    assert!(
        mails
            .iter()
            .any(|s| s.starts_with(&format!("Kutsetunnistus {number} taastatud"))),
        "{mails:?}"
    );

    // What the authority suspends, the body cannot lift; the authority can.
    let (status, _) = change("suspension", register.authority(), "Järelevalve").await;
    assert_eq!(status, 200);
    let (status, problem) = change("reinstatement", register.staff(), "we disagree").await;
    assert_eq!(status, 403, "{problem}");
    assert_eq!(shown().await, "suspended");
    let (status, _) = change(
        "reinstatement",
        register.authority(),
        "Järelevalve lõpetatud",
    )
    .await;
    assert_eq!(status, 200);

    // The body's administrator revokes; revocation is final.
    let administrator = register.harness.token_for(
        "EE38001085718",
        &[Role::BodyAdministrator],
        Some(register.body),
    );
    let (status, _) = change("revocation", administrator, "Välja antud ekslikult").await;
    assert_eq!(status, 200);
    assert_eq!(shown().await, "revoked");
    assert!(bit(&revocation_list, &revocation_index, &jwks).await);
    for what in ["reinstatement", "suspension", "revocation"] {
        let (status, problem) = change(what, register.authority(), "once more").await;
        assert_eq!(status, 409, "{what}: {problem}");
    }

    // Each change is recorded (who in which role, why) and announced once.
    let holder = register
        .harness
        .token_for(&format!("EE{HOLDER}"), &[], None);
    let (_, own) = register
        .get(&format!("/certificates/{number}"), &holder)
        .await;
    assert_eq!(own["status"], "revoked");
    let history: Vec<(String, String)> = own["history"]
        .as_array()
        .expect("history")
        .iter()
        .map(|h| {
            (
                h["action"].as_str().unwrap_or_default().to_owned(),
                h["actor_role"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        history,
        [
            ("suspended".to_owned(), "awarding_body_staff".to_owned()),
            ("reinstated".to_owned(), "awarding_body_staff".to_owned()),
            ("suspended".to_owned(), "authority".to_owned()),
            ("reinstated".to_owned(), "authority".to_owned()),
            ("revoked".to_owned(), "body_administrator".to_owned()),
        ]
    );
    let mails = subjects(5).await;
    assert!(
        mails
            .iter()
            .any(|s| s.starts_with(&format!("Kutsetunnistus {number} kehtetuks tunnistatud"))),
        "{mails:?}"
    );
    assert_eq!(
        register
            .count("SELECT count(*) FROM messaging.outbox WHERE message_type = 'certificate.status_changed'")
            .await,
        5
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pdf_is_rendered_after_issuance_stored_with_its_checksum_and_given_only_to_those_entitled()
 {
    let (register, number) = issued().await;
    let holder = register
        .harness
        .token_for(&format!("EE{HOLDER}"), &[], None);
    let own = eventually(WAIT, "the PDF rendered", || async {
        let (_, own) = register
            .get(&format!("/certificates/{number}"), &holder)
            .await;
        own.get("pdf").is_some().then_some(own)
    })
    .await;
    let url = own["pdf"]["url"].as_str().expect("url").to_owned();
    let response = reqwest::Client::new()
        .get(&url)
        .bearer_auth(&holder)
        .send()
        .await
        .expect("GET");
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"].to_str().ok(),
        Some("application/pdf")
    );
    let pdf = response.bytes().await.expect("PDF").to_vec();
    assert_eq!(
        own["pdf"]["sha256"].as_str(),
        Some(hex::encode(Sha256::digest(&pdf)).as_str())
    );
    let (_, verification) = register
        .get(&format!("/certificates/{number}/verification"), "")
        .await;
    assert_eq!(verification["pdf_sha256"], own["pdf"]["sha256"]);
    std::fs::write(
        outside::artefacts().join("certificate-estonian-letters.pdf"),
        &pdf,
    )
    .expect("kept");
    // The Estonian letters come out of the PDF as text (the font is embedded with its Unicode
    // map), and the personal code is neither on the page nor in the metadata.
    let text = outside::pdf_text(&pdf).expect("pdftotext");
    assert!(text.contains("Žanna Õunapuu-Šmidt"), "{text}");
    assert!(text.contains("Juuste värvimine"), "{text}");
    // In both languages, with its number, body and dates.
    let (_, public) = register
        .get(&format!("/certificates/{number}/verification"), "")
        .await;
    let day = |field: &str| -> String {
        let date: chrono::NaiveDate =
            serde_json::from_value(public["certificate"][field].clone()).expect("date");
        date.format("%d.%m.%Y").to_string()
    };
    for seen in [
        "KUTSETUNNISTUS",
        "Certificate of occupational qualification",
        "Awarding body",
        "Kutse andja",
        "Eesti Juuksurite Liit",
        &format!("Nr / No {number}"),
        &day("issued_on"),
        &day("valid_until"),
    ] {
        assert!(text.contains(seen), "{seen} not in the PDF: {text}");
    }
    // Every font is embedded (subset) with its Unicode map: the letters look and copy the same
    // on any machine.
    let fonts = outside::pdf_fonts(&pdf).expect("pdffonts");
    let rows: Vec<&str> = fonts
        .lines()
        .skip(2)
        .filter(|l| !l.trim().is_empty())
        .collect();
    assert!(!rows.is_empty(), "{fonts}");
    for row in rows {
        let columns: Vec<&str> = row.split_whitespace().collect();
        // name type… encoding emb sub uni object ID
        let n = columns.len();
        assert!(n >= 7, "{row}");
        assert_eq!(
            (columns[n - 5], columns[n - 4], columns[n - 3]),
            ("yes", "yes", "yes"),
            "embedded, subset, with a Unicode map: {fonts}"
        );
    }
    let info = outside::pdf_info(&pdf).expect("pdfinfo");
    assert!(!text.contains(HOLDER) && !info.contains(HOLDER), "{info}");
    assert_eq!(
        outside::pdf_qr_codes(&pdf).expect("QR"),
        [format!(
            "{}/certificates/{number}",
            register.certificates.url
        )]
    );
    // Rendered once, announced once.
    assert_eq!(
        register
            .count(
                "SELECT count(*) FROM messaging.outbox WHERE message_type = 'certificate.rendered'"
            )
            .await,
        1
    );
    // Only the holder, the body and the authority get it.
    let stranger = register.harness.token_for("EE38001085718", &[], None);
    let response = reqwest::Client::new()
        .get(&url)
        .bearer_auth(&stranger)
        .send()
        .await
        .expect("GET");
    assert_eq!(response.status(), 404);
    let response = reqwest::get(&url).await.expect("GET");
    assert_eq!(response.status(), 401);
    let response = reqwest::Client::new()
        .get(&url)
        .bearer_auth(register.staff())
        .send()
        .await
        .expect("GET");
    assert_eq!(response.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_verification_page_shows_a_person_the_certificate_in_a_real_browser_in_estonian_and_english()
 {
    let (register, number) = issued().await;
    let page = format!("{}/certificates/{number}", register.certificates.url);
    let artefacts = outside::artefacts();
    // Once its PDF is stored, the page shows the PDF's checksum.
    let holder = register
        .harness
        .token_for(&format!("EE{HOLDER}"), &[], None);
    let sha256 = eventually(WAIT, "the PDF rendered", || async {
        let (_, own) = register
            .get(&format!("/certificates/{number}"), &holder)
            .await;
        own["pdf"]["sha256"].as_str().map(str::to_owned)
    })
    .await;

    let estonian = outside::browse(
        &format!("{page}?lang=et"),
        &artefacts.join("verification-page-et.png"),
    )
    .expect("Chromium loads the page");
    for seen in [
        "KEHTIV",
        "Kutsetunnistus",
        "Žanna Õunapuu-Šmidt",
        "Juuksur, tase 4",
        "Eesti Juuksurite Liit",
        "B.2.1 Juuste lõikamine",
        number.as_str(),
        sha256.as_str(),
    ] {
        assert!(
            estonian.contains(seen),
            "{seen} not on the page: {estonian}"
        );
    }
    assert!(estonian.contains("/credential"), "a link to the credential");
    assert!(!estonian.contains(HOLDER), "{estonian}");
    let screenshot = std::fs::read(artefacts.join("verification-page-et.png")).expect("screenshot");
    assert!(screenshot.starts_with(b"\x89PNG"), "a PNG screenshot");

    // Chromium asks for English (its Accept-Language): the page answers in English.
    let english = outside::browse(&page, &artefacts.join("verification-page-en.png"))
        .expect("Chromium loads the page");
    assert!(english.contains("VALID"), "{english}");
    assert!(english.contains("Awarding body"), "{english}");
    assert!(!english.contains(HOLDER));

    // A browser that prefers English gets English; a number the register does not hold is a page
    // that says so, with 404.
    let response = reqwest::Client::new()
        .get(&page)
        .header("accept-language", "en-GB,en;q=0.9,et;q=0.5")
        .send()
        .await
        .expect("GET");
    assert!(
        response.headers()["content-type"]
            .to_str()
            .is_ok_and(|t| t.starts_with("text/html"))
    );
    assert!(response.text().await.expect("html").contains("VALID"));
    let (status, _, missing) = text(&format!(
        "{}/certificates/KT-1999-000001",
        register.certificates.url
    ))
    .await;
    assert_eq!(status, 404);
    assert!(missing.contains("EI LEITUD"), "{missing}");

    // Suspended, the page says so (and expired ones: `shown_status`'s unit test).
    let html = |lang: &'static str| {
        let url = format!("{page}?lang={lang}");
        async move { text(&url).await.2 }
    };
    let (status, _) = register
        .post(
            &format!("/certificates/{number}/suspension"),
            &register.staff(),
            json!({ "reason": "Kaebus menetluses" }),
        )
        .await;
    assert_eq!(status, 200);
    assert!(html("et").await.contains("PEATATUD"));
    assert!(html("en").await.contains("SUSPENDED"));
    let (status, _) = register
        .post(
            &format!("/certificates/{number}/reinstatement"),
            &register.staff(),
            json!({ "reason": "Kaebus lahendatud" }),
        )
        .await;
    assert_eq!(status, 200);

    // Revoked, the same page says so.
    let (status, _) = register
        .post(
            &format!("/certificates/{number}/revocation"),
            &register.authority(),
            json!({ "reason": "Välja antud ekslikult" }),
        )
        .await;
    assert_eq!(status, 200);
    let revoked = outside::browse(
        &format!("{page}?lang=et"),
        &artefacts.join("verification-page-revoked.png"),
    )
    .expect("Chromium loads the page");
    assert!(revoked.contains("KEHTETUKS TUNNISTATUD"), "{revoked}");
    let (_, json) = call(
        &reqwest::Client::new(),
        "GET",
        &format!("{page}/verification"),
        "",
        None,
        None,
    )
    .await;
    assert_eq!(json["certificate"]["status"], "revoked");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn six_months_before_expiry_the_holder_is_told_once_however_often_the_sweep_runs() {
    let (register, number) = issued().await;
    let pool = &register.certificates.db.pool;
    let base = &register.certificates.url;
    let today = kutse_domain::tallinn_today();
    let expiring = || async {
        sqlx::query_scalar::<_, i64>(
            "SELECT count(*) FROM messaging.outbox WHERE message_type = 'certificate.expiring'",
        )
        .fetch_one(pool)
        .await
        .expect("count")
    };
    // Valid for years: nothing to tell yet.
    assert_eq!(
        kutse_certificates::expiry::run_once(pool, base, today)
            .await
            .expect("sweep"),
        0
    );
    // Five months left: told once, by however many sweeps.
    let until = today + chrono::Months::new(5);
    sqlx::query("UPDATE certificates SET valid_until = $1")
        .bind(until)
        .execute(pool)
        .await
        .expect("expiring soon");
    let first = kutse_certificates::expiry::run_once(pool, base, today);
    let second = kutse_certificates::expiry::run_once(pool, base, today);
    let (first, second) = tokio::join!(first, second);
    assert_eq!(first.expect("sweep") + second.expect("sweep"), 1);
    assert_eq!(
        kutse_certificates::expiry::run_once(pool, base, today)
            .await
            .expect("sweep"),
        0
    );
    assert_eq!(expiring().await, 1);
    let (body,): (Vec<u8>,) = sqlx::query_as(
        "SELECT body FROM messaging.outbox WHERE message_type = 'certificate.expiring'",
    )
    .fetch_one(pool)
    .await
    .expect("event");
    let event: Value = serde_json::from_slice(&body).expect("envelope");
    assert_eq!(event["payload"]["register_number"], number.as_str());
    assert_eq!(event["payload"]["valid_until"], json!(until));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_holder_lists_their_certificates_and_alone_decides_whether_each_is_published() {
    let (register, number) = issued().await;
    let holder = register
        .harness
        .token_for(&format!("EE{HOLDER}"), &[], None);
    let (status, mine) = register.get("/me/certificates", &holder).await;
    assert_eq!(status, 200, "{mine}");
    assert_eq!(mine[0]["register_number"], number.as_str());
    assert_eq!(mine[0]["published"], true, "shown unless hidden");
    assert_eq!(mine[0]["status"], "valid");
    let someone = register.harness.token_for("EE38001085718", &[], None);
    let (_, theirs) = register.get("/me/certificates", &someone).await;
    assert_eq!(theirs, json!([]));

    let put = |token: String, published: bool| {
        let url = format!(
            "{}/certificates/{number}/publication",
            register.certificates.url
        );
        async move {
            call(
                &reqwest::Client::new(),
                "PUT",
                &url,
                &token,
                Some(&json!({ "published": published }).to_string()),
                None,
            )
            .await
        }
    };
    let (status, _) = put(someone, false).await;
    assert_eq!(status, 404, "only the holder decides");
    let (status, _) = put(register.staff(), false).await;
    assert_eq!(status, 404);
    let (status, decided) = put(holder.clone(), false).await;
    assert_eq!(status, 200, "{decided}");
    let (_, mine) = register.get("/me/certificates", &holder).await;
    assert_eq!(mine[0]["published"], false);
    let (status, _) = put(holder.clone(), true).await;
    assert_eq!(status, 200);
    let (_, mine) = register.get("/me/certificates", &holder).await;
    assert_eq!(mine[0]["published"], true);
    assert_eq!(
        register
            .count("SELECT count(*) FROM publication_decisions")
            .await,
        2,
        "each decision is recorded"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_public_register_finds_published_certificates_without_personal_codes_and_limits_each_client()
 {
    let (register, number) = issued().await;
    let base = register.certificates.url.clone();
    let http = reqwest::Client::new();
    let search = |query: String, client: &'static str| {
        let http = http.clone();
        let url = format!("{base}/register/certificates?{query}");
        async move {
            let response = http
                .get(url)
                .header("x-forwarded-for", client)
                .send()
                .await
                .expect("search");
            let status = response.status().as_u16();
            let retry = response
                .headers()
                .get("retry-after")
                .map(|v| v.to_str().unwrap_or_default().to_owned());
            (
                status,
                retry,
                response.json::<Value>().await.unwrap_or(Value::Null),
            )
        }
    };
    for query in [
        "name=%C3%95unapuu",
        "name=%C5%BDanna",
        "qualification=juuksur",
        &format!("register_number={number}"),
    ] {
        let (status, _, found) = search(query.to_owned(), "198.51.100.1").await;
        assert_eq!(status, 200, "{query}: {found}");
        assert_eq!(found["total"], 1, "{query}: {found}");
        assert_eq!(found["certificates"][0]["register_number"], number.as_str());
        assert!(!found.to_string().contains(HOLDER), "{found}");
    }
    let (_, _, none) = search("name=Tamm".into(), "198.51.100.1").await;
    assert_eq!(none["total"], 0);
    // Wildcards are searched as letters.
    let (_, _, none) = search("name=%25%25".into(), "198.51.100.1").await;
    assert_eq!(none["total"], 0);
    for (query, field) in [("", "name"), ("name=%C3%95unapuu&per_page=500", "per_page")] {
        let (status, _, problem) = search(query.into(), "198.51.100.1").await;
        assert_eq!(
            (status, &problem["errors"][0]["field"]),
            (422, &json!(field)),
            "{problem}"
        );
    }

    // Hidden by its holder, it is not found.
    let holder = register
        .harness
        .token_for(&format!("EE{HOLDER}"), &[], None);
    let (status, _) = call(
        &http,
        "PUT",
        &format!("{base}/certificates/{number}/publication"),
        &holder,
        Some(&json!({ "published": false }).to_string()),
        None,
    )
    .await;
    assert_eq!(status, 200);
    let (_, _, hidden) = search("qualification=juuksur".into(), "198.51.100.1").await;
    assert_eq!(hidden["total"], 0, "{hidden}");

    // One client is limited; another is not.
    let mut last = (0, None);
    for _ in 0..kutse_certificates::http::SEARCH_PER_MINUTE {
        let (status, retry, _) = search("qualification=juuksur".into(), "203.0.113.7").await;
        last = (status, retry);
    }
    assert_eq!(last.0, 200);
    let (status, retry, _) = search("qualification=juuksur".into(), "203.0.113.7").await;
    assert_eq!(status, 429);
    assert!(retry.is_some_and(|r| r.parse::<u64>().is_ok_and(|s| s >= 1)));
    let (status, _, _) = search("qualification=juuksur".into(), "203.0.113.8").await;
    assert_eq!(status, 200);
}
