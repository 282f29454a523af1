//! The server's error type and how it becomes an HTTP answer.
//!
//! A refusal carries a stable [`ErrorCode`] and a message for people; the status follows from
//! the code in one table. Database and internal failures are logged with their detail and
//! answered with a generic body: never a bare 500, never a leaked SQL error.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use countersign_api::requests::RefusalView;
use countersign_api::{ApiError, ErrorCode};

use crate::store::StoreError;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The request was understood and refused.
    #[error("{code}: {message}")]
    Refused {
        code: ErrorCode,
        message: String,
        retry_after_secs: Option<u64>,
        /// For `refused`: the engine's reasons.
        refusal: Option<Box<RefusalView>>,
    },
    /// The same client mutation arrived twice at once and the other copy was applied.
    #[error("mutation {0} was already applied")]
    DuplicateMutation(uuid::Uuid),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    pub fn refused(code: ErrorCode, message: impl Into<String>) -> Self {
        Error::Refused {
            code,
            message: message.into(),
            retry_after_secs: None,
            refusal: None,
        }
    }

    /// The rules refused an action: 409 with the refusal's details.
    pub fn rule(view: RefusalView) -> Self {
        Error::Refused {
            code: ErrorCode::Refused,
            message: view.message.clone(),
            retry_after_secs: None,
            refusal: Some(Box::new(view)),
        }
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::refused(ErrorCode::Forbidden, message)
    }

    pub fn malformed(message: impl Into<String>) -> Self {
        Self::refused(ErrorCode::MalformedRequest, message)
    }

    pub fn not_found(what: &str) -> Self {
        Self::refused(ErrorCode::NotFound, format!("{what} was not found"))
    }

    /// The stable code this error is answered with.
    pub fn code(&self) -> ErrorCode {
        match self {
            Error::Refused { code, .. } => *code,
            Error::Store(StoreError::Unavailable(_) | StoreError::Busy(_)) => {
                ErrorCode::Unavailable
            }
            Error::Store(StoreError::Conflict { .. }) | Error::DuplicateMutation(_) => {
                ErrorCode::Conflict
            }
            Error::Store(_) | Error::Internal(_) => ErrorCode::Internal,
        }
    }
}

/// The HTTP status for each code. One table, so a code always means the same status.
pub fn status_of(code: ErrorCode) -> StatusCode {
    match code {
        ErrorCode::MalformedRequest => StatusCode::BAD_REQUEST,
        ErrorCode::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        ErrorCode::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ErrorCode::InvalidCredentials
        | ErrorCode::Unauthenticated
        | ErrorCode::TokenExpired
        | ErrorCode::TokenInvalid
        | ErrorCode::SessionRevoked
        | ErrorCode::RefreshReused => StatusCode::UNAUTHORIZED,
        ErrorCode::LoginThrottled => StatusCode::TOO_MANY_REQUESTS,
        ErrorCode::AccountDisabled | ErrorCode::Forbidden => StatusCode::FORBIDDEN,
        ErrorCode::NotFound => StatusCode::NOT_FOUND,
        ErrorCode::Conflict | ErrorCode::Refused => StatusCode::CONFLICT,
        ErrorCode::ResyncRequired => StatusCode::GONE,
        ErrorCode::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        ErrorCode::Internal | ErrorCode::Unknown => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// Builds the JSON error response for a code, with `Retry-After` where it applies.
pub fn error_response(body: ApiError, status: StatusCode) -> Response {
    let retry_after = body.retry_after_secs;
    let mut response = (status, axum::Json(body)).into_response();
    if let Some(secs) = retry_after
        && let Ok(value) = HeaderValue::from_str(&secs.to_string())
    {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let code = self.code();
        let body = match self {
            Error::Refused {
                code,
                message,
                retry_after_secs,
                refusal,
            } => ApiError {
                code,
                message,
                retry_after_secs,
                refusal: refusal.map(|r| *r),
            },
            Error::Store(StoreError::Unavailable(detail)) => {
                tracing::error!(%detail, "database unavailable");
                ApiError::new(
                    code,
                    "The server cannot reach its database right now. Try again shortly.",
                )
            }
            Error::Store(StoreError::Busy(detail)) => {
                tracing::warn!(%detail, "database busy with a concurrent write");
                ApiError::new(
                    code,
                    "The server was busy with another change to the same records and saved \
                     nothing. Try again.",
                )
            }
            Error::DuplicateMutation(id) => {
                ApiError::new(code, format!("Mutation {id} was already applied."))
            }
            Error::Store(StoreError::Conflict { constraint }) => {
                ApiError::new(code, format!("That already exists ({constraint})."))
            }
            Error::Store(err) => {
                tracing::error!(error = %err, "database error");
                ApiError::new(
                    code,
                    "The server failed to handle this request. It has been logged.",
                )
            }
            Error::Internal(detail) => {
                tracing::error!(%detail, "internal error");
                ApiError::new(
                    code,
                    "The server failed to handle this request. It has been logged.",
                )
            }
        };
        error_response(body, status_of(code))
    }
}
