//! `sen login` and `sen logout`.
//!
//! `sen login` signs the person in with a code (the OAuth 2.0 device
//! authorization grant, RFC 8628), which suits a terminal with no browser of
//! its own: `sen` shows a web address and a short code, the person opens the
//! address on any device, types the code and signs in as they do to the
//! council's other systems (with its multi-factor checks), and `sen` receives
//! the tokens. It asks for `offline_access` so that the provider also gives a
//! refresh token, and keeps the tokens for that gateway ([`super::store`]).
//!
//! `sen logout` revokes the refresh token at the provider, if the provider
//! offers revocation, and deletes the stored tokens whether or not revoking worked.

use std::path::PathBuf;

use clap::Args;
use clap::builder::NonEmptyStringValueParser;

use super::super::connection::{DEFAULT_GATEWAY, parse_gateway};
use super::super::failure::Failure;
use super::super::print;
use super::device;
use super::provider::{DeviceAuthorization, Provider, ProviderSettings, check_provider_url};
use super::session::unix_now;
use super::store::{SignIn, Store};

/// The scopes always asked for besides the API's: an OpenID Connect sign-in,
/// and a refresh token.
const BASE_SCOPES: [&str; 2] = ["openid", "offline_access"];

/// `sen login`.
#[derive(Args, Debug)]
pub struct LoginArgs {
    /// The gateway to sign in to (each gateway keeps its own sign-in).
    #[arg(long, env = "SEN_GATEWAY_URL", default_value = DEFAULT_GATEWAY, value_name = "URL", value_parser = parse_gateway)]
    gateway: String,
    /// The council's OpenID Connect issuer, as the gateway's SEN_OIDC_ISSUER
    /// (Microsoft Entra ID: https://login.microsoftonline.com/<tenant-id>/v2.0).
    #[arg(long, env = "SEN_OIDC_ISSUER", value_name = "URL", value_parser = parse_issuer)]
    issuer: String,
    /// The application (client) id registered for the `sen` client: a public
    /// client with the device code flow allowed.
    #[arg(long, env = "SEN_CLI_CLIENT_ID", value_name = "ID", value_parser = NonEmptyStringValueParser::new())]
    client_id: String,
    /// The platform API's scope (Entra: api://<API application id>/<scope name>);
    /// `openid` and `offline_access` are always asked for as well.
    #[arg(long, env = "SEN_CLI_SCOPE", value_name = "SCOPE", value_parser = NonEmptyStringValueParser::new())]
    scope: String,
    /// A PEM file of extra CA certificates to trust for the identity provider's HTTPS (private PKI).
    #[arg(long, env = "SEN_OIDC_CA_FILE", value_name = "PEM")]
    oidc_ca_file: Option<PathBuf>,
}

/// `sen logout`.
#[derive(Args, Debug)]
pub struct LogoutArgs {
    /// The gateway to sign out of.
    #[arg(long, env = "SEN_GATEWAY_URL", default_value = DEFAULT_GATEWAY, value_name = "URL", value_parser = parse_gateway)]
    gateway: String,
}

/// Signs in with a code and stores the tokens.
pub async fn login(args: &LoginArgs) -> Result<(), Failure> {
    // Where the tokens will go is settled first, so a sign-in is never wasted.
    let store = Store::from_env()?;
    let settings = ProviderSettings {
        issuer: args.issuer.clone(),
        client_id: args.client_id.clone(),
        ca_file: args.oidc_ca_file.clone(),
    };
    let scope = scopes(&args.scope);
    let provider = Provider::discover(&settings).await?;
    let authorization = provider.authorize_device(&scope).await?;
    eprint!("{}", instructions(&args.gateway, &authorization));
    let tokens = device::wait_for_sign_in(&provider, &authorization).await?;
    let renewable = tokens.refresh_token.is_some();
    let path = store.save(&SignIn::new(&args.gateway, &settings, &scope, tokens, unix_now()))?;
    if !renewable {
        eprintln!(
            "sen: the identity provider gave no refresh token (is offline_access allowed for this client?): \
             you will need to run `sen login` again when this sign-in expires"
        );
    }
    print(&format!(
        "Signed in. `sen` commands to {} now use this sign-in (kept in {}).\n",
        args.gateway,
        path.display()
    ))
}

/// Revokes the refresh token if the provider allows, and deletes the stored sign-in.
pub async fn logout(args: &LogoutArgs) -> Result<(), Failure> {
    let store = Store::from_env()?;
    // A sign-in that cannot be read is still deleted: that is what was asked.
    let sign_in = store.load(&args.gateway).unwrap_or_else(|failure| {
        eprintln!("sen: {failure}");
        None
    });
    let revoked = match sign_in.as_ref().and_then(|s| s.refresh_token.as_ref().map(|token| (s, token))) {
        Some((sign_in, token)) => Some(revoke(sign_in, token).await),
        None => None,
    };
    let path = store.path_for(&args.gateway);
    if !store.delete(&args.gateway)? {
        return print(&format!("You were not signed in to {}.\n", args.gateway));
    }
    let provider = match revoked {
        Some(Ok(true)) => "; the identity provider revoked its refresh token",
        Some(Ok(false)) | None => "",
        Some(Err(failure)) => {
            eprintln!(
                "sen: the refresh token could not be revoked at the identity provider ({failure}); the sign-in \
                 was deleted here all the same"
            );
            ""
        }
    };
    print(&format!("Signed out of {}: the sign-in in {} was deleted{provider}.\n", args.gateway, path.display()))
}

async fn revoke(sign_in: &SignIn, refresh_token: &str) -> Result<bool, Failure> {
    Provider::discover(&sign_in.provider()).await?.revoke(refresh_token).await
}

/// The scopes to ask for: `openid offline_access` and the API's, each once.
fn scopes(api: &str) -> String {
    let mut scopes: Vec<&str> = BASE_SCOPES.to_vec();
    for scope in api.split_whitespace() {
        if !scopes.contains(&scope) {
            scopes.push(scope);
        }
    }
    scopes.join(" ")
}

/// What the person is asked to do, on standard error (standard output is for the outcome).
fn instructions(gateway: &str, authorization: &DeviceAuthorization) -> String {
    let mut text = format!(
        "To sign in to {gateway}, open this address in a browser on any device:\n\n    {}\n\nand enter the \
         code:\n\n    {}\n\n",
        authorization.verification_uri, authorization.user_code
    );
    if let Some(complete) = &authorization.verification_uri_complete {
        text.push_str(&format!("Or open this address, which has the code in it:\n\n    {complete}\n\n"));
    }
    let minutes = authorization.expires_in.as_secs().div_ceil(60);
    text.push_str(&format!(
        "The code expires in {}. Waiting for you to sign in (Ctrl-C to stop)…\n",
        super::super::plural(usize::try_from(minutes).unwrap_or(usize::MAX), "minute", "minutes")
    ));
    text
}

/// Checks `--issuer` (a clap value parser, so a bad one is a usage error).
fn parse_issuer(url: &str) -> Result<String, String> {
    let url = url.trim();
    check_provider_url(url).map_err(|problem| format!("'{url}' {problem}"))?;
    Ok(url.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn openid_and_offline_access_are_always_asked_for_once() {
        assert_eq!(scopes("api://sen-platform/SEN.Access"), "openid offline_access api://sen-platform/SEN.Access");
        assert_eq!(scopes(" offline_access  api://sen/a openid "), "openid offline_access api://sen/a");
    }

    #[test]
    fn the_instructions_show_the_address_the_code_and_the_complete_address() {
        let mut authorization = DeviceAuthorization {
            device_code: "never-shown".into(),
            user_code: "GH7K-Q2LM".into(),
            verification_uri: "https://microsoft.com/devicelogin".into(),
            verification_uri_complete: None,
            expires_in: Duration::from_secs(900),
            interval: None,
        };
        let text = instructions("https://sen.example.gov.uk", &authorization);
        assert!(text.contains("\n    https://microsoft.com/devicelogin\n"), "{text}");
        assert!(text.contains("\n    GH7K-Q2LM\n"), "{text}");
        assert!(text.contains("expires in 15 minutes"), "{text}");
        assert!(!text.contains("never-shown") && !text.contains("has the code in it"), "{text}");
        authorization.verification_uri_complete = Some("https://idp/device?user_code=GH7K-Q2LM".into());
        assert!(instructions("g", &authorization).contains("https://idp/device?user_code=GH7K-Q2LM"));
    }

    #[test]
    fn an_issuer_must_be_https_except_on_this_machine() {
        assert!(parse_issuer("https://login.microsoftonline.com/t/v2.0").is_ok());
        assert!(parse_issuer("http://127.0.0.1:9000").is_ok());
        assert!(parse_issuer("http://idp.example.org").unwrap_err().contains("https://"));
    }
}
