//! Client errors: a stable code the UI translates, the URL or wait time it needs to say
//! something useful, and an English message for logs and the CLI.

use countersign_api::ErrorCode;
use serde::{Deserialize, Serialize};

pub type Result<T, E = ClientError> = std::result::Result<T, E>;

/// What went wrong, in terms a person can act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum ClientErrorCode {
    /// The server address cannot be used as a URL.
    InvalidServerUrl,
    /// Nothing answered at the server address (down, wrong port, no network).
    ServerUnreachable,
    /// The server's TLS certificate is not trusted here (an authority this computer does not
    /// trust, expired, or issued for another address): nothing was sent to it.
    ServerUntrusted,
    /// Something answered, but it is not a Countersign server.
    NotCountersign,
    InvalidCredentials,
    LoginThrottled,
    AccountDisabled,
    /// The sign-in expired; sign in again.
    SessionExpired,
    /// The session was revoked (elsewhere, by an admin, or because its token leaked).
    SessionRevoked,
    /// No one is signed in on this device.
    SignedOut,
    /// The OS keyring (Secret Service, Keychain, Credential Manager) cannot be used.
    KeyringUnavailable,
    /// The server refused or failed the request for another reason; see the message.
    ServerError,
    /// A local settings or profile file is unreadable or cannot be written.
    Settings,
    /// The offline cache cannot be read or written (read-only folder, full disk).
    Cache,
    /// What was asked does not fit: an unknown template or field, an invalid value.
    InvalidInput,
    /// No such draft, request or task here.
    NotFound,
    /// Refused before any round trip: the task is not pending for you, the request is closed.
    Refused,
    /// A file to attach cannot be read (missing, no permission, empty, not a file).
    FileUnreadable,
    /// A file is larger than the field takes; the message says the limit.
    FileTooLarge,
    /// A file of a type the field does not take; the message says which it takes.
    FileTypeNotAccepted,
    Internal,
}

impl ClientErrorCode {
    /// The code as the UI and `--json` output see it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidServerUrl => "invalid_server_url",
            Self::ServerUnreachable => "server_unreachable",
            Self::ServerUntrusted => "server_untrusted",
            Self::NotCountersign => "not_countersign",
            Self::InvalidCredentials => "invalid_credentials",
            Self::LoginThrottled => "login_throttled",
            Self::AccountDisabled => "account_disabled",
            Self::SessionExpired => "session_expired",
            Self::SessionRevoked => "session_revoked",
            Self::SignedOut => "signed_out",
            Self::KeyringUnavailable => "keyring_unavailable",
            Self::ServerError => "server_error",
            Self::Settings => "settings",
            Self::Cache => "cache",
            Self::InvalidInput => "invalid_input",
            Self::NotFound => "not_found",
            Self::Refused => "refused",
            Self::FileUnreadable => "file_unreadable",
            Self::FileTooLarge => "file_too_large",
            Self::FileTypeNotAccepted => "file_type_not_accepted",
            Self::Internal => "internal",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[error("{message}")]
pub struct ClientError {
    pub code: ClientErrorCode,
    pub message: String,
    /// The server address involved, for messages such as "cannot reach {url}".
    pub url: Option<String>,
    /// For `login_throttled`: seconds until a retry can succeed.
    #[cfg_attr(feature = "specta", specta(type = Option<u32>))]
    pub retry_after_secs: Option<u64>,
    /// The server's own code, kept to decide on a token refresh; not part of the UI contract.
    #[serde(skip)]
    #[cfg_attr(feature = "specta", specta(skip))]
    pub server_code: Option<ErrorCode>,
}

impl ClientError {
    pub fn new(code: ClientErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            url: None,
            retry_after_secs: None,
            server_code: None,
        }
    }

    pub fn with_url(mut self, url: impl Into<String>) -> Self {
        self.url = Some(url.into());
        self
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ClientErrorCode::Internal, message)
    }

    pub fn settings(message: impl Into<String>) -> Self {
        Self::new(ClientErrorCode::Settings, message)
    }

    /// True when the stored sign-in can no longer be used and the person must sign in again.
    pub fn ends_session(&self) -> bool {
        matches!(
            self.code,
            ClientErrorCode::SessionExpired
                | ClientErrorCode::SessionRevoked
                | ClientErrorCode::AccountDisabled
                | ClientErrorCode::SignedOut
        )
    }

    /// True when the server could not be reached at all: the caller may carry on offline.
    /// A certificate this computer does not trust counts: not a byte went to that server, so
    /// everything waits in the cache as it does without a network.
    pub fn is_offline(&self) -> bool {
        matches!(
            self.code,
            ClientErrorCode::ServerUnreachable | ClientErrorCode::ServerUntrusted
        )
    }

    /// True when the server refused the access token in a way a refresh can cure.
    pub fn wants_refresh(&self) -> bool {
        matches!(
            self.server_code,
            Some(ErrorCode::TokenExpired | ErrorCode::TokenInvalid)
        )
    }

    /// Translates a server error body. For a refresh token, expired and invalid both mean
    /// the sign-in is over; for an access token they only mean "refresh" (see
    /// [`ClientError::wants_refresh`]).
    pub fn from_api(err: countersign_api::ApiError, url: &str) -> Self {
        let code = match err.code {
            ErrorCode::InvalidCredentials => ClientErrorCode::InvalidCredentials,
            ErrorCode::LoginThrottled => ClientErrorCode::LoginThrottled,
            ErrorCode::AccountDisabled => ClientErrorCode::AccountDisabled,
            ErrorCode::TokenExpired => ClientErrorCode::SessionExpired,
            ErrorCode::SessionRevoked | ErrorCode::RefreshReused | ErrorCode::TokenInvalid => {
                ClientErrorCode::SessionRevoked
            }
            ErrorCode::Unauthenticated => ClientErrorCode::SignedOut,
            // The server said no to what was asked (a room taken, a change that came too
            // late, not allowed): the person's to act on, not a broken server.
            ErrorCode::Refused | ErrorCode::Conflict | ErrorCode::Forbidden => {
                ClientErrorCode::Refused
            }
            ErrorCode::NotFound => ClientErrorCode::NotFound,
            ErrorCode::MalformedRequest => ClientErrorCode::InvalidInput,
            _ => ClientErrorCode::ServerError,
        };
        Self {
            code,
            message: err.message,
            url: Some(url.to_owned()),
            retry_after_secs: err.retry_after_secs,
            server_code: Some(err.code),
        }
    }
}
