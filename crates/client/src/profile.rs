//! The profile: the non-secret state of one client installation — which server and account
//! it signs in to, its preferences, and the last known identity (shown while offline).
//! Stored as JSON in the profile directory, written atomically so a crash mid-write leaves
//! the previous version, never half a file.

use std::io::Write;
use std::path::{Path, PathBuf};

use countersign_api::Me;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::{ClientError, Result};

const PROFILE_FILE: &str = "profile.json";

/// The UI language a person chose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub enum LanguagePreference {
    /// Follow the operating system's locale.
    #[default]
    #[serde(rename = "system")]
    System,
    #[serde(rename = "zh-CN")]
    ZhCn,
    #[serde(rename = "en")]
    En,
}

/// A language the UI speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub enum Language {
    #[serde(rename = "zh-CN")]
    ZhCn,
    #[serde(rename = "en")]
    En,
}

impl LanguagePreference {
    /// The language to show, given the OS locale (a BCP 47 tag such as `zh-Hans-CN` or
    /// `en-US`; `None` when the OS does not say). Any Chinese locale gets Simplified
    /// Chinese; everything else English.
    pub fn resolve(self, os_locale: Option<&str>) -> Language {
        match self {
            LanguagePreference::ZhCn => Language::ZhCn,
            LanguagePreference::En => Language::En,
            LanguagePreference::System => match os_locale {
                Some(tag) if tag.to_ascii_lowercase().starts_with("zh") => Language::ZhCn,
                _ => Language::En,
            },
        }
    }
}

/// The account this profile signs in to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountRecord {
    pub server: String,
    pub username: String,
    /// The last identity the server confirmed, shown while offline.
    #[serde(default)]
    pub me: Option<Me>,
    /// True while a sign-in is stored in the keyring.
    #[serde(default)]
    pub signed_in: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    /// Distinguishes this profile's keyring entries from another profile's on the same
    /// machine signed in as the same person.
    pub id: String,
    #[serde(default)]
    pub language: LanguagePreference,
    #[serde(default)]
    pub account: Option<AccountRecord>,
    #[serde(default = "yes")]
    pub notifications: bool,
    /// How many minutes before a meeting its reminder shows.
    #[serde(default = "default_reminder")]
    pub meeting_reminder_minutes: u32,
}

fn default_reminder() -> u32 {
    countersign_domain::meetings::DEFAULT_REMINDER_MINUTES
}

fn yes() -> bool {
    true
}

impl Default for Profile {
    fn default() -> Self {
        Self {
            id: Uuid::now_v7().simple().to_string(),
            language: LanguagePreference::System,
            account: None,
            notifications: true,
            meeting_reminder_minutes: default_reminder(),
        }
    }
}

/// The directory a profile lives in.
#[derive(Debug, Clone)]
pub struct ProfileDir {
    dir: PathBuf,
}

impl ProfileDir {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// The platform's default: `~/.local/share/countersign` on Linux.
    pub fn platform_default() -> Option<Self> {
        directories::ProjectDirs::from("", "", "countersign").map(|dirs| Self::new(dirs.data_dir()))
    }

    pub fn path(&self) -> &Path {
        &self.dir
    }

    fn file(&self) -> PathBuf {
        self.dir.join(PROFILE_FILE)
    }

    /// Reads the profile, or a fresh one when there is none yet. A file that cannot be
    /// parsed is an error naming the file: it is not silently replaced.
    pub fn load(&self) -> Result<Profile> {
        let path = self.file();
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
                ClientError::settings(format!(
                    "The profile file {} is damaged ({e}). Move it away to start afresh.",
                    path.display()
                ))
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Profile::default()),
            Err(e) => Err(ClientError::settings(format!(
                "Cannot read {}: {e}",
                path.display()
            ))),
        }
    }

    /// Writes the profile: to a temporary file, synced, then renamed over the old one.
    pub fn save(&self, profile: &Profile) -> Result<()> {
        let fail = |what: &str, e: std::io::Error| {
            ClientError::settings(format!("Cannot {what} {}: {e}", self.dir.display()))
        };
        std::fs::create_dir_all(&self.dir).map_err(|e| fail("create", e))?;
        let body = serde_json::to_vec_pretty(profile)
            .map_err(|e| ClientError::internal(format!("cannot encode the profile: {e}")))?;
        let tmp = self.dir.join(format!("{PROFILE_FILE}.tmp"));
        let mut file = std::fs::File::create(&tmp).map_err(|e| fail("write to", e))?;
        file.write_all(&body).map_err(|e| fail("write to", e))?;
        file.sync_all().map_err(|e| fail("write to", e))?;
        std::fs::rename(&tmp, self.file()).map_err(|e| fail("write to", e))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn system_language_follows_the_os_locale() {
        let p = LanguagePreference::System;
        assert_eq!(p.resolve(Some("zh-CN")), Language::ZhCn);
        assert_eq!(p.resolve(Some("zh-Hans-CN")), Language::ZhCn);
        assert_eq!(p.resolve(Some("en-US")), Language::En);
        assert_eq!(p.resolve(Some("de-DE")), Language::En);
        assert_eq!(p.resolve(None), Language::En);
        assert_eq!(
            LanguagePreference::ZhCn.resolve(Some("en-US")),
            Language::ZhCn
        );
    }

    #[test]
    fn a_profile_survives_a_round_trip_and_a_missing_file_is_a_fresh_profile() {
        let dir = tempfile::tempdir().unwrap();
        let profiles = ProfileDir::new(dir.path().join("p"));
        let fresh = profiles.load().unwrap();
        assert!(fresh.account.is_none());
        let mut saved = fresh.clone();
        saved.language = LanguagePreference::ZhCn;
        profiles.save(&saved).unwrap();
        assert_eq!(profiles.load().unwrap(), saved);
    }

    #[test]
    fn a_damaged_profile_is_reported_with_its_path_not_replaced() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(PROFILE_FILE), b"{ not json").unwrap();
        let err = ProfileDir::new(dir.path()).load().unwrap_err();
        assert!(err.message.contains("profile.json"), "{}", err.message);
        assert_eq!(
            std::fs::read(dir.path().join(PROFILE_FILE)).unwrap(),
            b"{ not json"
        );
    }
}
