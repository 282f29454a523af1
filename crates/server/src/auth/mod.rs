//! Authentication: sign-in with throttling, per-device sessions with short-lived access
//! tokens and rotating refresh tokens, and turning a bearer token into a [`Caller`].
//! Every outcome, success or refusal, is written to the audit log.

pub mod password;
pub mod throttle;
pub mod tokens;

use chrono::{DateTime, Duration, Utc};
use countersign_api::{DepartmentRef, ErrorCode, Me, SignInRequest, SignInResponse, Tokens};
use uuid::Uuid;

use crate::error::{Error, Result};
use crate::state::AppState;
use crate::store::{AuditEntry, IssuedHashes, Person, PersonStatus, SessionRecord, ThrottleState};
use throttle::ThrottlePolicy;

/// The longest user name, password and device name sign-in looks at. Longer input is refused
/// before any hashing, so a megabyte password cannot tie up the hashing pool.
const MAX_USERNAME: usize = 64;
const MAX_PASSWORD: usize = 1024;
const MAX_DEVICE_NAME: usize = 128;

/// How often `last_seen_at` is written for a busy session: once a minute is precise enough
/// for the session list and spares the database a write per request.
const TOUCH_EVERY_SECS: i64 = 60;

/// Where a request came from, for throttling and the audit log.
#[derive(Debug, Clone, Default)]
pub struct Origin {
    pub source: Option<String>,
    pub device: Option<String>,
}

/// An authenticated request: who, on which session.
#[derive(Debug, Clone)]
pub struct Caller {
    pub person: Person,
    pub session: SessionRecord,
}

/// User names are matched case-insensitively and stored in lower case.
pub fn normalise_username(raw: &str) -> String {
    raw.trim().to_lowercase()
}

impl AppState {
    /// Records one audited event. A failure to audit fails the request: an action that
    /// cannot be recorded must not happen silently.
    pub async fn audit(
        &self,
        actor: Option<&Person>,
        action: &str,
        resource: &str,
        outcome: &str,
        origin: &Origin,
    ) -> Result<()> {
        let entry = AuditEntry {
            at: self.clock.now(),
            actor_id: actor.map(|p| p.id),
            actor: actor.map_or_else(|| "anonymous".to_owned(), |p| p.username.clone()),
            action: action.to_owned(),
            resource: resource.to_owned(),
            outcome: outcome.to_owned(),
            source: origin.source.clone(),
            device: origin.device.clone(),
        };
        self.store.append_audit(&entry).await?;
        Ok(())
    }

    /// Counts one failed attempt (sign-in, activation) against the account and the source,
    /// each with its own policy, from the states read before the attempt.
    pub(crate) async fn count_failure(
        &self,
        (account_key, account): (&str, Option<&ThrottleState>),
        (source_key, source): (&str, Option<&ThrottleState>),
        now: DateTime<Utc>,
    ) -> Result<()> {
        let policies = &self.settings.auth;
        let account = throttle::after_failure(account, now, &policies.account_throttle);
        self.store.save_throttle(account_key, &account).await?;
        let source = throttle::after_failure(source, now, &policies.source_throttle);
        self.store.save_throttle(source_key, &source).await?;
        Ok(())
    }

    /// Audits a refusal and hands it back, so call sites read `return Err(self.refuse(..))`.
    async fn refuse(
        &self,
        actor: Option<&Person>,
        action: &str,
        resource: &str,
        error: Error,
        origin: &Origin,
    ) -> Error {
        if let Err(audit_failure) = self
            .audit(actor, action, resource, error.code().as_str(), origin)
            .await
        {
            return audit_failure;
        }
        error
    }

    /// The public view of a person.
    pub async fn me(&self, person: &Person) -> Result<Me> {
        let department = match person.department_id {
            Some(id) => self
                .store
                .find_department(id)
                .await?
                .map(|d| DepartmentRef {
                    id: d.id,
                    name: d.name,
                }),
            None => None,
        };
        Ok(Me {
            id: person.id,
            username: person.username.clone(),
            display_name: person.display_name.clone(),
            department,
            roles: person.roles.clone(),
        })
    }

    /// `POST /v1/sessions`.
    pub async fn sign_in(&self, req: SignInRequest, origin: &Origin) -> Result<SignInResponse> {
        let username = normalise_username(&req.username);
        let device_name = req.device_name.trim().to_owned();
        if username.is_empty() || req.password.is_empty() {
            return Err(Error::malformed("Enter both a user name and a password."));
        }
        if username.chars().count() > MAX_USERNAME
            || req.password.len() > MAX_PASSWORD
            || device_name.chars().count() > MAX_DEVICE_NAME
        {
            return Err(Error::malformed(format!(
                "User name, password or device name is too long (limits: {MAX_USERNAME}, \
                 {MAX_PASSWORD} bytes, {MAX_DEVICE_NAME})."
            )));
        }
        let device_name = if device_name.is_empty() {
            "unnamed device".to_owned()
        } else {
            device_name
        };
        let origin = Origin {
            source: origin.source.clone(),
            device: Some(device_name.clone()),
        };
        let resource = format!("account:{username}");
        let now = self.clock.now();
        let account_key = format!("account:{username}");
        let source_key = format!("source:{}", origin.source.as_deref().unwrap_or("unknown"));

        let account_state = self.store.load_throttle(&account_key).await?;
        let source_state = self.store.load_throttle(&source_key).await?;
        let wait = [
            throttle::locked_for(account_state.as_ref(), now),
            throttle::locked_for(source_state.as_ref(), now),
        ]
        .into_iter()
        .flatten()
        .max();
        if let Some(wait) = wait {
            // Round up: "try again in 0 s" would be a lie.
            let secs = u64::try_from((wait.num_milliseconds() + 999) / 1000)
                .unwrap_or(1)
                .max(1);
            let error = Error::Refused {
                code: ErrorCode::LoginThrottled,
                message: format!("Too many failed sign-ins. Try again in {secs} s."),
                retry_after_secs: Some(secs),
                refusal: None,
            };
            return Err(self
                .refuse(None, "session.create", &resource, error, &origin)
                .await);
        }

        let person = self.store.find_person_by_username(&username).await?;
        let stored_hash = person.as_ref().and_then(|p| p.password_hash.clone());
        let password = req.password;
        let verified = tokio::task::spawn_blocking(move || {
            password::verify(&password, stored_hash.as_deref())
        })
        .await
        .map_err(|e| Error::Internal(format!("password check panicked: {e}")))?;

        let person = match person {
            Some(person) if verified => person,
            _ => {
                self.count_failure(
                    (&account_key, account_state.as_ref()),
                    (&source_key, source_state.as_ref()),
                    now,
                )
                .await?;
                let error = Error::refused(
                    ErrorCode::InvalidCredentials,
                    "Wrong user name or password.",
                );
                return Err(self
                    .refuse(None, "session.create", &resource, error, &origin)
                    .await);
            }
        };

        if person.status != PersonStatus::Active {
            let error = Error::refused(
                ErrorCode::AccountDisabled,
                "This account is disabled. Ask your IT administrator if that is a mistake.",
            );
            return Err(self
                .refuse(Some(&person), "session.create", &resource, error, &origin)
                .await);
        }
        self.store.clear_throttle(&account_key).await?;

        let (tokens, issued) = self.issue_tokens(Uuid::now_v7(), now);
        let session = SessionRecord {
            id: tokens.session_id,
            person_id: person.id,
            device_name,
            source: origin.source.clone(),
            created_at: now,
            last_seen_at: now,
            access_hash: issued.access_hash,
            access_expires_at: issued.access_expires_at,
            refresh_hash: issued.refresh_hash,
            refresh_expires_at: issued.refresh_expires_at,
            revoked_at: None,
            revoked_reason: None,
        };
        self.store.insert_session(&session).await?;
        self.audit(
            Some(&person),
            "session.create",
            &format!("session:{}", session.id),
            "ok",
            &origin,
        )
        .await?;
        Ok(SignInResponse {
            tokens,
            person: self.me(&person).await?,
        })
    }

    fn issue_tokens(&self, session_id: Uuid, now: DateTime<Utc>) -> (Tokens, IssuedHashes) {
        let auth = &self.settings.auth;
        let access_token = tokens::generate(tokens::ACCESS_PREFIX);
        let refresh_token = tokens::generate(tokens::REFRESH_PREFIX);
        let issued = IssuedHashes {
            access_hash: tokens::hash(&access_token),
            access_expires_at: now + secs(auth.access_ttl_secs),
            refresh_hash: tokens::hash(&refresh_token),
            refresh_expires_at: now + secs(auth.refresh_ttl_secs),
        };
        let tokens = Tokens {
            session_id,
            access_token,
            access_expires_at: issued.access_expires_at,
            refresh_token,
            refresh_expires_at: issued.refresh_expires_at,
        };
        (tokens, issued)
    }

    /// `POST /v1/sessions/refresh`: a new pair for a live session; a replayed refresh token
    /// ends the session.
    pub async fn refresh(&self, refresh_token: &str, origin: &Origin) -> Result<Tokens> {
        let hash = tokens::hash(refresh_token);
        let now = self.clock.now();
        let Some(session) = self.store.find_session_by_refresh(&hash).await? else {
            return Err(self.refused_refresh(&hash, origin).await);
        };
        let person = self.store.find_person(session.person_id).await?;
        let resource = format!("session:{}", session.id);
        if session.revoked_at.is_some() {
            let error = session_revoked();
            return Err(self
                .refuse(person.as_ref(), "session.refresh", &resource, error, origin)
                .await);
        }
        if session.refresh_expires_at <= now {
            let error = Error::refused(
                ErrorCode::TokenExpired,
                "This sign-in has expired. Please sign in again.",
            );
            return Err(self
                .refuse(person.as_ref(), "session.refresh", &resource, error, origin)
                .await);
        }
        let person = match person {
            Some(p) if p.status == PersonStatus::Active => p,
            other => {
                self.store
                    .revoke_session(session.id, "account_disabled", now)
                    .await?;
                let error = Error::refused(ErrorCode::AccountDisabled, "This account is disabled.");
                return Err(self
                    .refuse(other.as_ref(), "session.refresh", &resource, error, origin)
                    .await);
            }
        };
        let (tokens, issued) = self.issue_tokens(session.id, now);
        if !self
            .store
            .rotate_session(session.id, &hash, &issued, now)
            .await?
        {
            // Another refresh with the same token won the race: this copy is a replay.
            return Err(self.refused_refresh(&hash, origin).await);
        }
        self.audit(Some(&person), "session.refresh", &resource, "ok", origin)
            .await?;
        Ok(tokens)
    }

    /// A refresh token that is not the current one of any session: a spent one revokes its
    /// session, anything else is simply invalid.
    async fn refused_refresh(&self, hash: &[u8], origin: &Origin) -> Error {
        let spent = match self.store.find_spent_refresh(hash).await {
            Ok(spent) => spent,
            Err(e) => return e.into(),
        };
        let Some(session_id) = spent else {
            let error = Error::refused(
                ErrorCode::TokenInvalid,
                "This sign-in is not known to the server. Please sign in again.",
            );
            return self
                .refuse(None, "session.refresh", "session:?", error, origin)
                .await;
        };
        let now = self.clock.now();
        if let Err(e) = self
            .store
            .revoke_session(session_id, "refresh_reused", now)
            .await
        {
            return e.into();
        }
        let owner = match self.store.find_session(session_id).await {
            Ok(Some(s)) => self.store.find_person(s.person_id).await.ok().flatten(),
            _ => None,
        };
        let error = Error::refused(
            ErrorCode::RefreshReused,
            "This sign-in was used from two places, so it has been ended for safety. \
             Please sign in again.",
        );
        self.refuse(
            owner.as_ref(),
            "session.refresh",
            &format!("session:{session_id}"),
            error,
            origin,
        )
        .await
    }

    /// Resolves a bearer token to a caller, or says precisely why not.
    pub async fn authenticate(&self, bearer: Option<&str>) -> Result<Caller> {
        let Some(token) = bearer else {
            return Err(Error::refused(
                ErrorCode::Unauthenticated,
                "Sign in first: this request needs an access token.",
            ));
        };
        let now = self.clock.now();
        let Some((session, person)) = self
            .store
            .find_session_by_access(&tokens::hash(token))
            .await?
        else {
            return Err(Error::refused(
                ErrorCode::TokenInvalid,
                "The access token is not valid on this server.",
            ));
        };
        if session.revoked_at.is_some() {
            return Err(session_revoked());
        }
        if session.access_expires_at <= now {
            return Err(Error::refused(
                ErrorCode::TokenExpired,
                "The access token has expired; refresh it.",
            ));
        }
        if person.status != PersonStatus::Active {
            return Err(Error::refused(
                ErrorCode::AccountDisabled,
                "This account is disabled.",
            ));
        }
        if now - session.last_seen_at >= Duration::seconds(TOUCH_EVERY_SECS) {
            self.store.touch_session(session.id, now).await?;
        }
        Ok(Caller { person, session })
    }

    /// Revokes one of the caller's own sessions (their current one signs them out).
    pub async fn revoke_own_session(
        &self,
        caller: &Caller,
        session_id: Uuid,
        origin: &Origin,
    ) -> Result<()> {
        let resource = format!("session:{session_id}");
        let owned = self
            .store
            .find_session(session_id)
            .await?
            .filter(|s| s.person_id == caller.person.id && s.revoked_at.is_none());
        if owned.is_none() {
            // Someone else's session and an unknown one look the same: no probing for ids.
            let error = Error::not_found("That session");
            return Err(self
                .refuse(
                    Some(&caller.person),
                    "session.revoke",
                    &resource,
                    error,
                    origin,
                )
                .await);
        }
        let reason = if session_id == caller.session.id {
            "signed_out"
        } else {
            "revoked_by_owner"
        };
        self.store
            .revoke_session(session_id, reason, self.clock.now())
            .await?;
        self.audit(
            Some(&caller.person),
            "session.revoke",
            &resource,
            "ok",
            origin,
        )
        .await
    }
}

fn session_revoked() -> Error {
    Error::refused(
        ErrorCode::SessionRevoked,
        "This session was signed out or revoked. Please sign in again.",
    )
}

fn secs(n: u64) -> Duration {
    Duration::seconds(i64::try_from(n).unwrap_or(i64::MAX / 4))
}

/// Per-account and per-source lock-out policies, as settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthSettings {
    /// Lifetime of an access token. Short, because it is not checked against revocation
    /// anywhere but here and leaks through logs more easily than a refresh token.
    pub access_ttl_secs: u64,
    /// Lifetime of a refresh token; each refresh starts a new one.
    pub refresh_ttl_secs: u64,
    pub account_throttle: ThrottlePolicy,
    pub source_throttle: ThrottlePolicy,
}

impl Default for AuthSettings {
    fn default() -> Self {
        Self {
            access_ttl_secs: 15 * 60,
            refresh_ttl_secs: 30 * 24 * 3600,
            account_throttle: ThrottlePolicy::ACCOUNT,
            source_throttle: ThrottlePolicy::SOURCE,
        }
    }
}
