//! The committee's session: a day and a place, who is present, a quorum, recusals, and votes only
//! by present members of the register's roster, never on their own application; the protocol
//! lists them all.

use std::time::Duration;

use chrono::Utc;
use ed25519_dalek::SigningKey;
use kutse_auth::Role;
use kutse_domain::{Dvvk, Isikukood};
use kutse_messaging::Envelope;
use kutse_messaging::catalogue::{
    ApplicantRef, ApplicationSubmitted, AssessmentDecided, CompetenceDecision, CompetenceRef,
    QualificationRef, RoleAppointed, SignerKeyActivated,
};
use kutse_testkit::eventually;
use kutse_tests::{Harness, call};
use serde_json::{Value, json};
use uuid::Uuid;

const WAIT: Duration = Duration::from_secs(20);
const CHAIR: &str = "38001085718";
const MEMBER: &str = "30411030851";
/// A member of the committee who has applied themselves.
const APPLYING_MEMBER: &str = "33105048161";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn votes_count_only_from_present_members_with_a_quorum_and_the_protocol_lists_presence_and_recusals()
 {
    let h = Harness::new().expect("harness");
    let committee = h.start("committee").await.expect("committee");
    kutse_tests::wait_ready(&committee).await;
    h.wait_for_queue("committee").await;
    let body = Uuid::now_v7();
    let round = Uuid::now_v7();
    let today = kutse_domain::tallinn_today();
    // The roster: a chair and two members, as the role registry announces them.
    for (person, role) in [
        (CHAIR, "committee_chair"),
        (MEMBER, "committee_member"),
        (APPLYING_MEMBER, "committee_member"),
    ] {
        let appointed = RoleAppointed {
            appointment_id: Uuid::now_v7(),
            person: Isikukood::parse(person).expect("code"),
            role: role.into(),
            awarding_body_id: body,
            partner_code: None,
            valid_from: today,
            valid_to: None,
        };
        h.publish(&Envelope::new(&appointed, None).expect("e"))
            .await
            .expect("publish");
    }
    let chair_key = SigningKey::generate(&mut rand_core::OsRng);
    let activated = SignerKeyActivated {
        kid: "chair-key".into(),
        awarding_body_id: body,
        owner: Isikukood::parse(CHAIR).expect("code"),
        public_key: kutse_protocol::encode_key(&chair_key.verifying_key()),
        activated_at: Utc::now(),
    };
    h.publish(&Envelope::new(&activated, None).expect("e"))
        .await
        .expect("publish");
    // Two decided applications of the round; the second is the applying member's own.
    // A third, of another round, is for a session held before the roster was appointed.
    let earlier_round = Uuid::now_v7();
    let mut applications = Vec::new();
    for (applicant, round) in [
        ("49403136526", round),
        (APPLYING_MEMBER, round),
        ("38001085718", earlier_round),
    ] {
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
                isikukood: Isikukood::parse(applicant).expect("code"),
                given_name: "Mari".into(),
                family_name: "Maasikas".into(),
                email: kutse_domain::Email::parse("mari@example.com").expect("email"),
                language: kutse_domain::Language::Et,
            },
            delivery_option: kutse_domain::DeliveryOption::Electronic,
            round_deadline: today,
            submitted_at: Utc::now(),
            dvvk: Dvvk::WebForm,
            awarding_body_name: None,
            awarding_body_email: None,
            certificate_number: None,
            duplicate_reason: None,
        };
        let decided = AssessmentDecided {
            application_id: application,
            round_id: round,
            awarding_body_id: body,
            decisions: vec![CompetenceDecision {
                code: "B.1".into(),
                accepted: true,
                justification: "Tõendatud".into(),
                evidence: vec![],
            }],
            recommendations: None,
            all_accepted: true,
            decided_at: Utc::now(),
            review_due: today,
            decision_number: None,
            notice_due: None,
        };
        for envelope in [
            Envelope::new(&submitted, Some(application)).expect("e"),
            Envelope::new(&decided, Some(application)).expect("e"),
        ] {
            h.publish(&envelope).await.expect("publish");
        }
        applications.push(application);
    }
    let (theirs, own) = (applications[0], applications[1]);
    let round = applications
        .get(2)
        .map(|_| round)
        .expect("three applications");

    let http = reqwest::Client::new();
    let staff = h.token_for("EE36805280109", &[Role::AwardingBodyStaff], Some(body));
    let member_token =
        |code: &str, roles: &[Role]| h.token_for(&format!("EE{code}"), roles, Some(body));
    let chair = member_token(CHAIR, &[Role::CommitteeChair, Role::CommitteeMember]);
    let member = member_token(MEMBER, &[Role::CommitteeMember]);
    let applying = member_token(APPLYING_MEMBER, &[Role::CommitteeMember]);
    // Holds the member role in its token, but is on no roster of the register.
    let stranger = member_token("48704147433", &[Role::CommitteeMember]);
    let send = |method: &'static str, path: String, token: String, body: Value| {
        let url = format!("{}{path}", committee.url);
        let http = http.clone();
        async move { call(&http, method, &url, &token, Some(&body.to_string()), None).await }
    };
    // A quorum larger than the committee is refused (the body's staff may set one per session).
    let (status, problem) = eventually(WAIT, "the roster known", || async {
        let (status, problem) = send(
            "POST",
            "/sessions".into(),
            staff.clone(),
            json!({ "round_id": round, "awarding_body_id": body, "quorum": 4 }),
        )
        .await;
        (status != 201).then_some((status, problem))
    })
    .await;
    assert_eq!(
        (status, &problem["errors"][0]["field"]),
        (422, &json!("quorum")),
        "{problem}"
    );
    // The roster is the register's on the session's day: a session (of another round) held
    // yesterday, before their appointments, has nobody to record present.
    let yesterday = eventually(WAIT, "the earlier round's application decided", || async {
        let (status, session) = send(
            "POST",
            "/sessions".into(),
            staff.clone(),
            json!({ "round_id": earlier_round, "awarding_body_id": body,
                    "held_on": today - chrono::Days::new(1) }),
        )
        .await;
        (status == 201).then_some(session)
    })
    .await;
    let (status, problem) = send(
        "PUT",
        format!(
            "/sessions/{}/presence",
            yesterday["id"].as_str().expect("id")
        ),
        staff.clone(),
        json!({ "member": CHAIR, "present": true }),
    )
    .await;
    assert_eq!(
        (status, &problem["errors"][0]["field"]),
        (422, &json!("member")),
        "{problem}"
    );
    let session = eventually(WAIT, "both applications on the agenda", || async {
        let (status, session) = send(
            "POST",
            "/sessions".into(),
            staff.clone(),
            json!({ "round_id": round, "awarding_body_id": body, "place": "Tallinn, Pärnu mnt 1",
                    "held_on": today }),
        )
        .await;
        (status == 201 && session["agenda"].as_array().is_some_and(|a| a.len() == 2))
            .then_some(session)
    })
    .await;
    assert_eq!(session["place"], "Tallinn, Pärnu mnt 1");
    assert_eq!(session["held_on"], json!(today));
    let id = session["id"].as_str().expect("id").to_owned();
    let vote = |token: String, application: Uuid, in_favour: bool| {
        send(
            "POST",
            format!("/sessions/{id}/votes"),
            token,
            json!({ "application_id": application, "in_favour": in_favour }),
        )
    };
    let presence = |member: &str, present: bool| {
        send(
            "PUT",
            format!("/sessions/{id}/presence"),
            staff.clone(),
            json!({ "member": member, "present": present }),
        )
    };
    let freeze = || {
        send(
            "POST",
            format!("/sessions/{id}/protocol"),
            staff.clone(),
            json!({ "chair": format!("EE{CHAIR}") }),
        )
    };

    // Not present: no vote. Someone not on the roster is not marked present.
    assert_eq!(vote(chair.clone(), theirs, true).await.0, 403);
    let (status, problem) = presence("48704147433", true).await;
    assert_eq!(
        (status, &problem["errors"][0]["field"]),
        (422, &json!("member"))
    );
    eventually(WAIT, "the roster and the chair's key known", || async {
        (presence(CHAIR, true).await.0 == 200).then_some(())
    })
    .await;
    // One of three is no quorum (two are needed).
    let (status, problem) = eventually(WAIT, "the chair's key known", || async {
        let (status, problem) = freeze().await;
        (status != 422 || problem.to_string().contains("quorum")).then_some((status, problem))
    })
    .await;
    assert_eq!(status, 422, "{problem}");
    assert!(problem.to_string().contains("no-quorum"), "{problem}");
    // Nor is a vote taken without a quorum.
    let (status, problem) = vote(chair.clone(), theirs, true).await;
    assert_eq!(status, 422, "{problem}");
    assert!(problem.to_string().contains("no-quorum"), "{problem}");
    for present in [MEMBER, APPLYING_MEMBER] {
        assert_eq!(presence(present, true).await.0, 200);
    }

    // A token's role is not membership; nobody votes on their own application; a recusal
    // withdraws the member's vote.
    assert_eq!(vote(stranger, theirs, true).await.0, 403);
    let (status, problem) = vote(applying.clone(), own, true).await;
    assert_eq!(status, 403, "{problem}");
    assert!(problem.to_string().contains("own application"), "{problem}");
    for voter in [&chair, &member, &applying] {
        assert_eq!(vote(voter.clone(), theirs, true).await.0, 200);
    }
    // On the applying member's own: one in favour, one against — no majority, refused.
    assert_eq!(vote(chair.clone(), own, true).await.0, 200);
    assert_eq!(vote(member.clone(), own, false).await.0, 200);
    let (status, session) = send(
        "POST",
        format!("/sessions/{id}/recusals"),
        member.clone(),
        json!({ "application_id": theirs }),
    )
    .await;
    assert_eq!(status, 200, "{session}");
    assert_eq!(vote(member.clone(), theirs, false).await.0, 403, "recused");
    let theirs_on_agenda = session["agenda"]
        .as_array()
        .expect("agenda")
        .iter()
        .find(|a| a["application_id"] == json!(theirs))
        .expect("on the agenda")
        .clone();
    assert_eq!(theirs_on_agenda["votes_for"], 2);
    assert_eq!(theirs_on_agenda["recused"], json!([MEMBER]));

    // The protocol lists the roster, those present, the quorum and the recusals, and the
    // register's own check of them passes.
    let (status, frozen) = freeze().await;
    assert_eq!(status, 200, "{frozen}");
    let protocol: kutse_protocol::Protocol =
        serde_json::from_value(frozen.clone()).expect("protocol");
    let ee = |codes: &[&str]| -> Vec<String> { codes.iter().map(|c| format!("EE{c}")).collect() };
    let mut roster = ee(&[CHAIR, MEMBER, APPLYING_MEMBER]);
    roster.sort();
    assert_eq!(protocol.roster, roster);
    assert_eq!(protocol.present, roster);
    assert_eq!(protocol.quorum, Some(2));
    assert_eq!(protocol.place.as_deref(), Some("Tallinn, Pärnu mnt 1"));
    assert_eq!(protocol.held_on, Some(today));
    let decision = |application: Uuid| {
        protocol
            .decisions
            .iter()
            .find(|d| d.application_id == application)
            .expect("decided")
    };
    assert_eq!(decision(theirs).recused, ee(&[MEMBER]));
    assert_eq!(
        (decision(theirs).votes_for, decision(own).votes_for),
        (2, 1)
    );
    assert_eq!(decision(own).votes_against, 1);
    assert_eq!(decision(theirs).outcome, kutse_protocol::Outcome::Award);
    assert_eq!(decision(own).outcome, kutse_protocol::Outcome::Refuse);
    assert_eq!(kutse_protocol::session_fault(&protocol), None);
    let jws =
        kutse_protocol::sign(&protocol, &chair_key, "chair-key", "kutse-protocol").expect("sign");
    let (status, signed) = send(
        "POST",
        format!("/sessions/{id}/signature"),
        chair,
        json!({ "jws": jws }),
    )
    .await;
    assert_eq!(status, 200, "{signed}");
}
