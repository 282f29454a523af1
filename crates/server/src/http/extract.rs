//! Extractors that answer bad input in the contract's shape: a malformed body, a missing
//! token or an unknown field is a typed 4xx with a message that says what was wrong.

use std::net::{IpAddr, SocketAddr};

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
///
/// Every body of this API is a JSON object: serde would also fill a struct from an array
/// (`[null, null]` as a transfer that changes nothing), so anything else is refused here.
/// A whole number written as a float (`2.0`) is the same JSON Schema integer as `2`, as the
/// published OpenAPI document promises, so it is read as one before the typed fields see it.
pub struct Body<T>(pub T);

impl<T, S> FromRequest<S> for Body<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Error;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let value = match axum::Json::<serde_json::Value>::from_request(req, state).await {
            Ok(axum::Json(value)) => value,
            Err(rejection) => return Err(json_rejection(rejection)),
        };
        if !value.is_object() {
            return Err(Error::malformed("The request body must be a JSON object."));
        }
        serde_path_to_error::deserialize(whole_numbers(value))
            .map(Body)
            .map_err(|e| Error::malformed(format!("The request body does not fit: {e}")))
    }
}

/// Rewrites floats without a fraction (`2.0`) as integers, everywhere in `value`.
fn whole_numbers(value: serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match value {
        Value::Number(n) if n.is_f64() => {
            let whole = n.as_f64().filter(|f| f.fract() == 0.0);
            // Within ±2^53 every whole float is exactly that integer.
            match whole.filter(|f| f.abs() <= 9_007_199_254_740_992.0) {
                #[allow(clippy::cast_possible_truncation)]
                Some(f) => Value::from(f as i64),
                None => Value::Number(n),
            }
        }
        Value::Array(items) => Value::Array(items.into_iter().map(whole_numbers).collect()),
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (k, whole_numbers(v)))
                .collect(),
        ),
        other => other,
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

impl FromRequestParts<AppState> for Origin {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        // Present when served over a socket; absent in handler tests without one.
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip());
        let source = peer.map(|peer| {
            client_address(peer, &parts.headers, &state.settings.trusted_proxies).to_string()
        });
        Ok(Origin {
            source,
            device: None,
        })
    }
}

/// The client's address: the peer, unless the peer is a trusted proxy, in which case the
/// nearest address in `X-Forwarded-For` that is not itself a trusted proxy. Entries further
/// left were written by whoever sent the request and prove nothing.
fn client_address(
    peer: IpAddr,
    headers: &axum::http::HeaderMap,
    trusted: &[ipnet::IpNet],
) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    let hops: Vec<IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map_while(|hop| hop.trim().parse::<IpAddr>().ok())
        .collect();
    hops.into_iter()
        .rev()
        .find(|hop| !is_trusted(hop))
        .unwrap_or(peer)
}

/// The bearer token of a request: `None` without an `Authorization` header, an error for a
/// header that is not `Bearer <token>`.
pub fn bearer_token(headers: &axum::http::HeaderMap) -> Result<Option<String>, Error> {
    let Some(value) = headers.get(AUTHORIZATION) else {
        return Ok(None);
    };
    value
        .to_str()
        .ok()
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(|t| Some(t.to_owned()))
        .ok_or_else(|| {
            Error::refused(
                ErrorCode::Unauthenticated,
                "The Authorization header must be 'Bearer <access token>'.",
            )
        })
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = Error;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        // The route guard has already authenticated the request.
        if let Some(caller) = parts.extensions.get::<Caller>() {
            return Ok(caller.clone());
        }
        let bearer = bearer_token(&parts.headers)?;
        state.authenticate(bearer.as_deref()).await
    }
}

/// Query parameters. A bad one is a `malformed_request` that names it, not a bare 400.
pub struct Params<T>(pub T);

impl<T, S> FromRequestParts<S> for Params<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(Params(value)),
            Err(rejection) => Err(Error::malformed(format!(
                "The query parameters do not fit: {}",
                rejection.body_text()
            ))),
        }
    }
}

/// Record versions are stored as signed 64-bit integers, as the OpenAPI document says
/// (`int64`): a larger one in a request cannot name any version and is malformed.
pub fn version_in_range(version: Option<u64>, field: &str) -> Result<(), Error> {
    match version {
        Some(v) if i64::try_from(v).is_err() => Err(Error::malformed(format!(
            "'{field}' is larger than any version can be."
        ))),
        _ => Ok(()),
    }
}

/// Parses a path segment that must be a UUID.
pub fn uuid_segment(text: &str, what: &str) -> Result<uuid::Uuid, Error> {
    uuid::Uuid::parse_str(text).map_err(|_| Error::malformed(format!("'{text}' is not {what} id")))
}

#[cfg(test)]
mod forwarded_tests {
    use super::*;

    fn headers(xff: &[&str]) -> axum::http::HeaderMap {
        let mut h = axum::http::HeaderMap::new();
        for v in xff {
            h.append("x-forwarded-for", v.parse().unwrap());
        }
        h
    }

    #[test]
    fn only_a_trusted_proxy_is_believed() {
        let trusted: Vec<ipnet::IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        // Straight from a client: whatever it claims is ignored.
        assert_eq!(
            client_address(ip("198.51.100.2"), &headers(&["1.2.3.4"]), &trusted),
            ip("198.51.100.2")
        );
        // Through the balancer: the nearest address it did not add itself.
        assert_eq!(
            client_address(
                ip("10.0.0.5"),
                &headers(&["1.2.3.4, 203.0.113.7, 10.0.0.9"]),
                &trusted
            ),
            ip("203.0.113.7")
        );
        assert_eq!(
            client_address(
                ip("10.0.0.5"),
                &headers(&["203.0.113.7", "10.0.0.9"]),
                &trusted
            ),
            ip("203.0.113.7"),
            "several headers read as one list"
        );
        // A proxy that forwarded nothing usable: its own address.
        assert_eq!(
            client_address(ip("10.0.0.5"), &headers(&["garbage"]), &trusted),
            ip("10.0.0.5")
        );
        assert_eq!(
            client_address(ip("10.0.0.5"), &headers(&["203.0.113.7"]), &[]),
            ip("10.0.0.5"),
            "nothing trusted by default"
        );
    }
}
