//! Server settings, layered: built-in defaults < settings file < environment < command-line
//! flags. A mistake in the file is reported with the file and the key, and the server exits
//! with code 2 rather than starting with a value the operator did not mean.

use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

use crate::auth::AuthSettings;

/// The port `serve` listens on unless told otherwise.
pub const DEFAULT_PORT: u16 = 8470;

/// Environment variables that configure the server start with this; nested keys use `__`
/// (`COUNTERSIGN_AUTH__ACCESS_TTL_SECS`). `DATABASE_URL` is honoured too.
pub const ENV_PREFIX: &str = "COUNTERSIGN_";

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// The address to listen on. Loopback by default: exposing the server is a decision.
    pub bind: IpAddr,
    pub port: u16,
    /// Where the embedded database and other server files live.
    pub data_dir: PathBuf,
    /// `sqlite://…` or `postgres://…`; when unset, `countersign.db` in `data_dir`.
    pub database_url: Option<String>,
    /// The largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// The largest attachment upload, in bytes (the one route whose body may exceed
    /// `max_body_bytes`).
    pub max_attachment_bytes: usize,
    /// Further years of the working-day calendar (JSON, the shipped calendar's format), for
    /// years the shipped data does not cover yet.
    pub calendar_file: Option<PathBuf>,
    /// Seconds of quiet (at least 1) after which a live event stream sends a heartbeat
    /// comment, so proxies keep it open and clients can tell a quiet stream from a dead one.
    pub events_heartbeat_secs: u64,
    /// Seconds between runs of the overdue scan (S9); 0 turns the scan off on this replica.
    pub overdue_scan_secs: u64,
    /// Load balancers and reverse proxies in front of the server (addresses or ranges such
    /// as `10.0.0.0/8`). Only from these is `X-Forwarded-For` believed; the client's address
    /// (for throttling and the audit log) is then the nearest one they forwarded for.
    /// Empty by default: a header anyone can set is no address.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    pub log: LogSettings,
    pub auth: AuthSettings,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogSettings {
    /// A tracing filter such as `info` or `countersign_server=debug,info`.
    pub level: String,
    pub format: LogFormat,
}

impl Default for LogSettings {
    fn default() -> Self {
        Self {
            level: "info".into(),
            format: LogFormat::Text,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    Text,
    Json,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: DEFAULT_PORT,
            data_dir: default_data_dir(),
            database_url: None,
            max_body_bytes: 1024 * 1024,
            max_attachment_bytes: 20 * 1024 * 1024,
            calendar_file: None,
            events_heartbeat_secs: 15,
            overdue_scan_secs: 60,
            trusted_proxies: Vec::new(),
            log: LogSettings::default(),
            auth: AuthSettings::default(),
        }
    }
}

impl Settings {
    /// The database URL in effect: the configured one, or the SQLite file in `data_dir`.
    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.clone(),
            None => format!(
                "sqlite://{}",
                self.data_dir.join("countersign.db").display()
            ),
        }
    }
}

/// The platform's data directory for the server (`~/.local/share/countersign-server` on
/// Linux), or `./countersign-data` where the platform has none.
pub fn default_data_dir() -> PathBuf {
    directories::ProjectDirs::from("", "", "countersign-server")
        .map(|dirs| dirs.data_dir().to_path_buf())
        .unwrap_or_else(|| PathBuf::from("countersign-data"))
}

/// The settings file read when none is named: `server.toml` in the platform's config
/// directory, if it exists.
pub fn default_settings_file() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "countersign-server")
        .map(|dirs| dirs.config_dir().join("server.toml"))
}

/// Values given as command-line flags: the top layer.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FlagOverrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bind: Option<IpAddr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("settings file {0} does not exist")]
    MissingFile(PathBuf),
    #[error("{0}")]
    Invalid(String),
}

/// Loads the layers. `file` is the settings file named on the command line or in
/// `COUNTERSIGN_CONFIG`; when `None`, the platform default is read if present.
pub fn load(
    file: Option<&Path>,
    env: &[(String, String)],
    flags: &FlagOverrides,
) -> Result<Settings, SettingsError> {
    let mut figment = Figment::from(Serialized::defaults(Settings::default()));
    match file {
        Some(path) if !path.exists() => return Err(SettingsError::MissingFile(path.to_owned())),
        Some(path) => figment = figment.merge(Toml::file_exact(path)),
        None => {
            if let Some(path) = default_settings_file().filter(|p| p.exists()) {
                figment = figment.merge(Toml::file_exact(path));
            }
        }
    }
    figment = env_layer(figment, env).merge(Serialized::globals(flags));
    figment
        .extract()
        .map_err(|e| SettingsError::Invalid(describe(e)))
}

/// One environment variable as a settings layer, named after the variable so an error says
/// which one held the bad value.
struct EnvVar {
    name: String,
    key: String,
    value: String,
}

impl figment::Provider for EnvVar {
    fn metadata(&self) -> figment::Metadata {
        figment::Metadata::named(format!("environment variable {}", self.name))
    }

    fn data(
        &self,
    ) -> Result<figment::value::Map<figment::Profile, figment::value::Dict>, figment::Error> {
        // Parsed the way figment parses environment values: numbers, booleans, arrays.
        let value: figment::value::Value =
            self.value.parse().unwrap_or_else(|never| match never {});
        Serialized::global(&self.key, value).data()
    }
}

/// The environment layer, from an explicit list so tests need not touch the process
/// environment. Only keys that name a setting are taken: `COUNTERSIGN_CONFIG` and the
/// variables of other Countersign tools are not settings.
fn env_layer(figment: Figment, env: &[(String, String)]) -> Figment {
    const TOP_LEVEL: [&str; 12] = [
        "bind",
        "port",
        "data_dir",
        "database_url",
        "max_body_bytes",
        "max_attachment_bytes",
        "calendar_file",
        "events_heartbeat_secs",
        "overdue_scan_secs",
        "trusted_proxies",
        "log",
        "auth",
    ];
    env.iter()
        .filter_map(|(name, value)| {
            let key = match name.strip_prefix(ENV_PREFIX) {
                Some(rest) => rest.to_lowercase().replace("__", "."),
                None if name == "DATABASE_URL" => "database_url".to_owned(),
                None => return None,
            };
            let first = key.split('.').next().unwrap_or_default();
            TOP_LEVEL.contains(&first).then(|| EnvVar {
                name: name.clone(),
                key,
                value: value.clone(),
            })
        })
        .fold(figment, Figment::merge)
}

/// One line per problem, each naming the key and where its value came from.
fn describe(error: figment::Error) -> String {
    error
        .into_iter()
        .map(|e| {
            let key = if e.path.is_empty() {
                String::new()
            } else {
                format!("setting `{}`: ", e.path.join("."))
            };
            let source = e
                .metadata
                .as_ref()
                .map(|m| match &m.source {
                    Some(figment::Source::File(path)) => format!(" (in {})", path.display()),
                    _ => format!(" (from {})", m.name),
                })
                .unwrap_or_default();
            format!("{key}{}{source}", e.kind)
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(contents: &str) -> tempfile::NamedTempFile {
        let file = tempfile::Builder::new().suffix(".toml").tempfile().unwrap();
        std::fs::write(file.path(), contents).unwrap();
        file
    }

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn layers_apply_in_order_defaults_file_env_flags() {
        let file = write("port = 9001\nbind = \"0.0.0.0\"\n[auth]\naccess_ttl_secs = 60\n");
        let s = load(Some(file.path()), &[], &FlagOverrides::default()).unwrap();
        assert_eq!(
            (s.port, s.auth.access_ttl_secs),
            (9001, 60),
            "file over defaults"
        );

        let e = env(&[
            ("COUNTERSIGN_PORT", "9002"),
            ("COUNTERSIGN_AUTH__ACCESS_TTL_SECS", "30"),
        ]);
        let s = load(Some(file.path()), &e, &FlagOverrides::default()).unwrap();
        assert_eq!(
            (s.port, s.auth.access_ttl_secs),
            (9002, 30),
            "env over file"
        );
        assert_eq!(s.bind.to_string(), "0.0.0.0", "untouched file value stays");

        let flags = FlagOverrides {
            port: Some(9003),
            ..Default::default()
        };
        let s = load(Some(file.path()), &e, &flags).unwrap();
        assert_eq!(s.port, 9003, "flags over env");
    }

    #[test]
    fn database_url_env_is_honoured_and_unrelated_variables_are_ignored() {
        let e = env(&[
            ("DATABASE_URL", "postgres://db/x"),
            ("COUNTERSIGN_CONFIG", "/nowhere.toml"),
            ("COUNTERSIGN_TEST_PG_URL", "postgres://other"),
        ]);
        let s = load(None, &e, &FlagOverrides::default()).unwrap();
        assert_eq!(s.database_url.as_deref(), Some("postgres://db/x"));
    }

    #[test]
    fn a_wrong_type_names_the_file_and_the_key() {
        let file = write("port = \"eighty\"\n");
        let err = load(Some(file.path()), &[], &FlagOverrides::default())
            .unwrap_err()
            .to_string();
        assert!(err.contains("`port`"), "{err}");
        assert!(err.contains(&file.path().display().to_string()), "{err}");
    }

    #[test]
    fn an_unknown_key_is_an_error_not_ignored() {
        let file = write("prot = 80\n");
        let err = load(Some(file.path()), &[], &FlagOverrides::default())
            .unwrap_err()
            .to_string();
        assert!(err.contains("prot"), "{err}");
    }

    #[test]
    fn broken_toml_names_the_file() {
        let file = write("port = = 3\n");
        let err = load(Some(file.path()), &[], &FlagOverrides::default())
            .unwrap_err()
            .to_string();
        assert!(err.contains(&file.path().display().to_string()), "{err}");
    }

    #[test]
    fn a_named_file_that_does_not_exist_is_an_error() {
        let err = load(
            Some(Path::new("/definitely/not/here.toml")),
            &[],
            &FlagOverrides::default(),
        )
        .unwrap_err();
        assert!(matches!(err, SettingsError::MissingFile(_)));
    }
}
