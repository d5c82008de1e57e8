//! Expiry notices: six months before a certificate expires, its holder is e-mailed once, with how
//! to recertify (`certificate.expiring`).
//!
//! A daily sweep, run at start and then hourly: a notice is a row inserted in the same
//! transaction as its event, keyed by the certificate, so running it twice — or on several
//! replicas at once — tells each holder once. Only valid certificates (not revoked or suspended)
//! are noticed.

use std::time::Duration;

use chrono::{Months, NaiveDate};
use kutse_messaging::catalogue::{ApplicantRef, CertificateExpiring};
use kutse_messaging::{Envelope, Outbox};
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

/// How long before expiry the holder is told.
pub const NOTICE_MONTHS: u32 = 6;

/// Sweeps as of `today` (Tallinn); how many holders it told.
pub async fn run_once(
    pool: &PgPool,
    public_base_url: &str,
    today: NaiveDate,
) -> anyhow::Result<usize> {
    let horizon = today
        .checked_add_months(Months::new(NOTICE_MONTHS))
        .unwrap_or(today);
    let mut tx = pool.begin().await?;
    let due = crate::db::expiry::due(&mut tx, today, horizon).await?;
    let mut told = 0;
    for c in due {
        if !crate::db::expiry::record(&mut tx, c.id, c.valid_until, today).await? {
            continue;
        }
        let Some(holder) = c.applicant else {
            tracing::warn!(
                register_number = c.register_number.as_str(),
                "no applicant known: no expiry notice"
            );
            continue;
        };
        let holder: ApplicantRef = serde_json::from_value(holder)?;
        let document: crate::consumers::CertificateDocument = serde_json::from_value(c.document)?;
        let event = CertificateExpiring {
            certificate_id: c.id,
            register_number: c.register_number.clone(),
            holder,
            qualification: document.qualification,
            awarding_body_id: document.awarding_body_id,
            valid_until: c.valid_until,
            verification_url: format!("{public_base_url}/certificates/{}", c.register_number),
        };
        Outbox::enqueue(&mut tx, &Envelope::new(&event, Some(c.application_id))?).await?;
        told += 1;
    }
    tx.commit().await?;
    if told > 0 {
        tracing::info!(told, "expiry notices");
    }
    Ok(told)
}

/// The worker: sweeps now and every hour until shutdown.
pub async fn run(
    pool: PgPool,
    public_base_url: String,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    loop {
        run_once(&pool, &public_base_url, kutse_domain::tallinn_today()).await?;
        tokio::select! {
            () = shutdown.cancelled() => return Ok(()),
            () = tokio::time::sleep(Duration::from_secs(3600)) => {}
        }
    }
}
