//! Signer keys of committee chairs: registered by the authority, or proposed by a body's staff
//! and confirmed by their owner; revoked with a reason and an effective time; listed for audit.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use kutse_auth::{Authenticated, Principal, Role};
use kutse_domain::Isikukood;
use kutse_http::{ApiError, FieldError, Json};
use kutse_messaging::catalogue::{SignerKeyActivated, SignerKeyRevoked};
use kutse_messaging::{Envelope, Outbox};
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::AppState;
use crate::db::{self, signer_keys::SignerKey};
use crate::domain::SignerStatus;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(register_signer, list_signers))
        .routes(routes!(confirm_signer))
        .routes(routes!(revoke_signer))
}

/// A committee chair's public key, for the register to verify their protocols with.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct NewSigner {
    /// The key's id (1-100 characters), as the chair's protocols name it.
    kid: String,
    awarding_body_id: Uuid,
    /// The committee chair the key belongs to: `EE` and the personal code (or the code alone).
    owner: String,
    /// Ed25519 public key, base64url (32 bytes).
    public_key: String,
}

/// A signer key as the register lists it.
#[derive(Debug, Serialize, ToSchema)]
struct SignerView {
    kid: String,
    awarding_body_id: Uuid,
    /// `EE…`; shown to the authority and the body's staff only.
    #[serde(skip_serializing_if = "Option::is_none")]
    owner: Option<String>,
    public_key: String,
    /// `proposed` (waits for its owner), `active` or `revoked`.
    status: SignerStatus,
    registered_at: DateTime<Utc>,
    activated_at: Option<DateTime<Utc>>,
    revoked_at: Option<DateTime<Utc>>,
    revocation_reason: Option<String>,
}

fn signer_view(key: &SignerKey, show_owner: bool) -> SignerView {
    SignerView {
        kid: key.kid.clone(),
        awarding_body_id: key.awarding_body_id,
        owner: show_owner
            .then(|| key.owner.as_ref().map(|o| format!("EE{o}")))
            .flatten(),
        public_key: key.public_key.clone(),
        status: key.status,
        registered_at: key.registered_at,
        activated_at: key.activated_at,
        revoked_at: key.revoked_at,
        revocation_reason: key.revocation_reason.clone(),
    }
}

/// Registers a committee chair's public key: active at once when the authority registers it,
/// proposed (waiting for its owner's confirmation) when the body's staff do.
#[utoipa::path(
    post,
    path = "/register/signers",
    tag = "signers",
    request_body = NewSigner,
    responses(
        (status = 201, description = "Registered: `active` (by the authority) or `proposed` (by the body's staff).", body = SignerView),
    ),
)]
async fn register_signer(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    Json(input): Json<NewSigner>,
) -> Result<(StatusCode, Json<SignerView>), ApiError> {
    let by_authority = principal.has_role(Role::Authority);
    if !(by_authority || principal.acts_for(Role::AwardingBodyStaff, input.awarding_body_id)) {
        return Err(ApiError::Forbidden(
            "only the authority or the body's staff register signer keys".to_owned(),
        ));
    }
    let mut errors = Vec::new();
    let kid = input.kid.trim();
    if kid.is_empty() || kid.len() > 100 {
        errors.push(FieldError::new("kid", "must be 1-100 characters"));
    }
    let owner = Isikukood::from_subject(input.owner.trim());
    if let Err(e) = &owner {
        errors.push(FieldError::new(
            "owner",
            format!("must be the chair's personal code (EE…): {e}"),
        ));
    }
    if let Err(e) = kutse_protocol::verifying_key(&input.public_key) {
        errors.push(FieldError::new("public_key", e));
    }
    let Ok(owner) = owner else {
        return Err(ApiError::Invalid(errors));
    };
    if !errors.is_empty() {
        return Err(ApiError::Invalid(errors));
    }
    let mut tx = state.pool.begin().await?;
    let owner = owner.to_string();
    let row = db::signer_keys::insert(
        &mut tx,
        &db::signer_keys::NewKey {
            kid,
            awarding_body_id: input.awarding_body_id,
            public_key: input.public_key.trim(),
            owner: &owner,
            registered_by: &principal.subject,
            active: by_authority,
        },
    )
    .await
    .map_err(|e| match e {
        sqlx::Error::Database(d) if d.is_unique_violation() => {
            ApiError::Conflict(format!("a signer key {kid} is already registered"))
        }
        other => other.into(),
    })?;
    if by_authority {
        announce_activation(&mut tx, &row).await?;
    }
    tx.commit().await?;
    tracing::info!(kid, body = %input.awarding_body_id, by_authority, "signer key registered");
    Ok((StatusCode::CREATED, Json(signer_view(&row, true))))
}

/// Tells the services that check signatures (the committee) that a key may now sign.
async fn announce_activation(conn: &mut PgConnection, key: &SignerKey) -> Result<(), ApiError> {
    let owner = key
        .owner
        .as_deref()
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("key {} has no owner", key.kid)))?;
    let event = SignerKeyActivated {
        kid: key.kid.clone(),
        awarding_body_id: key.awarding_body_id,
        owner: Isikukood::parse(owner)
            .map_err(|e| ApiError::Internal(anyhow::anyhow!("stored owner: {e}")))?,
        public_key: key.public_key.clone(),
        activated_at: key.activated_at.unwrap_or_else(Utc::now),
    };
    let envelope = Envelope::new(&event, None).map_err(|e| ApiError::Internal(e.into()))?;
    Outbox::enqueue(conn, &envelope)
        .await
        .map_err(ApiError::from)
}

/// The key `kid`, locked, for a change.
async fn signer_for_update(conn: &mut PgConnection, kid: &str) -> Result<SignerKey, ApiError> {
    db::signer_keys::lock(conn, kid)
        .await?
        .ok_or_else(|| ApiError::NotFound("signer key".to_owned()))
}

fn is_owner(principal: &Principal, key: &SignerKey) -> bool {
    key.owner.is_some() && principal.isikukood.map(|c| c.to_string()) == key.owner
}

/// The key's owner confirms a key the body's staff proposed, with their own login, as a
/// committee member of its body: the key becomes active.
#[utoipa::path(
    post,
    path = "/register/signers/{kid}/confirmation",
    tag = "signers",
    params(("kid" = String, Path, description = "The key's id.")),
    responses(
        (status = 200, description = "Confirmed: the key is `active`.", body = SignerView),
    ),
)]
async fn confirm_signer(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    Path(kid): Path<String>,
) -> Result<Json<SignerView>, ApiError> {
    let mut tx = state.pool.begin().await?;
    let row = signer_for_update(&mut tx, &kid).await?;
    if !is_owner(&principal, &row) {
        return Err(ApiError::Forbidden(
            "only the key's owner confirms it, with their own login".to_owned(),
        ));
    }
    // Two people: whoever proposed the key cannot also confirm it, and the owner must sit on
    // the body's committee.
    if row.registered_by == principal.subject {
        return Err(ApiError::Forbidden(
            "a key's owner cannot confirm a key they proposed themselves; the authority registers it".to_owned(),
        ));
    }
    if !principal.acts_for(Role::CommitteeMember, row.awarding_body_id) {
        return Err(ApiError::Forbidden(
            "the key's owner confirms it as a committee member of its body".to_owned(),
        ));
    }
    if row.status != SignerStatus::Proposed {
        return Err(ApiError::Conflict(format!(
            "the key is already {}",
            row.status.as_str()
        )));
    }
    let row = db::signer_keys::activate(&mut tx, &kid, &principal.subject).await?;
    announce_activation(&mut tx, &row).await?;
    tx.commit().await?;
    tracing::info!(kid, "signer key confirmed by its owner");
    Ok(Json(signer_view(&row, true)))
}

/// Why, and from when, a key is revoked.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct Revocation {
    /// 1-1000 characters.
    reason: String,
    /// From when protocols signed with the key issue nothing; now when omitted. May be in the
    /// past (the key was lost earlier), not in the future.
    #[serde(default)]
    effective_at: Option<DateTime<Utc>>,
}

/// Revokes a key (the authority or the key's owner), from an effective time, with a reason:
/// protocols signed with it that arrive from then on issue nothing.
#[utoipa::path(
    post,
    path = "/register/signers/{kid}/revocation",
    tag = "signers",
    params(("kid" = String, Path, description = "The key's id.")),
    request_body = Revocation,
    responses(
        (status = 200, description = "Revoked: the key is `revoked`.", body = SignerView),
    ),
)]
async fn revoke_signer(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    Path(kid): Path<String>,
    Json(input): Json<Revocation>,
) -> Result<Json<SignerView>, ApiError> {
    let mut errors = Vec::new();
    let reason = input.reason.trim();
    if reason.is_empty() || reason.len() > 1000 {
        errors.push(FieldError::new("reason", "must be 1-1000 characters"));
    }
    let now = Utc::now();
    let effective_at = input.effective_at.unwrap_or(now);
    if effective_at > now + chrono::Duration::seconds(60) {
        errors.push(FieldError::new("effective_at", "must not be in the future"));
    }
    if !errors.is_empty() {
        return Err(ApiError::Invalid(errors));
    }
    let mut tx = state.pool.begin().await?;
    let row = signer_for_update(&mut tx, &kid).await?;
    if !(principal.has_role(Role::Authority) || is_owner(&principal, &row)) {
        return Err(ApiError::Forbidden(
            "only the authority or the key's owner revokes it".to_owned(),
        ));
    }
    if row.status == SignerStatus::Revoked {
        return Err(ApiError::Conflict("the key is already revoked".to_owned()));
    }
    let row =
        db::signer_keys::revoke(&mut tx, &kid, effective_at, &principal.subject, reason).await?;
    let event = SignerKeyRevoked {
        kid: kid.clone(),
        awarding_body_id: row.awarding_body_id,
        effective_at,
        reason: reason.to_owned(),
    };
    let envelope = Envelope::new(&event, None).map_err(|e| ApiError::Internal(e.into()))?;
    Outbox::enqueue(&mut tx, &envelope).await?;
    tx.commit().await?;
    tracing::info!(kid, %effective_at, "signer key revoked");
    Ok(Json(signer_view(&row, true)))
}

/// Whose keys.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct SignerQuery {
    /// The awarding body.
    awarding_body_id: Uuid,
}

/// Every signer key of a body, revoked ones too (the authority, the body's staff and its
/// committee members; only the authority and the staff see each key's owner).
#[utoipa::path(
    get,
    path = "/register/signers",
    tag = "signers",
    params(SignerQuery),
    responses(
        (status = 200, description = "The body's keys.", body = Vec<SignerView>),
    ),
)]
async fn list_signers(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    Query(query): Query<SignerQuery>,
) -> Result<Json<Vec<SignerView>>, ApiError> {
    let body = query.awarding_body_id;
    let sees_owner =
        principal.has_role(Role::Authority) || principal.acts_for(Role::AwardingBodyStaff, body);
    if !(sees_owner || principal.acts_for(Role::CommitteeMember, body)) {
        return Err(ApiError::Forbidden(
            "only the authority and the body's staff and committee see its keys".to_owned(),
        ));
    }
    let mut conn = state.pool.acquire().await?;
    let rows = db::signer_keys::of_body(&mut conn, body).await?;
    Ok(Json(
        rows.iter().map(|r| signer_view(r, sees_owner)).collect(),
    ))
}
