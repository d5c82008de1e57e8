//! `kutse-dev-token`: the TARA stand-in of the local stack (`--help` lists the options).
//!
//! In production a portal logs a person in with TARA and exchanges the ID token at intake's
//! `/oauth/token` for a Kutse access token. Locally this tool plays TARA: `login` prints a
//! TARA-shaped ID token (RS256, `profile_attributes`, `amr`, `acr`, no roles) for any personal
//! code, and `token` also does the portal's exchange and prints the access token. The roles in it
//! are the ones the person holds in the register: appoint them first (`make seed` does it for the
//! demo body).
//!
//! The stand-in's key lives in `--dir` (default `$KUTSE_DEV_TARA_DIR`, else `.local/dev-tara`);
//! intake trusts its `jwks.json`, which is intake's default `TARA_JWKS_FILE`.

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use kutse_auth::dev::{DevTara, TaraLogin};

/// The local stack's stand-in for TARA.
#[derive(Debug, Parser)]
#[command(name = "kutse-dev-token", version)]
struct Cli {
    /// Where the stand-in's signing key and its jwks.json live.
    #[arg(long, env = "KUTSE_DEV_TARA_DIR", default_value = ".local/dev-tara")]
    dir: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Args)]
struct Login {
    /// The person's personal code (isikukood).
    #[arg(long, default_value = "38001085718")]
    code: String,
    /// Given and family name, e.g. "Mari Maasikas".
    #[arg(long, default_value = "Mari Maasikas")]
    name: String,
    /// A verified e-mail address.
    #[arg(long)]
    email: Option<String>,
    /// Lifetime of the ID token in seconds.
    #[arg(long, default_value_t = 120)]
    ttl: i64,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Creates the stand-in's key and jwks.json (idempotent).
    Init,
    /// Prints a TARA-shaped ID token for a person.
    Login(Login),
    /// Logs a person in and exchanges the ID token at intake: prints a Kutse access token.
    Token {
        #[command(flatten)]
        login: Login,
        /// Act for this awarding body, with the roles held there now.
        #[arg(long)]
        body: Option<uuid::Uuid>,
        /// Intake's base URL.
        #[arg(
            long,
            env = "KUTSE_INTAKE_URL",
            default_value = "http://127.0.0.1:8081"
        )]
        intake: String,
    },
}

fn id_token(tara: &DevTara, login: &Login) -> anyhow::Result<String> {
    let (given, family) = login.name.split_once(' ').unwrap_or((&login.name, ""));
    let mut request = TaraLogin::new(&login.code, given, family);
    request.email.clone_from(&login.email);
    request.ttl_seconds = login.ttl;
    tara.mint(&request)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let tara = DevTara::load_or_create(&cli.dir)?;
    match cli.command {
        Command::Init => eprintln!(
            "TARA stand-in key {} ready; JWKS at {}",
            tara.kid(),
            DevTara::jwks_path(&cli.dir).display()
        ),
        Command::Login(login) => println!("{}", id_token(&tara, &login)?),
        Command::Token {
            login,
            body,
            intake,
        } => {
            let scope = body.map(|b| format!("body:{b}"));
            let mut form = vec![
                (
                    "grant_type",
                    "urn:ietf:params:oauth:grant-type:token-exchange".to_owned(),
                ),
                ("subject_token", id_token(&tara, &login)?),
                (
                    "subject_token_type",
                    "urn:ietf:params:oauth:token-type:id_token".to_owned(),
                ),
            ];
            if let Some(scope) = scope {
                form.push(("scope", scope));
            }
            let response = reqwest::Client::new()
                .post(format!("{}/oauth/token", intake.trim_end_matches('/')))
                .form(&form)
                .send()
                .await?;
            let status = response.status();
            let answer: serde_json::Value = response.json().await?;
            anyhow::ensure!(
                status.is_success(),
                "the exchange was refused ({status}): {answer}"
            );
            println!(
                "{}",
                answer["access_token"]
                    .as_str()
                    .ok_or_else(|| anyhow::anyhow!("no access_token in {answer}"))?
            );
        }
    }
    Ok(())
}
