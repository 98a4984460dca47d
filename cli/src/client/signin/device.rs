//! Waiting for the person to sign in with a code (RFC 8628 §3.4–3.5): `sen`
//! asks the token endpoint every `interval` until it grants tokens or says why
//! not. `authorization_pending` means "not yet"; `slow_down` means "ask less
//! often", and the interval grows by 5 seconds for good; `access_denied` and
//! `expired_token` end the wait. A provider that cannot be reached for a moment
//! is asked again, each pause twice the last, until the code expires.
//!
//! What each answer means ([`next_step`]) is a pure function, so the rules are
//! tested without a provider; [`wait_for_sign_in`] is the loop around it.

use std::time::Duration;

use tokio::time::Instant;

use super::super::failure::{Exit, Failure};
use super::provider::{DeviceAuthorization, Provider, TokenAnswer, Tokens};

/// The pause between polls when the provider names none (RFC 8628 §3.2).
const DEFAULT_INTERVAL: Duration = Duration::from_secs(5);
/// What `slow_down` adds to the pause (RFC 8628 §3.5).
const SLOW_DOWN_STEP: Duration = Duration::from_secs(5);
/// The longest pause after the provider could not be reached.
const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// What to do after one answer from the token endpoint.
#[derive(Debug, PartialEq, Eq)]
pub enum Step {
    /// Signed in.
    Granted(Tokens),
    /// Not yet: ask again after this pause.
    Wait(Duration),
    /// The sign-in ended without tokens.
    Stop(Failure),
}

/// The step after `answer`, polling every `interval` until now.
pub fn next_step(answer: TokenAnswer, interval: Duration) -> Step {
    let (error, description) = match answer {
        TokenAnswer::Granted(tokens) => return Step::Granted(tokens),
        TokenAnswer::Refused { error, description } => (error, description),
    };
    let detail = description.map(|d| format!(" ({d})")).unwrap_or_default();
    match error.as_str() {
        "authorization_pending" => Step::Wait(interval),
        "slow_down" => Step::Wait(interval + SLOW_DOWN_STEP),
        "access_denied" => Step::Stop(Failure::new(
            Exit::NotSignedIn,
            format!("the sign-in was declined{detail}; nothing was saved. Run `sen login` to try again"),
        )),
        "expired_token" => Step::Stop(expired()),
        "invalid_client" | "unauthorized_client" => Step::Stop(Failure::new(
            Exit::Usage,
            format!(
                "the identity provider refused this client ({error}){detail}; check --client-id / SEN_CLI_CLIENT_ID"
            ),
        )),
        _ => Step::Stop(Failure::new(
            Exit::Unexpected,
            format!("the identity provider ended the sign-in ({error}){detail}; run `sen login` to try again"),
        )),
    }
}

/// The code ran out before the person finished.
fn expired() -> Failure {
    Failure::new(
        Exit::NotSignedIn,
        "the sign-in code expired before the sign-in was finished; nothing was saved. Run `sen login` for a new code",
    )
}

/// Polls until the person signs in, declines, or the code expires.
pub async fn wait_for_sign_in(provider: &Provider, authorization: &DeviceAuthorization) -> Result<Tokens, Failure> {
    let deadline = Instant::now() + authorization.expires_in;
    let mut interval = authorization.interval.unwrap_or(DEFAULT_INTERVAL);
    let mut pause = interval;
    loop {
        // The protocol's pacing: the provider answers `slow_down` to a client
        // that asks sooner than `interval`.
        tokio::time::sleep(pause).await;
        if Instant::now() >= deadline {
            return Err(expired());
        }
        let step = match provider.poll_device(&authorization.device_code).await {
            Ok(answer) => next_step(answer, interval),
            Err(failure) if failure.exit == Exit::Unavailable => {
                eprintln!("sen: {failure}; asking again");
                pause = (pause * 2).clamp(Duration::from_secs(1), MAX_BACKOFF);
                continue;
            }
            Err(failure) => Step::Stop(failure),
        };
        match step {
            Step::Granted(tokens) => return Ok(tokens),
            Step::Wait(next) => {
                interval = next;
                pause = next;
            }
            Step::Stop(failure) => return Err(failure),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(error: &str) -> TokenAnswer {
        TokenAnswer::Refused { error: error.into(), description: None }
    }

    const FIVE: Duration = Duration::from_secs(5);

    #[test]
    fn pending_keeps_the_pace_and_slow_down_adds_five_seconds_for_good() {
        assert_eq!(next_step(refused("authorization_pending"), FIVE), Step::Wait(FIVE));
        assert_eq!(next_step(refused("slow_down"), FIVE), Step::Wait(Duration::from_secs(10)));
        assert_eq!(next_step(refused("slow_down"), Duration::ZERO), Step::Wait(FIVE));
    }

    #[test]
    fn declined_and_expired_sign_ins_are_not_signed_in_and_say_what_to_do() {
        for error in ["access_denied", "expired_token"] {
            let Step::Stop(failure) = next_step(refused(error), FIVE) else { panic!("{error} ends the wait") };
            assert_eq!(failure.exit, Exit::NotSignedIn, "{error}");
            assert!(failure.message.contains("sen login") && failure.message.contains("nothing was saved"));
        }
        let Step::Stop(declined) = next_step(
            TokenAnswer::Refused { error: "access_denied".into(), description: Some("the user said no".into()) },
            FIVE,
        ) else {
            panic!("declined")
        };
        assert!(declined.message.contains("declined (the user said no)"), "{}", declined.message);
    }

    #[test]
    fn a_wrong_client_is_a_usage_error_and_anything_else_unexpected() {
        let Step::Stop(client) = next_step(refused("unauthorized_client"), FIVE) else { panic!() };
        assert_eq!(client.exit, Exit::Usage);
        assert!(client.message.contains("SEN_CLI_CLIENT_ID"));
        let Step::Stop(other) = next_step(refused("invalid_grant"), FIVE) else { panic!() };
        assert_eq!(other.exit, Exit::Unexpected);
        assert!(other.message.contains("invalid_grant"));
    }

    #[test]
    fn granted_tokens_end_the_wait() {
        let tokens = Tokens { access_token: "a".into(), refresh_token: None, expires_in: None };
        assert_eq!(next_step(TokenAnswer::Granted(tokens.clone()), FIVE), Step::Granted(tokens));
    }
}
