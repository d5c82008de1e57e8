//! `certificate.issued`: the application is awarded; its history gets the register number, and
//! intake keeps the certificate (what a later recertification or duplicate is checked against),
//! marking the one a recertification succeeds.

use kutse_messaging::catalogue::CertificateIssued;
use kutse_messaging::{Envelope, HandlerError, Handles};
use sqlx::PgConnection;

use super::{IntakeHandler, outcome};
use crate::db;
use crate::domain::ApplicationStatus;

impl Handles<CertificateIssued> for IntakeHandler {
    async fn handle(
        &self,
        conn: &mut PgConnection,
        issued: CertificateIssued,
        _: &Envelope,
    ) -> Result<(), HandlerError> {
        let detail = serde_json::json!({
            "register_number": issued.register_number,
            "verification_url": issued.verification_url,
            "successor_of": issued.successor_of,
        });
        outcome(
            conn,
            issued.application_id,
            ApplicationStatus::Awarded,
            "certificate_issued",
            detail,
        )
        .await?;
        db::certificates::issued(conn, &issued).await?;
        Ok(())
    }
}
