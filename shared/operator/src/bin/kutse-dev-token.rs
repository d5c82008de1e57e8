//! `kutse-dev-token`: development tokens for the local stack (`--help` lists the options).
//!
//! The key lives in `--dir` (default `$KUTSE_DEV_AUTH_DIR`, else `.local/dev-auth`). Services
//! trust it when their `AUTH_JWKS_FILE` points at its `jwks.json`, which is their default.

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use kutse_auth::Role;
use kutse_auth::dev::{DevIssuer, TokenRequest};

/// Development tokens the local stack trusts.
#[derive(Debug, Parser)]
#[command(name = "kutse-dev-token", version)]
struct Cli {
    /// Where the dev signing key and its jwks.json live.
    #[arg(long, env = "KUTSE_DEV_AUTH_DIR", default_value = ".local/dev-auth")]
    dir: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Creates the dev key and jwks.json (idempotent).
    Init,
    /// Prints a signed token.
    Mint {
        /// The person: `EE` and the personal code.
        #[arg(long, default_value = "EE38001085718")]
        subject: String,
        /// applicant, partner, awarding_body_staff, assessor, committee_member or authority
        /// (repeatable).
        #[arg(long = "role", value_parser = parse_role)]
        roles: Vec<Role>,
        /// The awarding body the caller acts for.
        #[arg(long)]
        body: Option<uuid::Uuid>,
        /// Given and family name, e.g. "Mari Maasikas".
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        email: Option<String>,
        /// Lifetime in seconds.
        #[arg(long, default_value_t = 3600)]
        ttl: i64,
    },
}

fn parse_role(name: &str) -> Result<Role, String> {
    Role::parse(name).ok_or_else(|| format!("unknown role {name}"))
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let issuer = DevIssuer::load_or_create(&cli.dir)?;
    match cli.command {
        Command::Init => eprintln!(
            "dev signing key {} ready; JWKS at {}",
            issuer.kid(),
            DevIssuer::jwks_path(&cli.dir).display()
        ),
        Command::Mint {
            subject,
            roles,
            body,
            name,
            email,
            ttl,
        } => {
            let (given, family) = match &name {
                Some(name) => {
                    let (given, family) = name.split_once(' ').unwrap_or((name, ""));
                    (Some(given.to_owned()), Some(family.to_owned()))
                }
                None => (None, None),
            };
            let request = TokenRequest {
                subject,
                roles,
                awarding_body_id: body,
                given_name: given,
                family_name: family,
                email,
                ttl_seconds: ttl,
            };
            println!("{}", issuer.mint(&request)?);
        }
    }
    Ok(())
}
