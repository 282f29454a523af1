//! The HTTP client for the Countersign API. Every failure becomes a [`ClientError`] that
//! says which server and what to do: unreachable, not Countersign, or a refusal by code.

use std::time::Duration;

use countersign_api::attachments::AttachmentInfo;
use countersign_api::meetings::{
    CancelMeeting, CoverageReport, MeetingEdit, MeetingView, NewMeeting, RoomView,
};
use countersign_api::sync::{MutationBatch, MutationResults, SyncPage};
use countersign_api::{
    ApiError, ErrorCode, Me, RefreshRequest, ServerInfo, SessionInfo, SignInRequest,
    SignInResponse, Tokens,
};
use reqwest::{Method, RequestBuilder, StatusCode};
use serde::de::DeserializeOwned;
use uuid::Uuid;

use crate::error::{ClientError, ClientErrorCode, Result};
use crate::server_url::ServerUrl;

/// How long to wait for a connection. A server that is down answers "refused" at once; one
/// behind a dead network route is given this long before we say it is unreachable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(4);
/// The whole of an ordinary request.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// A file of the largest size a server takes (20 MiB by default) on a slow office line.
const TRANSFER_TIMEOUT: Duration = Duration::from_secs(300);
/// The identity probe must answer fast: the person is waiting at the sign-in screen.
const PROBE_TIMEOUT: Duration = Duration::from_millis(4500);

/// What every HTTP client of ours starts from. TLS runs on rustls with ring: reqwest is built
/// without a provider of its own (see the workspace's Cargo.toml), so ring is installed as
/// the process's provider here, before any client exists. Installing is first come, first
/// served: a process that installed another one first (a test harness) keeps its own.
#[allow(clippy::disallowed_methods)] // the one place allowed to (see the crate's clippy.toml)
fn http_client() -> reqwest::ClientBuilder {
    // Err only says a provider is already installed, which is all this needs.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .user_agent(concat!("countersign-client/", env!("CARGO_PKG_VERSION")))
}

#[derive(Debug, Clone)]
pub struct ApiClient {
    http: reqwest::Client,
    base: ServerUrl,
}

impl ApiClient {
    pub fn new(base: ServerUrl) -> Result<Self> {
        let http = http_client()
            .timeout(REQUEST_TIMEOUT)
            .build()
            .map_err(|e| ClientError::internal(format!("cannot build the HTTP client: {e}")))?;
        Ok(Self { http, base })
    }

    pub fn base(&self) -> &ServerUrl {
        &self.base
    }

    /// Asks the server who it is. Fails with `server_unreachable` or `not_countersign`.
    pub async fn info(&self) -> Result<ServerInfo> {
        let url = self.base.join("/v1/info");
        let response = self
            .http
            .get(&url)
            .timeout(PROBE_TIMEOUT)
            .send()
            .await
            .map_err(|e| self.transport_error(&e))?;
        let not_countersign = || {
            ClientError::new(
                ClientErrorCode::NotCountersign,
                format!(
                    "{} answered, but it is not a Countersign server.",
                    self.base
                ),
            )
            .with_url(self.base.as_str())
        };
        if !response.status().is_success() {
            return Err(not_countersign());
        }
        let body = response
            .bytes()
            .await
            .map_err(|e| self.transport_error(&e))?;
        match serde_json::from_slice::<ServerInfo>(&body) {
            Ok(info) if info.is_countersign() => Ok(info),
            _ => Err(not_countersign()),
        }
    }

    pub async fn sign_in(&self, req: &SignInRequest) -> Result<SignInResponse> {
        self.send(self.request(Method::POST, "/v1/sessions", None).json(req))
            .await
    }

    pub async fn refresh(&self, refresh_token: &str) -> Result<Tokens> {
        let body = RefreshRequest {
            refresh_token: refresh_token.to_owned(),
        };
        self.send(
            self.request(Method::POST, "/v1/sessions/refresh", None)
                .json(&body),
        )
        .await
    }

    pub async fn me(&self, access: &str) -> Result<Me> {
        self.send(self.request(Method::GET, "/v1/me", Some(access)))
            .await
    }

    pub async fn sessions(&self, access: &str) -> Result<Vec<SessionInfo>> {
        self.send(self.request(Method::GET, "/v1/sessions", Some(access)))
            .await
    }

    pub async fn revoke_session(&self, access: &str, id: Uuid) -> Result<()> {
        let path = format!("/v1/sessions/{id}");
        let response = self
            .request(Method::DELETE, &path, Some(access))
            .send()
            .await
            .map_err(|e| self.transport_error(&e))?;
        if response.status().is_success() {
            return Ok(());
        }
        Err(self.refusal(response).await)
    }

    /// One page of the sync feed after `after` (empty: from the start).
    pub async fn sync(&self, access: &str, after: &str, limit: u32) -> Result<SyncPage> {
        let query: String = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("after", after)
            .append_pair("limit", &limit.to_string())
            .finish();
        let builder = self.request(Method::GET, &format!("/v1/sync?{query}"), Some(access));
        self.send(builder).await
    }

    /// Sends a batch of mutations; the answer has one result per mutation, in order.
    pub async fn mutations(&self, access: &str, batch: &MutationBatch) -> Result<MutationResults> {
        self.send(
            self.request(Method::POST, "/v1/mutations", Some(access))
                .json(batch),
        )
        .await
    }

    /// Uploads a file's bytes; the answer is the reference a form carries.
    pub async fn upload_attachment(
        &self,
        access: &str,
        name: &str,
        id: Option<Uuid>,
        content_type: &str,
        bytes: Vec<u8>,
    ) -> Result<AttachmentInfo> {
        let query = {
            let mut query = url::form_urlencoded::Serializer::new(String::new());
            query.append_pair("name", name);
            if let Some(id) = id {
                query.append_pair("id", &id.to_string());
            }
            query.finish()
        };
        self.send(
            self.request(
                Method::POST,
                &format!("/v1/attachments?{query}"),
                Some(access),
            )
            .timeout(TRANSFER_TIMEOUT)
            .header(reqwest::header::CONTENT_TYPE, content_type)
            .body(bytes),
        )
        .await
    }

    /// `POST /v1/meetings`: plans a meeting and sends its invitations.
    pub async fn new_meeting(&self, access: &str, new: &NewMeeting) -> Result<MeetingView> {
        self.send(
            self.request(Method::POST, "/v1/meetings", Some(access))
                .json(new),
        )
        .await
    }

    /// `GET /v1/meetings/{id}`: the meeting as the server has it now.
    pub async fn meeting(&self, access: &str, id: Uuid) -> Result<MeetingView> {
        self.send(self.request(Method::GET, &format!("/v1/meetings/{id}"), Some(access)))
            .await
    }

    /// `PUT /v1/meetings/{id}`: changes a meeting (the organiser).
    pub async fn edit_meeting(
        &self,
        access: &str,
        id: Uuid,
        edit: &MeetingEdit,
    ) -> Result<MeetingView> {
        self.send(
            self.request(Method::PUT, &format!("/v1/meetings/{id}"), Some(access))
                .json(edit),
        )
        .await
    }

    /// `POST /v1/meetings/{id}/cancel`.
    pub async fn cancel_meeting(
        &self,
        access: &str,
        id: Uuid,
        cancel: &CancelMeeting,
    ) -> Result<MeetingView> {
        self.send(
            self.request(
                Method::POST,
                &format!("/v1/meetings/{id}/cancel"),
                Some(access),
            )
            .json(cancel),
        )
        .await
    }

    /// `GET /v1/reports/meetings`: who was invited, reached, opened and answered.
    pub async fn meeting_coverage(
        &self,
        access: &str,
        from: chrono::DateTime<chrono::Utc>,
        to: chrono::DateTime<chrono::Utc>,
    ) -> Result<CoverageReport> {
        let query: String = url::form_urlencoded::Serializer::new(String::new())
            .append_pair(
                "from",
                &from.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            )
            .append_pair("to", &to.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
            .finish();
        self.send(self.request(
            Method::GET,
            &format!("/v1/reports/meetings?{query}"),
            Some(access),
        ))
        .await
    }

    /// The bytes of an attachment the person may see.
    pub async fn download_attachment(&self, access: &str, id: Uuid) -> Result<Vec<u8>> {
        let response = self
            .request(Method::GET, &format!("/v1/attachments/{id}"), Some(access))
            .timeout(TRANSFER_TIMEOUT)
            .send()
            .await
            .map_err(|e| self.transport_error(&e))?;
        if !response.status().is_success() {
            let mut err = self.refusal(response).await;
            if err.server_code == Some(ErrorCode::NotFound) {
                err.code = ClientErrorCode::NotFound;
            }
            return Err(err);
        }
        let body = response
            .bytes()
            .await
            .map_err(|e| self.transport_error(&e))?;
        Ok(body.to_vec())
    }

    /// `GET /v1/rooms`: the rooms a meeting can book.
    pub async fn rooms(&self, access: &str) -> Result<Vec<RoomView>> {
        self.send(self.request(Method::GET, "/v1/rooms", Some(access)))
            .await
    }

    /// Opens the live event stream. `idle` is how long the stream may stay silent (no hint,
    /// no heartbeat) before reading fails: a dead connection is noticed, not waited on.
    pub async fn events(
        &self,
        access: &str,
        last_event_id: Option<&str>,
        idle: Duration,
    ) -> Result<reqwest::Response> {
        // Its own client: the ordinary one ends every request after REQUEST_TIMEOUT.
        let http = http_client()
            .read_timeout(idle)
            .build()
            .map_err(|e| ClientError::internal(format!("cannot build the HTTP client: {e}")))?;
        let mut builder = http
            .get(self.base.join("/v1/events"))
            .bearer_auth(access)
            .header(reqwest::header::ACCEPT, "text/event-stream");
        if let Some(id) = last_event_id {
            builder = builder.header("Last-Event-ID", id);
        }
        let response = builder.send().await.map_err(|e| self.transport_error(&e))?;
        if !response.status().is_success() {
            return Err(self.refusal(response).await);
        }
        Ok(response)
    }

    /// A transport failure in words, for callers reading a response body themselves.
    pub fn unreachable(&self, err: &reqwest::Error) -> ClientError {
        self.transport_error(err)
    }

    fn request(&self, method: Method, path: &str, access: Option<&str>) -> RequestBuilder {
        let builder = self.http.request(method, self.base.join(path));
        match access {
            Some(token) => builder.bearer_auth(token),
            None => builder,
        }
    }

    async fn send<T: DeserializeOwned>(&self, builder: RequestBuilder) -> Result<T> {
        let response = builder.send().await.map_err(|e| self.transport_error(&e))?;
        if !response.status().is_success() {
            return Err(self.refusal(response).await);
        }
        let body = response
            .bytes()
            .await
            .map_err(|e| self.transport_error(&e))?;
        serde_json::from_slice(&body).map_err(|e| {
            ClientError::new(
                ClientErrorCode::ServerError,
                format!(
                    "{} sent an answer this app does not understand: {e}",
                    self.base
                ),
            )
            .with_url(self.base.as_str())
        })
    }

    /// An error status: our JSON error body where there is one; otherwise the status line
    /// (a proxy's 502, say) in words.
    async fn refusal(&self, response: reqwest::Response) -> ClientError {
        let status = response.status();
        let body = response.bytes().await.unwrap_or_default();
        match serde_json::from_slice::<ApiError>(&body) {
            Ok(err) => ClientError::from_api(err, self.base.as_str()),
            Err(_) if status == StatusCode::NOT_FOUND => ClientError::new(
                ClientErrorCode::NotCountersign,
                format!("{} does not offer the Countersign API.", self.base),
            )
            .with_url(self.base.as_str()),
            Err(_) => ClientError::new(
                ClientErrorCode::ServerError,
                format!("{} answered {status}.", self.base),
            )
            .with_url(self.base.as_str()),
        }
    }

    fn transport_error(&self, err: &reqwest::Error) -> ClientError {
        if let Some(why) = certificate_refused(err) {
            return ClientError::new(
                ClientErrorCode::ServerUntrusted,
                format!(
                    "The certificate of {} is not trusted here: {why}.",
                    self.base
                ),
            )
            .with_url(self.base.as_str());
        }
        let why = if err.is_timeout() {
            "it did not answer in time".to_owned()
        } else if err.is_connect() {
            // The innermost cause is the useful part ("Connection refused").
            let mut source: &dyn std::error::Error = err;
            while let Some(next) = source.source() {
                source = next;
            }
            source.to_string()
        } else {
            err.to_string()
        };
        ClientError::new(
            ClientErrorCode::ServerUnreachable,
            format!("Cannot reach {}: {why}.", self.base),
        )
        .with_url(self.base.as_str())
    }
}

/// Why the server's certificate was refused, when that is what ended the connection. rustls's
/// error sits inside `io::Error`s (one wrapping another), whose `source()` skips what they
/// wrap, so the chain is followed into each `io::Error`'s content instead.
fn certificate_refused(err: &reqwest::Error) -> Option<String> {
    use rustls::CertificateError as Cert;
    let mut next: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(current) = next {
        if let Some(rustls::Error::InvalidCertificate(why)) =
            current.downcast_ref::<rustls::Error>()
        {
            return Some(match why {
                Cert::UnknownIssuer => {
                    "it is signed by an authority this computer does not trust".to_owned()
                }
                Cert::Expired | Cert::ExpiredContext { .. } => "it has expired".to_owned(),
                Cert::NotValidYet | Cert::NotValidYetContext { .. } => {
                    "it is not valid yet (check this computer's date and time)".to_owned()
                }
                Cert::NotValidForName | Cert::NotValidForNameContext { .. } => {
                    "it was issued for another address".to_owned()
                }
                Cert::Revoked => "it has been revoked".to_owned(),
                other => other.to_string(),
            });
        }
        next = match current.downcast_ref::<std::io::Error>() {
            Some(io) => io
                .get_ref()
                .map(|inner| inner as &(dyn std::error::Error + 'static)),
            None => current.source(),
        };
    }
    None
}
