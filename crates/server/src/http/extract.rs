//! Extractors that answer bad input in the contract's shape: a malformed body, a missing
//! token or an unknown field is a typed 4xx with a message that says what was wrong.

use std::net::SocketAddr;

use axum::extract::rejection::JsonRejection;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use countersign_api::ErrorCode;
use serde::de::DeserializeOwned;

use crate::auth::Caller;
use crate::error::Error;
use crate::state::AppState;

pub use crate::auth::Origin;

/// A JSON request body. Rejections become `malformed_request`, `unsupported_media_type` or
/// `payload_too_large` with serde's description of the problem (which names the field).
pub struct Body<T>(pub T);

impl<T, S> FromRequest<S> for Body<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Error;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(Body(value)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

fn json_rejection(rejection: JsonRejection) -> Error {
    match rejection {
        JsonRejection::MissingJsonContentType(_) => Error::refused(
            ErrorCode::UnsupportedMediaType,
            "Send the body as JSON with Content-Type: application/json.",
        ),
        JsonRejection::JsonDataError(e) => {
            Error::malformed(format!("The request body does not fit: {}", e.body_text()))
        }
        JsonRejection::JsonSyntaxError(e) => Error::malformed(format!(
            "The request body is not valid JSON: {}",
            e.body_text()
        )),
        other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => Error::refused(
            ErrorCode::PayloadTooLarge,
            "The request body is larger than this server accepts.",
        ),
        other => Error::malformed(format!(
            "The request body could not be read: {}",
            other.body_text()
        )),
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Origin {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        // Present when served over a socket; absent in handler tests without one.
        let source = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip().to_string());
        Ok(Origin {
            source,
            device: None,
        })
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = Error;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let bearer = match parts.headers.get(AUTHORIZATION) {
            None => None,
            Some(value) => {
                let token = value
                    .to_str()
                    .ok()
                    .and_then(|v| v.strip_prefix("Bearer "))
                    .map(str::trim)
                    .filter(|t| !t.is_empty());
                match token {
                    Some(t) => Some(t),
                    None => {
                        return Err(Error::refused(
                            ErrorCode::Unauthenticated,
                            "The Authorization header must be 'Bearer <access token>'.",
                        ));
                    }
                }
            }
        };
        state.authenticate(bearer).await
    }
}
