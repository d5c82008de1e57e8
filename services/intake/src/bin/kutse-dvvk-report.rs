//! `kutse-dvvk-report --from YYYY-MM-DD --to YYYY-MM-DD [--format json|csv]`: the state's
//! document-exchange report for a period (days in Tallinn, both included), straight from
//! intake's DVVK ledger — the same report the authority gets at `GET /reports/dvvk`. Reads
//! `DATABASE_URL` (default: the local stack's intake database).

use kutse_intake::http::reports::{self, Format, ReportQuery};

const USAGE: &str = "usage: kutse-dvvk-report --from YYYY-MM-DD --to YYYY-MM-DD [--format json|csv]

Prints the DVVK report for the period (days in Tallinn, both included): the count of official
document exchanges per DVVK channel code, and the answers to the state questionnaire's
questions B7-B15 (and B16, what they do not cover). See docs/dvvk.md.

  --from     the first day of the period
  --to       the last day of the period
  --format   json (default) or csv

Environment: DATABASE_URL (default postgres://kutse:kutse@127.0.0.1:5432/kutse_intake)";

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::process::ExitCode {
    match run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("kutse-dvvk-report: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run() -> anyhow::Result<()> {
    let mut query = ReportQuery::default();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let slot = match arg.as_str() {
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(());
            }
            "--from" => &mut query.from,
            "--to" => &mut query.to,
            "--format" => &mut query.format,
            other => anyhow::bail!("unknown argument {other:?}\n\n{USAGE}"),
        };
        *slot = Some(
            args.next()
                .ok_or_else(|| anyhow::anyhow!("{arg} needs a value\n\n{USAGE}"))?,
        );
    }
    let period = match reports::period(&query) {
        Ok(period) => period,
        Err(kutse_http::ApiError::Unprocessable { detail, errors, .. }) => {
            let fields: Vec<String> = errors
                .iter()
                .map(|e| format!("  --{}: {}", e.field, e.message))
                .collect();
            anyhow::bail!("{detail}:\n{}\n\n{USAGE}", fields.join("\n"));
        }
        Err(e) => anyhow::bail!("{e}"),
    };
    let mut env = kutse_config::Env::from_process();
    let url = env.url(
        "DATABASE_URL",
        "postgres://kutse:kutse@127.0.0.1:5432/kutse_intake",
    );
    env.finish()?;
    let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(url.expose())
        .await
        .map_err(|e| anyhow::anyhow!("intake's database ({}): {e}", url.redacted()))?;
    let report = reports::build(&mut conn, &period).await?;
    match period.format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&report)?),
        Format::Csv => print!("{}", report.to_csv(kutse_intake::http::desk::field)),
    }
    Ok(())
}
