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

impl Handles<kutse_messaging::catalogue::AppealLodged> for IntakeHandler {
    async fn handle(
        &self,
        conn: &mut PgConnection,
        e: kutse_messaging::catalogue::AppealLodged,
        _: &Envelope,
    ) -> Result<(), HandlerError> {
        let detail = serde_json::json!({
            "appeal_id": e.appeal_id,
            "against": e.against,
            "reasons": e.reasons,
            "documents": e.documents,
        });
        db::applications::add_history(conn, e.application_id, "appeal_lodged", detail).await?;
        Ok(())
    }
}

/// `appeal.resolved`: in the history; an upheld appeal of a refusal reopens the application
/// (`refused` → `submitted`), so a later award can be recorded.
impl Handles<kutse_messaging::catalogue::AppealResolved> for IntakeHandler {
    async fn handle(
        &self,
        conn: &mut PgConnection,
        e: kutse_messaging::catalogue::AppealResolved,
        _: &Envelope,
    ) -> Result<(), HandlerError> {
        use crate::domain::ApplicationStatus;
        if e.outcome == "upheld"
            && db::applications::lock_status(conn, e.application_id).await?
                == Some(ApplicationStatus::Refused)
        {
            db::applications::move_status(
                conn,
                e.application_id,
                ApplicationStatus::Refused,
                ApplicationStatus::Submitted,
            )
            .await?;
        }
        let detail = serde_json::json!({
            "appeal_id": e.appeal_id,
            "outcome": e.outcome,
            "reasons": e.reasons,
        });
        db::applications::add_history(conn, e.application_id, "appeal_resolved", detail).await?;
        Ok(())
    }
}
