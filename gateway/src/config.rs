//! The gateway's own settings, beside the platform's [`Config`]: its signing key,
//! the identity provider, and the limits of the front door. Every bad variable is
//! named, all at once.

use std::path::PathBuf;
use std::time::Duration;

use sen_platform::config::{Config, ConfigError, Mode};
use sen_platform::env::EnvReader;

use crate::layers::address::TrustedProxies;
use crate::layers::{Limits, Rate};
use crate::oidc::OidcSettings;
use crate::server::ConnectionSettings;

/// Settings of the gateway.
#[derive(Clone, Debug)]
pub struct GatewaySettings {
    /// Ed25519 private key (PKCS#8 PEM) for the internal identity tokens
    /// (`SEN_GATEWAY_SIGNING_KEY_FILE`); the development key in the embedded mode.
    pub signing_key: Option<PathBuf>,
    /// The authority's identity provider; required in production.
    pub oidc: Option<OidcSettings>,
    /// The longest a unary call may take (`SEN_REQUEST_TIMEOUT_SECONDS`).
    pub request_timeout: Duration,
    /// Requests at work at once before more are shed (`SEN_MAX_CONCURRENT_REQUESTS`).
    pub max_concurrent: usize,
    /// The limits on callers: per person, per tenant, per client address (see
    /// [`Limits`] for each variable).
    pub limits: Limits,
    /// The limits on connections (see [`ConnectionSettings`]).
    pub connections: ConnectionSettings,
}

/// The variables read here, with what they mean, for the runbook and `--help`.
pub const VARIABLES: &[(&str, &str)] = &[
    (
        "SEN_GATEWAY_SIGNING_KEY_FILE",
        "Ed25519 private key (PKCS#8 PEM) signing internal identity tokens; required in production",
    ),
    ("SEN_REQUEST_TIMEOUT_SECONDS", "longest a unary call may take (default 30)"),
    ("SEN_MAX_CONCURRENT_REQUESTS", "requests at work at once; more are refused with 503/UNAVAILABLE (default 512)"),
    ("SEN_RATE_LIMIT_PER_TENANT", "requests a second each tenant may make on average (default 100)"),
    ("SEN_RATE_LIMIT_BURST", "requests a tenant may make at once above the average (default 200)"),
    ("SEN_RATE_LIMIT_PER_PERSON", "requests a second each signed-in person may make on average (default 25)"),
    ("SEN_RATE_LIMIT_PERSON_BURST", "requests a person may make at once above the average (default 50)"),
    ("SEN_MAX_CONCURRENT_PER_PERSON", "requests one person may have in progress at once (default 32)"),
    (
        "SEN_RATE_LIMIT_PER_ADDRESS",
        "requests a second a client address may make without signing in, on average (default 20)",
    ),
    ("SEN_RATE_LIMIT_ADDRESS_BURST", "requests an address may make at once without signing in (default 60)"),
    (
        "SEN_MAX_CONCURRENT_ANONYMOUS",
        "requests without an identity in progress at once, from everyone (default a quarter of SEN_MAX_CONCURRENT_REQUESTS)",
    ),
    (
        "SEN_MAX_CONCURRENT_PER_ADDRESS",
        "requests without an identity one address may have in progress at once (default 16)",
    ),
    (
        "SEN_TRUSTED_PROXIES",
        "addresses or ranges of proxies (the ingress) whose X-Forwarded-For names the client (default none)",
    ),
    ("SEN_REQUEST_BODY_TIMEOUT_SECONDS", "longest a request body may take to arrive, or an upload pause (default 20)"),
    (
        "SEN_HEADER_READ_TIMEOUT_SECONDS",
        "longest a connection's first request or an HTTP/1.1 request's headers may take; idle HTTP/1.1 connections close after it (default 10)",
    ),
    (
        "SEN_HTTP2_KEEPALIVE_SECONDS",
        "HTTP/2: ping a silent peer after this, close if unanswered as long again (default 30)",
    ),
    ("SEN_HTTP2_MAX_STREAMS", "HTTP/2: calls one connection may have open at once (default 256)"),
];

impl GatewaySettings {
    /// Reads the process environment.
    pub fn from_env(config: &Config) -> Result<Self, ConfigError> {
        Self::from_lookup(&|name| std::env::var(name).ok(), config)
    }

    /// Reads variables through `lookup`.
    pub fn from_lookup(lookup: &dyn Fn(&str) -> Option<String>, config: &Config) -> Result<Self, ConfigError> {
        let mut r = EnvReader::new(lookup);
        let request_timeout = Duration::from_secs(r.number("SEN_REQUEST_TIMEOUT_SECONDS", 30, 1, 600));
        let max_concurrent = r.number("SEN_MAX_CONCURRENT_REQUESTS", 512, 1, 100_000) as usize;
        let limits = read_limits(&mut r, max_concurrent);
        let connections = read_connections(&mut r);
        let signing_key = r.file("SEN_GATEWAY_SIGNING_KEY_FILE");
        let oidc = match OidcSettings::from_lookup(lookup) {
            Ok(oidc) => oidc,
            Err(oidc_problems) => {
                for problem in oidc_problems {
                    r.problem(problem.variable, problem.message);
                }
                None
            }
        };
        if config.mode == Mode::Production {
            if signing_key.is_none() {
                r.problem(
                    "SEN_GATEWAY_SIGNING_KEY_FILE",
                    "is required in production mode: the key the services' SEN_IDENTITY_PUBLIC_KEY_FILES trust",
                );
            }
            if oidc.is_none() && !r.has_problem_with("SEN_OIDC_") {
                r.problem("SEN_OIDC_ISSUER", "is required in production mode: the authority's OpenID Connect issuer");
            }
            for &(part, variable) in &config.services {
                if config.service_url(part).is_none() {
                    r.problem(variable, "is required: where that service answers");
                }
            }
        }
        r.finish(Self { signing_key, oidc, request_timeout, max_concurrent, limits, connections })
    }
}

fn read_rate(r: &mut EnvReader<'_>, average: &'static str, burst: &'static str, default: Rate) -> Rate {
    Rate {
        per_second: r.number(average, default.per_second.into(), 1, 1_000_000) as u32,
        burst: r.number(burst, default.burst.into(), 1, 1_000_000) as u32,
    }
}

fn read_limits(r: &mut EnvReader<'_>, max_concurrent: usize) -> Limits {
    let defaults = Limits::default();
    let per_tenant = read_rate(r, "SEN_RATE_LIMIT_PER_TENANT", "SEN_RATE_LIMIT_BURST", defaults.per_tenant);
    let per_person = read_rate(r, "SEN_RATE_LIMIT_PER_PERSON", "SEN_RATE_LIMIT_PERSON_BURST", defaults.per_person);
    let per_address = read_rate(r, "SEN_RATE_LIMIT_PER_ADDRESS", "SEN_RATE_LIMIT_ADDRESS_BURST", defaults.per_address);
    let person_at_once = r.number("SEN_MAX_CONCURRENT_PER_PERSON", defaults.person_at_once as u64, 1, 100_000) as usize;
    // Strangers get a quarter of the working places by default, so signed-in work keeps the rest.
    let anonymous_default = (max_concurrent / 4).max(1) as u64;
    let anonymous_at_once = r.number("SEN_MAX_CONCURRENT_ANONYMOUS", anonymous_default, 1, 100_000) as usize;
    if anonymous_at_once >= max_concurrent && max_concurrent > 1 {
        r.problem(
            "SEN_MAX_CONCURRENT_ANONYMOUS",
            "must be less than SEN_MAX_CONCURRENT_REQUESTS, so that signed-in work always has room",
        );
    }
    let address_at_once =
        r.number("SEN_MAX_CONCURRENT_PER_ADDRESS", defaults.address_at_once as u64, 1, 100_000) as usize;
    let trusted_proxies = r.parse("SEN_TRUSTED_PROXIES", TrustedProxies::default(), TrustedProxies::parse);
    let body_timeout =
        Duration::from_secs(r.number("SEN_REQUEST_BODY_TIMEOUT_SECONDS", defaults.body_timeout.as_secs(), 1, 600));
    Limits {
        per_tenant,
        per_person,
        per_address,
        person_at_once,
        anonymous_at_once,
        address_at_once,
        body_timeout,
        trusted_proxies,
    }
}

fn read_connections(r: &mut EnvReader<'_>) -> ConnectionSettings {
    let defaults = ConnectionSettings::default();
    ConnectionSettings {
        header_read_timeout: Duration::from_secs(r.number(
            "SEN_HEADER_READ_TIMEOUT_SECONDS",
            defaults.header_read_timeout.as_secs(),
            1,
            600,
        )),
        keep_alive: Duration::from_secs(r.number(
            "SEN_HTTP2_KEEPALIVE_SECONDS",
            defaults.keep_alive.as_secs(),
            1,
            3600,
        )),
        max_streams: r.number("SEN_HTTP2_MAX_STREAMS", defaults.max_streams.into(), 1, 10_000) as u32,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sen_platform::config::Serving;
    use std::collections::HashMap;

    fn load(vars: &[(&str, &str)]) -> Result<GatewaySettings, ConfigError> {
        let map: HashMap<String, String> = vars.iter().map(|(k, v)| ((*k).into(), (*v).into())).collect();
        let lookup = move |k: &str| map.get(k).cloned();
        let services = [
            ("schools", "SEN_SCHOOLS_URL"),
            ("pupils", "SEN_PUPILS_URL"),
            ("referrals", "SEN_REFERRALS_URL"),
            ("caseloads", "SEN_CASELOADS_URL"),
        ];
        let config = Config::from_lookup_among(&lookup, Serving::Gateway, &services)?;
        GatewaySettings::from_lookup(&lookup, &config)
    }

    #[test]
    fn the_embedded_gateway_needs_nothing_set() {
        let settings = load(&[]).unwrap();
        assert!(settings.oidc.is_none());
        assert_eq!(settings.request_timeout, Duration::from_secs(30));
        assert_eq!(settings.max_concurrent, 512);
        assert_eq!(settings.limits, Limits { anonymous_at_once: 128, ..Limits::default() });
        assert_eq!(settings.connections, ConnectionSettings::default());
    }

    #[test]
    fn the_limits_on_people_strangers_and_connections_are_read() {
        let settings = load(&[
            ("SEN_MAX_CONCURRENT_REQUESTS", "100"),
            ("SEN_RATE_LIMIT_PER_PERSON", "5"),
            ("SEN_RATE_LIMIT_PERSON_BURST", "9"),
            ("SEN_RATE_LIMIT_PER_ADDRESS", "2"),
            ("SEN_MAX_CONCURRENT_PER_ADDRESS", "3"),
            ("SEN_TRUSTED_PROXIES", "10.0.0.0/8"),
            ("SEN_REQUEST_BODY_TIMEOUT_SECONDS", "7"),
            ("SEN_HEADER_READ_TIMEOUT_SECONDS", "4"),
            ("SEN_HTTP2_MAX_STREAMS", "50"),
        ])
        .unwrap();
        assert_eq!(settings.limits.per_person, Rate { per_second: 5, burst: 9 });
        assert_eq!(settings.limits.per_address.per_second, 2);
        assert_eq!(settings.limits.address_at_once, 3);
        assert_eq!(settings.limits.anonymous_at_once, 25, "a quarter of the working places");
        assert_eq!(settings.limits.trusted_proxies, TrustedProxies::parse("10.0.0.0/8").unwrap());
        assert_eq!(settings.limits.body_timeout, Duration::from_secs(7));
        assert_eq!(settings.connections.header_read_timeout, Duration::from_secs(4));
        assert_eq!(settings.connections.max_streams, 50);
    }

    #[test]
    fn strangers_may_not_be_given_every_working_place() {
        let err = load(&[("SEN_MAX_CONCURRENT_REQUESTS", "10"), ("SEN_MAX_CONCURRENT_ANONYMOUS", "10")]).unwrap_err();
        assert_eq!(err.variables(), ["SEN_MAX_CONCURRENT_ANONYMOUS"]);
        let err = load(&[("SEN_TRUSTED_PROXIES", "the ingress")]).unwrap_err();
        assert_eq!(err.variables(), ["SEN_TRUSTED_PROXIES"]);
    }

    #[test]
    fn bad_limits_are_named() {
        let err = load(&[("SEN_REQUEST_TIMEOUT_SECONDS", "0"), ("SEN_RATE_LIMIT_BURST", "lots")]).unwrap_err();
        assert_eq!(err.variables(), ["SEN_REQUEST_TIMEOUT_SECONDS", "SEN_RATE_LIMIT_BURST"]);
    }

    #[test]
    fn production_needs_the_signing_key_the_provider_and_every_service() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("x.pem");
        std::fs::write(&file, "x").unwrap();
        let f = file.to_str().unwrap();
        let err = load(&[
            ("SEN_MODE", "production"),
            ("SEN_LISTEN", "0.0.0.0:8443"),
            ("SEN_TLS_CERT_FILE", f),
            ("SEN_TLS_KEY_FILE", f),
        ])
        .unwrap_err();
        assert_eq!(
            err.variables(),
            [
                "SEN_GATEWAY_SIGNING_KEY_FILE",
                "SEN_OIDC_ISSUER",
                "SEN_SCHOOLS_URL",
                "SEN_PUPILS_URL",
                "SEN_REFERRALS_URL",
                "SEN_CASELOADS_URL"
            ]
        );
    }
}
