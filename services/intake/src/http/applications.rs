//! Applications: created by the applicant (the token's person), filled in, submitted.
//!
//! Submitting checks what the round demands — open, not past its deadline (in Tallinn), every
//! required document uploaded. Processing starts only once the awarding body has confirmed the
//! fee: until then a submitted application waits in `awaiting_fee`. When both hold, one
//! transaction marks it `submitted`, records it in its history and puts `application.submitted`
//! in the outbox. Statuses move only forward ([`ApplicationStatus::may_become`]).
//!
//! History is shown to the applicant, so it names roles and bodies, never another person.

use std::collections::HashSet;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use kutse_auth::{Authenticated, Principal, Role};
use kutse_domain::{DuplicateReason, Dvvk, Email, Isikukood};
use kutse_http::{ApiError, FieldError, Json, PathId};
use kutse_messaging::Envelope;
use kutse_messaging::catalogue::{
    ApplicantRef, ApplicationAwaitingFee, ApplicationCreated, ApplicationSubmitted, CompetenceRef,
    QualificationRef,
};
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::{AppState, replayed, require_staff_of};
use crate::db;
use crate::domain::{ApplicationKind, ApplicationStatus, DeliveryOption, Language, SubmitError};
use crate::idempotency::{self, IdempotencyKey};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create))
        .routes(routes!(read))
        .routes(routes!(submit))
        .routes(routes!(confirm_fee))
        .routes(routes!(confirm))
        .routes(routes!(mine))
        .routes(routes!(partners))
        .routes(routes!(data_reads))
}

#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct NewApplication {
    round_id: Uuid,
    kind: ApplicationKind,
    /// Codes of the competences applied for; all of the qualification's when omitted.
    #[serde(default)]
    competences: Option<Vec<String>>,
    delivery_option: DeliveryOption,
    email: Option<String>,
    #[serde(default)]
    language: Language,
    given_name: Option<String>,
    family_name: Option<String>,
    /// A partner's people create an application on a person's behalf: the person's personal code
    /// (`EE` prefix optional). The person confirms it with their own login before it is submitted.
    #[serde(default)]
    on_behalf_of: Option<String>,
    /// The register number of the applicant's certificate that a recertification renews or a
    /// duplicate copies (required of those two kinds, refused of the others).
    #[serde(default)]
    certificate_number: Option<String>,
    /// Why a duplicate is asked for: `lost`, `damaged` or `name_changed` (the new name is then
    /// the one of the holder's own login).
    #[serde(default)]
    duplicate_reason: Option<DuplicateReason>,
}

/// An application as its applicant and the body's staff see it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = Application)]
struct ApplicationView {
    id: Uuid,
    round_id: Uuid,
    awarding_body_id: Uuid,
    status: String,
    kind: String,
    competences: Vec<String>,
    delivery_option: String,
    fee_confirmed: bool,
    created_at: DateTime<Utc>,
    submitted_at: Option<DateTime<Utc>>,
    /// The partner organisation that created it on the applicant's behalf, and whether the
    /// applicant has confirmed it.
    #[serde(skip_serializing_if = "Option::is_none")]
    partner_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    confirmed_at: Option<DateTime<Utc>>,
    /// The certificate a recertification renews or a duplicate copies.
    #[serde(skip_serializing_if = "Option::is_none")]
    certificate_number: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    duplicate_reason: Option<String>,
    documents: Vec<db::applications::Document>,
    history: Vec<db::applications::HistoryEntry>,
}

/// A person (or a partner's people, on their behalf) starts an application in an open round.
#[utoipa::path(
    post,
    path = "/applications",
    tag = "applications",
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry answer as the first request did, and do nothing twice.")),
    request_body = NewApplication,
    responses(
        (status = 201, description = "Created as a draft (also the answer replayed to a retry with the same key).", body = ApplicationView),
    ),
)]
async fn create(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    key: IdempotencyKey,
    Json(input): Json<NewApplication>,
) -> Result<Response, ApiError> {
    // A partner's person applies on someone's behalf; anyone else applies for themselves.
    let partner = principal
        .has_role(Role::Partner)
        .then(|| principal.partner.clone())
        .flatten();
    let applicant = match (&partner, &input.on_behalf_of) {
        (Some(_), Some(code)) => Isikukood::from_subject(code.trim())
            .or_else(|_| Isikukood::parse(code.trim()))
            .map_err(|e| ApiError::invalid("on_behalf_of", format!("not a personal code: {e}")))?,
        (Some(_), None) => {
            return Err(ApiError::invalid(
                "on_behalf_of",
                "a partner applies on a person's behalf: their personal code",
            ));
        }
        (None, Some(_)) => {
            return Err(ApiError::Forbidden(
                "only an authorised partner's people apply on someone's behalf".to_owned(),
            ));
        }
        (None, None) => principal.person()?,
    };
    let scope = key.scope(&principal.subject, "POST /applications", &input);
    // Checked and written with whatever other creations are waiting (`super::creations`).
    let (status, body) = state
        .creations
        .create(Creation {
            principal,
            input,
            partner,
            applicant,
            scope,
            span: tracing::Span::current(),
        })
        .await?;
    Ok((status, axum::Json(body)).into_response())
}

/// A request to create an application, as the handler hands it to the group commit
/// ([`super::creations`]): who asks, what, for whom, and under which `Idempotency-Key`.
pub(super) struct Creation {
    principal: Principal,
    input: NewApplication,
    /// The partner organisation applying on the applicant's behalf.
    partner: Option<String>,
    applicant: Isikukood,
    pub(super) scope: Option<idempotency::Scope>,
    /// The request's span: the application is checked and its event made within it, so that
    /// the event carries the request's trace.
    pub(super) span: tracing::Span,
}

impl Creation {
    pub(super) fn round_id(&self) -> Uuid {
        self.input.round_id
    }
}

/// A checked application, ready to be written, and its `application.created`.
pub(super) struct Draft {
    pub(super) row: db::applications::NewApplication,
    pub(super) envelope: Envelope,
}

/// Checks a creation against its round's facts (`None`: no such round) and what the register
/// holds (partners' authorisations, certificates named); a refusal names every field that is
/// wrong.
pub(super) async fn draft(
    conn: &mut PgConnection,
    creation: &Creation,
    round: Option<&db::applications::RoundFacts>,
) -> Result<Draft, ApiError> {
    let Creation {
        principal,
        input,
        partner,
        applicant,
        ..
    } = creation;
    let round = round.ok_or_else(|| ApiError::invalid("round_id", "no such round"))?;
    let body = round.awarding_body_id;
    if let Some(code) = partner
        && !(principal.acts_for(Role::Partner, body)
            && db::partners::authorised_for(
                conn,
                body,
                code,
                input.round_id,
                round.qualification_id,
            )
            .await?)
    {
        return Err(ApiError::Forbidden(
            "the partner is not authorised by this body for this round".to_owned(),
        ));
    }

    let mut errors = Vec::new();
    if !round.open {
        errors.push(FieldError::new("round_id", "the round is closed"));
    }
    if !round
        .fee_kinds
        .iter()
        .any(|kind| kind == input.kind.as_str())
    {
        errors.push(FieldError::new(
            "kind",
            "this round does not take applications of this kind",
        ));
    }
    if input.kind == ApplicationKind::PriorLearning && !round.prior_learning_allowed {
        errors.push(FieldError::new(
            "kind",
            "this qualification cannot be applied for through recognition of prior learning (VÕTA)",
        ));
    }
    if !round
        .delivery_options
        .iter()
        .any(|option| option == input.delivery_option.as_str())
    {
        errors.push(FieldError::new(
            "delivery_option",
            "this round does not offer it",
        ));
    }
    let standard = &round.competences;
    let duplicate = input.kind == ApplicationKind::Duplicate;
    let competences = match &input.competences {
        // A duplicate copies a certificate: nothing is assessed.
        None if duplicate => Vec::new(),
        Some(_) if duplicate => {
            errors.push(FieldError::new(
                "competences",
                "a duplicate copies a certificate; it applies for no competences",
            ));
            Vec::new()
        }
        None => standard.clone(),
        Some(codes) => {
            if codes.is_empty() {
                errors.push(FieldError::new(
                    "competences",
                    "apply for at least one competence",
                ));
            }
            let mut seen = HashSet::new();
            for (i, code) in codes.iter().enumerate() {
                if !standard.contains(code) {
                    errors.push(FieldError::new(
                        format!("competences[{i}]"),
                        "not a competence of this qualification",
                    ));
                } else if !seen.insert(code) {
                    errors.push(FieldError::new(
                        format!("competences[{i}]"),
                        "appears twice",
                    ));
                }
            }
            codes.clone()
        }
    };
    let applicant_code = applicant.to_string();
    let named = named_certificate(
        conn,
        input,
        &applicant_code,
        (round.qualification_id, body),
        partner.is_some(),
        &mut errors,
    )
    .await?;
    // A partner's person's own name and address are not the applicant's.
    let own = partner.is_none();
    let email = input
        .email
        .clone()
        .or_else(|| principal.email.clone().filter(|_| own))
        .unwrap_or_default();
    if Email::parse(&email).is_err() {
        errors.push(FieldError::new(
            "email",
            "an e-mail address is needed to send the applicant notices",
        ));
    }
    // A duplicate for a changed name carries the name of the holder's own login, not one typed.
    let name_changed = input.duplicate_reason == Some(DuplicateReason::NameChanged);
    let given_name = if name_changed {
        principal.given_name.clone()
    } else {
        input.given_name.clone()
    }
    .or_else(|| principal.given_name.clone().filter(|_| own))
    .unwrap_or_default();
    let family_name = if name_changed {
        principal.family_name.clone()
    } else {
        input.family_name.clone()
    }
    .or_else(|| principal.family_name.clone().filter(|_| own))
    .unwrap_or_default();
    if let (true, Some(held)) = (name_changed, &named)
        && held.given_name == given_name.trim()
        && held.family_name == family_name.trim()
    {
        errors.push(FieldError::new(
            "duplicate_reason",
            "the certificate already carries the name of your login",
        ));
    }
    if given_name.trim().is_empty() {
        errors.push(FieldError::new(
            "given_name",
            "missing from the request and the login",
        ));
    }
    if family_name.trim().is_empty() {
        errors.push(FieldError::new(
            "family_name",
            "missing from the request and the login",
        ));
    }
    if !errors.is_empty() {
        return Err(ApiError::Invalid(errors));
    }

    let id = Uuid::now_v7();
    let event = ApplicationCreated {
        application_id: id,
        awarding_body_id: body,
        applicant: *applicant,
        allowed_types: round.allowed_types.0.clone(),
    };
    // The application's id is the correlation id of everything that follows from it.
    let envelope = Envelope::new(&event, Some(id)).map_err(|e| ApiError::Internal(e.into()))?;
    Ok(Draft {
        row: db::applications::NewApplication {
            id,
            round_id: input.round_id,
            awarding_body_id: body,
            applicant: applicant_code,
            given_name: given_name.trim().to_owned(),
            family_name: family_name.trim().to_owned(),
            email: email.trim().to_owned(),
            language: input.language,
            kind: input.kind,
            delivery_option: input.delivery_option,
            competences,
            partner_code: partner.clone(),
            certificate_number: named.map(|h| h.register_number),
            duplicate_reason: input.duplicate_reason.filter(|_| duplicate),
        },
        envelope,
    })
}

/// The answer to a creation: a new application has no documents yet and one entry of history,
/// so its view is what is written, `at` the time it is created at.
pub(super) fn created_view(
    a: &db::applications::NewApplication,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<serde_json::Value, ApiError> {
    let mut competences = a.competences.clone();
    competences.sort();
    let view = ApplicationView {
        id: a.id,
        round_id: a.round_id,
        awarding_body_id: a.awarding_body_id,
        status: db::applications::NEW_STATUS.to_owned(),
        kind: a.kind.as_str().to_owned(),
        competences,
        delivery_option: a.delivery_option.as_str().to_owned(),
        fee_confirmed: db::applications::NEW_FEE_CONFIRMED,
        created_at: at,
        submitted_at: None,
        partner_code: a.partner_code.clone(),
        confirmed_at: None,
        certificate_number: a.certificate_number.clone(),
        duplicate_reason: a.duplicate_reason.map(|r| r.as_str().to_owned()),
        documents: Vec::new(),
        history: vec![db::applications::created_entry(
            at,
            a.partner_code.as_deref(),
        )],
    };
    serde_json::to_value(&view).map_err(|e| ApiError::Internal(e.into()))
}

/// The certificate a recertification or a duplicate names, checked
/// ([`crate::domain::check_named_certificate`]); what is wrong is added to `errors`. Other kinds
/// name none.
async fn named_certificate(
    conn: &mut PgConnection,
    input: &NewApplication,
    applicant: &str,
    (qualification_id, awarding_body_id): (Uuid, Uuid),
    by_partner: bool,
    errors: &mut Vec<FieldError>,
) -> Result<Option<db::certificates::Held>, ApiError> {
    let kind = input.kind;
    let names = matches!(
        kind,
        ApplicationKind::Recertification | ApplicationKind::Duplicate
    );
    if kind == ApplicationKind::Duplicate {
        match input.duplicate_reason {
            None => errors.push(FieldError::new(
                "duplicate_reason",
                "why a duplicate: lost, damaged or name_changed",
            )),
            Some(DuplicateReason::NameChanged) if by_partner => errors.push(FieldError::new(
                "duplicate_reason",
                "a changed name is taken from the holder's own login: the holder applies",
            )),
            Some(_) => {}
        }
    } else if input.duplicate_reason.is_some() {
        errors.push(FieldError::new(
            "duplicate_reason",
            "only a duplicate has a reason",
        ));
    }
    let number = input
        .certificate_number
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty());
    let Some(number) = number.filter(|_| names) else {
        if names {
            errors.push(FieldError::new(
                "certificate_number",
                "the register number of your certificate that this application renews or copies",
            ));
        } else if number.is_some() {
            errors.push(FieldError::new(
                "certificate_number",
                "only a recertification or a duplicate names a certificate",
            ));
        }
        return Ok(None);
    };
    let held = db::certificates::find(conn, number).await?;
    let window = db::awarding_bodies::recertification_window(conn, awarding_body_id)
        .await?
        .unwrap_or(crate::domain::RecertificationWindow::DEFAULT);
    match crate::domain::check_named_certificate(
        kind,
        held.as_ref(),
        applicant,
        (qualification_id, awarding_body_id),
        window,
        kutse_domain::tallinn_today(),
    ) {
        Ok(()) => Ok(held),
        Err(e) => {
            errors.push(FieldError::new("certificate_number", e.to_string()));
            Ok(None)
        }
    }
}

async fn history(
    conn: &mut PgConnection,
    application: Uuid,
    event: &str,
    detail: serde_json::Value,
) -> Result<(), ApiError> {
    Ok(db::applications::add_history(conn, application, event, detail).await?)
}

/// Loads an application for `principal`: its applicant or staff of its body. Anyone else gets
/// 404, so that the existence of someone else's application is not revealed either.
async fn authorised(
    conn: &mut PgConnection,
    principal: &Principal,
    id: Uuid,
) -> Result<(String, Uuid), ApiError> {
    let db::applications::Ownership {
        applicant,
        awarding_body_id: body,
        partner_code,
        ..
    } = db::applications::ownership(conn, id)
        .await?
        .ok_or_else(|| ApiError::NotFound("application".to_owned()))?;
    let own = principal
        .isikukood
        .is_some_and(|code| code.to_string() == applicant);
    let staff = principal.acts_for(Role::AwardingBodyStaff, body);
    // A partner sees only what it created, and only while its authorisation is in force.
    let partner = match (&partner_code, &principal.partner) {
        (Some(created_by), Some(acting_for))
            if created_by == acting_for && principal.acts_for(Role::Partner, body) =>
        {
            // Within the scope it is authorised for now (a round or a qualification).
            let record = db::applications::record(conn, id).await?;
            let round = db::rounds::find(conn, record.round_id)
                .await?
                .ok_or_else(|| {
                    ApiError::Internal(anyhow::anyhow!("application {id} without its round"))
                })?;
            db::partners::authorised_for(
                conn,
                body,
                created_by,
                record.round_id,
                round.qualification_id,
            )
            .await?
        }
        _ => false,
    };
    if own || staff || partner {
        Ok((applicant, body))
    } else {
        Err(ApiError::NotFound("application".to_owned()))
    }
}

async fn view(conn: &mut PgConnection, id: Uuid) -> Result<ApplicationView, ApiError> {
    let record = db::applications::record(conn, id).await?;
    Ok(ApplicationView {
        id,
        round_id: record.round_id,
        awarding_body_id: record.awarding_body_id,
        status: record.status,
        kind: record.kind,
        competences: db::applications::competence_codes(conn, id).await?,
        delivery_option: record.delivery_option,
        fee_confirmed: record.fee_confirmed,
        created_at: record.created_at,
        submitted_at: record.submitted_at,
        partner_code: record.partner_code,
        confirmed_at: record.confirmed_at,
        certificate_number: record.certificate_number,
        duplicate_reason: record.duplicate_reason,
        documents: db::applications::documents(conn, id).await?,
        history: db::applications::history(conn, id).await?,
    })
}

/// An application, for its applicant and the body's staff.
#[utoipa::path(
    get,
    path = "/applications/{id}",
    tag = "applications",
    params(("id" = Uuid, Path, description = "The application.")),
    responses(
        (status = 200, description = "An application: status, round, competences, documents, fee, history.", body = ApplicationView),
    ),
)]
async fn read(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    PathId(id): PathId,
) -> Result<Json<ApplicationView>, ApiError> {
    let mut conn = state.pool.acquire().await?;
    let (applicant, _) = authorised(&mut conn, &principal, id).await?;
    let view = view(&mut conn, id).await?;
    // Staff and partners reading someone's application: tracked for them.
    db::data_reads::track(
        &mut conn,
        &principal,
        &[kutse_service::data_reads::Read {
            person: applicant,
            what: "application",
            resource: id.to_string(),
        }],
    )
    .await?;
    Ok(Json(view))
}

/// The body's staff confirm the application's fee.
#[utoipa::path(
    post,
    path = "/applications/{id}/fee-confirmation",
    tag = "applications",
    params(("id" = Uuid, Path, description = "The application.")),
    responses(
        (status = 200, description = "Fee confirmed; an application already submitted goes on to processing.", body = ApplicationView),
    ),
)]
async fn confirm_fee(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    PathId(id): PathId,
) -> Result<Json<ApplicationView>, ApiError> {
    let mut tx = state.pool.begin().await?;
    let (_, body) = authorised(&mut tx, &principal, id).await?;
    require_staff_of(&principal, body)?;
    let (status, confirmed_now) = db::applications::confirm_fee(&mut tx, id).await?;
    if confirmed_now {
        // Applicants read their history: it names the role and the body, never the person.
        history(
            &mut tx,
            id,
            "fee_confirmed",
            serde_json::json!({ "by": Role::AwardingBodyStaff.as_str(), "awarding_body_id": body }),
        )
        .await?;
        // A submission waiting for its fee goes on now: processing starts once the fee is in.
        if ApplicationStatus::parse(&status) == Some(ApplicationStatus::AwaitingFee) {
            move_to(
                &mut tx,
                id,
                ApplicationStatus::AwaitingFee,
                ApplicationStatus::Submitted,
            )
            .await?;
            announce_submission(&mut tx, id).await?;
            tracing::info!(application = %id, "fee confirmed; application submitted");
        }
    }
    let view = view(&mut tx, id).await?;
    tx.commit().await?;
    Ok(Json(view))
}

/// Submits an application: the round must be open and its deadline (a day in Tallinn) not past,
/// and every document it requires uploaded. If the body has confirmed the fee, the application
/// is `submitted` and `application.submitted` goes out; otherwise it waits in `awaiting_fee`
/// until the body confirms it (a payment-proof upload does not replace that confirmation).
#[utoipa::path(
    post,
    path = "/applications/{id}/submit",
    tag = "applications",
    params(("id" = Uuid, Path, description = "The application."), ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry answer as the first request did, and do nothing twice.")),
    responses(
        (status = 200, description = "Submitted (or awaiting_fee until the body confirms the fee).", body = ApplicationView),
    ),
)]
async fn submit(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    key: IdempotencyKey,
    PathId(id): PathId,
) -> Result<Response, ApiError> {
    let scope = key.scope(
        &principal.subject,
        &format!("POST /applications/{id}/submit"),
        &(),
    );
    let mut tx = state.pool.begin().await?;
    if let Some(response) = replayed(idempotency::replay(&mut tx, scope.as_ref()).await?) {
        return Ok(response);
    }
    let (applicant, _) = authorised(&mut tx, &principal, id).await?;
    let ownership = db::applications::ownership(&mut tx, id)
        .await?
        .ok_or_else(|| ApiError::NotFound("application".to_owned()))?;
    let is_applicant = principal.is_person(&applicant);
    let is_its_partner = ownership.partner_code.is_some()
        && ownership.partner_code == principal.partner
        && principal.has_role(Role::Partner);
    if !(is_applicant || is_its_partner) {
        return Err(ApiError::Forbidden(
            "only the applicant (or the partner who created it) submits an application".to_owned(),
        ));
    }
    if ownership.partner_code.is_some() && ownership.confirmed_at.is_none() {
        return Err(ApiError::Unprocessable {
            kind: "not-confirmed",
            detail: "the applicant has not confirmed the application the partner created for them"
                .to_owned(),
            errors: vec![],
        });
    }
    let submission = db::applications::lock_for_submission(&mut tx, id).await?;
    let next = submission.submit(Utc::now())?;
    db::applications::mark_submitted(&mut tx, id).await?;
    db::applications::add_history(
        &mut tx,
        id,
        "submitted",
        serde_json::json!({ "dvvk": Dvvk::WebForm.code() }),
    )
    .await?;
    // The application reaches the register through the portal's form: counted once, here.
    db::dvvk_ledger::count(&mut tx, "application.submitted", id, Dvvk::WebForm).await?;
    move_to(&mut tx, id, submission.status, next).await?;
    if next == ApplicationStatus::Submitted {
        announce_submission(&mut tx, id).await?;
    } else {
        announce_awaiting_fee(&mut tx, id).await?;
    }
    tracing::info!(application = %id, status = next.as_str(), "application submitted");

    let view = view(&mut tx, id).await?;
    let body = serde_json::to_value(&view).map_err(|e| ApiError::Internal(e.into()))?;
    idempotency::record(&mut tx, scope.as_ref(), StatusCode::OK, &body).await?;
    tx.commit().await?;
    Ok((StatusCode::OK, axum::Json(body)).into_response())
}

/// Moves an application along the declared state machine ([`ApplicationStatus::may_become`]),
/// from the status the caller locked and read.
async fn move_to(
    conn: &mut PgConnection,
    id: Uuid,
    from: ApplicationStatus,
    to: ApplicationStatus,
) -> Result<(), ApiError> {
    if !from.may_become(to) || !db::applications::move_status(conn, id, from, to).await? {
        return Err(ApiError::Internal(anyhow::anyhow!(
            "application {id}: {} may not become {}",
            from.as_str(),
            to.as_str()
        )));
    }
    Ok(())
}

/// Puts `application.submitted` in the outbox: processing (assessment, the certificate's data, the
/// receipt) starts from it.
/// Announces a submitted application: `application.submitted` once its fee is confirmed (it is
/// processed), `application.awaiting_fee` before (only the applicant's receipt follows).
async fn announce_submission(conn: &mut PgConnection, id: Uuid) -> Result<(), ApiError> {
    let event = submission(conn, id).await?;
    enqueue(conn, id, &event).await
}

async fn announce_awaiting_fee(conn: &mut PgConnection, id: Uuid) -> Result<(), ApiError> {
    let event = ApplicationAwaitingFee(submission(conn, id).await?);
    enqueue(conn, id, &event).await
}

async fn enqueue<M: kutse_messaging::Message + Serialize>(
    conn: &mut PgConnection,
    id: Uuid,
    event: &M,
) -> Result<(), ApiError> {
    // The application's id is the correlation id of everything that follows from it.
    let envelope = Envelope::new(event, Some(id)).map_err(|e| ApiError::Internal(e.into()))?;
    kutse_messaging::Outbox::enqueue(conn, &envelope)
        .await
        .map_err(ApiError::from)
}

/// The facts of a submitted application, as `application.submitted` carries them.
async fn submission(conn: &mut PgConnection, id: Uuid) -> Result<ApplicationSubmitted, ApiError> {
    let app = db::applications::submission_facts(conn, id).await?;
    let level = u8::try_from(app.level)
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("stored level: {e}")))?;
    let (awarding_body_name, awarding_body_email) =
        match db::awarding_bodies::find(conn, app.awarding_body_id).await? {
            Some((name, email)) => (Some(name), email.and_then(|e| Email::parse(&e).ok())),
            None => (None, None),
        };
    let event = ApplicationSubmitted {
        application_id: id,
        round_id: app.round_id,
        awarding_body_id: app.awarding_body_id,
        qualification: QualificationRef {
            id: app.qualification_id,
            name: app.qualification_name,
            level,
            partial: app.partial,
        },
        kind: stored("kind", ApplicationKind::parse(&app.kind))?,
        competences: app
            .competences
            .into_iter()
            .map(|(code, name)| CompetenceRef { code, name })
            .collect(),
        applicant: ApplicantRef {
            isikukood: stored("applicant", Isikukood::parse(&app.applicant))?,
            given_name: app.given_name,
            family_name: app.family_name,
            email: stored("email", Email::parse(&app.email))?,
            language: stored("language", Language::parse(&app.language))?,
        },
        delivery_option: stored(
            "delivery_option",
            DeliveryOption::parse(&app.delivery_option),
        )?,
        round_deadline: app.deadline,
        submitted_at: app.submitted_at.ok_or_else(|| {
            ApiError::Internal(anyhow::anyhow!("application {id} has no submission time"))
        })?,
        dvvk: Dvvk::WebForm,
        awarding_body_name,
        awarding_body_email,
        certificate_number: app.certificate_number,
        duplicate_reason: app
            .duplicate_reason
            .as_deref()
            .map(|r| stored("duplicate_reason", DuplicateReason::parse(r)))
            .transpose()?,
    };
    Ok(event)
}

impl From<SubmitError> for ApiError {
    fn from(e: SubmitError) -> Self {
        let detail = e.to_string();
        match e {
            SubmitError::Several(all) => {
                let errors = all
                    .into_iter()
                    .flat_map(|e| match ApiError::from(e) {
                        ApiError::Unprocessable { errors, .. } => errors,
                        _ => Vec::new(),
                    })
                    .collect();
                ApiError::Unprocessable {
                    kind: "not-submittable",
                    detail,
                    errors,
                }
            }
            SubmitError::NotDraft(_) => ApiError::Conflict(detail),
            SubmitError::RoundClosed => unprocessable("round-closed", &detail, "round_id"),
            SubmitError::DeadlinePassed(_) => unprocessable("deadline-passed", &detail, "round_id"),
            SubmitError::DocumentsMissing(missing) => ApiError::Unprocessable {
                kind: "documents-missing",
                detail,
                errors: missing
                    .iter()
                    .map(|doc| {
                        FieldError::new(
                            format!("documents.{doc}"),
                            "required by the round, not uploaded",
                        )
                    })
                    .collect(),
            },
        }
    }
}

/// A stored column read back as a vocabulary type; a value that does not parse is an internal
/// fault (it was checked when written).
fn stored<T, E: std::fmt::Display>(column: &str, parsed: Result<T, E>) -> Result<T, ApiError> {
    parsed.map_err(|e| ApiError::Internal(anyhow::anyhow!("stored {column}: {e}")))
}

fn unprocessable(kind: &'static str, detail: &str, field: &str) -> ApiError {
    ApiError::Unprocessable {
        kind,
        detail: detail.to_owned(),
        errors: vec![FieldError::new(field, detail)],
    }
}

/// The applicant confirms, with their own login, an application a partner created for them.
#[utoipa::path(
    post,
    path = "/applications/{id}/confirmation",
    tag = "applications",
    params(("id" = Uuid, Path, description = "The application.")),
    responses(
        (status = 200, description = "Confirmed by the person it is for.", body = ApplicationView),
    ),
)]
async fn confirm(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    PathId(id): PathId,
) -> Result<Json<ApplicationView>, ApiError> {
    let mut tx = state.pool.begin().await?;
    let ownership = db::applications::ownership(&mut tx, id)
        .await?
        .ok_or_else(|| ApiError::NotFound("application".to_owned()))?;
    if !principal.is_person(&ownership.applicant) {
        return Err(ApiError::NotFound("application".to_owned()));
    }
    if ownership.partner_code.is_none() {
        return Err(ApiError::Conflict(
            "the application is your own; there is nothing to confirm".to_owned(),
        ));
    }
    if db::applications::confirm(&mut tx, id).await? {
        history(
            &mut tx,
            id,
            "confirmed_by_applicant",
            serde_json::json!({ "partner_code": ownership.partner_code }),
        )
        .await?;
    }
    let view = view(&mut tx, id).await?;
    tx.commit().await?;
    Ok(Json(view))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct PageQuery {
    /// From 1.
    page: Option<u32>,
    per_page: Option<u32>,
}

/// The caller's data tracker: who other than them read their data (at any service), when and
/// what, newest first, at most 100 a page.
#[utoipa::path(
    get,
    path = "/me/data-reads",
    tag = "applications",
    params(PageQuery),
    responses(
        (status = 200, description = "`{reads: [{read_at, service, what, reader_role, reader_name}], page, per_page, total}`: who other than the person read their data.", body = kutse_http::openapi::AnyJson),
    ),
)]
async fn data_reads(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    axum::extract::Query(query): axum::extract::Query<PageQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let person = principal.person()?.to_string();
    let page = query.page.unwrap_or(1);
    let per_page = query.per_page.unwrap_or(50);
    if page == 0 {
        return Err(ApiError::invalid("page", "from 1"));
    }
    if per_page == 0 || per_page > 100 {
        return Err(ApiError::invalid("per_page", "1-100"));
    }
    let mut conn = state.pool.acquire().await?;
    let (reads, total) = db::data_reads::of_person(
        &mut conn,
        &person,
        i64::from(per_page),
        i64::from(page - 1) * i64::from(per_page),
    )
    .await?;
    Ok(Json(serde_json::json!({
        "reads": reads, "page": page, "per_page": per_page, "total": total,
    })))
}

/// What the caller's partner organisation created at the body its token acts for, newest first,
/// within the rounds and qualifications it is authorised for now; another partner's never.
#[utoipa::path(
    get,
    path = "/partner/applications",
    tag = "applications",
    responses(
        (status = 200, description = "The applications the caller\'s partner organisation created.", body = Vec<db::applications::OwnApplication>),
    ),
)]
async fn partners(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
) -> Result<Json<Vec<db::applications::OwnApplication>>, ApiError> {
    let (Some(code), Some(body)) = (principal.partner.clone(), principal.awarding_body_id) else {
        return Err(ApiError::Forbidden(
            "a partner's people, acting for a body, list what their partner created".to_owned(),
        ));
    };
    if !principal.acts_for(Role::Partner, body) {
        return Err(ApiError::Forbidden(
            "a partner's people, acting for a body, list what their partner created".to_owned(),
        ));
    }
    let mut conn = state.pool.acquire().await?;
    let mut listed = Vec::new();
    for (application, qualification) in db::applications::of_partner(&mut conn, &code, body).await?
    {
        if db::partners::authorised_for(&mut conn, body, &code, application.round_id, qualification)
            .await?
        {
            listed.push(application);
        }
    }
    Ok(Json(listed))
}

/// The caller's own applications (those a partner created for them too), newest first; each in
/// full at `GET /applications/{id}`.
#[utoipa::path(
    get,
    path = "/me/applications",
    tag = "applications",
    responses(
        (status = 200, description = "The person\'s applications, partners\' for them included.", body = Vec<db::applications::OwnApplication>),
    ),
)]
async fn mine(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
) -> Result<Json<Vec<db::applications::OwnApplication>>, ApiError> {
    let applicant = principal.person()?.to_string();
    let mut conn = state.pool.acquire().await?;
    Ok(Json(
        db::applications::of_applicant(&mut conn, &applicant).await?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn everything_in_the_way_of_a_submission_is_named_at_once() {
        let all = SubmitError::Several(vec![
            SubmitError::RoundClosed,
            SubmitError::DocumentsMissing(vec!["cv".into(), "diploma".into()]),
        ]);
        let ApiError::Unprocessable {
            kind,
            detail,
            errors,
        } = ApiError::from(all)
        else {
            panic!("not a 422");
        };
        assert_eq!(kind, "not-submittable");
        assert!(detail.contains("the round is closed"), "{detail}");
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["round_id", "documents.cv", "documents.diploma"]);
    }
}
