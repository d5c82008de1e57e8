//! The documents API.
//!
//! | route | who |
//! |---|---|
//! | `POST /documents?application_id=…&type=…` | the applicant: the raw file as the body (any `Content-Type`, optional `X-File-Name`) |
//! | `GET /documents/{id}` | the applicant, and the body's staff and assessors: the file, as an attachment |
//!
//! Uploads stream to S3 in parts of 8 MiB: memory per upload is bounded by one part whatever the
//! file's size, and the SHA-256 is computed on the way. The object key is generated here
//! (`documents/<uuid>`): no user-supplied name or personal code ends up in it.

use axum::Router;
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use kutse_auth::{Authenticated, Role};
use kutse_domain::{DocumentType, Dvvk, Isikukood};
use kutse_http::{ApiError, Json, PathId};
use kutse_messaging::Envelope;
use kutse_messaging::catalogue::DocumentStored;
use kutse_storage::UploadError;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::AppState;
use crate::{db, domain};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/documents",
            post(upload).layer(axum::extract::DefaultBodyLimit::disable()),
        )
        .route("/documents/{id}", get(download))
}

#[derive(Debug, Deserialize)]
struct UploadQuery {
    application_id: Option<String>,
    #[serde(rename = "type")]
    document_type: Option<String>,
}

#[derive(Debug, Serialize)]
struct Stored {
    id: Uuid,
    application_id: Uuid,
    document_type: DocumentType,
    sha256: String,
    size_bytes: i64,
}

async fn upload(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    Query(query): Query<UploadQuery>,
    headers: HeaderMap,
    body: Body,
) -> Result<(StatusCode, Json<Stored>), ApiError> {
    let owner: Isikukood = principal.person()?;
    let application: Uuid = query
        .application_id
        .as_deref()
        .ok_or_else(|| ApiError::invalid("application_id", "required query parameter"))?
        .parse()
        .map_err(|_| ApiError::invalid("application_id", "not a UUID"))?;
    let document_type = query
        .document_type
        .as_deref()
        .ok_or_else(|| ApiError::invalid("type", "required query parameter"))
        .and_then(|t| {
            DocumentType::parse(t).map_err(|_| {
                ApiError::invalid(
                    "type",
                    "a document type: lowercase words joined by _ (e.g. cv)",
                )
            })
        })?;
    let mut conn = state.pool.acquire().await?;
    let applicant = db::applications::applicant_of(&mut conn, application).await?;
    drop(conn);
    // Not known (yet), or someone else's: the same answer, so neither is revealed.
    if !domain::may_upload(&owner.to_string(), applicant.as_deref()) {
        return Err(ApiError::NotFound("application".to_owned()));
    }
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/octet-stream")
        .to_owned();
    let file_name = headers
        .get("x-file-name")
        .and_then(|v| v.to_str().ok())
        .and_then(domain::file_name);

    let id = Uuid::now_v7();
    let key = domain::object_key(id);
    let target = kutse_storage::Target {
        client: &state.s3,
        bucket: &state.bucket,
        key: &key,
        content_type: &content_type,
    };
    let stored = kutse_storage::stream_object(target, body.into_data_stream(), state.max_bytes)
        .await
        .map_err(|e| match e {
            UploadError::TooLarge(_) => ApiError::TooLarge,
            UploadError::Empty => ApiError::invalid("body", "the file is empty"),
            UploadError::Body(detail) => ApiError::Malformed {
                detail: format!("reading the body: {detail}"),
                field: None,
            },
            UploadError::Storage(detail) => ApiError::Unavailable(anyhow::anyhow!(detail)),
        })?;
    let sha256 = stored.sha256;
    let size = i64::try_from(stored.size).unwrap_or(i64::MAX);

    let mut tx = state.pool.begin().await?;
    let owner_code = owner.to_string();
    db::documents::insert(
        &mut tx,
        &db::documents::NewDocument {
            id,
            application_id: application,
            owner: &owner_code,
            document_type: document_type.as_str(),
            file_name: file_name.as_deref(),
            content_type: &content_type,
            object_key: &key,
            sha256: &sha256,
            size_bytes: size,
        },
    )
    .await?;
    let event = DocumentStored {
        document_id: id,
        application_id: application,
        owner,
        document_type: document_type.clone(),
        sha256: sha256.clone(),
        size_bytes: size,
        dvvk: Dvvk::FileExchange,
    };
    let envelope =
        Envelope::new(&event, Some(application)).map_err(|e| ApiError::Internal(e.into()))?;
    kutse_messaging::Outbox::enqueue(&mut tx, &envelope).await?;
    tx.commit().await?;
    tracing::info!(document = %id, %application, size, dvvk = 325, "document stored");
    Ok((
        StatusCode::CREATED,
        Json(Stored {
            id,
            application_id: application,
            document_type,
            sha256,
            size_bytes: size,
        }),
    ))
}

async fn download(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    PathId(id): PathId,
) -> Result<Response, ApiError> {
    let mut conn = state.pool.acquire().await?;
    let document = db::documents::for_download(&mut conn, id)
        .await?
        .ok_or_else(|| ApiError::NotFound("document".to_owned()))?;
    drop(conn);
    let body_id = document.awarding_body_id;
    let caller = principal.isikukood.map(|c| c.to_string());
    let on_panel = principal.acts_for(Role::AwardingBodyStaff, body_id)
        || principal.acts_for(Role::Assessor, body_id);
    if domain::reader(caller.as_deref(), &document.owner, on_panel).is_none() {
        return Err(ApiError::NotFound("document".to_owned()));
    }
    let object = state
        .s3
        .get_object()
        .bucket(&state.bucket)
        .key(&document.object_key)
        .send()
        .await
        .map_err(|e| {
            ApiError::Unavailable(anyhow::anyhow!(
                "S3 get: {}",
                aws_sdk_s3::error::DisplayErrorContext(e)
            ))
        })?;
    let stream = tokio_util::io::ReaderStream::new(object.body.into_async_read());
    let mut response = Body::from_stream(stream).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    let disposition = format!("attachment; filename=\"{}-{id}\"", document.document_type);
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    if let Ok(value) = HeaderValue::from_str(&document.sha256) {
        headers.insert("x-sha256", value);
    }
    tracing::info!(document = %id, dvvk = 325, "document downloaded");
    Ok(response)
}
