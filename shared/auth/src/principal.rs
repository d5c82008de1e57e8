//! The authenticated caller.

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use kutse_domain::Isikukood;
use kutse_http::ApiError;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::verifier::Verifier;

/// What a caller may act as. Every person may act as an applicant; the other roles are held in
/// the register (intake's role registry) and reach a service through a Kutse access token.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// A person applying for a qualification.
    Applicant,
    /// An organisation authorised by an awarding body to submit applications.
    Partner,
    /// An awarding body's administrator: appoints its staff, assessors, committee and partners,
    /// and registers its machine clients. Appointed by the authority.
    BodyAdministrator,
    /// Staff of an awarding body: rounds, sessions, the body's applications.
    AwardingBodyStaff,
    /// A member of an assessment panel.
    Assessor,
    /// A member (or chair) of a qualification committee.
    CommitteeMember,
    /// The chair of a qualification committee, who signs its protocols (also a member).
    CommitteeChair,
    /// The Qualifications Authority (Kutsekoda).
    Authority,
}

impl Role {
    pub const ALL: [Role; 8] = [
        Role::Applicant,
        Role::Partner,
        Role::BodyAdministrator,
        Role::AwardingBodyStaff,
        Role::Assessor,
        Role::CommitteeMember,
        Role::CommitteeChair,
        Role::Authority,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Applicant => "applicant",
            Role::Partner => "partner",
            Role::BodyAdministrator => "body_administrator",
            Role::AwardingBodyStaff => "awarding_body_staff",
            Role::Assessor => "assessor",
            Role::CommitteeMember => "committee_member",
            Role::CommitteeChair => "committee_chair",
            Role::Authority => "authority",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// Who is calling, from a validated Kutse access token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The token's `sub`: `EE38001085718` for a person, the client id for a machine client.
    pub subject: String,
    /// The personal code, when the subject is a person (machine clients have none).
    pub isikukood: Option<Isikukood>,
    /// The client the token was issued to: a portal's TARA client id, or the machine client.
    pub client_id: String,
    pub roles: BTreeSet<Role>,
    /// The awarding body the token acts for (one at a time).
    pub awarding_body_id: Option<Uuid>,
    /// The partner organisation (registry code) a partner's person acts for.
    pub partner: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub email: Option<String>,
}

impl Principal {
    pub fn has_role(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    /// Whether the caller acts for `body` in `role`.
    pub fn acts_for(&self, role: Role, body: Uuid) -> bool {
        self.has_role(role) && self.awarding_body_id == Some(body)
    }

    /// Fails with 403 unless the caller has `role`.
    pub fn require(&self, role: Role) -> Result<(), ApiError> {
        if self.has_role(role) {
            Ok(())
        } else {
            Err(ApiError::Forbidden(format!(
                "requires the {} role",
                role.as_str()
            )))
        }
    }

    /// The caller's name as their login gives it; a machine client's id when it has none.
    pub fn name(&self) -> String {
        match (&self.given_name, &self.family_name) {
            (Some(given), Some(family)) => format!("{given} {family}"),
            (Some(one), None) | (None, Some(one)) => one.clone(),
            (None, None) => self.client_id.clone(),
        }
    }

    /// Whether the caller is the person with personal code `code`.
    pub fn is_person(&self, code: &str) -> bool {
        self.isikukood.is_some_and(|own| own.to_string() == code)
    }

    /// The caller's personal code, or 403 for a subject that is not an Estonian person.
    pub fn person(&self) -> Result<Isikukood, ApiError> {
        self.isikukood.ok_or_else(|| {
            ApiError::Forbidden("the token's subject is not an Estonian personal code".to_owned())
        })
    }
}

/// Extractor: the validated caller, or a 401 problem document.
#[derive(Debug, Clone)]
pub struct Authenticated(pub Principal);

impl<S> FromRequestParts<S> for Authenticated
where
    Arc<Verifier>: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let verifier = Arc::<Verifier>::from_ref(state);
        let header = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .ok_or_else(|| ApiError::Unauthorized("no Authorization header".to_owned()))?;
        let token = header
            .to_str()
            .ok()
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                ApiError::Unauthorized("Authorization must be `Bearer <token>`".to_owned())
            })?;
        let principal = verifier
            .verify(token)
            .await
            .map_err(|e| ApiError::Unauthorized(e.to_string()))?;
        Ok(Authenticated(principal))
    }
}
