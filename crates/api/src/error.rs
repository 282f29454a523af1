//! Every error the server answers is an [`ApiError`] body: a stable machine code a client can
//! act on, and a human message it can show as is.

use serde::{Deserialize, Serialize};

/// Stable error codes. Clients branch on these, never on the message text. A code added by a
/// newer server arrives at an older client as [`ErrorCode::Unknown`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The body, query or headers could not be understood (malformed JSON, unknown field,
    /// wrong content type, invalid UTF-8).
    MalformedRequest,
    /// The body is larger than the server accepts.
    PayloadTooLarge,
    /// The body is not JSON (wrong or missing `Content-Type`).
    UnsupportedMediaType,
    /// Wrong user name or password. Deliberately the same for both so that sign-in does not
    /// reveal which accounts exist.
    InvalidCredentials,
    /// Too many failed sign-ins for this account or from this address; `retry_after_secs`
    /// says when to try again.
    LoginThrottled,
    /// The account exists but may not sign in (disabled or departed).
    AccountDisabled,
    /// No or unreadable bearer token.
    Unauthenticated,
    /// The access token has expired; refresh it.
    TokenExpired,
    /// The token is not one this server issued (forged, or from another server).
    TokenInvalid,
    /// The session was revoked (signed out, revoked from another device, or by an admin).
    SessionRevoked,
    /// A refresh token was presented twice: the whole session is revoked because one copy
    /// of it may be in someone else's hands.
    RefreshReused,
    /// The caller may not do this.
    Forbidden,
    NotFound,
    Conflict,
    /// The action was understood and refused by the rules (already decided by someone else,
    /// request withdrawn, invalid form…); `refusal` has the details.
    Refused,
    /// The sync cursor is from another server or ahead of this one (a restored backup):
    /// drop the cache's server data and sync again from the start.
    ResyncRequired,
    /// The server cannot reach its database or is shutting down.
    Unavailable,
    /// Something failed on the server; the details are in its log, not in the response.
    Internal,
    #[serde(other)]
    Unknown,
}

impl ErrorCode {
    /// The code as it appears on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::MalformedRequest => "malformed_request",
            ErrorCode::PayloadTooLarge => "payload_too_large",
            ErrorCode::UnsupportedMediaType => "unsupported_media_type",
            ErrorCode::InvalidCredentials => "invalid_credentials",
            ErrorCode::LoginThrottled => "login_throttled",
            ErrorCode::AccountDisabled => "account_disabled",
            ErrorCode::Unauthenticated => "unauthenticated",
            ErrorCode::TokenExpired => "token_expired",
            ErrorCode::TokenInvalid => "token_invalid",
            ErrorCode::SessionRevoked => "session_revoked",
            ErrorCode::RefreshReused => "refresh_reused",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::NotFound => "not_found",
            ErrorCode::Conflict => "conflict",
            ErrorCode::Refused => "refused",
            ErrorCode::ResyncRequired => "resync_required",
            ErrorCode::Unavailable => "unavailable",
            ErrorCode::Internal => "internal",
            ErrorCode::Unknown => "unknown",
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The JSON body of every error response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
    /// For `login_throttled` (and any future rate limit): seconds until a retry can succeed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_secs: Option<u64>,
    /// For `refused`: what the rules said, with who decided and when, or the field errors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refusal: Option<crate::requests::RefusalView>,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            retry_after_secs: None,
            refusal: None,
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.message, self.code)
    }
}

impl std::error::Error for ApiError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_serialise_as_their_stable_names() {
        // Clients in the field match on these strings; a rename here breaks them.
        for code in [
            ErrorCode::MalformedRequest,
            ErrorCode::LoginThrottled,
            ErrorCode::RefreshReused,
            ErrorCode::Internal,
        ] {
            let json = serde_json::to_string(&code).unwrap();
            assert_eq!(json, format!("\"{}\"", code.as_str()));
        }
    }

    #[test]
    fn a_code_from_a_newer_server_is_unknown_not_an_error() {
        let body = r#"{"code":"quota_exceeded","message":"x"}"#;
        let err: ApiError = serde_json::from_str(body).unwrap();
        assert_eq!(err.code, ErrorCode::Unknown);
    }
}
