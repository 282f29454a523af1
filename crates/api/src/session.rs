//! Sign-in and per-device sessions (requirement S4): `POST /v1/sessions`,
//! `POST /v1/sessions/refresh`, `GET /v1/sessions`, `DELETE /v1/sessions/{id}`, `GET /v1/me`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// `POST /v1/sessions`: sign in on one device.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SignInRequest {
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 64, pattern = r"\S")
    )]
    pub username: String,
    /// At most 1024 bytes of UTF-8.
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 256))]
    pub password: String,
    /// Shown in the session list so the user can tell their laptop from their desktop.
    #[cfg_attr(feature = "openapi", schema(max_length = 128))]
    pub device_name: String,
}

// The password must never reach a log line through `{:?}`.
impl std::fmt::Debug for SignInRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignInRequest")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .field("device_name", &self.device_name)
            .finish()
    }
}

/// `POST /v1/sessions/refresh`: trade a refresh token for a new pair. The old refresh token
/// stops working; presenting it again revokes the session.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    pub refresh_token: String,
}

impl std::fmt::Debug for RefreshRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RefreshRequest { refresh_token: <redacted> }")
    }
}

/// A short-lived access token and the rotating refresh token that renews it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Tokens {
    pub session_id: Uuid,
    pub access_token: String,
    pub access_expires_at: DateTime<Utc>,
    pub refresh_token: String,
    pub refresh_expires_at: DateTime<Utc>,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tokens")
            .field("session_id", &self.session_id)
            .field("access_expires_at", &self.access_expires_at)
            .field("refresh_expires_at", &self.refresh_expires_at)
            .finish_non_exhaustive()
    }
}

/// The answer to a successful sign-in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SignInResponse {
    pub tokens: Tokens,
    pub person: Me,
}

/// A department as other records point at it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct DepartmentRef {
    pub id: Uuid,
    pub name: String,
}

/// `GET /v1/me`: the signed-in person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Me {
    pub id: Uuid,
    pub username: String,
    pub display_name: String,
    #[serde(default)]
    pub department: Option<DepartmentRef>,
    /// Role names (`employee`, `manager`, `auditor`, …).
    #[serde(default)]
    pub roles: Vec<String>,
}

/// One entry of `GET /v1/sessions`: a device the person is signed in on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct SessionInfo {
    pub id: Uuid,
    pub device_name: String,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    /// The network address the session was opened from.
    #[serde(default)]
    pub source: Option<String>,
    /// True for the session that made this request.
    #[serde(default)]
    pub current: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_in_rejects_unknown_fields() {
        // A misspelt field must be a clear error, not a silently ignored value.
        let body = r#"{"username":"a","password":"b","device_name":"c","remember":true}"#;
        assert!(serde_json::from_str::<SignInRequest>(body).is_err());
    }

    #[test]
    fn debug_output_never_shows_secrets() {
        let req = SignInRequest {
            username: "li.wei".into(),
            password: "hunter2".into(),
            device_name: "laptop".into(),
        };
        assert!(!format!("{req:?}").contains("hunter2"));
        let tokens = Tokens {
            session_id: Uuid::nil(),
            access_token: "csa_secret".into(),
            access_expires_at: DateTime::<Utc>::MIN_UTC,
            refresh_token: "csr_secret".into(),
            refresh_expires_at: DateTime::<Utc>::MIN_UTC,
        };
        let shown = format!("{tokens:?}");
        assert!(!shown.contains("csa_secret") && !shown.contains("csr_secret"));
    }

    #[test]
    fn me_from_an_older_server_without_department_or_roles_still_parses() {
        let body =
            r#"{"id":"00000000-0000-0000-0000-000000000000","username":"a","display_name":"A"}"#;
        let me: Me = serde_json::from_str(body).unwrap();
        assert!(me.department.is_none() && me.roles.is_empty());
    }
}
