//! Uploading and reading attachments. Files travel as raw bodies (not JSON, not multipart):
//! `POST /v1/attachments?name=发票.pdf` with the bytes, answered with the reference a form
//! carries; `GET /v1/attachments/{id}` answers the bytes to those who may see them.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{FromRequest, Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use countersign_api::ErrorCode;
use countersign_api::attachments::AttachmentInfo;
use serde::Deserialize;

use super::{Origin, Params, uuid_segment};
use crate::auth::Caller;
use crate::error::{Error, Result};
use crate::state::AppState;

/// The request body as bytes; an oversized one is `payload_too_large`, not a bare 413.
pub(super) struct RawBody(Bytes);

impl<S: Send + Sync> FromRequest<S> for RawBody {
    type Rejection = Error;

    async fn from_request(req: Request, state: &S) -> std::result::Result<Self, Error> {
        Bytes::from_request(req, state)
            .await
            .map(RawBody)
            .map_err(|rejection| {
                if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    Error::refused(
                        ErrorCode::PayloadTooLarge,
                        "The file is larger than this server accepts.",
                    )
                } else {
                    Error::malformed(format!(
                        "The file could not be read: {}",
                        rejection.body_text()
                    ))
                }
            })
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(super) struct UploadQuery {
    /// The file's name as the user knows it; the server keeps a safe version of it.
    name: String,
    /// A client-made id (UUIDv7). Sending the same file again with the same id (a retry
    /// after a lost answer) answers the first upload instead of storing a second copy.
    #[serde(default)]
    id: Option<uuid::Uuid>,
}

/// Uploads a file: the bytes are the body, sent with the file's own content type.
#[utoipa::path(post, path = "/v1/attachments", tag = "attachments", security(("bearer" = [])),
    params(UploadQuery),
    request_body(content = String, content_type = "application/octet-stream",
        description = "The file's bytes: PDF, OFD, images, office documents, or UTF-8 plain \
                       text or CSV declared as `text/plain` or `text/csv`"),
    responses(
        (status = 201, description = "The reference a form carries", body = AttachmentInfo),
        (status = 200, description = "The same file was already uploaded with this `id`", body = AttachmentInfo),
        (status = 409, description = "`conflict`: this `id` names another file", body = countersign_api::ApiError),
        (status = 400, description = "`malformed_request`: an empty file or no name", body = countersign_api::ApiError),
        (status = 413, description = "`payload_too_large`: over the attachment size limit", body = countersign_api::ApiError),
        (status = 415, description = "`unsupported_media_type`: a kind of file that cannot be attached", body = countersign_api::ApiError),
    ))]
pub(super) async fn upload(
    State(state): State<AppState>,
    caller: Caller,
    origin: Origin,
    Params(query): Params<UploadQuery>,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> Result<(StatusCode, Json<AttachmentInfo>)> {
    let declared = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let (reference, fresh) = state
        .upload_attachment(
            &caller,
            &query.name,
            query.id,
            declared.as_deref(),
            body.to_vec(),
            &origin,
        )
        .await?;
    let status = if fresh {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(reference)))
}

/// The bytes of an attachment, with its recognised content type, for those who may see it.
#[utoipa::path(get, path = "/v1/attachments/{id}", tag = "attachments", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "The attachment")),
    responses(
        (status = 200, description = "The file, as `Content-Disposition: attachment`", content_type = "*/*", body = String),
        (status = 404, description = "No such attachment, or not visible to the caller", body = countersign_api::ApiError),
    ))]
pub(super) async fn download(
    State(state): State<AppState>,
    caller: Caller,
    origin: Origin,
    Path(id): Path<String>,
) -> Result<Response> {
    let id = uuid_segment(&id, "an attachment")?;
    let file = state.read_attachment(&caller, id, &origin).await?;
    let mut response = file.data.into_response();
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&file.content_type) {
        headers.insert(header::CONTENT_TYPE, value);
    }
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    if let Ok(value) = HeaderValue::from_str(&content_disposition(&file.name)) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}

/// `attachment` with an ASCII fallback name and the real one in RFC 5987 encoding.
fn content_disposition(name: &str) -> String {
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || ".-_ ".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded: String = name
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}
