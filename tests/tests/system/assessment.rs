//! From a submitted application to the panel's decision: intake and assessment over the real
//! broker.

use std::time::Duration;

use chrono::{Days, Utc};
use kutse_auth::Role;
use kutse_domain::WorkingDays;
use kutse_testkit::eventually;
use kutse_tests::{Harness, call};
use serde_json::{Value, json};
use sqlx::Row;
use uuid::Uuid;

fn token(h: &Harness, subject: &str, roles: &[Role], body: Option<Uuid>) -> String {
    h.token_for(subject, roles, body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_submitted_application_opens_a_case_that_the_panel_decides_competence_by_competence() {
    let harness = Harness::new().expect("harness");
    let intake = harness.start("intake").await.expect("intake");
    let assessment = harness.start("assessment").await.expect("assessment");
    let http = reqwest::Client::new();
    let post = |url: String, token: String, body: Value| {
        let http = http.clone();
        async move { call(&http, "POST", &url, &token, Some(&body.to_string()), None).await }
    };

    let authority = token(&harness, "EE37605030299", &[Role::Authority], None);
    let (_, body) = post(
        format!("{}/awarding-bodies", intake.url),
        authority,
        json!({ "name": "KJVÜ" }),
    )
    .await;
    let body_id: Uuid = body["id"].as_str().expect("id").parse().expect("uuid");
    let staff = token(
        &harness,
        "EE36805280109",
        &[Role::AwardingBodyStaff],
        Some(body_id),
    );
    let assessor = token(&harness, "EE33105048161", &[Role::Assessor], Some(body_id));
    let (_, qualification) = post(format!("{}/qualifications", intake.url), staff.clone(), json!({
        "awarding_body_id": body_id, "name": "Osakutse barber, tase 4", "level": 4, "partial": true,
        "competences": [ { "code": "B.1", "name": "Habeme hooldus" }, { "code": "B.2", "name": "Meeste lõikused" } ]
    })).await;
    let deadline = Utc::now().date_naive() + Days::new(20);
    let (_, round) = post(
        format!("{}/rounds", intake.url),
        staff.clone(),
        json!({
            "qualification_id": qualification["id"], "deadline": deadline.to_string(),
            "fees": [ { "kind": "prior_learning", "amount_cents": 13500 } ],
            "delivery_options": [ { "option": "electronic" } ]
        }),
    )
    .await;
    let mari = token(&harness, "EE49403136526", &[], None);
    let (_, app) = post(
        format!("{}/applications", intake.url),
        mari.clone(),
        json!({
            "round_id": round["id"], "kind": "prior_learning", "delivery_option": "electronic"
        }),
    )
    .await;
    let id = app["id"].as_str().expect("id").to_owned();
    post(
        format!("{}/applications/{id}/fee-confirmation", intake.url),
        staff.clone(),
        json!({}),
    )
    .await;
    let (status, submitted) = post(
        format!("{}/applications/{id}/submit", intake.url),
        mari.clone(),
        json!({}),
    )
    .await;
    assert_eq!(status, 200, "{submitted}");

    // The case opens from the event, with its review due 10 working days after the deadline.
    let case_url = format!("{}/assessments/{id}", assessment.url);
    let case = eventually(
        Duration::from_secs(20),
        "the assessment case opened",
        || async {
            let (status, case) = call(&http, "GET", &case_url, &assessor, None, None).await;
            (status == 200).then_some(case)
        },
    )
    .await;
    assert_eq!(case["status"], "open");
    assert_eq!(
        case["review_due"],
        WorkingDays::add(deadline, 10).to_string()
    );

    // Someone else's assessor cannot see it; the applicant can.
    let stranger = token(
        &harness,
        "EE33105048161",
        &[Role::Assessor],
        Some(Uuid::now_v7()),
    );
    assert_eq!(
        call(&http, "GET", &case_url, &stranger, None, None).await.0,
        404
    );
    assert_eq!(
        call(&http, "GET", &case_url, &mari, None, None).await.0,
        200
    );

    // Not complete until every competence is decided; staff may not decide.
    let decide = |code: &str, accepted: bool, who: &str| {
        let url = format!("{case_url}/competences/{code}");
        let body = json!({ "accepted": accepted, "justification": "Töötõendid viie aasta kohta" })
            .to_string();
        let http = http.clone();
        let who = who.to_owned();
        async move { call(&http, "PUT", &url, &who, Some(&body), None).await }
    };
    assert_eq!(decide("B.1", true, &staff).await.0, 403);
    // Only an assessor the body's staff assigned decides; never the applicant themselves.
    assert_eq!(
        decide("B.1", true, &assessor).await.0,
        403,
        "not assigned yet"
    );
    let (status, problem) = post(
        format!("{case_url}/assessors"),
        staff.clone(),
        json!({ "assessor": "49403136526" }),
    )
    .await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(problem["errors"][0]["field"], "assessor");
    let (status, problem) = post(
        format!("{case_url}/assessors"),
        assessor.clone(),
        json!({ "assessor": "33105048161" }),
    )
    .await;
    assert_eq!(status, 403, "assessors do not assign themselves: {problem}");
    let (status, assigned) = post(
        format!("{case_url}/assessors"),
        staff.clone(),
        json!({ "assessor": "EE33105048161" }),
    )
    .await;
    assert_eq!(status, 201, "{assigned}");
    assert_eq!(assigned["assessors"], json!(["33105048161"]));
    assert_eq!(decide("B.1", true, &assessor).await.0, 200);
    let (status, problem) = post(format!("{case_url}/decision"), assessor.clone(), json!({})).await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(problem["errors"][0]["field"], "competences.B.2");
    let (status, problem) = call(
        &http,
        "PUT",
        &format!("{case_url}/competences/B.2"),
        &assessor,
        Some(r#"{"accepted":false,"justification":" "}"#),
        None,
    )
    .await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(problem["errors"][0]["field"], "justification");
    assert_eq!(decide("Z.9", true, &assessor).await.0, 404);
    assert_eq!(decide("B.2", false, &assessor).await.0, 200);
    let (status, decided) = post(
        format!("{case_url}/decision"),
        assessor.clone(),
        json!({ "recommendations": "Täiendkoolitus" }),
    )
    .await;
    assert_eq!(status, 200, "{decided}");
    assert_eq!(decided["status"], "decided");

    // The decision leaves as one event, saying not everything was accepted.
    let row =
        sqlx::query("SELECT body FROM messaging.outbox WHERE message_type = 'assessment.decided'")
            .fetch_one(&assessment.db.pool)
            .await
            .expect("event");
    let envelope: Value = serde_json::from_slice(&row.get::<Vec<u8>, _>("body")).expect("json");
    assert_eq!(envelope["payload"]["all_accepted"], false);
    assert_eq!(
        envelope["payload"]["decisions"]
            .as_array()
            .expect("decisions")
            .len(),
        2
    );
    assert_eq!(envelope["correlation_id"], id.as_str());
    assert_eq!(
        post(format!("{case_url}/decision"), assessor, json!({}))
            .await
            .0,
        409
    );
}
