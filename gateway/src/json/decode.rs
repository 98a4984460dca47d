//! Request bodies: JSON into a protobuf message by walking its descriptor.
//!
//! The protobuf JSON mapping with this API's conventions: field names as in the
//! proto (`school_urn`) or lowerCamelCase (`schoolUrn`); enums by name; integers
//! as numbers or decimal strings; `null` leaves a field unset; `sen.v1.Date` as
//! `"YYYY-MM-DD"` wherever it is nested; well-known types as prost-reflect reads
//! them. Every bad field is collected, named by its path (`referral.kind`,
//! `referral.broad_areas[1]`), so a client fixes them all in one go and nothing
//! is sent upstream until the whole body is good.

use std::collections::HashMap;

use prost_reflect::{DynamicMessage, FieldDescriptor, Kind, MapKey, MessageDescriptor, ReflectMessage, Value};
use serde_json::Value as Json;

use super::descriptors::{is_date, is_well_known};
use super::error::{ApiError, FieldError};
use super::value::{child, find_field, from_number, from_text, oneof_rival};

/// Every bad field found so far.
#[derive(Debug, Default)]
pub struct Violations(Vec<FieldError>);

impl Violations {
    /// Records that `field` is bad, and why.
    pub fn add(&mut self, field: impl Into<String>, description: impl Into<String>) {
        self.0.push(FieldError { field: field.into(), description: description.into() });
    }

    /// `Ok(())` if nothing was bad, or every violation.
    pub fn into_result(self) -> Result<(), Vec<FieldError>> {
        if self.0.is_empty() { Ok(()) } else { Err(self.0) }
    }
}

/// Reads a request body into a message of type `descriptor`. An empty or `null`
/// body is the empty message.
pub fn message_from_json(descriptor: &MessageDescriptor, json: &Json) -> Result<DynamicMessage, ApiError> {
    let mut message = DynamicMessage::new(descriptor.clone());
    let mut violations = Violations::default();
    match json {
        Json::Null => {}
        Json::Object(object) => merge_object(&mut message, object, "", &mut violations),
        other => {
            let found = json_type(other);
            return Err(ApiError::malformed(format!("expected the body to be a JSON object, found {found}")));
        }
    }
    violations.into_result().map_err(ApiError::invalid)?;
    Ok(message)
}

fn merge_object(
    message: &mut DynamicMessage,
    object: &serde_json::Map<String, Json>,
    path: &str,
    violations: &mut Violations,
) {
    let descriptor = message.descriptor();
    let mut given: HashMap<u32, &str> = HashMap::new();
    for (key, json) in object {
        let Some(field) = find_field(&descriptor, key) else {
            violations.add(child(path, key), format!("unknown field of {}", descriptor.full_name()));
            continue;
        };
        let field_path = child(path, field.name());
        if let Some(earlier) = given.insert(field.number(), key) {
            violations.add(field_path, format!("given twice, as {earlier} and {key}"));
            continue;
        }
        if json.is_null() {
            continue;
        }
        if let Some(rival) = oneof_rival(message, &field) {
            violations.add(field_path, format!("cannot be given with {rival}; they are alternatives"));
            continue;
        }
        if let Some(value) = field_value(&field, json, &field_path, violations) {
            message.set_field(&field, value);
        }
    }
}

fn field_value(field: &FieldDescriptor, json: &Json, path: &str, violations: &mut Violations) -> Option<Value> {
    if field.is_map() {
        return map_value(field, json, path, violations);
    }
    if field.is_list() {
        let Json::Array(items) = json else {
            violations.add(path, format!("expected a JSON array, found {}", json_type(json)));
            return None;
        };
        let kind = field.kind();
        let before = violations.0.len();
        let values: Vec<Value> = items
            .iter()
            .enumerate()
            .filter_map(|(i, item)| single_value(&kind, item, &format!("{path}[{i}]"), violations))
            .collect();
        return (violations.0.len() == before).then_some(Value::List(values));
    }
    single_value(&field.kind(), json, path, violations)
}

fn map_value(field: &FieldDescriptor, json: &Json, path: &str, violations: &mut Violations) -> Option<Value> {
    let Kind::Message(entry) = field.kind() else { return None };
    let Json::Object(object) = json else {
        violations.add(path, format!("expected a JSON object, found {}", json_type(json)));
        return None;
    };
    let (key_kind, value_kind) = (entry.map_entry_key_field().kind(), entry.map_entry_value_field().kind());
    let mut map = HashMap::new();
    for (key, item) in object {
        let item_path = format!("{path}[{key}]");
        let key = match from_text(&key_kind, key).map(Value::into_map_key) {
            Ok(Some(key)) => key,
            Ok(None) => MapKey::String(key.clone()),
            Err(description) => {
                violations.add(item_path, description);
                continue;
            }
        };
        if let Some(value) = single_value(&value_kind, item, &item_path, violations) {
            map.insert(key, value);
        }
    }
    Some(Value::Map(map))
}

fn single_value(kind: &Kind, json: &Json, path: &str, violations: &mut Violations) -> Option<Value> {
    let read = match (kind, json) {
        (Kind::Message(m), Json::String(text)) if is_date(m) => from_text(kind, text),
        (Kind::Message(m), _) if is_date(m) => {
            Err(format!("expected a date as \"YYYY-MM-DD\", found {}", json_type(json)))
        }
        (Kind::Message(m), _) if is_well_known(m) => {
            DynamicMessage::deserialize(m.clone(), json.clone()).map(Value::Message).map_err(|e| e.to_string())
        }
        (Kind::Message(m), Json::Object(object)) => {
            let mut message = DynamicMessage::new(m.clone());
            merge_object(&mut message, object, path, violations);
            return Some(Value::Message(message));
        }
        (Kind::Message(m), _) => Err(format!("expected a {} object, found {}", m.name(), json_type(json))),
        (Kind::Bool, Json::Bool(b)) => Ok(Value::Bool(*b)),
        (Kind::String, Json::String(s)) => Ok(Value::String(s.clone())),
        (Kind::Enum(_) | Kind::Bytes, Json::String(s)) => from_text(kind, s),
        (Kind::Enum(e), _) => Err(format!("expected the name of a {} value, found {}", e.name(), json_type(json))),
        (Kind::Bool | Kind::String | Kind::Bytes, _) => {
            Err(format!("expected {}, found {}", expected(kind), json_type(json)))
        }
        // Numbers: JSON numbers, or decimal strings as the protobuf mapping allows.
        (_, Json::Number(n)) => from_number(kind, n),
        (_, Json::String(s)) => from_text(kind, s),
        (_, _) => Err(format!("expected a number, found {}", json_type(json))),
    };
    match read {
        Ok(value) => Some(value),
        Err(description) => {
            violations.add(path, description);
            None
        }
    }
}

fn expected(kind: &Kind) -> &'static str {
    match kind {
        Kind::Bool => "true or false",
        Kind::String => "a string",
        Kind::Bytes => "a base64 string",
        _ => "a number",
    }
}

fn json_type(json: &Json) -> &'static str {
    match json {
        Json::Null => "null",
        Json::Bool(_) => "a boolean",
        Json::Number(_) => "a number",
        Json::String(_) => "a string",
        Json::Array(_) => "an array",
        Json::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::descriptors::pool;
    use serde_json::json;

    fn submit_referral() -> MessageDescriptor {
        pool().get_message_by_name("sen.v1.SubmitReferralRequest").unwrap()
    }

    fn fields_named(result: Result<DynamicMessage, ApiError>) -> Vec<String> {
        let error = result.unwrap_err();
        assert_eq!((error.status.as_u16(), error.code), (400, "INVALID_ARGUMENT"));
        error.fields.into_iter().map(|f| f.field).collect()
    }

    #[test]
    fn a_bad_date_is_named_by_its_path() {
        let body = json!({"referral": {"consent": {"given_on": "2026-02-30"}}});
        assert_eq!(fields_named(message_from_json(&submit_referral(), &body)), ["referral.consent.given_on"]);
        let body = json!({"referral": {"consent": {"given_on": {"year": 2026, "month": 2, "day": 3}}}});
        assert_eq!(fields_named(message_from_json(&submit_referral(), &body)), ["referral.consent.given_on"]);
    }

    #[test]
    fn an_unknown_field_is_named_by_its_path() {
        let body = json!({"referral": {"pupil": 7}, "idempotency_key": "k"});
        assert_eq!(fields_named(message_from_json(&submit_referral(), &body)), ["referral.pupil"]);
    }

    #[test]
    fn wrong_types_are_each_named_and_all_reported() {
        let body = json!({
            "referral": {"pupil_id": "seven", "kind": 3, "broad_areas": ["ok", 2], "consent": []},
            "idempotency_key": false,
        });
        let mut named = fields_named(message_from_json(&submit_referral(), &body));
        named.sort();
        assert_eq!(
            named,
            ["idempotency_key", "referral.broad_areas[1]", "referral.consent", "referral.kind", "referral.pupil_id"]
        );
    }

    #[test]
    fn an_unknown_enum_name_is_named_by_its_path() {
        let descriptor = pool().get_message_by_name("sen.v1.ChangeReferralStatusRequest").unwrap();
        let error = message_from_json(&descriptor, &json!({"event": "REFERRAL_EVENT_EXPLODE"})).unwrap_err();
        assert_eq!(error.fields[0].field, "event");
        assert!(error.fields[0].description.contains("REFERRAL_EVENT_ACCEPT"));
    }

    #[test]
    fn camel_case_names_and_string_integers_are_accepted() {
        let body = json!({"referral": {"pupilId": "42", "schoolUrn": "100001"}, "idempotencyKey": "k"});
        let message = message_from_json(&submit_referral(), &body).unwrap();
        let referral = message.get_field_by_name("referral").unwrap();
        let referral = referral.as_message().unwrap();
        assert_eq!(referral.get_field_by_name("pupil_id").unwrap().as_i64(), Some(42));
        assert_eq!(message.get_field_by_name("idempotency_key").unwrap().as_str(), Some("k"));
    }

    #[test]
    fn the_same_field_twice_under_both_names_is_refused() {
        let body = json!({"idempotency_key": "a", "idempotencyKey": "b"});
        assert_eq!(fields_named(message_from_json(&submit_referral(), &body)), ["idempotency_key"]);
    }

    #[test]
    fn a_body_that_is_not_an_object_is_refused() {
        assert!(message_from_json(&submit_referral(), &json!([1, 2])).is_err());
        assert!(message_from_json(&submit_referral(), &Json::Null).is_ok());
    }
}
