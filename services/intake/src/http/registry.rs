//! The role registry: appointments, partner organisations and machine clients of awarding bodies.
//!
//! | route | who |
//! |---|---|
//! | `POST /awarding-bodies/{id}/appointments` | the authority (administrators), the body's administrators (staff, assessors, committee members, chair, partners' people) |
//! | `GET /awarding-bodies/{id}/appointments` | the authority and the body's administrators: every appointment, ended ones too, with personal codes |
//! | `POST /appointments/{id}/removal` | the authority, or the body's administrators for what they appoint: ends an appointment now, with a reason |
//! | `GET /appointments?person=` | the authority: every appointment (of one person) |
//! | `GET /me/appointments` | anyone signed in: the roles they hold now, per body (for choosing whom to act for) |
//! | `POST /awarding-bodies/{id}/partners`, `GET …/partners`, `POST …/partners/{registry_code}/withdrawal` | the body's administrators (the authority reads) |
//! | `POST /awarding-bodies/{id}/clients`, `GET …/clients`, `POST /clients/{id}/revocation` | the body's administrators (the authority reads and revokes) |
//!
//! The rules (who appoints whom) are in `crate::registry`. Every change is kept with who made it,
//! when and why; appointments and removals of a body's roles are published (`role.appointed`,
//! `role.removed`) for the services that keep rosters. Personal codes in the registry are shown
//! only to the authority and the body's administrators.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use chrono::{DateTime, NaiveDate, Utc};
use kutse_auth::{Authenticated, Principal, Role};
use kutse_domain::Isikukood;
use kutse_http::{ApiError, FieldError, Json, PathId};
use kutse_messaging::Envelope;
use kutse_messaging::catalogue::{RoleAppointed, RoleRemoved};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{AppState, created, replayed};
use crate::db;
use crate::idempotency::{self, IdempotencyKey};
use crate::registry::{self, AppointError, Appointment};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/awarding-bodies/{id}/appointments",
            post(appoint).get(body_appointments),
        )
        .route("/appointments/{id}/removal", post(remove))
        .route("/appointments", get(all_appointments))
        .route("/me/appointments", get(my_appointments))
        .route(
            "/awarding-bodies/{id}/partners",
            post(authorise_partner).get(partners),
        )
        .route(
            "/awarding-bodies/{id}/partners/{registry_code}/withdrawal",
            post(withdraw_partner),
        )
        .route(
            "/awarding-bodies/{id}/clients",
            post(register_client).get(clients),
        )
        .route("/clients/{id}/revocation", post(revoke_client))
}

/// How the registry names whoever made a change: their role and personal code.
fn actor(principal: &Principal, role: Role) -> Result<String, ApiError> {
    Ok(format!("{}:{}", role.as_str(), principal.person()?))
}

/// The role in which `principal` changes an appointment to `role` at `body`: a body's
/// administrator for what administrators appoint (when they are one), else the authority.
fn acting_role(principal: &Principal, role: Role, body: Option<Uuid>) -> Role {
    let administers = body.is_some_and(|b| principal.acts_for(Role::BodyAdministrator, b));
    if registry::appointer_of(role) == Some(registry::Appointer::BodyAdministrator) && administers {
        Role::BodyAdministrator
    } else {
        Role::Authority
    }
}

/// 404 unless the caller is the authority or an administrator of `body` (the registry of a body
/// is not shown to anyone else, nor is its existence confirmed).
fn require_registry_reader(principal: &Principal, body: Uuid) -> Result<(), ApiError> {
    if principal.has_role(Role::Authority) || principal.acts_for(Role::BodyAdministrator, body) {
        Ok(())
    } else {
        Err(ApiError::NotFound("awarding body registry".to_owned()))
    }
}

fn reason(value: &str, field: &str) -> Result<String, ApiError> {
    let value = value.trim();
    if value.is_empty() || value.chars().count() > 500 {
        return Err(ApiError::invalid(field, "must be 1-500 characters"));
    }
    Ok(value.to_owned())
}

fn today() -> NaiveDate {
    kutse_domain::tallinn_date(Utc::now())
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct NewAppointment {
    personal_code: String,
    role: String,
    #[serde(default)]
    valid_from: Option<NaiveDate>,
    #[serde(default)]
    valid_to: Option<NaiveDate>,
    reason: String,
    #[serde(default)]
    partner_code: Option<String>,
}

#[derive(Debug, Serialize)]
struct AppointmentView {
    id: Uuid,
    personal_code: String,
    role: String,
    awarding_body_id: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    partner_code: Option<String>,
    valid_from: NaiveDate,
    valid_to: Option<NaiveDate>,
    reason: String,
    appointed_by: String,
    appointed_at: DateTime<Utc>,
    /// Whether the role is held today: not removed, within its dates.
    in_force: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    removed_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    removed_by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    removal_reason: Option<String>,
}

impl From<db::appointments::Appointment> for AppointmentView {
    fn from(a: db::appointments::Appointment) -> Self {
        let day = today();
        let in_force =
            a.removed_at.is_none() && a.valid_from <= day && a.valid_to.is_none_or(|to| to >= day);
        Self {
            id: a.id,
            personal_code: a.person,
            role: a.role,
            awarding_body_id: a.awarding_body_id,
            partner_code: a.partner_code,
            valid_from: a.valid_from,
            valid_to: a.valid_to,
            reason: a.reason,
            appointed_by: a.appointed_by,
            appointed_at: a.appointed_at,
            in_force,
            removed_at: a.removed_at,
            removed_by: a.removed_by,
            removal_reason: a.removal_reason,
        }
    }
}

fn appoint_refused(e: &AppointError) -> ApiError {
    match e.field() {
        Some(field) => ApiError::invalid(field, e.to_string()),
        None => ApiError::Forbidden(e.to_string()),
    }
}

async fn appoint(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    PathId(body): PathId,
    key: IdempotencyKey,
    Json(input): Json<NewAppointment>,
) -> Result<Response, ApiError> {
    let mut errors = Vec::new();
    let person = Isikukood::parse(input.personal_code.trim())
        .map_err(|e| errors.push(FieldError::new("personal_code", e.to_string())))
        .ok();
    let role = Role::parse(&input.role)
        .ok_or_else(|| {
            errors.push(FieldError::new(
                "role",
                "one of body_administrator, awarding_body_staff, assessor, committee_member, committee_chair, partner",
            ));
        })
        .ok();
    let reason = reason(&input.reason, "reason")
        .map_err(|_| errors.push(FieldError::new("reason", "must be 1-500 characters")))
        .ok();
    let (Some(person), Some(role), Some(reason)) = (person, role, reason) else {
        return Err(ApiError::Invalid(errors));
    };
    let person = person.to_string();
    let partner_code = input.partner_code.as_deref().map(str::trim);
    let appointment = Appointment {
        person: &person,
        role,
        awarding_body_id: body,
        partner_code,
        valid_from: input.valid_from.unwrap_or_else(today),
        valid_to: input.valid_to,
    };
    registry::may_appoint(&principal, &appointment).map_err(|e| appoint_refused(&e))?;
    let by = actor(&principal, acting_role(&principal, role, Some(body)))?;

    let scope = key.scope(
        &principal.subject,
        "POST /awarding-bodies/{id}/appointments",
        &input,
    );
    let mut tx = state.pool.begin().await?;
    if let Some(response) = replayed(idempotency::replay(&mut tx, scope.as_ref()).await?) {
        return Ok(response);
    }
    db::awarding_bodies::lock(&mut tx, body)
        .await?
        .ok_or_else(|| ApiError::NotFound("awarding body".to_owned()))?;
    if let Some(code) = partner_code
        && !db::partners::in_force(&mut tx, body, code).await?
    {
        return Err(ApiError::invalid(
            "partner_code",
            "no partner organisation of this body in force has this registry code",
        ));
    }
    if role == Role::CommitteeChair
        && db::appointments::chair_overlapping(
            &mut tx,
            body,
            appointment.valid_from,
            appointment.valid_to,
        )
        .await?
    {
        return Err(ApiError::Conflict(
            "the body's committee has a chair in these dates; end that appointment first"
                .to_owned(),
        ));
    }
    let row = db::appointments::insert(
        &mut tx,
        &db::appointments::NewAppointment {
            id: Uuid::now_v7(),
            person: &person,
            role: role.as_str(),
            awarding_body_id: Some(body),
            partner_code,
            valid_from: appointment.valid_from,
            valid_to: appointment.valid_to,
            reason: &reason,
            appointed_by: &by,
        },
    )
    .await?;
    let event = RoleAppointed {
        appointment_id: row.id,
        person: Isikukood::parse(&row.person).map_err(|e| ApiError::Internal(e.into()))?,
        role: row.role.clone(),
        awarding_body_id: body,
        partner_code: row.partner_code.clone(),
        valid_from: row.valid_from,
        valid_to: row.valid_to,
    };
    let envelope = Envelope::new(&event, None).map_err(|e| ApiError::Internal(e.into()))?;
    kutse_messaging::Outbox::enqueue(&mut tx, &envelope).await?;
    let id = row.id;
    let response = created(&mut tx, scope.as_ref(), &AppointmentView::from(row)).await?;
    tx.commit().await?;
    tracing::info!(appointment = %id, role = role.as_str(), awarding_body = %body, "appointed");
    Ok(response)
}

async fn body_appointments(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    PathId(body): PathId,
) -> Result<Json<Vec<AppointmentView>>, ApiError> {
    require_registry_reader(&principal, body)?;
    let mut conn = state.pool.acquire().await?;
    let rows = db::appointments::of_body(&mut conn, body).await?;
    Ok(Json(rows.into_iter().map(AppointmentView::from).collect()))
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct Removal {
    reason: String,
}

async fn remove(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    PathId(id): PathId,
    Json(input): Json<Removal>,
) -> Result<Json<AppointmentView>, ApiError> {
    let reason = reason(&input.reason, "reason")?;
    let mut tx = state.pool.begin().await?;
    let not_found = || ApiError::NotFound("appointment".to_owned());
    let row = db::appointments::lock(&mut tx, id)
        .await?
        .ok_or_else(not_found)?;
    let role = Role::parse(&row.role)
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("stored role {:?}", row.role)))?;
    if !registry::may_remove(&principal, role, row.awarding_body_id) {
        return Err(not_found());
    }
    if row.appointed_by == "configuration" {
        return Err(ApiError::Conflict(
            "the authority's people come from AUTHORITY_PERSONAL_CODES: change the configuration"
                .to_owned(),
        ));
    }
    let by = actor(
        &principal,
        acting_role(&principal, role, row.awarding_body_id),
    )?;
    let row = db::appointments::remove(&mut tx, id, &by, &reason)
        .await?
        .ok_or_else(|| ApiError::Conflict("the appointment has already ended".to_owned()))?;
    announce_removal(&mut tx, &row, &reason).await?;
    tx.commit().await?;
    tracing::info!(appointment = %id, role = role.as_str(), "appointment ended");
    Ok(Json(row.into()))
}

/// Publishes `role.removed` for an ended appointment of a body (the authority's are not announced).
async fn announce_removal(
    tx: &mut sqlx::PgConnection,
    row: &db::appointments::Appointment,
    reason: &str,
) -> Result<(), ApiError> {
    let Some(body) = row.awarding_body_id else {
        return Ok(());
    };
    let event = RoleRemoved {
        appointment_id: row.id,
        person: Isikukood::parse(&row.person).map_err(|e| ApiError::Internal(e.into()))?,
        role: row.role.clone(),
        awarding_body_id: body,
        removed_at: row.removed_at.unwrap_or_else(Utc::now),
        reason: reason.to_owned(),
    };
    let envelope = Envelope::new(&event, None).map_err(|e| ApiError::Internal(e.into()))?;
    kutse_messaging::Outbox::enqueue(tx, &envelope).await?;
    Ok(())
}

#[derive(Debug, Deserialize)]
struct PersonQuery {
    person: Option<String>,
}

async fn all_appointments(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    Query(query): Query<PersonQuery>,
) -> Result<Json<Vec<AppointmentView>>, ApiError> {
    principal.require(Role::Authority)?;
    let person = query
        .person
        .as_deref()
        .map(|p| {
            Isikukood::parse(p.trim())
                .map(|c| c.to_string())
                .map_err(|e| ApiError::invalid("person", e.to_string()))
        })
        .transpose()?;
    let mut conn = state.pool.acquire().await?;
    let rows = db::appointments::all(&mut conn, person.as_deref(), 1000).await?;
    Ok(Json(rows.into_iter().map(AppointmentView::from).collect()))
}

/// A role the caller holds, as they see it.
#[derive(Debug, Serialize)]
struct MyRole {
    role: String,
    awarding_body_id: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    partner_code: Option<String>,
    valid_from: NaiveDate,
    valid_to: Option<NaiveDate>,
}

async fn my_appointments(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
) -> Result<Json<Vec<MyRole>>, ApiError> {
    let code = principal.person()?.to_string();
    let mut conn = state.pool.acquire().await?;
    let held = db::appointments::held(&mut conn, &code, today(), None).await?;
    Ok(Json(
        held.into_iter()
            .map(|a| MyRole {
                role: a.role,
                awarding_body_id: a.awarding_body_id,
                partner_code: a.partner_code,
                valid_from: a.valid_from,
                valid_to: a.valid_to,
            })
            .collect(),
    ))
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct NewPartner {
    registry_code: String,
    name: String,
}

#[derive(Debug, Serialize)]
struct PartnerView {
    awarding_body_id: Uuid,
    registry_code: String,
    name: String,
    authorised_by: String,
    authorised_at: DateTime<Utc>,
    in_force: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    withdrawn_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    withdrawal_reason: Option<String>,
}

impl From<db::partners::Partner> for PartnerView {
    fn from(p: db::partners::Partner) -> Self {
        Self {
            awarding_body_id: p.awarding_body_id,
            registry_code: p.registry_code,
            name: p.name,
            authorised_by: p.authorised_by,
            authorised_at: p.authorised_at,
            in_force: p.withdrawn_at.is_none(),
            withdrawn_at: p.withdrawn_at,
            withdrawal_reason: p.withdrawal_reason,
        }
    }
}

fn require_administrator(principal: &Principal, body: Uuid) -> Result<(), ApiError> {
    if principal.acts_for(Role::BodyAdministrator, body) {
        Ok(())
    } else {
        Err(ApiError::Forbidden(
            "only an administrator of the awarding body may do this".to_owned(),
        ))
    }
}

/// An Estonian business registry code: 8 digits.
fn registry_code(value: &str) -> Result<String, ApiError> {
    let value = value.trim();
    if value.len() == 8 && value.bytes().all(|b| b.is_ascii_digit()) {
        Ok(value.to_owned())
    } else {
        Err(ApiError::invalid(
            "registry_code",
            "an Estonian business registry code: 8 digits",
        ))
    }
}

async fn authorise_partner(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    PathId(body): PathId,
    Json(input): Json<NewPartner>,
) -> Result<(StatusCode, Json<PartnerView>), ApiError> {
    require_administrator(&principal, body)?;
    let code = registry_code(&input.registry_code)?;
    let name = input.name.trim();
    if name.is_empty() || name.chars().count() > 300 {
        return Err(ApiError::invalid("name", "must be 1-300 characters"));
    }
    let by = actor(&principal, Role::BodyAdministrator)?;
    let mut tx = state.pool.begin().await?;
    let partner = db::partners::authorise(&mut tx, body, &code, name, &by)
        .await?
        .ok_or_else(|| {
            ApiError::Conflict("this partner organisation is authorised already".to_owned())
        })?;
    tx.commit().await?;
    tracing::info!(awarding_body = %body, partner = code.as_str(), "partner authorised");
    Ok((StatusCode::CREATED, Json(partner.into())))
}

async fn partners(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    PathId(body): PathId,
) -> Result<Json<Vec<PartnerView>>, ApiError> {
    require_registry_reader(&principal, body)?;
    let mut conn = state.pool.acquire().await?;
    let rows = db::partners::of_body(&mut conn, body).await?;
    Ok(Json(rows.into_iter().map(PartnerView::from).collect()))
}

async fn withdraw_partner(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    Path((body, code)): Path<(String, String)>,
    Json(input): Json<Removal>,
) -> Result<Json<PartnerView>, ApiError> {
    let not_found = || ApiError::NotFound("partner".to_owned());
    let body: Uuid = body.parse().map_err(|_| not_found())?;
    require_administrator(&principal, body)?;
    let reason = reason(&input.reason, "reason")?;
    let by = actor(&principal, Role::BodyAdministrator)?;
    let mut tx = state.pool.begin().await?;
    let partner = db::partners::withdraw(&mut tx, body, &code, &by, &reason)
        .await?
        .ok_or_else(not_found)?;
    // Its people's roles end with it.
    let why = format!("the partner's authorisation was withdrawn: {reason}");
    for appointment in db::appointments::of_partner(&mut tx, body, &code).await? {
        if let Some(ended) = db::appointments::remove(&mut tx, appointment.id, &by, &why).await? {
            announce_removal(&mut tx, &ended, &why).await?;
        }
    }
    tx.commit().await?;
    tracing::info!(awarding_body = %body, partner = code.as_str(), "partner authorisation withdrawn");
    Ok(Json(partner.into()))
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct NewClient {
    name: String,
    #[serde(default)]
    roles: Vec<String>,
    #[serde(default)]
    broker_user: Option<String>,
}

#[derive(Debug, Serialize)]
struct ClientView {
    client_id: Uuid,
    awarding_body_id: Uuid,
    name: String,
    roles: Vec<String>,
    broker_user: Option<String>,
    registered_by: String,
    registered_at: DateTime<Utc>,
    in_force: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    revoked_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    revocation_reason: Option<String>,
    /// Shown once, when the client is registered; only its hash is kept.
    #[serde(skip_serializing_if = "Option::is_none")]
    client_secret: Option<String>,
}

impl From<db::clients::Client> for ClientView {
    fn from(c: db::clients::Client) -> Self {
        Self {
            client_id: c.id,
            awarding_body_id: c.awarding_body_id,
            name: c.name,
            roles: c.roles,
            broker_user: c.broker_user,
            registered_by: c.registered_by,
            registered_at: c.registered_at,
            in_force: c.revoked_at.is_none(),
            revoked_at: c.revoked_at,
            revocation_reason: c.revocation_reason,
            client_secret: None,
        }
    }
}

async fn register_client(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    PathId(body): PathId,
    Json(input): Json<NewClient>,
) -> Result<(StatusCode, Json<ClientView>), ApiError> {
    require_administrator(&principal, body)?;
    let name = input.name.trim();
    if name.is_empty() || name.chars().count() > 300 {
        return Err(ApiError::invalid("name", "must be 1-300 characters"));
    }
    let mut roles = Vec::new();
    for (i, role) in input.roles.iter().enumerate() {
        match Role::parse(role) {
            Some(role) if registry::CLIENT_ROLES.contains(&role) => {
                roles.push(role.as_str().to_owned());
            }
            _ => {
                return Err(ApiError::invalid(
                    format!("roles[{i}]"),
                    "a machine client may hold only awarding_body_staff",
                ));
            }
        }
    }
    let broker_user = input.broker_user.as_deref().map(str::trim);
    if broker_user.is_some_and(|u| {
        u.is_empty() || u.len() > 100 || !u.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    }) {
        return Err(ApiError::invalid(
            "broker_user",
            "a RabbitMQ user name: letters, digits and -",
        ));
    }
    let by = actor(&principal, Role::BodyAdministrator)?;
    let mut secret = [0u8; 32];
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut secret);
    let secret = base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, secret);
    let mut tx = state.pool.begin().await?;
    db::awarding_bodies::lock(&mut tx, body)
        .await?
        .ok_or_else(|| ApiError::NotFound("awarding body".to_owned()))?;
    let client = db::clients::insert(
        &mut tx,
        &db::clients::NewClient {
            id: Uuid::now_v7(),
            awarding_body_id: body,
            name,
            roles: &roles,
            secret_sha256: &super::oauth::secret_hash(&secret),
            broker_user,
            registered_by: &by,
        },
    )
    .await?;
    tx.commit().await?;
    tracing::info!(client = %client.id, awarding_body = %body, "machine client registered");
    let mut view = ClientView::from(client);
    view.client_secret = Some(secret);
    Ok((StatusCode::CREATED, Json(view)))
}

async fn clients(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    PathId(body): PathId,
) -> Result<Json<Vec<ClientView>>, ApiError> {
    require_registry_reader(&principal, body)?;
    let mut conn = state.pool.acquire().await?;
    let rows = db::clients::of_body(&mut conn, body).await?;
    Ok(Json(rows.into_iter().map(ClientView::from).collect()))
}

async fn revoke_client(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    PathId(id): PathId,
    Json(input): Json<Removal>,
) -> Result<Json<ClientView>, ApiError> {
    let reason = reason(&input.reason, "reason")?;
    let not_found = || ApiError::NotFound("client".to_owned());
    let mut tx = state.pool.begin().await?;
    let client = db::clients::find(&mut tx, id)
        .await?
        .ok_or_else(not_found)?;
    if !(principal.has_role(Role::Authority)
        || principal.acts_for(Role::BodyAdministrator, client.awarding_body_id))
    {
        return Err(not_found());
    }
    let by = actor(
        &principal,
        acting_role(
            &principal,
            Role::AwardingBodyStaff,
            Some(client.awarding_body_id),
        ),
    )?;
    let client = db::clients::revoke(&mut tx, id, &by, &reason)
        .await?
        .ok_or_else(|| ApiError::Conflict("the client is already revoked".to_owned()))?;
    tx.commit().await?;
    tracing::info!(client = %id, "machine client revoked");
    Ok(Json(client.into()))
}
