//! The gateway's own settings, beside the platform's [`Config`]: its signing key,
//! the identity provider, and the limits of the front door. Every bad variable is
//! named, all at once.

use std::path::PathBuf;
use std::time::Duration;

use sen_platform::config::{Config, ConfigError, Mode};
use sen_platform::env::EnvReader;

use crate::oidc::OidcSettings;

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
    /// Requests handled at once before more are shed (`SEN_MAX_CONCURRENT_REQUESTS`).
    pub max_concurrent: usize,
    /// Requests a second each tenant may make on average (`SEN_RATE_LIMIT_PER_TENANT`).
    pub rate_per_tenant: u32,
    /// Burst a tenant may make above the average (`SEN_RATE_LIMIT_BURST`).
    pub rate_burst: u32,
}

/// The variables read here, with what they mean, for the runbook and `--help`.
pub const VARIABLES: &[(&str, &str)] = &[
    (
        "SEN_GATEWAY_SIGNING_KEY_FILE",
        "Ed25519 private key (PKCS#8 PEM) signing internal identity tokens; required in production",
    ),
    ("SEN_REQUEST_TIMEOUT_SECONDS", "longest a unary call may take (default 30)"),
    ("SEN_MAX_CONCURRENT_REQUESTS", "requests handled at once; more are refused with 503/UNAVAILABLE (default 512)"),
    ("SEN_RATE_LIMIT_PER_TENANT", "requests a second each tenant may make on average (default 100)"),
    ("SEN_RATE_LIMIT_BURST", "requests a tenant may make at once above the average (default 200)"),
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
        let rate_per_tenant = r.number("SEN_RATE_LIMIT_PER_TENANT", 100, 1, 1_000_000) as u32;
        let rate_burst = r.number("SEN_RATE_LIMIT_BURST", 200, 1, 1_000_000) as u32;
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
        r.finish(Self { signing_key, oidc, request_timeout, max_concurrent, rate_per_tenant, rate_burst })
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
