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
//! - **The session could decide.** A protocol that carries its roster is refused if those
//!   present were fewer than the quorum, someone present or recused is not a member, or an
//!   application got more votes than members present and not recused.
//! - **Refusals follow the votes.** An award needs the panel's full acceptance and a carried vote;
//!   a refusal needs the opposite and a reason.
//! - **One outcome at a time.** The application's row is locked while a protocol decides it, so
//!   two protocols on two replicas cannot award and refuse it at once.
//! - **Outcomes are final.** Once a signed protocol has awarded or refused an application, a
//!   later protocol that contradicts it is refused whole; corrections go through appeal or
//!   revocation, never by deciding again. A refusal is reopened only by an appeal the committee
//!   upheld after it (`appeal.resolved`): the panel's decision is then taken anew, and a later
//!   protocol may award.
//! - **Whole or nothing, and always answered.** Every decision of a protocol is checked before any
//!   is applied. Every `protocol.signed` gets one answer: `protocol.accepted` (register numbers
//!   issued, applications refused) or, when it is parked, `protocol.rejected` with the reason
//!   (recorded when the message is parked, `Handles::parked`). Both are kept in `protocols` for the body to read.
//! - A protocol about an application whose data has not arrived yet is retried; when the
//!   retries run out it is rejected.

use std::collections::{HashMap, HashSet};

use chrono::{Datelike, Months, Utc};
use kutse_domain::Isikukood;
use kutse_messaging::catalogue::{
    AppealResolved, ApplicationRefused, ApplicationSubmitted, AssessmentDecided, CertificateIssued,
    CompetenceRef, IssuedRef, ProtocolAccepted, ProtocolRejected, ProtocolSigned,
};
use kutse_messaging::{Envelope, HandlerError, Message, Outbox};
use kutse_protocol::{Outcome, Protocol, ProtocolDecision};
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::db;
use crate::register::RegisterKeys;
use crate::status_list::Purpose;

mod appeal_resolved;
mod application_submitted;
mod assessment_decided;
mod duplicate;
mod protocol_signed;

/// Every message the register handles, by type; its queue is bound to exactly these.
pub fn dispatcher(
    handler: CertificatesHandler,
) -> kutse_messaging::Dispatcher<CertificatesHandler> {
    kutse_messaging::Dispatcher::new(handler)
        .on::<ApplicationSubmitted>()
        .on::<AssessmentDecided>()
        .on::<ProtocolSigned>()
        .on::<AppealResolved>()
}

/// The JWS `typ` of a certificate's seal.
pub const SEAL_TYP: &str = "kutse-certificate";

/// The certificate document that is sealed (RFC 8785 canonical JSON, signed by the register key).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CertificateDocument {
    pub register_number: String,
    pub holder: Holder,
    /// The qualification: `{id, name, level, partial}`.
    #[schema(value_type = Object)]
    pub qualification: kutse_messaging::catalogue::QualificationRef,
    pub awarding_body_id: Uuid,
    /// The awarding body's name as intake knew it (absent from certificates issued before).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub awarding_body_name: Option<String>,
    /// The competences of the occupational standard: `[{code, name}]`.
    #[schema(value_type = Vec<Object>)]
    pub competences: Vec<CompetenceRef>,
    pub issued_on: chrono::NaiveDate,
    pub valid_until: chrono::NaiveDate,
    pub protocol_id: Uuid,
    /// The certificate this one succeeds (a recertification). Absent from others.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub successor_of: Option<String>,
    /// Present on a duplicate's document: which edition, when and why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duplicate: Option<DuplicateMark>,
}

/// What marks a document as a duplicate of its certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DuplicateMark {
    /// 2 for the first duplicate (the original is edition 1).
    pub edition: u32,
    pub issued_on: chrono::NaiveDate,
    pub reason: kutse_domain::DuplicateReason,
}

/// The holder as the certificate names them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
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
    /// `kutse_issuance_latency_seconds`: from the signed protocol's publication to its
    /// certificates issued (observed once per protocol that issues any).
    pub issuance_latency: kutse_service::metrics::HistogramVec,
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
        // The session's own record: presence against its roster, the quorum, votes within those
        // present and not recused.
        if let Some(why) = kutse_protocol::session_fault(&protocol) {
            return Err(HandlerError::Permanent(format!("protocol refused: {why}")));
        }

        // Check every decision before acting on any: a protocol is applied whole or not at all.
        let mut seen = HashSet::new();
        for decision in &protocol.decisions {
            if !seen.insert(decision.application_id) {
                return Err(HandlerError::Permanent(format!(
                    "protocol refused: application {} is decided twice in it",
                    decision.application_id
                )));
            }
        }
        let ids: Vec<Uuid> = protocol
            .decisions
            .iter()
            .map(|d| d.application_id)
            .collect();
        let mut known = known_all(conn, &ids).await?;
        let decided = db::outcomes::decided_all(conn, &ids).await?;
        let reopened = db::outcomes::reopened_by_appeal(conn, &ids).await?;
        for decision in &protocol.decisions {
            let application = decision.application_id;
            let data = known.get(&application).ok_or_else(|| {
                // The submission or decision may still be on its way: try again later.
                HandlerError::Transient(anyhow::anyhow!(
                    "the submission and assessment of application {application} have not arrived yet"
                ))
            })?;
            check(decision, data, &protocol)?;
            match (decision.outcome, decided.get(&application)) {
                (Outcome::Award, Some(None)) if !reopened.contains(&application) => {
                    return Err(HandlerError::Permanent(format!(
                        "protocol refused: application {application} was refused by an earlier signed protocol; an outcome is final (only an upheld appeal reopens it)"
                    )));
                }
                (Outcome::Refuse, Some(Some(_))) => {
                    return Err(HandlerError::Permanent(format!(
                        "protocol refused: application {application} already holds a certificate; an outcome is final (appeal or revocation correct it)"
                    )));
                }
                _ => {}
            }
        }
        let mut awards = Vec::new();
        let mut refused = Vec::new();
        for decision in &protocol.decisions {
            let application = decision.application_id;
            let Some(data) = known.remove(&application) else {
                continue;
            };
            match decision.outcome {
                Outcome::Award => match decided.get(&application) {
                    Some(Some(register_number)) => {
                        tracing::info!(%application, "certificate already issued; nothing to do");
                        awards.push(Award::Issued(IssuedRef {
                            application_id: application,
                            register_number: register_number.clone(),
                        }));
                    }
                    _ => awards.push(Award::New(Box::new(data))),
                },
                Outcome::Refuse => {
                    refuse(conn, envelope, &protocol, decision, data).await?;
                    refused.push(decision.application_id);
                }
            }
        }
        let new = awards.iter().any(|a| matches!(a, Award::New(_)));
        let issued = self.issue_all(conn, envelope, &protocol, awards).await?;
        if new {
            let latency = (Utc::now() - envelope.occurred_at)
                .to_std()
                .unwrap_or_default();
            self.issuance_latency
                .with_label_values(&[] as &[&str])
                .observe(latency.as_secs_f64());
        }
        record_acceptance(conn, envelope, &protocol, issued, refused).await
    }

    /// Issues the new certificates of a protocol in a few statements (register numbers, status
    /// entries, the certificates, their events), seals each and signs its credential; answers
    /// with every award's register number, in the protocol's order.
    async fn issue_all(
        &self,
        conn: &mut PgConnection,
        cause: &Envelope,
        protocol: &Protocol,
        awards: Vec<Award>,
    ) -> Result<Vec<IssuedRef>, HandlerError> {
        let new = awards.iter().filter(|a| matches!(a, Award::New(_))).count();
        if new == 0 {
            // Nothing to issue (refusals only, or the same protocol again): no numbers, no
            // status-list locks.
            return Ok(awards
                .into_iter()
                .filter_map(|a| match a {
                    Award::Issued(issued) => Some(issued),
                    Award::New(_) => None,
                })
                .collect());
        }
        let issued_at = Utc::now();
        let issued_on = kutse_domain::tallinn_date(issued_at);
        let valid_until = issued_on
            .checked_add_months(Months::new(12 * self.validity_years))
            .unwrap_or(issued_on);
        let mut numbers = db::outcomes::next_register_numbers(conn, issued_on.year(), new)
            .await?
            .into_iter();
        let mut revocation = db::status::allocate(conn, Purpose::Revocation, new)
            .await?
            .into_iter();
        let mut suspension = db::status::allocate(conn, Purpose::Suspension, new)
            .await?
            .into_iter();
        let (key, kid) = self.register.current();
        let transient = |e: String| HandlerError::Transient(anyhow::anyhow!(e));
        // A recertification succeeds the certificate it names, if that is the holder's own, of
        // the same qualification and not succeeded already (intake checked; the register holds).
        let named: Vec<String> = awards
            .iter()
            .filter_map(|a| match a {
                Award::New(data)
                    if data.submission.kind == kutse_domain::ApplicationKind::Recertification =>
                {
                    data.submission.certificate_number.clone()
                }
                _ => None,
            })
            .collect();
        let predecessors = db::outcomes::lock_predecessors(conn, &named).await?;
        let mut successions = Vec::new();
        let mut claimed = HashSet::new();
        let mut rows = Vec::with_capacity(new);
        let mut entries = Vec::with_capacity(new * 2);
        let mut envelopes = Vec::with_capacity(new);
        let mut answer = Vec::with_capacity(awards.len());
        for award in awards {
            let data = match award {
                Award::Issued(issued) => {
                    answer.push(issued);
                    continue;
                }
                Award::New(data) => data,
            };
            let (Some(register_number), Some(revoked), Some(suspended)) =
                (numbers.next(), revocation.next(), suspension.next())
            else {
                return Err(transient(
                    "fewer register numbers or status entries than awards".into(),
                ));
            };
            let s = &data.submission;
            let id = Uuid::now_v7();
            let salt = crate::credential::new_salt();
            let document = CertificateDocument {
                register_number: register_number.clone(),
                holder: Holder {
                    isikukood: s.applicant.isikukood.to_string(),
                    given_name: s.applicant.given_name.clone(),
                    family_name: s.applicant.family_name.clone(),
                },
                qualification: s.qualification.clone(),
                awarding_body_id: s.awarding_body_id,
                awarding_body_name: s.awarding_body_name.clone(),
                competences: s.competences.clone(),
                issued_on,
                valid_until,
                protocol_id: protocol.protocol_id,
                successor_of: succeeds(&predecessors, s, &mut claimed),
                duplicate: None,
            };
            if let Some(predecessor) = &document.successor_of {
                successions.push((predecessor.clone(), register_number.clone()));
            }
            let seal = kutse_protocol::sign(&document, key, kid, SEAL_TYP)
                .map_err(|e| transient(format!("sealing: {e}")))?;
            let status = [revoked, suspended];
            let credential = self
                .credential_of(&document, id, &salt, issued_at, &status)
                .map_err(transient)?;
            entries.extend(status.map(|entry| (id, entry)));
            let event = CertificateIssued {
                certificate_id: id,
                register_number: register_number.clone(),
                application_id: s.application_id,
                holder: s.applicant.clone(),
                qualification: s.qualification.clone(),
                competences: s.competences.clone(),
                issued_on,
                valid_until,
                verification_url: format!(
                    "{}/certificates/{register_number}",
                    self.public_base_url
                ),
                successor_of: document.successor_of.clone(),
            };
            envelopes.push(
                Envelope::caused_by(&event, cause)
                    .map_err(|e| HandlerError::Transient(e.into()))?,
            );
            answer.push(IssuedRef {
                application_id: s.application_id,
                register_number: register_number.clone(),
            });
            rows.push(db::outcomes::NewCertificate {
                id,
                register_number,
                application_id: s.application_id,
                protocol_id: protocol.protocol_id,
                holder: document.holder.isikukood.clone(),
                holder_salt: salt,
                issued_on,
                valid_until,
                document: serde_json::to_value(&document)
                    .map_err(|e| HandlerError::Transient(e.into()))?,
                seal,
                credential,
            });
        }
        let inserted = db::outcomes::insert_certificates(conn, &rows).await?;
        if inserted != rows.len() as u64 {
            // Each application was checked above under its row lock, so this is a defence only:
            // should it happen, retrying finds the certificates and answers with them.
            return Err(transient(format!(
                "{} of {} certificates of protocol {} issued concurrently",
                rows.len() as u64 - inserted,
                rows.len(),
                protocol.protocol_id
            )));
        }
        db::status::insert_entries(conn, &entries).await?;
        db::outcomes::supersede(conn, &successions).await?;
        Outbox::enqueue_all(conn, &envelopes).await?;
        if !rows.is_empty() {
            tracing::info!(protocol = %protocol.protocol_id, issued = rows.len(), "certificates issued");
        }
        Ok(answer)
    }
}

/// The certificate a recertification's new certificate succeeds: the one it names, if that is
/// among `predecessors` (locked), the holder's own, of the same qualification, not revoked, not
/// succeeded yet and not `claimed` by another award of the same protocol; otherwise none (and
/// the new certificate stands alone).
fn succeeds(
    predecessors: &[db::outcomes::Predecessor],
    s: &ApplicationSubmitted,
    claimed: &mut HashSet<String>,
) -> Option<String> {
    if s.kind != kutse_domain::ApplicationKind::Recertification {
        return None;
    }
    let named = s.certificate_number.as_deref()?;
    let found = predecessors.iter().find(|p| p.register_number == named);
    match found {
        Some(p)
            if p.holder == s.applicant.isikukood.to_string()
                && p.qualification_id.as_deref()
                    == Some(s.qualification.id.to_string().as_str())
                && p.superseded_by.is_none()
                && p.status != "revoked"
                && claimed.insert(named.to_owned()) =>
        {
            Some(named.to_owned())
        }
        _ => {
            tracing::warn!(application = %s.application_id, named, "a recertification names a certificate it cannot succeed; issued without succession");
            None
        }
    }
}

impl CertificatesHandler {
    /// The certificate's Open Badges credential, signed: what `document` says, the holder by
    /// `salt`ed hash, valid from `issued_at`, with its `status` entries.
    pub(super) fn credential_of(
        &self,
        document: &CertificateDocument,
        id: Uuid,
        salt: &str,
        issued_at: chrono::DateTime<Utc>,
        status: &[crate::status_list::Entry],
    ) -> Result<String, String> {
        let (key, kid) = self.register.current();
        let credential = crate::credential::credential(
            &self.public_base_url,
            &crate::credential::Subject {
                certificate_id: id,
                register_number: &document.register_number,
                isikukood: &document.holder.isikukood,
                salt,
                given_name: &document.holder.given_name,
                family_name: &document.holder.family_name,
                qualification: &document.qualification,
                competences: &document.competences,
                awarding_body_id: document.awarding_body_id,
                awarding_body_name: document.awarding_body_name.as_deref(),
                protocol_id: document.protocol_id,
                issued_at,
                valid_until: document.valid_until,
                status,
            },
        );
        kutse_protocol::sign(&credential, key, kid, crate::credential::TYP)
            .map_err(|e| format!("signing the credential: {e}"))
    }
}

/// An award of a protocol: a certificate to issue, or one issued before (the same protocol
/// again).
enum Award {
    New(Box<Known>),
    Issued(IssuedRef),
}

/// What the register knows of each application, locked; those whose submission or decision
/// has not arrived are absent.
async fn known_all(
    conn: &mut PgConnection,
    applications: &[Uuid],
) -> Result<HashMap<Uuid, Known>, HandlerError> {
    let rows = db::applications::lock_known_all(conn, applications).await?;
    let mut known = HashMap::with_capacity(rows.len());
    for (application, submission, decision) in rows {
        if let (Some(s), Some(d)) = (submission, decision) {
            known.insert(
                application,
                Known {
                    submission: serde_json::from_value(s)
                        .map_err(|e| HandlerError::Transient(e.into()))?,
                    decision: serde_json::from_value(d)
                        .map_err(|e| HandlerError::Transient(e.into()))?,
                },
            );
        }
    }
    Ok(known)
}

/// The rules one decision of a protocol must satisfy on its own.
fn check(
    decision: &ProtocolDecision,
    data: &Known,
    protocol: &Protocol,
) -> Result<(), HandlerError> {
    let application = decision.application_id;
    if data.submission.awarding_body_id != protocol.awarding_body_id {
        return Err(HandlerError::Permanent(format!(
            "protocol refused: application {application} belongs to another awarding body"
        )));
    }
    let carried = kutse_protocol::awarded(
        data.decision.all_accepted,
        decision.votes_for,
        decision.votes_against,
    );
    match decision.outcome {
        Outcome::Award if !data.decision.all_accepted => Err(HandlerError::Permanent(format!(
            "protocol refused: it awards application {application} but the assessment panel did not accept every competence"
        ))),
        Outcome::Award if !carried => Err(HandlerError::Permanent(format!(
            "protocol refused: it awards application {application} without a carried vote ({} for, {} against)",
            decision.votes_for, decision.votes_against
        ))),
        Outcome::Refuse if carried => Err(HandlerError::Permanent(format!(
            "protocol refused: it refuses application {application} although the panel accepted every competence and the vote carried"
        ))),
        Outcome::Refuse
            if decision
                .reason
                .as_deref()
                .is_none_or(|r| r.trim().is_empty()) =>
        {
            Err(HandlerError::Permanent(format!(
                "protocol refused: the refusal of application {application} gives no reason"
            )))
        }
        _ => Ok(()),
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
    if !db::outcomes::insert_refusal(conn, application, protocol.protocol_id).await?
        && !db::outcomes::refuse_again(conn, application, protocol.protocol_id).await?
    {
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
    // The protocol came from another system, and the register answered it (DVVK 324: counted on
    // the answering side, once per protocol).
    kutse_service::exchanges::announce::<kutse_messaging::catalogue::CertificatesExchange>(
        conn,
        "protocol.received",
        &protocol.protocol_id.to_string(),
        kutse_domain::Dvvk::SystemToSystem,
    )
    .await?;
    tracing::info!(protocol = %protocol.protocol_id, dvvk = 324, "protocol accepted");
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
