//! `sen sessions end` as an operator runs it, beside a running embedded `sen`:
//! a person signed in through the web pages is signed out everywhere by the
//! command, their colleague is not, and bad arguments are named. The session
//! store is the data folder's SQLite file, or PostgreSQL when
//! `SEN_GATEWAY_DATABASE_URL` names it, as in production.

mod support;

use std::path::Path;

use sen_platform::testing::{Engine, TestDatabase};
use support::{sen, start_with, stop};

fn browser() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("a client")
}

fn set_cookie(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|c| c.split(';').next()?.strip_prefix(&format!("{name}=")).map(str::to_owned))
        .find(|value| !value.is_empty())
}

/// Signs in on the demo page as the person at `place`: their session cookie and id.
async fn sign_in(address: &str, place: usize) -> (String, String) {
    let browser = browser();
    let page = browser.get(format!("http://{address}/sign-in")).send().await.expect("the sign-in page");
    let form_cookie = set_cookie(&page, "sen_sign_in").expect("the form's cookie");
    let html = page.text().await.expect("the page");
    let token = html.split(r#"name="csrf" value=""#).nth(1).and_then(|r| r.split('"').next()).expect("a token");
    let form = [("person", place.to_string()), ("next", String::new()), ("csrf", token.to_owned())];
    let signed_in = browser
        .post(format!("http://{address}/sign-in"))
        .header("cookie", format!("sen_sign_in={form_cookie}"))
        .form(&form)
        .send()
        .await
        .expect("signed in");
    let session = set_cookie(&signed_in, "sen_session").expect("a session cookie");
    let (_, header) = open(address, &session).await;
    let person = header.expect("a signed-in page names its reader");
    (session, person)
}

/// Opens the home page with `session`: where it is sent, and the person its
/// pages name (once signed in).
async fn open(address: &str, session: &str) -> (String, Option<String>) {
    let browser = browser();
    let home = browser
        .get(format!("http://{address}/"))
        .header("cookie", format!("sen_session={session}"))
        .send()
        .await
        .expect("home answers");
    let location = home.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    if location.starts_with("/sign-in") {
        return (location, None);
    }
    let page = browser
        .get(format!("http://{address}{location}"))
        .header("cookie", format!("sen_session={session}"))
        .send()
        .await
        .expect("the start page answers");
    let html = page.text().await.unwrap_or_default();
    let person = html
        .split(r#"class="header__person" data-person=""#)
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .map(|person| person.trim().to_owned());
    (location, person)
}

fn end_sessions(data: &Path, vars: &[(&str, &str)], args: &[&str]) -> std::process::Output {
    sen(data).envs(vars.iter().copied()).args(["sessions", "end"]).args(args).output().expect("sen sessions runs")
}

async fn the_command_signs_a_person_out_of_the_running_platform(vars: &[(&str, &str)]) {
    let data = tempfile::tempdir().expect("a data folder");
    let running = start_with(data.path(), vars);
    let (laptop, person) = sign_in(&running.address, 0).await;
    let (phone, _) = sign_in(&running.address, 0).await;
    let (colleague, other) = sign_in(&running.address, 1).await;
    assert_ne!(person, other);

    let tenant = "990";
    let output = end_sessions(data.path(), vars, &["--person", &person, "--tenant", tenant]);
    let said = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(said.contains(&format!("Ended 2 web sessions of {person} in authority {tenant}")), "{said}");
    for session in [&laptop, &phone] {
        let (location, named) = open(&running.address, session).await;
        assert!(location.starts_with("/sign-in") && named.is_none(), "an ended session opens nothing: {location}");
    }
    assert_eq!(open(&running.address, &colleague).await.1, Some(other), "their colleague is still signed in");
    stop(running).await;
}

#[tokio::test]
async fn sen_sessions_end_signs_a_person_out_with_the_store_in_the_data_folder() {
    the_command_signs_a_person_out_of_the_running_platform(&[]).await;
}

#[tokio::test]
async fn sen_sessions_end_signs_a_person_out_with_the_store_on_postgresql() {
    let store = TestDatabase::create(Engine::Postgres).await.expect("a PostgreSQL database");
    the_command_signs_a_person_out_of_the_running_platform(&[("SEN_GATEWAY_DATABASE_URL", &store.url)]).await;
}

#[test]
fn sen_sessions_end_names_a_bad_argument_and_changes_nothing() {
    let data = tempfile::tempdir().expect("a data folder");
    let output = end_sessions(data.path(), &[], &["--person", "p-1", "--tenant", "nowhere"]);
    assert!(!output.status.success());
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("--tenant"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let output = end_sessions(data.path(), &[], &["--person", " "]);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("--person"));
    assert!(!data.path().join("gateway.db").exists(), "nothing was opened or written");
}

#[test]
fn sen_migrate_gateway_makes_the_session_store() {
    let data = tempfile::tempdir().expect("a data folder");
    let output = sen(data.path()).args(["migrate", "gateway"]).output().expect("sen migrate runs");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(data.path().join("gateway.db").is_file(), "the store is in the data folder");
    let again = sen(data.path()).args(["migrate", "gateway"]).output().expect("sen migrate runs");
    assert!(again.status.success(), "migrating twice changes nothing");
}

#[tokio::test]
async fn sen_sessions_open_prints_a_cookie_that_opens_the_pages_as_that_person_and_production_refuses_it() {
    let data = tempfile::tempdir().expect("a data folder");
    let running = start_with(data.path(), &[]);
    let opened = sen(data.path())
        .args(["sessions", "open", "--role", "la_manager", "--tenant", "990", "--person", "script-manager"])
        .output()
        .expect("sen sessions runs");
    assert!(opened.status.success(), "{}", String::from_utf8_lossy(&opened.stderr));
    let printed = String::from_utf8_lossy(&opened.stdout).trim().to_owned();
    let session = printed.strip_prefix("sen_session=").expect("the cookie, named");
    let (location, person) = open(&running.address, session).await;
    assert_eq!(location, "/dashboard");
    assert_eq!(person.as_deref(), Some("script-manager"));

    let refused = sen(data.path())
        .env("SEN_MODE", "production")
        .args(["sessions", "open", "--role", "la_manager", "--tenant", "990"])
        .output()
        .expect("sen sessions runs");
    assert!(!refused.status.success());
    stop(running).await;
}
