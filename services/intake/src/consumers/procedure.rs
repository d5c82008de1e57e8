//! The assessment procedure as the applicant follows it in their application's history: a
//! request for more documents (what, why, by when), its closing (and how far it moved the
//! periods), and what the daily sweep found overdue.

use kutse_messaging::catalogue::{AssessmentOverdue, DocumentsRequested, RequestClosed};
use kutse_messaging::{Envelope, HandlerError, Handles};
use sqlx::PgConnection;

use super::IntakeHandler;
use crate::db;

impl Handles<DocumentsRequested> for IntakeHandler {
    async fn handle(
        &self,
        conn: &mut PgConnection,
        e: DocumentsRequested,
        _: &Envelope,
    ) -> Result<(), HandlerError> {
        let detail = serde_json::json!({
            "request_id": e.request_id,
            "documents": e.documents,
            "reason": e.reason,
            "due_on": e.due_on,
        });
        db::applications::add_history(conn, e.application_id, "documents_requested", detail)
            .await?;
        Ok(())
    }
}

impl Handles<RequestClosed> for IntakeHandler {
    async fn handle(
        &self,
        conn: &mut PgConnection,
        e: RequestClosed,
        _: &Envelope,
    ) -> Result<(), HandlerError> {
        let detail = serde_json::json!({
            "request_id": e.request_id,
            "outcome": e.outcome,
            "extension_working_days": e.extension_working_days,
            "review_due": e.review_due,
            "decision_due": e.decision_due,
        });
        db::applications::add_history(conn, e.application_id, "request_closed", detail).await?;
        Ok(())
    }
}

impl Handles<AssessmentOverdue> for IntakeHandler {
    async fn handle(
        &self,
        conn: &mut PgConnection,
        e: AssessmentOverdue,
        _: &Envelope,
    ) -> Result<(), HandlerError> {
        let detail = serde_json::json!({ "clock": e.clock, "due": e.due, "found_on": e.found_on });
        db::applications::add_history(conn, e.application_id, "assessment_overdue", detail).await?;
        Ok(())
    }
}
