//! The council's identity provider as `sen` talks to it: its discovery
//! document (`{issuer}/.well-known/openid-configuration`) names the device
//! authorization, token and revocation endpoints; the token endpoint answers
//! the device code grant (RFC 8628) and the refresh token grant (RFC 6749 §6);
//! the revocation endpoint (RFC 7009) forgets a refresh token at sign-out.
//!
//! `sen` is a public client: it has a client id and no secret. Every address
//! must be `https://` (plain `http://` only to this machine, for a provider in
//! tests), since tokens travel on it. Answers are read up to a bounded size.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;

use super::super::failure::{Exit, Failure};

/// How long one request to the provider may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// How long to wait for the provider to accept a connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// The largest answer read (real ones are a few KiB).
const MAX_ANSWER_BYTES: usize = 256 * 1024;
/// The grant type of RFC 8628 §3.4.
const DEVICE_CODE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// Who `sen` is at the provider, and how to reach it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProviderSettings {
    /// The issuer URL; its discovery document is under it.
    pub issuer: String,
    /// The public client id registered for the `sen` client.
    pub client_id: String,
    /// Extra CA certificates (PEM) to trust for the provider's HTTPS.
    pub ca_file: Option<PathBuf>,
}

/// The provider, its endpoints discovered.
#[derive(Clone, Debug)]
pub struct Provider {
    http: reqwest::Client,
    client_id: String,
    /// RFC 8628's endpoint, if the provider offers the device flow.
    device_authorization_endpoint: Option<String>,
    token_endpoint: String,
    revocation_endpoint: Option<String>,
}

/// What the device authorization endpoint answered (RFC 8628 §3.2).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceAuthorization {
    /// The code `sen` polls with; never shown.
    pub device_code: String,
    /// The code the person types in.
    pub user_code: String,
    /// Where the person goes to type it.
    pub verification_uri: String,
    /// The same page with the code filled in, if the provider offers it.
    pub verification_uri_complete: Option<String>,
    /// How long the codes stay valid.
    pub expires_in: Duration,
    /// How long to wait between polls; `None`: the RFC's 5 seconds.
    pub interval: Option<Duration>,
}

/// Tokens the token endpoint granted.
#[derive(Clone, PartialEq, Eq)]
pub struct Tokens {
    /// The bearer token for the gateway.
    pub access_token: String,
    /// The token for getting new access tokens, if given.
    pub refresh_token: Option<String>,
    /// How long the access token lives, if said.
    pub expires_in: Option<Duration>,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tokens").field("expires_in", &self.expires_in).finish_non_exhaustive()
    }
}

/// The token endpoint's answer: tokens, or an OAuth error (RFC 6749 §5.2).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TokenAnswer {
    /// Tokens were granted.
    Granted(Tokens),
    /// The grant was refused with this error code and optional description.
    Refused { error: String, description: Option<String> },
}

impl Provider {
    /// Reads the provider's discovery document.
    pub async fn discover(settings: &ProviderSettings) -> Result<Self, Failure> {
        let http = http_client(settings.ca_file.as_deref())?;
        let url = format!("{}/.well-known/openid-configuration", settings.issuer.trim_end_matches('/'));
        let response = http.get(&url).header("accept", "application/json").send().await;
        let document = read_json(&url, response).await?;
        if !document.status_ok {
            return Err(Failure::new(
                Exit::Unavailable,
                format!("the identity provider's discovery document {url} answered HTTP {}", document.status),
            ));
        }
        let endpoint = |name: &str| -> Result<Option<String>, Failure> {
            let Some(address) = document.body.get(name).and_then(Value::as_str) else { return Ok(None) };
            check_provider_url(address).map_err(|problem| {
                Failure::new(Exit::Unexpected, format!("{url} names {name} '{address}', which {problem}"))
            })?;
            Ok(Some(address.to_owned()))
        };
        let token_endpoint = endpoint("token_endpoint")?
            .ok_or_else(|| Failure::new(Exit::Unexpected, format!("{url} names no token_endpoint")))?;
        Ok(Self {
            device_authorization_endpoint: endpoint("device_authorization_endpoint")?,
            revocation_endpoint: endpoint("revocation_endpoint")?,
            token_endpoint,
            client_id: settings.client_id.clone(),
            http,
        })
    }

    /// Starts a device sign-in for `scope` (RFC 8628 §3.1).
    pub async fn authorize_device(&self, scope: &str) -> Result<DeviceAuthorization, Failure> {
        let Some(endpoint) = &self.device_authorization_endpoint else {
            return Err(Failure::new(
                Exit::Usage,
                "the identity provider does not offer sign-in with a code (its discovery document has no \
                 device_authorization_endpoint); check --issuer / SEN_OIDC_ISSUER",
            ));
        };
        let form = [("client_id", self.client_id.as_str()), ("scope", scope)];
        let answer = read_json(endpoint, self.http.post(endpoint).form(&form).send().await).await?;
        if !answer.status_ok {
            return Err(match refusal(&answer.body) {
                Some((error, description)) => refused_client(&error, description.as_deref()),
                None => Failure::new(
                    Exit::Unavailable,
                    format!("the identity provider's device authorization endpoint answered HTTP {}", answer.status),
                ),
            });
        }
        device_authorization(&answer.body)
            .map_err(|problem| Failure::new(Exit::Unexpected, format!("{endpoint} answered {problem}")))
    }

    /// Asks whether the person has finished signing in with `device_code` (RFC 8628 §3.4).
    pub async fn poll_device(&self, device_code: &str) -> Result<TokenAnswer, Failure> {
        self.token(&[("grant_type", DEVICE_CODE_GRANT), ("device_code", device_code)]).await
    }

    /// Exchanges `refresh_token` for a new access token for `scope`.
    pub async fn refresh(&self, refresh_token: &str, scope: &str) -> Result<TokenAnswer, Failure> {
        self.token(&[("grant_type", "refresh_token"), ("refresh_token", refresh_token), ("scope", scope)]).await
    }

    /// Revokes `refresh_token`; `Ok(false)` when the provider has no revocation endpoint.
    pub async fn revoke(&self, refresh_token: &str) -> Result<bool, Failure> {
        let Some(endpoint) = &self.revocation_endpoint else { return Ok(false) };
        let form =
            [("token", refresh_token), ("token_type_hint", "refresh_token"), ("client_id", self.client_id.as_str())];
        let answer = read_json(endpoint, self.http.post(endpoint).form(&form).send().await).await?;
        if answer.status_ok {
            return Ok(true);
        }
        let reason = match refusal(&answer.body) {
            Some((error, Some(description))) => format!("{error}: {description}"),
            Some((error, None)) => error,
            None => format!("HTTP {}", answer.status),
        };
        Err(Failure::new(Exit::Unavailable, format!("the revocation endpoint refused ({reason})")))
    }

    async fn token(&self, grant: &[(&str, &str)]) -> Result<TokenAnswer, Failure> {
        let mut form = grant.to_vec();
        form.push(("client_id", self.client_id.as_str()));
        let endpoint = &self.token_endpoint;
        let answer = read_json(endpoint, self.http.post(endpoint).form(&form).send().await).await?;
        if answer.status_ok {
            return tokens(&answer.body)
                .map(TokenAnswer::Granted)
                .map_err(|problem| Failure::new(Exit::Unexpected, format!("{endpoint} answered {problem}")));
        }
        match refusal(&answer.body) {
            Some((error, description)) if answer.status < 500 => Ok(TokenAnswer::Refused { error, description }),
            _ => Err(Failure::new(
                Exit::Unavailable,
                format!("the identity provider's token endpoint answered HTTP {}", answer.status),
            )),
        }
    }
}

/// The failure for a device authorization request the provider refused: the
/// client id or scope is wrong, which only the settings can mend.
fn refused_client(error: &str, description: Option<&str>) -> Failure {
    let detail = description.map(|d| format!(": {d}")).unwrap_or_default();
    let fix = match error {
        "invalid_client" | "unauthorized_client" => {
            "; check --client-id / SEN_CLI_CLIENT_ID, and that the registration allows public client flows"
        }
        "invalid_scope" => "; check --scope / SEN_CLI_SCOPE",
        _ => "",
    };
    Failure::new(Exit::Usage, format!("the identity provider refused to start a sign-in ({error}{detail}){fix}"))
}

/// An HTTP client for the provider, trusting the public web roots and `ca_file`.
fn http_client(ca_file: Option<&Path>) -> Result<reqwest::Client, Failure> {
    let usage = |message: String| Failure::new(Exit::Usage, message);
    let mut http = reqwest::Client::builder()
        .use_rustls_tls()
        .timeout(REQUEST_TIMEOUT)
        .connect_timeout(CONNECT_TIMEOUT)
        // Tokens go only where the discovery document said, never where a redirect points.
        .redirect(reqwest::redirect::Policy::none());
    if let Some(path) = ca_file {
        let pem =
            std::fs::read(path).map_err(|e| usage(format!("--oidc-ca-file: cannot read {}: {e}", path.display())))?;
        let certificates = reqwest::Certificate::from_pem_bundle(&pem)
            .map_err(|e| usage(format!("--oidc-ca-file: {} is not PEM certificates: {e}", path.display())))?;
        if certificates.is_empty() {
            return Err(usage(format!("--oidc-ca-file: {} holds no certificate", path.display())));
        }
        for certificate in certificates {
            http = http.add_root_certificate(certificate);
        }
    }
    http.build().map_err(|e| Failure::new(Exit::Unexpected, format!("cannot make an HTTPS client: {e}")))
}

/// An answer's status and JSON body (`Null` when it is not JSON).
struct Answer {
    status: u16,
    status_ok: bool,
    body: Value,
}

/// Reads the answer to a request to `url`, up to [`MAX_ANSWER_BYTES`].
async fn read_json(url: &str, sent: Result<reqwest::Response, reqwest::Error>) -> Result<Answer, Failure> {
    let unreachable = |e: &reqwest::Error| {
        Failure::new(Exit::Unavailable, format!("cannot reach the identity provider at {url}: {}", innermost(e)))
    };
    let mut response = sent.map_err(|e| unreachable(&e))?;
    let status = response.status();
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| unreachable(&e))? {
        if body.len() + chunk.len() > MAX_ANSWER_BYTES {
            return Err(Failure::new(Exit::Unexpected, format!("{url} answered more than {MAX_ANSWER_BYTES} bytes")));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Answer {
        status: status.as_u16(),
        status_ok: status.is_success(),
        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
    })
}

/// The innermost cause of an error, e.g. "Connection refused (os error 111)".
fn innermost(error: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = error;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

/// The `error` and `error_description` of an OAuth error answer.
fn refusal(body: &Value) -> Option<(String, Option<String>)> {
    let error = body.get("error")?.as_str()?.to_owned();
    let description = body.get("error_description").and_then(Value::as_str).map(|d| d.trim().to_owned());
    Some((error, description.filter(|d| !d.is_empty())))
}

/// A number of seconds, as a number or a string of digits (some providers send strings).
fn seconds(body: &Value, name: &str) -> Option<Duration> {
    let value = body.get(name)?;
    value.as_u64().or_else(|| value.as_str().and_then(|s| s.trim().parse().ok())).map(Duration::from_secs)
}

fn text(body: &Value, name: &str) -> Option<String> {
    body.get(name).and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned)
}

/// Reads a device authorization answer; `verification_url` is accepted for
/// `verification_uri`, as older Microsoft endpoints name it.
fn device_authorization(body: &Value) -> Result<DeviceAuthorization, String> {
    let missing = |name: &str| format!("without {name}");
    Ok(DeviceAuthorization {
        device_code: text(body, "device_code").ok_or_else(|| missing("device_code"))?,
        user_code: text(body, "user_code").ok_or_else(|| missing("user_code"))?,
        verification_uri: text(body, "verification_uri")
            .or_else(|| text(body, "verification_url"))
            .ok_or_else(|| missing("verification_uri"))?,
        verification_uri_complete: text(body, "verification_uri_complete"),
        expires_in: seconds(body, "expires_in").ok_or_else(|| missing("expires_in"))?,
        interval: seconds(body, "interval"),
    })
}

/// Reads a token answer.
fn tokens(body: &Value) -> Result<Tokens, String> {
    let access_token = text(body, "access_token").ok_or("without access_token")?;
    if let Some(kind) = text(body, "token_type")
        && !kind.eq_ignore_ascii_case("bearer")
    {
        return Err(format!("a token of type '{kind}', not Bearer"));
    }
    Ok(Tokens { access_token, refresh_token: text(body, "refresh_token"), expires_in: seconds(body, "expires_in") })
}

/// Checks an address tokens are sent to or fetched from: `https://`, or plain
/// `http://` to this machine only.
pub fn check_provider_url(url: &str) -> Result<(), String> {
    let parsed = reqwest::Url::parse(url).map_err(|e| format!("is not a URL ({e})"))?;
    let loopback = match parsed.host_str() {
        Some("localhost") => true,
        Some(host) => {
            host.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
        }
        None => false,
    };
    match parsed.scheme() {
        "https" => Ok(()),
        "http" if loopback => Ok(()),
        "http" => Err("must be https:// (plain http:// only to this machine)".into()),
        _ => Err("must be an https:// URL".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_device_authorization_answer_is_read_with_its_optional_parts() {
        let entra = json!({
            "device_code": "DAQABAAEAAAD", "user_code": "GH7KQ2LMN",
            "verification_uri": "https://microsoft.com/devicelogin",
            "expires_in": 900, "interval": 5, "message": "To sign in, use a web browser…"
        });
        let read = device_authorization(&entra).unwrap();
        assert_eq!(read.user_code, "GH7KQ2LMN");
        assert_eq!(read.verification_uri_complete, None);
        assert_eq!(read.expires_in, Duration::from_secs(900));
        assert_eq!(read.interval, Some(Duration::from_secs(5)));

        let older = json!({
            "device_code": "d", "user_code": "U", "verification_url": "https://idp/device",
            "verification_uri_complete": "https://idp/device?code=U", "expires_in": "600"
        });
        let read = device_authorization(&older).unwrap();
        assert_eq!(read.verification_uri, "https://idp/device");
        assert_eq!(read.verification_uri_complete.as_deref(), Some("https://idp/device?code=U"));
        assert_eq!(read.expires_in, Duration::from_secs(600));
        assert_eq!(read.interval, None);

        assert!(device_authorization(&json!({"device_code": "d"})).unwrap_err().contains("user_code"));
    }

    #[test]
    fn a_token_answer_must_be_a_bearer_token() {
        let granted = tokens(&json!({"access_token": "secret-a", "token_type": "Bearer", "expires_in": 3599,
                                     "refresh_token": "secret-r"}))
        .unwrap();
        assert_eq!(granted.refresh_token.as_deref(), Some("secret-r"));
        assert_eq!(granted.expires_in, Some(Duration::from_secs(3599)));
        assert!(tokens(&json!({"access_token": "a", "token_type": "mac"})).is_err());
        assert!(tokens(&json!({"token_type": "Bearer"})).is_err());
        assert!(!format!("{granted:?}").contains("secret"), "tokens are never shown");
    }

    #[test]
    fn a_refused_start_names_the_setting_to_fix() {
        let client = refused_client("unauthorized_client", Some("AADSTS7000218: public client flows are off"));
        assert_eq!(client.exit, Exit::Usage);
        assert!(client.message.contains("SEN_CLI_CLIENT_ID") && client.message.contains("AADSTS7000218"));
        assert!(refused_client("invalid_scope", None).message.contains("SEN_CLI_SCOPE"));
    }

    #[test]
    fn provider_addresses_must_be_https_except_on_this_machine() {
        assert!(check_provider_url("https://login.microsoftonline.com/t/v2.0").is_ok());
        assert!(check_provider_url("http://127.0.0.1:9000").is_ok());
        assert!(check_provider_url("http://localhost/").is_ok());
        assert!(check_provider_url("http://idp.example.org/").is_err());
        assert!(check_provider_url("idp.example.org").is_err());
    }
}
