//! Machine clients of a body: registered with their roles and a secret shown once, revocable.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use chrono::{DateTime, Utc};
use kutse_auth::{Authenticated, Role};
use kutse_http::{ApiError, Json, PathId};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::super::AppState;
use super::{Removal, acting_role, actor, reason, require_administrator, require_registry_reader};
use crate::{db, registry};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/awarding-bodies/{id}/clients",
            post(register_client).get(clients),
        )
        .route("/clients/{id}/revocation", post(revoke_client))
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
            secret_sha256: &super::super::oauth::secret_hash(&secret),
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
