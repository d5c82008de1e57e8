//! Questions round-trip between a holder, their awarding body and the authority: asked, passed
//! on, answered, each an e-mail; the authority's question put to many holders reaches them by
//! e-mail and comes back answered.

use kutse_testkit::eventually;
use kutse_tests::{AUTHORITY_CODE, call, inbox};
use serde_json::{Value, json};
use uuid::Uuid;

use super::flow::{Flow, MARI, WAIT, run_flow};

/// The authority's desk in the tests (intake's `AUTHORITY_EMAIL` default).
const AUTHORITY_DESK: &str = "kutseregister@kutsekoda.example";

/// The first mail to `address` whose subject or text contains `needle`.
async fn mail_with(address: &str, needle: &str) -> Value {
    eventually(WAIT, needle, || async {
        inbox(address).await.into_iter().find(|m| {
            m["subject"].as_str().is_some_and(|s| s.contains(needle))
                || m["text"].as_str().is_some_and(|t| t.contains(needle))
        })
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_question_travels_between_holder_body_and_authority_and_the_authority_asks_many() {
    let Flow {
        s,
        id,
        mails,
        body_id,
        staff,
        ..
    } = run_flow(true).await;
    let mari_address = mails[0]["to"][0]["address"]
        .as_str()
        .expect("Mari's address")
        .to_owned();
    let number = mails
        .iter()
        .filter_map(|m| m["subject"].as_str())
        .find_map(|t| t.split_whitespace().find(|w| w.starts_with("KT-")))
        .expect("the certificate's number")
        .to_owned();
    let authority = s
        .login(AUTHORITY_CODE, ("Kati", "Kutsekoda"), None, None)
        .await;
    let desk = format!("desk-{}@example.ee", Uuid::now_v7().simple());
    let (status, _) = s
        .send(
            "PATCH",
            &format!("{}/awarding-bodies/{body_id}", s.intake.url),
            &authority,
            Some(json!({ "email": desk })),
        )
        .await;
    assert_eq!(status, 200);
    let mari = s.login(MARI, ("Mari", "Maasikas"), None, None).await;
    // Intake knows her certificate once it has heard it was issued.
    s.awarded(&id, &mari).await;
    let ask = |token: String, body: Value| {
        let s = &s;
        async move {
            s.send(
                "POST",
                &format!("{}/me/questions", s.intake.url),
                &token,
                Some(body),
            )
            .await
        }
    };

    // Bad questions are refused, every bad field named; another's certificate is not hers.
    let (status, problem) = ask(
        mari.clone(),
        json!({ "certificate_number": number, "to": "the minister", "text": "  " }),
    )
    .await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(kutse_tests::problem_fields(&problem), vec!["text", "to"]);
    let stranger = s
        .login("38001085718", ("Toomas", "Esimees"), None, None)
        .await;
    let (status, problem) = ask(
        stranger,
        json!({ "certificate_number": number, "to": "authority", "text": "Kelle oma see on?" }),
    )
    .await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(
        kutse_tests::problem_fields(&problem),
        vec!["certificate_number"]
    );

    // Mari asks the body that issued her certificate; its desk is e-mailed the question.
    let marker = Uuid::now_v7().simple().to_string();
    let text = format!("Kas mu kutsetunnistus kehtib Soomes? ({marker})");
    let (status, question) = ask(
        mari.clone(),
        json!({ "certificate_number": number, "to": "awarding_body", "text": text }),
    )
    .await;
    assert_eq!(status, 201, "{question}");
    assert_eq!(question["recipient_kind"], "awarding_body");
    assert!(!question.to_string().contains(MARI), "{question}");
    let qid = question["id"].as_str().expect("id").to_owned();
    let received = mail_with(&desk, &marker).await;
    assert!(
        received["subject"]
            .as_str()
            .is_some_and(|t| t.starts_with("Uus küsimus") && t.contains(&number)),
        "{received}"
    );
    assert!(
        received["html"]
            .as_str()
            .is_some_and(|h| h.contains(&marker))
    );

    // It waits on the body's front page (the staff's read of Mari's question is tracked).
    let body_page = format!(
        "{}/questions?awarding_body_id={body_id}&unanswered=true",
        s.intake.url
    );
    let (status, waiting) = s.send("GET", &body_page, &staff, None).await;
    assert_eq!(status, 200, "{waiting}");
    assert_eq!(waiting["total"], 1);
    assert_eq!(waiting["questions"][0]["id"], qid.as_str());
    let (_, reads) = s
        .send(
            "GET",
            &format!("{}/me/data-reads", s.intake.url),
            &mari,
            None,
        )
        .await;
    assert!(
        reads["reads"]
            .as_array()
            .expect("reads")
            .iter()
            .any(|r| r["what"] == "question" && r["resource"] == qid.as_str()),
        "{reads}"
    );
    // Without the body's role, no list; the authority's list is its own.
    let (status, _) = s.send("GET", &body_page, &mari, None).await;
    assert_eq!(status, 403);
    let (status, problem) = s
        .send(
            "GET",
            &format!("{}/me/questions?per_page=0", s.intake.url),
            &mari,
            None,
        )
        .await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(kutse_tests::problem_fields(&problem), vec!["per_page"]);
    // Another body's administrator neither sees nor answers it; the asker answers or passes on
    // nothing of her own question.
    let other = s
        .post(
            &s.intake,
            "/awarding-bodies",
            &authority,
            json!({ "name": "Teine Kutse Andja" }),
        )
        .await;
    let other_id: Uuid = other["id"].as_str().expect("id").parse().expect("uuid");
    s.appoint(&authority, other_id, "30411030851", "body_administrator")
        .await;
    let other_admin = s
        .login("30411030851", ("Mart", "Liige"), None, Some(other_id))
        .await;
    let (status, _) = s
        .send(
            "POST",
            &format!("{}/questions/{qid}/answer", s.intake.url),
            &other_admin,
            Some(json!({ "answer": "Meie ei tea" })),
        )
        .await;
    assert_eq!(status, 404);
    let (status, _) = s
        .send(
            "POST",
            &format!("{}/questions/{qid}/forward", s.intake.url),
            &mari,
            Some(json!({ "to": "authority" })),
        )
        .await;
    assert_eq!(status, 403);
    let (status, _) = s
        .send(
            "POST",
            &format!("{}/questions/{qid}/answer", s.intake.url),
            &mari,
            Some(json!({ "answer": "Vastan ise" })),
        )
        .await;
    assert_eq!(status, 403);
    // Control characters are refused, not stored.
    let (status, problem) = ask(
        mari.clone(),
        json!({ "certificate_number": number, "to": "authority", "text": "Tere\u{0}" }),
    )
    .await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(kutse_tests::problem_fields(&problem), vec!["text"]);

    // The body passes it on to the authority, whose desk is e-mailed it with the note.
    let (status, forwarded) = s
        .send(
            "POST",
            &format!("{}/questions/{qid}/forward", s.intake.url),
            &staff,
            Some(json!({ "to": "authority", "note": "Välisriigis tunnustamine" })),
        )
        .await;
    assert_eq!(status, 200, "{forwarded}");
    assert_eq!(forwarded["recipient_kind"], "authority");
    let passed = mail_with(AUTHORITY_DESK, &marker).await;
    assert!(
        passed["subject"]
            .as_str()
            .is_some_and(|t| t.starts_with("Edastatud küsimus")),
        "{passed}"
    );
    assert!(
        passed["text"]
            .as_str()
            .is_some_and(|t| t.contains("Välisriigis tunnustamine"))
    );
    let (_, waiting) = s.send("GET", &body_page, &staff, None).await;
    assert_eq!(waiting["total"], 0);
    // The body no longer holds it: it can neither answer nor see it.
    let answer_url = format!("{}/questions/{qid}/answer", s.intake.url);
    let (status, _) = s
        .send(
            "POST",
            &answer_url,
            &staff,
            Some(json!({ "answer": "Jah" })),
        )
        .await;
    assert_eq!(status, 404);
    let (_, authority_page) = s
        .send(
            "GET",
            &format!("{}/questions?unanswered=true", s.intake.url),
            &authority,
            None,
        )
        .await;
    assert!(
        authority_page["questions"]
            .as_array()
            .expect("questions")
            .iter()
            .any(|q| q["id"] == qid.as_str()),
        "{authority_page}"
    );

    // The authority answers; Mari is e-mailed the answer; it cannot be answered twice.
    let (status, problem) = s
        .send(
            "POST",
            &answer_url,
            &authority,
            Some(json!({ "answer": "" })),
        )
        .await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(kutse_tests::problem_fields(&problem), vec!["answer"]);
    let (status, answered) = s
        .send(
            "POST",
            &answer_url,
            &authority,
            Some(json!({ "answer": "Jah, kutseraamistiku kaudu." })),
        )
        .await;
    assert_eq!(status, 200, "{answered}");
    // The holder is told which body answered, never which of its people.
    assert_eq!(answered["answered_by_name"], "Kutsekoda");
    let reply = mail_with(&mari_address, "kutseraamistiku kaudu").await;
    assert!(
        reply["subject"]
            .as_str()
            .is_some_and(|t| t.starts_with("Teie küsimusele on vastatud")),
        "{reply}"
    );
    let (status, _) = s
        .send(
            "POST",
            &answer_url,
            &authority,
            Some(json!({ "answer": "Veel kord" })),
        )
        .await;
    assert_eq!(status, 409);

    // The authority puts a question to every holder of the body's certificates.
    let broadcast = format!("{}/questions/broadcast", s.intake.url);
    let (status, problem) = s
        .send(
            "POST",
            &broadcast,
            &authority,
            Some(json!({ "text": "Kas töötate kutsealal?" })),
        )
        .await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(
        kutse_tests::problem_fields(&problem),
        vec!["qualification_id"]
    );
    let (status, problem) = call(
        &s.http,
        "POST",
        &broadcast,
        &authority,
        Some(
            &json!({ "text": "Kas töötate kutsealal?", "certificate_numbers": ["KT-1999-000001"] })
                .to_string(),
        ),
        None,
    )
    .await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(
        problem["type"]
            .as_str()
            .map(|t| t.ends_with("no-recipients")),
        Some(true)
    );
    // A "number" with a NUL in it (the contract test's find: it was a 500) names the entry.
    let (status, problem) = s
        .send(
            "POST",
            &broadcast,
            &authority,
            Some(json!({ "text": "Kas töötate kutsealal?",
                         "certificate_numbers": ["KT-2026-000001", "\u{0}Q"] })),
        )
        .await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(
        kutse_tests::problem_fields(&problem),
        vec!["certificate_numbers[1]"]
    );
    let (status, _) = s
        .send(
            "POST",
            &broadcast,
            &staff,
            Some(json!({ "text": "x", "awarding_body_id": body_id })),
        )
        .await;
    assert_eq!(status, 403);
    let poll = format!("Kas töötate praegu kutsealal? ({marker})");
    let put_poll = || async {
        call(
            &s.http,
            "POST",
            &broadcast,
            &authority,
            Some(&json!({ "text": poll, "awarding_body_id": body_id }).to_string()),
            Some(&marker),
        )
        .await
    };
    let (status, put) = put_poll().await;
    assert_eq!(status, 201, "{put}");
    assert_eq!(put["recipients"], 1);
    // A retry (the same Idempotency-Key) answers the same campaign; nobody is asked twice.
    let (status, again) = put_poll().await;
    assert_eq!(status, 201, "{again}");
    assert_eq!(again["campaign_id"], put["campaign_id"]);
    // The authority's front page lists what waits for it, not what waits for holders.
    let (_, authority_waiting) = s
        .send(
            "GET",
            &format!("{}/questions?unanswered=true", s.intake.url),
            &authority,
            None,
        )
        .await;
    assert!(
        !authority_waiting.to_string().contains("praegu kutsealal"),
        "{authority_waiting}"
    );
    // Someone else cannot answer Mari's question.
    let put_id = put["questions"][0].as_str().expect("id").to_owned();
    let (status, _) = s
        .send(
            "POST",
            &format!("{}/questions/{put_id}/answer", s.intake.url),
            &staff,
            Some(json!({ "answer": "Ei" })),
        )
        .await;
    assert_eq!(status, 404);
    // Mari is e-mailed it (she need not log in), and it waits on her front page.
    let asked = mail_with(&mari_address, "praegu kutsealal").await;
    assert!(
        asked["text"]
            .as_str()
            .is_some_and(|t| t.contains(AUTHORITY_DESK)),
        "the mail says where to answer without logging in: {asked}"
    );
    let (_, mine) = s
        .send(
            "GET",
            &format!("{}/me/questions?unanswered=true", s.intake.url),
            &mari,
            None,
        )
        .await;
    assert_eq!(mine["total"], 1, "{mine}");
    let poll_id = mine["questions"][0]["id"].as_str().expect("id").to_owned();
    assert_eq!(mine["questions"][0]["asked_by"], "authority");
    // She answers; the authority's desk is e-mailed her answer.
    let (status, _) = s
        .send(
            "POST",
            &format!("{}/questions/{poll_id}/answer", s.intake.url),
            &mari,
            Some(json!({ "answer": format!("Jah, salongis ({marker})") })),
        )
        .await;
    assert_eq!(status, 200);
    let back = mail_with(AUTHORITY_DESK, &format!("Jah, salongis ({marker})")).await;
    assert!(
        back["subject"]
            .as_str()
            .is_some_and(|t| t.contains("Mari Maasikas")),
        "{back}"
    );
    let (_, mine) = s
        .send(
            "GET",
            &format!("{}/me/questions", s.intake.url),
            &mari,
            None,
        )
        .await;
    assert_eq!(mine["total"], 2, "her question and the authority's: {mine}");

    // Her question and her answer reached the register through the portal's form (DVVK 323).
    let counted: Vec<(String, i16)> = sqlx::query_as(
        "SELECT action, dvvk FROM dvvk_ledger WHERE action LIKE 'question.%' ORDER BY action",
    )
    .fetch_all(&s.intake.db.pool)
    .await
    .expect("ledger");
    assert_eq!(
        counted,
        vec![
            ("question.answered".to_owned(), 323),
            ("question.asked".to_owned(), 323)
        ]
    );
    s.harness.assert_parked(&[]).await;
}
