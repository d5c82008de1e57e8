//! The documents API.
//!
//! | route | who |
//! |---|---|
//! | `POST /documents?application_id=…&type=…` | the applicant: the raw file as the body (any `Content-Type`, optional `X-File-Name`) |
//! | `GET /documents/{id}` | the applicant, and the body's staff and assessors: the file, as an attachment |
//! | `GET /documents/{id}/container` | the same: a signed container's data files and signers (see `crate::container`) |
//!
//! Uploads stream to S3 in parts of 8 MiB: memory per upload is bounded by one part whatever the
//! file's size, and the SHA-256 is computed on the way. The object key is generated here
//! (`documents/<uuid>`): no user-supplied name or personal code ends up in it.
//!
//! Before anything is stored, an upload is checked: the application is the caller's and still a
//! draft (409 once submitted), within its quota (count and bytes, 409), a declared
//! `Content-Length` within the size limit (413), and the file's first bytes are a kind the service
//! accepts (415 naming `body`) that agrees with the declared `Content-Type` (415 naming it). The
//! stored type is what the bytes are. If the record cannot be written after the object was, the
//! object is deleted again. At most `DOCUMENT_UPLOADS_IN_FLIGHT` uploads stream at once per
//! instance (503 beyond); an upload whose bytes stop coming for `DOCUMENT_IDLE_TIMEOUT_SECONDS` is
//! dropped with a 408. Downloads are `Cache-Control: no-store`.
//!
//! Every upload is scanned for viruses before anyone but its uploader sees it (see
//! `crate::scanner`): the panel downloads only clean documents; the uploader is told when one is
//! quarantined (409 on download, and the application's history).

use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use kutse_auth::{Authenticated, Principal, Role};
use kutse_domain::{DocumentType, Isikukood};
use kutse_http::{ApiError, Json, PathId};
use kutse_storage::UploadError;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt};
use utoipa_axum::routes;
use uuid::Uuid;

use super::AppState;
use crate::content::{self, Kind};
use crate::{db, domain};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(upload).layer(axum::extract::DefaultBodyLimit::disable()))
        .routes(routes!(download))
        .routes(routes!(container))
}

/// Which application the file is for, and what it is.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct UploadQuery {
    /// The application (a UUID): the caller's own, still a draft, or with an open request for
    /// this type of document.
    #[param(required = true, value_type = Uuid)]
    application_id: Option<String>,
    /// The document's type: lowercase words joined by `_` (e.g. `cv`, `diploma`).
    #[serde(rename = "type")]
    #[param(rename = "type", required = true, value_type = String, example = "cv")]
    document_type: Option<String>,
}

/// The stored file.
#[derive(Debug, Serialize, ToSchema)]
struct Stored {
    id: Uuid,
    application_id: Uuid,
    #[schema(value_type = String, example = "cv")]
    document_type: DocumentType,
    /// What the file is, by its content.
    content_type: &'static str,
    /// `pending` until the virus scan has passed it (the panel sees it only then).
    scan: &'static str,
    sha256: String,
    size_bytes: i64,
}

/// Why an upload is refused before its body is stored.
fn refused_kind(detected: &content::Detected, allowed: &[Kind]) -> ApiError {
    let what = match detected {
        content::Detected::Kind(kind) => kind.mime().to_owned(),
        content::Detected::Other(Some(mime)) => (*mime).to_owned(),
        content::Detected::Other(None) => "of no type we recognise".to_owned(),
    };
    let accepted: Vec<&str> = allowed.iter().map(|k| k.as_str()).collect();
    ApiError::UnsupportedMediaType(format!(
        "body: the file is {what}; accepted are {}",
        accepted.join(", ")
    ))
}

/// Uploads a file for an application: the raw bytes as the body, streamed to storage.
#[utoipa::path(
    post,
    path = "/documents",
    tag = "documents",
    params(
        UploadQuery,
        ("X-File-Name" = Option<String>, Header, description = "The file's name on the uploader's computer, kept for the panel."),
    ),
    request_body(
        content = kutse_http::openapi::Bytes,
        content_type = "application/octet-stream",
        description = "The file (PDF, JPEG, PNG, or a signed ASiC-E container), any Content-Type that agrees with its bytes.",
    ),
    responses(
        (status = 201, description = "Stored; `scan` is `pending` until the virus scan passes it.", body = Stored),
    ),
)]
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
    let limits = &state.limits;
    // A declared length over the limit is refused before a byte is read.
    let declared_length = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared_length.is_some_and(|n| n > limits.max_bytes as u64) {
        return Err(ApiError::TooLarge(Some(limits.max_bytes as u64)));
    }
    let owner_code = owner.to_string();
    let target = known_application(&state, application).await?;
    // Not known (yet), or someone else's: the same answer, so neither is revealed.
    let target = target
        .filter(|t| domain::may_upload(&owner_code, Some(&t.applicant)))
        .ok_or_else(|| ApiError::NotFound("application".to_owned()))?;
    // A submitted application takes documents only against an open request for their type.
    let request = if target.submitted_at.is_some() {
        let mut conn = state.pool.acquire().await?;
        db::applications::request_for(&mut conn, application, document_type.as_str()).await?
    } else {
        None
    };
    domain::upload_window(&target, limits, declared_length, request).map_err(window_refused)?;
    let _slot = state.uploads.clone().try_acquire_owned().map_err(|_| {
        ApiError::Unavailable(anyhow::anyhow!(
            "{} uploads in flight on this instance",
            limits.uploads_in_flight
        ))
    })?;

    // What the file is, from its first bytes, before anything is stored.
    let stalled = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut stream = Box::pin(
        idle_limited(
            body.into_data_stream(),
            limits.idle_timeout,
            stalled.clone(),
        )
        .fuse(),
    );
    let read_error = |detail: String| {
        if stalled.load(std::sync::atomic::Ordering::Relaxed) {
            ApiError::RequestTimeout(format!("body: {detail}"))
        } else {
            ApiError::Malformed {
                detail: format!("reading the body: {detail}"),
                field: None,
            }
        }
    };
    let mut head: Vec<u8> = Vec::with_capacity(content::HEAD_BYTES);
    while head.len() < content::HEAD_BYTES {
        match stream.next().await {
            Some(Ok(chunk)) => head.extend_from_slice(&chunk),
            Some(Err(e)) => return Err(read_error(e)),
            None => break,
        }
    }
    if head.is_empty() {
        return Err(ApiError::invalid("body", "the file is empty"));
    }
    let detected = content::detect(&head);
    // The round's kinds for this document type, within what the service takes at all.
    let allowed: Vec<Kind> = match target.allowed_types.0.get(&document_type) {
        Some(round) => round
            .iter()
            .copied()
            .filter(|k| limits.allowed.contains(k))
            .collect(),
        None => limits.allowed.clone(),
    };
    let kind = match detected {
        content::Detected::Kind(kind) if allowed.contains(&kind) => kind,
        other => return Err(refused_kind(&other, &allowed)),
    };
    let declared = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    if !content::declared_agrees(declared, kind) {
        return Err(ApiError::UnsupportedMediaType(format!(
            "Content-Type: declared {}, but the file is {}",
            declared.unwrap_or_default(),
            kind.mime()
        )));
    }
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
        content_type: kind.mime(),
    };
    let body =
        futures::stream::iter([Ok::<_, String>(axum::body::Bytes::from(head))]).chain(stream);
    let stored = kutse_storage::stream_object(target, body, limits.max_bytes)
        .await
        .map_err(|e| match e {
            UploadError::TooLarge(_) => ApiError::TooLarge(Some(limits.max_bytes as u64)),
            UploadError::Empty => ApiError::invalid("body", "the file is empty"),
            UploadError::Body(detail) => read_error(detail),
            UploadError::Storage(detail) => ApiError::Unavailable(anyhow::anyhow!(detail)),
        })?;
    let sha256 = stored.sha256;
    let size = i64::try_from(stored.size).unwrap_or(i64::MAX);

    // Recorded, or the object is removed again: nothing is left half-written.
    let new = db::documents::NewDocument {
        id,
        application_id: application,
        owner: &owner_code,
        document_type: document_type.as_str(),
        file_name: file_name.as_deref(),
        content_type: kind.mime(),
        object_key: &key,
        sha256: &sha256,
        size_bytes: size,
        request_id: request,
    };
    let recorded = record(&state, &new).await;
    if let Err(e) = recorded {
        if let Err(cleanup) = kutse_storage::delete_object(&state.s3, &state.bucket, &key).await {
            tracing::error!(document = %id, error = %cleanup, "an unrecorded object could not be removed from S3");
        }
        return Err(e);
    }
    state.scan_wake.notify_one();
    tracing::info!(document = %id, %application, size, content_type = kind.mime(), dvvk = 325, "document stored; scanning");
    Ok((
        StatusCode::CREATED,
        Json(Stored {
            id,
            application_id: application,
            document_type,
            content_type: kind.mime(),
            sha256,
            size_bytes: size,
            scan: "pending",
        }),
    ))
}

/// The body's chunks, failing once no byte has come for `idle` (a stalled or very slow client
/// must not hold an upload slot); `stalled` records that it was the timeout.
fn idle_limited<S>(
    body: S,
    idle: std::time::Duration,
    stalled: std::sync::Arc<std::sync::atomic::AtomicBool>,
) -> impl futures::Stream<Item = Result<axum::body::Bytes, String>>
where
    S: futures::Stream<Item = Result<axum::body::Bytes, axum::Error>> + Unpin,
{
    futures::stream::unfold(Some(body), move |state| {
        let stalled = stalled.clone();
        async move {
            let mut body = state?;
            match tokio::time::timeout(idle, body.next()).await {
                Ok(Some(Ok(bytes))) => Some((Ok(bytes), Some(body))),
                Ok(Some(Err(e))) => Some((Err(e.to_string()), None)),
                Ok(None) => None,
                Err(_) => {
                    stalled.store(true, std::sync::atomic::Ordering::Relaxed);
                    Some((Err(format!("no bytes for {} s", idle.as_secs())), None))
                }
            }
        }
    })
}

/// The application's state refuses the upload: 409 saying which.
fn window_refused(e: domain::WindowError) -> ApiError {
    ApiError::Conflict(e.to_string())
}

/// Records a stored document (pending its virus scan) with the application locked and its window
/// and quota checked again (another upload may have finished meanwhile).
/// The application's upload target, waiting up to `DOCUMENT_ARRIVAL_WAIT_MS` for one not known
/// yet (see [`crate::config::Limits::arrival_wait`]).
async fn known_application(
    state: &AppState,
    application: Uuid,
) -> Result<Option<db::applications::UploadTarget>, ApiError> {
    let deadline = tokio::time::Instant::now() + state.limits.arrival_wait;
    loop {
        let mut conn = state.pool.acquire().await?;
        let target = db::applications::upload_target(&mut conn, application, false).await?;
        drop(conn);
        if target.is_some() || tokio::time::Instant::now() >= deadline {
            return Ok(target);
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

async fn record(state: &AppState, new: &db::documents::NewDocument<'_>) -> Result<(), ApiError> {
    let mut tx = state.pool.begin().await?;
    let target = db::applications::upload_target(&mut tx, new.application_id, true)
        .await?
        .ok_or_else(|| ApiError::NotFound("application".to_owned()))?;
    // The request may have closed while the file was arriving.
    let request = match new.request_id {
        Some(_) => {
            db::applications::request_for(&mut tx, new.application_id, new.document_type).await?
        }
        None => None,
    };
    domain::upload_window(
        &target,
        &state.limits,
        u64::try_from(new.size_bytes).ok(),
        request,
    )
    .map_err(window_refused)?;
    db::documents::insert(&mut tx, new).await?;
    // A file handed to the register through the portal (DVVK 325), counted with its record.
    kutse_service::exchanges::announce::<kutse_messaging::catalogue::DocumentsExchange>(
        &mut tx,
        "document.uploaded",
        &new.id.to_string(),
        kutse_domain::Dvvk::FileExchange,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// As whom `principal` may read `document`: its uploader, or the body's staff or assessors.
fn reader_of(principal: &Principal, document: &db::documents::Download) -> Option<domain::Reader> {
    let caller = principal.isikukood.map(|c| c.to_string());
    let body = document.awarding_body_id;
    let on_panel = principal.acts_for(Role::AwardingBodyStaff, body)
        || principal.acts_for(Role::Assessor, body);
    domain::reader(caller.as_deref(), &document.owner, on_panel)
}

/// The file, as an attachment, with its SHA-256 in `X-Sha256`.
#[utoipa::path(
    get,
    path = "/documents/{id}",
    tag = "documents",
    params(("id" = Uuid, Path, description = "The document.")),
    responses(
        (status = 200, description = "The file's bytes.", content_type = "application/octet-stream", body = kutse_http::openapi::Bytes),
    ),
)]
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
    let reader = reader_of(&principal, &document)
        .ok_or_else(|| ApiError::NotFound("document".to_owned()))?;
    match (document.scan_status.as_str(), reader) {
        ("clean", _) | ("pending", domain::Reader::Owner) => {}
        ("infected", domain::Reader::Owner) => {
            return Err(ApiError::Conflict(format!(
                "the document is quarantined: the virus scan found {}",
                document.scan_result.as_deref().unwrap_or("a threat")
            )));
        }
        ("rejected", domain::Reader::Owner) => {
            return Err(ApiError::Conflict(format!(
                "the signed container was refused: {}",
                document
                    .scan_result
                    .as_deref()
                    .unwrap_or("it failed its checks")
            )));
        }
        // Not yet scanned, or infected: the panel does not see it.
        _ => return Err(ApiError::NotFound("document".to_owned())),
    }
    let object = kutse_storage::open_object(&state.s3, &state.bucket, &document.object_key)
        .await
        .map_err(|e| ApiError::Unavailable(anyhow::anyhow!(e)))?;
    tracked(&state, &principal, &document, id, "document").await?;
    let stream = tokio_util::io::ReaderStream::new(object.into_async_read());
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
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
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

/// A signed container's report: its data files and signers, as Kutse's checks found them (and
/// whether an external service validated the signatures legally: not yet).
#[utoipa::path(
    get,
    path = "/documents/{id}/container",
    tag = "documents",
    params(("id" = Uuid, Path, description = "The document: a signed container.")),
    responses(
        (status = 200, description = "The container's data files and signers, as Kutse's checks found them.", body = kutse_http::openapi::AnyJson),
    ),
)]
async fn container(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    PathId(id): PathId,
) -> Result<Json<serde_json::Value>, ApiError> {
    let not_found = || ApiError::NotFound("container".to_owned());
    let mut conn = state.pool.acquire().await?;
    let document = db::documents::for_download(&mut conn, id)
        .await?
        .ok_or_else(not_found)?;
    let reader = reader_of(&principal, &document).ok_or_else(not_found)?;
    if document.scan_status != "clean" && reader == domain::Reader::Panel {
        return Err(not_found());
    }
    let report = db::documents::container(&mut conn, id)
        .await?
        .ok_or_else(not_found)?;
    drop(conn);
    tracked(
        &state,
        &principal,
        &document,
        id,
        "signed container's signers",
    )
    .await?;
    Ok(Json(report))
}

/// Tracks a read of the uploader's document by someone else (the panel).
async fn tracked(
    state: &AppState,
    principal: &Principal,
    document: &db::documents::Download,
    id: uuid::Uuid,
    what: &'static str,
) -> Result<(), ApiError> {
    let mut conn = state.pool.acquire().await?;
    kutse_service::data_reads::announce::<kutse_messaging::catalogue::DocumentsDataRead>(
        &mut conn,
        principal,
        &[kutse_service::data_reads::Read {
            person: document.owner.clone(),
            what,
            resource: id.to_string(),
        }],
    )
    .await?;
    Ok(())
}
