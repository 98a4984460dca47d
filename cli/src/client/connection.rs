//! The way to the gateway, shared by every client command: its URL, the bearer
//! token (`--token` / `SEN_TOKEN`, or else the sign-in kept by `sen login`), and
//! for `https://` the CA to trust. The channel is connected before the first call
//! so that "the gateway is not there" is told apart from "the gateway answered
//! that a service is down".

use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use clap::Args;
use sen_platform::identity::AttachBearer;
use sen_proto::v1::caseloads_service_client::CaseloadsServiceClient;
use sen_proto::v1::gateway_service_client::GatewayServiceClient;
use sen_proto::v1::referrals_service_client::ReferralsServiceClient;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Channel, Endpoint};

use super::failure::{Exit, Failure};
use super::signin::session;

/// The embedded platform's front port.
pub const DEFAULT_GATEWAY: &str = "http://127.0.0.1:8080";
/// How long to wait for the gateway to accept a connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long one call may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Where the gateway is and who is calling.
#[derive(Args, Clone, Debug)]
pub struct ConnectionArgs {
    /// The gateway's URL (http:// or https://).
    #[arg(long, env = "SEN_GATEWAY_URL", default_value = DEFAULT_GATEWAY, value_name = "URL", value_parser = parse_gateway)]
    pub gateway: String,
    /// Your identity token; without it, the sign-in kept by `sen login` for this gateway.
    /// In the embedded platform: `sen token --role educational_psychologist --tenant 990 --person <your id>`.
    #[arg(long, env = "SEN_TOKEN", value_name = "TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// A PEM file with the CA certificate to trust for an https:// gateway with a private CA.
    #[arg(long, env = "SEN_CA_FILE", value_name = "PEM")]
    pub ca_file: Option<PathBuf>,
}

/// A channel that sends the bearer token with every call.
type Authed = InterceptedService<Channel, AttachBearer>;

/// A connected gateway: typed clients of each service share one channel.
#[derive(Clone, Debug)]
pub struct Gateway {
    /// The URL, for messages.
    pub url: String,
    channel: Channel,
    /// The token sent with each new client's calls; a stored sign-in's is
    /// replaced when it is renewed (a long watch outlives an access token).
    bearer: Arc<Mutex<AttachBearer>>,
    /// Whether the token is the stored sign-in's.
    stored: bool,
}

impl Gateway {
    /// Connects to the gateway named by `args`, with the token found first: the
    /// one given, or the stored sign-in (renewed if it is about to expire).
    pub async fn connect(args: &ConnectionArgs) -> Result<Self, Failure> {
        let (token, stored) = match args.token.as_deref().map(str::trim) {
            Some(token) if !token.is_empty() => (token.to_owned(), false),
            Some(_) => return Err(Failure::no_token()),
            None => (session::stored_token(&args.gateway).await?, true),
        };
        let bearer = Arc::new(Mutex::new(bearer(&token)?));
        let url = args.gateway.clone();
        let endpoint = endpoint(&url, args.ca_file.as_deref())?;
        let channel = endpoint.connect().await.map_err(|e| Failure::unreachable(&url, &e))?;
        Ok(Self { url, channel, bearer, stored })
    }

    /// Renews a stored sign-in that is about to expire, for the calls made from
    /// now on (a given `--token` is left as it is).
    pub async fn renew_if_expiring(&self) -> Result<(), Failure> {
        if self.stored {
            let renewed = bearer(&session::stored_token(&self.url).await?)?;
            *self.bearer.lock().unwrap_or_else(PoisonError::into_inner) = renewed;
        }
        Ok(())
    }

    fn bearer(&self) -> AttachBearer {
        self.bearer.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// The caseloads service.
    pub fn caseloads(&self) -> CaseloadsServiceClient<Authed> {
        CaseloadsServiceClient::with_interceptor(self.channel.clone(), self.bearer())
    }

    /// The referrals service.
    pub fn referrals(&self) -> ReferralsServiceClient<Authed> {
        ReferralsServiceClient::with_interceptor(self.channel.clone(), self.bearer())
    }

    /// The pupils service.
    pub fn pupils(&self) -> sen_proto::v1::pupils_service_client::PupilsServiceClient<Authed> {
        sen_proto::v1::pupils_service_client::PupilsServiceClient::with_interceptor(self.channel.clone(), self.bearer())
    }

    /// The gateway's own composed views.
    pub fn composed(&self) -> GatewayServiceClient<Authed> {
        GatewayServiceClient::with_interceptor(self.channel.clone(), self.bearer())
    }
}

/// The interceptor sending `token`.
fn bearer(token: &str) -> Result<AttachBearer, Failure> {
    AttachBearer::new(token).map_err(|e| Failure::new(Exit::NotSignedIn, format!("the token cannot be used: {e}")))
}

/// Checks a `--gateway` value (a clap value parser, so a bad one is a usage error).
pub(super) fn parse_gateway(url: &str) -> Result<String, String> {
    let url = url.trim().trim_end_matches('/');
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(format!("'{url}' must start with http:// or https://, like {DEFAULT_GATEWAY}"));
    }
    Endpoint::from_shared(url.to_owned()).map_err(|_| format!("'{url}' is not a URL like {DEFAULT_GATEWAY}"))?;
    Ok(url.to_owned())
}

/// The endpoint for `url`, with TLS for https:// (the system's roots are not
/// bundled, so a private CA is given with `--ca-file`).
fn endpoint(url: &str, ca_file: Option<&std::path::Path>) -> Result<Endpoint, Failure> {
    let usage = |message: String| Failure::new(Exit::Usage, message);
    let endpoint = Endpoint::from_shared(url.to_owned())
        .map_err(|_| usage(format!("--gateway: '{url}' is not a URL like {DEFAULT_GATEWAY}")))?
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(REQUEST_TIMEOUT);
    let scheme = endpoint.uri().scheme_str().unwrap_or_default().to_owned();
    match scheme.as_str() {
        "http" => Ok(endpoint),
        "https" => {
            let Some(ca) = ca_file else {
                return Err(usage(format!(
                    "--gateway {url} uses https: pass --ca-file (or SEN_CA_FILE) with the CA certificate that signed \
                     the gateway's certificate"
                )));
            };
            let host = endpoint.uri().host().unwrap_or_default().to_owned();
            let tls = sen_platform::tls::client_tls(ca, &host, None).map_err(|e| usage(format!("--ca-file: {e:#}")))?;
            endpoint.tls_config(tls).map_err(|e| usage(format!("--ca-file: cannot use it for {url}: {e}")))
        }
        _ => Err(usage(format!("--gateway: '{url}' must start with http:// or https://"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(gateway: &str, token: Option<&str>) -> ConnectionArgs {
        ConnectionArgs { gateway: gateway.into(), token: token.map(Into::into), ca_file: None }
    }

    #[tokio::test]
    async fn no_token_is_not_signed_in_before_any_connection_is_tried() {
        let failure = Gateway::connect(&args("http://127.0.0.1:1", None)).await.unwrap_err();
        assert_eq!(failure.exit, Exit::NotSignedIn);
        assert!(failure.message.contains("sen token"), "{}", failure.message);
        let blank = Gateway::connect(&args("http://127.0.0.1:1", Some("  "))).await.unwrap_err();
        assert_eq!(blank.exit, Exit::NotSignedIn);
    }

    #[test]
    fn a_gateway_url_must_be_http_or_https_with_a_ca_for_https() {
        assert_eq!(parse_gateway(" http://127.0.0.1:8080/ "), Ok("http://127.0.0.1:8080".to_owned()));
        assert!(parse_gateway("127.0.0.1:8080").unwrap_err().contains("http://"));
        assert!(parse_gateway("http://bad host").is_err());
        assert!(endpoint("http://127.0.0.1:8080", None).is_ok());
        let https = endpoint("https://sen.example.gov.uk", None).unwrap_err();
        assert_eq!(https.exit, Exit::Usage);
        assert!(https.message.contains("--ca-file"), "{}", https.message);
        let ftp = endpoint("ftp://sen.example.gov.uk", None).unwrap_err();
        assert!(ftp.message.contains("http:// or https://"), "{}", ftp.message);
        let missing = endpoint("https://sen.example.gov.uk", Some(std::path::Path::new("/nonexistent/ca.pem")));
        assert!(missing.unwrap_err().message.contains("--ca-file"));
    }
}
