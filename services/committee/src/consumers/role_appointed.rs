//! `role.appointed`: a person joins a body's roster (committee members and chair among them).

use kutse_messaging::catalogue::RoleAppointed;
use kutse_messaging::{Envelope, HandlerError, Handles};
use sqlx::PgConnection;

use super::CommitteeHandler;
use crate::db;

impl Handles<RoleAppointed> for CommitteeHandler {
    async fn handle(
        &self,
        conn: &mut PgConnection,
        e: RoleAppointed,
        _: &Envelope,
    ) -> Result<(), HandlerError> {
        db::roster::appointed(
            conn,
            e.appointment_id,
            &e.person.to_string(),
            &e.role,
            e.awarding_body_id,
            e.valid_from,
            e.valid_to,
        )
        .await?;
        Ok(())
    }
}
