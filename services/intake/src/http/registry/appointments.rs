//! Appointments: made by the authority or a body's administrators, ended with a reason, listed
//! for those who administer them, and each person's own.

use axum::extract::{Query, State};
use axum::response::Response;
use chrono::{DateTime, NaiveDate, Utc};
use kutse_auth::{Authenticated, Role};
use kutse_domain::Isikukood;
use kutse_http::{ApiError, FieldError, Json, PathId};
use kutse_messaging::Envelope;
use kutse_messaging::catalogue::RoleAppointed;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::super::{AppState, created, replayed};
use super::{
    Removal, acting_role, actor, announce_removal, reason, require_registry_reader, today,
};
use crate::db;
use crate::idempotency::{self, IdempotencyKey};
use crate::registry::{self, AppointError, Appointment};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(appoint, body_appointments))
        .routes(routes!(remove))
        .routes(routes!(all_appointments))
        .routes(routes!(my_appointments))
}

/// A new appointment at the body.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct NewAppointment {
    /// The person's personal code (isikukood).
    personal_code: String,
    /// `body_administrator`, `awarding_body_staff`, `assessor`, `committee_member`,
    /// `committee_chair` or `partner`.
    role: String,
    /// Default today.
    #[serde(default)]
    valid_from: Option<NaiveDate>,
    /// Default: open-ended.
    #[serde(default)]
    valid_to: Option<NaiveDate>,
    /// Why, 1-500 characters.
    reason: String,
    /// For a partner's person: the registry code of a partner organisation of the body in force.
    #[serde(default)]
    partner_code: Option<String>,
}

/// An appointment, as the registry keeps it.
#[derive(Debug, Serialize, ToSchema)]
struct AppointmentView {
    id: Uuid,
    /// The person's personal code (isikukood).
    personal_code: String,
    role: String,
    /// `null` for the authority's roles.
    awarding_body_id: Option<Uuid>,
    /// For a partner's person: the partner organisation's registry code.
    #[serde(skip_serializing_if = "Option::is_none")]
    partner_code: Option<String>,
    valid_from: NaiveDate,
    valid_to: Option<NaiveDate>,
    reason: String,
    /// Who appointed: their role and personal code, or `configuration`.
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

/// Appoints a person to a role at the body: the authority (administrators), or the body's
/// administrators (staff, assessors, committee members, chair, partners' people).
#[utoipa::path(
    post,
    path = "/awarding-bodies/{id}/appointments",
    tag = "appointments",
    operation_id = "appoint",
    params(
        ("id" = Uuid, Path, description = "The awarding body."),
        ("Idempotency-Key" = Option<String>, Header, description = "1-255 characters: a retry with the same key and body gets the first response again."),
    ),
    request_body = NewAppointment,
    responses(
        (status = 201, description = "Appointed (also the saved answer when replayed with the same `Idempotency-Key`).", body = AppointmentView),
    ),
)]
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

/// The body's appointments, ended ones too: the authority and the body's administrators.
#[utoipa::path(
    get,
    path = "/awarding-bodies/{id}/appointments",
    tag = "appointments",
    operation_id = "body_appointments",
    params(("id" = Uuid, Path, description = "The awarding body.")),
    responses(
        (status = 200, description = "Every appointment of the body.", body = Vec<AppointmentView>),
    ),
)]
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

/// Ends an appointment now, with a reason: the authority, or the body's administrators for what
/// they appoint.
#[utoipa::path(
    post,
    path = "/appointments/{id}/removal",
    tag = "appointments",
    operation_id = "remove_appointment",
    params(("id" = Uuid, Path, description = "The appointment.")),
    request_body = Removal,
    responses(
        (status = 200, description = "Ended: the appointment as it is now.", body = AppointmentView),
    ),
)]
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

/// Whose appointments to list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct PersonQuery {
    /// A personal code (isikukood): only this person's appointments.
    #[param(value_type = Option<Isikukood>, inline)]
    person: Option<String>,
}

/// Every appointment (at most 1000), or one person's: the authority.
#[utoipa::path(
    get,
    path = "/appointments",
    tag = "appointments",
    operation_id = "all_appointments",
    params(PersonQuery),
    responses(
        (status = 200, description = "The appointments.", body = Vec<AppointmentView>),
    ),
)]
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
#[derive(Debug, Serialize, ToSchema)]
struct MyRole {
    role: String,
    /// `null` for the authority's roles.
    awarding_body_id: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    partner_code: Option<String>,
    valid_from: NaiveDate,
    valid_to: Option<NaiveDate>,
}

/// The roles the caller holds now, per body (for choosing whom to act for): anyone signed in as
/// a person.
#[utoipa::path(
    get,
    path = "/me/appointments",
    tag = "appointments",
    operation_id = "my_appointments",
    responses(
        (status = 200, description = "The caller's roles in force today.", body = Vec<MyRole>),
    ),
)]
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
