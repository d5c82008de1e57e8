//! The appeal's course as assessment follows it:
//! - `application.refused`: the applicant was told the committee refused; an appeal against it
//!   may be lodged within 30 days;
//! - `certificate.issued`: the qualification was awarded; nothing is left to contest;
//! - `appeal.resolved`: the committee's resolution is recorded; an upheld appeal reopens the case
//!   for assessment (the panel decides again; the new decision is numbered and told anew).

use kutse_messaging::catalogue::{AppealResolved, ApplicationRefused, CertificateIssued};
use kutse_messaging::{Envelope, HandlerError, Handles};
use sqlx::PgConnection;

use super::AssessmentHandler;
use crate::db;

impl Handles<ApplicationRefused> for AssessmentHandler {
    async fn handle(
        &self,
        conn: &mut PgConnection,
        refused: ApplicationRefused,
        envelope: &Envelope,
    ) -> Result<(), HandlerError> {
        db::cases::refused(conn, refused.application_id, envelope.occurred_at).await?;
        Ok(())
    }
}

impl Handles<AppealResolved> for AssessmentHandler {
    async fn handle(
        &self,
        conn: &mut PgConnection,
        resolved: AppealResolved,
        _: &Envelope,
    ) -> Result<(), HandlerError> {
        if !db::appeals::resolve(
            conn,
            resolved.appeal_id,
            &resolved.outcome,
            &resolved.reasons,
            resolved.resolved_at,
        )
        .await?
        {
            tracing::info!(appeal = %resolved.appeal_id, "appeal already resolved; nothing to do");
            return Ok(());
        }
        if resolved.outcome == "upheld" && db::cases::reopen(conn, resolved.application_id).await? {
            tracing::info!(application = %resolved.application_id, "case reopened by an upheld appeal");
        }
        Ok(())
    }
}

impl Handles<CertificateIssued> for AssessmentHandler {
    async fn handle(
        &self,
        conn: &mut PgConnection,
        issued: CertificateIssued,
        envelope: &Envelope,
    ) -> Result<(), HandlerError> {
        db::cases::awarded(conn, issued.application_id, envelope.occurred_at).await?;
        Ok(())
    }
}
