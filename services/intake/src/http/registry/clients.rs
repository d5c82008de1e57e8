//! Machine clients of a body: registered with their roles and a secret shown once, revocable.

use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use kutse_auth::{Authenticated, Role};
use kutse_http::{ApiError, Json, PathId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::super::AppState;
use super::{Removal, acting_role, actor, reason, require_administrator, require_registry_reader};
use crate::{db, registry};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(register_client, clients))
        .routes(routes!(revoke_client))
}

/// A machine client to register.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct NewClient {
    /// 1-300 characters.
    name: String,
    /// Its roles: only `awarding_body_staff` (default none).
    #[serde(default)]
    roles: Vec<String>,
    /// Its RabbitMQ user name (letters, digits and `-`), if it also reads events.
    #[serde(default)]
    broker_user: Option<String>,
}

/// A machine client of a body.
#[derive(Debug, Serialize, ToSchema)]
struct ClientView {
    /// The client's id, its `client_id` at the token endpoint.
    client_id: Uuid,
    awarding_body_id: Uuid,
    name: String,
    roles: Vec<String>,
    broker_user: Option<String>,
    /// Who registered it: their role and personal code.
    registered_by: String,
    registered_at: DateTime<Utc>,
    /// Not revoked.
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

/// Registers a machine client of the body, answering its secret once: the body's administrators.
#[utoipa::path(
    post,
    path = "/awarding-bodies/{id}/clients",
    tag = "clients",
    operation_id = "register_client",
    params(("id" = Uuid, Path, description = "The awarding body.")),
    request_body = NewClient,
    responses(
        (status = 201, description = "Registered; `client_secret` is shown only now.", body = ClientView),
    ),
)]
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

/// The body's machine clients, revoked ones too (without secrets): the authority and the body's
/// administrators.
#[utoipa::path(
    get,
    path = "/awarding-bodies/{id}/clients",
    tag = "clients",
    operation_id = "clients",
    params(("id" = Uuid, Path, description = "The awarding body.")),
    responses(
        (status = 200, description = "The body's machine clients.", body = Vec<ClientView>),
    ),
)]
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

/// Revokes a machine client: the authority, or the body's administrators.
#[utoipa::path(
    post,
    path = "/clients/{id}/revocation",
    tag = "clients",
    operation_id = "revoke_client",
    params(("id" = Uuid, Path, description = "The machine client.")),
    request_body = Removal,
    responses(
        (status = 200, description = "Revoked: the client as it is now.", body = ClientView),
    ),
)]
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
