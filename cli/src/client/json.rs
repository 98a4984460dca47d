//! `--json` output: the gRPC response in exactly the shape the gateway's JSON API
//! (`/api/v1/…`) gives for the same call, so a script can switch between the two
//! without re-learning field names: proto field names, every field written,
//! enums by name, 64-bit integers as numbers, dates as `"YYYY-MM-DD"`, absent
//! messages as `null`. The encoder is the gateway's own, walking the descriptors.

use std::sync::LazyLock;

use prost_reflect::{DescriptorPool, DynamicMessage};
use serde_json::Value as Json;

use super::failure::{Exit, Failure};

static POOL: LazyLock<Result<DescriptorPool, String>> =
    LazyLock::new(|| DescriptorPool::decode(sen_proto::FILE_DESCRIPTOR_SET).map_err(|e| e.to_string()));

/// The JSON form of `message`, a `full_name` (e.g. `sen.v1.Caseload`).
pub fn to_json<M: prost::Message>(message: &M, full_name: &str) -> Result<Json, Failure> {
    let broken = |why: String| Failure::new(Exit::Unexpected, format!("cannot write {full_name} as JSON: {why}"));
    let pool = POOL.as_ref().map_err(|e| broken(e.clone()))?;
    let descriptor = pool.get_message_by_name(full_name).ok_or_else(|| broken("unknown message".into()))?;
    let dynamic =
        DynamicMessage::decode(descriptor, message.encode_to_vec().as_slice()).map_err(|e| broken(e.to_string()))?;
    Ok(sen_gateway::json::message_to_json(&dynamic))
}

/// Pretty JSON text, ending in a newline.
pub fn text(value: &Json) -> String {
    let mut text = serde_json::to_string_pretty(value).unwrap_or_else(|_| "null".to_owned());
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use sen_proto::v1 as pb;
    use serde_json::json;

    #[test]
    fn a_caseload_is_written_with_proto_names_iso_dates_and_nulls_for_absent_parts() {
        let caseload = pb::Caseload {
            cases: vec![pb::CaseloadEntry {
                case: Some(pb::Case {
                    id: 12,
                    pupil_id: 4711,
                    school_urn: "100001".into(),
                    kind: "ehc_needs_assessment".into(),
                    status: "active".into(),
                    allocated_on: Some(pb::Date { year: 2026, month: 1, day: 5 }),
                    sessions_used: 3,
                    ..Default::default()
                }),
                next_deadline: "EHC needs assessment advice".into(),
                next_deadline_on: Some(pb::Date { year: 2026, month: 2, day: 16 }),
                days_left: -3,
            }],
        };
        let value = to_json(&caseload, "sen.v1.Caseload").unwrap();
        let entry = &value["cases"][0];
        assert_eq!(entry["case"]["id"], json!(12));
        assert_eq!(entry["case"]["allocated_on"], "2026-01-05");
        assert_eq!(entry["case"]["advice_due"], Json::Null);
        assert_eq!(entry["case"]["sessions_used"], json!(3));
        assert_eq!(entry["next_deadline_on"], "2026-02-16");
        assert_eq!(entry["days_left"], json!(-3));
        assert!(text(&value).ends_with("}\n"));
    }

    #[test]
    fn an_unknown_message_name_is_an_unexpected_failure_not_a_panic() {
        let failure = to_json(&pb::Caseload::default(), "sen.v1.NoSuchThing").unwrap_err();
        assert_eq!(failure.exit, Exit::Unexpected);
    }
}
