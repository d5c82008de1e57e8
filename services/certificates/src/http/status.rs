//! Revocation, suspension and reinstatement, and the status lists that publish them.
//!
//! ```text
//! valid ──suspend──▶ suspended ──reinstate──▶ valid
//!   │                    │
//!   └──────revoke────────┴──────▶ revoked (final)
//! ```
//!
//! The authority and the issuing body's staff and administrators change a certificate's status,
//! always with a reason; a suspension the authority made only the authority lifts. Each change is recorded (who, in which role, when, why), announced as
//! `certificate.status_changed` (the holder is e-mailed) and shows at once in the verification
//! page, its JSON and the status lists, which are built from the database on every request.

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use kutse_auth::{Authenticated, Principal, Role};
use kutse_http::{ApiError, FieldError, Json};
use kutse_messaging::catalogue::{ApplicantRef, CertificateStatusChanged};
use kutse_messaging::{Envelope, Outbox};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use crate::status_list::Purpose;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(lists))
        .routes(routes!(list))
        .routes(routes!(revoke))
        .routes(routes!(suspend))
        .routes(routes!(reinstate))
}

/// The lists there are, by purpose.
#[utoipa::path(
    get,
    path = "/status",
    tag = "status",
    security(()),
    responses(
        (status = 200, description = "Every status list, with its purpose and URL.", body = StatusLists),
    ),
)]
async fn lists(State(state): State<AppState>) -> Result<Json<StatusLists>, ApiError> {
    let mut conn = state.pool.acquire().await?;
    let lists = crate::db::status::lists(&mut conn).await?;
    let lists = lists
        .into_iter()
        .filter_map(|(purpose, list)| {
            let purpose = Purpose::parse(&purpose)?;
            Some(StatusListRef {
                purpose: purpose.as_str(),
                url: crate::status_list::list_url(&state.public_base_url, purpose, list),
            })
        })
        .collect();
    Ok(Json(StatusLists { lists }))
}

/// The register's status lists.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
struct StatusLists {
    lists: Vec<StatusListRef>,
}

/// One status list.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
struct StatusListRef {
    /// `revocation` or `suspension`.
    #[schema(value_type = String, example = "revocation")]
    purpose: &'static str,
    /// Where the signed list is (`application/vc+jwt`).
    url: String,
}

/// A `BitstringStatusListCredential`, signed as a `vc+jwt` (`application/vc+jwt`).
#[utoipa::path(
    get,
    path = "/status/{purpose}/{list}",
    tag = "status",
    security(()),
    params(
        ("purpose" = String, Path, description = "`revocation` or `suspension`.", example = "revocation"),
        ("list" = String, Path, description = "The list's number, from 1 (written without leading zeros or sign).", example = "1"),
    ),
    responses(
        (status = 200, description = "The status list credential: a compact JWS signed with the register's key, built now from the register (never cached).", content_type = "application/vc+jwt", body = String),
    ),
)]
async fn list(
    State(state): State<AppState>,
    Path((purpose, list)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let not_found = || ApiError::NotFound("status list".to_owned());
    let purpose = Purpose::parse(&purpose).ok_or_else(not_found)?;
    // One URL per list: `1`, never `01` or `+1`.
    let list: i32 = list
        .parse()
        .ok()
        .filter(|n: &i32| *n >= 1 && n.to_string() == list)
        .ok_or_else(not_found)?;
    let mut conn = state.pool.acquire().await?;
    // List 1 of each purpose exists from the start, so verifiers can fetch it before any issue.
    if list != 1 && !crate::db::status::list_exists(&mut conn, purpose, list).await? {
        return Err(not_found());
    }
    let set = crate::db::status::set_indices(&mut conn, purpose, list).await?;
    drop(conn);
    let credential = crate::status_list::list_credential(
        &state.public_base_url,
        purpose,
        list,
        &set,
        Utc::now(),
    );
    let (key, kid) = state.register.current();
    let jwt = kutse_protocol::sign(&credential, key, kid, crate::credential::TYP)
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("signing the status list: {e}")))?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/vc+jwt"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        jwt,
    )
        .into_response())
}

/// Why the status changes.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct Change {
    /// 1-2000 characters; the holder is told it.
    reason: String,
}

/// The change made.
#[derive(Debug, Serialize, ToSchema)]
struct Changed {
    register_number: String,
    /// `valid`, `suspended` or `revoked` (the stored status; expiry is shown by verification).
    status: String,
    /// `revoked`, `suspended` or `reinstated`.
    action: &'static str,
    reason: String,
    changed_at: chrono::DateTime<Utc>,
}

/// Which change, from which statuses, to what.
#[derive(Debug, Clone, Copy)]
enum Action {
    Revoke,
    Suspend,
    Reinstate,
}

impl Action {
    fn recorded(self) -> &'static str {
        match self {
            Action::Revoke => "revoked",
            Action::Suspend => "suspended",
            Action::Reinstate => "reinstated",
        }
    }

    fn target(self) -> &'static str {
        match self {
            Action::Revoke => "revoked",
            Action::Suspend => "suspended",
            Action::Reinstate => "valid",
        }
    }

    /// Why the change cannot be made from `status`, if it cannot.
    fn refused_from(self, status: &str) -> Option<&'static str> {
        match (self, status) {
            (_, "revoked") => Some("the certificate is revoked; revocation is final"),
            (Action::Suspend, "suspended") => Some("the certificate is already suspended"),
            (Action::Reinstate, "valid") => Some("the certificate is not suspended"),
            _ => None,
        }
    }
}

/// Revokes a certificate (final), with a reason: the authority or the issuing body's staff and
/// administrators.
#[utoipa::path(
    post,
    path = "/certificates/{number}/revocation",
    tag = "status",
    params(("number" = String, Path, description = "The certificate's register number.", example = "KT-2026-000001")),
    request_body = Change,
    responses(
        (status = 200, description = "Revoked; the holder is told.", body = Changed),
    ),
)]
async fn revoke(
    state: State<AppState>,
    principal: Authenticated,
    number: Path<String>,
    input: Json<Change>,
) -> Result<Json<Changed>, ApiError> {
    change(state, principal, number, input, Action::Revoke).await
}

/// Suspends a certificate, with a reason: the authority or the issuing body's staff and
/// administrators.
#[utoipa::path(
    post,
    path = "/certificates/{number}/suspension",
    tag = "status",
    params(("number" = String, Path, description = "The certificate's register number.", example = "KT-2026-000001")),
    request_body = Change,
    responses(
        (status = 200, description = "Suspended; the holder is told.", body = Changed),
    ),
)]
async fn suspend(
    state: State<AppState>,
    principal: Authenticated,
    number: Path<String>,
    input: Json<Change>,
) -> Result<Json<Changed>, ApiError> {
    change(state, principal, number, input, Action::Suspend).await
}

/// Lifts a suspension, with a reason; a suspension the authority made only the authority lifts.
#[utoipa::path(
    post,
    path = "/certificates/{number}/reinstatement",
    tag = "status",
    params(("number" = String, Path, description = "The certificate's register number.", example = "KT-2026-000001")),
    request_body = Change,
    responses(
        (status = 200, description = "Valid again; the holder is told.", body = Changed),
    ),
)]
async fn reinstate(
    state: State<AppState>,
    principal: Authenticated,
    number: Path<String>,
    input: Json<Change>,
) -> Result<Json<Changed>, ApiError> {
    change(state, principal, number, input, Action::Reinstate).await
}

/// The role in which the caller may change the status of a certificate of `body`, if any.
fn changer(principal: &Principal, body: uuid::Uuid) -> Option<Role> {
    [
        Role::Authority,
        Role::BodyAdministrator,
        Role::AwardingBodyStaff,
    ]
    .into_iter()
    .find(|role| match role {
        Role::Authority => principal.has_role(Role::Authority),
        role => principal.acts_for(*role, body),
    })
}

async fn change(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    Path(number): Path<String>,
    Json(input): Json<Change>,
    action: Action,
) -> Result<Json<Changed>, ApiError> {
    let reason = input.reason.trim();
    if reason.is_empty() || reason.chars().count() > 2000 {
        return Err(ApiError::Invalid(vec![FieldError::new(
            "reason",
            "a reason is required (1-2000 characters)",
        )]));
    }
    let (document, _) = super::certificates::sealed(&state, &number).await?;
    let Some(role) = changer(&principal, document.awarding_body_id) else {
        // The holder and others learn nothing more than the public page says.
        return Err(ApiError::Forbidden(
            "only the authority or the issuing body's staff change a certificate's status"
                .to_owned(),
        ));
    };
    let mut tx = state.pool.begin().await?;
    let stored = crate::db::outcomes::lock_by_number(&mut tx, &number)
        .await?
        .ok_or_else(|| ApiError::NotFound("certificate".to_owned()))?;
    if let Some(why) = action.refused_from(&stored.status) {
        return Err(ApiError::Conflict(why.to_owned()));
    }
    // What the authority suspended, only the authority lifts.
    if matches!(action, Action::Reinstate)
        && role != Role::Authority
        && crate::db::status::last_suspended_by(&mut tx, stored.id)
            .await?
            .as_deref()
            == Some(Role::Authority.as_str())
    {
        return Err(ApiError::Forbidden(
            "the authority suspended this certificate; only the authority reinstates it".to_owned(),
        ));
    }
    let applicant = crate::db::applications::applicant(&mut tx, stored.contact_application_id)
        .await?
        .ok_or_else(|| {
            ApiError::Internal(anyhow::anyhow!(
                "certificate {number}: the application's submission is missing"
            ))
        })?;
    let holder: ApplicantRef =
        serde_json::from_value(applicant).map_err(|e| ApiError::Internal(e.into()))?;
    let changed_at = crate::db::status::change(
        &mut tx,
        &crate::db::status::Change {
            certificate_id: stored.id,
            action: action.recorded(),
            status: action.target(),
            reason,
            actor: &principal.subject,
            actor_role: role.as_str(),
        },
    )
    .await?;
    let event = CertificateStatusChanged {
        certificate_id: stored.id,
        register_number: number.clone(),
        action: action.recorded().to_owned(),
        status: action.target().to_owned(),
        reason: reason.to_owned(),
        changed_at,
        changed_by: if role == Role::Authority {
            "authority".to_owned()
        } else {
            "awarding_body".to_owned()
        },
        holder,
        qualification: document.qualification,
        verification_url: format!("{}/certificates/{number}", state.public_base_url),
    };
    let envelope = Envelope::new(&event, Some(stored.application_id))
        .map_err(|e| ApiError::Internal(e.into()))?;
    Outbox::enqueue(&mut tx, &envelope).await?;
    tx.commit().await?;
    tracing::info!(
        register_number = number.as_str(),
        action = action.recorded(),
        role = role.as_str(),
        "certificate status changed"
    );
    Ok(Json(Changed {
        register_number: number,
        status: action.target().to_owned(),
        action: action.recorded(),
        reason: reason.to_owned(),
        changed_at,
    }))
}
