//! `kutse-dev-token`: development tokens for the local stack.
//!
//! ```text
//! kutse-dev-token init                       create the dev key and jwks.json (idempotent)
//! kutse-dev-token mint [options]             print a signed token
//!     --subject EE38001085718                the person (default: a test applicant)
//!     --role applicant|partner|awarding_body_staff|assessor|committee_member|authority   (repeatable)
//!     --body <uuid>                          the awarding body the caller acts for
//!     --name "Mari Maasikas"                 given and family name
//!     --email mari@example.com
//!     --ttl 3600                             lifetime in seconds
//! ```
//! The key lives in `$KUTSE_DEV_AUTH_DIR` (default `.local/dev-auth`). Services trust it when
//! their `AUTH_JWKS_FILE` points at its `jwks.json`, which is their default.

use std::path::PathBuf;

use kutse_auth::Role;
use kutse_auth::dev::{DevIssuer, TokenRequest};

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let command = args.next().unwrap_or_default();
    let dir = std::env::var("KUTSE_DEV_AUTH_DIR")
        .map_or_else(|_| PathBuf::from(".local/dev-auth"), PathBuf::from);
    let issuer = DevIssuer::load_or_create(&dir)?;
    match command.as_str() {
        "init" => {
            eprintln!(
                "dev signing key {} ready; JWKS at {}",
                issuer.kid(),
                DevIssuer::jwks_path(&dir).display()
            );
            Ok(())
        }
        "mint" => {
            let request = parse_mint(args.collect())?;
            println!("{}", issuer.mint(&request)?);
            Ok(())
        }
        _ => {
            eprintln!(
                "usage: kutse-dev-token init | mint [--subject EE…] [--role R]… [--body UUID] [--name \"Given Family\"] [--email E] [--ttl SECONDS]"
            );
            std::process::exit(2);
        }
    }
}

fn parse_mint(args: Vec<String>) -> anyhow::Result<TokenRequest> {
    let mut request = TokenRequest {
        subject: "EE38001085718".to_owned(),
        ttl_seconds: 3600,
        ..TokenRequest::default()
    };
    let mut it = args.into_iter();
    while let Some(flag) = it.next() {
        let mut value = || {
            it.next()
                .ok_or_else(|| anyhow::anyhow!("{flag} needs a value"))
        };
        match flag.as_str() {
            "--subject" => request.subject = value()?,
            "--role" => {
                let name = value()?;
                request.roles.push(
                    Role::parse(&name).ok_or_else(|| anyhow::anyhow!("unknown role {name}"))?,
                );
            }
            "--body" => request.awarding_body_id = Some(value()?.parse()?),
            "--name" => {
                let name = value()?;
                let (given, family) = name.split_once(' ').unwrap_or((&name, ""));
                request.given_name = Some(given.to_owned());
                request.family_name = Some(family.to_owned());
            }
            "--email" => request.email = Some(value()?),
            "--ttl" => request.ttl_seconds = value()?.parse()?,
            other => anyhow::bail!("unknown option {other}"),
        }
    }
    Ok(request)
}
