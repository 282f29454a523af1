//! Attachments on the wire. A file is uploaded on its own (`POST /v1/attachments?name=…` with
//! the bytes as the body) and answered with an [`AttachmentInfo`]; a form then carries that
//! object, unchanged, in its attachments field. `GET /v1/attachments/{id}` answers the bytes.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// An uploaded file as a form references it. The name is the server's safe version of the
/// uploaded one; the content type is what the server recognised from the bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(deny_unknown_fields)]
pub struct AttachmentInfo {
    pub id: Uuid,
    pub name: String,
    #[cfg_attr(feature = "specta", specta(type = f64))]
    pub size: u64,
    pub content_type: String,
}
