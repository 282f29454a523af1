//! Where the session's tokens live (requirement D7): the OS keyring — Secret Service on
//! Linux, Keychain on macOS, Credential Manager on Windows — never a plain file.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use countersign_api::Tokens;
use serde::{Deserialize, Serialize};

use crate::error::{ClientError, ClientErrorCode, Result};

/// The keyring "service" every Countersign secret is filed under.
pub const KEYRING_SERVICE: &str = "countersign";

/// Names one stored sign-in: a person on a server from one profile on this machine.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AccountKey(String);

impl AccountKey {
    pub fn new(server: &str, username: &str, profile_id: &str) -> Self {
        Self(format!("{username}@{server}#{profile_id}"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The secret part of a sign-in as stored.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredTokens {
    pub tokens: Tokens,
}

impl std::fmt::Debug for StoredTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredTokens")
            .field("tokens", &self.tokens)
            .finish()
    }
}

/// A place to keep secrets. Calls may block on the OS (a D-Bus round trip); async callers
/// run them on the blocking pool.
pub trait CredentialStore: Send + Sync + 'static {
    fn load(&self, key: &AccountKey) -> Result<Option<StoredTokens>>;
    fn save(&self, key: &AccountKey, tokens: &StoredTokens) -> Result<()>;
    fn delete(&self, key: &AccountKey) -> Result<()>;
    /// True when secrets outlive the process (false for a session-only sign-in).
    fn persistent(&self) -> bool;
}

/// The OS keyring.
#[derive(Debug, Clone)]
pub struct KeyringCredentials {
    service: String,
}

impl Default for KeyringCredentials {
    fn default() -> Self {
        Self {
            service: KEYRING_SERVICE.to_owned(),
        }
    }
}

fn keyring_error(what: &str, err: &keyring::Error) -> ClientError {
    ClientError::new(
        ClientErrorCode::KeyringUnavailable,
        format!("The system keyring could not {what}: {err}"),
    )
}

impl KeyringCredentials {
    fn entry(&self, key: &AccountKey) -> Result<keyring::Entry> {
        keyring::Entry::new(&self.service, key.as_str()).map_err(|e| keyring_error("be opened", &e))
    }
}

impl CredentialStore for KeyringCredentials {
    fn load(&self, key: &AccountKey) -> Result<Option<StoredTokens>> {
        match self.entry(key)?.get_password() {
            Ok(secret) => match serde_json::from_str(&secret) {
                Ok(tokens) => Ok(Some(tokens)),
                // Not ours or from an incompatible version: as good as no sign-in.
                Err(_) => Ok(None),
            },
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(keyring_error("be read", &e)),
        }
    }

    fn save(&self, key: &AccountKey, tokens: &StoredTokens) -> Result<()> {
        let secret = serde_json::to_string(tokens)
            .map_err(|e| ClientError::internal(format!("cannot encode tokens: {e}")))?;
        self.entry(key)?
            .set_password(&secret)
            .map_err(|e| keyring_error("store the sign-in", &e))
    }

    fn delete(&self, key: &AccountKey) -> Result<()> {
        match self.entry(key)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(keyring_error("remove the sign-in", &e)),
        }
    }

    fn persistent(&self) -> bool {
        true
    }
}

/// Secrets kept in memory only: a session-only sign-in for machines without a usable
/// keyring. Signing in again is needed after every start.
#[derive(Debug, Clone, Default)]
pub struct SessionOnlyCredentials {
    secrets: Arc<Mutex<HashMap<AccountKey, StoredTokens>>>,
}

impl CredentialStore for SessionOnlyCredentials {
    fn load(&self, key: &AccountKey) -> Result<Option<StoredTokens>> {
        let secrets = self.secrets.lock().unwrap_or_else(|p| p.into_inner());
        Ok(secrets.get(key).cloned())
    }

    fn save(&self, key: &AccountKey, tokens: &StoredTokens) -> Result<()> {
        let mut secrets = self.secrets.lock().unwrap_or_else(|p| p.into_inner());
        secrets.insert(key.clone(), tokens.clone());
        Ok(())
    }

    fn delete(&self, key: &AccountKey) -> Result<()> {
        let mut secrets = self.secrets.lock().unwrap_or_else(|p| p.into_inner());
        secrets.remove(key);
        Ok(())
    }

    fn persistent(&self) -> bool {
        false
    }
}
