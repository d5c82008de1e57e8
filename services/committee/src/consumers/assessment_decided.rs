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
    let inserted = sqlx::query(
        "INSERT INTO agenda_items (application_id, round_id, awarding_body_id, all_accepted, decided_at)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (application_id) DO NOTHING",
    )
    .bind(d.application_id)
    .bind(d.round_id)
    .bind(d.awarding_body_id)
    .bind(d.all_accepted)
    .bind(d.decided_at)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if inserted == 1 {
        return Ok(());
    }
    let same: bool = sqlx::query_scalar(
        "SELECT round_id = $2 AND awarding_body_id = $3 AND all_accepted = $4 AND decided_at = $5
           FROM agenda_items WHERE application_id = $1",
    )
    .bind(d.application_id)
    .bind(d.round_id)
    .bind(d.awarding_body_id)
    .bind(d.all_accepted)
    .bind(d.decided_at)
    .fetch_one(&mut *conn)
    .await?;
    if same {
        Ok(())
    } else {
        Err(HandlerError::Permanent(format!(
            "assessment.decided for application {} differs from the one on the agenda; the first stands",
            d.application_id
        )))
    }
}
