//! The sign-in kept by `sen login`, as every client command uses it when no
//! `--token` / `SEN_TOKEN` is given.
//!
//! An access token that expires within [`REFRESH_MARGIN`] is renewed with the
//! refresh token before the command's first call, and the renewed tokens are
//! stored (providers such as Microsoft Entra ID hand out a new refresh token
//! each time). If the provider cannot be reached but the token has not yet
//! expired, the command goes ahead with it. When two commands renew at once and
//! the provider refuses the second its (already rotated) refresh token, the
//! second takes the sign-in the first stored.
//!
//! A stored token the gateway refuses anyway (revoked, or the clocks disagree)
//! is renewed once and the whole command run again — but only if the command
//! printed nothing yet, so nothing is shown twice. That is safe for the
//! commands that change records: each makes one call, and a call refused for
//! its token never reached a service. [`run_renewing_once`] does this; the
//! record of what one run did lives in a task-local, so the commands
//! themselves need not know where their token came from.

use std::cell::RefCell;
use std::future::Future;
use std::time::Duration;

use super::super::failure::{Exit, Failure};
use super::provider::{Provider, TokenAnswer};
use super::store::{SignIn, Store};

/// How long before its expiry an access token is renewed: enough for a slow
/// command to finish with it.
pub const REFRESH_MARGIN: Duration = Duration::from_secs(120);

/// What one run of a command did that decides whether it may run again.
#[derive(Debug, Default)]
struct Record {
    /// The gateway whose stored sign-in the command used, if it used one.
    stored_for: Option<String>,
    /// Whether the command wrote anything to standard output.
    printed: bool,
}

tokio::task_local! {
    static RECORD: RefCell<Record>;
}

/// Runs `command`; if the gateway refused the stored token before anything was
/// printed, renews the sign-in and runs it once more.
pub async fn run_renewing_once<F, Fut>(mut command: F) -> Result<(), Failure>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<(), Failure>>,
{
    let (outcome, record) = recorded(command()).await;
    let refused = matches!(&outcome, Err(failure) if failure.is_token_refused());
    let Some(gateway) = record.stored_for.filter(|_| refused && !record.printed) else { return outcome };
    let store = Store::from_env()?;
    let Some(sign_in) = store.load(&gateway)? else { return outcome };
    renew(&store, &sign_in, unix_now()).await?;
    recorded(command()).await.0
}

/// Notes that the command printed something (so it is not run again).
pub fn note_printed() {
    let _ = RECORD.try_with(|record| record.borrow_mut().printed = true);
}

async fn recorded<Fut: Future<Output = Result<(), Failure>>>(run: Fut) -> (Result<(), Failure>, Record) {
    RECORD
        .scope(RefCell::new(Record::default()), async {
            let outcome = run.await;
            (outcome, RECORD.with(RefCell::take))
        })
        .await
}

/// The stored access token for `gateway`, renewed first if it is about to expire.
pub async fn stored_token(gateway: &str) -> Result<String, Failure> {
    // With no configuration folder there is no sign-in either.
    let Ok(store) = Store::from_env() else { return Err(Failure::no_token()) };
    let Some(sign_in) = store.load(gateway)? else { return Err(Failure::no_token()) };
    let now = unix_now();
    let sign_in = if needs_renewal(&sign_in, now) { renew_or_keep(&store, sign_in, now).await? } else { sign_in };
    let _ = RECORD.try_with(|record| record.borrow_mut().stored_for = Some(gateway.to_owned()));
    Ok(sign_in.access_token)
}

/// Whether the access token expires within [`REFRESH_MARGIN`] of `now`.
fn needs_renewal(sign_in: &SignIn, now: i64) -> bool {
    let margin = i64::try_from(REFRESH_MARGIN.as_secs()).unwrap_or(i64::MAX);
    sign_in.expires_at.is_some_and(|at| at.saturating_sub(now) <= margin)
}

/// Renews `sign_in`, or keeps it while it is still valid if the provider cannot be reached.
async fn renew_or_keep(store: &Store, sign_in: SignIn, now: i64) -> Result<SignIn, Failure> {
    match renew(store, &sign_in, now).await {
        Ok(renewed) => Ok(renewed),
        Err(failure) if failure.exit == Exit::Unavailable && sign_in.expires_at.is_some_and(|at| at > now) => {
            eprintln!("sen: cannot renew the sign-in now ({failure}); using the current token while it lasts");
            Ok(sign_in)
        }
        Err(failure) => Err(failure),
    }
}

/// Gets a new access token with the refresh token and stores it.
pub async fn renew(store: &Store, sign_in: &SignIn, now: i64) -> Result<SignIn, Failure> {
    let Some(refresh_token) = &sign_in.refresh_token else {
        return Err(sign_in_again("your sign-in has expired and cannot be renewed (no refresh token was given)"));
    };
    let provider = Provider::discover(&sign_in.provider()).await?;
    match provider.refresh(refresh_token, &sign_in.scope).await? {
        TokenAnswer::Granted(tokens) => {
            let renewed = sign_in.renewed(tokens, now);
            store.save(&renewed)?;
            Ok(renewed)
        }
        TokenAnswer::Refused { error, description } => {
            // Another `sen` may have just renewed it: providers that rotate refresh
            // tokens refuse the old one once the new one is out.
            if let Some(current) = store.load(&sign_in.gateway)?
                && current.refresh_token != sign_in.refresh_token
            {
                return Ok(current);
            }
            let detail = description.map(|d| format!(": {d}")).unwrap_or_default();
            Err(sign_in_again(&format!(
                "your sign-in could not be renewed (the identity provider answered {error}{detail})"
            )))
        }
    }
}

fn sign_in_again(reason: &str) -> Failure {
    Failure::new(Exit::NotSignedIn, format!("{reason}; run `sen login` again"))
}

/// Seconds since the Unix epoch.
pub fn unix_now() -> i64 {
    chrono::Utc::now().timestamp()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expiring_at(expires_at: Option<i64>) -> SignIn {
        SignIn {
            gateway: "http://127.0.0.1:8080".into(),
            issuer: "http://127.0.0.1:1".into(),
            client_id: "cli".into(),
            scope: "openid".into(),
            provider_ca_file: None,
            access_token: "a".into(),
            refresh_token: None,
            expires_at,
        }
    }

    #[test]
    fn a_token_is_renewed_shortly_before_it_expires() {
        let now = 1_800_000_000;
        assert!(!needs_renewal(&expiring_at(Some(now + 3600)), now));
        assert!(!needs_renewal(&expiring_at(Some(now + 121)), now));
        assert!(needs_renewal(&expiring_at(Some(now + 120)), now));
        assert!(needs_renewal(&expiring_at(Some(now - 10)), now));
        assert!(!needs_renewal(&expiring_at(None), now), "no expiry known: renewed only when refused");
    }

    #[tokio::test]
    async fn without_a_refresh_token_renewing_says_to_sign_in_again() {
        let dir = tempfile::tempdir().unwrap();
        let failure = renew(&Store::at(dir.path()), &expiring_at(Some(0)), 10).await.unwrap_err();
        assert_eq!(failure.exit, Exit::NotSignedIn);
        assert!(failure.message.ends_with("run `sen login` again"), "{}", failure.message);
    }

    #[tokio::test]
    async fn a_command_that_printed_is_not_run_again() {
        let mut runs = 0;
        let outcome = run_renewing_once(|| {
            runs += 1;
            async {
                let _ = RECORD.try_with(|r| r.borrow_mut().stored_for = Some("http://127.0.0.1:1".into()));
                note_printed();
                Err(Failure::new(Exit::NotSignedIn, "refused").token_refused())
            }
        })
        .await;
        assert_eq!(outcome.unwrap_err().message, "refused");
        assert_eq!(runs, 1);
    }
}
