//! What went wrong, for a person and for a script: every failure of a client
//! command becomes one line on standard error and one of a few documented exit
//! codes. A gRPC status is mapped here once, so the commands just use `?`.
//!
//! Statuses a client sees come from two places: the gateway or a service answered
//! (the status carries the server's message), or tonic could not reach the
//! gateway at all (the status carries the transport error as its source). The
//! second is "cannot reach the gateway"; the first may still be UNAVAILABLE when
//! the gateway is up but the service behind it is not.

use std::error::Error as _;
use std::fmt;

use tonic::{Code, Status};
use tonic_types::StatusExt;

/// How to get a token, for the messages that need one.
pub const TOKEN_HINT: &str = "sign in again with `sen login`, or in the embedded platform get a new one with \
     `sen token --role educational_psychologist --tenant 990 --person <your id>`";

/// The exit codes a script can rely on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// Something unexpected went wrong (a server fault, an answer the client cannot read).
    Unexpected = 1,
    /// The command line cannot work (clap's usage errors use the same code).
    Usage = 2,
    /// Not signed in, or the token is expired or invalid.
    NotSignedIn = 3,
    /// The caller's role may not do this.
    NotPermitted = 4,
    /// The record does not exist or is not the caller's to see.
    NotFound = 5,
    /// The server rejected the input; the fields are listed.
    Rejected = 6,
    /// A conflict: stale version, wrong state, duplicate.
    Conflict = 7,
    /// The gateway or a service behind it is unreachable, busy or too slow.
    Unavailable = 8,
}

impl Exit {
    /// The process exit code.
    pub fn code(self) -> u8 {
        self as u8
    }
}

/// A failed command: the exit code and the one line to show.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// Why the command failed, for scripts.
    pub exit: Exit,
    /// What to tell the person, on one line.
    pub message: String,
    /// Whether the gateway refused the token (so a stored sign-in may be renewed and the call made again).
    token_refused: bool,
}

impl Failure {
    /// A failure with this exit code and message.
    pub fn new(exit: Exit, message: impl Into<String>) -> Self {
        Self { exit, message: one_line(&message.into()), token_refused: false }
    }

    /// The same failure, marked as the gateway refusing the token.
    pub fn token_refused(mut self) -> Self {
        self.token_refused = true;
        self
    }

    /// Whether the gateway refused the token.
    pub fn is_token_refused(&self) -> bool {
        self.token_refused
    }

    /// No token was given.
    pub fn no_token() -> Self {
        Self::new(
            Exit::NotSignedIn,
            "not signed in: run `sen login`, or pass --token / set SEN_TOKEN (in the embedded platform, mint one \
             with `sen token --role educational_psychologist --tenant 990 --person <your id>`)",
        )
    }

    /// The gateway could not be reached at all.
    pub fn unreachable(gateway: &str, cause: &dyn std::error::Error) -> Self {
        Self::new(Exit::Unavailable, format!("cannot reach the gateway at {gateway}: {}", root_cause(cause)))
    }

    /// Adds a hint after the message (e.g. how to retry safely).
    pub fn with_hint(mut self, hint: &str) -> Self {
        self.message = one_line(&format!("{}; {hint}", self.message));
        self
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// What a call was for, so that a refusal can say what was refused.
#[derive(Clone, Debug, Default)]
pub struct Call {
    /// Completes "your role may not …", e.g. "see the council overview".
    pub action: &'static str,
    /// The record asked for, for NOT_FOUND, e.g. "case 12".
    pub record: Option<String>,
    /// Request field paths and the command-line flag that sets each.
    pub flags: &'static [(&'static str, &'static str)],
}

impl Call {
    /// A call doing `action`.
    pub fn to(action: &'static str) -> Self {
        Self { action, ..Self::default() }
    }

    /// The same call about one `record`.
    pub fn about(mut self, record: impl Into<String>) -> Self {
        self.record = Some(record.into());
        self
    }

    /// The same call, naming flags for rejected fields.
    pub fn with_flags(mut self, flags: &'static [(&'static str, &'static str)]) -> Self {
        self.flags = flags;
        self
    }

    /// The failure for `status`, answered by (or on the way to) `gateway`.
    pub fn failed(&self, status: &Status, gateway: &str) -> Failure {
        if let Some(cause) = status.source() {
            return transport_failure(status.code(), gateway, cause);
        }
        let message = status.message().trim();
        match status.code() {
            Code::Unauthenticated => Failure::new(
                Exit::NotSignedIn,
                format!("your token was refused ({}); {TOKEN_HINT}", or(message, "expired or not valid")),
            )
            .token_refused(),
            Code::PermissionDenied => Failure::new(
                Exit::NotPermitted,
                format!("your role may not {} ({})", self.action, or(message, "denied")),
            ),
            Code::NotFound => match &self.record {
                Some(record) => Failure::new(Exit::NotFound, format!("{record} was not found (or is not yours)")),
                None => Failure::new(Exit::NotFound, format!("not found: {}", or(message, "no such record"))),
            },
            Code::InvalidArgument | Code::OutOfRange => Failure::new(Exit::Rejected, self.rejected(status)),
            Code::FailedPrecondition | Code::Aborted | Code::AlreadyExists => {
                Failure::new(Exit::Conflict, or(message, "the record changed or is in the wrong state").to_owned())
            }
            Code::Unavailable => {
                let reason = or(message, "a service is unavailable");
                Failure::new(
                    Exit::Unavailable,
                    format!("{reason} (the gateway at {gateway} answered); try again shortly"),
                )
            }
            Code::ResourceExhausted => {
                Failure::new(Exit::Unavailable, format!("{}; try again shortly", or(message, "the platform is busy")))
            }
            Code::DeadlineExceeded | Code::Cancelled => Failure::new(
                Exit::Unavailable,
                format!("{} (gateway {gateway}); try again shortly", or(message, "no answer in time")),
            ),
            Code::Unimplemented => Failure::new(
                Exit::Unexpected,
                format!("the gateway at {gateway} does not offer this call (is it an older version?): {message}"),
            ),
            code => Failure::new(
                Exit::Unexpected,
                format!("the platform failed ({}): {}", code_name(code), or(message, "no detail")),
            ),
        }
    }

    /// "input rejected: field (--flag): why; …" from the BadRequest detail.
    fn rejected(&self, status: &Status) -> String {
        let violations = status.get_details_bad_request().map(|b| b.field_violations).unwrap_or_default();
        if violations.is_empty() {
            return format!("input rejected: {}", or(status.message().trim(), "the request is not valid"));
        }
        let parts: Vec<String> = violations
            .iter()
            .map(|v| match self.flag_for(&v.field) {
                Some(flag) => format!("{} ({flag}): {}", v.field, v.description),
                None => format!("{}: {}", v.field, v.description),
            })
            .collect();
        format!("input rejected: {}", parts.join("; "))
    }

    /// The flag that sets request field `field`, matching the longest known prefix.
    fn flag_for(&self, field: &str) -> Option<&'static str> {
        self.flags
            .iter()
            .filter(|(path, _)| {
                field == *path || field.starts_with(&format!("{path}.")) || field.starts_with(&format!("{path}["))
            })
            .max_by_key(|(path, _)| path.len())
            .map(|(_, flag)| *flag)
    }
}

/// A status tonic made itself because the call never got an answer.
fn transport_failure(code: Code, gateway: &str, cause: &(dyn std::error::Error + 'static)) -> Failure {
    let cause = root_cause(cause);
    match code {
        Code::Cancelled | Code::DeadlineExceeded => Failure::new(
            Exit::Unavailable,
            format!("the gateway at {gateway} did not answer in time ({cause}); try again shortly"),
        ),
        _ => Failure::new(Exit::Unavailable, format!("cannot reach the gateway at {gateway}: {cause}")),
    }
}

/// The innermost error of a chain: "Connection refused (os error 111)" rather
/// than "transport error".
fn root_cause(error: &dyn std::error::Error) -> String {
    let mut innermost = error;
    while let Some(source) = innermost.source() {
        innermost = source;
    }
    let text = innermost.to_string();
    if text.trim().is_empty() { error.to_string() } else { text }
}

fn or<'a>(message: &'a str, fallback: &'a str) -> &'a str {
    if message.is_empty() { fallback } else { message }
}

/// The gRPC name of a code, as operators read it in logs.
fn code_name(code: Code) -> &'static str {
    match code {
        Code::Unknown => "UNKNOWN",
        Code::Internal => "INTERNAL",
        Code::DataLoss => "DATA_LOSS",
        _ => "unexpected status",
    }
}

/// Messages go on one line, whatever the server put in them.
fn one_line(message: &str) -> String {
    message.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use tonic_types::{ErrorDetails, FieldViolation};

    const GATEWAY: &str = "http://127.0.0.1:8080";

    fn bad_request(violations: &[(&str, &str)]) -> Status {
        let violations: Vec<FieldViolation> = violations.iter().map(|(f, d)| FieldViolation::new(*f, *d)).collect();
        Status::with_error_details(Code::InvalidArgument, "invalid request", ErrorDetails::with_bad_request(violations))
    }

    #[test]
    fn an_expired_token_is_exit_3_and_says_how_to_get_a_new_one() {
        let failure = Call::to("see your caseload")
            .failed(&Status::unauthenticated("the token is not valid or has expired"), GATEWAY);
        assert_eq!(failure.exit, Exit::NotSignedIn);
        assert_eq!(failure.exit.code(), 3);
        assert!(failure.message.contains("the token is not valid or has expired"), "{}", failure.message);
        assert!(failure.message.contains("sen token --role"), "{}", failure.message);
        assert!(failure.is_token_refused());
        assert_eq!(Failure::no_token().exit, Exit::NotSignedIn);
        assert!(Failure::no_token().message.contains("sen login"));
        assert!(!Failure::no_token().is_token_refused());
    }

    #[test]
    fn a_refusal_names_what_the_role_may_not_do() {
        let failure = Call::to("see the council overview")
            .failed(&Status::permission_denied("the senco role may not call GetOverview"), GATEWAY);
        assert_eq!(failure.exit.code(), 4);
        assert!(failure.message.starts_with("your role may not see the council overview"), "{}", failure.message);
    }

    #[test]
    fn not_found_names_the_record_without_saying_whether_it_exists() {
        let failure = Call::to("see this case").about("case 12").failed(&Status::not_found("no case 12"), GATEWAY);
        assert_eq!(failure.exit.code(), 5);
        assert_eq!(failure.message, "case 12 was not found (or is not yours)");
    }

    #[test]
    fn rejected_input_lists_every_bad_field_with_its_flag() {
        let status = bad_request(&[
            ("referral.broad_areas", "'feelings' is not a broad area of need"),
            ("referral.consent.given_on", "is in the future"),
            ("idempotency_key", "is too long"),
        ]);
        let flags = &[
            ("referral.broad_areas", "--area"),
            ("referral.consent", "--consent-*"),
            ("referral.consent.given_on", "--consent-given-on"),
        ];
        let failure = Call::to("submit referrals").with_flags(flags).failed(&status, GATEWAY);
        assert_eq!(failure.exit.code(), 6);
        assert_eq!(
            failure.message,
            "input rejected: referral.broad_areas (--area): 'feelings' is not a broad area of need; \
             referral.consent.given_on (--consent-given-on): is in the future; idempotency_key: is too long"
        );
    }

    #[test]
    fn rejected_input_without_details_shows_the_servers_message() {
        let failure = Call::to("log activity").failed(&Status::invalid_argument("bad date\nsecond line"), GATEWAY);
        assert_eq!(failure.exit, Exit::Rejected);
        assert_eq!(failure.message, "input rejected: bad date second line");
    }

    #[test]
    fn conflicts_are_exit_7_with_the_servers_message() {
        for status in [
            Status::failed_precondition("case 12 is closed"),
            Status::aborted("the record changed; reload it"),
            Status::already_exists("this idempotency key was used for a different referral"),
        ] {
            let failure = Call::to("log activity").failed(&status, GATEWAY);
            assert_eq!(failure.exit.code(), 7);
            assert_eq!(failure.message, status.message());
        }
    }

    #[test]
    fn a_service_down_behind_a_live_gateway_is_told_apart_from_an_unreachable_gateway() {
        let down =
            Call::to("see your caseload").failed(&Status::unavailable("the caseloads service is unavailable"), GATEWAY);
        assert_eq!(down.exit.code(), 8);
        assert!(down.message.starts_with("the caseloads service is unavailable (the gateway at"), "{}", down.message);

        let refused = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "Connection refused (os error 111)");
        let unreachable = Status::from_error(Box::new(refused));
        let failure = Call::to("see your caseload").failed(&unreachable, GATEWAY);
        assert_eq!(failure.exit.code(), 8);
        assert_eq!(
            failure.message,
            format!("cannot reach the gateway at {GATEWAY}: Connection refused (os error 111)")
        );
    }

    #[test]
    fn busy_and_slow_are_unavailable_and_server_faults_are_unexpected() {
        assert_eq!(
            Call::default().failed(&Status::resource_exhausted("too many requests"), GATEWAY).exit,
            Exit::Unavailable
        );
        assert_eq!(Call::default().failed(&Status::deadline_exceeded("slow"), GATEWAY).exit, Exit::Unavailable);
        let internal = Call::default().failed(&Status::internal("something broke"), GATEWAY);
        assert_eq!(internal.exit.code(), 1);
        assert!(internal.message.contains("INTERNAL") && internal.message.contains("something broke"));
    }
}
