//! The operator CLI: a key made, a protocol signed and published as `protocol.signed`.

use std::process::Command;

use kutse_messaging::Envelope;
use kutse_messaging::catalogue::ProtocolSigned;
use kutse_protocol::{Outcome, Protocol, ProtocolDecision};
use lapin::options::BasicGetOptions;

fn cli(args: &[&str]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_kutse-protocol"))
        .args(args)
        .output()
        .expect("runs");
    assert!(
        output.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .expect("utf8")
        .trim()
        .to_owned()
}

#[tokio::test]
async fn an_operator_signs_a_protocol_and_publishes_it() {
    let dir = std::env::temp_dir().join(format!("kutse-cli-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir).expect("dir");
    let key = dir.join("chair.pem");
    let public = cli(&["keygen", key.to_str().expect("path")]);
    let verifying = kutse_protocol::verifying_key(&public).expect("a public key");

    let protocol = Protocol {
        protocol_id: uuid::Uuid::now_v7(),
        awarding_body_id: uuid::Uuid::now_v7(),
        session_id: uuid::Uuid::now_v7(),
        round_id: uuid::Uuid::now_v7(),
        chair: "EE38001085718".into(),
        signed_at: chrono::Utc::now(),
        decisions: vec![ProtocolDecision {
            application_id: uuid::Uuid::now_v7(),
            outcome: Outcome::Award,
            votes_for: 3,
            votes_against: 0,
            reason: None,
            recused: Vec::new(),
        }],
        held_on: None,
        place: None,
        roster: Vec::new(),
        present: Vec::new(),
        quorum: None,
    };
    let document = dir.join("protocol.json");
    std::fs::write(
        &document,
        serde_json::to_vec_pretty(&protocol).expect("json"),
    )
    .expect("write");
    let jws = cli(&[
        "sign",
        key.to_str().expect("path"),
        "--kid",
        "chair-1",
        document.to_str().expect("path"),
    ]);
    let back: Protocol =
        kutse_protocol::verify(&jws, |kid| (kid == "chair-1").then_some(verifying))
            .expect("verifies");
    assert_eq!(back, protocol);

    // Published to a topology of the test's own, where a queue bound to protocol.signed takes it.
    let topology = kutse_testkit::topology();
    let broker = kutse_testkit::broker().await.expect("broker");
    let channel = broker.create_channel().await.expect("channel");
    topology
        .declare_consumer(&channel, "certificates", &["protocol.signed"])
        .await
        .expect("declare");
    let jws_file = dir.join("protocol.jws");
    std::fs::write(&jws_file, &jws).expect("write");
    cli(&[
        "publish",
        jws_file.to_str().expect("path"),
        "--amqp",
        &kutse_testkit::amqp_url(),
        "--prefix",
        &topology.prefix,
    ]);
    let got = channel
        .basic_get(
            topology.queue("certificates").into(),
            BasicGetOptions { no_ack: true },
        )
        .await
        .expect("get")
        .expect("the protocol arrived");
    let envelope = Envelope::from_bytes(&got.delivery.data).expect("envelope");
    assert_eq!(
        envelope.decode::<ProtocolSigned>().expect("payload").jws,
        jws
    );
    let _ = std::fs::remove_dir_all(dir);
}
