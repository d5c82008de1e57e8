//! What else the register tells of certificates:
//! - `certificate.status_changed`: intake takes no recertification or duplicate of a revoked
//!   certificate;
//! - `certificate.reissued`: a duplicate was issued on the holder's application, which is then
//!   awarded (its history says so); the certificate carries the name the duplicate does.

use kutse_messaging::catalogue::{CertificateReissued, CertificateStatusChanged};
use kutse_messaging::{Envelope, HandlerError, Handles};
use sqlx::PgConnection;

use super::{IntakeHandler, outcome};
use crate::db;
use crate::domain::ApplicationStatus;

impl Handles<CertificateStatusChanged> for IntakeHandler {
    async fn handle(
        &self,
        conn: &mut PgConnection,
        changed: CertificateStatusChanged,
        _: &Envelope,
    ) -> Result<(), HandlerError> {
        db::certificates::set_status(conn, &changed.register_number, &changed.status).await?;
        Ok(())
    }
}

impl Handles<CertificateReissued> for IntakeHandler {
    async fn handle(
        &self,
        conn: &mut PgConnection,
        reissued: CertificateReissued,
        _: &Envelope,
    ) -> Result<(), HandlerError> {
        let detail = serde_json::json!({
            "register_number": reissued.register_number,
            "edition": reissued.edition,
            "reason": reissued.reason,
            "verification_url": reissued.verification_url,
        });
        outcome(
            conn,
            reissued.application_id,
            ApplicationStatus::Awarded,
            "duplicate_issued",
            detail,
        )
        .await?;
        db::certificates::renamed(
            conn,
            &reissued.register_number,
            &reissued.holder.given_name,
            &reissued.holder.family_name,
        )
        .await?;
        Ok(())
    }
}
