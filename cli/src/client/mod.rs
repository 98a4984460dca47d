//! The `sen` client: what educational psychologists and advisory teachers use to
//! work their caseload, SENCOs and school systems to submit and follow
//! referrals, and the council team to read the overview — gRPC through the
//! gateway, with the caller's bearer token: one given with `--token`, or the
//! sign-in `sen login` keeps ([`signin`]).
//!
//! Each command connects ([`connection`]), makes its calls, and renders what came
//! back as text for a person (pure functions, tested without a server) or, with
//! `--json`, in the JSON API's shape ([`json`]). Every failure is one line on
//! standard error and a documented exit code ([`failure`]), so scripts can act on
//! "token expired" differently from "gateway down".

mod case;
mod caseload;
mod choices;
mod connection;
mod dates;
mod failure;
mod forecast;
mod json;
mod overview;
mod pupils;
mod record_request;
mod referrals;
mod sen2;
mod signin;
mod submit;
mod table;
mod watch;

use std::io::Write;
use std::process::ExitCode;

use clap::Subcommand;

use failure::{Exit, Failure};

/// The exit codes, as `--help` shows them (README.md has the same table).
pub const EXIT_CODES: &str = "\
Exit codes:
  0  success
  1  unexpected failure
  2  bad command line
  3  not signed in, the token is expired or invalid, or the sign-in was declined (run `sen login`)
  4  your role may not do this
  5  not found, or not yours to see
  6  input rejected (each bad field is named)
  7  conflict: stale version, wrong state or duplicate; a watch position no longer kept
  8  the gateway, or a service behind it, is unavailable or too slow

Connection: --gateway / SEN_GATEWAY_URL (default http://127.0.0.1:8080), --token / SEN_TOKEN
(without it, the sign-in `sen login` keeps for that gateway, renewed as it nears expiry),
--ca-file / SEN_CA_FILE for an https:// gateway with a private CA. In the embedded platform,
mint a token with `sen token --role educational_psychologist --tenant 990 --person <id>`.";

/// The client commands, at the top level of `sen`.
#[derive(Subcommand)]
pub enum ClientCommand {
    /// Your open cases, soonest deadline first (educational psychologists, advisory teachers).
    #[command(after_help = EXIT_CODES)]
    Caseload(caseload::CaseloadArgs),
    /// One of your cases: show it, log a visit or piece of work, close it.
    #[command(subcommand, after_help = EXIT_CODES)]
    Case(case::CaseCommand),
    /// Referrals: list those you may see, submit one (SENCOs, school systems), or watch them change.
    #[command(subcommand, after_help = EXIT_CODES)]
    Referrals(referrals::ReferralsCommand),
    /// The council overview: register, referrals, statutory clock, SENCOs, transfers, caseloads.
    #[command(after_help = EXIT_CODES)]
    Overview(overview::OverviewArgs),
    /// The SEN2 return for the DfE: `sen sen2 --year 2026 > sen2.xml` (the failures on standard error).
    #[command(after_help = EXIT_CODES)]
    Sen2(sen2::Sen2Args),
    #[command(subcommand, after_help = EXIT_CODES)]
    Pupils(pupils::PupilsCommand),
    /// The breach forecast (council team): requests likely to miss their 20-week date and why, expected breaches
    /// a month with a what-if, suggested moves; `sen forecast backtest` scores the model on the history.
    #[command(after_help = EXIT_CODES)]
    Forecast(forecast::ForecastArgs),
    /// Sign in at the council's identity provider with a code; the client commands then use the sign-in.
    ///
    /// Shows an address and a code: open the address on any device, enter the code and sign in as
    /// usual. The sign-in is kept for this gateway in $XDG_CONFIG_HOME/sen/ (or ~/.config/sen/),
    /// readable by you alone, and renewed as it nears expiry, until `sen logout`.
    #[command(after_help = EXIT_CODES)]
    Login(signin::commands::LoginArgs),
    /// Sign out: revoke the stored refresh token (if the identity provider allows) and delete the sign-in.
    #[command(after_help = EXIT_CODES)]
    Logout(signin::commands::LogoutArgs),
}

/// Runs a client command; the exit code says how it went (see [`EXIT_CODES`]).
pub fn run(command: &ClientCommand) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => return report(&Failure::new(Exit::Unexpected, format!("cannot start: {e}"))),
    };
    // The platform judges dates in UTC; so does the client, so "today" agrees.
    let today = chrono::Utc::now().date_naive();
    // A stored token the gateway refuses is renewed once and the command run again.
    let outcome = runtime.block_on(signin::session::run_renewing_once(|| execute(command, today)));
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => report(&failure),
    }
}

/// Runs one client command.
async fn execute(command: &ClientCommand, today: chrono::NaiveDate) -> Result<(), Failure> {
    match command {
        ClientCommand::Caseload(args) => caseload::run(args).await,
        ClientCommand::Case(command) => case::run(command, today).await,
        ClientCommand::Referrals(command) => referrals::run(command).await,
        ClientCommand::Overview(args) => overview::run(args).await,
        ClientCommand::Sen2(args) => sen2::run(args).await,
        ClientCommand::Pupils(command) => pupils::run(command).await,
        ClientCommand::Forecast(args) => forecast::run(args, today).await,
        ClientCommand::Login(args) => signin::commands::login(args).await,
        ClientCommand::Logout(args) => signin::commands::logout(args).await,
    }
}

fn report(failure: &Failure) -> ExitCode {
    eprintln!("sen: {failure}");
    ExitCode::from(failure.exit.code())
}

/// Writes `text` to standard output. A reader that went away (`sen … | head`)
/// is not a failure of the command.
fn print(text: &str) -> Result<(), Failure> {
    signin::session::note_printed();
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(Failure::new(Exit::Unexpected, format!("cannot write the output: {e}")))
        }
        _ => Ok(()),
    }
}

/// "1 case", "3 cases".
fn plural(n: usize, one: &str, many: &str) -> String {
    if n == 1 { format!("1 {one}") } else { format!("{n} {many}") }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{CommandFactory, Parser};

    /// The client commands as `sen` mounts them.
    #[derive(Parser)]
    #[command(name = "sen")]
    struct Sen {
        #[command(subcommand)]
        command: ClientCommand,
    }

    #[test]
    fn the_command_line_is_consistent_and_documents_the_exit_codes() {
        Sen::command().debug_assert();
        let mut command = Sen::command();
        let leaves = [
            vec!["caseload"],
            vec!["case", "show"],
            vec!["case", "log"],
            vec!["case", "close"],
            vec!["referrals", "list"],
            vec!["referrals", "submit"],
            vec!["referrals", "watch"],
            vec!["overview"],
            vec!["sen2"],
            vec!["pupils", "import"],
            vec!["forecast"],
            vec!["forecast", "backtest"],
            vec!["login"],
            vec!["logout"],
        ];
        for path in leaves {
            let mut leaf = &mut command;
            for name in &path {
                leaf = leaf.find_subcommand_mut(name).unwrap_or_else(|| panic!("{path:?}"));
            }
            let help = leaf.render_long_help().to_string();
            assert!(help.contains("Exit codes:") && help.contains("8  the gateway"), "{path:?}: {help}");
            assert!(help.contains("SEN_TOKEN") && help.contains("SEN_GATEWAY_URL"), "{path:?}: {help}");
        }
    }

    #[test]
    fn flags_parse_into_the_commands_and_bad_ones_are_usage_errors() {
        let parsed = Sen::try_parse_from(["sen", "case", "log", "12", "--kind", "statutory_advice", "--sessions", "2"]);
        assert!(parsed.is_err(), "--note is required");
        let parsed = Sen::try_parse_from([
            "sen",
            "case",
            "log",
            "12",
            "--kind",
            "statutory_advice",
            "--sessions",
            "2",
            "--note",
            "Report drafted",
            "--on",
            "2026-03-02",
            "--token",
            "t",
        ]);
        assert!(parsed.is_ok(), "{:?}", parsed.err().map(|e| e.to_string()));
        for bad in [
            vec!["sen", "case", "log", "12", "--kind", "chat", "--sessions", "1", "--note", "n"],
            vec!["sen", "case", "show", "0"],
            vec!["sen", "caseload", "--as-of", "1/3/2026"],
            vec!["sen", "referrals", "list", "--status", "lost"],
            vec!["sen", "referrals", "list", "--page-size", "501"],
            vec!["sen", "referrals", "watch", "--after", "-1"],
            vec!["sen", "referrals", "watch", "--count", "0"],
            vec!["sen", "overview", "--gateway", "127.0.0.1:8080"],
        ] {
            let error = Sen::try_parse_from(&bad).err().unwrap_or_else(|| panic!("{bad:?} parses"));
            assert_eq!(error.exit_code(), 2, "{bad:?}");
        }
    }

    #[test]
    fn counts_read_naturally() {
        assert_eq!(plural(1, "case", "cases"), "1 case");
        assert_eq!(plural(0, "case", "cases"), "0 cases");
    }
}
