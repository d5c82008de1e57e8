//! `application.refused`: the application is refused; its history gets the reasons.

use kutse_messaging::catalogue::ApplicationRefused;
use kutse_messaging::{Envelope, HandlerError, Handles};
use sqlx::PgConnection;

use super::{IntakeHandler, outcome};
use crate::domain::ApplicationStatus;

impl Handles<ApplicationRefused> for IntakeHandler {
    async fn handle(
        &self,
        conn: &mut PgConnection,
        refused: ApplicationRefused,
        _: &Envelope,
    ) -> Result<(), HandlerError> {
        let detail = serde_json::json!({ "justification": refused.justification });
        outcome(
            conn,
            refused.application_id,
            ApplicationStatus::Refused,
            "refused",
            detail,
        )
        .await
    }
}
