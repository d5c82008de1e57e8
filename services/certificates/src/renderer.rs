//! The PDF worker: renders each issued certificate's PDF after issuance (so issuance stays fast),
//! stores it in the register's bucket with its SHA-256, and announces `certificate.rendered`,
//! on which the holder is e-mailed the certificate with the PDF attached.
//!
//! - Certificates are **leased** in batches (`FOR UPDATE SKIP LOCKED`, a lease time), so several
//!   replicas render each certificate once and a replica that dies costs one attempt. A PDF is
//!   recorded only if none was, and only for the edition it was rendered from (a replica whose
//!   lease ran out finds it done and announces nothing; a render overtaken by a duplicate is
//!   dropped and the duplicate rendered anew), so the holder is mailed once per edition.
//! - A failed attempt waits longer each time (30 s doubling to an hour); a certificate that fails
//!   [`MAX_ATTEMPTS`] times is left with its error for an operator (`pdf_error`), logged at error
//!   level. `UPDATE certificates SET pdf_attempts = 0 WHERE pdf_sha256 IS NULL` starts them again.
//! - Rendering is CPU work: it runs on the blocking pool, a batch's PDFs in parallel.
//! - The worker wakes on `NOTIFY kutse_certificates_render` (a trigger on insert), and looks
//!   anyway every few seconds.
//! - The object is written before the row records it; a crash between the two renders the same
//!   bytes again (rendering is reproducible) over the same key.
//! - Each certificate is rendered in a span (`certificate render`) that continues the trace its
//!   row keeps (`traceparent`, written by the issuance or the duplicate), so the signed
//!   protocol, the issuance, the rendering and the holder's e-mail are one trace.

use std::time::Duration;

use aws_sdk_s3::presigning::PresigningConfig;
use kutse_messaging::catalogue::{ApplicantRef, CertificateRendered, RenderedPdf};
use kutse_messaging::{Envelope, Outbox};
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use sqlx::postgres::PgListener;
use tokio_util::sync::CancellationToken;
use tracing::Instrument as _;

use crate::consumers::CertificateDocument;
use crate::db::renderings::ToRender;

/// Attempts before a certificate's PDF is given up on (and left for an operator).
pub const MAX_ATTEMPTS: i32 = 20;
/// The longest one S3 write may take before the attempt counts as failed.
const PUT_DEADLINE: Duration = Duration::from_secs(60);
/// How long a replica holds a batch before another may take it.
const LEASE: Duration = Duration::from_secs(120);
/// Certificates leased at a time.
const BATCH: i64 = 32;
/// How long the pre-signed URL in `certificate.rendered` is valid (S3's maximum).
const URL_LIFETIME: Duration = Duration::from_secs(7 * 24 * 3600);
const CHANNEL: &str = "kutse_certificates_render";

/// The register's bucket.
#[derive(Debug, Clone)]
pub struct Storage {
    pub client: aws_sdk_s3::Client,
    pub bucket: String,
}

/// Reads a stored PDF whole (a certificate's PDF is tens of kilobytes).
pub async fn read_pdf(storage: &Storage, key: &str) -> anyhow::Result<Vec<u8>> {
    let body = kutse_storage::open_object(&storage.client, &storage.bucket, key)
        .await
        .map_err(|e| anyhow::anyhow!(e))?;
    let bytes = body
        .collect()
        .await
        .map_err(|e| anyhow::anyhow!("reading {key}: {e}"))?;
    Ok(bytes.into_bytes().to_vec())
}

/// The worker.
#[derive(Debug, Clone)]
pub struct Renderer {
    pub pool: PgPool,
    pub storage: Storage,
    pub public_base_url: String,
}

/// One rendered PDF, stored, with its announcement.
struct Done {
    row: ToRender,
    key: String,
    sha256: String,
    size: i64,
    announcement: Envelope,
}

impl Renderer {
    /// Renders until `shutdown`; returns an error when the database fails (the runtime restarts
    /// the worker after a pause).
    pub async fn run(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let mut listener = self.listen().await.ok();
        loop {
            let rendered = tokio::select! {
                () = shutdown.cancelled() => return Ok(()),
                rendered = self.render_batch() => rendered?,
            };
            if rendered > 0 {
                continue;
            }
            let notified = async {
                match listener.as_mut() {
                    Some(l) => l.recv().await.map(|_| ()),
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                () = shutdown.cancelled() => return Ok(()),
                received = notified => {
                    if received.is_err() {
                        listener = self.listen().await.ok();
                    }
                }
                () = tokio::time::sleep(Duration::from_secs(5)) => {
                    if listener.is_none() {
                        listener = self.listen().await.ok();
                    }
                }
            }
        }
    }

    async fn listen(&self) -> sqlx::Result<PgListener> {
        let mut listener = PgListener::connect_with(&self.pool).await?;
        listener.listen(CHANNEL).await?;
        Ok(listener)
    }

    /// Leases and renders one batch; how many certificates it leased.
    pub async fn render_batch(&self) -> anyhow::Result<usize> {
        let mut conn = self.pool.acquire().await?;
        let batch =
            crate::db::renderings::lease(&mut conn, BATCH, LEASE.as_secs_f64(), MAX_ATTEMPTS)
                .await?;
        drop(conn);
        let leased = batch.len();
        if leased == 0 {
            return Ok(0);
        }
        let work = batch.into_iter().map(|row| {
            // Each certificate is rendered in the trace of what asked for it (the protocol's
            // issuance, a duplicate), and its announcement carries that trace on to the e-mail.
            let span = tracing::info_span!(
                "certificate.render",
                otel.name = "certificate render",
                register_number = row.register_number.as_str(),
            );
            if let Some(traceparent) = &row.traceparent {
                kutse_telemetry::set_parent_from(
                    &span,
                    [("traceparent".to_owned(), traceparent.clone())],
                );
            }
            self.render_one(row).instrument(span)
        });
        let results = futures::future::join_all(work).await;
        let mut done = Vec::with_capacity(leased);
        let mut conn = self.pool.acquire().await?;
        for result in results {
            match result {
                Ok(d) => done.push(d),
                Err((row, e)) => {
                    let error = format!("{e:#}");
                    if row.pdf_attempts >= MAX_ATTEMPTS {
                        tracing::error!(
                            register_number = row.register_number.as_str(),
                            error,
                            "certificate PDF given up on"
                        );
                    } else {
                        tracing::warn!(
                            register_number = row.register_number.as_str(),
                            error,
                            "certificate PDF not rendered; will retry"
                        );
                    }
                    crate::db::renderings::failed(&mut conn, row.id, row.edition, &error).await?;
                }
            }
        }
        drop(conn);
        if done.is_empty() {
            return Ok(leased);
        }
        let mut tx = self.pool.begin().await?;
        let mut envelopes = Vec::with_capacity(done.len());
        for d in done {
            if crate::db::renderings::stored(
                &mut tx,
                d.row.id,
                d.row.edition,
                &d.key,
                &d.sha256,
                d.size,
            )
            .await?
            {
                envelopes.push(d.announcement);
            } else {
                tracing::info!(
                    register_number = d.row.register_number.as_str(),
                    "PDF already recorded by another renderer"
                );
            }
        }
        Outbox::enqueue_all(&mut tx, &envelopes).await?;
        tx.commit().await?;
        tracing::info!(rendered = envelopes.len(), "certificate PDFs stored");
        Ok(leased)
    }

    async fn render_one(&self, row: ToRender) -> Result<Done, (ToRender, anyhow::Error)> {
        let stored = match self.try_render(&row).await {
            Ok(stored) => stored,
            Err(e) => return Err((row, e)),
        };
        let (holder, document, key, sha256, size) = stored;
        match self
            .announcement(&row, holder, &document, &key, &sha256, size)
            .await
        {
            Ok(announcement) => Ok(Done {
                row,
                key,
                sha256,
                size,
                announcement,
            }),
            Err(e) => Err((row, e)),
        }
    }

    async fn try_render(
        &self,
        row: &ToRender,
    ) -> anyhow::Result<(ApplicantRef, CertificateDocument, String, String, i64)> {
        let document: CertificateDocument = serde_json::from_value(row.document.clone())?;
        let holder: ApplicantRef = serde_json::from_value(
            row.applicant
                .clone()
                .ok_or_else(|| anyhow::anyhow!("the application's submission is missing"))?,
        )?;
        let url = format!(
            "{}/certificates/{}",
            self.public_base_url, document.register_number
        );
        let to_render = document.clone();
        let bytes = tokio::task::spawn_blocking(move || {
            let body = to_render
                .awarding_body_name
                .clone()
                .unwrap_or_else(|| to_render.awarding_body_id.to_string());
            crate::pdf::render(&crate::pdf::Certificate {
                register_number: &to_render.register_number,
                given_name: &to_render.holder.given_name,
                family_name: &to_render.holder.family_name,
                qualification: &to_render.qualification,
                competences: &to_render.competences,
                awarding_body: &body,
                issued_on: to_render.issued_on,
                valid_until: to_render.valid_until,
                verification_url: &url,
                duplicate: to_render
                    .duplicate
                    .as_ref()
                    .map(|d| (d.edition, d.issued_on)),
            })
        })
        .await??;
        let sha256 = hex::encode(Sha256::digest(&bytes));
        let size = i64::try_from(bytes.len())?;
        // Each edition its own object: a duplicate's PDF never overwrites the one it supersedes.
        let key = match &document.duplicate {
            None => format!("certificates/{}.pdf", row.id),
            Some(d) => format!("certificates/{}-{}.pdf", row.id, d.edition),
        };
        let put = self
            .storage
            .client
            .put_object()
            .bucket(&self.storage.bucket)
            .key(&key)
            .content_type("application/pdf")
            .body(bytes.into())
            .send();
        tokio::time::timeout(PUT_DEADLINE, put)
            .await
            .map_err(|_| anyhow::anyhow!("storing {key}: no answer in {PUT_DEADLINE:?}"))?
            .map_err(|e| {
                anyhow::anyhow!(
                    "storing {key}: {}",
                    aws_sdk_s3::error::DisplayErrorContext(e)
                )
            })?;
        Ok((holder, document, key, sha256, size))
    }

    async fn announcement(
        &self,
        row: &ToRender,
        holder: ApplicantRef,
        document: &CertificateDocument,
        key: &str,
        sha256: &str,
        size: i64,
    ) -> anyhow::Result<Envelope> {
        let presigned = self
            .storage
            .client
            .get_object()
            .bucket(&self.storage.bucket)
            .key(key)
            .presigned(PresigningConfig::expires_in(URL_LIFETIME)?)
            .await?;
        let number = &document.register_number;
        let event = CertificateRendered {
            certificate_id: row.id,
            register_number: number.clone(),
            application_id: row.application_id,
            holder,
            qualification: document.qualification.clone(),
            valid_until: document.valid_until,
            verification_url: format!("{}/certificates/{number}", self.public_base_url),
            pdf: RenderedPdf {
                url: presigned.uri().to_owned(),
                expires_at: chrono::Utc::now()
                    + chrono::Duration::from_std(URL_LIFETIME).unwrap_or_default(),
                sha256: sha256.to_owned(),
                size_bytes: size,
                filename: format!("{number}.pdf"),
            },
            edition: document.duplicate.as_ref().map(|d| d.edition),
        };
        Ok(Envelope::new(&event, Some(row.application_id))?)
    }
}
