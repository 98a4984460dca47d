//! The web pages in a real browser: Debian's headless Chromium driven over
//! WebDriver (chromedriver) through the embedded platform started with the real
//! `sen` binary and its demo data for LA 990.
//!
//! One browser and one `sen` serve every journey in turn (each role signs in and
//! out through the pages): what each role sees, a SENCO's referral from the
//! error summary to "Referral sent", its allocation by the manager in one click,
//! the EP's caseload and case page, the dashboard's charts, keyboard-only use
//! of the referral form, the breach forecast (its what-if by keyboard alone, a
//! suggested move accepted) and who may open it, the SEN2 return and its
//! download, a SENCO's CTF import (dry run, then import), and axe-core's
//! accessibility check on every main page
//! (no "serious" or "critical" violation). Screenshots of the main pages go to
//! `$SEN_SCREENSHOT_DIR` (default `<target>/ci-log/screenshots`).
//!
//! Needs `/usr/bin/chromium`, `/usr/bin/chromedriver` (Debian's `chromium` and
//! `chromium-driver`) and `cli/tests/browser/node_modules/axe-core` (`npm ci` in
//! `cli/tests/browser`); `scripts/test` installs them. Without them the test fails
//! and says so: it never skips.

mod support;

use sen_platform::testing::free_port;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::elements::Element;
use fantoccini::key::Key;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const AXE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/browser/node_modules/axe-core/axe.min.js");
const WAIT: Duration = Duration::from_secs(15);

/// A journey step that did not work: what, and whose page it was on.
type Step<T> = Result<T, String>;

/// chromedriver, stopped when dropped.
struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn tools() -> String {
    let mut missing = Vec::new();
    for (path, package) in [(CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")] {
        if !Path::new(path).exists() {
            missing.push(format!("{path} (apt-get install {package})"));
        }
    }
    if !Path::new(AXE).exists() {
        missing.push(format!("{AXE} (cd cli/tests/browser && npm ci)"));
    }
    assert!(
        missing.is_empty(),
        "the browser tests need Debian's chromium and chromium-driver and axe-core; run scripts/test, which installs them. Missing: {}",
        missing.join(", ")
    );
    std::fs::read_to_string(AXE).expect("axe-core is readable")
}

async fn start_driver() -> (Driver, String) {
    let port = free_port();
    let child = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    let driver = Driver(child);
    let url = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let started = Instant::now();
    while http.get(format!("{url}/status")).send().await.is_err() {
        assert!(started.elapsed() < WAIT, "chromedriver did not answer on {url} within {WAIT:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    (driver, url)
}

async fn browser(driver: &str, profile: &Path) -> Client {
    let args = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--disable-default-apps",
        "--disable-extensions",
        "--no-default-browser-check",
        "--window-size=1280,1400",
        &format!("--user-data-dir={}", profile.display()),
    ];
    let capabilities = json!({
        "browserName": "chrome",
        "goog:chromeOptions": { "binary": CHROMIUM, "args": args },
    });
    let Value::Object(capabilities) = capabilities else { unreachable!("an object") };
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    ClientBuilder::new(connector).capabilities(capabilities).connect(driver).await.expect("a Chromium session")
}

fn screenshot_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("SEN_SCREENSHOT_DIR") {
        return PathBuf::from(dir);
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"));
    target.join("ci-log/screenshots")
}

/// The browser, the site and what went wrong so far.
struct Journey {
    client: Client,
    base: String,
    axe: String,
    shots: PathBuf,
    problems: Vec<String>,
}

impl Journey {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn goto(&self, path: &str) -> Step<()> {
        self.client.goto(&self.url(path)).await.map_err(|e| format!("cannot open {path}: {e}"))
    }

    async fn path(&self) -> String {
        self.client.current_url().await.map(|u| u.path().to_owned()).unwrap_or_default()
    }

    async fn text(&self) -> String {
        match self.client.find(Locator::Css("body")).await {
            Ok(body) => body.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        }
    }

    async fn find(&self, what: Locator<'_>, page: &str) -> Step<Element> {
        match self.client.wait().at_most(WAIT).for_element(what).await {
            Ok(element) => Ok(element),
            Err(e) => Err(format!("{page}: no {what:?} on {} ({e})", self.path().await)),
        }
    }

    fn check(&mut self, ok: bool, problem: impl Into<String>) {
        if !ok {
            self.problems.push(problem.into());
        }
    }

    fn record<T>(&mut self, step: Step<T>) -> Option<T> {
        step.map_err(|e| self.problems.push(e)).ok()
    }

    /// A PNG of what is on screen, and axe-core's check of the page.
    async fn capture(&mut self, name: &str, owner: &str) {
        match self.client.screenshot().await {
            Ok(png) => {
                let _ = std::fs::write(self.shots.join(format!("{name}.png")), png);
            }
            Err(e) => self.problems.push(format!("no screenshot of {name}: {e}")),
        }
        let run = "const done = arguments[arguments.length - 1];\
                   axe.run(document, { resultTypes: ['violations'] })\
                     .then(r => done(r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')\
                       .map(v => ({ id: v.id, impact: v.impact, help: v.help,\
                                    nodes: v.nodes.slice(0, 5).map(n => n.target.join(' ')) }))))\
                     .catch(e => done([{ id: 'axe-error', impact: 'critical', help: String(e), nodes: [] }]));";
        let injected = self.client.execute(&format!("{}\n;window.axe = axe; return true;", self.axe), vec![]).await;
        let result = match injected {
            Ok(_) => self.client.execute_async(run, vec![]).await.map_err(|e| e.to_string()),
            Err(e) => Err(format!("axe-core could not be injected: {e}")),
        };
        match result {
            Ok(Value::Array(violations)) if violations.is_empty() => {}
            Ok(violations) => self
                .problems
                .push(format!("accessibility ({name}, {owner}'s page): serious or critical: {violations:#}")),
            Err(e) => self.problems.push(format!("accessibility check of {name} failed: {e}")),
        }
    }

    /// Shows that the check can fail: axe-core, injected into the current page,
    /// finds an image without a text alternative (a critical violation).
    async fn axe_finds_a_planted_violation(&mut self) {
        let plant = "const d = document.createElement('div'); d.id = 'axe-self-check'; \
                     d.innerHTML = '<img src=\"data:,\">'; document.body.appendChild(d); return true;";
        let run = "const done = arguments[arguments.length - 1];\
                   axe.run('#axe-self-check', { resultTypes: ['violations'] })\
                     .then(r => { document.getElementById('axe-self-check').remove(); done(r.violations.map(v => v.id)); })\
                     .catch(e => done(String(e)));";
        let found = match self.client.execute(plant, vec![]).await {
            Ok(_) => self.client.execute_async(run, vec![]).await.map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        let ok = matches!(&found, Ok(Value::Array(ids)) if ids.iter().any(|id| id == "image-alt"));
        self.check(ok, format!("axe-core finds a planted image without alt text: {found:?}"));
    }

    /// Signs in from the demo page as the first person of LA 990 with `role`.
    async fn sign_in_as(&self, role: &str) -> Step<String> {
        self.goto("/sign-in").await?;
        let xpath = format!(
            "//h2[normalize-space()='Authority 990']/following-sibling::ul[1]//form[span[normalize-space()='{role}']]/button"
        );
        let button = self.find(Locator::XPath(&xpath), "sign-in").await?;
        let who = button.text().await.unwrap_or_default();
        button.click().await.map_err(|e| format!("cannot sign in as {role}: {e}"))?;
        self.wait_until_away_from("/sign-in").await?;
        Ok(who.trim_start_matches("Sign in as ").to_owned())
    }

    async fn sign_in_named(&self, name: &str) -> Step<()> {
        self.goto("/sign-in").await?;
        let xpath = format!("//button[normalize-space()='Sign in as {name}']");
        let button = self.find(Locator::XPath(&xpath), "sign-in").await?;
        button.click().await.map_err(|e| format!("cannot sign in as {name}: {e}"))?;
        self.wait_until_away_from("/sign-in").await
    }

    async fn wait_until_away_from(&self, path: &str) -> Step<()> {
        let started = Instant::now();
        while self.path().await == path {
            if started.elapsed() > WAIT {
                return Err(format!("still on {path} after {WAIT:?}"));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Ok(())
    }

    async fn sign_out(&self) -> Step<()> {
        let button = self.find(Locator::XPath("//button[normalize-space()='Sign out']"), "the page header").await?;
        button.click().await.map_err(|e| format!("cannot sign out: {e}"))?;
        self.find(Locator::XPath("//h1[contains(., 'Sign in')]"), "sign-in").await.map(|_| ())
    }

    async fn nav_links(&self) -> Vec<String> {
        let mut labels = Vec::new();
        for link in self.client.find_all(Locator::Css("nav.nav a")).await.unwrap_or_default() {
            labels.push(link.text().await.unwrap_or_default());
        }
        labels
    }

    async fn press(&self, key: Key) -> Step<()> {
        let actions = KeyActions::new("keyboard".into())
            .then(KeyAction::Down { value: key.into() })
            .then(KeyAction::Up { value: key.into() });
        self.client.perform_actions(actions).await.map_err(|e| format!("cannot press {key:?}: {e}"))
    }

    /// `id` (or class and text) of the focused element.
    async fn focused(&self) -> String {
        let script = "const e = document.activeElement; \
                      return e ? (e.id || (e.className + ':' + (e.textContent || '').trim())) : '';";
        self.client.execute(script, vec![]).await.ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
    }

    /// Picks the first real choice of a select, or ticks a box or radio.
    async fn choose(&self, id: &str) -> Step<()> {
        let element = self.find(Locator::Id(id), "the referral form").await?;
        let tag = element.tag_name().await.unwrap_or_default();
        let result = if tag == "select" {
            let options = element.find_all(Locator::Css("option")).await.unwrap_or_default();
            let mut chosen = Err(format!("the select {id} has no choice with a value"));
            for (n, option) in options.iter().enumerate() {
                if option.attr("value").await.ok().flatten().is_some_and(|v| !v.is_empty()) {
                    chosen = element.select_by_index(n).await.map_err(|e| e.to_string());
                    break;
                }
            }
            chosen
        } else {
            element.click().await.map_err(|e| e.to_string())
        };
        result.map_err(|e| format!("cannot choose {id}: {e}"))
    }

    async fn type_into(&self, id: &str, text: &str) -> Step<()> {
        let element = self.find(Locator::Id(id), "a form").await?;
        element.clear().await.ok();
        element.send_keys(text).await.map_err(|e| format!("cannot type into {id}: {e}"))
    }

    async fn set_date(&self, id: &str, date: &str) -> Step<()> {
        let element = self.find(Locator::Id(id), "a form").await?;
        let script = "arguments[0].value = arguments[1]; return arguments[0].value;";
        let element = serde_json::to_value(&element).map_err(|e| e.to_string())?;
        self.client.execute(script, vec![element, json!(date)]).await.map(|_| ()).map_err(|e| format!("{id}: {e}"))
    }

    async fn click_button(&self, label_start: &str, page: &str) -> Step<()> {
        let xpath = format!("//button[starts-with(normalize-space(), '{label_start}')]");
        let button = self.find(Locator::XPath(&xpath), page).await?;
        button.click().await.map_err(|e| format!("{page}: cannot press '{label_start}': {e}"))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pages_work_in_a_real_browser_for_every_role() {
    let started = Instant::now();
    let axe = tools();
    let data = tempfile::tempdir().expect("a data folder");
    let profile = tempfile::tempdir().expect("a browser profile folder");
    let running = support::start(data.path());
    let (_driver, driver_url) = start_driver().await;
    let client = browser(&driver_url, profile.path()).await;
    let shots = screenshot_dir();
    std::fs::create_dir_all(&shots).expect("the screenshot folder");
    println!("browser test screenshots: {}", shots.display());
    let mut j = Journey { client, base: format!("http://{}", running.address), axe, shots, problems: Vec::new() };

    if j.goto("/sign-in").await.is_ok() {
        j.capture("sign-in", "the foundation's").await;
        j.axe_finds_a_planted_violation().await;
    }
    a_crafted_return_address_keeps_the_browser_on_the_platform(&mut j).await;
    manager_sees_the_council(&mut j).await;
    case_officer_sees_the_council(&mut j).await;
    officer_records_a_decision_and_drills_down(&mut j).await;
    let referral = senco_refers(&mut j).await;
    senco_reviews_a_cycle_then_refers_with_a_document(&mut j).await;
    let allocated_to = match &referral {
        Some((id, _)) => manager_allocates(&mut j, *id).await,
        None => None,
    };
    if let (Some((id, pupil)), Some(name)) = (&referral, &allocated_to) {
        professional_sees_the_case(&mut j, *id, pupil.as_deref(), name).await;
    } else {
        ep_lands_on_their_caseload(&mut j).await;
    }
    manager_works_the_breach_forecast(&mut j).await;
    only_the_council_team_reads_the_forecast(&mut j).await;
    manager_checks_the_sen2_return(&mut j).await;
    senco_imports_their_schools_ctf(&mut j).await;

    let client = j.client.clone();
    let _ = client.close().await;
    support::stop(running).await;
    println!("browser journeys took {:?}", started.elapsed());
    assert!(j.problems.is_empty(), "{} problem(s) in the browser:\n- {}", j.problems.len(), j.problems.join("\n- "));
}

/// A sign-in link whose return address a browser would read as another host
/// (a tab between the slashes, which browsers strip) ends on the platform.
async fn a_crafted_return_address_keeps_the_browser_on_the_platform(j: &mut Journey) {
    let step = async {
        j.goto("/sign-in?next=/%09/evil.example/").await?;
        let xpath = "//h2[normalize-space()='Authority 990']/following-sibling::ul[1]//form[span[normalize-space()='SEN manager']]/button";
        let button = j.find(Locator::XPath(xpath), "sign-in").await?;
        button.click().await.map_err(|e| format!("cannot sign in: {e}"))?;
        j.wait_until_away_from("/sign-in").await?;
        j.client.current_url().await.map_err(|e| e.to_string())
    };
    let landed = step.await;
    if let Some(url) = j.record(landed) {
        let origin = url.origin().ascii_serialization();
        j.check(origin == j.base, format!("signing in with a crafted return address ended on {url}"));
        let _ = j.sign_out().await;
    }
}

async fn manager_sees_the_council(j: &mut Journey) {
    if let Some(who) = j.record(j.sign_in_as("SEN manager").await) {
        let path = j.path().await;
        j.check(path == "/dashboard", format!("the manager ({who}) starts on /dashboard, not {path}"));
    }
    j.check(j.nav_links().await.iter().any(|l| l == "Dashboard"), "the manager's nav has Dashboard");
    j.capture("dashboard", "the dashboard helper's").await;
    let charts = j.client.find_all(Locator::Css("svg[data-chart]")).await.unwrap_or_default();
    j.check(!charts.is_empty(), "the dashboard draws its charts (svg[data-chart])");
    for chart in &charts {
        let name = chart.attr("data-chart").await.ok().flatten().unwrap_or_default();
        let marks = chart.find_all(Locator::Css("[data-value]")).await.unwrap_or_default();
        j.check(!marks.is_empty(), format!("the dashboard chart '{name}' has marks with data-value"));
    }
    if j.record(j.goto("/referrals").await).is_some() {
        j.capture("referrals", "the referral list helper's").await;
    }
    let _ = j.record(j.sign_out().await);
}

async fn case_officer_sees_the_council(j: &mut Journey) {
    if j.record(j.sign_in_as("SEN case officer").await).is_none() {
        return;
    }
    let path = j.path().await;
    j.check(path == "/dashboard", format!("the case officer starts on /dashboard, not {path}"));
    if j.record(j.goto("/caseload").await).is_some() {
        j.check(j.text().await.contains("You cannot see this page"), "a case officer cannot see /caseload");
    }
    let _ = j.record(j.sign_out().await);
}

/// A case officer opens a request awaiting the decision to assess from the
/// statutory clock, records the decision on its page and sees the clock move
/// on; then the dashboard's EHC plan figure opens the pupils behind it, a row
/// opens the pupil, and the 20-week figure opens the plans behind it.
async fn officer_records_a_decision_and_drills_down(j: &mut Journey) {
    if j.record(j.sign_in_as("SEN case officer").await).is_none() {
        return;
    }
    let awaiting =
        "//tr[td[normalize-space()='Awaiting the decision to assess']]//a[starts-with(@href, '/referrals/')]";
    let step = async {
        j.goto("/statutory-clock").await?;
        let request = j.find(Locator::XPath(awaiting), "the statutory clock (EHC steps helper's)").await?;
        request.click().await.map_err(|e| format!("cannot open the request: {e}"))?;
        j.choose("assessment-decision").await?;
        j.set_date("assessment-decided_on", &chrono::Local::now().date_naive().to_string()).await?;
        j.click_button("Record the decision", "the request's page (EHC steps helper's)").await?;
        let recorded = "//*[contains(@class, 'banner')][contains(., 'Decision whether to assess recorded')]";
        j.find(Locator::XPath(recorded), "the request's page after the decision").await.map(|_| ())
    };
    if j.record(step.await).is_some() {
        let text = j.text().await;
        j.check(text.contains("Assessing"), "after the decision to assess, the clock's stage is Assessing");
        j.check(
            text.contains("Record the decision whether to issue a plan"),
            "after the decision to assess, the page offers the plan decision next",
        );
        let steps = "const s = document.querySelector('[aria-label=\"Statutory steps\"]'); \
                     if (s) { s.scrollIntoView(); } return true;";
        let _ = j.client.execute(steps, vec![]).await;
        j.capture("ehc-steps", "the EHC steps helper's").await;
    }
    let figure = "//a[contains(@class, 'figure__link')][.//span[normalize-space()='Pupils with an EHC plan']]";
    let step = async {
        j.goto("/dashboard").await?;
        let link = j.find(Locator::XPath(figure), "the dashboard (drill-down helper's)").await?;
        link.click().await.map_err(|e| format!("cannot open the EHC plan figure: {e}"))?;
        j.find(Locator::XPath("//h1[normalize-space()='Pupils']"), "the pupils behind the figure").await.map(|_| ())
    };
    if j.record(step.await).is_some() {
        let rows = j.client.find_all(Locator::Css("main table tbody tr")).await.unwrap_or_default();
        j.check(!rows.is_empty(), "the EHC plan figure opens a list of pupils");
        let text = j.text().await;
        j.check(text.contains("with an education, health and care plan (E)"), "the list is of pupils with a plan");
        j.capture("pupils", "the drill-down helper's").await;
        if let Ok(first) = j.client.find(Locator::Css("main table tbody tr a[href^='/pupils/']")).await {
            let _ = j.record(first.click().await.map_err(|e| format!("cannot open a pupil: {e}")));
            let path = j.path().await;
            j.check(path.starts_with("/pupils/"), format!("a row of the list opens the pupil, not {path}"));
        }
    }
    let figure = "//a[contains(@class, 'figure__link')][.//span[normalize-space()='Final plans issued within 20 weeks this year']]";
    let step = async {
        j.goto("/dashboard").await?;
        let link = j.find(Locator::XPath(figure), "the dashboard (drill-down helper's)").await?;
        link.click().await.map_err(|e| format!("cannot open the 20-week figure: {e}"))?;
        j.find(Locator::XPath("//h1[starts-with(normalize-space(), 'Final EHC plans issued in')]"), "the plans").await
    };
    if j.record(step.await).is_some() {
        j.capture("final-plans", "the drill-down helper's").await;
    }
    let _ = j.record(j.sign_out().await);
}

/// The SENCO's journey; answers the referral's id and its pupil's page.
async fn senco_refers(j: &mut Journey) -> Option<(i64, Option<String>)> {
    j.record(j.sign_in_as("SENCO").await)?;
    let nav = j.nav_links().await;
    j.check(!nav.iter().any(|l| l == "Dashboard"), format!("the SENCO's nav has no Dashboard: {nav:?}"));
    if j.record(j.goto("/dashboard").await).is_some() {
        j.check(
            j.text().await.contains("You cannot see this page"),
            "a SENCO's /dashboard says 'You cannot see this page'",
        );
    }
    keyboard_only(j).await;
    j.record(j.goto("/referrals/new").await)?;
    // The pupil is found by name; any of the school's pupils will do ("a" is in most names).
    let _ = j.record(find_pupil(j, "a").await);
    for id in ["pupil_id", "kind", "broad_areas", "priority"] {
        let _ = j.record(j.choose(id).await);
    }
    let _ = j.record(j.type_into("concern", "Finds reading and spelling hard despite small-group support.").await);
    let _ = j
        .record(j.type_into("graduated_approach", "Two terms of phonics intervention, reviewed each half-term.").await);
    let pupil = j.client.find(Locator::Id("pupil_id")).await.ok()?.prop("value").await.ok().flatten();
    j.record(j.click_button("Send referral", "the referral form (SENCO helper's)").await)?;
    let summary = j.record(j.find(Locator::Css(".error-summary"), "the referral form without consent").await)?;
    let links = summary.find_all(Locator::Css("a")).await.unwrap_or_default();
    let mut targets = Vec::new();
    for link in &links {
        targets.push(link.attr("href").await.ok().flatten().unwrap_or_default());
    }
    j.check(
        targets.iter().any(|t| t.starts_with("#consent_")),
        format!("the error summary links to the consent fields: {targets:?}"),
    );
    let focused = j.focused().await;
    j.check(focused.contains("error-summary"), format!("the error summary has the focus, not '{focused}'"));
    j.capture("referral-form-errors", "the SENCO helper's").await;
    let today = chrono::Local::now().date_naive().to_string();
    let _ = j.record(j.type_into("consent_given_by", "Ms A Parent (mother)").await);
    let _ = j.record(j.set_date("consent_given_on", &today).await);
    let _ = j.record(j.choose("consent_method").await);
    j.record(send_confirming(j, None).await)?;
    j.record(j.find(Locator::XPath("//*[contains(., 'Referral sent')]"), "the referral page after sending").await)?;
    let path = j.path().await;
    let id = path.strip_prefix("/referrals/").and_then(|id| id.parse::<i64>().ok());
    j.check(id.is_some(), format!("after sending, the SENCO is on the referral's page, not {path}"));
    let _ = j.record(j.sign_out().await);
    id.map(|id| (id, pupil))
}

/// Tab from the top: the skip link first, then the form's fields in order, and
/// Enter on the submit button sends the form.
async fn keyboard_only(j: &mut Journey) {
    if j.record(j.goto("/referrals/new").await).is_none() {
        return;
    }
    let _ = j.record(j.press(Key::Tab).await);
    let first = j.focused().await;
    j.check(first.contains("skip-link"), format!("the first Tab reaches the skip link, not '{first}'"));
    let expected = [
        "pupil_search",
        "kind",
        "broad_areas",
        "concern",
        "graduated_approach",
        "consent_given_by",
        "consent_given_on",
        "consent_method",
        "priority",
        "documents",
    ];
    let mut seen: Vec<String> = Vec::new();
    let mut on_submit = false;
    for _ in 0..60 {
        if j.record(j.press(Key::Tab).await).is_none() {
            break;
        }
        let now = j.focused().await;
        if now.contains("Send referral") {
            on_submit = true;
            break;
        }
        if seen.last() != Some(&now) {
            seen.push(now);
        }
    }
    let positions: Vec<usize> = expected
        .iter()
        .filter_map(|id| seen.iter().position(|s| s == id || s.starts_with(&format!("{id}-"))))
        .collect();
    j.check(
        positions.len() == expected.len() && positions.windows(2).all(|w| w[0] < w[1]),
        format!("Tab reaches the referral form's fields in order {expected:?}; it went {seen:?}"),
    );
    j.check(on_submit, "Tab reaches the 'Send referral' button");
    if on_submit {
        let _ = j.record(j.press(Key::Enter).await);
        let sent = j.find(Locator::Css(".error-summary"), "the referral form sent with Enter").await;
        j.check(sent.is_ok(), "Enter on 'Send referral' sends the form (an empty form shows the error summary)");
    }
}

/// Finds a pupil on the referral form by `name` and waits for the matches.
async fn find_pupil(j: &Journey, name: &str) -> Step<()> {
    j.type_into("pupil_search", name).await?;
    j.click_button("Find pupil", "the referral form (SENCO helper's)").await?;
    j.find(Locator::Css("input[name='pupil_id'][type='radio']"), "the pupils found").await.map(|_| ())
}

/// Sends the referral form; when the pupil already has an open referral of the
/// kind, the SENCO confirms (choosing `document` again, if any) and sends it again.
async fn send_confirming(j: &Journey, document: Option<&str>) -> Step<()> {
    j.click_button("Send referral", "the referral form (SENCO helper's)").await?;
    let answered = "//*[@id='confirm_duplicate'] | //*[contains(@class, 'banner')][contains(., 'Referral sent')]";
    let answer = j.find(Locator::XPath(answered), "the referral form's answer").await?;
    if answer.attr("id").await.ok().flatten().as_deref() == Some("confirm_duplicate") {
        if let Some(path) = document {
            let input = j.find(Locator::Id("documents"), "the referral form's documents").await?;
            input.send_keys(path).await.map_err(|e| format!("cannot choose the document again: {e}"))?;
        }
        j.choose("confirm_duplicate").await?;
        j.click_button("Send referral", "the referral form after the warning").await?;
    }
    Ok(())
}

/// A SENCO reviews a pupil's support cycle (assess, plan, do, review), then
/// refers the pupil citing it, with a document, finding the pupil by name; and
/// on a 375-pixel screen the register's table scrolls inside its box.
async fn senco_reviews_a_cycle_then_refers_with_a_document(j: &mut Journey) {
    if j.record(j.sign_in_as("SENCO").await).is_none() {
        return;
    }
    let sought = format!("Reads a book band higher by {}", chrono::Local::now().format("%H%M%S"));
    let today = chrono::Local::now().date_naive().to_string();
    let review_due = (chrono::Local::now().date_naive() + chrono::Days::new(42)).to_string();
    let files = tempfile::tempdir().expect("a folder for the document");
    let document = files.path().join("EP report.pdf");
    std::fs::write(&document, b"%PDF-1.7\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n").expect("the document");
    let document = document.to_string_lossy().into_owned();
    let pupil = async {
        j.goto("/register").await?;
        let first = j.find(Locator::Css("main table tbody tr a[href^='/pupils/']"), "the SEN register").await?;
        let name = first.text().await.map_err(|e| e.to_string())?;
        let href = first.attr("href").await.map_err(|e| e.to_string())?.unwrap_or_default();
        let id = href.trim_start_matches("/pupils/").to_owned();
        // A new cycle, then its review.
        j.goto(&format!("/pupils/{id}/support-cycles/new")).await?;
        j.set_date("started_on", &today).await?;
        j.type_into("outcomes_sought", &sought).await?;
        j.type_into("planned_provision", "Phonics, three times a week with a teaching assistant").await?;
        j.set_date("review_due", &review_due).await?;
        j.click_button("Add support cycle", "the support cycle form (SENCO helper's)").await?;
        j.find(Locator::XPath("//*[contains(@class, 'banner')][contains(., 'Support cycle added')]"), "the pupil page")
            .await?;
        let review =
            format!("//tr[td[contains(., '{sought}')]]//a[starts-with(normalize-space(), 'Record the review')]");
        let link = j.find(Locator::XPath(&review), "the pupil's support cycles").await?;
        link.click().await.map_err(|e| format!("cannot open the review: {e}"))?;
        j.find(Locator::Id("outcome"), "the review form").await?;
        Ok::<_, String>((id, name))
    };
    let Some((id, name)) = j.record(pupil.await) else {
        let _ = j.sign_out().await;
        return;
    };
    j.capture("support-review", "the SENCO pages helper's").await;
    let reviewed = async {
        j.set_date("reviewed_on", &today).await?;
        j.choose("outcome-1").await?;
        j.type_into("review_notes", "Progress in decoding; comprehension still well behind. Next: ask for an EP.")
            .await?;
        j.click_button("Record the review", "the review form (SENCO helper's)").await?;
        j.find(
            Locator::XPath("//*[contains(@class, 'banner')][contains(., 'Support cycle review recorded')]"),
            "the pupil page",
        )
        .await
        .map(|_| ())
    };
    if j.record(reviewed.await).is_some() {
        j.check(j.text().await.contains("outcomes partly met"), "the reviewed cycle shows its outcome");
    }
    // The referral: the pupil found by name, the reviewed cycle cited, a document attached.
    let surname = name.split_whitespace().last().unwrap_or_default().to_owned();
    let referred = async {
        j.goto("/referrals/new").await?;
        find_pupil(j, &surname).await?;
        let radio =
            j.find(Locator::XPath(&format!("//input[@name='pupil_id'][@value='{id}']")), "the pupils found").await?;
        radio.click().await.map_err(|e| format!("cannot choose the pupil: {e}"))?;
        j.click_button("Choose pupil", "the referral form (SENCO helper's)").await?;
        let cycle = format!("//label[contains(., '{sought}')]/preceding-sibling::input");
        let cite = j.find(Locator::XPath(&cycle), "the pupil's support cycles to cite").await?;
        cite.click().await.map_err(|e| format!("cannot cite the cycle: {e}"))?;
        for choice in ["kind", "broad_areas", "consent_method"] {
            j.choose(choice).await?;
        }
        j.type_into("concern", "Decoding is improving but comprehension is two years behind.").await?;
        j.type_into("graduated_approach", "A term of phonics, reviewed: outcomes partly met.").await?;
        j.type_into("consent_given_by", "Mr B Parent (father)").await?;
        j.set_date("consent_given_on", &today).await?;
        let input = j.find(Locator::Id("documents"), "the referral form's documents").await?;
        input.send_keys(&document).await.map_err(|e| format!("cannot choose the document: {e}"))?;
        Ok::<_, String>(())
    };
    if j.record(referred.await).is_none() {
        let _ = j.sign_out().await;
        return;
    }
    j.capture("referral-form-with-document", "the SENCO pages helper's").await;
    let sent = async {
        send_confirming(j, Some(&document)).await?;
        j.find(Locator::XPath("//*[contains(@class, 'banner')][contains(., 'Referral sent')]"), "the referral page")
            .await
    };
    if j.record(sent.await).is_some() {
        let text = j.text().await;
        j.check(text.contains("EP report.pdf"), "the referral page lists its document");
        j.check(text.contains("1 support cycle"), "the referral page says it cites the reviewed cycle");
        j.capture("referral-with-document", "the SENCO pages helper's").await;
    }
    // A narrow screen: the register's table scrolls inside its box, never the page.
    if j.client.set_window_size(375, 812).await.is_ok() {
        for page in ["/register", "/referrals"] {
            if j.record(j.goto(page).await).is_some() {
                let wide = j
                    .client
                    .execute("return document.documentElement.scrollWidth - window.innerWidth;", vec![])
                    .await
                    .ok()
                    .and_then(|v| v.as_i64())
                    .unwrap_or(i64::MAX);
                j.check(wide <= 0, format!("{page} at 375 px scrolls sideways by {wide} px"));
            }
        }
        j.capture("register-375px", "the SENCO pages helper's").await;
        let _ = j.client.set_window_size(1280, 1400).await;
    }
    let _ = j.record(j.sign_out().await);
}

/// The manager accepts the referral and allocates it with one click; answers
/// the professional's name.
async fn manager_allocates(j: &mut Journey, referral: i64) -> Option<String> {
    let people = demo_professionals(j).await;
    j.record(j.sign_in_as("SEN manager").await)?;
    j.record(j.goto(&format!("/referrals/{referral}")).await)?;
    j.record(j.click_button("Accept", "the referral page (referral helper's)").await)?;
    let xpath = "//button[starts-with(normalize-space(), 'Allocate to ')]";
    j.record(j.find(Locator::XPath(xpath), "the referral page's suggestions").await)?;
    // The best suggestion under capacity takes one click; one over capacity
    // would need an override reason first.
    let mut chosen = None;
    for candidate in j.client.find_all(Locator::Css("li.person-list__item")).await.unwrap_or_default() {
        let Ok(button) =
            candidate.find(Locator::XPath(".//button[starts-with(normalize-space(), 'Allocate to ')]")).await
        else {
            continue;
        };
        let over = candidate.find(Locator::Css("input[id^='override_reason-']")).await.is_ok();
        let name = button.text().await.unwrap_or_default().trim().trim_start_matches("Allocate to ").to_owned();
        if !over && people.contains(&name) {
            chosen = Some((button, name));
            break;
        }
    }
    let Some((button, name)) = chosen else {
        j.problems.push(format!("no suggestion under capacity names a demo professional ({people:?})"));
        return None;
    };
    j.record(button.click().await.map_err(|e| format!("cannot allocate: {e}")))?;
    let allocated = j.find(Locator::XPath("//*[contains(., 'llocated')]"), "the referral page after allocation").await;
    j.check(allocated.is_ok(), "the referral page says it is allocated");
    j.capture("referral", "the referral helper's").await;
    let _ = j.record(j.sign_out().await);
    Some(name)
}

/// The names of the demo EPs and advisory teachers of LA 990.
async fn demo_professionals(j: &mut Journey) -> Vec<String> {
    let _ = j.goto("/sign-in").await;
    let xpath = "//h2[normalize-space()='Authority 990']/following-sibling::ul[1]//form[span[normalize-space()='Educational psychologist' or normalize-space()='Advisory teacher']]/button";
    let mut names = Vec::new();
    for button in j.client.find_all(Locator::XPath(xpath)).await.unwrap_or_default() {
        names.push(button.text().await.unwrap_or_default().trim().trim_start_matches("Sign in as ").to_owned());
    }
    names
}

async fn professional_sees_the_case(j: &mut Journey, referral: i64, pupil: Option<&str>, name: &str) {
    if j.record(j.sign_in_named(name).await).is_none() {
        return;
    }
    let path = j.path().await;
    j.check(path == "/caseload", format!("{name} starts on /caseload, not {path}"));
    let row = format!("//tr[.//a[@href='/referrals/{referral}']]");
    let Some(row) = j.record(j.find(Locator::XPath(&row), "the caseload (caseload page)").await) else { return };
    j.capture("caseload", "the caseload helper's").await;
    let Ok(case) = row.find(Locator::Css("a[href^='/cases/']")).await else {
        j.problems.push("the caseload row links to its case".into());
        return;
    };
    if j.record(case.click().await.map_err(|e| format!("cannot open the case: {e}"))).is_none() {
        return;
    }
    let today = chrono::Local::now().date_naive().to_string();
    let _ = j.record(j.set_date("on", &today).await);
    let _ = j.record(j.choose("kind").await);
    let _ = j.record(j.type_into("sessions", "1").await);
    let _ = j.record(j.click_button("Record visit", "the case page").await);
    let recorded = j.find(Locator::XPath("//*[contains(., 'Visit recorded')]"), "the case page after a visit").await;
    j.check(recorded.is_ok(), "recording a visit says 'Visit recorded'");
    j.capture("case", "the caseload helper's").await;
    if let Some(pupil) = pupil
        && j.record(j.goto(&format!("/pupils/{pupil}")).await).is_some()
    {
        j.capture("pupil", "the pupil page helper's").await;
    }
    let _ = j.record(j.sign_out().await);
}

/// Without an allocation to follow, the EP still lands on their caseload.
async fn ep_lands_on_their_caseload(j: &mut Journey) {
    if j.record(j.sign_in_as("Educational psychologist").await).is_some() {
        let path = j.path().await;
        j.check(path == "/caseload", format!("an EP starts on /caseload, not {path}"));
        j.capture("caseload", "the caseload helper's").await;
        let _ = j.record(j.sign_out().await);
    }
}

/// The numbers in a table's column `n` (from 1) of rows found by `rows`.
async fn column_numbers(j: &Journey, rows: &str, n: usize) -> Vec<f64> {
    let mut numbers = Vec::new();
    for row in j.client.find_all(Locator::XPath(rows)).await.unwrap_or_default() {
        let cell = row.find(Locator::XPath(&format!("./td[{n}]"))).await;
        let text = match cell {
            Ok(cell) => cell.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        numbers.push(text.trim().trim_end_matches('%').parse::<f64>().unwrap_or(f64::NAN));
    }
    numbers
}

/// The manager follows the dashboard's forecast figure to `/forecast`, reads a
/// request likely to breach and why, asks a what-if with the keyboard alone (a
/// wrong number first: the error summary takes the focus and leads back to the
/// field) and sees its breaches beside today's, then accepts one suggested move:
/// the suggestion is gone, and the case is the new professional's, on its page
/// and on their caseload.
async fn manager_works_the_breach_forecast(j: &mut Journey) {
    if j.record(j.sign_in_as("SEN manager").await).is_none() {
        return;
    }
    let figure =
        "//a[contains(@class, 'figure__link')][.//span[normalize-space()='Requests likely to breach (forecast)']]";
    let opened = async {
        j.goto("/dashboard").await?;
        let link = j.find(Locator::XPath(figure), "the dashboard's forecast figure").await?;
        link.click().await.map_err(|e| format!("cannot open the forecast figure: {e}"))?;
        j.find(Locator::XPath("//h1[normalize-space()='Breach forecast']"), "the forecast page").await.map(|_| ())
    };
    if j.record(opened.await).is_none() {
        let _ = j.sign_out().await;
        return;
    }
    let path = j.path().await;
    j.check(path == "/forecast", format!("the dashboard's forecast figure opens /forecast, not {path}"));
    // A request likely to breach: its chance, and the reasons beside it.
    let likely = "//table[caption[contains(., 'likely to breach')]]/tbody/tr";
    let chances = column_numbers(j, likely, 4).await;
    j.check(!chances.is_empty(), "the forecast lists requests likely to breach");
    j.check(
        chances.iter().all(|c| (50.0..=100.0).contains(c)),
        format!("each request listed as likely to breach has a chance of 50% or more: {chances:?}"),
    );
    let reasons = j.client.find_all(Locator::XPath(&format!("({likely})[1]/td[7]//li"))).await.unwrap_or_default();
    let mut why = Vec::new();
    for reason in &reasons {
        why.push(reason.text().await.unwrap_or_default());
    }
    j.check(
        !why.is_empty() && why.iter().all(|w| !w.trim().is_empty()),
        format!("the first request likely to breach says why: {why:?}"),
    );
    j.capture("forecast", "the forecast helper's").await;
    what_if_by_keyboard(j).await;
    accept_a_suggested_move(j).await;
}

/// The focused element once it is `want` (`id`, or class and text, containing
/// it), or whatever has the focus after [`WAIT`].
async fn focus_settles_on(j: &Journey, want: &str) -> String {
    let started = Instant::now();
    loop {
        let now = j.focused().await;
        if now.contains(want) || started.elapsed() > WAIT {
            return now;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Keys typed one by one, as a person types them.
async fn type_keys(j: &Journey, text: &str) -> Step<()> {
    let mut actions = KeyActions::new("typing".into());
    for key in text.chars() {
        actions = actions.then(KeyAction::Down { value: key }).then(KeyAction::Up { value: key });
    }
    j.client.perform_actions(actions).await.map_err(|e| format!("cannot type '{text}': {e}"))
}

/// Tabs from the field with the focus through the what-if's other fields to its
/// button, checking each on the way, and presses Enter.
async fn send_what_if_by_keyboard(j: &Journey) -> Step<()> {
    for expected in ["leaving", "sessions"] {
        j.press(Key::Tab).await?;
        let now = j.focused().await;
        if now != expected {
            return Err(format!("Tab from the what-if's field before it reaches '{expected}', not '{now}'"));
        }
    }
    j.press(Key::Tab).await?;
    let now = j.focused().await;
    if !now.contains("Show the what-if") {
        return Err(format!("Tab from the last what-if field reaches 'Show the what-if', not '{now}'"));
    }
    j.press(Key::Enter).await
}

async fn what_if_by_keyboard(j: &mut Journey) {
    // From the top of the page, Tab alone reaches the what-if's first field.
    let _ = j
        .client
        .execute("document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0);", vec![])
        .await;
    let mut reached = false;
    for _ in 0..400 {
        if j.record(j.press(Key::Tab).await).is_none() {
            break;
        }
        if j.focused().await == "extra_days" {
            reached = true;
            break;
        }
    }
    j.check(reached, "Tab from the top of /forecast reaches the what-if's 'Extra EP days a week'");
    if !reached {
        return;
    }
    // A word where a number goes: the error summary takes the focus and its link leads back.
    let wrong = async {
        type_keys(j, "two").await?;
        send_what_if_by_keyboard(j).await?;
        j.find(Locator::Css(".error-summary a[href='#extra_days']"), "the what-if with a word for the days").await
    };
    if j.record(wrong.await).is_some() {
        let focused = focus_settles_on(j, "error-summary").await;
        j.check(
            focused.contains("error-summary"),
            format!("the what-if's error summary has the focus, not '{focused}'"),
        );
        j.capture("forecast-what-if-error", "the forecast helper's").await;
        let _ = j.record(j.press(Key::Tab).await);
        let _ = j.record(j.press(Key::Enter).await);
        let focused = j.focused().await;
        j.check(focused == "extra_days", format!("the error's link puts the focus on the days field, not '{focused}'"));
        if focused != "extra_days" {
            return;
        }
    }
    // Two extra EP days a week: the what-if beside today's team, month by month.
    let corrected = async {
        let select_all = KeyActions::new("keyboard".into())
            .then(KeyAction::Down { value: Key::Control.into() })
            .then(KeyAction::Down { value: 'a' })
            .then(KeyAction::Up { value: 'a' })
            .then(KeyAction::Up { value: Key::Control.into() });
        j.client.perform_actions(select_all).await.map_err(|e| format!("cannot select the days typed: {e}"))?;
        type_keys(j, "2").await?;
        send_what_if_by_keyboard(j).await?;
        let caption = "//table/caption[contains(., '2 extra EP days a week')]";
        j.find(Locator::XPath(caption), "the forecast under the what-if").await.map(|_| ())
    };
    if j.record(corrected.await).is_none() {
        return;
    }
    j.check(
        j.client.find(Locator::Css(".error-summary")).await.is_err(),
        "a what-if of 2 extra EP days a week is taken without an error",
    );
    let months = "//table[caption[contains(., 'under the what-if')]]/tbody/tr";
    let today = column_numbers(j, months, 2).await;
    let what_if = column_numbers(j, months, 3).await;
    j.check(
        !today.is_empty() && today.len() == what_if.len() && today.iter().chain(&what_if).all(|n| n.is_finite()),
        format!("each month shows today's and the what-if's expected breaches: {today:?} and {what_if:?}"),
    );
    // More EP time never adds breaches; when it takes none away (the authority's
    // history shows no slower advice from EPs over capacity) the page says so.
    let (before, after): (f64, f64) = (today.iter().sum(), what_if.iter().sum());
    j.check(
        after <= before + 0.05,
        format!(
            "with 2 extra EP days a week no more breaches are expected than today ({after:.1} against {before:.1})"
        ),
    );
    let same = today.iter().zip(&what_if).all(|(t, w)| (t - w).abs() < 0.05);
    let said = j.text().await.contains("Under 2 extra EP days a week the expected breaches do not change");
    j.check(
        same == said,
        format!(
            "the page says the what-if changes nothing exactly when its months are today's (same: {same}, said: {said})"
        ),
    );
    j.capture("forecast-what-if", "the forecast helper's").await;
}

/// Accepts the first suggested move; checks the case has moved and the
/// suggestion has gone.
async fn accept_a_suggested_move(j: &mut Journey) {
    let button =
        "//table[caption[contains(., 'Suggested moves')]]//button[starts-with(normalize-space(), 'Accept: move to ')]";
    if j.record(j.goto("/forecast").await).is_none() {
        let _ = j.sign_out().await;
        return;
    }
    // The demo's overloaded EP has recent requests whose advice is not yet asked for.
    if j.client.find_all(Locator::XPath(button)).await.unwrap_or_default().is_empty() {
        j.check(false, "the demo's forecast suggests moving unstarted work from its overloaded EP");
        let _ = j.record(j.sign_out().await);
        return;
    }
    let accepted = async {
        let button = j.find(Locator::XPath(button), "the forecast's suggested moves").await?;
        let form = button.find(Locator::XPath("./ancestor::form")).await.map_err(|e| e.to_string())?;
        let case = hidden_value(&form, "case_id").await?;
        let to = hidden_value(&form, "professional_id").await?;
        let name =
            button.text().await.map_err(|e| e.to_string())?.trim().trim_start_matches("Accept: move to ").to_owned();
        button.click().await.map_err(|e| format!("cannot accept the move: {e}"))?;
        let banner = "//*[contains(@class, 'banner')][contains(., 'Case reassigned')]";
        j.find(Locator::XPath(banner), "the forecast after accepting a move").await?;
        Ok::<_, String>((case, to, name))
    };
    let Some((case, to, name)) = j.record(accepted.await) else {
        let _ = j.sign_out().await;
        return;
    };
    let same =
        format!("//form[input[@name='case_id'][@value='{case}']][input[@name='professional_id'][@value='{to}']]");
    j.check(
        j.client.find(Locator::XPath(&same)).await.is_err(),
        format!("after accepting it, the move of case {case} to {name} is no longer suggested"),
    );
    j.capture("forecast-accepted", "the forecast helper's").await;
    if j.record(j.goto(&format!("/cases/{case}")).await).is_some() {
        let professional = "//*[normalize-space()='Professional']/following-sibling::*[1]";
        let shown = match j.find(Locator::XPath(professional), "the case page").await {
            Ok(cell) => cell.text().await.unwrap_or_default(),
            Err(e) => e,
        };
        j.check(shown.trim() == name, format!("case {case}'s page names {name} as its professional, not '{shown}'"));
    }
    // The professional it moved to finds it on their caseload.
    let _ = j.record(j.sign_out().await);
    if j.record(j.sign_in_named(&name).await).is_some() {
        let _ = j.record(j.goto("/caseload").await);
        let row = format!("//tr[.//a[@href='/cases/{case}']]");
        let on = j.find(Locator::XPath(&row), "the new professional's caseload").await;
        j.check(on.is_ok(), format!("case {case} is on {name}'s caseload after the move"));
        let _ = j.record(j.sign_out().await);
    }
}

async fn hidden_value(form: &Element, name: &str) -> Step<String> {
    let input = form.find(Locator::Css(&format!("input[name='{name}']"))).await.map_err(|e| e.to_string())?;
    input.attr("value").await.map_err(|e| e.to_string())?.ok_or(format!("the move's form has no {name}"))
}

/// The forecast is the council team's: a case officer reads it but has no move
/// to accept; a SENCO and an EP get the refusal page, not the forecast.
async fn only_the_council_team_reads_the_forecast(j: &mut Journey) {
    if j.record(j.sign_in_as("SEN case officer").await).is_some() {
        if j.record(j.goto("/forecast").await).is_some() {
            let heading =
                j.find(Locator::XPath("//h1[normalize-space()='Breach forecast']"), "the officer's forecast").await;
            j.check(heading.is_ok(), "a case officer reads the breach forecast");
            let accept = j.client.find(Locator::XPath("//button[starts-with(normalize-space(), 'Accept')]")).await;
            j.check(accept.is_err(), "a case officer's forecast offers no move to accept (the manager's decision)");
        }
        let _ = j.record(j.sign_out().await);
    }
    for role in ["SENCO", "Educational psychologist"] {
        if j.record(j.sign_in_as(role).await).is_none() {
            continue;
        }
        if j.record(j.goto("/forecast").await).is_some() {
            let text = j.text().await;
            j.check(text.contains("You cannot see this page"), format!("a {role}'s /forecast is the refusal page"));
            j.check(
                !text.contains("Breach forecast") && !text.contains("likely to breach"),
                format!("a {role}'s /forecast shows nothing of the forecast"),
            );
        }
        let _ = j.record(j.sign_out().await);
    }
}

/// The manager opens the SEN2 return from the dashboard: its figures, the
/// records to fix, and a download link that answers the XML file.
async fn manager_checks_the_sen2_return(j: &mut Journey) {
    if j.record(j.sign_in_as("SEN manager").await).is_none() {
        return;
    }
    let opened = async {
        j.goto("/dashboard").await?;
        let link =
            j.find(Locator::XPath("//a[normalize-space()='The SEN2 return for the DfE']"), "the dashboard").await?;
        link.click().await.map_err(|e| format!("cannot open the SEN2 return: {e}"))?;
        j.find(Locator::XPath("//h1[starts-with(normalize-space(), 'SEN2 return ')]"), "the SEN2 page")
            .await
            .map(|_| ())
    };
    if j.record(opened.await).is_none() {
        let _ = j.sign_out().await;
        return;
    }
    let mut figures = Vec::new();
    for figure in j.client.find_all(Locator::Css("main .figure")).await.unwrap_or_default() {
        figures.push(figure.text().await.unwrap_or_default().replace('\n', " "));
    }
    j.check(
        figures.len() == 7 && figures.iter().any(|f| f.contains("Requests received")),
        format!("the SEN2 page shows its seven headline figures: {figures:?}"),
    );
    let persons = figures.iter().find(|f| f.contains("Persons in the return")).cloned().unwrap_or_default();
    j.check(
        persons.split_whitespace().next().is_some_and(|n| n.replace(',', "").parse::<u64>().is_ok_and(|n| n > 0)),
        format!("the demo authority's return has persons in it: '{persons}'"),
    );
    let failures =
        j.find(Locator::XPath("//h2[starts-with(normalize-space(), 'Records to fix (')]"), "the SEN2 page").await;
    if let Some(heading) = j.record(failures) {
        let text = heading.text().await.unwrap_or_default();
        let rows = j.client.find_all(Locator::XPath("//table[caption[contains(., 'fail the DfE')]]/tbody/tr")).await;
        let rows = rows.map(|r| r.len()).unwrap_or_default();
        j.check(
            text == format!("Records to fix ({rows})") || (rows == 0 && text == "Records to fix (0)"),
            format!("the SEN2 page lists as many records to fix as it says: '{text}', {rows} rows"),
        );
    }
    j.capture("sen2", "the SEN2 helper's").await;
    let fetch = "const done = arguments[arguments.length - 1]; \
                 const a = [...document.querySelectorAll('a[download]')].find(a => a.textContent.includes('Download the SEN2 file')); \
                 if (!a) { done({ error: 'no download link' }); return; } \
                 fetch(a.href, { credentials: 'same-origin' }) \
                   .then(r => r.text().then(t => done({ status: r.status, disposition: r.headers.get('content-disposition'), \
                                                       type: r.headers.get('content-type'), start: t.slice(0, 300) }))) \
                   .catch(e => done({ error: String(e) }));";
    match j.client.execute_async(fetch, vec![]).await {
        Ok(file) => {
            let disposition = file["disposition"].as_str().unwrap_or_default();
            let start = file["start"].as_str().unwrap_or_default();
            j.check(
                file["status"] == 200
                    && disposition.starts_with("attachment; filename=\"sen2-990-")
                    && start.starts_with("<?xml"),
                format!("the SEN2 download link answers the XML file as an attachment: {file:#}"),
            );
        }
        Err(e) => j.problems.push(format!("the SEN2 download could not be fetched: {e}")),
    }
    let _ = j.record(j.sign_out().await);
}

/// A SENCO of Northmoor Primary (100001) imports the school's CTF from the
/// register: a dry run first (nothing written, the report of what would be),
/// then the import, and the pupils are on the register.
async fn senco_imports_their_schools_ctf(j: &mut Journey) {
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/data/ctf/northmoor_primary_ctf24.xml");
    let Ok(sample) = sample.canonicalize() else {
        j.problems.push(format!("the sample CTF file {} is missing", sample.display()));
        return;
    };
    let sample = sample.to_string_lossy().into_owned();
    if j.record(j.sign_in_as("SENCO").await).is_none() {
        return;
    }
    let choose = async |j: &Journey| -> Step<()> {
        let input = j.find(Locator::Id("ctf"), "the CTF import page's file picker").await?;
        input.send_keys(&sample).await.map_err(|e| format!("cannot choose the CTF file: {e}"))
    };
    let dry = async {
        j.goto("/register").await?;
        let link =
            j.find(Locator::XPath("//a[normalize-space()='Import a Common Transfer File']"), "the register").await?;
        link.click().await.map_err(|e| format!("cannot open the CTF import: {e}"))?;
        j.find(Locator::XPath("//h1[normalize-space()='Import a Common Transfer File']"), "the CTF import page")
            .await?;
        let dry_run = j.find(Locator::Id("dry_run"), "the CTF import page").await?;
        if !dry_run.is_selected().await.map_err(|e| e.to_string())? {
            return Err("the CTF import's dry run is ticked at first".into());
        }
        choose(j).await?;
        j.click_button("Import", "the CTF import page").await?;
        j.find(Locator::Id("import-report"), "the CTF dry run's report").await
    };
    let Some(report) = j.record(dry.await) else {
        let _ = j.sign_out().await;
        return;
    };
    let text = report.text().await.unwrap_or_default();
    j.check(
        text.contains("School 100001") && text.contains("Dry run: nothing was written"),
        format!("the dry run reports on school 100001 and says nothing was written: {text}"),
    );
    let created = j.find(Locator::Id("created"), "the dry run's report").await;
    let created = match created {
        Ok(c) => c.text().await.unwrap_or_default().trim().parse::<u64>().unwrap_or(0),
        Err(_) => 0,
    };
    j.check(created > 0, "the dry run says pupils would be created");
    j.capture("ctf-dry-run", "the CTF import helper's").await;
    let imported = async {
        choose(j).await?;
        let dry_run = j.find(Locator::Id("dry_run"), "the CTF import page").await?;
        if dry_run.is_selected().await.map_err(|e| e.to_string())? {
            dry_run.click().await.map_err(|e| format!("cannot untick the dry run: {e}"))?;
        }
        j.click_button("Import", "the CTF import page").await?;
        let done = "//*[@id='import-report'][contains(., 'The file was imported.')]";
        j.find(Locator::XPath(done), "the CTF import's report").await
    };
    if let Some(report) = j.record(imported.await) {
        let count = match report.find(Locator::Id("created")).await {
            Ok(c) => c.text().await.unwrap_or_default().trim().parse::<u64>().unwrap_or(0),
            Err(_) => 0,
        };
        j.check(count == created, format!("the import created the {created} pupils the dry run said, not {count}"));
        let status =
            j.client.execute("return document.getElementById('import-report').getAttribute('role');", vec![]).await;
        j.check(
            status.ok().and_then(|v| v.as_str().map(str::to_owned)).as_deref() == Some("status"),
            "the import's report is announced (role=status)",
        );
        j.capture("ctf-imported", "the CTF import helper's").await;
        // A pupil of the file is now the school's: found by name on the referral form.
        let found = async {
            j.goto("/referrals/new").await?;
            find_pupil(j, "Quillfeather").await
        };
        if j.record(found.await).is_some() {
            j.check(
                j.text().await.contains("Marnie Quillfeather"),
                "a pupil of the imported CTF is found at the school",
            );
        }
    }
    let _ = j.record(j.sign_out().await);
}
