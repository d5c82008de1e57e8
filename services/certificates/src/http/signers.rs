//! Signer keys of committee chairs: registered by the authority, or proposed by a body's staff
//! and confirmed by their owner; revoked with a reason and an effective time; listed for audit.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::post;
use chrono::{DateTime, Utc};
use kutse_auth::{Authenticated, Principal, Role};
use kutse_domain::Isikukood;
use kutse_http::{ApiError, FieldError, Json};
use kutse_messaging::catalogue::{SignerKeyActivated, SignerKeyRevoked};
use kutse_messaging::{Envelope, Outbox};
use serde::{Deserialize, Serialize};
use sqlx::{PgConnection, Row};
use uuid::Uuid;

use super::AppState;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/register/signers", post(register_signer).get(list_signers))
        .route("/register/signers/{kid}/confirmation", post(confirm_signer))
        .route("/register/signers/{kid}/revocation", post(revoke_signer))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewSigner {
    kid: String,
    awarding_body_id: Uuid,
    /// The committee chair the key belongs to: `EE` and the personal code (or the code alone).
    owner: String,
    /// Ed25519 public key, base64url (32 bytes).
    public_key: String,
}

/// A signer key as the register lists it.
#[derive(Debug, Serialize)]
struct SignerView {
    kid: String,
    awarding_body_id: Uuid,
    /// `EE…`; shown to the authority and the body's staff only.
    #[serde(skip_serializing_if = "Option::is_none")]
    owner: Option<String>,
    public_key: String,
    /// `proposed` (waits for its owner), `active` or `revoked`.
    status: String,
    registered_at: DateTime<Utc>,
    activated_at: Option<DateTime<Utc>>,
    revoked_at: Option<DateTime<Utc>>,
    revocation_reason: Option<String>,
}

const SIGNER_COLUMNS: &str = "kid, awarding_body_id, owner, public_key, status, registered_at, activated_at, revoked_at, revocation_reason";

fn signer_view(row: &sqlx::postgres::PgRow, show_owner: bool) -> SignerView {
    SignerView {
        kid: row.get("kid"),
        awarding_body_id: row.get("awarding_body_id"),
        owner: show_owner
            .then(|| {
                row.get::<Option<String>, _>("owner")
                    .map(|o| format!("EE{o}"))
            })
            .flatten(),
        public_key: row.get("public_key"),
        status: row.get("status"),
        registered_at: row.get("registered_at"),
        activated_at: row.get("activated_at"),
        revoked_at: row.get("revoked_at"),
        revocation_reason: row.get("revocation_reason"),
    }
}

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
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO signer_keys (kid, awarding_body_id, public_key, owner, registered_by, status, activated_at, confirmed_by)
         VALUES ($1, $2, $3, $4, $5, $6, CASE WHEN $6 = 'active' THEN now() END, CASE WHEN $6 = 'active' THEN $5 END)
         RETURNING {SIGNER_COLUMNS}"
    )))
    .bind(kid)
    .bind(input.awarding_body_id)
    .bind(input.public_key.trim())
    .bind(owner.to_string())
    .bind(&principal.subject)
    .bind(if by_authority { "active" } else { "proposed" })
    .fetch_one(&mut *tx)
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
async fn announce_activation(
    conn: &mut PgConnection,
    row: &sqlx::postgres::PgRow,
) -> Result<(), ApiError> {
    let owner: String = row.get("owner");
    let event = SignerKeyActivated {
        kid: row.get("kid"),
        awarding_body_id: row.get("awarding_body_id"),
        owner: Isikukood::parse(&owner)
            .map_err(|e| ApiError::Internal(anyhow::anyhow!("stored owner: {e}")))?,
        public_key: row.get("public_key"),
        activated_at: row
            .get::<Option<DateTime<Utc>>, _>("activated_at")
            .unwrap_or_else(Utc::now),
    };
    let envelope = Envelope::new(&event, None).map_err(|e| ApiError::Internal(e.into()))?;
    Outbox::enqueue(conn, &envelope)
        .await
        .map_err(ApiError::from)
}

/// The key `kid`, locked, for a change.
async fn signer_for_update(
    conn: &mut PgConnection,
    kid: &str,
) -> Result<sqlx::postgres::PgRow, ApiError> {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {SIGNER_COLUMNS} FROM signer_keys WHERE kid = $1 FOR UPDATE"
    )))
    .bind(kid)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(|| ApiError::NotFound("signer key".to_owned()))
}

fn is_owner(principal: &Principal, row: &sqlx::postgres::PgRow) -> bool {
    let owner: Option<String> = row.get("owner");
    principal.isikukood.map(|c| c.to_string()) == owner && owner.is_some()
}

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
    let registered_by: String =
        sqlx::query_scalar("SELECT registered_by FROM signer_keys WHERE kid = $1")
            .bind(&kid)
            .fetch_one(&mut *tx)
            .await?;
    if registered_by == principal.subject {
        return Err(ApiError::Forbidden(
            "a key's owner cannot confirm a key they proposed themselves; the authority registers it".to_owned(),
        ));
    }
    if !principal.acts_for(Role::CommitteeMember, row.get("awarding_body_id")) {
        return Err(ApiError::Forbidden(
            "the key's owner confirms it as a committee member of its body".to_owned(),
        ));
    }
    let status: String = row.get("status");
    if status != "proposed" {
        return Err(ApiError::Conflict(format!("the key is already {status}")));
    }
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE signer_keys SET status = 'active', activated_at = now(), confirmed_by = $2
          WHERE kid = $1 RETURNING {SIGNER_COLUMNS}"
    )))
    .bind(&kid)
    .bind(&principal.subject)
    .fetch_one(&mut *tx)
    .await?;
    announce_activation(&mut tx, &row).await?;
    tx.commit().await?;
    tracing::info!(kid, "signer key confirmed by its owner");
    Ok(Json(signer_view(&row, true)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Revocation {
    reason: String,
    /// From when protocols signed with the key issue nothing; now when omitted. May be in the
    /// past (the key was lost earlier), not in the future.
    #[serde(default)]
    effective_at: Option<DateTime<Utc>>,
}

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
    if row.get::<String, _>("status") == "revoked" {
        return Err(ApiError::Conflict("the key is already revoked".to_owned()));
    }
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE signer_keys SET status = 'revoked', revoked_at = $2, revoked_by = $3, revocation_reason = $4
          WHERE kid = $1 RETURNING {SIGNER_COLUMNS}"
    )))
    .bind(&kid)
    .bind(effective_at)
    .bind(&principal.subject)
    .bind(reason)
    .fetch_one(&mut *tx)
    .await?;
    let event = SignerKeyRevoked {
        kid: kid.clone(),
        awarding_body_id: row.get("awarding_body_id"),
        effective_at,
        reason: reason.to_owned(),
    };
    let envelope = Envelope::new(&event, None).map_err(|e| ApiError::Internal(e.into()))?;
    Outbox::enqueue(&mut tx, &envelope).await?;
    tx.commit().await?;
    tracing::info!(kid, %effective_at, "signer key revoked");
    Ok(Json(signer_view(&row, true)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SignerQuery {
    awarding_body_id: Uuid,
}

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
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {SIGNER_COLUMNS} FROM signer_keys WHERE awarding_body_id = $1 ORDER BY registered_at"
    )))
    .bind(body)
    .fetch_all(&state.pool)
    .await?;
    Ok(Json(
        rows.iter().map(|r| signer_view(r, sees_owner)).collect(),
    ))
}
