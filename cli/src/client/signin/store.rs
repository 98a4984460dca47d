//! Where `sen login` keeps a sign-in: one file per gateway URL in the user's
//! configuration folder, `$XDG_CONFIG_HOME/sen/` (or `~/.config/sen/`).
//!
//! The tokens in it are as good as the person's password for an hour (the
//! access token) or for months (the refresh token), so the folder is made
//! 0700 and each file is created 0600 before a byte is written to it; a file
//! that others could read is refused rather than used. A file is replaced
//! whole — written to a temporary file beside it, synced, and renamed over it —
//! so a crash or a second `sen` refreshing at the same moment never leaves half
//! a token behind. Nothing here prints a token, and [`SignIn`]'s `Debug` hides them.

use std::fmt;
use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::super::failure::{Exit, Failure};
use super::provider::{ProviderSettings, Tokens};

/// The folder under the configuration home that holds the sign-ins.
const FOLDER: &str = "sen";

/// One person's sign-in to one gateway, as stored.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignIn {
    /// The gateway URL the sign-in is for (the file's key).
    pub gateway: String,
    /// The identity provider's issuer, whose discovery document names its endpoints.
    pub issuer: String,
    /// The public client id `sen` signed in as.
    pub client_id: String,
    /// The scopes asked for, space-separated (asked for again on refresh).
    pub scope: String,
    /// Extra CA certificates (PEM) trusted for the provider's HTTPS, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_ca_file: Option<PathBuf>,
    /// The bearer token sent to the gateway.
    pub access_token: String,
    /// The token that gets a new access token without the person; absent if
    /// the provider gave none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    /// When the access token expires, in seconds since the Unix epoch, if the provider said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
}

impl SignIn {
    /// A new sign-in to `gateway` with the tokens the provider granted at `now` (Unix seconds).
    pub fn new(gateway: &str, provider: &ProviderSettings, scope: &str, tokens: Tokens, now: i64) -> Self {
        Self {
            gateway: gateway.to_owned(),
            issuer: provider.issuer.clone(),
            client_id: provider.client_id.clone(),
            scope: scope.to_owned(),
            provider_ca_file: provider.ca_file.clone(),
            access_token: tokens.access_token,
            refresh_token: tokens.refresh_token,
            expires_at: expires_at(tokens.expires_in, now),
        }
    }

    /// This sign-in with renewed tokens; a provider that sends no new refresh
    /// token leaves the old one in force.
    pub fn renewed(&self, tokens: Tokens, now: i64) -> Self {
        Self {
            access_token: tokens.access_token,
            refresh_token: tokens.refresh_token.or_else(|| self.refresh_token.clone()),
            expires_at: expires_at(tokens.expires_in, now),
            ..self.clone()
        }
    }

    /// The provider this sign-in came from.
    pub fn provider(&self) -> ProviderSettings {
        ProviderSettings {
            issuer: self.issuer.clone(),
            client_id: self.client_id.clone(),
            ca_file: self.provider_ca_file.clone(),
        }
    }
}

fn expires_at(expires_in: Option<std::time::Duration>, now: i64) -> Option<i64> {
    expires_in.map(|d| now.saturating_add(i64::try_from(d.as_secs()).unwrap_or(i64::MAX)))
}

impl fmt::Debug for SignIn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignIn")
            .field("gateway", &self.gateway)
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("expires_at", &self.expires_at)
            .field("refresh_token", &self.refresh_token.as_ref().map(|_| "…"))
            .finish_non_exhaustive()
    }
}

/// The folder of sign-ins.
#[derive(Clone, Debug)]
pub struct Store {
    dir: PathBuf,
}

impl Store {
    /// The folder in the user's configuration home: `$XDG_CONFIG_HOME/sen`, or
    /// `$HOME/.config/sen` when that is unset or not absolute (as the XDG rules say).
    pub fn from_env() -> Result<Self, Failure> {
        Self::from_lookup(&|name| std::env::var_os(name).map(PathBuf::from))
    }

    /// As [`Store::from_env`], reading the variables through `lookup`.
    pub fn from_lookup(lookup: &dyn Fn(&str) -> Option<PathBuf>) -> Result<Self, Failure> {
        let absolute = |name: &str| lookup(name).filter(|p| p.is_absolute());
        if let Some(config) = absolute("XDG_CONFIG_HOME") {
            return Ok(Self::at(config.join(FOLDER)));
        }
        match absolute("HOME") {
            Some(home) => Ok(Self::at(home.join(".config").join(FOLDER))),
            None => Err(Failure::new(
                Exit::Unexpected,
                "cannot tell where to keep the sign-in: set HOME or XDG_CONFIG_HOME to an absolute path",
            )),
        }
    }

    /// The store in `dir` itself.
    pub fn at(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// The file holding the sign-in for `gateway`.
    pub fn path_for(&self, gateway: &str) -> PathBuf {
        self.dir.join(file_name(gateway))
    }

    /// The sign-in for `gateway`, if one is stored.
    pub fn load(&self, gateway: &str) -> Result<Option<SignIn>, Failure> {
        let path = self.path_for(gateway);
        let text = match fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(unexpected(format!("cannot read the sign-in in {}: {e}", path.display()))),
        };
        check_private(&path)?;
        let sign_in: SignIn = serde_json::from_str(&text).map_err(|e| {
            Failure::new(
                Exit::NotSignedIn,
                format!("the sign-in in {} cannot be read ({e}); run `sen login` again", path.display()),
            )
        })?;
        Ok(Some(sign_in))
    }

    /// Stores `sign_in` under its gateway, replacing any earlier one whole; the file's path.
    pub fn save(&self, sign_in: &SignIn) -> Result<PathBuf, Failure> {
        self.make_folder()?;
        let path = self.path_for(&sign_in.gateway);
        let text =
            serde_json::to_string_pretty(sign_in).map_err(|e| unexpected(format!("cannot write the sign-in: {e}")))?;
        let temporary = self.dir.join(format!(".{}.{}.tmp", file_name(&sign_in.gateway), std::process::id()));
        let written = write_private(&temporary, text.as_bytes()).and_then(|()| fs::rename(&temporary, &path));
        if let Err(e) = written {
            let _ = fs::remove_file(&temporary);
            return Err(unexpected(format!("cannot write the sign-in to {}: {e}", path.display())));
        }
        // The rename is durable once the folder's entry is on disk; if syncing the
        // folder fails the new file is still whole, so that is not a failure.
        if let Ok(folder) = fs::File::open(&self.dir) {
            let _ = folder.sync_all();
        }
        Ok(path)
    }

    /// Deletes the sign-in for `gateway`; whether there was one.
    pub fn delete(&self, gateway: &str) -> Result<bool, Failure> {
        let path = self.path_for(gateway);
        match fs::remove_file(&path) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(unexpected(format!("cannot delete the sign-in in {}: {e}", path.display()))),
        }
    }

    /// Makes the folder (0700), or makes an existing one private to this user.
    fn make_folder(&self) -> Result<(), Failure> {
        let failed = |e: std::io::Error| unexpected(format!("cannot make the folder {}: {e}", self.dir.display()));
        let mut builder = fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
            builder.mode(0o700);
            builder.create(&self.dir).map_err(failed)?;
            let mode = fs::metadata(&self.dir).map_err(failed)?.permissions().mode();
            if mode & 0o077 != 0 {
                fs::set_permissions(&self.dir, fs::Permissions::from_mode(0o700)).map_err(failed)?;
            }
        }
        #[cfg(not(unix))]
        builder.create(&self.dir).map_err(failed)?;
        Ok(())
    }
}

/// The file name for `gateway`: the URL with every character but letters,
/// digits, `.` and `-` written as `_` and its hex code, so that two URLs never
/// share a file and the name still says which gateway it is.
fn file_name(gateway: &str) -> String {
    let mut name = String::from("gateway-");
    for byte in gateway.bytes() {
        if byte.is_ascii_alphanumeric() || byte == b'.' || byte == b'-' {
            name.push(char::from(byte));
        } else {
            name.push_str(&format!("_{byte:02x}"));
        }
    }
    name.push_str(".json");
    name
}

/// Creates `path` readable and writable by this user only, writes `bytes` and syncs it.
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// Refuses a sign-in file others may read: its tokens may already have leaked.
fn check_private(path: &Path) -> Result<(), Failure> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(path)
            .map_err(|e| unexpected(format!("cannot read the sign-in in {}: {e}", path.display())))?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            return Err(Failure::new(
                Exit::NotSignedIn,
                format!(
                    "the sign-in in {} can be read by other users (mode {:o}), so it is not used; delete it and \
                     run `sen login` again",
                    path.display(),
                    mode & 0o777
                ),
            ));
        }
    }
    Ok(())
}

fn unexpected(message: String) -> Failure {
    Failure::new(Exit::Unexpected, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sign_in(gateway: &str) -> SignIn {
        SignIn {
            gateway: gateway.into(),
            issuer: "https://login.microsoftonline.com/t/v2.0".into(),
            client_id: "cli".into(),
            scope: "openid offline_access api://sen/access".into(),
            provider_ca_file: None,
            access_token: "secret-access".into(),
            refresh_token: Some("secret-refresh".into()),
            expires_at: Some(1_800_000_000),
        }
    }

    #[test]
    fn the_folder_follows_xdg_config_home_then_home() {
        let xdg = Store::from_lookup(&|name| match name {
            "XDG_CONFIG_HOME" => Some("/x/config".into()),
            "HOME" => Some("/home/ada".into()),
            _ => None,
        });
        assert_eq!(xdg.unwrap().dir, PathBuf::from("/x/config/sen"));
        let relative_xdg = Store::from_lookup(&|name| match name {
            "XDG_CONFIG_HOME" => Some("config".into()),
            "HOME" => Some("/home/ada".into()),
            _ => None,
        });
        assert_eq!(relative_xdg.unwrap().dir, PathBuf::from("/home/ada/.config/sen"));
        assert_eq!(Store::from_lookup(&|_| None).unwrap_err().exit, Exit::Unexpected);
    }

    #[test]
    fn each_gateway_has_its_own_readable_file_name() {
        assert_eq!(file_name("https://sen.example.gov.uk"), "gateway-https_3a_2f_2fsen.example.gov.uk.json");
        assert_ne!(file_name("http://a-b:1"), file_name("http://a.b:1"));
        assert_ne!(file_name("http://a_2f"), file_name("http://a/"));
    }

    #[cfg(unix)]
    #[test]
    fn a_sign_in_is_written_private_and_whole_and_read_back() {
        use std::os::unix::fs::PermissionsExt;
        let home = tempfile::tempdir().unwrap();
        let store = Store::at(home.path().join("config/sen"));
        let path = store.save(&sign_in("https://sen.example.gov.uk")).unwrap();
        assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        assert_eq!(fs::metadata(&store.dir).unwrap().permissions().mode() & 0o777, 0o700);
        assert_eq!(store.load("https://sen.example.gov.uk").unwrap(), Some(sign_in("https://sen.example.gov.uk")));
        assert_eq!(store.load("https://other.example.gov.uk").unwrap(), None);

        let mut newer = sign_in("https://sen.example.gov.uk");
        newer.access_token = "newer".into();
        store.save(&newer).unwrap();
        assert_eq!(store.load(&newer.gateway).unwrap().unwrap().access_token, "newer");
        let names: Vec<_> = fs::read_dir(&store.dir).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names.len(), 1, "no temporary file is left behind: {names:?}");

        assert!(store.delete(&newer.gateway).unwrap());
        assert!(!store.delete(&newer.gateway).unwrap());
        assert_eq!(store.load(&newer.gateway).unwrap(), None);
    }

    #[cfg(unix)]
    #[test]
    fn a_sign_in_others_can_read_is_refused_and_an_open_folder_is_closed() {
        use std::os::unix::fs::PermissionsExt;
        let home = tempfile::tempdir().unwrap();
        let dir = home.path().join("sen");
        fs::create_dir(&dir).unwrap();
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).unwrap();
        let store = Store::at(&dir);
        let path = store.save(&sign_in("http://127.0.0.1:8080")).unwrap();
        assert_eq!(fs::metadata(&dir).unwrap().permissions().mode() & 0o777, 0o700);
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        let refused = store.load("http://127.0.0.1:8080").unwrap_err();
        assert_eq!(refused.exit, Exit::NotSignedIn);
        assert!(refused.message.contains("other users"), "{}", refused.message);
    }

    #[test]
    fn debug_output_never_shows_a_token() {
        let shown = format!("{:?}", sign_in("http://127.0.0.1:8080"));
        assert!(!shown.contains("secret"), "{shown}");
    }
}
