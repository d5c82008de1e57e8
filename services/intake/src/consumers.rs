//! The messages intake consumes: documents stored for its applications, and the outcome of the
//! committee's protocol (certificate issued, application refused).
//!
//! An outcome moves an application only along the state machine of
//! [`ApplicationStatus::may_become`]: the same outcome again is harmless, a contradicting one
//! (`certificate.issued` for a refused application, or the reverse) is parked and changes nothing.

use futures::future::BoxFuture;
use kutse_messaging::catalogue::{ApplicationRefused, CertificateIssued, DocumentStored};
use kutse_messaging::{Handler, HandlerError, Incoming, Message};
use sqlx::{PgConnection, Row};
use uuid::Uuid;

use crate::domain::ApplicationStatus;

/// Intake's handler.
#[derive(Debug, Default)]
pub struct IntakeHandler;

impl Handler for IntakeHandler {
    fn handle<'a>(
        &'a self,
        conn: &'a mut PgConnection,
        message: &'a Incoming,
    ) -> BoxFuture<'a, Result<(), HandlerError>> {
        Box::pin(async move {
            let envelope = &message.envelope;
            match envelope.message_type.as_str() {
                DocumentStored::TYPE => document_stored(conn, envelope.decode()?).await,
                CertificateIssued::TYPE => {
                    let issued: CertificateIssued = envelope.decode()?;
                    let detail = serde_json::json!({
                        "register_number": issued.register_number,
                        "verification_url": issued.verification_url,
                    });
                    outcome(
                        conn,
                        issued.application_id,
                        ApplicationStatus::Awarded,
                        "certificate_issued",
                        detail,
                    )
                    .await
                }
                ApplicationRefused::TYPE => {
                    let refused: ApplicationRefused = envelope.decode()?;
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
                other => Err(HandlerError::Permanent(format!(
                    "intake does not handle {other}"
                ))),
            }
        })
    }
}

async fn document_stored(conn: &mut PgConnection, doc: DocumentStored) -> Result<(), HandlerError> {
    let Some(row) = sqlx::query("SELECT applicant FROM applications WHERE id = $1")
        .bind(doc.application_id)
        .fetch_optional(&mut *conn)
        .await?
    else {
        return Err(HandlerError::Permanent(format!(
            "no application {}",
            doc.application_id
        )));
    };
    // The documents service checked the uploader; a mismatch here means the two disagree.
    if row.get::<String, _>("applicant") != doc.owner.to_string() {
        return Err(HandlerError::Permanent(format!(
            "document {} belongs to someone other than the applicant",
            doc.document_id
        )));
    }
    sqlx::query(
        "INSERT INTO application_documents (document_id, application_id, document_type, sha256, size_bytes)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (document_id) DO NOTHING",
    )
    .bind(doc.document_id)
    .bind(doc.application_id)
    .bind(&doc.document_type)
    .bind(&doc.sha256)
    .bind(doc.size_bytes)
    .execute(&mut *conn)
    .await?;
    sqlx::query("INSERT INTO application_history (application_id, event, detail) VALUES ($1, 'document_stored', $2)")
        .bind(doc.application_id)
        .bind(serde_json::json!({ "document_type": doc.document_type, "dvvk": doc.dvvk.code() }))
        .execute(&mut *conn)
        .await?;
    Ok(())
}

async fn outcome(
    conn: &mut PgConnection,
    application: Uuid,
    status: ApplicationStatus,
    event: &str,
    detail: serde_json::Value,
) -> Result<(), HandlerError> {
    let current: Option<String> =
        sqlx::query_scalar("SELECT status FROM applications WHERE id = $1 FOR UPDATE")
            .bind(application)
            .fetch_optional(&mut *conn)
            .await?;
    let Some(current) = current else {
        return Err(HandlerError::Permanent(format!(
            "no application {application}"
        )));
    };
    let current = ApplicationStatus::parse(&current).ok_or_else(|| {
        HandlerError::Permanent(format!(
            "application {application} has unknown status {current}"
        ))
    })?;
    if current == status {
        tracing::info!(%application, status = status.as_str(), "outcome already recorded");
        return Ok(());
    }
    if !current.may_become(status) {
        return Err(HandlerError::Permanent(format!(
            "application {application} is {} and may not become {}: an outcome is final",
            current.as_str(),
            status.as_str()
        )));
    }
    sqlx::query("UPDATE applications SET status = $2 WHERE id = $1")
        .bind(application)
        .bind(status.as_str())
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "INSERT INTO application_history (application_id, event, detail) VALUES ($1, $2, $3)",
    )
    .bind(application)
    .bind(event)
    .bind(detail)
    .execute(&mut *conn)
    .await?;
    Ok(())
}
