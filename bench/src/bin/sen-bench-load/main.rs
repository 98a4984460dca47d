//! The load generator of `scripts/bench`: makes one kind of call over HTTP/2
//! (h2c) from N callers at once, each its own connection with one call in flight
//! (as `h2load -c N -m 1`), checks every answer (`grpc-status: 0`, or HTTP 200 for
//! JSON) and reports calls per second and latency percentiles.
//!
//! It runs on one thread, as h2load does by default, so on a small machine it
//! takes one core and leaves the rest to the server under test, and it drives
//! the bare echo server, a service and the gateway identically: the ratios the
//! benchmarks report compare servers, not clients.
//!
//! ```text
//! sen-bench-load discover --url http://127.0.0.1:8080 --token <la_manager token>
//! sen-bench-load seed --url URL --operator T --manager T --officer T
//! sen-bench-load run --url URL --call get-school --auth bearer --token T --urn 100001 \
//!     --callers 32 --seconds 10 --warmup 2 --label "GetSchool via gateway"
//! sen-bench-load run --url URL --call echo --callers 1 --calls 20000 --warmup-calls 2000
//! sen-bench-load run --url URL --call get --path /api/v1/overview --auth bearer --token T \
//!     --callers 8 --seconds 10 --label "overview"
//! sen-bench-load run --url URL --call get --path /dashboard --auth cookie --token 'sen_session=…' …
//! ```
//!
//! `run` prints a table row and a `RESULT key=value …` line for the script.

mod calls;
mod seed;

use std::cell::RefCell;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::{TokioExecutor, TokioIo};
use sen_platform::identity::AttachBearer;
use sen_proto::v1 as pb;

use calls::{Kind, Targets};

/// One call site's settings.
struct Plan {
    address: SocketAddr,
    authority: String,
    kind: Kind,
    targets: Targets,
    auth: Option<(http::HeaderName, http::HeaderValue)>,
    callers: usize,
    stop: Stop,
    warmup: Stop,
    run: String,
}

/// When a caller stops: after so many calls, or at a time.
#[derive(Clone, Copy)]
enum Stop {
    Calls(u64),
    After(Duration),
}

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("sen-bench-load: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let result = match args.first().map(String::as_str) {
        Some("discover") => runtime.block_on(discover(&options(&args[1..]))),
        Some("seed") => runtime.block_on(seed::seed(&options(&args[1..]))),
        Some("run") => runtime.block_on(async {
            let plan = plan(&options(&args[1..]))?;
            tokio::task::LocalSet::new().run_until(run(plan, &options(&args[1..]))).await
        }),
        _ => Err(anyhow::anyhow!("usage: sen-bench-load discover|seed|run --url URL … (see the source's first lines)")),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sen-bench-load: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// `--name value` pairs.
fn options(args: &[String]) -> HashMap<String, String> {
    args.chunks(2)
        .filter_map(|pair| match pair {
            [name, value] => Some((name.trim_start_matches("--").to_owned(), value.clone())),
            _ => None,
        })
        .collect()
}

fn required<'a>(options: &'a HashMap<String, String>, name: &str) -> anyhow::Result<&'a str> {
    options.get(name).map(String::as_str).ok_or_else(|| anyhow::anyhow!("--{name} is required"))
}

fn number<T: std::str::FromStr>(options: &HashMap<String, String>, name: &str, default: T) -> anyhow::Result<T> {
    match options.get(name) {
        Some(v) => v.parse().map_err(|_| anyhow::anyhow!("--{name}: '{v}' is not a number")),
        None => Ok(default),
    }
}

fn plan(options: &HashMap<String, String>) -> anyhow::Result<Plan> {
    let url: http::Uri = required(options, "url")?.parse()?;
    let authority = url.authority().map(|a| a.to_string()).ok_or_else(|| anyhow::anyhow!("--url needs host:port"))?;
    let address: SocketAddr = authority.parse().map_err(|_| anyhow::anyhow!("--url must be http://IP:port"))?;
    let kind = Kind::parse(required(options, "call")?).map_err(anyhow::Error::msg)?;
    let auth = match options.get("auth").map(String::as_str) {
        None | Some("none") => None,
        Some(how) => {
            let token = required(options, "token")?;
            let (name, value) = match how {
                "bearer" => ("authorization", format!("Bearer {token}")),
                "identity" => ("x-sen-identity", token.to_owned()),
                "cookie" => ("cookie", token.to_owned()),
                other => anyhow::bail!("--auth: '{other}' is not bearer, identity, cookie or none"),
            };
            Some((http::HeaderName::from_static(name), http::HeaderValue::from_str(&value)?))
        }
    };
    let targets = Targets {
        urn: options.get("urn").cloned().unwrap_or_default(),
        pupil: number(options, "pupil", 0)?,
        pupil_urn: options.get("pupil-urn").cloned().unwrap_or_default(),
        path: options.get("path").cloned().unwrap_or_default(),
    };
    if kind == Kind::Get && !targets.path.starts_with('/') {
        anyhow::bail!("--path: a get call needs a path beginning with /");
    }
    let stop = match (options.get("calls"), options.get("seconds")) {
        (Some(_), _) => Stop::Calls(number(options, "calls", 0)?),
        (None, Some(_)) => Stop::After(Duration::from_secs_f64(number(options, "seconds", 0.0)?)),
        (None, None) => anyhow::bail!("--calls or --seconds is required"),
    };
    let warmup = match options.get("warmup-calls") {
        Some(_) => Stop::Calls(number(options, "warmup-calls", 0)?),
        None => Stop::After(Duration::from_secs_f64(number(options, "warmup", 1.0)?)),
    };
    let run = format!("{}", std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_nanos());
    Ok(Plan { address, authority, kind, targets, auth, callers: number(options, "callers", 1)?, stop, warmup, run })
}

/// Finds a school and a pupil the token may read, through `--url`.
async fn discover(options: &HashMap<String, String>) -> anyhow::Result<()> {
    let url = required(options, "url")?.to_owned();
    let attach = AttachBearer::new(required(options, "token")?).map_err(anyhow::Error::msg)?;
    let channel = tonic::transport::Endpoint::from_shared(url)?.connect().await?;
    let mut schools =
        pb::schools_service_client::SchoolsServiceClient::with_interceptor(channel.clone(), attach.clone());
    let mut pupils = pb::pupils_service_client::PupilsServiceClient::with_interceptor(channel, attach);
    let school = schools
        .list_schools(pb::ListSchoolsRequest::default())
        .await?
        .into_inner()
        .schools
        .into_iter()
        .next()
        .ok_or_else(|| anyhow::anyhow!("no school to read"))?;
    let pupil = pupils
        .list_pupils(pb::ListPupilsRequest::default())
        .await?
        .into_inner()
        .pupils
        .into_iter()
        .next()
        .ok_or_else(|| anyhow::anyhow!("no pupil to read"))?;
    println!("urn={} pupil={} pupil_urn={}", school.urn, pupil.id, pupil.school_urn);
    Ok(())
}

/// What the callers measured.
#[derive(Default)]
struct Tally {
    latencies_us: Vec<u32>,
    errors: u64,
    first_error: Option<String>,
}

async fn run(plan: Plan, options: &HashMap<String, String>) -> anyhow::Result<()> {
    let label = options.get("label").cloned().unwrap_or_else(|| format!("{:?}", plan.kind));
    let plan = Rc::new(plan);
    let tally = Rc::new(RefCell::new(Tally::default()));
    let mut senders = Vec::new();
    for _ in 0..plan.callers {
        senders.push(connect(&plan).await?);
    }
    // Warm every connection and the server, then measure.
    let mut counter = 0u64;
    drive(&plan, &mut senders, plan.warmup, &tally, false, &mut counter).await;
    tally.borrow_mut().latencies_us.clear();
    let started = Instant::now();
    drive(&plan, &mut senders, plan.stop, &tally, true, &mut counter).await;
    let elapsed = started.elapsed();
    let tally = tally.borrow();
    let mut sorted = tally.latencies_us.clone();
    sorted.sort_unstable();
    let pct = |p: f64| -> f64 {
        if sorted.is_empty() {
            return 0.0;
        }
        let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
        f64::from(sorted[index.min(sorted.len() - 1)]) / 1000.0
    };
    let rate = sorted.len() as f64 / elapsed.as_secs_f64();
    println!(
        "{label:<44} {:>3} callers {:>8} calls {:>9.0} calls/s   p50 {:>7.3} ms  p90 {:>7.3} ms  p99 {:>7.3} ms  max {:>8.3} ms",
        plan.callers,
        sorted.len(),
        rate,
        pct(0.5),
        pct(0.9),
        pct(0.99),
        pct(1.0),
    );
    println!(
        "RESULT label={} callers={} calls={} rate={rate:.0} p50={:.3} p90={:.3} p99={:.3} max={:.3} errors={}",
        label.replace(' ', "_"),
        plan.callers,
        sorted.len(),
        pct(0.5),
        pct(0.9),
        pct(0.99),
        pct(1.0),
        tally.errors
    );
    if let Some(error) = &tally.first_error {
        anyhow::bail!("{} calls failed; the first: {error}", tally.errors);
    }
    Ok(())
}

type Sender = hyper::client::conn::http2::SendRequest<Full<Bytes>>;

async fn connect(plan: &Plan) -> anyhow::Result<Sender> {
    let stream = tokio::net::TcpStream::connect(plan.address)
        .await
        .map_err(|e| anyhow::anyhow!("cannot connect to {}: {e}", plan.address))?;
    stream.set_nodelay(true)?;
    let (sender, connection) =
        hyper::client::conn::http2::Builder::new(TokioExecutor::new()).handshake(TokioIo::new(stream)).await?;
    tokio::task::spawn_local(async move {
        let _ = connection.await;
    });
    Ok(sender)
}

/// Runs every caller until `stop`, recording latencies when `record`.
async fn drive(
    plan: &Rc<Plan>,
    senders: &mut [Sender],
    stop: Stop,
    tally: &Rc<RefCell<Tally>>,
    record: bool,
    counter: &mut u64,
) {
    let deadline = match stop {
        Stop::After(duration) => Some(Instant::now() + duration),
        Stop::Calls(_) => None,
    };
    let per_caller = match stop {
        Stop::Calls(calls) => calls,
        Stop::After(_) => u64::MAX,
    };
    let base = *counter;
    *counter += 1 << 40;
    let mut tasks = Vec::new();
    for (index, sender) in senders.iter().enumerate() {
        let plan = plan.clone();
        let tally = tally.clone();
        let mut sender = sender.clone();
        let first = base + ((index as u64) << 28);
        tasks.push(tokio::task::spawn_local(async move {
            let mut n = 0;
            while n < per_caller && deadline.is_none_or(|d| Instant::now() < d) {
                let started = Instant::now();
                let outcome = call(&plan, &mut sender, first + n).await;
                let took = started.elapsed();
                let mut tally = tally.borrow_mut();
                match outcome {
                    Ok(()) if record && deadline.is_none_or(|d| Instant::now() <= d) => {
                        tally.latencies_us.push(u32::try_from(took.as_micros()).unwrap_or(u32::MAX));
                    }
                    Ok(()) => {}
                    Err(e) => {
                        tally.errors += 1;
                        tally.first_error.get_or_insert(e);
                    }
                }
                n += 1;
            }
        }));
    }
    for task in tasks {
        let _ = task.await;
    }
}

async fn call(plan: &Plan, sender: &mut Sender, n: u64) -> Result<(), String> {
    let (method, path) = calls::path(plan.kind, &plan.targets);
    let mut request = http::Request::builder()
        .method(method)
        .uri(format!("http://{}{path}", plan.authority))
        .body(Full::new(calls::body(plan.kind, &plan.targets, n, &plan.run)))
        .map_err(|e| e.to_string())?;
    let headers = request.headers_mut();
    if plan.kind.is_grpc() {
        headers.insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static("application/grpc"));
        headers.insert(http::header::TE, http::HeaderValue::from_static("trailers"));
    }
    if let Some((name, value)) = &plan.auth {
        headers.insert(name.clone(), value.clone());
    }
    sender.ready().await.map_err(|e| e.to_string())?;
    let response = sender.send_request(request).await.map_err(|e| e.to_string())?;
    let (parts, body) = response.into_parts();
    let collected = body.collect().await.map_err(|e| e.to_string())?;
    calls::judge(plan.kind, parts.status, &parts.headers, collected.trailers())
}
