//! One trace per application: the portal's request, every service's handling of the event it
//! caused, and the e-mail that followed share one W3C trace id. The spans are collected in this
//! process (every service runs in it) by an exporter of the test's own, given to the same
//! telemetry set-up the services use in production with an OTLP exporter.

use std::sync::{Arc, Mutex};

use chrono::{Days, Utc};
use opentelemetry::Value as Attribute;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SpanData, SpanExporter};
use serde_json::json;
use uuid::Uuid;

use kutse_testkit::eventually;
use kutse_tests::{AUTHORITY_CODE, call};

use super::flow::{MARI, System, WAIT, run_flow};

/// Keeps every finished span.
#[derive(Debug, Clone, Default)]
struct Collected(Arc<Mutex<Vec<SpanData>>>);

impl SpanExporter for Collected {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        self.0.lock().expect("lock").extend(batch);
        Ok(())
    }
}

impl Collected {
    /// The spans of trace `trace_id`, each as (name, the consumer group that handled it, if any).
    fn of_trace(&self, trace_id: &str) -> Vec<(String, Option<String>)> {
        self.with_attribute(trace_id, "messaging.consumer.group.name")
    }

    /// The spans of trace `trace_id`, each as (name, its attribute `key`, if it has one).
    fn with_attribute(&self, trace_id: &str, key: &str) -> Vec<(String, Option<String>)> {
        self.0
            .lock()
            .expect("lock")
            .iter()
            .filter(|span| span.span_context.trace_id().to_string() == trace_id)
            .map(|span| {
                let value = span
                    .attributes
                    .iter()
                    .find(|kv| kv.key.as_str() == key)
                    .map(|kv| match &kv.value {
                        Attribute::String(s) => s.to_string(),
                        other => other.to_string(),
                    });
                (span.name.to_string(), value)
            })
            .collect()
    }

    /// The trace ids of the spans named `name`.
    fn traces_of(&self, name: &str) -> Vec<String> {
        self.0
            .lock()
            .expect("lock")
            .iter()
            .filter(|span| span.name == name)
            .map(|span| span.span_context.trace_id().to_string())
            .collect()
    }
}

/// Collects every span of this process: the test needs a process of its own, as cargo nextest
/// gives each test.
fn collect_spans() -> Collected {
    let spans = Collected::default();
    kutse_telemetry::init_exporting_to(
        &kutse_telemetry::TelemetryConfig {
            service_name: "kutse-test".to_owned(),
            log_filter: "warn".to_owned(),
            json_logs: false,
            otlp_export: false,
        },
        spans.clone(),
    )
    .map(std::mem::forget)
    .expect("this test needs a process of its own (cargo nextest runs each test in one)");
    spans
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_portals_submission_every_services_handling_and_the_email_share_one_trace() {
    let spans = collect_spans();
    let s = System::start().await;

    // A body, its qualification and a round without required documents; Mari applies and the
    // body confirms her fee.
    let authority = s
        .login(AUTHORITY_CODE, ("Kati", "Kutsekoda"), None, None)
        .await;
    let body = s
        .post(
            &s.intake,
            "/awarding-bodies",
            &authority,
            json!({ "name": "Jälgitav Kutseühing" }),
        )
        .await;
    let body_id: Uuid = body["id"].as_str().expect("id").parse().expect("uuid");
    s.appoint(&authority, body_id, "48704147433", "body_administrator")
        .await;
    let admin = s
        .login("48704147433", ("Anu", "Haldur"), None, Some(body_id))
        .await;
    s.appoint(&admin, body_id, "36805280109", "awarding_body_staff")
        .await;
    let staff = s
        .login("36805280109", ("Siim", "Sekretär"), None, Some(body_id))
        .await;
    let qualification = s
        .post(
            &s.intake,
            "/qualifications",
            &staff,
            json!({
                "awarding_body_id": body_id, "name": "Juuksur, tase 4", "level": 4,
                "competences": [ { "code": "B.1", "name": "Juuste lõikamine" } ]
            }),
        )
        .await;
    let round = s
        .post(
            &s.intake,
            "/rounds",
            &staff,
            json!({
                "qualification_id": qualification["id"],
                "deadline": (Utc::now().date_naive() + Days::new(14)).to_string(),
                "fees": [ { "kind": "initial", "amount_cents": 5000 } ],
                "required_documents": [],
                "delivery_options": [ { "option": "electronic" } ]
            }),
        )
        .await;
    let email = format!("traced-{}@example.com", Uuid::now_v7().simple());
    let mari = s
        .login(MARI, ("Mari", "Maasikas"), Some(&email), None)
        .await;
    let application = s
        .post(
            &s.intake,
            "/applications",
            &mari,
            json!({
                "round_id": round["id"], "kind": "initial", "delivery_option": "electronic"
            }),
        )
        .await;
    let id = application["id"].as_str().expect("id").to_owned();
    s.post(
        &s.intake,
        &format!("/applications/{id}/fee-confirmation"),
        &staff,
        json!({}),
    )
    .await;

    // The portal submits, in a trace of its own (its W3C `traceparent`).
    let trace_id = Uuid::now_v7().simple().to_string();
    let traceparent = format!(
        "00-{trace_id}-{}-01",
        &Uuid::now_v7().simple().to_string()[..16]
    );
    let submitted = s
        .http
        .post(format!("{}/applications/{id}/submit", s.intake.url))
        .bearer_auth(&mari)
        .header("traceparent", &traceparent)
        .send()
        .await
        .expect("submit");
    assert_eq!(submitted.status(), 200, "{:?}", submitted.text().await);

    // Every service handles application.submitted in that trace, and notifications sends the
    // receipt in it.
    let consumers = [
        "documents",
        "assessment",
        "committee",
        "certificates",
        "notifications",
    ];
    let seen = eventually(
        WAIT,
        "every handling and the e-mail in the trace",
        || async {
            let seen = spans.of_trace(&trace_id);
            let handled_by = |service: &str| {
                seen.iter().any(|(name, group)| {
                    name == "application.submitted process" && group.as_deref() == Some(service)
                })
            };
            let mailed = seen.iter().any(|(name, _)| name == "mail send");
            (consumers.iter().all(|c| handled_by(c)) && mailed).then_some(seen)
        },
    )
    .await;
    assert!(
        seen.iter()
            .any(|(name, _)| name == "POST /applications/{id}/submit"),
        "the portal's request is in the trace: {seen:?}"
    );
    // The receipt it sent is Mari's.
    let mails = kutse_tests::inbox(&email).await;
    assert!(!mails.is_empty(), "the receipt reached Mari");
    // Another request is another trace.
    let (status, _) = call(
        &s.http,
        "GET",
        &format!("{}/applications/{id}", s.intake.url),
        &mari,
        None,
        None,
    )
    .await;
    assert_eq!(status, 200);
    let others = spans.traces_of("GET /applications/{id}");
    assert!(!others.is_empty() && others.iter().all(|t| *t != trace_id));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_chairs_signature_the_issuance_the_pdf_and_the_certificates_email_share_one_trace() {
    let spans = collect_spans();
    // Mari's application, from the portal's POST to the chair's signature of the protocol that
    // awards it; the register accepted it.
    let flow = run_flow(true).await;

    // The chair signed twice: first under a wrong key (refused), then under the right one. The
    // accepted signature's trace holds the register's issuance (its handling of
    // protocol.signed), the PDF's rendering, notifications' handling of certificate.rendered and
    // the sending of the certificate's e-mail, which the PDF worker sent on after the issuance
    // had committed.
    let signatures = spans.traces_of("POST /sessions/{id}/signature");
    assert_eq!(signatures.len(), 2, "{signatures:?}");
    let handled = |trace: &str, message: &str, service: &str| {
        spans.of_trace(trace).iter().any(|(name, group)| {
            *name == format!("{message} process") && group.as_deref() == Some(service)
        })
    };
    let mailed = |trace: &str| {
        spans
            .with_attribute(trace, "kind")
            .iter()
            .any(|(name, kind)| {
                name == "mail send" && kind.as_deref() == Some("certificate_issued")
            })
    };
    let trace = eventually(
        WAIT,
        "the issuance, the rendering and the certificate's e-mail in the signature's trace",
        || async {
            signatures
                .iter()
                .find(|trace| {
                    handled(trace, "protocol.signed", "certificates")
                        && spans
                            .of_trace(trace)
                            .iter()
                            .any(|(name, _)| name == "certificate render")
                        && handled(trace, "certificate.rendered", "notifications")
                        && mailed(trace)
                })
                .cloned()
        },
    )
    .await;
    // The committee heard the register's answer in the same trace.
    assert!(
        handled(&trace, "protocol.accepted", "committee"),
        "{:?}",
        spans.of_trace(&trace)
    );
    // The refused signature caused nothing.
    let refused = signatures
        .iter()
        .find(|t| **t != trace)
        .expect("two traces");
    assert!(
        !handled(refused, "protocol.signed", "certificates"),
        "{:?}",
        spans.of_trace(refused)
    );
    // The mail sent in that trace is Mari's certificate, by its number.
    let number: String = sqlx::query_scalar("SELECT register_number FROM certificates")
        .fetch_one(&flow.s.certificates.db.pool)
        .await
        .expect("the certificate");
    let mail = eventually(WAIT, "the certificate e-mailed", || async {
        kutse_tests::inbox(&flow.email)
            .await
            .into_iter()
            .find(|m| m["text"].as_str().is_some_and(|t| t.contains(&number)))
    })
    .await;
    assert!(
        mail["subject"]
            .as_str()
            .is_some_and(|t| t.starts_with("Kutsetunnistus")),
        "{mail}"
    );
}
