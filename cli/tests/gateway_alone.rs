//! `sen serve gateway` in the development mode, one process per part as the
//! benchmark runs it, with no identity provider: it serves the web pages with
//! the demo sign-in even though it has no demo people of its own. Its sign-in
//! page says that it runs alone and how a session is opened (`sen sessions
//! open`), and a cookie so opened shows the council's pages.

mod support;

use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use support::cluster::free_port;
use support::sen;

/// A part of the platform started with `sen serve`, stopped when dropped; what
/// it wrote on standard error is kept in `log` to say why, should it stop.
struct Part {
    name: String,
    child: Child,
    log: std::path::PathBuf,
}

impl Part {
    /// Why the part has stopped, if it has.
    fn stopped(&mut self) -> Option<String> {
        let status = self.child.try_wait().ok().flatten()?;
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        Some(format!("`sen serve {}` stopped ({status}):\n{log}", self.name))
    }
}

impl Drop for Part {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `sen serve <part>` on `data`, listening on `port`, in the development mode.
fn serve(data: &Path, part: &str, port: u16, vars: &[(String, String)]) -> Part {
    let log = data.join(format!("{part}.log"));
    let stderr = std::fs::File::create(&log).expect("a log file");
    let child = sen(data)
        .args(["serve", part])
        .env("SEN_LISTEN", format!("127.0.0.1:{port}"))
        .env("SEN_LOG", "warn")
        .envs(vars.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .stdout(Stdio::null())
        .stderr(stderr)
        .spawn()
        .expect("sen serve starts");
    Part { name: part.to_owned(), child, log }
}

fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .expect("a client")
}

/// Every service and the gateway, each its own process on one data folder;
/// the gateway's address once it says that every service answers.
async fn start_alone(data: &Path) -> (Vec<Part>, String) {
    let services = ["schools", "pupils", "referrals", "caseloads"];
    let ports: Vec<u16> = services.iter().map(|_| free_port()).collect();
    let urls: Vec<(String, String)> = services
        .iter()
        .zip(&ports)
        .map(|(part, port)| (format!("SEN_{}_URL", part.to_uppercase()), format!("http://127.0.0.1:{port}")))
        .collect();
    let mut parts: Vec<Part> =
        services.iter().zip(&ports).map(|(part, port)| serve(data, part, *port, &urls)).collect();
    let gateway = format!("127.0.0.1:{}", free_port());
    let front = gateway.rsplit(':').next().and_then(|p| p.parse().ok()).expect("a port");
    parts.push(serve(data, "gateway", front, &urls));
    let deadline = Instant::now() + Duration::from_secs(90);
    let client = browser();
    loop {
        let ready = client.get(format!("http://{gateway}/readyz/upstreams")).send().await;
        if ready.is_ok_and(|r| r.status() == 200) {
            break;
        }
        if let Some(why) = parts.iter_mut().find_map(Part::stopped) {
            panic!("{why}");
        }
        assert!(Instant::now() < deadline, "the platform did not become ready within 90 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    (parts, gateway)
}

#[tokio::test]
async fn a_development_gateway_alone_serves_the_pages_to_a_session_opened_from_the_command_line() {
    let data = tempfile::tempdir().expect("a data folder");
    let (_parts, gateway) = start_alone(data.path()).await;
    let browser = browser();

    let sign_in = browser.get(format!("http://{gateway}/sign-in")).send().await.expect("the sign-in page");
    assert_eq!(sign_in.status(), 200, "the pages are mounted");
    let text = sign_in.text().await.expect("the page");
    assert!(text.contains("runs alone"), "the page says this gateway runs alone:\n{text}");
    assert!(text.contains("sen sessions open --role"), "the page says how a session is opened:\n{text}");
    assert!(!text.contains("Sign in as"), "there is nobody to pick");

    let nobody = browser.get(format!("http://{gateway}/dashboard")).send().await.expect("the dashboard answers");
    let location = nobody.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or_default();
    assert!(location.starts_with("/sign-in"), "without a session the dashboard sends to the sign-in page");

    let opened = sen(data.path())
        .args(["sessions", "open", "--role", "la_manager", "--tenant", "990", "--person", "alone-manager"])
        .output()
        .expect("sen sessions runs");
    assert!(opened.status.success(), "{}", String::from_utf8_lossy(&opened.stderr));
    let cookie = String::from_utf8_lossy(&opened.stdout).trim().to_owned();
    assert!(cookie.starts_with("sen_session="), "the cookie, named: {cookie}");
    for page in [
        "/dashboard",
        "/referrals",
        "/schools",
        "/statutory-clock",
        "/transitions",
        "/annual-reviews-due",
        "/senco-compliance",
        "/professionals",
    ] {
        let answer =
            browser.get(format!("http://{gateway}{page}")).header("cookie", &cookie).send().await.expect("the page");
        assert_eq!(answer.status(), 200, "{page} opens for the council's manager");
        let text = answer.text().await.expect("the page");
        assert!(text.contains("alone-manager"), "{page} names its reader");
        assert!(!text.contains("not available"), "every service answered {page}:\n{text}");
    }
}
