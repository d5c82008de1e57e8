//! `kutse-protocol`: the operator's tool for signed committee protocols.
//!
//! ```text
//! kutse-protocol keygen KEY.pem                 a new Ed25519 signer key; prints its public key (base64url)
//! kutse-protocol register KEY.pem --kid KID --body UUID --owner EE… [--url http://127.0.0.1:8085] --token TOKEN
//!                                               registers the chair's public key with the register
//!                                               (active at once with the authority's token; proposed
//!                                               with a staff token, until the owner confirms it)
//! kutse-protocol confirm --kid KID [--url http://127.0.0.1:8085] --token OWNER_TOKEN
//!                                               the key's owner confirms a proposed key
//! kutse-protocol sign KEY.pem --kid KID PROTOCOL.json
//!                                               prints the compact JWS (EdDSA over RFC 8785 JSON)
//! kutse-protocol publish JWS_FILE [--amqp URL] [--prefix kutse]
//!                                               publishes it as `protocol.signed` (confirmed, mandatory),
//!                                               by default as the local stack's `kutse-pipeline` user
//! ```
//! PROTOCOL.json is the document the committee froze (`POST /sessions/{id}/protocol`), or one
//! written by an outside pipeline in the same shape (docs/protocol-example.md).

use std::collections::HashMap;

use ed25519_dalek::SigningKey;
use kutse_messaging::Envelope;
use kutse_messaging::catalogue::ProtocolSigned;
use kutse_messaging::publisher::{self, Outgoing};
use kutse_protocol::Protocol;

fn usage() -> ! {
    eprintln!(
        "usage: kutse-protocol keygen KEY.pem\n       kutse-protocol register KEY.pem --kid KID --body UUID --owner EE… --token TOKEN [--url URL]\n       kutse-protocol confirm --kid KID --token OWNER_TOKEN [--url URL]\n       kutse-protocol sign KEY.pem --kid KID PROTOCOL.json\n       kutse-protocol publish JWS_FILE [--amqp URL] [--prefix kutse]"
    );
    std::process::exit(2)
}

/// Positional arguments and `--flag value` pairs.
fn parse(args: &[String]) -> (Vec<String>, HashMap<String, String>) {
    let mut positional = Vec::new();
    let mut flags = HashMap::new();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.strip_prefix("--") {
            Some(flag) => {
                flags.insert(
                    flag.to_owned(),
                    it.next().cloned().unwrap_or_else(|| usage()),
                );
            }
            None => positional.push(arg.clone()),
        }
    }
    (positional, flags)
}

fn load_key(path: &str) -> anyhow::Result<SigningKey> {
    Ok(kutse_protocol::keys::load_signing_key(path.as_ref())?)
}

/// POSTs JSON to the register (`--url`, the local one by default) and prints the answer.
async fn post_to_register(
    flags: &HashMap<String, String>,
    path: &str,
    token: &str,
    body: serde_json::Value,
) -> anyhow::Result<()> {
    let url = flags
        .get("url")
        .map_or("http://127.0.0.1:8085", String::as_str);
    let response = reqwest::Client::new()
        .post(format!("{url}{path}"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await?;
    let status = response.status();
    println!("{}", response.text().await?);
    anyhow::ensure!(status.is_success(), "the register answered {status}");
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((command, rest)) = args.split_first() else {
        usage()
    };
    let (positional, flags) = parse(rest);
    let flag = |name: &str| flags.get(name).cloned().unwrap_or_else(|| usage());
    match (command.as_str(), positional.as_slice()) {
        ("keygen", [path]) => {
            let key = kutse_protocol::keys::generate_signing_key(path.as_ref())?;
            println!("{}", kutse_protocol::encode_key(&key.verifying_key()));
        }
        ("register", [path]) => {
            let key = load_key(path)?;
            let body = serde_json::json!({
                "kid": flag("kid"),
                "awarding_body_id": flag("body"),
                "owner": flag("owner"),
                "public_key": kutse_protocol::encode_key(&key.verifying_key()),
            });
            post_to_register(&flags, "/register/signers", &flag("token"), body).await?;
        }
        ("confirm", []) => {
            let path = format!("/register/signers/{}/confirmation", flag("kid"));
            post_to_register(&flags, &path, &flag("token"), serde_json::json!({})).await?;
        }
        ("sign", [path, document]) => {
            let key = load_key(path)?;
            let protocol: Protocol = serde_json::from_str(&std::fs::read_to_string(document)?)?;
            println!(
                "{}",
                kutse_protocol::sign(&protocol, &key, &flag("kid"), "kutse-protocol")
                    .map_err(|e| anyhow::anyhow!("{e}"))?
            );
        }
        ("publish", [jws_file]) => {
            let jws = std::fs::read_to_string(jws_file)?.trim().to_owned();
            let amqp = flags.get("amqp").cloned().unwrap_or_else(|| {
                "amqp://kutse-pipeline:kutse-pipeline-local@127.0.0.1:5672/%2f".to_owned()
            });
            let prefix = flags
                .get("prefix")
                .cloned()
                .unwrap_or_else(|| "kutse".to_owned());
            let envelope = Envelope::new(&ProtocolSigned { jws }, None)?;
            let connection = kutse_messaging::connect(&amqp, "kutse-protocol").await?;
            let publisher = kutse_messaging::Publisher::new(&connection).await?;
            let exchange = format!("{prefix}.events");
            let body = envelope.to_bytes();
            publisher
                .publish(Outgoing {
                    exchange: &exchange,
                    routing_key: envelope.routing_key(),
                    body: &body,
                    properties: publisher::properties(
                        &envelope.id.to_string(),
                        &envelope.message_type,
                        &envelope.correlation_id.to_string(),
                        "kutse-protocol",
                        lapin::types::FieldTable::default(),
                    ),
                })
                .await?;
            println!("published protocol.signed as message {}", envelope.id);
        }
        _ => usage(),
    }
    Ok(())
}
