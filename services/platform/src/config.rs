//! Configuration from `SEN_*` environment variables, validated once at start.
//!
//! Every problem is reported with the variable that causes it, all at once, so an
//! operator fixes a deployment in one pass. The lookup is a function so that tests
//! never touch the process environment.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::env::EnvReader;
pub use crate::env::{ConfigError, ConfigProblem};

/// Where the embedded mode keeps its files unless `SEN_DATA_DIR` says otherwise.
pub const DEFAULT_DATA_DIR: &str = "./data";

/// A service of the platform as the configuration knows it: its part name and
/// the variable saying where it answers, e.g. `("pupils", "SEN_PUPILS_URL")`.
pub type ServiceAddress = (&'static str, &'static str);

/// How the platform runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// One process, SQLite under the data folder, development identity issuer.
    Embedded,
    /// One part per process, PostgreSQL, TLS and the gateway's identity key required.
    Production,
}

/// What the process serves, for the requirements that differ between parts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Serving {
    /// A service with its own database, verifying internal identity tokens.
    Service,
    /// The gateway: no database; mints internal identity tokens instead of verifying them.
    Gateway,
}

/// Log line format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    /// Readable lines for a terminal.
    Human,
    /// One JSON object per line, for log collectors.
    Json,
}

/// Database pool settings (PostgreSQL; SQLite always uses one connection).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PoolConfig {
    /// Most connections open at once.
    pub max_connections: u32,
    /// Connections kept open when idle.
    pub min_connections: u32,
    /// How long to wait for a new connection.
    pub connect_timeout: Duration,
    /// How long a query waits for a free connection.
    pub acquire_timeout: Duration,
}

impl Default for PoolConfig {
    fn default() -> Self {
        Self {
            max_connections: 10,
            min_connections: 1,
            connect_timeout: Duration::from_secs(10),
            acquire_timeout: Duration::from_secs(10),
        }
    }
}

/// PEM files for serving TLS; with a client CA, clients must present a certificate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsFiles {
    /// Certificate chain (PEM).
    pub cert: PathBuf,
    /// Private key (PEM).
    pub key: PathBuf,
    /// CA that client certificates must chain to (mutual TLS), if required.
    pub client_ca: Option<PathBuf>,
}

/// The validated configuration.
#[derive(Clone, Debug)]
pub struct Config {
    /// Embedded or production.
    pub mode: Mode,
    /// The front port.
    pub listen: SocketAddr,
    /// A plaintext port for probes and metrics (`SEN_ADMIN_LISTEN`), if separate:
    /// `grpc.health.v1` on a service, `/healthz`, `/readyz` and `/metrics` on the gateway.
    pub admin_listen: Option<SocketAddr>,
    /// Folder for SQLite files and the development key (embedded mode).
    pub data_dir: PathBuf,
    /// `SEN_DATABASE_URL` (or the content of `SEN_DATABASE_URL_FILE`), if set;
    /// the embedded default is a SQLite file per service.
    pub database_url: Option<String>,
    /// Pool settings.
    pub pool: PoolConfig,
    /// Log format.
    pub log_format: LogFormat,
    /// Log filter (`SEN_LOG`, in `tracing` EnvFilter syntax).
    pub log_filter: String,
    /// Where to export OpenTelemetry traces (OTLP over gRPC), if anywhere.
    pub otlp_endpoint: Option<String>,
    /// TLS for the served port.
    pub tls: Option<TlsFiles>,
    /// Public keys (SPKI PEM files) that sign identity tokens, in production.
    pub identity_public_keys: Vec<PathBuf>,
    /// How long in-flight calls may take to finish after SIGTERM.
    pub shutdown_grace: Duration,
    /// Load the demo authorities on first start (embedded mode).
    pub demo_data: bool,
    /// The platform's services this process knows of: each part with the
    /// variable saying where it answers (`SEN_<PART>_URL`).
    pub services: Vec<ServiceAddress>,
    /// Where each service answers, by part, where its variable is set; in the
    /// embedded mode an unset one is the process's own loopback port.
    pub service_urls: BTreeMap<&'static str, String>,
    /// Key a service signs its own identity tokens with (`SEN_SERVICE_SIGNING_KEY_FILE`).
    pub service_signing_key: Option<PathBuf>,
    /// CA that the services called over TLS must chain to (`SEN_UPSTREAM_CA_FILE`).
    pub upstream_ca: Option<PathBuf>,
    /// How often the host name of a called service is resolved again to find its
    /// replicas (`SEN_RESOLVE_INTERVAL_SECONDS`).
    pub resolve_interval: Duration,
}

impl Config {
    /// Reads the process environment for a service (or the embedded platform).
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(&|name| std::env::var(name).ok())
    }

    /// Reads the process environment for `serving`, among the platform's `services`.
    pub fn from_env_for(serving: Serving, services: &[ServiceAddress]) -> Result<Self, ConfigError> {
        Self::from_lookup_among(&|name| std::env::var(name).ok(), serving, services)
    }

    /// Reads variables through `lookup` (tests pass a map) for a service.
    pub fn from_lookup(lookup: &dyn Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        Self::from_lookup_for(lookup, Serving::Service)
    }

    /// Reads variables through `lookup` for `serving`, knowing of no other service.
    pub fn from_lookup_for(lookup: &dyn Fn(&str) -> Option<String>, serving: Serving) -> Result<Self, ConfigError> {
        Self::from_lookup_among(lookup, serving, &[])
    }

    /// Reads variables through `lookup` for `serving`, among the platform's `services`.
    pub fn from_lookup_among(
        lookup: &dyn Fn(&str) -> Option<String>,
        serving: Serving,
        services: &[ServiceAddress],
    ) -> Result<Self, ConfigError> {
        let mut r = EnvReader::new(lookup);
        let mode = r.parse("SEN_MODE", Mode::Embedded, |v| match v {
            "embedded" => Ok(Mode::Embedded),
            "production" => Ok(Mode::Production),
            _ => Err("is not a mode (embedded or production)".into()),
        });
        let listen = r.parse("SEN_LISTEN", SocketAddr::from(([127, 0, 0, 1], 8080)), |v| {
            v.parse().map_err(|_| "is not host:port with an IP address, e.g. 127.0.0.1:8080 or 0.0.0.0:8443".into())
        });
        let admin_listen = r.raw("SEN_ADMIN_LISTEN").and_then(|v| match v.parse::<SocketAddr>() {
            Ok(address) => Some(address),
            Err(_) => {
                r.problem("SEN_ADMIN_LISTEN", format!("'{v}' is not host:port with an IP address, e.g. 0.0.0.0:9090"));
                None
            }
        });
        let data_dir = PathBuf::from(r.raw("SEN_DATA_DIR").unwrap_or_else(|| DEFAULT_DATA_DIR.into()));
        // The URL holds the password: in Kubernetes it is a mounted Secret file (SEN_DATABASE_URL_FILE).
        let database_url = r.value_or_file("SEN_DATABASE_URL", "SEN_DATABASE_URL_FILE");
        if let Some(url) = &database_url
            && !(url.starts_with("sqlite:") || url.starts_with("postgres://") || url.starts_with("postgresql://"))
        {
            r.problem("SEN_DATABASE_URL", "must start with sqlite:, postgres:// or postgresql://");
        }
        let defaults = PoolConfig::default();
        let pool = PoolConfig {
            max_connections: r.number("SEN_DB_MAX_CONNECTIONS", defaults.max_connections.into(), 1, 1000) as u32,
            min_connections: r.number("SEN_DB_MIN_CONNECTIONS", defaults.min_connections.into(), 0, 1000) as u32,
            connect_timeout: Duration::from_secs(r.number(
                "SEN_DB_CONNECT_TIMEOUT_SECONDS",
                defaults.connect_timeout.as_secs(),
                1,
                600,
            )),
            acquire_timeout: Duration::from_secs(r.number(
                "SEN_DB_ACQUIRE_TIMEOUT_SECONDS",
                defaults.acquire_timeout.as_secs(),
                1,
                600,
            )),
        };
        if pool.min_connections > pool.max_connections {
            r.problem("SEN_DB_MIN_CONNECTIONS", "must not exceed SEN_DB_MAX_CONNECTIONS");
        }
        let default_format = if mode == Mode::Production { LogFormat::Json } else { LogFormat::Human };
        let log_format = r.parse("SEN_LOG_FORMAT", default_format, |v| match v {
            "human" => Ok(LogFormat::Human),
            "json" => Ok(LogFormat::Json),
            _ => Err("is not a log format (human or json)".into()),
        });
        let log_filter = r.raw("SEN_LOG").unwrap_or_else(|| "info".into());
        let otlp_endpoint = r.raw("OTEL_EXPORTER_OTLP_ENDPOINT");
        if let Some(endpoint) = &otlp_endpoint
            && !(endpoint.starts_with("http://") || endpoint.starts_with("https://"))
        {
            r.problem("OTEL_EXPORTER_OTLP_ENDPOINT", format!("'{endpoint}' must be an http:// or https:// URL"));
        }
        let cert = r.file("SEN_TLS_CERT_FILE");
        let key = r.file("SEN_TLS_KEY_FILE");
        let client_ca = r.file("SEN_TLS_CLIENT_CA_FILE");
        let tls = match (cert, key) {
            (Some(cert), Some(key)) => Some(TlsFiles { cert, key, client_ca }),
            (None, None) => {
                if client_ca.is_some() {
                    r.problem("SEN_TLS_CLIENT_CA_FILE", "needs SEN_TLS_CERT_FILE and SEN_TLS_KEY_FILE as well");
                }
                None
            }
            (Some(_), None) => {
                r.problem("SEN_TLS_KEY_FILE", "must be set with SEN_TLS_CERT_FILE");
                None
            }
            (None, Some(_)) => {
                r.problem("SEN_TLS_CERT_FILE", "must be set with SEN_TLS_KEY_FILE");
                None
            }
        };
        let identity_public_keys: Vec<PathBuf> = r
            .raw("SEN_IDENTITY_PUBLIC_KEY_FILES")
            .map(|v| v.split(',').map(|p| PathBuf::from(p.trim())).collect())
            .unwrap_or_default();
        for path in &identity_public_keys {
            if !path.is_file() {
                r.problem("SEN_IDENTITY_PUBLIC_KEY_FILES", format!("{} is not a readable file", path.display()));
            }
        }
        let shutdown_grace = Duration::from_secs(r.number("SEN_SHUTDOWN_GRACE_SECONDS", 20, 0, 3600));
        let service_urls: BTreeMap<&'static str, String> =
            services.iter().filter_map(|&(part, variable)| r.service_url(variable).map(|url| (part, url))).collect();
        let service_signing_key = r.file("SEN_SERVICE_SIGNING_KEY_FILE");
        let upstream_ca = r.file("SEN_UPSTREAM_CA_FILE");
        let resolve_interval = Duration::from_secs(r.number("SEN_RESOLVE_INTERVAL_SECONDS", 5, 1, 300));
        let any_https = service_urls.values().any(|url| url.starts_with("https://"));
        if any_https && upstream_ca.is_none() {
            r.problem("SEN_UPSTREAM_CA_FILE", "is required to call services over https://");
        }
        let demo_data = r.parse("SEN_DEMO_DATA", mode == Mode::Embedded, |v| match v {
            "true" | "1" | "yes" => Ok(true),
            "false" | "0" | "no" => Ok(false),
            _ => Err("is not true or false".into()),
        });

        match mode {
            Mode::Production => {
                if database_url.is_none() && serving == Serving::Service && !r.has_problem_with("SEN_DATABASE_URL") {
                    r.problem(
                        "SEN_DATABASE_URL",
                        "is required in production mode (postgres://…), or SEN_DATABASE_URL_FILE naming a file that holds it",
                    );
                }
                if tls.is_none() && !r.has_problem_with("SEN_TLS_") {
                    r.problem(
                        "SEN_TLS_CERT_FILE",
                        "TLS is required in production mode: set SEN_TLS_CERT_FILE and SEN_TLS_KEY_FILE",
                    );
                }
                if identity_public_keys.is_empty() && serving == Serving::Service {
                    r.problem(
                        "SEN_IDENTITY_PUBLIC_KEY_FILES",
                        "is required in production mode: the gateway's identity-token public key(s), comma-separated",
                    );
                }
                if demo_data {
                    r.problem("SEN_DEMO_DATA", "demo data is for the embedded mode only");
                }
            }
            Mode::Embedded => {
                if tls.is_none() && !listen.ip().is_loopback() {
                    r.problem(
                        "SEN_LISTEN",
                        format!("{listen} is not a loopback address; without TLS the embedded mode listens on loopback only (set SEN_TLS_CERT_FILE and SEN_TLS_KEY_FILE to serve further)"),
                    );
                }
            }
        }

        r.finish(Config {
            mode,
            listen,
            admin_listen,
            data_dir,
            database_url,
            pool,
            log_format,
            log_filter,
            otlp_endpoint,
            tls,
            identity_public_keys,
            shutdown_grace,
            demo_data,
            services: services.to_vec(),
            service_urls,
            service_signing_key,
            upstream_ca,
            resolve_interval,
        })
    }

    /// Where `part` answers (its `SEN_<PART>_URL`), if configured.
    pub fn service_url(&self, part: &str) -> Option<&str> {
        self.service_urls.get(part).map(String::as_str)
    }

    /// The variable saying where `part` answers, if it is one of the platform's services.
    pub fn url_variable(&self, part: &str) -> Option<&'static str> {
        self.services.iter().find(|(known, _)| *known == part).map(|(_, variable)| *variable)
    }

    /// The database of one service: `SEN_DATABASE_URL`, or in the embedded mode a
    /// SQLite file `<data dir>/<service>.db`.
    pub fn database_url_for(&self, service: &str) -> String {
        match &self.database_url {
            Some(url) => url.clone(),
            None => sqlite_url(&self.data_dir.join(format!("{service}.db"))),
        }
    }
}

/// A SQLite URL that creates the file if it is missing.
pub fn sqlite_url(path: &Path) -> String {
    format!("sqlite://{}?mode=rwc", path.display())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn load(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars.iter().map(|(k, v)| ((*k).into(), (*v).into())).collect();
        Config::from_lookup(&move |k| map.get(k).cloned())
    }

    #[test]
    fn nothing_set_is_the_embedded_default_on_loopback() {
        let config = load(&[]).unwrap();
        assert_eq!(config.mode, Mode::Embedded);
        assert_eq!(config.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(config.log_format, LogFormat::Human);
        assert!(config.demo_data);
        assert_eq!(config.database_url_for("schools"), "sqlite://./data/schools.db?mode=rwc");
        assert_eq!(config.resolve_interval, Duration::from_secs(5));
    }

    #[test]
    fn each_bad_variable_is_named() {
        let err = load(&[
            ("SEN_LISTEN", "everywhere"),
            ("SEN_MODE", "turbo"),
            ("SEN_DB_MAX_CONNECTIONS", "0"),
            ("SEN_LOG_FORMAT", "xml"),
            ("SEN_DATABASE_URL", "mysql://x"),
            ("SEN_TLS_CERT_FILE", "/nonexistent/cert.pem"),
        ])
        .unwrap_err();
        let vars = err.variables();
        for expected in [
            "SEN_LISTEN",
            "SEN_MODE",
            "SEN_DB_MAX_CONNECTIONS",
            "SEN_LOG_FORMAT",
            "SEN_DATABASE_URL",
            "SEN_TLS_CERT_FILE",
            "SEN_TLS_KEY_FILE",
        ] {
            assert!(vars.contains(&expected), "{expected} missing from {err}");
        }
        assert!(err.to_string().contains("'everywhere'"));
    }

    #[test]
    fn plaintext_is_refused_off_loopback() {
        let err = load(&[("SEN_LISTEN", "0.0.0.0:8080")]).unwrap_err();
        assert_eq!(err.variables(), ["SEN_LISTEN"]);
    }

    #[test]
    fn production_requires_postgres_tls_and_the_gateway_key() {
        let err = load(&[("SEN_MODE", "production"), ("SEN_LISTEN", "0.0.0.0:8443")]).unwrap_err();
        assert_eq!(err.variables(), ["SEN_DATABASE_URL", "SEN_TLS_CERT_FILE", "SEN_IDENTITY_PUBLIC_KEY_FILES"]);
    }

    #[test]
    fn the_gateway_in_production_needs_tls_but_no_database() {
        let map: HashMap<String, String> =
            [("SEN_MODE", "production"), ("SEN_LISTEN", "0.0.0.0:8443"), ("SEN_ADMIN_LISTEN", "nowhere")]
                .iter()
                .map(|(k, v)| ((*k).into(), (*v).into()))
                .collect();
        let err = Config::from_lookup_for(&move |k| map.get(k).cloned(), Serving::Gateway).unwrap_err();
        assert_eq!(err.variables(), ["SEN_ADMIN_LISTEN", "SEN_TLS_CERT_FILE"]);
    }

    #[test]
    fn production_defaults_to_json_logs_and_no_demo_data() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("x.pem");
        std::fs::write(&file, "x").unwrap();
        let f = file.to_str().unwrap();
        let config = load(&[
            ("SEN_MODE", "production"),
            ("SEN_LISTEN", "0.0.0.0:8443"),
            ("SEN_DATABASE_URL", "postgres://db/schools"),
            ("SEN_TLS_CERT_FILE", f),
            ("SEN_TLS_KEY_FILE", f),
            ("SEN_IDENTITY_PUBLIC_KEY_FILES", f),
        ])
        .unwrap();
        assert_eq!(config.log_format, LogFormat::Json);
        assert!(!config.demo_data);
        assert_eq!(config.database_url_for("schools"), "postgres://db/schools");
    }

    #[test]
    fn production_reads_the_database_url_from_a_mounted_file() {
        let dir = tempfile::tempdir().unwrap();
        let pem = dir.path().join("x.pem");
        std::fs::write(&pem, "x").unwrap();
        let url = dir.path().join("url");
        std::fs::write(&url, "postgres://sen_schools:pw@db:5432/sen_schools?sslmode=verify-full\n").unwrap();
        let (pem, url) = (pem.to_str().unwrap(), url.to_str().unwrap());
        let production = [
            ("SEN_MODE", "production"),
            ("SEN_LISTEN", "0.0.0.0:8443"),
            ("SEN_TLS_CERT_FILE", pem),
            ("SEN_TLS_KEY_FILE", pem),
            ("SEN_IDENTITY_PUBLIC_KEY_FILES", pem),
        ];
        let config = load(&[&production[..], &[("SEN_DATABASE_URL_FILE", url)]].concat()).unwrap();
        assert_eq!(
            config.database_url_for("schools"),
            "postgres://sen_schools:pw@db:5432/sen_schools?sslmode=verify-full"
        );
        let both =
            [&production[..], &[("SEN_DATABASE_URL_FILE", url), ("SEN_DATABASE_URL", "postgres://db/x")]].concat();
        assert_eq!(load(&both).unwrap_err().variables(), ["SEN_DATABASE_URL_FILE"]);
        let unreadable = [&production[..], &[("SEN_DATABASE_URL_FILE", "/nonexistent/url")]].concat();
        assert_eq!(load(&unreadable).unwrap_err().variables(), ["SEN_DATABASE_URL_FILE"]);
    }
}
