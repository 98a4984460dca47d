//! `sen` as a client of a running platform, and what it printed.

use std::path::Path;
use std::process::Output;

/// Runs `sen ARGS` as a client of the platform at `address`, with `token` (if any).
pub fn client(data_dir: &Path, address: &str, token: Option<&str>, args: &[&str]) -> Output {
    let mut command = super::sen(data_dir);
    command.env("SEN_GATEWAY_URL", format!("http://{address}"));
    if let Some(token) = token {
        command.env("SEN_TOKEN", token);
    }
    command.args(args).output().expect("sen runs")
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Asserts success and gives standard output.
pub fn ok(output: &Output) -> String {
    assert_eq!(output.status.code(), Some(0), "stdout:\n{}\nstderr:\n{}", stdout(output), stderr(output));
    stdout(output)
}

/// Asserts the exit code and gives standard error.
pub fn exits_with(output: &Output, code: i32) -> String {
    let err = stderr(output);
    assert_eq!(output.status.code(), Some(code), "stdout:\n{}\nstderr:\n{err}", stdout(output));
    err
}
