//! Running the real `sen` binary from tests.

#![allow(dead_code)]

pub mod certificates;
pub mod check;
pub mod client;
pub mod cluster;
pub mod device;
pub mod faults;
pub mod load;
pub mod proxy;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use sen_platform::identity::AttachBearer;
use sen_proto::v1 as pb;
use sen_proto::v1::schools_service_client::SchoolsServiceClient;

/// A running `sen`.
pub struct Running {
    pub child: Child,
    pub address: String,
    /// The log lines read before it was listening.
    pub startup_log: Vec<String>,
    /// Every log line after that, as it arrives.
    pub log: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

/// `sen` on `data_dir`, made private first as `sen` requires of its data
/// folder (a test's temporary folder is readable by everyone under the usual umask).
pub fn sen(data_dir: &Path) -> Command {
    #[cfg(unix)]
    if data_dir.exists() {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(data_dir, std::fs::Permissions::from_mode(0o700))
            .expect("the data folder made private");
    }
    let mut command = Command::new(env!("CARGO_BIN_EXE_sen"));
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("SEN_DATA_DIR", data_dir)
        .env("SEN_LISTEN", "127.0.0.1:0");
    command
}

/// Starts `sen` and waits for the line that says where it listens.
pub fn start(data_dir: &Path) -> Running {
    start_with(data_dir, &[])
}

/// Starts `sen` with extra variables and waits for the line that says where it listens.
pub fn start_with(data_dir: &Path, vars: &[(&str, &str)]) -> Running {
    let mut child = sen(data_dir).envs(vars.iter().copied()).stderr(Stdio::piped()).spawn().expect("sen starts");
    let stderr = child.stderr.take().expect("stderr is piped");
    let mut lines = BufReader::new(stderr).lines();
    let mut seen = Vec::new();
    let address = loop {
        let Some(Ok(line)) = lines.next() else {
            panic!("sen stopped before listening:\n{}", seen.join("\n"));
        };
        if let Some(rest) = line.split("listening on http://").nth(1) {
            break rest.chars().take_while(|c| c.is_ascii_alphanumeric() || ".:[]".contains(*c)).collect::<String>();
        }
        seen.push(line);
    };
    // Keep draining the log so the server never blocks on a full pipe.
    let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = log.clone();
    std::thread::spawn(move || {
        for line in lines.map_while(Result::ok) {
            if let Ok(mut log) = sink.lock() {
                log.push(line);
            }
        }
    });
    wait_until_settled(data_dir);
    Running { child, address, startup_log: seen, log }
}

/// Waits until the embedded platform has finished what its demo data leaves to
/// background work: the demo's issued plans are loaded, not recorded step by
/// step, so their register changes are made by the referrals service's register
/// task on its first pass. A test then starts from a settled platform, with no
/// change arriving in the feed or a write on the files that it did not make.
/// Nothing to wait for when the referrals service keeps no file here.
fn wait_until_settled(data_dir: &Path) {
    let file = data_dir.join("referrals.db");
    if !file.exists() {
        return;
    }
    let url = format!("sqlite://{}?mode=ro", file.display());
    let waited = std::thread::spawn(move || {
        use sea_orm::{ConnectionTrait, DatabaseBackend, Statement};
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
        runtime.block_on(async move {
            let db = sea_orm::Database::connect(&url).await.expect("the referrals database opens");
            let pending = Statement::from_string(
                DatabaseBackend::Sqlite,
                "SELECT count(*) AS n FROM register_changes WHERE state = 'pending'",
            );
            // A change whose first attempt failed waits for its claim to run out
            // (a minute) and the next pass (every 30 s).
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(150);
            loop {
                let row = db.query_one(pending.clone()).await.expect("the register changes are readable");
                let left: i64 = row.and_then(|r| r.try_get("", "n").ok()).unwrap_or(0);
                if left == 0 {
                    return;
                }
                assert!(std::time::Instant::now() < deadline, "{left} register changes still pending");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
        })
    });
    waited.join().expect("waiting for the platform to settle");
}

pub fn token(data_dir: &Path, args: &[&str]) -> String {
    let output = sen(data_dir).arg("token").args(args).output().expect("sen token runs");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).expect("utf-8").trim().to_owned()
}

pub async fn school_names(address: &str, token: &str) -> Vec<String> {
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{address}"))
        .expect("address")
        .connect()
        .await
        .expect("connects");
    let mut client = SchoolsServiceClient::with_interceptor(channel, AttachBearer::new(token).expect("token"));
    let response = client.list_schools(pb::ListSchoolsRequest::default()).await.expect("lists");
    response.into_inner().schools.into_iter().map(|s| s.name).collect()
}

/// Sends SIGTERM and waits for a clean exit, off the async thread so that the
/// test's client connections keep answering the server's goodbye.
pub async fn stop(running: Running) {
    tokio::task::spawn_blocking(move || stop_blocking(running)).await.expect("stopped");
}

impl Drop for Running {
    /// A test that fails part-way must not leave a server running.
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn stop_blocking(mut running: Running) {
    let status = Command::new("kill").args(["-TERM", &running.child.id().to_string()]).status().expect("kill runs");
    assert!(status.success());
    let exit = running.child.wait().expect("sen exits");
    assert!(exit.success(), "SIGTERM is a clean stop: {exit:?}");
}

/// An OTLP trace collector on an ephemeral loopback port: its URL, and every
/// export it receives, rendered as text.
pub async fn collector() -> (
    String,
    tokio::sync::mpsc::UnboundedReceiver<opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest>,
) {
    use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{TraceService, TraceServiceServer};
    use opentelemetry_proto::tonic::collector::trace::v1::{ExportTraceServiceRequest, ExportTraceServiceResponse};

    struct Collector(tokio::sync::mpsc::UnboundedSender<ExportTraceServiceRequest>);

    #[tonic::async_trait]
    impl TraceService for Collector {
        async fn export(
            &self,
            request: tonic::Request<ExportTraceServiceRequest>,
        ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
            let _ = self.0.send(request.into_inner());
            Ok(tonic::Response::new(ExportTraceServiceResponse { partial_success: None }))
        }
    }

    let (exports, received) = tokio::sync::mpsc::unbounded_channel();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(TraceServiceServer::new(Collector(exports)))
            .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener)),
    );
    (url, received)
}
