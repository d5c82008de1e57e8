//! `assessment.request_closed`: no more uploads against the request.

use kutse_messaging::catalogue::RequestClosed;
use kutse_messaging::{Envelope, HandlerError, Handles};
use sqlx::PgConnection;

use super::DocumentsHandler;
use crate::db;

impl Handles<RequestClosed> for DocumentsHandler {
    async fn handle(
        &self,
        conn: &mut PgConnection,
        closed: RequestClosed,
        _: &Envelope,
    ) -> Result<(), HandlerError> {
        db::applications::close_request(conn, closed.request_id).await?;
        Ok(())
    }
}
