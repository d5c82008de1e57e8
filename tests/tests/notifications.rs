//! E-mails reach the applicant's inbox (maildev's API), once per event, in their language.

use std::time::Duration;

use chrono::{NaiveDate, Utc};
use kutse_domain::{Dvvk, Isikukood};
use kutse_messaging::Envelope;
use kutse_messaging::catalogue::{
    ApplicantRef, ApplicationRefused, ApplicationSubmitted, CertificateIssued, CompetenceRef,
    QualificationRef,
};
use kutse_testkit::eventually;
use kutse_tests::{Harness, inbox};
use uuid::Uuid;

fn applicant(email: &str, language: &str) -> ApplicantRef {
    ApplicantRef {
        isikukood: Isikukood::parse("49403136526").expect("code"),
        given_name: "Mari".into(),
        family_name: "Maasikas".into(),
        email: email.into(),
        language: language.into(),
    }
}

fn qualification() -> QualificationRef {
    QualificationRef {
        id: Uuid::now_v7(),
        name: "Juuksur, tase 4".into(),
        level: 4,
        partial: false,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_applicant_is_mailed_once_per_event_in_their_language() {
    let harness = Harness::new().expect("harness");
    let notifications = harness.start("notifications").await.expect("notifications");
    eventually(Duration::from_secs(20), "notifications ready", || async {
        let ok = reqwest::get(format!("{}/readyz", notifications.url))
            .await
            .is_ok_and(|r| r.status() == 200);
        ok.then_some(())
    })
    .await;
    let address = format!("mari-{}@example.com", Uuid::now_v7().simple());
    let application = Uuid::now_v7();

    let submitted = Envelope::new(
        &ApplicationSubmitted {
            application_id: application,
            round_id: Uuid::now_v7(),
            awarding_body_id: Uuid::now_v7(),
            qualification: qualification(),
            kind: "initial".into(),
            competences: vec![],
            applicant: applicant(&address, "et"),
            delivery_option: "electronic".into(),
            round_deadline: NaiveDate::from_ymd_opt(2026, 12, 18).expect("date"),
            submitted_at: Utc::now(),
            dvvk: Dvvk::WebForm,
        },
        Some(application),
    )
    .expect("envelope");
    // Delivered twice: one receipt.
    harness.publish(&submitted).await.expect("publish");
    harness.publish(&submitted).await.expect("publish");

    let issued = Envelope::new(
        &CertificateIssued {
            certificate_id: Uuid::now_v7(),
            register_number: "KT-2026-000042".into(),
            application_id: application,
            holder: applicant(&address, "et"),
            qualification: qualification(),
            competences: vec![],
            issued_on: Utc::now().date_naive(),
            valid_until: NaiveDate::from_ymd_opt(2031, 12, 18).expect("date"),
            verification_url: "http://127.0.0.1:8085/certificates/KT-2026-000042/verification"
                .into(),
        },
        Some(application),
    )
    .expect("envelope");
    harness.publish(&issued).await.expect("publish");

    let english = format!("john-{}@example.com", Uuid::now_v7().simple());
    let refused = Envelope::new(
        &ApplicationRefused {
            application_id: Uuid::now_v7(),
            protocol_id: Uuid::now_v7(),
            applicant: applicant(&english, "en"),
            qualification: qualification(),
            justification: "B.2.2: no evidence of colouring work".into(),
            competences_not_accepted: vec![CompetenceRef {
                code: "B.2.2".into(),
                name: "Juuste värvimine".into(),
            }],
        },
        None,
    )
    .expect("envelope");
    harness.publish(&refused).await.expect("publish");

    eventually(Duration::from_secs(20), "two mails to Mari", || async {
        (inbox(&address).await.len() >= 2).then_some(())
    })
    .await;
    let refusal = eventually(Duration::from_secs(20), "the refusal", || async {
        inbox(&english).await.pop()
    })
    .await;
    // Give a duplicate the chance to show up before counting.
    tokio::time::sleep(Duration::from_millis(800)).await;
    let mails = inbox(&address).await;
    assert_eq!(mails.len(), 2, "{mails:#?}");
    let subjects: Vec<&str> = mails.iter().filter_map(|m| m["subject"].as_str()).collect();
    assert!(
        subjects.iter().any(|s| s.contains("on kätte saadud")),
        "{subjects:?}"
    );
    let certificate = mails
        .iter()
        .find(|m| {
            m["subject"]
                .as_str()
                .is_some_and(|s| s.contains("KT-2026-000042"))
        })
        .expect("certificate mail");
    let text = certificate["text"].as_str().expect("text");
    assert!(
        text.contains("/certificates/KT-2026-000042/verification"),
        "{text}"
    );
    assert!(
        refusal["subject"]
            .as_str()
            .expect("subject")
            .starts_with("Decision on your application")
    );
    assert!(
        refusal["text"]
            .as_str()
            .expect("text")
            .contains("no evidence of colouring work")
    );
}
