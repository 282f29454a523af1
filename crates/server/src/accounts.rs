//! Accounts opened through the account-application workflow (requirement S1).
//!
//! When an `account_application` request is finally approved, the server opens the account in
//! the approval's own transaction: a person with status `invited`, no password, the
//! application's department, the role `employee`, and a one-time activation secret of which
//! only the hash is kept. The secret is shown once, in the answer of the IT administrator
//! whose approval opened the account; the new employee trades it for a password at
//! `POST /v1/accounts/activate`. A lost or expired secret is replaced by IT
//! (`POST /v1/accounts/{id}/activation`), never shown again.
//!
//! The user name is the form's `username` field when a template version has one; the shipped
//! version 1 has none, so it is the employee number in lower case (`E1024` → `e1024`): unique
//! per employee, deterministic, and free of the transliteration a Chinese name would need.

use chrono::{DateTime, Duration, Utc};
use countersign_api::ErrorCode;
use countersign_api::accounts::{AccountActivation, ActivateRequest, ActivatedAccount};
use countersign_api::requests::RefusalView;
use serde_json::Value;
use uuid::Uuid;

use crate::auth::{Caller, Origin, normalise_username, password, throttle, tokens};
use crate::error::{Error, Result};
use crate::people::valid_username;
use crate::policy::{self, Permission};
use crate::requests::plain_refusal;
use crate::state::AppState;
use crate::store::{
    ActivationOutcome, ActivationRecord, ApprovalEffect, AuditEntry, FeedNotice, OpenAccount,
    Person, PersonStatus, RequestRecord,
};

/// Secrets carry this prefix so that secret scanners recognise a leaked one.
pub const ACTIVATION_PREFIX: &str = "csact_";

/// How long an activation secret stays usable.
pub const ACTIVATION_TTL_DAYS: i64 = 7;

/// The template whose approval opens an account.
pub const ACCOUNT_APPLICATION: &str = "account_application";

/// The longest inputs activation looks at; longer input is refused before any hashing.
const MAX_USERNAME: usize = 64;
const MAX_SECRET: usize = 128;
const MAX_PASSWORD: usize = 1024;

/// The user name an account application asks for: its `username` field when the template
/// version has one, otherwise its employee number, in lower case.
pub fn username_from_form(form: &Value) -> Option<String> {
    ["username", "employee_number"]
        .iter()
        .find_map(|key| form.get(*key).and_then(Value::as_str))
        .map(normalise_username)
        .filter(|u| !u.is_empty())
}

/// An audit line for something a signed-in person did.
pub(crate) fn caller_audit(
    caller: &Caller,
    at: DateTime<Utc>,
    action: &str,
    resource: String,
    outcome: &str,
    origin: &Origin,
) -> AuditEntry {
    AuditEntry {
        at,
        actor_id: Some(caller.person.id),
        actor: caller.person.username.clone(),
        action: action.to_owned(),
        resource,
        outcome: outcome.to_owned(),
        source: origin.source.clone(),
        device: Some(caller.session.device_name.clone()),
    }
}

/// Constant-time comparison of two hashes: how long a mismatch takes says nothing about where.
fn same_hash(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A fresh activation secret and its stored record.
fn new_activation(
    person_id: Uuid,
    now: DateTime<Utc>,
    request_id: Option<Uuid>,
) -> (String, ActivationRecord) {
    let secret = tokens::generate(ACTIVATION_PREFIX);
    let record = ActivationRecord {
        person_id,
        secret_hash: tokens::hash(&secret),
        created_at: now,
        expires_at: now + Duration::days(ACTIVATION_TTL_DAYS),
        used_at: None,
        request_id,
    };
    (secret, record)
}

/// What the final approval of an account application writes, and the secret to show.
pub(crate) struct PlannedAccount {
    pub effect: ApprovalEffect,
    pub activation: Option<AccountActivation>,
}

impl AppState {
    /// Plans the account an approved application opens. `reveal` is whether the approver's
    /// answer may carry the secret (the REST answer to someone who manages accounts; never a
    /// stored mutation answer, which would keep it in the clear). A refusal means the
    /// approval must not stand as it is: IT returns or rejects the application instead.
    pub(crate) async fn plan_account(
        &self,
        caller: &Caller,
        record: &RequestRecord,
        reveal: bool,
        origin: &Origin,
    ) -> Result<std::result::Result<PlannedAccount, RefusalView>> {
        let form = &record.form;
        let Some(username) = username_from_form(form).filter(|u| valid_username(u)) else {
            return Ok(Err(plain_refusal(
                "invalid_username",
                "The application gives no usable user name (employee number).",
            )));
        };
        if self
            .store
            .find_person_by_username(&username)
            .await?
            .is_some()
        {
            return Ok(Err(plain_refusal(
                "username_taken",
                format!(
                    "An account named '{username}' already exists; return the application to \
                     correct the employee number."
                ),
            )));
        }
        let display_name = form
            .get("employee_name")
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .unwrap_or(&username)
            .to_owned();
        let department = match form
            .get("department")
            .and_then(Value::as_str)
            .and_then(|d| Uuid::parse_str(d).ok())
        {
            Some(id) => self.store.find_department(id).await?,
            None => None,
        };
        let Some(department) = department else {
            return Ok(Err(plain_refusal(
                "unknown_department",
                "The application names a department this server does not have.",
            )));
        };
        // The department head is the new employee's first manager, so that their own
        // requests route from day one; HR can change it with a transfer.
        let manager_id = match department.head_id {
            Some(head) => self
                .store
                .find_person(head)
                .await?
                .filter(|p| p.status == PersonStatus::Active)
                .map(|p| p.id),
            None => None,
        };
        let now = self.clock.now();
        let person = Person {
            id: Uuid::now_v7(),
            username: username.clone(),
            display_name,
            email: None,
            department_id: Some(department.id),
            manager_id,
            roles: vec!["employee".to_owned()],
            positions: vec![],
            status: PersonStatus::Invited,
            password_hash: None,
            created_at: now,
            last_sign_in_at: None,
            version: 1,
        };
        let (secret, activation) = new_activation(person.id, now, Some(record.id));
        let resource = format!("person:{}", person.id);
        let mut audits = vec![caller_audit(
            caller,
            now,
            "account.open",
            resource.clone(),
            "ok",
            origin,
        )];
        let shown = reveal && policy::has(&caller.person, Permission::ManageAccounts);
        if shown {
            audits.push(caller_audit(
                caller,
                now,
                "account.activation_shown",
                resource,
                "ok",
                origin,
            ));
        }
        let shown_activation = shown.then(|| AccountActivation {
            person_id: person.id,
            username: person.username.clone(),
            secret,
            expires_at: activation.expires_at,
        });
        Ok(Ok(PlannedAccount {
            effect: ApprovalEffect::OpenAccount(OpenAccount {
                person,
                activation,
                audits,
            }),
            activation: shown_activation,
        }))
    }

    /// `POST /v1/accounts/{id}/activation`: a new secret for an invited account whose secret
    /// was lost or expired. The old one stops working.
    pub async fn reissue_activation(
        &self,
        caller: &Caller,
        person_id: Uuid,
        origin: &Origin,
    ) -> Result<AccountActivation> {
        let resource = format!("person:{person_id}");
        let now = self.clock.now();
        let person = self
            .store
            .find_person(person_id)
            .await?
            .filter(|p| p.status == PersonStatus::Invited);
        let Some(person) = person else {
            let error = Error::rule(plain_refusal(
                "not_invited",
                "Only an account that was opened and not yet activated gets a new secret.",
            ));
            return Err(self
                .refuse_audited(
                    caller,
                    "account.activation_reissue",
                    resource,
                    error,
                    origin,
                )
                .await);
        };
        let (secret, activation) = new_activation(person.id, now, None);
        let audit = caller_audit(
            caller,
            now,
            "account.activation_reissue",
            resource.clone(),
            "ok",
            origin,
        );
        if !self.store.replace_activation(&activation, &audit).await? {
            let error = Error::rule(plain_refusal(
                "not_invited",
                "The account was activated or closed in the meantime.",
            ));
            return Err(self
                .refuse_audited(
                    caller,
                    "account.activation_reissue",
                    resource,
                    error,
                    origin,
                )
                .await);
        }
        Ok(AccountActivation {
            person_id: person.id,
            username: person.username,
            secret,
            expires_at: activation.expires_at,
        })
    }

    /// Audits a refused call of a signed-in person and hands the error back.
    pub(crate) async fn refuse_audited(
        &self,
        caller: &Caller,
        action: &str,
        resource: String,
        error: Error,
        origin: &Origin,
    ) -> Error {
        let entry = caller_audit(
            caller,
            self.clock.now(),
            action,
            resource,
            error.code().as_str(),
            origin,
        );
        match self.store.append_audit(&entry).await {
            Ok(_) => error,
            Err(e) => e.into(),
        }
    }

    /// `POST /v1/accounts/activate`: the new employee sets their password. Throttled like
    /// sign-in, per account and per source address (the source budget is sign-in's own, so
    /// guessing secrets and guessing passwords draw on one allowance).
    pub async fn activate_account(
        &self,
        req: ActivateRequest,
        origin: &Origin,
    ) -> Result<ActivatedAccount> {
        let username = normalise_username(&req.username);
        let secret = req.activation_secret.trim().to_owned();
        if username.is_empty() || secret.is_empty() || req.password.is_empty() {
            return Err(Error::malformed(
                "Enter the user name, the activation secret and a new password.",
            ));
        }
        if username.chars().count() > MAX_USERNAME
            || secret.len() > MAX_SECRET
            || req.password.len() > MAX_PASSWORD
        {
            return Err(Error::malformed(format!(
                "User name, activation secret or password is too long (limits: \
                 {MAX_USERNAME}, {MAX_SECRET}, {MAX_PASSWORD} bytes)."
            )));
        }
        let resource = format!("account:{username}");
        let now = self.clock.now();
        let account_key = format!("activation:{username}");
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
            let secs = u64::try_from((wait.num_milliseconds() + 999) / 1000)
                .unwrap_or(1)
                .max(1);
            let error = Error::Refused {
                code: ErrorCode::LoginThrottled,
                message: format!("Too many failed activations. Try again in {secs} s."),
                retry_after_secs: Some(secs),
                refusal: None,
            };
            return Err(self
                .refuse_anonymous("account.activate", &resource, error, origin)
                .await);
        }

        let secret_hash = tokens::hash(&secret);
        let person = self.store.find_person_by_username(&username).await?;
        // Decide before hashing the password (slow): only the right secret is worth it. A
        // used secret is told apart even after the account became active, so that its owner
        // learns to sign in rather than to retry.
        let precheck = match &person {
            Some(p) => match self.store.find_activation(p.id).await? {
                Some(a) if same_hash(&a.secret_hash, &secret_hash) => {
                    if a.used_at.is_some() {
                        ActivationOutcome::Used
                    } else if p.status != PersonStatus::Invited {
                        ActivationOutcome::WrongSecret
                    } else if a.expires_at <= now {
                        ActivationOutcome::Expired
                    } else {
                        ActivationOutcome::Activated {
                            version: 0,
                            last_seq: 0,
                        }
                    }
                }
                _ => ActivationOutcome::WrongSecret,
            },
            None => ActivationOutcome::WrongSecret,
        };
        let outcome = match (precheck, &person) {
            (ActivationOutcome::Activated { .. }, Some(p)) => {
                let plain = req.password;
                let hashed = tokio::task::spawn_blocking(move || password::hash(&plain))
                    .await
                    .map_err(|e| Error::Internal(format!("password hashing panicked: {e}")))?;
                let hashed = match hashed {
                    Ok(h) => h,
                    Err(password::PasswordError::TooShort) => {
                        let error = Error::malformed(format!(
                            "The password is too short: use at least {} characters.",
                            password::MIN_PASSWORD_CHARS
                        ));
                        return Err(self
                            .refuse_anonymous("account.activate", &resource, error, origin)
                            .await);
                    }
                    Err(e) => return Err(Error::Internal(e.to_string())),
                };
                let audit = AuditEntry {
                    at: now,
                    actor_id: Some(p.id),
                    actor: p.username.clone(),
                    action: "account.activate".to_owned(),
                    resource: resource.clone(),
                    outcome: "ok".to_owned(),
                    source: origin.source.clone(),
                    device: None,
                };
                self.store
                    .activate_account(p.id, &secret_hash, &hashed, now, &audit)
                    .await?
            }
            (other, _) => other,
        };
        match (outcome, person) {
            (ActivationOutcome::Activated { last_seq, .. }, Some(p)) => {
                self.store.clear_throttle(&account_key).await?;
                self.events.publish(FeedNotice {
                    last_seq,
                    audiences: vec![crate::store::EVERYONE],
                });
                Ok(ActivatedAccount {
                    person_id: p.id,
                    username: p.username,
                })
            }
            (ActivationOutcome::Used, _) => {
                let error = Error::rule(plain_refusal(
                    "activation_used",
                    "This activation secret was already used. Sign in with your password, or \
                     ask IT for a new secret.",
                ));
                Err(self
                    .refuse_anonymous("account.activate", &resource, error, origin)
                    .await)
            }
            (ActivationOutcome::Expired, _) => {
                let error = Error::rule(plain_refusal(
                    "activation_expired",
                    format!(
                        "This activation secret has expired (they last {ACTIVATION_TTL_DAYS} \
                         days). Ask IT for a new one."
                    ),
                ));
                Err(self
                    .refuse_anonymous("account.activate", &resource, error, origin)
                    .await)
            }
            _ => {
                self.count_failure(
                    (&account_key, account_state.as_ref()),
                    (&source_key, source_state.as_ref()),
                    now,
                )
                .await?;
                // One answer for an unknown name and a wrong secret: no probing for accounts.
                let error = Error::refused(
                    ErrorCode::InvalidCredentials,
                    "The user name or the activation secret is wrong.",
                );
                Err(self
                    .refuse_anonymous("account.activate", &resource, error, origin)
                    .await)
            }
        }
    }

    async fn refuse_anonymous(
        &self,
        action: &str,
        resource: &str,
        error: Error,
        origin: &Origin,
    ) -> Error {
        match self
            .audit(None, action, resource, error.code().as_str(), origin)
            .await
        {
            Ok(()) => error,
            Err(e) => e,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_user_name_comes_from_the_form_or_the_employee_number() {
        let form = serde_json::json!({"employee_number": "E1024", "employee_name": "许明"});
        assert_eq!(username_from_form(&form).as_deref(), Some("e1024"));
        let form = serde_json::json!({"employee_number": "E1024", "username": " Xu.Ming "});
        assert_eq!(
            username_from_form(&form).as_deref(),
            Some("xu.ming"),
            "a template version with a username field wins"
        );
        assert_eq!(username_from_form(&serde_json::json!({})), None);
    }
}
