//! `sen referrals watch` against the real embedded platform: the platform is
//! killed and started again under the watch, referrals are submitted before the
//! watch has reconnected, and it prints every change once, in order, resuming
//! after the last position it printed.

mod support;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::Duration;

use serde_json::Value;
use support::client::{client, ok};

/// A `sen referrals watch` running beside the test; killed if the test fails.
struct Watch {
    child: Child,
    stdout: Receiver<String>,
    stderr: Receiver<String>,
}

impl Drop for Watch {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Each line `read` gives, sent on as it comes.
fn lines(read: impl std::io::Read + Send + 'static) -> Receiver<String> {
    let (send, lines) = channel();
    std::thread::spawn(move || {
        for line in BufReader::new(read).lines().map_while(Result::ok) {
            if send.send(line).is_err() {
                return;
            }
        }
    });
    lines
}

/// The next line, within a minute (the watch waits up to 30 s between attempts).
fn next_line(lines: &Receiver<String>, what: &str) -> String {
    lines.recv_timeout(Duration::from_secs(60)).unwrap_or_else(|_| panic!("no {what} in time"))
}

/// A SENCO's referral of `pupil` at 100001; its id.
fn submit(dir: &Path, address: &str, senco: &str, pupil: &str, key: &str) -> i64 {
    let consent_on = (chrono::Utc::now().date_naive() - chrono::Days::new(7)).to_string();
    let args = [
        "referrals",
        "submit",
        "--pupil",
        pupil,
        "--school",
        "100001",
        "--kind",
        "educational_psychology",
        "--area",
        "cognition_and_learning",
        "--concern",
        "Reading age two years below peers",
        "--tried",
        "Two six-week cycles of phonics intervention",
        "--consent-given-by",
        "Mother",
        "--consent-given-on",
        &consent_on,
        "--consent-method",
        "signed_form",
        "--idempotency-key",
        key,
        // One pupil is referred several times on purpose.
        "--confirm-duplicate",
    ];
    let printed = ok(&client(dir, address, Some(senco), &args));
    printed.split_whitespace().nth(1).and_then(|id| id.parse().ok()).unwrap_or_else(|| panic!("an id: {printed}"))
}

#[test]
fn a_watch_resumes_after_the_platform_restarts_and_misses_nothing_made_meanwhile() {
    let data = tempfile::tempdir().expect("temp dir");
    let dir = data.path();
    // The platform refuses a data folder other accounts may read.
    std::fs::set_permissions(dir, std::os::unix::fs::PermissionsExt::from_mode(0o700)).expect("private");
    // A fixed port, so the platform comes back where the watch looks for it.
    let address = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("address").to_string();
    let listen = [("SEN_LISTEN", address.as_str())];
    let running = support::start_with(dir, &listen);
    let senco = support::token(dir, &["--role", "senco", "--tenant", "990", "--school", "100001"]);
    let manager = support::token(dir, &["--role", "la_manager", "--tenant", "990"]);
    let theirs: Value =
        serde_json::from_str(&ok(&client(dir, &address, Some(&senco), &["referrals", "list", "--json"])))
            .expect("--json prints JSON");
    let pupil = theirs["referrals"][0]["body"]["pupil_id"].as_i64().expect("the school has referrals").to_string();

    let mut command = support::sen(dir);
    command.env("SEN_GATEWAY_URL", format!("http://{address}")).env("SEN_TOKEN", &manager);
    command.args(["referrals", "watch", "--json", "--count", "3"]).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = command.spawn().expect("sen referrals watch runs");
    let (stdout, stderr) = (child.stdout.take().expect("piped"), child.stderr.take().expect("piped"));
    let watch = Watch { child, stdout: lines(stdout), stderr: lines(stderr) };
    let begins = next_line(&watch.stderr, "start line");
    assert!(begins.contains("watching referral changes after position"), "{begins}");

    let first = submit(dir, &address, &senco, &pupil, "watch-1");
    let printed: Value = serde_json::from_str(&next_line(&watch.stdout, "first change")).expect("a JSON line");
    assert_eq!(printed["referral"]["id"], first);
    let last = printed["position"].as_i64().expect("a position");

    // The platform dies under the watch and comes back; two referrals are made
    // before the watch has found it again.
    drop(running);
    let interrupted = next_line(&watch.stderr, "interruption");
    assert!(interrupted.contains(&format!("resuming after position {last}")), "{interrupted}");
    let running = support::start_with(dir, &listen);
    let missed = [submit(dir, &address, &senco, &pupil, "watch-2"), submit(dir, &address, &senco, &pupil, "watch-3")];

    let mut positions = vec![last];
    for id in missed {
        let printed: Value = serde_json::from_str(&next_line(&watch.stdout, "missed change")).expect("a JSON line");
        assert_eq!(printed["referral"]["id"], id, "each once, in order");
        positions.push(printed["position"].as_i64().expect("a position"));
    }
    assert!(positions.windows(2).all(|p| p[0] < p[1]), "{positions:?}");
    let mut watch = watch;
    let exit = watch.child.wait().expect("the watch ends after --count changes");
    assert!(exit.success(), "{exit:?}");
    drop(running);
}
