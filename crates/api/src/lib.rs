//! countersign-api: the wire contract between the Countersign server and its clients.
//!
//! It owns the request and response bodies of the REST API and the sync protocol, the stable
//! error codes, and the API version. Serde only — no I/O. Shipped fields are never renamed;
//! new response fields carry `#[serde(default)]` and enums end in an `Unknown` catch-all so an
//! older client keeps working against a newer server. Request bodies reject unknown fields so a
//! typo in a client is a clear 400, not a silently ignored value.

pub mod accounts;
pub mod attachments;
pub mod directory;
pub mod error;
pub mod meetings;
#[cfg(feature = "openapi")]
pub mod openapi;
pub mod requests;
pub mod session;
pub mod sync;

pub use error::{ApiError, ErrorCode};
pub use session::{
    DepartmentRef, Me, RefreshRequest, SessionInfo, SignInRequest, SignInResponse, Tokens,
};

use serde::{Deserialize, Serialize};

/// The version of this contract; bumped only for a breaking change, served by `GET /v1/info`.
pub const API_VERSION: u32 = 1;

/// What `GET /v1/info` names itself as, so a client can tell a Countersign server from any
/// other web server at the same URL.
pub const SERVICE_NAME: &str = "countersign";

/// `GET /v1/info`: who answers at this URL. Unauthenticated on purpose: a client asks it
/// before sign-in to tell the user "this is not a Countersign server" rather than a confusing
/// JSON error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ServerInfo {
    pub service: String,
    pub api_version: u32,
    pub server_version: String,
}

impl ServerInfo {
    /// True when the body came from a Countersign server speaking a version this build knows.
    pub fn is_countersign(&self) -> bool {
        self.service == SERVICE_NAME
    }
}

/// `GET /healthz` and `GET /readyz`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Health {
    /// `ok`, or `unavailable` with the reason in `detail`.
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}
