//! The variables of the production sign-in: where people reach the site, which
//! client of the identity provider the gateway is, and which token carries the
//! roles. Read once at start; every bad variable is named, all at once.

use std::net::IpAddr;
use std::path::PathBuf;

use sen_platform::config::{ConfigError, ConfigProblem};

use sen_gateway::oidc::OidcSettings;

/// The sign-in variables, each with what it means, for the runbook and `--help`.
pub const VARIABLES: &[(&str, &str)] = &[
    (
        "SEN_OIDC_CLIENT_ID",
        "the web sign-in's client (application) id at the identity provider; unset: no web pages in production",
    ),
    (
        "SEN_PUBLIC_URL",
        "the https:// address people use to reach the gateway (no path); the redirect URI is <it>/sign-in/callback; required with SEN_OIDC_CLIENT_ID",
    ),
    (
        "SEN_OIDC_CLIENT_SECRET_FILE",
        "file holding the client secret (a confidential client); unset: a public client, PKCE only",
    ),
    (
        "SEN_OIDC_SCOPES",
        "scopes asked for besides `openid profile`, separated by spaces or commas (e.g. api://<client-id>/access_as_user)",
    ),
    (
        "SEN_OIDC_LOGIN_TOKEN",
        "which token of the sign-in carries the roles: id_token (default; its audience is the client id) or access_token (audience SEN_OIDC_AUDIENCE)",
    ),
];

/// Which token of the code exchange is mapped to the person's grant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoginToken {
    /// The ID token: audience the client id, nonce checked.
    IdToken,
    /// The access token for the API: audience `SEN_OIDC_AUDIENCE`.
    AccessToken,
}

/// How the web signs people in with the authority's provider.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoginSettings {
    /// Where people reach the site, without a trailing `/`.
    pub public_url: String,
    /// The client id at the provider.
    pub client_id: String,
    /// The client secret's file (a confidential client).
    pub client_secret_file: Option<PathBuf>,
    /// Scopes asked for besides `openid profile`.
    pub extra_scopes: Vec<String>,
    /// Which token carries the roles.
    pub token: LoginToken,
}

impl LoginSettings {
    /// Settings for `client_id` at `public_url`: a public client reading the ID token.
    pub fn new(public_url: impl Into<String>, client_id: impl Into<String>) -> Self {
        Self {
            public_url: public_url.into().trim_end_matches('/').to_owned(),
            client_id: client_id.into(),
            client_secret_file: None,
            extra_scopes: Vec::new(),
            token: LoginToken::IdToken,
        }
    }

    /// The redirect URI to register at the provider.
    pub fn redirect_uri(&self) -> String {
        format!("{}/sign-in/callback", self.public_url)
    }

    /// The scopes asked for, space-separated.
    pub fn scope(&self) -> String {
        let mut scopes = vec!["openid".to_owned(), "profile".to_owned()];
        for scope in &self.extra_scopes {
            if !scopes.contains(scope) {
                scopes.push(scope.clone());
            }
        }
        scopes.join(" ")
    }

    /// Reads the process environment; see [`LoginSettings::from_lookup`].
    pub fn from_env(oidc: Option<&OidcSettings>) -> Result<Option<Self>, ConfigError> {
        Self::from_lookup(&|name| std::env::var(name).ok(), oidc).map_err(ConfigError)
    }

    /// Reads the variables through `lookup`. `Ok(None)` when `SEN_OIDC_CLIENT_ID`
    /// is unset (and none of the variables that only make sense with it is set).
    pub fn from_lookup(
        lookup: &dyn Fn(&str) -> Option<String>,
        oidc: Option<&OidcSettings>,
    ) -> Result<Option<Self>, Vec<ConfigProblem>> {
        let raw = |name: &str| lookup(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        let mut problems = Vec::new();
        let mut problem = |variable: &'static str, message: String| problems.push(ConfigProblem { variable, message });
        let Some(client_id) = raw("SEN_OIDC_CLIENT_ID") else {
            for name in ["SEN_OIDC_CLIENT_SECRET_FILE", "SEN_OIDC_SCOPES", "SEN_OIDC_LOGIN_TOKEN"] {
                if raw(name).is_some() {
                    problems.push(ConfigProblem {
                        variable: "SEN_OIDC_CLIENT_ID",
                        message: format!("is required when {name} is set"),
                    });
                }
            }
            return if problems.is_empty() { Ok(None) } else { Err(problems) };
        };
        if oidc.is_none() {
            problem("SEN_OIDC_ISSUER", "is required with SEN_OIDC_CLIENT_ID: the provider people sign in with".into());
        }
        let public_url = match raw("SEN_PUBLIC_URL") {
            None => {
                problem(
                    "SEN_PUBLIC_URL",
                    "is required with SEN_OIDC_CLIENT_ID: the https:// address people reach the gateway at".into(),
                );
                String::new()
            }
            Some(url) => {
                if let Err(message) = check_public_url(&url) {
                    problem("SEN_PUBLIC_URL", format!("'{url}' {message}"));
                }
                url
            }
        };
        let client_secret_file = raw("SEN_OIDC_CLIENT_SECRET_FILE").map(PathBuf::from);
        if let Some(path) = &client_secret_file
            && !path.is_file()
        {
            problem("SEN_OIDC_CLIENT_SECRET_FILE", format!("{} is not a readable file", path.display()));
        }
        let extra_scopes: Vec<String> = raw("SEN_OIDC_SCOPES")
            .map(|v| v.split([' ', ',']).filter(|s| !s.is_empty()).map(str::to_owned).collect())
            .unwrap_or_default();
        for scope in &extra_scopes {
            if !scope.chars().all(|c| c.is_ascii_graphic() && c != '"' && c != '\\') {
                problem("SEN_OIDC_SCOPES", format!("'{scope}' is not a scope (printable ASCII, no quotes)"));
            }
        }
        let token = match raw("SEN_OIDC_LOGIN_TOKEN").as_deref() {
            None | Some("id_token") => LoginToken::IdToken,
            Some("access_token") => LoginToken::AccessToken,
            Some(other) => {
                problem("SEN_OIDC_LOGIN_TOKEN", format!("'{other}' is neither id_token nor access_token"));
                LoginToken::IdToken
            }
        };
        if problems.is_empty() {
            Ok(Some(Self { client_secret_file, extra_scopes, token, ..Self::new(public_url, client_id) }))
        } else {
            Err(problems)
        }
    }
}

/// HTTPS, or plain HTTP to this machine (a test); an origin with no query.
fn check_public_url(url: &str) -> Result<(), String> {
    let parsed = reqwest::Url::parse(url).map_err(|e| format!("is not a URL ({e})"))?;
    match parsed.scheme() {
        "https" => {}
        "http" if is_loopback(&parsed) => {}
        _ => return Err("must be https:// (plain http:// only to localhost)".into()),
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err("must not have a query or fragment".into());
    }
    Ok(())
}

/// Whether `url` names this machine.
pub(super) fn is_loopback(url: &reqwest::Url) -> bool {
    match url.host_str() {
        Some("localhost") => true,
        Some(host) => {
            host.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn read(vars: &[(&str, &str)], oidc: bool) -> Result<Option<LoginSettings>, Vec<&'static str>> {
        let vars: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let provider = OidcSettings::new("https://idp.example.org", "api");
        LoginSettings::from_lookup(&|name| vars.get(name).cloned(), oidc.then_some(&provider))
            .map_err(|problems| problems.iter().map(|p| p.variable).collect())
    }

    #[test]
    fn no_client_id_means_no_provider_sign_in() {
        assert_eq!(read(&[], true), Ok(None));
        assert_eq!(read(&[("SEN_OIDC_SCOPES", "x")], true), Err(vec!["SEN_OIDC_CLIENT_ID"]));
    }

    #[test]
    fn a_client_reads_with_its_defaults_and_scopes() {
        let settings = read(
            &[
                ("SEN_OIDC_CLIENT_ID", "c-1"),
                ("SEN_PUBLIC_URL", "https://sen.example.gov.uk/"),
                ("SEN_OIDC_SCOPES", "api://c-1/access_as_user, openid"),
                ("SEN_OIDC_LOGIN_TOKEN", "access_token"),
            ],
            true,
        )
        .unwrap()
        .unwrap();
        assert_eq!(settings.redirect_uri(), "https://sen.example.gov.uk/sign-in/callback");
        assert_eq!(settings.scope(), "openid profile api://c-1/access_as_user");
        assert_eq!(settings.token, LoginToken::AccessToken);
        assert_eq!(settings.client_secret_file, None);
    }

    #[test]
    fn every_bad_sign_in_variable_is_named() {
        let mut named = read(
            &[
                ("SEN_OIDC_CLIENT_ID", "c-1"),
                ("SEN_PUBLIC_URL", "http://sen.example.gov.uk"),
                ("SEN_OIDC_CLIENT_SECRET_FILE", "/no/such/secret"),
                ("SEN_OIDC_LOGIN_TOKEN", "both"),
            ],
            false,
        )
        .unwrap_err();
        named.sort_unstable();
        assert_eq!(named, ["SEN_OIDC_CLIENT_SECRET_FILE", "SEN_OIDC_ISSUER", "SEN_OIDC_LOGIN_TOKEN", "SEN_PUBLIC_URL"]);
        assert_eq!(read(&[("SEN_OIDC_CLIENT_ID", "c-1")], true), Err(vec!["SEN_PUBLIC_URL"]));
    }
}
