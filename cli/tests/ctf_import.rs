//! `sen pupils import FILE` with the sample Common Transfer File in
//! `tests/data/ctf/`, through the real embedded platform, as a newcomer would
//! run it as the demo SENCO: a dry run writes nothing, the import puts the
//! file's pupils on the school's register, a second import changes nothing,
//! and another school's SENCO and a professional are refused.

mod support;

use std::path::PathBuf;

use serde_json::Value;
use support::client::{client, exits_with, ok};

fn sample() -> String {
    let file = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/data/ctf/northmoor_primary_ctf24.xml");
    file.to_str().expect("a UTF-8 path").to_owned()
}

fn report(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("--json prints the report ({e}): {text}"))
}

fn count(report: &Value, field: &str) -> u64 {
    report[field].as_u64().unwrap_or(0)
}

/// The pupils of school 100001 with this UPN, through the JSON API.
fn pupils_with_upn(address: &str, token: &str, upn: &str) -> Vec<Value> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    runtime.block_on(async {
        let response = reqwest::Client::new()
            .get(format!("http://{address}/api/v1/pupils"))
            .query(&[("school_urn", "100001"), ("upn", upn)])
            .bearer_auth(token)
            .send()
            .await
            .expect("answered");
        assert_eq!(response.status().as_u16(), 200);
        let body: Value = response.json().await.expect("JSON");
        body["pupils"].as_array().cloned().unwrap_or_default()
    })
}

#[test]
fn a_senco_imports_their_schools_ctf_with_sen_and_sees_the_pupils_on_the_register() {
    let data = tempfile::tempdir().expect("temp dir");
    let running = support::start(data.path());
    let (dir, at) = (data.path(), running.address.as_str());
    let senco = support::token(dir, &["--role", "senco", "--tenant", "990", "--school", "100001"]);
    let file = sample();
    let upn = "H990200198001";

    let dry = report(&ok(&client(dir, at, Some(&senco), &["pupils", "import", &file, "--dry-run", "--json"])));
    assert_eq!(dry["school_urn"], "100001", "{dry}");
    assert!(count(&dry, "created") > 0, "the sample's pupils are new: {dry}");
    assert!(!dry["written"].as_bool().unwrap_or(false), "a dry run writes nothing: {dry}");
    assert!(pupils_with_upn(at, &senco, upn).is_empty(), "nothing on the register after the dry run");

    let text = ok(&client(dir, at, Some(&senco), &["pupils", "import", &file]));
    assert!(text.starts_with("School 100001 (CTF 24.0): imported"), "{text}");
    let on_register = pupils_with_upn(at, &senco, upn);
    assert_eq!(on_register.len(), 1, "the imported pupil is on the school's register: {on_register:?}");
    assert_eq!(on_register[0]["legal_surname"], "Quillfeather", "{on_register:?}");

    let again = report(&ok(&client(dir, at, Some(&senco), &["pupils", "import", &file, "--json"])));
    assert_eq!(count(&again, "created") + count(&again, "updated"), 0, "a second import changes nothing: {again}");
    assert_eq!(count(&again, "unchanged"), count(&dry, "created") + count(&dry, "updated") + count(&dry, "unchanged"));

    let other_senco = support::token(dir, &["--role", "senco", "--tenant", "990", "--school", "100002"]);
    let refused = client(dir, at, Some(&other_senco), &["pupils", "import", &file]);
    assert_ne!(refused.status.code(), Some(0), "another school's SENCO cannot import this school's file");
    let ep = support::token(dir, &["--role", "educational_psychologist", "--tenant", "990", "--person", "ep-jones"]);
    exits_with(&client(dir, at, Some(&ep), &["pupils", "import", &file, "--dry-run"]), 4);
    let other_council = support::token(dir, &["--role", "la_manager", "--tenant", "991"]);
    let refused = client(dir, at, Some(&other_council), &["pupils", "import", &file, "--dry-run"]);
    assert_ne!(refused.status.code(), Some(0), "another council cannot import a file of this council's school");
    assert!(pupils_with_upn(at, &other_council, upn).is_empty(), "another council sees none of the pupils");
}
