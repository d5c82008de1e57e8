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
        let verdict = tokio::time::timeout(SCAN_DEADLINE, self.scan(&document.object_key))
            .await
            .unwrap_or_else(|_| Err(anyhow::anyhow!("no verdict in {SCAN_DEADLINE:?}")));
        let mut tx = self.pool.begin().await?;
        if !db::documents::lock_pending(&mut tx, document.id).await? {
            tx.commit().await?;
            return Ok(true);
        }
        match verdict {
            Ok(Verdict::Clean) if document.content_type == crate::content::ASICE_MIME => {
                match self.inspect_container(&document.object_key).await {
                    Err(e) => {
                        let delay = Duration::from_secs(30);
                        db::documents::scan_later(
                            &mut tx,
                            document.id,
                            &format!("{e:#}"),
                            delay.as_secs_f64(),
                        )
                        .await?;
                        tracing::warn!(document = %document.id, error = format!("{e:#}"), "container not inspected; it stays pending");
                    }
                    Ok(Err(refused)) => {
                        db::documents::reject(&mut tx, document.id, &refused.to_string()).await?;
                        tracing::warn!(document = %document.id, reason = %refused, "signed container refused");
                    }
                    Ok(Ok(report)) => {
                        let report = serde_json::to_value(&report)?;
                        db::documents::set_container(&mut tx, document.id, &report).await?;
                        db::documents::scanned(&mut tx, document.id, None).await?;
                        announce_stored(&mut tx, &document).await?;
                        tracing::info!(document = %document.id, "signed container checked and scanned clean");
                    }
                }
            }
            Ok(Verdict::Clean) => {
                db::documents::scanned(&mut tx, document.id, None).await?;
                announce_stored(&mut tx, &document).await?;
                tracing::info!(document = %document.id, "document scanned clean");
            }
            Ok(Verdict::Infected(signature)) => {
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

    /// Reads the container at `key` (whole: a ZIP's directory is at its end) and checks it; the
    /// outer error is a failure to read it (tried again later), the inner one the verdict.
    async fn inspect_container(
        &self,
        key: &str,
    ) -> anyhow::Result<Result<crate::container::Report, crate::container::ContainerError>> {
        let object = self
            .s3
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| {
                anyhow::anyhow!(
                    "S3 get {key}: {}",
                    aws_sdk_s3::error::DisplayErrorContext(e)
                )
            })?;
        let bytes = object.body.collect().await?.into_bytes();
        Ok(tokio::task::spawn_blocking(move || {
            crate::container::inspect(&bytes, crate::container::Limits::default())
        })
        .await?)
    }

    /// Streams the object at `key` through clamd.
    async fn scan(&self, key: &str) -> anyhow::Result<Verdict> {
        let object = self
            .s3
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| {
                anyhow::anyhow!(
                    "S3 get {key}: {}",
                    aws_sdk_s3::error::DisplayErrorContext(e)
                )
            })?;
        let body = tokio::sync::Mutex::new(object.body);
        self.clamd
            .scan(|| async {
                let mut body = body.lock().await;
                Ok(body
                    .try_next()
                    .await
                    .map_err(|e| anyhow::anyhow!("S3 read: {e}"))?
                    .map(|bytes| bytes.to_vec()))
            })
            .await
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
