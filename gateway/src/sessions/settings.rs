//! The variables of the web sessions: where their store is, which earlier
//! gateway keys still verify session cookies, and how often a provider sign-in
//! is re-checked. Read once at start; every bad variable is named, all at once.

use std::path::PathBuf;
use std::time::Duration;

use sen_platform::config::{Config, ConfigError, Mode, sqlite_url};
use sen_platform::env::EnvReader;

/// The session variables, each with what it means, for the runbook and `--help`.
pub const VARIABLES: &[(&str, &str)] = &[
    (
        "SEN_GATEWAY_DATABASE_URL",
        "the web sessions' store, shared by every gateway replica (postgres://…); embedded default: gateway.db in the data folder; required in production with SEN_OIDC_CLIENT_ID",
    ),
    (
        "SEN_GATEWAY_DATABASE_URL_FILE",
        "a file holding SEN_GATEWAY_DATABASE_URL (a mounted Secret), instead of the variable",
    ),
    (
        "SEN_GATEWAY_PREVIOUS_KEY_FILES",
        "earlier gateway keys (PKCS#8 PEM files, comma-separated) whose session cookies still verify after a rotation; removing one ends the sessions it signed",
    ),
    (
        "SEN_SESSION_RECHECK_MINUTES",
        "how often a signed-in person is confirmed again at the identity provider (prompt=none) (default 60)",
    ),
];

/// The file of the embedded session store, in the data folder.
pub const EMBEDDED_FILE: &str = "gateway.db";

/// How web sessions are kept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionSettings {
    /// The store's URL; `None` only in production without web pages.
    pub database_url: Option<String>,
    /// Earlier gateway keys still accepted for session cookies.
    pub previous_keys: Vec<PathBuf>,
    /// How long a provider sign-in is trusted before it is confirmed again.
    pub recheck: Duration,
}

impl SessionSettings {
    /// Reads the process environment.
    pub fn from_env(config: &Config) -> Result<Self, ConfigError> {
        Self::from_lookup(&|name| std::env::var(name).ok(), config)
    }

    /// Reads variables through `lookup`.
    pub fn from_lookup(lookup: &dyn Fn(&str) -> Option<String>, config: &Config) -> Result<Self, ConfigError> {
        let mut r = EnvReader::new(lookup);
        // The URL holds the password: in Kubernetes it is a mounted Secret file, as the services' is.
        let mut database_url = r.value_or_file("SEN_GATEWAY_DATABASE_URL", "SEN_GATEWAY_DATABASE_URL_FILE");
        if let Some(url) = &database_url
            && !(url.starts_with("sqlite:") || url.starts_with("postgres://") || url.starts_with("postgresql://"))
        {
            r.problem("SEN_GATEWAY_DATABASE_URL", "must start with sqlite:, postgres:// or postgresql://");
        }
        let pages = r.raw("SEN_OIDC_CLIENT_ID").is_some();
        match config.mode {
            Mode::Embedded if database_url.is_none() => {
                database_url = Some(sqlite_url(&config.data_dir.join(EMBEDDED_FILE)));
            }
            Mode::Production if database_url.is_none() && pages && !r.has_problem_with("SEN_GATEWAY_DATABASE_URL") => r
                .problem(
                    "SEN_GATEWAY_DATABASE_URL",
                    "is required in production mode with SEN_OIDC_CLIENT_ID: the web sessions' store every gateway \
                     replica shares (postgres://…), or SEN_GATEWAY_DATABASE_URL_FILE naming a file that holds it",
                ),
            _ => {}
        }
        let previous_keys: Vec<PathBuf> = r
            .raw("SEN_GATEWAY_PREVIOUS_KEY_FILES")
            .map(|v| v.split(',').map(str::trim).filter(|p| !p.is_empty()).map(PathBuf::from).collect())
            .unwrap_or_default();
        for path in &previous_keys {
            if !path.is_file() {
                r.problem("SEN_GATEWAY_PREVIOUS_KEY_FILES", format!("{} is not a readable file", path.display()));
            }
        }
        let recheck = Duration::from_secs(60 * r.number("SEN_SESSION_RECHECK_MINUTES", 60, 1, 24 * 60));
        r.finish(Self { database_url, previous_keys, recheck })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use sen_platform::config::Serving;

    use super::*;

    fn load(vars: &[(&str, &str)]) -> Result<SessionSettings, ConfigError> {
        let map: HashMap<String, String> = vars.iter().map(|(k, v)| ((*k).into(), (*v).into())).collect();
        let lookup = move |k: &str| map.get(k).cloned();
        let config = Config::from_lookup_for(&lookup, Serving::Gateway)?;
        SessionSettings::from_lookup(&lookup, &config)
    }

    #[test]
    fn the_embedded_store_is_a_file_in_the_data_folder() {
        let settings = load(&[("SEN_DATA_DIR", "/srv/sen")]).unwrap();
        assert_eq!(settings.database_url.as_deref(), Some("sqlite:///srv/sen/gateway.db?mode=rwc"));
        assert_eq!(settings.recheck, Duration::from_secs(3600));
        assert!(settings.previous_keys.is_empty());
    }

    #[test]
    fn every_bad_session_variable_is_named() {
        let err = load(&[
            ("SEN_GATEWAY_DATABASE_URL", "mysql://db/sessions"),
            ("SEN_GATEWAY_PREVIOUS_KEY_FILES", "/no/such/key.pem"),
            ("SEN_SESSION_RECHECK_MINUTES", "0"),
        ])
        .unwrap_err();
        assert_eq!(
            err.variables(),
            ["SEN_GATEWAY_DATABASE_URL", "SEN_GATEWAY_PREVIOUS_KEY_FILES", "SEN_SESSION_RECHECK_MINUTES"]
        );
    }

    #[test]
    fn production_web_pages_need_a_shared_store() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("x.pem");
        std::fs::write(&file, "x").unwrap();
        let f = file.to_str().unwrap();
        let production = [
            ("SEN_MODE", "production"),
            ("SEN_LISTEN", "0.0.0.0:8443"),
            ("SEN_TLS_CERT_FILE", f),
            ("SEN_TLS_KEY_FILE", f),
        ];
        assert_eq!(load(&production).unwrap().database_url, None, "no pages, no sessions");
        let with_pages = [&production[..], &[("SEN_OIDC_CLIENT_ID", "sen-web")]].concat();
        assert_eq!(load(&with_pages).unwrap_err().variables(), ["SEN_GATEWAY_DATABASE_URL"]);
        let with_store = [&with_pages[..], &[("SEN_GATEWAY_DATABASE_URL", "postgres://db/gateway")]].concat();
        assert_eq!(load(&with_store).unwrap().database_url.as_deref(), Some("postgres://db/gateway"));
        let secret = dir.path().join("url");
        std::fs::write(&secret, "postgres://gw:s3cret@db/gateway\n").unwrap();
        let from_file = [&with_pages[..], &[("SEN_GATEWAY_DATABASE_URL_FILE", secret.to_str().unwrap())]].concat();
        assert_eq!(load(&from_file).unwrap().database_url.as_deref(), Some("postgres://gw:s3cret@db/gateway"));
    }
}
