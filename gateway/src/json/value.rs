//! Single protobuf values from the words a client writes: path segments, query
//! values and JSON strings. One reading per protobuf kind, shared by the body,
//! the query string and the path, so `as_of=2026-11-24` and
//! `{"as_of": "2026-11-24"}` can never disagree.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use chrono::{Datelike, NaiveDate};
use prost_reflect::{DynamicMessage, EnumDescriptor, FieldDescriptor, Kind, MessageDescriptor, Value};

use super::descriptors::{is_date, is_well_known};

/// Reads `text` as a value of `kind`; the error says what was expected.
pub fn from_text(kind: &Kind, text: &str) -> Result<Value, String> {
    match kind {
        Kind::Bool => match text {
            "true" => Ok(Value::Bool(true)),
            "false" => Ok(Value::Bool(false)),
            _ => Err(format!("expected true or false, found {text:?}")),
        },
        Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => whole(text, i32::MIN, i32::MAX).map(Value::I32),
        Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 => whole(text, i64::MIN, i64::MAX).map(Value::I64),
        Kind::Uint32 | Kind::Fixed32 => whole(text, u32::MIN, u32::MAX).map(Value::U32),
        Kind::Uint64 | Kind::Fixed64 => whole(text, u64::MIN, u64::MAX).map(Value::U64),
        Kind::Float => real(text).map(|v| Value::F32(v as f32)),
        Kind::Double => real(text).map(Value::F64),
        Kind::String => Ok(Value::String(text.to_owned())),
        Kind::Bytes => base64_bytes(text).map(Value::Bytes),
        Kind::Enum(e) => enum_value(e, text),
        Kind::Message(m) if is_date(m) => date(m, text),
        Kind::Message(m) if is_well_known(m) => {
            DynamicMessage::deserialize(m.clone(), serde_json::Value::String(text.to_owned()))
                .map(Value::Message)
                .map_err(|e| e.to_string())
        }
        Kind::Message(m) => Err(format!("is a {} message: give its fields one by one, as name.field", m.name())),
    }
}

/// Finds a field by its proto name (`school_urn`) or its JSON name (`schoolUrn`).
pub fn find_field(message: &MessageDescriptor, name: &str) -> Option<FieldDescriptor> {
    message.get_field_by_name(name).or_else(|| message.get_field_by_json_name(name))
}

/// The name of another member of `field`'s oneof already set in `message`, if any.
pub fn oneof_rival(message: &DynamicMessage, field: &FieldDescriptor) -> Option<String> {
    let oneof = field.containing_oneof().filter(|o| !o.is_synthetic())?;
    oneof.fields().find(|f| f.number() != field.number() && message.has_field(f)).map(|f| f.name().to_owned())
}

/// `parent.name`, or `name` at the top.
pub fn child(parent: &str, name: &str) -> String {
    if parent.is_empty() { name.to_owned() } else { format!("{parent}.{name}") }
}

/// A `sen.v1.Date` from `YYYY-MM-DD`; only real calendar days.
pub fn date(descriptor: &MessageDescriptor, text: &str) -> Result<Value, String> {
    let shaped = text.len() == 10
        && text.bytes().enumerate().all(|(i, b)| if i == 4 || i == 7 { b == b'-' } else { b.is_ascii_digit() });
    let day = shaped.then(|| NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()).flatten();
    let Some(day) = day else {
        return Err(format!("expected a calendar date as YYYY-MM-DD, found {text:?}"));
    };
    let mut message = DynamicMessage::new(descriptor.clone());
    let parts = [("year", day.year()), ("month", day.month() as i32), ("day", day.day() as i32)];
    for (name, number) in parts {
        message
            .try_set_field_by_name(name, Value::I32(number))
            .map_err(|e| format!("{} cannot hold a date: {e}", descriptor.full_name()))?;
    }
    Ok(Value::Message(message))
}

/// `YYYY-MM-DD` for a `sen.v1.Date`; `None` for the all-zero date, which the
/// services read as "no date".
pub fn date_text(message: &DynamicMessage) -> Option<String> {
    let part = |name: &str| message.get_field_by_name(name).and_then(|v| v.as_i32()).unwrap_or(0);
    let (year, month, day) = (part("year"), part("month"), part("day"));
    if (year, month, day) == (0, 0, 0) {
        return None;
    }
    Some(format!("{year:04}-{month:02}-{day:02}"))
}

fn enum_value(descriptor: &EnumDescriptor, text: &str) -> Result<Value, String> {
    match descriptor.get_value_by_name(text) {
        Some(value) => Ok(Value::EnumNumber(value.number())),
        None => {
            let names: Vec<String> = descriptor.values().map(|v| v.name().to_owned()).collect();
            Err(format!("unknown value {text:?}; expected one of {}", names.join(", ")))
        }
    }
}

fn whole<T: std::str::FromStr + std::fmt::Display>(text: &str, min: T, max: T) -> Result<T, String> {
    text.parse().map_err(|_| format!("expected a whole number from {min} to {max}, found {text:?}"))
}

fn real(text: &str) -> Result<f64, String> {
    match text {
        "NaN" => Ok(f64::NAN),
        "Infinity" => Ok(f64::INFINITY),
        "-Infinity" => Ok(f64::NEG_INFINITY),
        _ => text
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
            .ok_or_else(|| format!("expected a number, found {text:?}")),
    }
}

fn base64_bytes(text: &str) -> Result<bytes::Bytes, String> {
    [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD]
        .iter()
        .find_map(|engine| engine.decode(text).ok())
        .map(bytes::Bytes::from)
        .ok_or_else(|| "expected base64".to_owned())
}

/// The largest integer a double holds exactly; whole-number JSON written as a
/// float (`3.0`, `1e3`) is accepted up to here, as the protobuf JSON mapping says.
pub const MAX_EXACT_FLOAT: f64 = 9_007_199_254_740_992.0;

/// Reads a JSON number as a value of the integer or floating `kind`.
pub fn from_number(kind: &Kind, number: &serde_json::Number) -> Result<Value, String> {
    let text = match (number.as_i64(), number.as_u64(), number.as_f64()) {
        (Some(i), _, _) => i.to_string(),
        (None, Some(u), _) => u.to_string(),
        (None, None, Some(f)) if matches!(kind, Kind::Float | Kind::Double) => f.to_string(),
        (None, None, Some(f)) if f.fract() == 0.0 && f.abs() <= MAX_EXACT_FLOAT => format!("{f:.0}"),
        _ => return Err(format!("expected a whole number, found {number}")),
    };
    from_text(kind, &text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::descriptors::pool;

    fn kind_of(message: &str, field: &str) -> Kind {
        pool().get_message_by_name(message).unwrap().get_field_by_name(field).unwrap().kind()
    }

    #[test]
    fn a_date_must_be_a_real_day_written_in_full() {
        let kind = kind_of("sen.v1.GetReferralRequest", "as_of");
        let Kind::Message(date_desc) = &kind else { panic!() };
        let Value::Message(day) = date(date_desc, "2028-02-29").unwrap() else { panic!() };
        assert_eq!(date_text(&day).as_deref(), Some("2028-02-29"));
        for bad in ["2026-02-30", "2026-2-3", "26-11-24", "2026/11/24", "tomorrow", "", "+026-11-24"] {
            assert!(from_text(&kind, bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn whole_numbers_are_range_checked_for_their_kind() {
        assert_eq!(from_text(&Kind::Uint32, "4294967295").unwrap(), Value::U32(u32::MAX));
        assert!(from_text(&Kind::Uint32, "-1").is_err());
        assert!(from_text(&Kind::Int32, "2147483648").is_err());
        assert_eq!(from_text(&Kind::Int64, "9007199254740993").unwrap(), Value::I64(9_007_199_254_740_993));
        let n: serde_json::Number = serde_json::from_str("3.0").unwrap();
        assert_eq!(from_number(&Kind::Int64, &n).unwrap(), Value::I64(3));
        let n: serde_json::Number = serde_json::from_str("3.5").unwrap();
        assert!(from_number(&Kind::Int64, &n).is_err());
    }

    #[test]
    fn an_unknown_enum_name_lists_the_known_ones() {
        let kind = kind_of("sen.v1.ListReferralsRequest", "status");
        assert_eq!(from_text(&kind, "REFERRAL_STATUS_SUBMITTED").unwrap(), Value::EnumNumber(1));
        let error = from_text(&kind, "SUBMITTED").unwrap_err();
        assert!(error.contains("REFERRAL_STATUS_SUBMITTED"), "{error}");
    }
}
