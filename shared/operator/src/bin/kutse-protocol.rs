//! `kutse-protocol`: the operator's tool for signed committee protocols. `--help` lists the
//! commands; `docs/protocol-example.md` walks through them.
//!
//! PROTOCOL.json is the document the committee froze (`POST /sessions/{id}/protocol`), or one
//! written by an outside pipeline in the same shape (`docs/protocol.schema.json`).

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use kutse_messaging::Envelope;
use kutse_messaging::catalogue::ProtocolSigned;
use kutse_protocol::Protocol;

/// Signer keys, signed protocols and their publication.
#[derive(Debug, Parser)]
#[command(name = "kutse-protocol", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Makes a new Ed25519 signer key (PKCS#8 PEM, owner-only); prints its public key.
    Keygen { key: PathBuf },
    /// Registers a chair's public key with the register: active at once with the authority's
    /// token; proposed with a staff token, until its owner confirms it.
    Register {
        key: PathBuf,
        #[arg(long)]
        kid: String,
        /// The awarding body.
        #[arg(long)]
        body: uuid::Uuid,
        /// The chair who owns the key: `EE` and the personal code.
        #[arg(long)]
        owner: String,
        #[arg(long)]
        token: String,
        #[arg(long, default_value = "http://127.0.0.1:8085")]
        url: String,
    },
    /// The key's owner confirms a proposed key, with their own token.
    Confirm {
        #[arg(long)]
        kid: String,
        #[arg(long)]
        token: String,
        #[arg(long, default_value = "http://127.0.0.1:8085")]
        url: String,
    },
    /// Prints the compact JWS (EdDSA over RFC 8785 JSON) of a protocol document.
    Sign {
        key: PathBuf,
        document: PathBuf,
        #[arg(long)]
        kid: String,
    },
    /// Publishes a JWS as `protocol.signed` (persistent, mandatory, confirmed).
    Publish {
        jws_file: PathBuf,
        /// The broker, as the pipeline's own user (the local stack's by default).
        #[arg(
            long,
            default_value = "amqp://kutse-pipeline:kutse-pipeline-local@127.0.0.1:5672/%2f"
        )]
        amqp: String,
        #[arg(long, default_value = "kutse")]
        prefix: String,
    },
}

/// POSTs JSON to the register and prints the answer.
async fn post_to_register(
    url: &str,
    path: &str,
    token: &str,
    body: serde_json::Value,
) -> anyhow::Result<()> {
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
    match Cli::parse().command {
        Command::Keygen { key } => {
            let key = kutse_protocol::keys::generate_signing_key(&key)?;
            println!("{}", kutse_protocol::encode_key(&key.verifying_key()));
        }
        Command::Register {
            key,
            kid,
            body,
            owner,
            token,
            url,
        } => {
            let key = kutse_protocol::keys::load_signing_key(&key)?;
            let body = serde_json::json!({
                "kid": kid,
                "awarding_body_id": body,
                "owner": owner,
                "public_key": kutse_protocol::encode_key(&key.verifying_key()),
            });
            post_to_register(&url, "/register/signers", &token, body).await?;
        }
        Command::Confirm { kid, token, url } => {
            let path = format!("/register/signers/{kid}/confirmation");
            post_to_register(&url, &path, &token, serde_json::json!({})).await?;
        }
        Command::Sign { key, document, kid } => {
            let key = kutse_protocol::keys::load_signing_key(&key)?;
            let protocol: Protocol = serde_json::from_str(&std::fs::read_to_string(document)?)?;
            let jws = kutse_protocol::sign(&protocol, &key, &kid, "kutse-protocol")?;
            println!("{jws}");
        }
        Command::Publish {
            jws_file,
            amqp,
            prefix,
        } => {
            let jws = std::fs::read_to_string(jws_file)?.trim().to_owned();
            let envelope = Envelope::new(&ProtocolSigned { jws }, None)?;
            let connection = kutse_messaging::connect(&amqp, "kutse-protocol").await?;
            let publisher = kutse_messaging::Publisher::new(&connection).await?;
            let exchange = format!("{prefix}.events");
            let body = envelope.to_bytes();
            publisher
                .publish(kutse_messaging::publisher::Outgoing {
                    exchange: &exchange,
                    routing_key: envelope.routing_key(),
                    body: &body,
                    properties: kutse_messaging::publisher::properties(
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
    }
    Ok(())
}
