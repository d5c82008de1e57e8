//! What the register does with events: remember what it needs of each application, and on a
//! signed protocol verify the signature against the registered signer keys, then issue every
//! awarded certificate — exactly once — and tell of every refusal.
//!
//! # What the register believes
//! - **Facts are first-write-wins.** The submission and the panel's decision of an application are
//!   stored once; the same fact again is harmless, a different second version is parked and
//!   changes nothing (a publisher cannot rewrite whom a certificate names).
//! - **A signer key belongs to a person.** A protocol verifies only under an activated key of its
//!   awarding body whose owner is the protocol's `chair`. Proposed keys sign nothing until their
//!   owner confirms them; a revoked key signs nothing that arrives after its effective time (the
//!   date in a protocol is the signer's word, so it is not trusted for this).
//! - **Refusals follow the votes.** An award needs the panel's full acceptance and a carried vote;
//!   a refusal needs the opposite and a reason.
//! - **One outcome at a time.** The application's row is locked while a protocol decides it, so
//!   two protocols on two replicas cannot award and refuse it at once.
//! - **Outcomes are final.** Once a signed protocol has awarded or refused an application, a
//!   later protocol that contradicts it is refused whole; corrections go through appeal or
//!   revocation, never by deciding again.
//! - **Whole or nothing, and always answered.** Every decision of a protocol is checked before any
//!   is applied. Every `protocol.signed` gets one answer: `protocol.accepted` (register numbers
//!   issued, applications refused) or, when it is parked, `protocol.rejected` with the reason
//!   (recorded when the message is parked, `Handles::parked`). Both are kept in `protocols` for the body to read.
//! - A protocol about an application whose data has not arrived yet is retried; when the
//!   retries run out it is rejected.

use std::collections::HashSet;

use chrono::{Datelike, Months, Utc};
use kutse_domain::Isikukood;
use kutse_messaging::catalogue::{
    ApplicationRefused, ApplicationSubmitted, AssessmentDecided, CertificateIssued, CompetenceRef,
    IssuedRef, ProtocolAccepted, ProtocolRejected, ProtocolSigned,
};
use kutse_messaging::{Envelope, HandlerError, Message, Outbox};
use kutse_protocol::{Outcome, Protocol, ProtocolDecision};
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::db;
use crate::register::RegisterKeys;

mod application_submitted;
mod assessment_decided;
mod protocol_signed;

/// Every message the register handles, by type; its queue is bound to exactly these.
pub fn dispatcher(
    handler: CertificatesHandler,
) -> kutse_messaging::Dispatcher<CertificatesHandler> {
    kutse_messaging::Dispatcher::new(handler)
        .on::<ApplicationSubmitted>()
        .on::<AssessmentDecided>()
        .on::<ProtocolSigned>()
}

/// The certificate document that is sealed (RFC 8785 canonical JSON, signed by the register key).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CertificateDocument {
    pub register_number: String,
    pub holder: Holder,
    pub qualification: kutse_messaging::catalogue::QualificationRef,
    pub awarding_body_id: Uuid,
    pub competences: Vec<CompetenceRef>,
    pub issued_on: chrono::NaiveDate,
    pub valid_until: chrono::NaiveDate,
    pub protocol_id: Uuid,
}

/// The holder as the certificate names them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Holder {
    pub isikukood: String,
    pub given_name: String,
    pub family_name: String,
}

/// The register's handler.
#[derive(Debug)]
pub struct CertificatesHandler {
    pub register: RegisterKeys,
    pub public_base_url: String,
    pub validity_years: u32,
}

pub(super) use crate::db::applications::Fact;

/// Stores a fact the first time it arrives. The same fact again changes nothing; a different
/// version is refused (parked), so the first word stands.
pub(super) async fn remember<T: Serialize>(
    conn: &mut PgConnection,
    application: Uuid,
    fact: Fact,
    value: &T,
) -> Result<(), HandlerError> {
    let value = serde_json::to_value(value).map_err(|e| HandlerError::Transient(e.into()))?;
    let name = match fact {
        Fact::Submission => ApplicationSubmitted::TYPE,
        Fact::Decision => AssessmentDecided::TYPE,
    };
    if db::applications::store_first(conn, application, fact, &value).await? {
        return Ok(());
    }
    let same = db::applications::holds(conn, application, fact, &value).await?;
    if same {
        tracing::info!(%application, fact = name, "fact already known; nothing to do");
        Ok(())
    } else {
        Err(HandlerError::Permanent(format!(
            "{name} for application {application} differs from the one the register already holds; the first stands"
        )))
    }
}

/// What the register knows of one application named in a protocol.
struct Known {
    submission: ApplicationSubmitted,
    decision: AssessmentDecided,
}

impl CertificatesHandler {
    pub(super) async fn protocol_signed(
        &self,
        conn: &mut PgConnection,
        envelope: &Envelope,
        signed: ProtocolSigned,
    ) -> Result<(), HandlerError> {
        let protocol = verified(conn, &signed.jws).await?;
        tracing::info!(protocol = %protocol.protocol_id, decisions = protocol.decisions.len(), "signed protocol verified");

        // Check every decision before acting on any: a protocol is applied whole or not at all.
        let mut seen = HashSet::new();
        let mut known = Vec::with_capacity(protocol.decisions.len());
        for decision in &protocol.decisions {
            let application = decision.application_id;
            if !seen.insert(application) {
                return Err(HandlerError::Permanent(format!(
                    "protocol refused: application {application} is decided twice in it"
                )));
            }
            let data = self.known(conn, application).await?;
            if data.submission.awarding_body_id != protocol.awarding_body_id {
                return Err(HandlerError::Permanent(format!(
                    "protocol refused: application {application} belongs to another awarding body"
                )));
            }
            if decision.outcome == Outcome::Award {
                if !data.decision.all_accepted {
                    return Err(HandlerError::Permanent(format!(
                        "protocol refused: it awards application {application} but the assessment panel did not accept every competence"
                    )));
                }
                if !kutse_protocol::awarded(
                    data.decision.all_accepted,
                    decision.votes_for,
                    decision.votes_against,
                ) {
                    return Err(HandlerError::Permanent(format!(
                        "protocol refused: it awards application {application} without a carried vote ({} for, {} against)",
                        decision.votes_for, decision.votes_against
                    )));
                }
            }
            if decision.outcome == Outcome::Refuse {
                if kutse_protocol::awarded(
                    data.decision.all_accepted,
                    decision.votes_for,
                    decision.votes_against,
                ) {
                    return Err(HandlerError::Permanent(format!(
                        "protocol refused: it refuses application {application} although the panel accepted every competence and the vote carried"
                    )));
                }
                if decision
                    .reason
                    .as_deref()
                    .is_none_or(|r| r.trim().is_empty())
                {
                    return Err(HandlerError::Permanent(format!(
                        "protocol refused: the refusal of application {application} gives no reason"
                    )));
                }
            }
            match (decision.outcome, final_outcome(conn, application).await?) {
                (Outcome::Award, Some(Outcome::Refuse)) => {
                    return Err(HandlerError::Permanent(format!(
                        "protocol refused: application {application} was refused by an earlier signed protocol; an outcome is final (appeal or revocation correct it)"
                    )));
                }
                (Outcome::Refuse, Some(Outcome::Award)) => {
                    return Err(HandlerError::Permanent(format!(
                        "protocol refused: application {application} already holds a certificate; an outcome is final (appeal or revocation correct it)"
                    )));
                }
                _ => {}
            }
            known.push(data);
        }
        let mut issued = Vec::new();
        let mut refused = Vec::new();
        for (decision, data) in protocol.decisions.iter().zip(known) {
            match decision.outcome {
                Outcome::Award => issued.push(self.issue(conn, envelope, &protocol, data).await?),
                Outcome::Refuse => {
                    refuse(conn, envelope, &protocol, decision, data).await?;
                    refused.push(decision.application_id);
                }
            }
        }
        record_acceptance(conn, envelope, &protocol, issued, refused).await
    }

    async fn known(
        &self,
        conn: &mut PgConnection,
        application: Uuid,
    ) -> Result<Known, HandlerError> {
        let (submission, decision) = db::applications::lock_known(conn, application).await?;
        match (submission, decision) {
            (Some(s), Some(d)) => Ok(Known {
                submission: serde_json::from_value(s)
                    .map_err(|e| HandlerError::Transient(e.into()))?,
                decision: serde_json::from_value(d)
                    .map_err(|e| HandlerError::Transient(e.into()))?,
            }),
            // The submission or decision may still be on its way: try again later.
            _ => Err(HandlerError::Transient(anyhow::anyhow!(
                "the submission and assessment of application {application} have not arrived yet"
            ))),
        }
    }

    async fn issue(
        &self,
        conn: &mut PgConnection,
        cause: &Envelope,
        protocol: &Protocol,
        data: Known,
    ) -> Result<IssuedRef, HandlerError> {
        let application = data.submission.application_id;
        let exists = db::outcomes::certificate_number(conn, application).await?;
        if let Some(register_number) = exists {
            tracing::info!(%application, "certificate already issued; nothing to do");
            return Ok(IssuedRef {
                application_id: application,
                register_number,
            });
        }
        let issued_on = kutse_domain::tallinn_today();
        let valid_until = issued_on
            .checked_add_months(Months::new(12 * self.validity_years))
            .unwrap_or(issued_on);
        let register_number = db::outcomes::next_register_number(conn, issued_on.year()).await?;
        let s = &data.submission;
        let document = CertificateDocument {
            register_number: register_number.clone(),
            holder: Holder {
                isikukood: s.applicant.isikukood.to_string(),
                given_name: s.applicant.given_name.clone(),
                family_name: s.applicant.family_name.clone(),
            },
            qualification: s.qualification.clone(),
            awarding_body_id: s.awarding_body_id,
            competences: s.competences.clone(),
            issued_on,
            valid_until,
            protocol_id: protocol.protocol_id,
        };
        let seal = kutse_protocol::sign(
            &document,
            self.register.current().0,
            self.register.current().1,
            "kutse-certificate",
        )
        .map_err(|e| HandlerError::Transient(anyhow::anyhow!("sealing: {e}")))?;
        let id = Uuid::now_v7();
        let inserted = db::outcomes::insert_certificate(
            conn,
            &db::outcomes::NewCertificate {
                id,
                register_number: &register_number,
                application_id: application,
                protocol_id: protocol.protocol_id,
                holder: &document.holder.isikukood,
                issued_on,
                valid_until,
                document: serde_json::to_value(&document)
                    .map_err(|e| HandlerError::Transient(e.into()))?,
                seal: &seal,
            },
        )
        .await?;
        if !inserted {
            // The row was checked above in this transaction; a concurrent issuer won the race.
            // Retrying finds its certificate and answers with it.
            return Err(HandlerError::Transient(anyhow::anyhow!(
                "certificate of application {application} issued concurrently"
            )));
        }
        let event = CertificateIssued {
            certificate_id: id,
            register_number: register_number.clone(),
            application_id: application,
            holder: s.applicant.clone(),
            qualification: s.qualification.clone(),
            competences: s.competences.clone(),
            issued_on,
            valid_until,
            verification_url: format!(
                "{}/certificates/{register_number}/verification",
                self.public_base_url
            ),
        };
        let envelope =
            Envelope::caused_by(&event, cause).map_err(|e| HandlerError::Transient(e.into()))?;
        Outbox::enqueue(conn, &envelope).await?;
        tracing::info!(%application, register_number = register_number.as_str(), "certificate issued");
        Ok(IssuedRef {
            application_id: application,
            register_number,
        })
    }
}

async fn refuse(
    conn: &mut PgConnection,
    cause: &Envelope,
    protocol: &Protocol,
    decision: &ProtocolDecision,
    data: Known,
) -> Result<(), HandlerError> {
    let application = data.submission.application_id;
    if !db::outcomes::insert_refusal(conn, application, protocol.protocol_id).await? {
        return Ok(());
    }
    let not_accepted: Vec<CompetenceRef> = data
        .decision
        .decisions
        .iter()
        .filter(|d| !d.accepted)
        .filter_map(|d| {
            data.submission
                .competences
                .iter()
                .find(|c| c.code == d.code)
                .cloned()
        })
        .collect();
    let mut reasons: Vec<String> = decision.reason.iter().cloned().collect();
    reasons.extend(
        data.decision
            .decisions
            .iter()
            .filter(|d| !d.accepted)
            .map(|d| format!("{}: {}", d.code, d.justification)),
    );
    let event = ApplicationRefused {
        application_id: application,
        protocol_id: protocol.protocol_id,
        applicant: data.submission.applicant.clone(),
        qualification: data.submission.qualification.clone(),
        justification: reasons.join("\n"),
        competences_not_accepted: not_accepted,
    };
    let envelope =
        Envelope::caused_by(&event, cause).map_err(|e| HandlerError::Transient(e.into()))?;
    Outbox::enqueue(conn, &envelope).await?;
    tracing::info!(%application, "refusal recorded");
    Ok(())
}

/// The protocol, if its signature verifies under a signer key that may sign it: a key of the
/// protocol's awarding body, owned by the protocol's `chair`, active — or revoked only after the
/// protocol was signed.
async fn verified(conn: &mut PgConnection, jws: &str) -> Result<Protocol, HandlerError> {
    let reject = |e: kutse_protocol::SignatureError| {
        HandlerError::Permanent(format!("protocol refused: {e}"))
    };
    let kid = kutse_protocol::key_id(jws).map_err(reject)?;
    // Only keys that were activated (a proposed key, even one revoked before its owner
    // confirmed it, never signs).
    let row = db::signer_keys::find_activated(conn, &kid).await?;
    let key = row
        .as_ref()
        .and_then(|r| kutse_protocol::verifying_key(&r.public_key).ok());
    let protocol: Protocol = kutse_protocol::verify(jws, |_| key).map_err(reject)?;
    let Some(row) = row else {
        return Err(reject(kutse_protocol::SignatureError::UnknownKey(kid)));
    };
    let refuse = |why: String| Err(HandlerError::Permanent(format!("protocol refused: {why}")));
    if row.awarding_body_id != protocol.awarding_body_id {
        return refuse(format!(
            "key {kid} is not registered to awarding body {}",
            protocol.awarding_body_id
        ));
    }
    let owner = row.owner;
    let chair = Isikukood::from_subject(&protocol.chair).ok();
    if owner.is_none() || chair.map(|c| c.to_string()) != owner {
        return refuse(format!(
            "the protocol's chair is not the owner of key {kid}"
        ));
    }
    // `signed_at` is the signer's word: a revoked key signs nothing that arrives after the
    // revocation took effect, whatever date it carries (a stolen key could backdate), and no
    // protocol is dated in the future.
    let now = Utc::now();
    if protocol.signed_at > now + chrono::Duration::minutes(5) {
        return refuse(format!("signed_at {} is in the future", protocol.signed_at));
    }
    if row.status == crate::domain::SignerStatus::Revoked {
        let revoked_at = row.revoked_at;
        if revoked_at.is_none_or(|at| protocol.signed_at >= at || now >= at) {
            return refuse(format!("key {kid} is revoked"));
        }
    }
    Ok(protocol)
}

/// The outcome a signed protocol already gave an application, if any.
async fn final_outcome(
    conn: &mut PgConnection,
    application: Uuid,
) -> Result<Option<Outcome>, HandlerError> {
    let awarded = db::outcomes::decided(conn, application).await?;
    Ok(awarded.map(|a| if a { Outcome::Award } else { Outcome::Refuse }))
}

/// Records an applied protocol and answers it with `protocol.accepted`.
async fn record_acceptance(
    conn: &mut PgConnection,
    cause: &Envelope,
    protocol: &Protocol,
    issued: Vec<IssuedRef>,
    refused: Vec<Uuid>,
) -> Result<(), HandlerError> {
    let issued_json =
        serde_json::to_value(&issued).map_err(|e| HandlerError::Transient(e.into()))?;
    db::protocols::record_accepted(conn, cause.id, protocol, &issued_json, &refused).await?;
    let event = ProtocolAccepted {
        message_id: cause.id,
        protocol_id: protocol.protocol_id,
        awarding_body_id: protocol.awarding_body_id,
        session_id: protocol.session_id,
        issued,
        refused,
    };
    let envelope =
        Envelope::caused_by(&event, cause).map_err(|e| HandlerError::Transient(e.into()))?;
    Outbox::enqueue(conn, &envelope).await?;
    tracing::info!(protocol = %protocol.protocol_id, "protocol accepted");
    Ok(())
}

/// Records a refused protocol and answers it with `protocol.rejected` — once per message, however
/// often this runs for it.
pub(super) async fn record_rejection(
    conn: &mut PgConnection,
    cause: &Envelope,
    reason: &str,
) -> Result<(), HandlerError> {
    let jws = cause.payload.get("jws").and_then(|j| j.as_str());
    // Read from the payload as it stands, unverified: only so the sender can find its answer.
    let payload = jws.and_then(kutse_protocol::unverified_payload);
    let id_of = |field: &str| -> Option<Uuid> {
        payload
            .as_ref()
            .and_then(|p| p.get(field))
            .and_then(|v| v.as_str())
            .and_then(|s| s.parse().ok())
    };
    let kid = jws.and_then(|j| kutse_protocol::key_id(j).ok());
    let event = ProtocolRejected {
        message_id: cause.id,
        protocol_id: id_of("protocol_id"),
        awarding_body_id: id_of("awarding_body_id"),
        session_id: id_of("session_id"),
        reason: reason.to_owned(),
    };
    let recorded = db::protocols::record_rejected(
        conn,
        &db::protocols::Rejection {
            message_id: cause.id,
            protocol_id: event.protocol_id,
            awarding_body_id: event.awarding_body_id,
            session_id: event.session_id,
            kid: kid.as_deref(),
            reason,
        },
    )
    .await?;
    if !recorded {
        return Ok(());
    }
    let envelope =
        Envelope::caused_by(&event, cause).map_err(|e| HandlerError::Transient(e.into()))?;
    Outbox::enqueue(conn, &envelope).await?;
    tracing::warn!(message = %cause.id, reason, "protocol rejected");
    Ok(())
}
