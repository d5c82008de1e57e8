//! The messages the committee consumes, one file each:
//! - [`assessment_decided`]: decided applications join the agenda (first write wins: a second,
//!   different decision is parked);
//! - [`signer_key_activated`], [`signer_key_revoked`]: the register's signer keys, so a chair's
//!   signature is checked before it is accepted;
//! - [`protocol_accepted`], [`protocol_rejected`]: the register's answer to a signed protocol,
//!   shown on its session;
//! - [`role_appointed`], [`role_removed`]: the bodies' people from the role registry (the
//!   committee's roster);
//! - [`appeal_lodged`]: appeals for the committee to resolve;
//! - [`application_submitted`]: whose application it is (nobody votes on their own).

mod appeal_lodged;
mod application_submitted;
mod assessment_decided;
mod protocol_accepted;
mod protocol_rejected;
mod role_appointed;
mod role_removed;
mod signer_key_activated;
mod signer_key_revoked;

use kutse_messaging::catalogue::{
    AppealLodged, ApplicationSubmitted, AssessmentDecided, ProtocolAccepted, ProtocolRejected,
    RoleAppointed, RoleRemoved, SignerKeyActivated, SignerKeyRevoked,
};
use kutse_messaging::{Dispatcher, HandlerError};
use sqlx::PgConnection;
use uuid::Uuid;

/// What the committee's handlers share (nothing yet).
#[derive(Debug, Default)]
pub struct CommitteeHandler;

/// Every message the committee handles, by type; its queue is bound to exactly these.
pub fn dispatcher() -> Dispatcher<CommitteeHandler> {
    Dispatcher::new(CommitteeHandler)
        .on::<AssessmentDecided>()
        .on::<SignerKeyActivated>()
        .on::<SignerKeyRevoked>()
        .on::<ProtocolAccepted>()
        .on::<ProtocolRejected>()
        .on::<RoleAppointed>()
        .on::<RoleRemoved>()
        .on::<AppealLodged>()
        .on::<ApplicationSubmitted>()
}

/// Notes the register's answer on the session whose protocol it was (protocols published by
/// outside pipelines have no session here).
pub(super) async fn register_answer(
    conn: &mut PgConnection,
    session: Uuid,
    protocol: Uuid,
    outcome: &str,
    detail: serde_json::Value,
) -> Result<(), HandlerError> {
    crate::db::sessions::register_answer(conn, session, protocol, outcome, &detail).await?;
    Ok(())
}
