//! `appeal.resolved`: an upheld appeal reopens the application's outcome — its panel decision is
//! taken anew and a later protocol may award it even after a refusal. A dismissed one changes
//! nothing here.

use kutse_messaging::catalogue::AppealResolved;
use kutse_messaging::{Envelope, HandlerError, Handles};
use sqlx::PgConnection;

use super::CertificatesHandler;
use crate::db;

impl Handles<AppealResolved> for CertificatesHandler {
    async fn handle(
        &self,
        conn: &mut PgConnection,
        resolved: AppealResolved,
        _: &Envelope,
    ) -> Result<(), HandlerError> {
        if resolved.outcome != "upheld" {
            return Ok(());
        }
        if db::outcomes::appeal_upheld(
            conn,
            resolved.appeal_id,
            resolved.application_id,
            resolved.resolved_at,
        )
        .await?
        {
            tracing::info!(application = %resolved.application_id, "outcome reopened by an upheld appeal");
        }
        Ok(())
    }
}
