//! The virus scanner: every upload is scanned by clamd before anyone but its uploader sees it.
//!
//! Uploads are recorded `pending`. This worker claims them one at a time (`FOR UPDATE SKIP
//! LOCKED`, so replicas share the work), streams each object from S3 through clamd, and in the
//! same transaction records the verdict:
//! - **clean**: the document is announced (`document.stored`), and from then on the body's staff
//!   and assessors may download it and intake counts it;
//! - **infected**: the object is moved under `quarantine/` (kept, not deleted), the document is
//!   announced as `document.quarantined` (intake notes it in the application's history), and
//!   nobody downloads it.
//!
//! A scan that cannot be made (clamd down, S3 failing) leaves the document pending and tries again
//! with back-off: scanning fails closed.

use std::sync::Arc;
use std::time::Duration;

use aws_sdk_s3::Client;
use chrono::Utc;
use kutse_domain::{DocumentType, Dvvk, Isikukood};
use kutse_messaging::Envelope;
use kutse_messaging::catalogue::{DocumentQuarantined, DocumentStored};
use sqlx::PgPool;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::clamd::{Clamd, Verdict};

/// How long a leased document is out of other scanners' reach.
const LEASE: Duration = Duration::from_secs(600);
/// The longest one scan may take (download, clamd, container checks) before it counts as failed.
const SCAN_DEADLINE: Duration = Duration::from_secs(300);
/// Attempts after which a document that could never be scanned is refused (it never reaches the
/// panel either way: scanning fails closed).
const MAX_SCAN_ATTEMPTS: i32 = 20;
use crate::db;

/// What a scan found.
enum Finding {
    /// Clean, with a signed container's report.
    Clean(Option<crate::container::Report>),
    /// What clamd found.
    Infected(String),
    /// A signed container that failed its checks.
    Refused(crate::container::ContainerError),
}

/// What the scanner works with.
#[derive(Debug, Clone)]
pub struct Scanner {
    pub pool: PgPool,
    pub s3: Client,
    pub bucket: String,
    pub clamd: Clamd,
    /// Woken by an upload, so a scan starts at once.
    pub wake: Arc<Notify>,
}

/// The key a quarantined document's object moves to.
pub fn quarantine_key(id: uuid::Uuid) -> String {
    format!("quarantine/{id}")
}

/// `document.stored`: the document may now be seen by the panel and counted by intake.
async fn announce_stored(
    tx: &mut sqlx::PgConnection,
    document: &db::documents::Pending,
) -> anyhow::Result<()> {
    let event = DocumentStored {
        document_id: document.id,
        application_id: document.application_id,
        owner: Isikukood::parse(&document.owner)?,
        document_type: DocumentType::parse(&document.document_type)?,
        sha256: document.sha256.clone(),
        size_bytes: document.size_bytes,
        dvvk: Dvvk::FileExchange,
        uploaded_at: Some(document.created_at),
        request_id: document.request_id,
    };
    let envelope = Envelope::new(&event, Some(document.application_id))?;
    kutse_messaging::Outbox::enqueue(tx, &envelope).await?;
    Ok(())
}

impl Scanner {
    /// Scans until `shutdown`; returns an error only when the database fails.
    pub async fn run(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        loop {
            let scanned = tokio::select! {
                () = shutdown.cancelled() => return Ok(()),
                scanned = self.scan_next() => scanned?,
            };
            if !scanned {
                tokio::select! {
                    () = shutdown.cancelled() => return Ok(()),
                    () = self.wake.notified() => {}
                    () = tokio::time::sleep(Duration::from_secs(1)) => {}
                }
            }
        }
    }

    /// Scans the next pending document, if any is due; whether there was one.
    pub async fn scan_next(&self) -> anyhow::Result<bool> {
        let mut conn = self.pool.acquire().await?;
        let Some(document) = db::documents::lease_pending(&mut conn, LEASE.as_secs_f64()).await?
        else {
            return Ok(false);
        };
        drop(conn);
        if document.scan_attempts > MAX_SCAN_ATTEMPTS {
            let mut tx = self.pool.begin().await?;
            if db::documents::lock_pending(&mut tx, document.id).await? {
                let reason = format!("could not be scanned in {MAX_SCAN_ATTEMPTS} attempts");
                db::documents::reject(&mut tx, document.id, &reason).await?;
                tracing::error!(document = %document.id, "document refused: {reason}");
            }
            tx.commit().await?;
            return Ok(true);
        }
        // The scan runs outside any transaction; its verdict is recorded in one.
        let finding = tokio::time::timeout(SCAN_DEADLINE, self.examine(&document))
            .await
            .unwrap_or_else(|_| Err(anyhow::anyhow!("no verdict in {SCAN_DEADLINE:?}")));
        let mut tx = self.pool.begin().await?;
        if !db::documents::lock_pending(&mut tx, document.id).await? {
            tx.commit().await?;
            return Ok(true);
        }
        match finding {
            Ok(Finding::Refused(refused)) => {
                db::documents::reject(&mut tx, document.id, &refused.to_string()).await?;
                tracing::warn!(document = %document.id, reason = %refused, "signed container refused");
            }
            Ok(Finding::Clean(report)) => {
                if let Some(report) = report {
                    let report = serde_json::to_value(&report)?;
                    db::documents::set_container(&mut tx, document.id, &report).await?;
                }
                db::documents::scanned(&mut tx, document.id, None).await?;
                announce_stored(&mut tx, &document).await?;
                tracing::info!(document = %document.id, "document scanned clean");
            }
            Ok(Finding::Infected(signature)) => {
                let quarantined = quarantine_key(document.id);
                if let Err(e) = self.quarantine(&document.object_key, &quarantined).await {
                    // Not moved: try the whole scan again later; the document stays pending.
                    db::documents::scan_later(&mut tx, document.id, &e.to_string(), 30.0).await?;
                    tx.commit().await?;
                    tracing::warn!(document = %document.id, error = %e, "an infected document could not be quarantined yet");
                    return Ok(true);
                }
                db::documents::scanned(&mut tx, document.id, Some((&signature, &quarantined)))
                    .await?;
                let event = DocumentQuarantined {
                    document_id: document.id,
                    application_id: document.application_id,
                    document_type: DocumentType::parse(&document.document_type)?,
                    signature: signature.clone(),
                    quarantined_at: Utc::now(),
                };
                let envelope = Envelope::new(&event, Some(document.application_id))?;
                kutse_messaging::Outbox::enqueue(&mut tx, &envelope).await?;
                tracing::warn!(document = %document.id, signature = signature.as_str(), "infected document quarantined");
            }
            Err(e) => {
                let delay = kutse_retry::Backoff::delay_for(
                    u32::try_from(document.scan_attempts - 1).unwrap_or(0),
                    Duration::from_secs(2),
                    Duration::from_secs(300),
                );
                db::documents::scan_later(
                    &mut tx,
                    document.id,
                    &format!("{e:#}"),
                    delay.as_secs_f64(),
                )
                .await?;
                tracing::warn!(document = %document.id, error = format!("{e:#}"), retry_in_s = delay.as_secs_f64(), "document not scanned; it stays pending");
            }
        }
        tx.commit().await?;
        Ok(true)
    }

    /// What a document is found to be: scanned by clamd and, if it is a signed container, its
    /// checks made. The object is read once: streamed through clamd, or — a container, whose ZIP
    /// directory is at its end — read whole (at most `DOCUMENT_MAX_BYTES`), scanned and inspected.
    async fn examine(&self, document: &db::documents::Pending) -> anyhow::Result<Finding> {
        let object = kutse_storage::open_object(&self.s3, &self.bucket, &document.object_key)
            .await
            .map_err(|e| anyhow::anyhow!(e))?;
        if document.content_type != crate::content::ASICE_MIME {
            let body = tokio::sync::Mutex::new(object);
            let verdict = self
                .clamd
                .scan(|| async {
                    let mut body = body.lock().await;
                    Ok(body
                        .try_next()
                        .await
                        .map_err(|e| anyhow::anyhow!("S3 read: {e}"))?
                        .map(|bytes| bytes.to_vec()))
                })
                .await?;
            return Ok(match verdict {
                Verdict::Clean => Finding::Clean(None),
                Verdict::Infected(signature) => Finding::Infected(signature),
            });
        }
        let bytes = object.collect().await?.into_bytes();
        let whole = std::sync::Mutex::new(Some(bytes.to_vec()));
        let verdict = self
            .clamd
            .scan(|| {
                let next = whole.lock().map(|mut w| w.take()).unwrap_or_default();
                async move { Ok(next) }
            })
            .await?;
        if let Verdict::Infected(signature) = verdict {
            return Ok(Finding::Infected(signature));
        }
        let checked = tokio::task::spawn_blocking(move || {
            crate::container::inspect(&bytes, crate::container::Limits::default())
        })
        .await?;
        Ok(match checked {
            Ok(report) => Finding::Clean(Some(report)),
            Err(refused) => Finding::Refused(refused),
        })
    }

    /// Moves an object under `quarantine/`: copied, then the original deleted. Idempotent: if an
    /// earlier attempt copied it already, only the original is removed.
    async fn quarantine(&self, key: &str, quarantined: &str) -> anyhow::Result<()> {
        let moved = self
            .s3
            .head_object()
            .bucket(&self.bucket)
            .key(quarantined)
            .send()
            .await
            .is_ok();
        if moved {
            return kutse_storage::delete_object(&self.s3, &self.bucket, key)
                .await
                .map_err(|e| anyhow::anyhow!(e));
        }
        self.s3
            .copy_object()
            .bucket(&self.bucket)
            .copy_source(format!("{}/{key}", self.bucket))
            .key(quarantined)
            .send()
            .await
            .map_err(|e| {
                anyhow::anyhow!("S3 copy: {}", aws_sdk_s3::error::DisplayErrorContext(e))
            })?;
        kutse_storage::delete_object(&self.s3, &self.bucket, key)
            .await
            .map_err(|e| anyhow::anyhow!(e))
    }
}
