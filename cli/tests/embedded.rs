//! The `sen` binary as a newcomer runs it: no arguments starts the embedded
//! platform with demo data, `sen token` mints an identity it accepts, SIGTERM stops
//! it cleanly, and a restart keeps the data without loading the demo twice.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use sen_platform::identity::AttachIdentity;
use sen_proto::v1 as pb;
use sen_proto::v1::schools_service_client::SchoolsServiceClient;

struct Running {
    child: Child,
    address: String,
}

fn sen(data_dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_sen"));
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("SEN_DATA_DIR", data_dir)
        .env("SEN_LISTEN", "127.0.0.1:0");
    command
}

/// Starts `sen` and waits for the line that says where it listens.
fn start(data_dir: &Path) -> Running {
    let mut child = sen(data_dir).stderr(Stdio::piped()).spawn().expect("sen starts");
    let stderr = child.stderr.take().expect("stderr is piped");
    let mut lines = BufReader::new(stderr).lines();
    let mut seen = Vec::new();
    let address = loop {
        let Some(Ok(line)) = lines.next() else {
            panic!("sen stopped before listening:\n{}", seen.join("\n"));
        };
        if let Some(rest) = line.split("listening on http://").nth(1) {
            break rest.split(':').take(2).collect::<Vec<_>>().join(":");
        }
        seen.push(line);
    };
    // Keep draining the log so the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    Running { child, address }
}

fn token(data_dir: &Path, args: &[&str]) -> String {
    let output = sen(data_dir).arg("token").args(args).output().expect("sen token runs");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).expect("utf-8").trim().to_owned()
}

async fn school_names(address: &str, token: &str) -> Vec<String> {
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{address}"))
        .expect("address")
        .connect()
        .await
        .expect("connects");
    let mut client = SchoolsServiceClient::with_interceptor(channel, AttachIdentity::new(token).expect("token"));
    let response = client.list_schools(pb::ListSchoolsRequest::default()).await.expect("lists");
    response.into_inner().schools.into_iter().map(|s| s.name).collect()
}

/// Sends SIGTERM and waits for a clean exit, off the async thread so that the
/// test's client connections keep answering the server's goodbye.
async fn stop(running: Running) {
    tokio::task::spawn_blocking(move || stop_blocking(running)).await.expect("stopped");
}

fn stop_blocking(mut running: Running) {
    let status = Command::new("kill").args(["-TERM", &running.child.id().to_string()]).status().expect("kill runs");
    assert!(status.success());
    let exit = running.child.wait().expect("sen exits");
    assert!(exit.success(), "SIGTERM is a clean stop: {exit:?}");
}

#[tokio::test]
async fn sen_alone_serves_the_demo_authorities_to_development_tokens() {
    let data = tempfile::tempdir().expect("temp dir");
    let running = start(data.path());
    let northmoor = token(data.path(), &["--role", "la_manager", "--tenant", "990"]);
    let names = school_names(&running.address, &northmoor).await;
    assert_eq!(names.len(), 12);
    assert!(names.contains(&"Northmoor Primary School".to_owned()));
    let eastwold = token(data.path(), &["--role", "case_officer", "--tenant", "991"]);
    assert_eq!(school_names(&running.address, &eastwold).await.len(), 6);
    let senco = token(data.path(), &["--role", "senco", "--tenant", "990", "--school", "100001"]);
    assert_eq!(school_names(&running.address, &senco).await, ["Northmoor Primary School"]);
    stop(running).await;

    let again = start(data.path());
    assert_eq!(school_names(&again.address, &northmoor).await.len(), 12, "the demo loads once");
    stop(again).await;
}

#[test]
fn sen_token_refuses_production_mode_and_bad_arguments() {
    let data = tempfile::tempdir().expect("temp dir");
    let output = sen(data.path())
        .env("SEN_MODE", "production")
        .args(["token", "--role", "la_manager", "--tenant", "990"])
        .output()
        .expect("runs");
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("refused in production"));
    let output = sen(data.path()).args(["token", "--role", "senco", "--tenant", "990"]).output().expect("runs");
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("needs a school URN"));
}

#[test]
fn bad_configuration_names_the_variable_and_starts_nothing() {
    let data = tempfile::tempdir().expect("temp dir");
    let output = sen(data.path()).env("SEN_LISTEN", "0.0.0.0:8080").output().expect("runs");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("SEN_LISTEN"), "{stderr}");
    assert!(!data.path().join("schools.db").exists(), "nothing was created");
}
