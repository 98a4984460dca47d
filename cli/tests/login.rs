//! `sen login` and `sen logout` as an educational psychologist uses them: sign
//! in with a code against the council's identity provider (a device
//! authorization provider on loopback), work the caseload through the
//! production gateway with the stored sign-in, have it renewed when it expires
//! or is refused, and sign out. A declined or abandoned sign-in stores nothing.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;
use support::cluster::{AUDIENCE, Cluster, Options, text};
use support::device::{API_SCOPE, CLIENT_ID, DeviceProvider, Outcome, USER_CODE};

/// A gateway address nothing listens on, for commands that must fail before calling it.
const NO_GATEWAY: &str = "http://127.0.0.1:9";

/// One person's machine: a home folder, and the gateway and provider `sen` is pointed at.
struct Desk {
    home: tempfile::TempDir,
    gateway: String,
    ca: Option<PathBuf>,
    issuer: String,
}

impl Desk {
    fn new(provider: &DeviceProvider, gateway: &str, ca: Option<&Path>) -> Self {
        Self {
            home: tempfile::tempdir().expect("a home folder"),
            gateway: gateway.to_owned(),
            ca: ca.map(Path::to_path_buf),
            issuer: provider.issuer(),
        }
    }

    /// `$XDG_CONFIG_HOME/sen`, where the sign-ins are kept.
    fn folder(&self) -> PathBuf {
        self.home.path().join("config").join("sen")
    }

    /// The one sign-in file in the folder.
    fn sign_in_file(&self) -> PathBuf {
        let files: Vec<PathBuf> = std::fs::read_dir(self.folder())
            .expect("the sign-in folder exists")
            .map(|entry| entry.expect("an entry").path())
            .collect();
        assert_eq!(files.len(), 1, "one sign-in file: {files:?}");
        files[0].clone()
    }

    fn stored(&self) -> Value {
        serde_json::from_slice(&std::fs::read(self.sign_in_file()).expect("the sign-in is readable")).expect("JSON")
    }

    /// Rewrites one field of the stored sign-in, as time passing (or a token going bad) would.
    fn tamper(&self, field: &str, value: Value) {
        let mut stored = self.stored();
        stored[field] = value;
        std::fs::write(self.sign_in_file(), stored.to_string()).expect("the sign-in is rewritten");
    }

    /// Runs `sen ARGS` as this person, with the provider's settings in the environment.
    async fn sen(&self, args: &[&str]) -> Output {
        let mut command = Command::new(env!("CARGO_BIN_EXE_sen"));
        command
            .args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", self.home.path())
            .env("XDG_CONFIG_HOME", self.home.path().join("config"))
            .env("SEN_GATEWAY_URL", &self.gateway)
            .env("SEN_OIDC_ISSUER", &self.issuer)
            .env("SEN_CLI_CLIENT_ID", CLIENT_ID)
            .env("SEN_CLI_SCOPE", API_SCOPE);
        if let Some(ca) = &self.ca {
            command.env("SEN_CA_FILE", ca);
        }
        // The provider answers on this test's runtime, so `sen` runs off it.
        tokio::task::spawn_blocking(move || command.output().expect("sen runs")).await.expect("joined")
    }
}

fn succeeds(output: &Output) -> String {
    assert_eq!(output.status.code(), Some(0), "{}", text(output));
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Asserts the exit code; gives standard error.
fn fails(output: &Output, code: i32) -> String {
    assert_eq!(output.status.code(), Some(code), "{}", text(output));
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).expect("metadata").permissions().mode() & 0o777
}

#[tokio::test]
async fn an_educational_psychologist_signs_in_with_a_code_works_their_caseload_and_signs_out() {
    let provider = DeviceProvider::start(AUDIENCE).await;
    provider.sign_in_as("ep-ada", "educational_psychologist", "990");
    let options = Options { env: vec![("gateway", "SEN_OIDC_ISSUER", provider.issuer())], ..Options::default() };
    let cluster = Cluster::start_with(options).await;
    let desk = Desk::new(&provider, &cluster.gateway, Some(&cluster.ca));

    let before = fails(&desk.sen(&["caseload"]).await, 3);
    assert!(before.contains("sen login"), "{before}");

    // Two "not yet" answers, then the person has signed in.
    let login = desk.sen(&["login"]).await;
    let said = succeeds(&login);
    let asked = String::from_utf8_lossy(&login.stderr);
    assert!(asked.contains(USER_CODE) && asked.contains(&format!("{}/device", provider.issuer())), "{asked}");
    assert!(asked.contains(&format!("/device?user_code={USER_CODE}")), "{asked}");
    assert!(said.contains("Signed in") && said.contains(&cluster.gateway), "{said}");
    assert_eq!(provider.polls(), 3);
    let scopes: Vec<String> = provider.scopes()[0].split(' ').map(str::to_owned).collect();
    for scope in ["openid", "offline_access", API_SCOPE] {
        assert!(scopes.iter().any(|s| s == scope), "{scope} asked for: {scopes:?}");
    }
    let stored = desk.stored();
    let access = stored["access_token"].as_str().expect("an access token").to_owned();
    assert!(!text(&login).contains(&access), "the token is never printed");

    let caseload = desk.sen(&["caseload"]).await;
    assert_eq!(succeeds(&caseload), "You have no open cases.\n");
    assert_eq!(provider.refreshes(), 0, "a fresh token is used as it is");

    // An hour later the access token has expired: it is renewed before the call.
    desk.tamper("expires_at", Value::from(chrono::Utc::now().timestamp() - 60));
    succeeds(&desk.sen(&["caseload"]).await);
    assert_eq!(provider.refreshes(), 1);
    let renewed = desk.stored();
    assert_ne!(renewed["access_token"], stored["access_token"]);
    assert_ne!(renewed["refresh_token"], stored["refresh_token"], "the rotated refresh token is kept");
    #[cfg(unix)]
    assert_eq!(mode(&desk.sign_in_file()), 0o600);

    // A token the gateway refuses though it looked valid is renewed once and the call made again.
    desk.tamper("access_token", Value::from(provider.expired_access_token()));
    let caseload: Value = serde_json::from_str(&succeeds(&desk.sen(&["caseload", "--json"]).await)).expect("JSON");
    assert_eq!(caseload["cases"], serde_json::json!([]));
    assert_eq!(provider.refreshes(), 2);

    // Signing out revokes the refresh token and deletes the sign-in.
    let refresh_token = desk.stored()["refresh_token"].as_str().expect("a refresh token").to_owned();
    let logout = succeeds(&desk.sen(&["logout"]).await);
    assert!(logout.contains("Signed out") && logout.contains("revoked"), "{logout}");
    assert_eq!(provider.revoked(), [refresh_token]);
    assert_eq!(std::fs::read_dir(desk.folder()).expect("the folder stays").count(), 0);
    let after = fails(&desk.sen(&["caseload"]).await, 3);
    assert!(after.contains("sen login"), "{after}");
}

#[cfg(unix)]
#[tokio::test]
async fn the_sign_in_is_kept_where_only_its_owner_can_read_it() {
    let provider = DeviceProvider::start(AUDIENCE).await;
    let desk = Desk::new(&provider, NO_GATEWAY, None);
    succeeds(&desk.sen(&["login"]).await);
    assert_eq!(mode(&desk.folder()), 0o700);
    assert_eq!(mode(&desk.sign_in_file()), 0o600);
    let name = desk.sign_in_file().file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    assert!(name.contains("127.0.0.1"), "the file says which gateway it is for: {name}");
    assert_eq!(desk.stored()["gateway"], NO_GATEWAY);
}

#[tokio::test]
async fn a_declined_or_abandoned_sign_in_exits_3_and_stores_nothing() {
    for (outcome, said) in [(Outcome::Deny, "declined"), (Outcome::Expire, "expired")] {
        let provider = DeviceProvider::start(AUDIENCE).await;
        provider.set_outcome(outcome);
        let desk = Desk::new(&provider, NO_GATEWAY, None);
        let error = fails(&desk.sen(&["login"]).await, 3);
        assert!(error.contains(said) && error.contains("sen login"), "{outcome:?}: {error}");
        assert_eq!(provider.polls(), 3, "{outcome:?}: two pending answers, then the end");
        assert!(!desk.folder().exists(), "{outcome:?}: nothing is written");
    }
}

#[tokio::test]
async fn a_sign_in_the_provider_will_not_renew_says_to_sign_in_again() {
    let provider = DeviceProvider::start(AUDIENCE).await;
    let desk = Desk::new(&provider, NO_GATEWAY, None);
    succeeds(&desk.sen(&["login"]).await);
    provider.refuse_refresh();
    desk.tamper("expires_at", Value::from(chrono::Utc::now().timestamp() - 60));
    let error = fails(&desk.sen(&["caseload"]).await, 3);
    assert!(error.contains("invalid_grant") && error.contains("run `sen login` again"), "{error}");
    assert!(desk.sign_in_file().exists(), "the sign-in stays until the person signs in again or out");
}

#[tokio::test]
async fn signing_out_deletes_the_sign_in_even_when_the_provider_cannot_revoke_it() {
    let provider = DeviceProvider::start(AUDIENCE).await;
    let desk = Desk::new(&provider, NO_GATEWAY, None);
    succeeds(&desk.sen(&["login"]).await);
    provider.fail_revocation();
    let logout = desk.sen(&["logout"]).await;
    let said = succeeds(&logout);
    assert!(said.contains("Signed out"), "{said}");
    let warned = String::from_utf8_lossy(&logout.stderr);
    assert!(warned.contains("could not be revoked") && warned.contains("503"), "{warned}");
    assert_eq!(std::fs::read_dir(desk.folder()).expect("the folder stays").count(), 0);
    assert!(succeeds(&desk.sen(&["logout"]).await).contains("not signed in"));
}

#[tokio::test]
async fn a_client_id_the_provider_does_not_know_is_a_usage_error_naming_the_setting() {
    let provider = DeviceProvider::start(AUDIENCE).await;
    let desk = Desk::new(&provider, NO_GATEWAY, None);
    let error = fails(&desk.sen(&["login", "--client-id", "someone-else"]).await, 2);
    assert!(error.contains("invalid_client") && error.contains("SEN_CLI_CLIENT_ID"), "{error}");
    assert!(!desk.folder().exists());
}
