//! DVVK accounting end to end: a scenario run through every service produces exactly the ledger
//! and the report a person computes by hand from the ministry's guide (docs/dvvk.md).

use chrono::Days;
use kutse_messaging::Envelope;
use kutse_messaging::catalogue::{DocumentExchange, NotificationsExchange};
use kutse_testkit::eventually;
use kutse_tests::AUTHORITY_CODE;
use serde_json::{Value, json};

use super::flow::{Flow, MARI, WAIT, run_flow};

/// The ledger, as `(service, action, dvvk, rows)` sorted.
async fn ledger(pool: &sqlx::PgPool) -> Vec<(String, String, i16, i64)> {
    sqlx::query_as(
        "SELECT service, action, dvvk, count(*) FROM dvvk_ledger
          GROUP BY service, action, dvvk ORDER BY service, action",
    )
    .fetch_all(pool)
    .await
    .expect("ledger")
}

fn answer<'a>(report: &'a Value, question: &str) -> &'a Value {
    report["questionnaire"]
        .as_array()
        .expect("questionnaire")
        .iter()
        .find(|q| q["question"] == question)
        .map(|q| &q["answer"])
        .unwrap_or_else(|| panic!("no {question} in {report}"))
}

/// The scenario, by hand:
/// - Mari submits her application through the portal's form: 323.
/// - She uploads her CV: 325.
/// - She is e-mailed the receipt, the panel's decision notice and her certificate: 3 × 321
///   (each mail is one sending).
/// - The chair's signed protocol reaches the register, which answers it: 324, once.
/// - She downloads her stamped certificate: 325. The body's staff downloading it is not an
///   exchange (their own register), nor is anyone's public verification.
/// - She orders a paper print through the portal's form: 323; the body posts it: 2.
///
/// So: 2 × 323, 2 × 325, 3 × 321, 1 × 324, 1 × 2 — nine exchanges. Internal events between the
/// services (application.submitted, protocol.accepted, …) count nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scenario_run_produces_the_ledger_and_the_report_computed_by_hand() {
    let Flow {
        s,
        id,
        mails,
        staff,
        ..
    } = run_flow(true).await;
    let certificate_mail = mails
        .iter()
        .find(|m| {
            m["subject"]
                .as_str()
                .is_some_and(|t| t.starts_with("Kutsetunnistus"))
        })
        .expect("the certificate's e-mail");
    let number = certificate_mail["subject"]
        .as_str()
        .and_then(|t| t.split_whitespace().find(|w| w.starts_with("KT-")))
        .expect("its number")
        .to_owned();
    let mari = s.login(MARI, ("Mari", "Maasikas"), None, None).await;
    let pdf_url = format!(
        "{}/certificates/{number}/certificate.pdf",
        s.certificates.url
    );
    for token in [&mari, &staff] {
        let (status, _) = s.send("GET", &pdf_url, token, None).await;
        assert_eq!(status, 200);
    }
    // The public verification is not an exchange.
    let (status, _) = s
        .send(
            "GET",
            &format!("{}/certificates/{number}/verification", s.certificates.url),
            "",
            None,
        )
        .await;
    assert_eq!(status, 200);
    s.awarded(&id, &mari).await;
    let order = s
        .post(
            &s.intake,
            &format!("/applications/{id}/print-orders"),
            &mari,
            json!({ "delivery_option": "post", "address": "Pikk 1, 10123 Tallinn" }),
        )
        .await;
    let order_id = order["id"].as_str().expect("order id");
    s.post(
        &s.intake,
        &format!("/print-orders/{order_id}/sent"),
        &staff,
        json!({}),
    )
    .await;

    let pool = &s.intake.db.pool;
    let expected: Vec<(String, String, i16, i64)> = [
        ("certificates", "certificate.downloaded", 325, 1),
        ("certificates", "protocol.received", 324, 1),
        ("documents", "document.uploaded", 325, 1),
        ("intake", "application.submitted", 323, 1),
        ("intake", "print.ordered", 323, 1),
        ("intake", "print.sent", 2, 1),
        ("notifications", "mail.sent", 321, 3),
    ]
    .into_iter()
    .map(|(s, a, d, n)| (s.to_owned(), a.to_owned(), d, n))
    .collect();
    eventually(WAIT, "every exchange counted", || async {
        (ledger(pool).await == expected).then_some(())
    })
    .await;

    // Counted once: an announcement of a mail already counted (a relay's repeat under a new
    // message id) adds nothing.
    let mail_id: String = sqlx::query_scalar(
        "SELECT reference FROM dvvk_ledger WHERE action = 'mail.sent' ORDER BY reference LIMIT 1",
    )
    .fetch_one(pool)
    .await
    .expect("a counted mail");
    let repeat = Envelope::new(
        &NotificationsExchange(DocumentExchange::now(
            "mail.sent",
            mail_id,
            kutse_domain::Dvvk::Email,
        )),
        None,
    )
    .expect("envelope");
    s.harness.publish(&repeat).await.expect("publish");
    eventually(WAIT, "the repeat handled", || async {
        let handled: i64 =
            sqlx::query_scalar("SELECT count(*) FROM messaging.inbox WHERE message_id = $1")
                .bind(repeat.id)
                .fetch_one(pool)
                .await
                .ok()?;
        (handled == 1).then_some(())
    })
    .await;
    assert_eq!(ledger(pool).await, expected);

    // The authority's report for the period: the counts per code and B7–B15.
    let authority = s
        .login(AUTHORITY_CODE, ("Kati", "Kutsekoda"), None, None)
        .await;
    let today = kutse_domain::tallinn_today();
    let period = format!("from={}&to={}", today - Days::new(1), today + Days::new(1));
    let report_url = format!("{}/reports/dvvk?{period}", s.intake.url);
    let (status, report) = s.send("GET", &report_url, &authority, None).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["total"], 9);
    let counts: Vec<(u64, u64)> = report["counts"]
        .as_array()
        .expect("counts")
        .iter()
        .filter(|c| c["count"] != 0)
        .map(|c| {
            (
                c["dvvk"].as_u64().expect("code"),
                c["count"].as_u64().expect("n"),
            )
        })
        .collect();
    assert_eq!(counts, vec![(2, 1), (321, 3), (323, 2), (324, 1), (325, 2)]);
    assert_eq!(report["counts"].as_array().map(Vec::len), Some(16));
    for (question, want) in [
        ("B7", json!("ei")),
        ("B7.1", json!(0)),
        ("B8", json!("jah")),
        ("B8.1", json!(1)),
        ("B9", json!("jah")),
        ("B9.1", json!(3)),
        ("B10", json!("ei")),
        ("B11", json!("ei")),
        ("B11.1", json!("ei")),
        ("B11.2", json!("ei")),
        ("B12", json!("jah")),
        ("B12.1", json!(1)),
        ("B13", json!("jah")),
        ("B13.1", json!(2)),
        ("B14", json!("jah")),
        ("B14.1", json!(2)),
        ("B15", json!("ei")),
        ("B15.1", json!(0)),
        ("B16.1", json!(0)),
    ] {
        assert_eq!(answer(&report, question), &want, "{question}");
    }
    // The same as CSV.
    let response = s
        .http
        .get(format!("{report_url}&format=csv"))
        .bearer_auth(&authority)
        .send()
        .await
        .expect("csv");
    assert_eq!(response.status(), 200);
    assert_eq!(
        response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("text/csv; charset=utf-8")
    );
    let csv = response.text().await.expect("text");
    for line in [
        "count,321,e-mail,3",
        "count,2,paper,1",
        "total,,,9",
        "question,B9.1,edastatud e-kirjade arv,3",
        "question,B14,\"Kas infosüsteem võtab vastu dokumente, mida edastatakse veebivormi vahendusel X-teed kasutamata?\",jah",
    ] {
        assert!(csv.contains(line), "{line:?} not in {csv}");
    }
    // Another period holds none of it.
    let (status, empty) = s
        .send(
            "GET",
            &format!(
                "{}/reports/dvvk?from=2020-01-01&to=2020-12-31",
                s.intake.url
            ),
            &authority,
            None,
        )
        .await;
    assert_eq!(status, 200, "{empty}");
    assert_eq!(empty["total"], 0);
    assert_eq!(answer(&empty, "B9"), &json!("ei"));

    // Only the authority reads it; a bad period names every bad field.
    let (status, _) = s.send("GET", &report_url, &staff, None).await;
    assert_eq!(status, 403);
    let (status, _) = s.send("GET", &report_url, "", None).await;
    assert_eq!(status, 401);
    let (status, problem) = s
        .send(
            "GET",
            &format!("{}/reports/dvvk?from=2026-13-01&format=xml", s.intake.url),
            &authority,
            None,
        )
        .await;
    assert_eq!(status, 422, "{problem}");
    let fields = kutse_tests::problem_fields(&problem);
    assert_eq!(fields, vec!["from", "to", "format"], "{problem}");
    let (status, problem) = s
        .send(
            "GET",
            &format!(
                "{}/reports/dvvk?from=2026-12-31&to=2026-12-01",
                s.intake.url
            ),
            &authority,
            None,
        )
        .await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(problem["errors"][0]["field"], "to");
}
