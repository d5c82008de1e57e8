//! What the committee learns from events: decided applications join its agenda; the register's
//! signer keys (so a chair's signature is checked before it is accepted); and the register's
//! answer to each signed protocol.
//!
//! Facts are first-write-wins: a second, different `assessment.decided` for an application is
//! parked and changes nothing.

use futures::future::BoxFuture;
use kutse_messaging::catalogue::{
    AssessmentDecided, ProtocolAccepted, ProtocolRejected, SignerKeyActivated, SignerKeyRevoked,
};
use kutse_messaging::{Handler, HandlerError, Incoming, Message};
use sqlx::PgConnection;
use uuid::Uuid;

/// Committee's handler.
#[derive(Debug, Default)]
pub struct CommitteeHandler;

impl Handler for CommitteeHandler {
    fn handle<'a>(
        &'a self,
        conn: &'a mut PgConnection,
        message: &'a Incoming,
    ) -> BoxFuture<'a, Result<(), HandlerError>> {
        Box::pin(async move {
            let envelope = &message.envelope;
            match envelope.message_type.as_str() {
                AssessmentDecided::TYPE => assessment_decided(conn, envelope.decode()?).await,
                SignerKeyActivated::TYPE => key_activated(conn, envelope.decode()?).await,
                SignerKeyRevoked::TYPE => key_revoked(conn, envelope.decode()?).await,
                ProtocolAccepted::TYPE => {
                    let accepted: ProtocolAccepted = envelope.decode()?;
                    let detail = serde_json::json!({
                        "issued": accepted.issued, "refused": accepted.refused,
                    });
                    register_answer(
                        conn,
                        accepted.session_id,
                        accepted.protocol_id,
                        "accepted",
                        detail,
                    )
                    .await
                }
                ProtocolRejected::TYPE => {
                    let rejected: ProtocolRejected = envelope.decode()?;
                    let (Some(session), Some(protocol)) =
                        (rejected.session_id, rejected.protocol_id)
                    else {
                        return Ok(());
                    };
                    let detail = serde_json::json!({ "reason": rejected.reason });
                    register_answer(conn, session, protocol, "rejected", detail).await
                }
                other => Err(HandlerError::Permanent(format!(
                    "committee does not handle {other}"
                ))),
            }
        })
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

async fn key_activated(conn: &mut PgConnection, k: SignerKeyActivated) -> Result<(), HandlerError> {
    sqlx::query(
        "INSERT INTO signer_keys (kid, awarding_body_id, owner, public_key, activated_at)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (kid) DO NOTHING",
    )
    .bind(&k.kid)
    .bind(k.awarding_body_id)
    .bind(k.owner.to_string())
    .bind(&k.public_key)
    .bind(k.activated_at)
    .execute(conn)
    .await?;
    Ok(())
}

async fn key_revoked(conn: &mut PgConnection, k: SignerKeyRevoked) -> Result<(), HandlerError> {
    let updated = sqlx::query(
        "UPDATE signer_keys SET revoked_at = $2, revocation_reason = $3
          WHERE kid = $1 AND revoked_at IS NULL",
    )
    .bind(&k.kid)
    .bind(k.effective_at)
    .bind(&k.reason)
    .execute(conn)
    .await?
    .rows_affected();
    if updated == 0 {
        // A proposed key revoked before it was ever activated is not known here: nothing to do.
        tracing::info!(kid = k.kid.as_str(), "revocation of a key not active here");
    }
    Ok(())
}

/// Notes the register's answer on the session whose protocol it was (protocols published by
/// outside pipelines have no session here).
async fn register_answer(
    conn: &mut PgConnection,
    session: Uuid,
    protocol: Uuid,
    outcome: &str,
    detail: serde_json::Value,
) -> Result<(), HandlerError> {
    sqlx::query(
        "UPDATE sessions SET register_outcome = $3, register_detail = $4
          WHERE id = $1 AND protocol->>'protocol_id' = $2::text",
    )
    .bind(session)
    .bind(protocol)
    .bind(outcome)
    .bind(detail)
    .execute(conn)
    .await?;
    Ok(())
}
