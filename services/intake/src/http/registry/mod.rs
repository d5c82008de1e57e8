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
mod appointments;
mod clients;
mod partners;

use chrono::{NaiveDate, Utc};
use kutse_auth::{Principal, Role};
use kutse_domain::Isikukood;
use kutse_http::ApiError;
use kutse_messaging::Envelope;
use kutse_messaging::catalogue::RoleRemoved;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use uuid::Uuid;

use super::AppState;
use crate::{db, registry};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(appointments::router())
        .merge(partners::router())
        .merge(clients::router())
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

fn require_administrator(principal: &Principal, body: Uuid) -> Result<(), ApiError> {
    if principal.acts_for(Role::BodyAdministrator, body) {
        Ok(())
    } else {
        Err(ApiError::Forbidden(
            "only an administrator of the awarding body may do this".to_owned(),
        ))
    }
}

/// Why an appointment, a partner's authorisation or a client is ended.
#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct Removal {
    /// 1-500 characters, kept in the registry.
    reason: String,
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
