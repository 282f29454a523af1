//! countersign-client: the Countersign client core, usable without a window.
//!
//! It owns signing in and staying signed in (tokens in the OS keyring, refreshed
//! transparently), the profile of preferences and last known identity, and — as later issues
//! land — the offline cache, drafts, the outbox, sync and the notification planner. The
//! desktop app and the `countersign` CLI both drive it through [`Client`], so everything a
//! window can do, a test or a script can do too.

pub mod api;
mod attachments;
pub mod cache;
pub mod credentials;
#[cfg(all(unix, feature = "dbus-notifier"))]
pub mod dbus_notifier;
pub mod error;
pub mod heap;
mod live;
mod meeting_files;
mod meeting_report;
mod meetings;
pub mod notify;
pub mod profile;
mod refusals;
pub mod server_url;
pub mod tray;
mod views;
mod work;

use std::sync::Arc;

use countersign_api::{Me, SessionInfo, SignInRequest, Tokens};
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;
use uuid::Uuid;

pub use api::ApiClient;
pub use attachments::{AttachOutcome, AttachmentState};
pub use credentials::{
    AccountKey, CredentialStore, KeyringCredentials, SessionOnlyCredentials, StoredTokens,
};
#[cfg(all(unix, feature = "dbus-notifier"))]
pub use dbus_notifier::{DbusNotifier, NotificationClick};
pub use error::{ClientError, ClientErrorCode, Result};
pub use live::WatchEvent;
pub use meeting_files::{CalendarFile, ImportedInvitation, calendar_file};
pub use meeting_report::{CoverageMonthLine, MeetingCoverageLine, MeetingCoverageView};
pub use meetings::{
    FALLBACK_TIME_ZONE, MeetingChange, MeetingDetail, MeetingEntry, MeetingForm, MeetingPerson,
    parse_zone, zone_or_system,
};
pub use profile::{AccountRecord, Language, LanguagePreference, Profile, ProfileDir};
pub use server_url::ServerUrl;
pub use views::{
    BulkOutcome, DirectoryEntry, DirectoryKind, DirectoryQuery, EventView, FigureView, InboxEntry,
    InboxPage, InboxQuery, MyRequestEntry, MyRequestsPage, MyRequestsQuery, PersonRef,
    RequestDetail, Sla, SlaFilter, StepView, TaskView, TemplateCount, TemplateInfo,
};
pub use work::{
    Act, Changed, DraftError, DraftView, InboxItem, OutboxItem, RequestSummary, SyncReport,
    SyncStatus,
};

/// Whether someone is signed in, as the UI shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum SessionView {
    SignedOut {
        /// Why the person is signed out, when it was not their own doing.
        reason: Option<ClientError>,
        /// The last server and user name, to prefill the sign-in form.
        server: Option<String>,
        username: Option<String>,
    },
    SignedIn {
        me: Me,
        server: String,
        /// True when the server could not be reached and `me` is the last known identity.
        offline: bool,
    },
}

/// The UI preferences and what they resolve to on this machine.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Preferences {
    pub language: LanguagePreference,
    pub resolved_language: Language,
    pub app_version: String,
    /// Whether the desktop shows notifications (on unless the person turned them off).
    pub notifications: bool,
    /// Minutes before a meeting that its reminder shows (15 unless changed).
    pub meeting_reminder_minutes: u32,
}

/// How a client identifies itself and where it keeps its state. Read from the environment
/// by the binaries, handed in here, so the core never reads the OS itself.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    pub profile_dir: ProfileDir,
    /// Shown in the person's session list ("Countersign desktop on LAPTOP-7").
    pub device_name: String,
    /// The OS locale as a BCP 47 tag, if known.
    pub os_locale: Option<String>,
    pub app_version: String,
    /// The server address to offer on the sign-in form before anyone has signed in here
    /// (an organisation's installer or `make run` sets it).
    pub default_server: Option<String>,
}

/// The live sign-in: which server, which keyring entry, the current tokens.
struct Connection {
    api: ApiClient,
    key: AccountKey,
    tokens: Tokens,
}

struct Inner {
    profile: Profile,
    connection: Option<Connection>,
    /// The signed-in person's offline cache, once opened.
    cache: Option<work::OpenCache>,
}

/// The client core. One per profile; cheap to share behind an `Arc`.
pub struct Client {
    options: ClientOptions,
    credentials: Arc<dyn CredentialStore>,
    inner: Mutex<Inner>,
    /// One sync at a time: the watch loop, "Sync now" and a notification's action may all
    /// ask at once, and two pulls planning notifications side by side could both raise one.
    syncing: Mutex<()>,
    /// One opening of the cache at a time: the window's first calls all arrive together,
    /// and each opened (and checked) the file for itself before one of them won.
    opening: Mutex<()>,
}

impl Client {
    /// Opens the profile in `options.profile_dir`. A damaged profile file is an error that
    /// names it; a missing one is a fresh profile.
    pub fn open(options: ClientOptions, credentials: Arc<dyn CredentialStore>) -> Result<Self> {
        let profile = options.profile_dir.load()?;
        Ok(Self {
            options,
            credentials,
            inner: Mutex::new(Inner {
                profile,
                connection: None,
                cache: None,
            }),
            syncing: Mutex::new(()),
            opening: Mutex::new(()),
        })
    }

    /// True when sign-ins survive a restart (an OS keyring), false for session-only.
    pub fn remembers_sign_in(&self) -> bool {
        self.credentials.persistent()
    }

    pub async fn preferences(&self) -> Preferences {
        let inner = self.inner.lock().await;
        self.preferences_of(&inner.profile)
    }

    fn preferences_of(&self, profile: &Profile) -> Preferences {
        Preferences {
            language: profile.language,
            resolved_language: profile.language.resolve(self.options.os_locale.as_deref()),
            app_version: self.options.app_version.clone(),
            notifications: profile.notifications,
            meeting_reminder_minutes: profile.meeting_reminder_minutes,
        }
    }

    /// Sets how many minutes before a meeting its reminder shows, for good (the profile).
    pub async fn set_meeting_reminder_minutes(&self, minutes: u32) -> Result<Preferences> {
        let mut inner = self.inner.lock().await;
        let mut profile = inner.profile.clone();
        profile.meeting_reminder_minutes = minutes;
        self.options.profile_dir.save(&profile)?;
        inner.profile = profile;
        Ok(self.preferences_of(&inner.profile))
    }

    /// Turns the desktop's notifications on or off, for good (kept in the profile).
    pub async fn set_notifications(&self, on: bool) -> Result<Preferences> {
        let mut inner = self.inner.lock().await;
        let mut profile = inner.profile.clone();
        profile.notifications = on;
        self.options.profile_dir.save(&profile)?;
        inner.profile = profile;
        Ok(self.preferences_of(&inner.profile))
    }

    pub async fn set_language(&self, language: LanguagePreference) -> Result<Preferences> {
        let mut inner = self.inner.lock().await;
        let mut profile = inner.profile.clone();
        profile.language = language;
        self.options.profile_dir.save(&profile)?;
        inner.profile = profile;
        Ok(self.preferences_of(&inner.profile))
    }

    /// Signs in: checks that the address is a Countersign server, opens a session for this
    /// device, and stores its tokens in the keyring.
    pub async fn sign_in(
        &self,
        server: &str,
        username: &str,
        password: &str,
    ) -> Result<SessionView> {
        let url = ServerUrl::parse(server)?;
        let api = ApiClient::new(url.clone())?;
        api.info().await?;
        let response = api
            .sign_in(&SignInRequest {
                username: username.trim().to_owned(),
                password: password.to_owned(),
                device_name: self.options.device_name.clone(),
            })
            .await?;
        let me = response.person;
        let mut inner = self.inner.lock().await;
        let key = AccountKey::new(url.as_str(), &me.username, &inner.profile.id);
        let stored = StoredTokens {
            tokens: response.tokens.clone(),
        };
        if let Err(err) = self
            .blocking_credentials(move |c| c.save(&key, &stored))
            .await
        {
            // Without the keyring the session would be lost at once; do not leave it open.
            let _ = api
                .revoke_session(&response.tokens.access_token, response.tokens.session_id)
                .await;
            return Err(err);
        }
        let mut profile = inner.profile.clone();
        if let Some(previous) = previous_key(&profile)
            && previous != AccountKey::new(url.as_str(), &me.username, &profile.id)
        {
            let _ = self
                .blocking_credentials(move |c| c.delete(&previous))
                .await;
        }
        profile.account = Some(AccountRecord {
            server: url.as_str().to_owned(),
            username: me.username.clone(),
            me: Some(me.clone()),
            signed_in: true,
        });
        self.options.profile_dir.save(&profile)?;
        inner.profile = profile;
        inner.connection = Some(Connection {
            api,
            key: AccountKey::new(url.as_str(), &me.username, &inner.profile.id),
            tokens: response.tokens,
        });
        Ok(SessionView::SignedIn {
            me,
            server: url.as_str().to_owned(),
            offline: false,
        })
    }

    /// Restores the stored sign-in from what this device remembers, without waiting for the
    /// server: the window opens on its cache at once, even behind a server that hangs (an
    /// ordinary request may take 30 s to give up). The identity is the one the last contact
    /// returned, and `offline` is false until a sync says otherwise; [`Client::me`] refreshes
    /// the identity and the sync loop ends a session the server no longer accepts. A profile
    /// that never learnt who is signed in asks the server, as [`Client::restore`] does.
    pub async fn restore_remembered(&self) -> Result<SessionView> {
        let Some((account, server)) = self.load_connection().await? else {
            return Ok(self.signed_out(None).await);
        };
        match account.me {
            Some(me) => Ok(SessionView::SignedIn {
                me,
                server,
                offline: false,
            }),
            None => self.restore().await,
        }
    }

    /// Restores the sign-in stored by an earlier run without asking for the password. While
    /// the server is unreachable the person stays signed in with their last known identity;
    /// a session that the server ended comes back as signed out with the reason.
    pub async fn restore(&self) -> Result<SessionView> {
        let Some((account, server)) = self.load_connection().await? else {
            return Ok(self.signed_out(None).await);
        };
        match self.me().await {
            Ok(me) => Ok(SessionView::SignedIn {
                me,
                server,
                offline: false,
            }),
            Err(err) if err.is_offline() => match account.me {
                Some(me) => Ok(SessionView::SignedIn {
                    me,
                    server,
                    offline: true,
                }),
                None => Err(err),
            },
            Err(err) if err.ends_session() => Ok(self.signed_out(Some(err)).await),
            Err(err) => Err(err),
        }
    }

    /// Loads the stored sign-in (profile + keyring) into a connection, without any network
    /// call. `None` when nobody is signed in on this profile.
    async fn load_connection(&self) -> Result<Option<(AccountRecord, String)>> {
        let (account, profile_id) = {
            let inner = self.inner.lock().await;
            (inner.profile.account.clone(), inner.profile.id.clone())
        };
        let Some(account) = account.filter(|a| a.signed_in) else {
            return Ok(None);
        };
        let key = AccountKey::new(&account.server, &account.username, &profile_id);
        let lookup = key.clone();
        let Some(stored) = self.blocking_credentials(move |c| c.load(&lookup)).await? else {
            // The keyring lost it (wiped, or a session-only sign-in from the last run).
            self.forget_sign_in().await?;
            return Ok(None);
        };
        let url = ServerUrl::parse(&account.server)?;
        let server = url.as_str().to_owned();
        let mut inner = self.inner.lock().await;
        inner.connection = Some(Connection {
            api: ApiClient::new(url)?,
            key,
            tokens: stored.tokens,
        });
        Ok(Some((account, server)))
    }

    /// The signed-in person, fresh from the server (and remembered for offline use).
    pub async fn me(&self) -> Result<Me> {
        let me = self
            .authed(|api, access| async move { api.me(&access).await })
            .await?;
        let mut inner = self.inner.lock().await;
        let mut profile = inner.profile.clone();
        if let Some(account) = profile.account.as_mut()
            && account.me.as_ref() != Some(&me)
        {
            account.me = Some(me.clone());
            self.options.profile_dir.save(&profile)?;
            inner.profile = profile;
        }
        Ok(me)
    }

    /// The person's sessions on all devices.
    pub async fn sessions(&self) -> Result<Vec<SessionInfo>> {
        self.authed(|api, access| async move { api.sessions(&access).await })
            .await
    }

    /// Revokes one of the person's sessions (another device, typically).
    pub async fn revoke_session(&self, id: Uuid) -> Result<()> {
        self.authed(|api, access| async move { api.revoke_session(&access, id).await })
            .await
    }

    /// Signs out: ends the session on the server when it can be reached, and always forgets
    /// the tokens here. The offline cache (drafts, unsent actions) is kept for the next
    /// sign-in of the same person; [`Client::sign_out_wiping`] deletes it too.
    pub async fn sign_out(&self) -> Result<SessionView> {
        self.sign_out_with(false).await
    }

    /// Signs out and deletes this account's offline cache, unsent actions included.
    pub async fn sign_out_wiping(&self) -> Result<SessionView> {
        self.sign_out_with(true).await
    }

    async fn sign_out_with(&self, wipe: bool) -> Result<SessionView> {
        if wipe && self.inner.lock().await.cache.is_none() {
            // Open it to learn its path; a damaged one is rebuilt and then deleted.
            let _ = self.open_cache().await;
        }
        if self.inner.lock().await.connection.is_none() {
            self.load_connection().await?;
        }
        let connection = self.inner.lock().await.connection.take();
        if let Some(conn) = connection {
            let revoked = conn
                .api
                .revoke_session(&conn.tokens.access_token, conn.tokens.session_id)
                .await;
            if let Err(err) = revoked {
                // Offline or already ended: the local sign-out still happens; an open
                // session expires on the server by itself.
                tracing::info!(error = %err, "could not end the session on the server");
            }
        }
        self.close_cache(wipe).await?;
        self.forget_sign_in().await?;
        Ok(self.signed_out(None).await)
    }

    async fn signed_out(&self, reason: Option<ClientError>) -> SessionView {
        let inner = self.inner.lock().await;
        let account = inner.profile.account.as_ref();
        SessionView::SignedOut {
            reason,
            server: account
                .map(|a| a.server.clone())
                .or_else(|| self.options.default_server.clone()),
            username: account.map(|a| a.username.clone()),
        }
    }

    /// Deletes the stored tokens and marks the profile signed out, keeping the server and
    /// user name for the next sign-in form.
    async fn forget_sign_in(&self) -> Result<()> {
        let mut inner = self.inner.lock().await;
        inner.connection = None;
        let mut profile = inner.profile.clone();
        if let Some(key) = previous_key(&profile) {
            self.blocking_credentials(move |c| c.delete(&key)).await?;
        }
        if let Some(account) = profile.account.as_mut() {
            account.signed_in = false;
            account.me = None;
        }
        self.options.profile_dir.save(&profile)?;
        inner.profile = profile;
        Ok(())
    }

    /// Runs an authenticated call; when the server says the access token expired, refreshes
    /// once and retries. A session the server ended is forgotten here too.
    async fn authed<T, F, Fut>(&self, call: F) -> Result<T>
    where
        F: Fn(ApiClient, String) -> Fut,
        Fut: std::future::Future<Output = Result<T>>,
    {
        let (api, access) = self.current_access().await?;
        let first = call(api.clone(), access.clone()).await;
        let result = match first {
            Err(err) if err.wants_refresh() => match self.refresh(&access).await {
                Ok(fresh) => call(api, fresh).await,
                Err(err) => Err(err),
            },
            other => other,
        };
        if let Err(err) = &result
            && err.ends_session()
        {
            self.forget_sign_in().await?;
        }
        result
    }

    async fn current_access(&self) -> Result<(ApiClient, String)> {
        let inner = self.inner.lock().await;
        inner
            .connection
            .as_ref()
            .map(|c| (c.api.clone(), c.tokens.access_token.clone()))
            .ok_or_else(|| {
                ClientError::new(
                    ClientErrorCode::SignedOut,
                    "Nobody is signed in. Sign in first.",
                )
            })
    }

    /// Trades the refresh token for a new pair, once, however many calls found the access
    /// token stale at the same moment: the lock serialises them and the later ones see that
    /// the token they hold was already replaced.
    async fn refresh(&self, stale_access: &str) -> Result<String> {
        let mut inner = self.inner.lock().await;
        let Some(conn) = inner.connection.as_mut() else {
            return Err(ClientError::new(
                ClientErrorCode::SignedOut,
                "Nobody is signed in.",
            ));
        };
        if conn.tokens.access_token != stale_access {
            return Ok(conn.tokens.access_token.clone());
        }
        let tokens = conn.api.refresh(&conn.tokens.refresh_token).await?;
        conn.tokens = tokens.clone();
        let key = conn.key.clone();
        let access = tokens.access_token.clone();
        drop(inner);
        let stored = StoredTokens { tokens };
        if let Err(err) = self
            .blocking_credentials(move |c| c.save(&key, &stored))
            .await
        {
            // The server already rotated: keep working with the new tokens in memory, but the
            // next start will have to sign in again.
            tracing::warn!(error = %err, "could not store refreshed tokens in the keyring");
        }
        Ok(access)
    }

    /// Keyring calls block on the OS (a D-Bus round trip on Linux): keep them off the async
    /// workers.
    async fn blocking_credentials<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&dyn CredentialStore) -> Result<T> + Send + 'static,
    {
        let credentials = self.credentials.clone();
        tokio::task::spawn_blocking(move || f(credentials.as_ref()))
            .await
            .map_err(|e| ClientError::internal(format!("keyring call failed: {e}")))?
    }
}

fn previous_key(profile: &Profile) -> Option<AccountKey> {
    profile
        .account
        .as_ref()
        .map(|a| AccountKey::new(&a.server, &a.username, &profile.id))
}

/// A device name for the session list: "<app> on <host name>".
pub fn device_name(app: &str) -> String {
    let host = gethostname::gethostname()
        .to_string_lossy()
        .trim()
        .to_owned();
    if host.is_empty() {
        app.to_owned()
    } else {
        format!("{app} on {host}")
    }
}
