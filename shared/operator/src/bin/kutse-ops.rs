//! `kutse-ops`: the operator's tool for parked messages. `--help` lists the commands;
//! `docs/operations.md` says when to use which.
//!
//! It connects as the service's own broker user (`AMQP_URL`, as the service itself reads it),
//! whose permissions cover the service's queues. Every command goes once through the parking
//! queue; what it does not touch is put back (see `kutse_operator::parked`).

use std::io::Write as _;

use clap::{Args, Parser, Subcommand};
use kutse_operator::parked::{Action, ParkedMessage, Parking, consuming_services};

/// List, show, replay and purge a service's parked messages.
#[derive(Debug, Parser)]
#[command(name = "kutse-ops", version)]
struct Cli {
    /// The service whose parking queue to open.
    #[arg(long, short, value_parser = clap::builder::PossibleValuesParser::new(consuming_services()))]
    service: String,
    /// The broker, as the service's own user [default: the local stack's user of the service].
    #[arg(long, env = "AMQP_URL", hide_env_values = true)]
    amqp: Option<String>,
    /// The topology's name prefix.
    #[arg(long, env = "AMQP_PREFIX", default_value = "kutse")]
    prefix: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// One line per parked message: id, type, reason, error.
    List {
        /// One JSON object per line instead.
        #[arg(long)]
        json: bool,
    },
    /// One message whole: its headers, the reason and error, the envelope.
    Show {
        /// The message's id (from `list`).
        message_id: String,
    },
    /// Puts messages back into the service's queue under their original routing key, to be
    /// handled again. Forgeries (`misrouted`) and non-messages (`malformed`) are refused.
    Replay(Selection),
    /// Drops messages for good.
    Purge {
        #[command(flatten)]
        selection: Selection,
        /// Yes, drop them (purging cannot be undone).
        #[arg(long)]
        yes: bool,
    },
}

/// Which messages: those named, or `--all` (narrowed by `--reason`).
#[derive(Debug, Args)]
struct Selection {
    /// Message ids (from `list`).
    #[arg(required_unless_present = "all", conflicts_with = "all")]
    message_ids: Vec<String>,
    /// Every parked message.
    #[arg(long)]
    all: bool,
    /// Only messages parked for this reason.
    #[arg(long, value_parser = ["rejected", "exhausted", "delivery_limit", "misrouted", "malformed"])]
    reason: Option<String>,
}

impl Selection {
    /// `action` for the messages selected; the rest are put back.
    fn then(&self, action: Action) -> impl FnMut(&ParkedMessage) -> Action + '_ {
        move |message| {
            if self.matches(message) {
                action
            } else {
                Action::Keep
            }
        }
    }

    fn matches(&self, message: &ParkedMessage) -> bool {
        let named = self.all
            || message
                .message_id
                .as_ref()
                .is_some_and(|id| self.message_ids.contains(id));
        named && self.reason.as_ref().is_none_or(|r| *r == message.reason)
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    match run(cli).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("kutse-ops: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<std::process::ExitCode> {
    let amqp = cli.amqp.clone().unwrap_or_else(|| {
        format!(
            "amqp://kutse-{0}:kutse-{0}-local@127.0.0.1:5672/%2f",
            cli.service
        )
    });
    let parking = Parking::open(&amqp, &cli.prefix, &cli.service).await?;
    let code = match cli.command {
        Command::List { json } => list(&parking, json).await?,
        Command::Show { message_id } => show(&parking, &message_id).await?,
        Command::Replay(selection) => replay(&parking, &selection).await?,
        Command::Purge { selection, yes } => purge(&parking, &selection, yes).await?,
    };
    parking.close().await;
    Ok(code)
}

fn line(message: &ParkedMessage) -> String {
    let error: String = message
        .error
        .as_deref()
        .unwrap_or("")
        .chars()
        .take(160)
        .collect();
    format!(
        "{}  {}  {}  {}",
        message.message_id.as_deref().unwrap_or("(no id)"),
        message.message_type.as_deref().unwrap_or("(no type)"),
        message.reason,
        error.replace('\n', " ")
    )
}

fn json(message: &ParkedMessage) -> serde_json::Value {
    serde_json::json!({
        "message_id": message.message_id,
        "message_type": message.message_type,
        "routing_key": message.routing_key,
        "reason": message.reason,
        "error": message.error,
        "app_id": message.app_id,
        "replayable": message.refusal().is_none(),
    })
}

async fn list(parking: &Parking, as_json: bool) -> anyhow::Result<std::process::ExitCode> {
    let walked = parking.walk(|_| Action::Keep, |_, _, _, _| {}).await?;
    let mut out = std::io::stdout().lock();
    for message in &walked.kept {
        if as_json {
            writeln!(out, "{}", json(message))?;
        } else {
            writeln!(out, "{}", line(message))?;
        }
    }
    eprintln!("{}: {} parked", parking.parked_queue(), walked.kept.len());
    Ok(std::process::ExitCode::SUCCESS)
}

async fn show(parking: &Parking, message_id: &str) -> anyhow::Result<std::process::ExitCode> {
    let walked = parking.walk(|_| Action::Keep, |_, _, _, _| {}).await?;
    let Some(message) = walked
        .kept
        .iter()
        .find(|m| m.message_id.as_deref() == Some(message_id))
    else {
        eprintln!(
            "kutse-ops: no message {message_id} in {} ({} parked; `list` shows them)",
            parking.parked_queue(),
            walked.kept.len()
        );
        return Ok(std::process::ExitCode::FAILURE);
    };
    let mut out = std::io::stdout().lock();
    writeln!(out, "message id:   {message_id}")?;
    writeln!(
        out,
        "type:         {}",
        message.message_type.as_deref().unwrap_or("(none)")
    )?;
    writeln!(
        out,
        "routing key:  {}",
        message.routing_key.as_deref().unwrap_or("(not recorded)")
    )?;
    writeln!(
        out,
        "published by: {}",
        message.app_id.as_deref().unwrap_or("(unknown)")
    )?;
    writeln!(out, "reason:       {}", message.reason)?;
    writeln!(
        out,
        "error:        {}",
        message.error.as_deref().unwrap_or("(none)")
    )?;
    match message.refusal() {
        None => writeln!(out, "replayable:   yes")?,
        Some(why) => writeln!(out, "replayable:   no: {why}")?,
    }
    writeln!(out, "headers:")?;
    for (k, v) in message.headers() {
        writeln!(out, "  {k}: {v}")?;
    }
    writeln!(out, "body:\n{}", message.body_text())?;
    Ok(std::process::ExitCode::SUCCESS)
}

fn report(verb: &str) -> impl FnMut(usize, usize, Action, &ParkedMessage) {
    move |position, total, action, message| {
        let what = match action {
            Action::Keep => match message.refusal() {
                Some(why) => format!("refused ({why})"),
                None => "left".to_owned(),
            },
            _ => verb.to_owned(),
        };
        eprintln!("[{position}/{total}] {what}: {}", line(message));
    }
}

async fn replay(
    parking: &Parking,
    selection: &Selection,
) -> anyhow::Result<std::process::ExitCode> {
    let walked = parking
        .walk(selection.then(Action::Replay), report("replayed"))
        .await?;
    let refused = walked.kept.iter().filter(|m| selection.matches(m)).count();
    eprintln!(
        "{} replayed to {}'s queue, {refused} refused, {} left parked",
        walked.replayed.len(),
        parking.service(),
        walked.kept.len()
    );
    Ok(finish(selection, walked.replayed.len() + refused, refused))
}

async fn purge(
    parking: &Parking,
    selection: &Selection,
    yes: bool,
) -> anyhow::Result<std::process::ExitCode> {
    anyhow::ensure!(
        yes,
        "purging drops messages for good; add --yes (see `show` and `list` first)"
    );
    let walked = parking
        .walk(selection.then(Action::Purge), report("purged"))
        .await?;
    eprintln!(
        "{} purged, {} left parked",
        walked.purged.len(),
        walked.kept.len()
    );
    Ok(finish(selection, walked.purged.len(), 0))
}

/// Fails when a named message was not found, or a replay was refused.
fn finish(selection: &Selection, found: usize, refused: usize) -> std::process::ExitCode {
    if refused > 0 {
        return std::process::ExitCode::FAILURE;
    }
    if !selection.all && found < selection.message_ids.len() {
        eprintln!(
            "kutse-ops: {} of the named messages were not parked",
            selection.message_ids.len() - found
        );
        return std::process::ExitCode::FAILURE;
    }
    std::process::ExitCode::SUCCESS
}
