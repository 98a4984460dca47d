//! Responses: a protobuf message into JSON by walking its descriptor.
//!
//! Every field of the message is written, so a client sees `0` and `false`
//! rather than a missing key: proto field names, enums by name, 64-bit integers
//! as plain JSON numbers (our ids and counts stay far below 2^53), `sen.v1.Date`
//! as `"YYYY-MM-DD"`. A field that can be absent (a message, a proto3
//! `optional`) and is absent is `null`. Well-known types take their standard JSON
//! form from prost-reflect (RFC 3339 timestamps).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use prost_reflect::{DynamicMessage, FieldDescriptor, Kind, MapKey, ReflectMessage, SerializeOptions, Value};
use serde_json::{Map, Number, Value as Json};

use super::descriptors::{is_date, is_well_known};
use super::value::date_text;

/// The JSON form of `message`.
pub fn message_to_json(message: &DynamicMessage) -> Json {
    let descriptor = message.descriptor();
    if is_date(&descriptor) {
        return date_text(message).map_or(Json::Null, Json::String);
    }
    if is_well_known(&descriptor) {
        return well_known(message);
    }
    let object: Map<String, Json> =
        descriptor.fields().map(|field| (field.name().to_owned(), field_to_json(message, &field))).collect();
    Json::Object(object)
}

fn field_to_json(message: &DynamicMessage, field: &FieldDescriptor) -> Json {
    if field.supports_presence() && !message.has_field(field) {
        return Json::Null;
    }
    let kind = field.kind();
    match &*message.get_field(field) {
        Value::List(items) => Json::Array(items.iter().map(|item| value_to_json(&kind, item)).collect()),
        Value::Map(entries) => {
            let value_kind = match &kind {
                Kind::Message(entry) => entry.map_entry_value_field().kind(),
                other => other.clone(),
            };
            let mut object: Vec<(String, Json)> =
                entries.iter().map(|(key, value)| (map_key(key), value_to_json(&value_kind, value))).collect();
            object.sort_by(|a, b| a.0.cmp(&b.0));
            Json::Object(object.into_iter().collect())
        }
        value => value_to_json(&kind, value),
    }
}

fn value_to_json(kind: &Kind, value: &Value) -> Json {
    match value {
        Value::Bool(b) => Json::Bool(*b),
        Value::I32(n) => Json::from(*n),
        Value::I64(n) => Json::from(*n),
        Value::U32(n) => Json::from(*n),
        Value::U64(n) => Json::from(*n),
        Value::F32(n) => float(f64::from(*n)),
        Value::F64(n) => float(*n),
        Value::String(s) => Json::String(s.clone()),
        Value::Bytes(b) => Json::String(STANDARD.encode(b)),
        Value::EnumNumber(n) => match kind {
            Kind::Enum(e) => e.get_value(*n).map_or_else(|| Json::from(*n), |v| Json::String(v.name().to_owned())),
            _ => Json::from(*n),
        },
        Value::Message(m) => message_to_json(m),
        Value::List(items) => Json::Array(items.iter().map(|item| value_to_json(kind, item)).collect()),
        Value::Map(_) => Json::Null,
    }
}

/// Finite numbers as numbers; the three others as the strings the protobuf
/// JSON mapping names, since JSON has no spelling for them.
fn float(n: f64) -> Json {
    match Number::from_f64(n) {
        Some(number) => Json::Number(number),
        None if n.is_nan() => Json::String("NaN".into()),
        None if n > 0.0 => Json::String("Infinity".into()),
        None => Json::String("-Infinity".into()),
    }
}

fn map_key(key: &MapKey) -> String {
    match key {
        MapKey::Bool(b) => b.to_string(),
        MapKey::I32(n) => n.to_string(),
        MapKey::I64(n) => n.to_string(),
        MapKey::U32(n) => n.to_string(),
        MapKey::U64(n) => n.to_string(),
        MapKey::String(s) => s.clone(),
    }
}

fn well_known(message: &DynamicMessage) -> Json {
    let options = SerializeOptions::new().stringify_64_bit_integers(false).use_proto_field_name(true);
    message.serialize_with_options(serde_json::value::Serializer, &options).unwrap_or_else(|error| {
        tracing::warn!(%error, message = message.descriptor().full_name(), "well-known type not writable as JSON");
        Json::Null
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::decode::message_from_json;
    use crate::json::descriptors::pool;
    use prost::Message as _;
    use serde_json::json;

    #[test]
    fn a_nested_message_with_dates_and_enums_survives_json_protobuf_json() {
        let descriptor = pool().get_message_by_name("sen.v1.Referral").unwrap();
        let input = json!({
            "id": 9_007_199_254_740_993_i64,
            "body": {
                "pupil_id": 42,
                "school_urn": "100001",
                "kind": "educational_psychology",
                "broad_areas": ["cognition_and_learning", "sensory_and_physical"],
                "concern": "Reading age well below peers.",
                "graduated_approach": {"summary": "Two cycles of phonics", "support_cycle_ids": [3, 4], "provision_ids": []},
                "consent": {"given_by": "Mother", "givenOn": "2026-09-14", "method": "signed_form"},
                "priority": "routine",
            },
            "status": "REFERRAL_STATUS_SUBMITTED",
            "submitted_on": "2026-09-15",
            "version": 3,
        });
        let message = message_from_json(&descriptor, &input).unwrap();
        // Through the wire form, as a service would send it back.
        let bytes = message.encode_to_vec();
        let decoded = DynamicMessage::decode(descriptor, bytes.as_slice()).unwrap();
        let output = message_to_json(&decoded);

        assert_eq!(output["id"], json!(9_007_199_254_740_993_i64), "64-bit ids are exact JSON numbers");
        assert_eq!(output["status"], "REFERRAL_STATUS_SUBMITTED");
        assert_eq!(output["submitted_on"], "2026-09-15");
        assert_eq!(output["body"]["consent"]["given_on"], "2026-09-14");
        assert_eq!(output["body"]["graduated_approach"]["support_cycle_ids"], json!([3, 4]));
        assert_eq!(output["body"]["graduated_approach"]["provision_ids"], json!([]));
        assert_eq!(output["allocated_to"], "", "defaults are written");
        assert_eq!(output["clock"], Json::Null, "an absent message is null");
        assert_eq!(message_to_json(&message_from_json(&decoded.descriptor(), &output).unwrap()), output);
    }

    #[test]
    fn defaults_and_absent_optionals_are_written() {
        let descriptor = pool().get_message_by_name("sen.v1.School").unwrap();
        let output = message_to_json(&DynamicMessage::new(descriptor));
        assert_eq!(output["version"], json!(0));
        assert_eq!(output["requires_senco"], json!(false));
        assert_eq!(output["phase"], "PHASE_UNSPECIFIED");
        assert_eq!(output["number_on_roll"], Json::Null);
        assert_eq!(output["open_date"], Json::Null);
    }

    #[test]
    fn non_finite_doubles_use_the_protobuf_spellings() {
        assert_eq!(float(f64::NAN), "NaN");
        assert_eq!(float(f64::INFINITY), "Infinity");
        assert_eq!(float(f64::NEG_INFINITY), "-Infinity");
        assert_eq!(float(12.5), json!(12.5));
    }
}
