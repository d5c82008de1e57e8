//! A duplicate (`application.submitted` of kind `duplicate`, sent once the body confirmed its
//! fee): no assessment and no committee — the register issues a new edition of the **same**
//! certificate, marked as a duplicate, with the holder's new name when it changed; sealed and its
//! credential signed anew; the earlier edition is kept, superseded; the PDF is rendered and mailed
//! again (`certificate.rendered` with the edition), and `certificate.reissued` tells intake.
//!
//! The register trusts nothing it is told: the certificate must be the applicant's own, neither
//! revoked nor succeeded, and each application is applied once (`duplicates`).

use kutse_domain::DuplicateReason;
use kutse_messaging::catalogue::{ApplicationSubmitted, CertificateReissued};
use kutse_messaging::{Envelope, HandlerError, Outbox};
use sqlx::PgConnection;

use super::{CertificateDocument, CertificatesHandler, DuplicateMark, SEAL_TYP};
use crate::db;

impl CertificatesHandler {
    pub(super) async fn reissue(
        &self,
        conn: &mut PgConnection,
        cause: &Envelope,
        s: &ApplicationSubmitted,
    ) -> Result<(), HandlerError> {
        let refuse = |why: String| {
            Err(HandlerError::Permanent(format!(
                "duplicate on application {}: {why}",
                s.application_id
            )))
        };
        let (Some(number), Some(reason)) = (s.certificate_number.as_deref(), s.duplicate_reason)
        else {
            return refuse("it names no certificate or no reason".to_owned());
        };
        let Some(current) = db::duplicates::lock(conn, number).await? else {
            return refuse(format!("the register holds no certificate {number}"));
        };
        // Applied before: nothing to do, whatever happened to the certificate since.
        if db::duplicates::applied(conn, s.application_id).await? {
            tracing::info!(application = %s.application_id, "duplicate issued before; nothing to do");
            return Ok(());
        }
        if current.holder != s.applicant.isikukood.to_string() {
            return refuse(format!("certificate {number} is not the applicant's"));
        }
        if current.status == "revoked" {
            return refuse(format!("certificate {number} is revoked"));
        }
        if let Some(successor) = &current.superseded_by {
            return refuse(format!("certificate {number} was succeeded by {successor}"));
        }
        let edition = current.edition + 1;
        if !db::duplicates::record(conn, s.application_id, current.id, edition, reason.as_str())
            .await?
        {
            tracing::info!(application = %s.application_id, "duplicate issued before; nothing to do");
            return Ok(());
        }
        let transient = |e: String| HandlerError::Transient(anyhow::anyhow!(e));
        let mut document: CertificateDocument = serde_json::from_value(current.document.clone())
            .map_err(|e| transient(format!("stored document of {number}: {e}")))?;
        if reason == DuplicateReason::NameChanged {
            document.holder.given_name = s.applicant.given_name.clone();
            document.holder.family_name = s.applicant.family_name.clone();
        }
        let today = kutse_domain::tallinn_today();
        let edition_number = u32::try_from(edition).unwrap_or(u32::MAX);
        document.duplicate = Some(DuplicateMark {
            edition: edition_number,
            issued_on: today,
            reason,
        });
        let (key, kid) = self.register.current();
        let seal = kutse_protocol::sign(&document, key, kid, SEAL_TYP)
            .map_err(|e| transient(format!("sealing: {e}")))?;
        let status = db::duplicates::entries(conn, current.id).await?;
        let salt = current
            .holder_salt
            .clone()
            .unwrap_or_else(crate::credential::new_salt);
        let credential = self
            .credential_of(&document, current.id, &salt, current.created_at, &status)
            .map_err(transient)?;
        let value = serde_json::to_value(&document).map_err(|e| transient(e.to_string()))?;
        db::duplicates::replace(
            conn,
            &current,
            &db::duplicates::Edition {
                edition,
                document: &value,
                seal: &seal,
                credential: &credential,
                salt: &salt,
                contact: s.application_id,
            },
        )
        .await?;
        let mut holder = s.applicant.clone();
        holder.given_name = document.holder.given_name.clone();
        holder.family_name = document.holder.family_name.clone();
        let event = CertificateReissued {
            certificate_id: current.id,
            register_number: number.to_owned(),
            application_id: s.application_id,
            holder,
            reason,
            edition: edition_number,
            reissued_on: today,
            verification_url: format!("{}/certificates/{number}", self.public_base_url),
        };
        let envelope = Envelope::caused_by(&event, cause).map_err(|e| transient(e.to_string()))?;
        Outbox::enqueue(conn, &envelope).await?;
        tracing::info!(application = %s.application_id, register_number = number, edition, "duplicate issued");
        Ok(())
    }
}
