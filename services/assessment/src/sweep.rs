//! The daily sweep of the procedure's clocks ([`kutse_domain::clocks`]):
//! - open cases past their review or decision due day, and decided cases whose applicant has not
//!   been told within 14 days, raise `assessment.overdue`, once per case, clock and due day;
//! - requests for more documents whose due day has passed close as `expired`, extending the
//!   periods by the working days they were open;
//! - each body with anything overdue gets one digest a day (`assessment.overdue_digest`) at its
//!   desk address, listing every clock still overdue. A body without a desk address gets none
//!   (and is logged); its dashboard still shows them.
//!
//! Idempotent and safe with replicas: every effect is a row inserted (or a request closed) in the
//! same transaction as its event, and a finding that exists already raises nothing. The worker
//! runs it at start and then every `ASSESSMENT_SWEEP_INTERVAL_SECONDS` (an hour by default): the
//! findings are per day, so running more often than daily only catches up sooner after downtime.

use std::time::Duration;

use chrono::NaiveDate;
use kutse_domain::clocks;
use kutse_messaging::catalogue::{AssessmentOverdue, OverdueDigest, OverdueItem, RequestClosed};
use kutse_messaging::{Envelope, Outbox};
use sqlx::{PgConnection, PgPool};
use tokio_util::sync::CancellationToken;

use crate::db::procedure;

/// What one sweep did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Swept {
    pub overdue_raised: usize,
    pub requests_expired: usize,
    pub digests_sent: usize,
}

/// Sweeps as of `today` (a date in Tallinn).
pub async fn run_once(pool: &PgPool, today: NaiveDate) -> anyhow::Result<Swept> {
    let mut swept = Swept::default();
    let mut tx = pool.begin().await?;
    for request in procedure::lock_expired(&mut tx, today).await? {
        close(&mut tx, &request, "expired", request.due_on).await?;
        swept.requests_expired += 1;
    }
    tx.commit().await?;

    let mut tx = pool.begin().await?;
    for case in procedure::open_cases(&mut tx, today).await? {
        // The periods stand still while documents are awaited: an open request counts up to
        // today as if it closed now, and days awaited for two requests count once.
        let spans: Vec<_> = case
            .requested_on
            .iter()
            .copied()
            .zip(case.open_until.iter().copied())
            .collect();
        let extension = clocks::extension_of(&spans);
        for (clock, due) in [
            ("review", clocks::review_due(case.round_deadline, extension)),
            (
                "decision",
                clocks::decision_due(case.round_deadline, extension),
            ),
        ] {
            if due < today
                && procedure::record_overdue(&mut tx, case.application_id, clock, due, today)
                    .await?
            {
                let event = AssessmentOverdue {
                    application_id: case.application_id,
                    awarding_body_id: case.awarding_body_id,
                    clock: clock.to_owned(),
                    due,
                    found_on: today,
                };
                Outbox::enqueue(&mut tx, &Envelope::new(&event, Some(case.application_id))?)
                    .await?;
                tracing::warn!(application = %case.application_id, clock, %due, "assessment overdue");
                swept.overdue_raised += 1;
            }
        }
    }
    for case in procedure::untold(&mut tx, today).await? {
        if procedure::record_overdue(&mut tx, case.application_id, "notice", case.due, today)
            .await?
        {
            let event = AssessmentOverdue {
                application_id: case.application_id,
                awarding_body_id: case.awarding_body_id,
                clock: "notice".to_owned(),
                due: case.due,
                found_on: today,
            };
            Outbox::enqueue(&mut tx, &Envelope::new(&event, Some(case.application_id))?).await?;
            tracing::warn!(application = %case.application_id, due = %case.due, "decision notice overdue");
            swept.overdue_raised += 1;
        }
    }
    tx.commit().await?;

    let mut tx = pool.begin().await?;
    swept.digests_sent = digests(&mut tx, today).await?;
    tx.commit().await?;
    Ok(swept)
}

/// One digest per body and day, of every clock still overdue; how many were sent.
async fn digests(conn: &mut PgConnection, today: NaiveDate) -> anyhow::Result<usize> {
    let mut by_body: std::collections::BTreeMap<uuid::Uuid, Vec<procedure::Outstanding>> =
        Default::default();
    for item in procedure::outstanding(conn, None).await? {
        if still_overdue(&item, today) {
            by_body.entry(item.awarding_body_id).or_default().push(item);
        }
    }
    let mut sent = 0;
    for (body, mut items) in by_body {
        let Some(email) = items.iter().find_map(|i| {
            i.email
                .as_deref()
                .and_then(|e| kutse_domain::Email::parse(e).ok())
        }) else {
            tracing::info!(awarding_body = %body, overdue = items.len(), "no desk address: no digest");
            continue;
        };
        items.sort_by_key(|i| (i.due, i.application_id));
        if !procedure::record_digest(conn, body, today, i32::try_from(items.len())?).await? {
            continue;
        }
        let event = OverdueDigest {
            awarding_body_id: body,
            email,
            day: today,
            items: items
                .into_iter()
                .map(|i| OverdueItem {
                    application_id: i.application_id,
                    applicant_name: i.applicant_name,
                    qualification: i.qualification,
                    clock: i.clock,
                    due: i.due,
                })
                .collect(),
        };
        Outbox::enqueue(conn, &Envelope::new(&event, None)?).await?;
        sent += 1;
    }
    Ok(sent)
}

/// Whether a finding still stands: its due day is the case's current one (a request closed
/// since may have moved it), and the clock still runs (the case is still open for review and
/// decision, and not reopened; decided and untold for the notice).
pub(crate) fn stands(item: &procedure::Outstanding) -> bool {
    let extension = u32::try_from(item.extension_days).unwrap_or(0);
    let current = match item.clock.as_str() {
        "review" if item.status == "open" && !item.reopened => {
            Some(clocks::review_due(item.round_deadline, extension))
        }
        "decision" if item.status == "open" && !item.reopened => {
            Some(clocks::decision_due(item.round_deadline, extension))
        }
        "notice" if item.status == "decided" => item.notice_due,
        _ => None,
    };
    current == Some(item.due)
}

/// Whether a finding [`stands`] and its due day has passed by `today`.
fn still_overdue(item: &procedure::Outstanding, today: NaiveDate) -> bool {
    stands(item) && item.due < today
}

/// Closes a request on `closed_on` (answered, or expired on its due day): the periods grow by the
/// working days it was open that no other closed request of the case already covered
/// ([`clocks::extension_of`]), and `assessment.request_closed` says so.
pub async fn close(
    conn: &mut PgConnection,
    request: &procedure::Request,
    outcome: &str,
    closed_on: NaiveDate,
) -> anyhow::Result<()> {
    crate::db::cases::lock(conn, request.application_id).await?;
    let progress = crate::db::cases::progress(conn, request.application_id).await?;
    let mut spans: Vec<_> = procedure::requests(conn, request.application_id)
        .await?
        .into_iter()
        .filter(|r| r.id != request.id)
        .filter_map(|r| r.closed_on.map(|closed| (r.requested_on, closed)))
        .collect();
    spans.push((request.requested_on, closed_on));
    let extension = clocks::extension_of(&spans);
    let added = extension.saturating_sub(u32::try_from(progress.extension_days).unwrap_or(0));
    let review_due = clocks::review_due(progress.round_deadline, extension);
    procedure::close_request(
        conn,
        request.id,
        outcome,
        closed_on,
        i32::try_from(added)?,
        i32::try_from(extension)?,
        review_due,
    )
    .await?;
    let event = RequestClosed {
        request_id: request.id,
        application_id: request.application_id,
        outcome: outcome.to_owned(),
        closed_on,
        extension_working_days: added,
        review_due,
        decision_due: clocks::decision_due(progress.round_deadline, extension),
    };
    Outbox::enqueue(conn, &Envelope::new(&event, Some(request.application_id))?).await?;
    tracing::info!(request = %request.id, outcome, added, "request for documents closed");
    Ok(())
}

/// The worker: sweeps now and every `interval` until shutdown.
pub async fn run(
    pool: PgPool,
    interval: Duration,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    loop {
        let swept = run_once(&pool, kutse_domain::tallinn_today()).await?;
        if swept != Swept::default() {
            tracing::info!(?swept, "clocks swept");
        }
        tokio::select! {
            () = shutdown.cancelled() => return Ok(()),
            () = tokio::time::sleep(interval) => {}
        }
    }
}
