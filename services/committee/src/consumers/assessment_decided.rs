//! `assessment.decided`: the application joins the agenda of its round's next session.

use kutse_messaging::catalogue::AssessmentDecided;
use kutse_messaging::{Envelope, HandlerError, Handles};
use sqlx::PgConnection;

use super::CommitteeHandler;

impl Handles<AssessmentDecided> for CommitteeHandler {
    async fn handle(
        &self,
        conn: &mut PgConnection,
        d: AssessmentDecided,
        _: &Envelope,
    ) -> Result<(), HandlerError> {
        assessment_decided(conn, d).await
    }
}

async fn assessment_decided(
    conn: &mut PgConnection,
    d: AssessmentDecided,
) -> Result<(), HandlerError> {
    if crate::db::agenda::add(conn, &d).await? {
        return Ok(());
    }
    let same = crate::db::agenda::holds(conn, &d).await?;
    if same {
        Ok(())
    } else {
        Err(HandlerError::Permanent(format!(
            "assessment.decided for application {} differs from the one on the agenda; the first stands",
            d.application_id
        )))
    }
}
