//! What the register does with events: remember what it needs of each application, and on a
//! signed protocol verify the signature against the registered signer keys, then issue every
//! awarded certificate — exactly once — and tell of every refusal.
//!
//! A protocol that cannot be trusted (unknown or revoked key, bad signature, not canonical, a key
//! of another awarding body) or that contradicts the assessment issues nothing and is parked with
//! the reason. A protocol about an application whose data has not arrived yet is retried.

use chrono::{Datelike, Months, Utc};
use futures::future::BoxFuture;
use kutse_messaging::catalogue::{
    ApplicationRefused, ApplicationSubmitted, AssessmentDecided, CertificateIssued, CompetenceRef,
    ProtocolSigned,
};
use kutse_messaging::{Envelope, Handler, HandlerError, Incoming, Message, Outbox};
use kutse_protocol::{Outcome, Protocol, ProtocolDecision};
use serde::{Deserialize, Serialize};
use sqlx::{PgConnection, Row};
use uuid::Uuid;

use crate::register::RegisterKey;

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
    pub register: RegisterKey,
    pub public_base_url: String,
    pub validity_years: u32,
}

impl Handler for CertificatesHandler {
    fn handle<'a>(
        &'a self,
        conn: &'a mut PgConnection,
        message: &'a Incoming,
    ) -> BoxFuture<'a, Result<(), HandlerError>> {
        Box::pin(async move {
            let envelope = &message.envelope;
            match envelope.message_type.as_str() {
                ApplicationSubmitted::TYPE => {
                    let submitted: ApplicationSubmitted = envelope.decode()?;
                    remember(conn, submitted.application_id, "submission", &submitted).await
                }
                AssessmentDecided::TYPE => {
                    let decided: AssessmentDecided = envelope.decode()?;
                    remember(conn, decided.application_id, "decision", &decided).await
                }
                ProtocolSigned::TYPE => self.protocol_signed(conn, envelope).await,
                other => Err(HandlerError::Permanent(format!(
                    "certificates does not handle {other}"
                ))),
            }
        })
    }
}

async fn remember<T: Serialize>(
    conn: &mut PgConnection,
    application: Uuid,
    column: &str,
    value: &T,
) -> Result<(), HandlerError> {
    let value = serde_json::to_value(value).map_err(|e| HandlerError::Transient(e.into()))?;
    let sql = match column {
        "submission" => {
            "INSERT INTO applications (application_id, submission) VALUES ($1, $2)
             ON CONFLICT (application_id) DO UPDATE SET submission = $2, updated_at = now()"
        }
        _ => {
            "INSERT INTO applications (application_id, decision) VALUES ($1, $2)
             ON CONFLICT (application_id) DO UPDATE SET decision = $2, updated_at = now()"
        }
    };
    sqlx::query(sql)
        .bind(application)
        .bind(value)
        .execute(conn)
        .await?;
    Ok(())
}

/// What the register knows of one application named in a protocol.
struct Known {
    submission: ApplicationSubmitted,
    decision: AssessmentDecided,
}

impl CertificatesHandler {
    async fn protocol_signed(
        &self,
        conn: &mut PgConnection,
        envelope: &Envelope,
    ) -> Result<(), HandlerError> {
        let signed: ProtocolSigned = envelope.decode()?;
        let protocol = self.verified(conn, &signed.jws).await?;
        tracing::info!(protocol = %protocol.protocol_id, decisions = protocol.decisions.len(), "signed protocol verified");

        // Check every decision before acting on any: a protocol is applied whole or not at all.
        let mut known = Vec::with_capacity(protocol.decisions.len());
        for decision in &protocol.decisions {
            let data = self.known(conn, decision.application_id).await?;
            if data.submission.awarding_body_id != protocol.awarding_body_id {
                return Err(HandlerError::Permanent(format!(
                    "application {} belongs to another awarding body",
                    decision.application_id
                )));
            }
            if decision.outcome == Outcome::Award {
                if !data.decision.all_accepted {
                    return Err(HandlerError::Permanent(format!(
                        "protocol awards application {} but the assessment panel did not accept every competence",
                        decision.application_id
                    )));
                }
                if decision.votes_for <= decision.votes_against {
                    return Err(HandlerError::Permanent(format!(
                        "protocol awards application {} without a carried vote ({} for, {} against)",
                        decision.application_id, decision.votes_for, decision.votes_against
                    )));
                }
            }
            known.push(data);
        }
        for (decision, data) in protocol.decisions.iter().zip(known) {
            match decision.outcome {
                Outcome::Award => self.issue(conn, envelope, &protocol, data).await?,
                Outcome::Refuse => refuse(conn, envelope, &protocol, decision, data).await?,
            }
        }
        Ok(())
    }

    /// The protocol, if its signature verifies against a registered, unrevoked key of its body.
    async fn verified(&self, conn: &mut PgConnection, jws: &str) -> Result<Protocol, HandlerError> {
        let reject = |e: kutse_protocol::SignatureError| {
            HandlerError::Permanent(format!("protocol refused: {e}"))
        };
        let kid = kutse_protocol::key_id(jws).map_err(reject)?;
        let row = sqlx::query(
            "SELECT awarding_body_id, public_key FROM signer_keys WHERE kid = $1 AND revoked_at IS NULL",
        )
        .bind(&kid)
        .fetch_optional(&mut *conn)
        .await?;
        let key = row
            .as_ref()
            .and_then(|r| kutse_protocol::verifying_key(&r.get::<String, _>("public_key")).ok());
        let protocol: Protocol = kutse_protocol::verify(jws, |_| key).map_err(reject)?;
        let key_body: Option<Uuid> = row.map(|r| r.get("awarding_body_id"));
        if key_body != Some(protocol.awarding_body_id) {
            return Err(HandlerError::Permanent(format!(
                "protocol refused: key {kid} is not registered to awarding body {}",
                protocol.awarding_body_id
            )));
        }
        Ok(protocol)
    }

    async fn known(
        &self,
        conn: &mut PgConnection,
        application: Uuid,
    ) -> Result<Known, HandlerError> {
        let row =
            sqlx::query("SELECT submission, decision FROM applications WHERE application_id = $1")
                .bind(application)
                .fetch_optional(&mut *conn)
                .await?;
        let (submission, decision) = match row {
            Some(r) => (
                r.get::<Option<serde_json::Value>, _>("submission"),
                r.get::<Option<serde_json::Value>, _>("decision"),
            ),
            None => (None, None),
        };
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
    ) -> Result<(), HandlerError> {
        let application = data.submission.application_id;
        let exists = sqlx::query("SELECT 1 FROM certificates WHERE application_id = $1")
            .bind(application)
            .fetch_optional(&mut *conn)
            .await?;
        if exists.is_some() {
            tracing::info!(%application, "certificate already issued; nothing to do");
            return Ok(());
        }
        let issued_on = Utc::now().date_naive();
        let valid_until = issued_on
            .checked_add_months(Months::new(12 * self.validity_years))
            .unwrap_or(issued_on);
        let seq: i64 = sqlx::query_scalar("SELECT nextval('register_number_seq')")
            .fetch_one(&mut *conn)
            .await?;
        let register_number = format!("KT-{}-{seq:06}", issued_on.year());
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
            &self.register.key,
            &self.register.kid,
            "kutse-certificate",
        )
        .map_err(|e| HandlerError::Transient(anyhow::anyhow!("sealing: {e}")))?;
        let id = Uuid::now_v7();
        let inserted = sqlx::query(
            "INSERT INTO certificates (id, register_number, application_id, protocol_id, holder, issued_on, valid_until, document, seal)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
             ON CONFLICT (application_id) DO NOTHING",
        )
        .bind(id)
        .bind(&register_number)
        .bind(application)
        .bind(protocol.protocol_id)
        .bind(&document.holder.isikukood)
        .bind(issued_on)
        .bind(valid_until)
        .bind(serde_json::to_value(&document).map_err(|e| HandlerError::Transient(e.into()))?)
        .bind(&seal)
        .execute(&mut *conn)
        .await?
        .rows_affected();
        if inserted == 0 {
            return Ok(());
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
        Ok(())
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
    let inserted = sqlx::query(
        "INSERT INTO refusals (application_id, protocol_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
    )
    .bind(application)
    .bind(protocol.protocol_id)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if inserted == 0 {
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
