//! Request fields from the URL: `{name}` path segments and, for GET, the query
//! string (`?school_urn=100001&status=REFERRAL_STATUS_SUBMITTED&page.page_size=50`).
//!
//! A key names a field by its proto or lowerCamelCase name, nested messages with
//! dots; a repeated field takes the key once per element; each value is read as
//! the field's type, `sen.v1.Date` as `YYYY-MM-DD`. A singular field given twice
//! is refused rather than silently taking one of them. Path values are set last
//! and win over anything the body or query said.

use std::collections::HashSet;

use prost_reflect::{DynamicMessage, Kind, ReflectMessage, Value};

use super::decode::Violations;
use super::descriptors::{is_date, is_well_known};
use super::error::{ApiError, FieldError};
use super::value::{child, find_field, from_text, oneof_rival};

/// How a value reaches its field.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Source {
    /// The query string: repeated keys add elements; a singular one given twice is an error.
    Query,
    /// The path: replaces whatever was there.
    Path,
}

/// Sets the fields the query string names.
pub fn merge_query(message: &mut DynamicMessage, pairs: &[(String, String)]) -> Result<(), ApiError> {
    merge(message, pairs, Source::Query)
}

/// Sets the fields the path segments name, over anything already set.
pub fn merge_path(message: &mut DynamicMessage, params: &[(String, String)]) -> Result<(), ApiError> {
    merge(message, params, Source::Path)
}

fn merge(message: &mut DynamicMessage, pairs: &[(String, String)], source: Source) -> Result<(), ApiError> {
    let mut violations = Violations::default();
    let mut seen = HashSet::new();
    for (key, text) in pairs {
        if let Err(FieldError { field, description }) = assign(message, key, text, source, &mut seen) {
            violations.add(field, description);
        }
    }
    violations.into_result().map_err(ApiError::invalid)
}

fn assign(
    message: &mut DynamicMessage,
    key: &str,
    text: &str,
    source: Source,
    seen: &mut HashSet<String>,
) -> Result<(), FieldError> {
    let segments: Vec<&str> = key.split('.').collect();
    let (last, parents) = segments.split_last().unwrap_or((&"", &[]));
    let mut target = message;
    let mut path = String::new();
    for segment in parents {
        let descriptor = target.descriptor();
        let field = find_field(&descriptor, segment).ok_or_else(|| unknown(&path, segment, &descriptor))?;
        path = child(&path, field.name());
        let nestable = matches!(field.kind(), Kind::Message(m) if !is_date(&m) && !is_well_known(&m));
        if !nestable || field.is_list() || field.is_map() {
            return Err(FieldError { field: path, description: "has no fields to name after a dot".into() });
        }
        if let Some(rival) = oneof_rival(target, &field) {
            return Err(FieldError { field: path, description: format!("cannot be given with {rival}") });
        }
        target = match target.get_field_mut(&field).as_message_mut() {
            Some(inner) => inner,
            None => return Err(FieldError { field: path, description: "has no fields to name after a dot".into() }),
        };
    }
    let descriptor = target.descriptor();
    let field = find_field(&descriptor, last).ok_or_else(|| unknown(&path, last, &descriptor))?;
    let path = child(&path, field.name());
    if field.is_map() {
        return Err(FieldError { field: path, description: "cannot be given in the URL; use a request body".into() });
    }
    let value =
        from_text(&field.kind(), text).map_err(|description| FieldError { field: path.clone(), description })?;
    if let Some(rival) = oneof_rival(target, &field) {
        return Err(FieldError { field: path, description: format!("cannot be given with {rival}") });
    }
    match (source, field.is_list()) {
        (Source::Query, true) => match target.get_field_mut(&field).as_list_mut() {
            Some(list) => list.push(value),
            None => return Err(FieldError { field: path, description: "cannot be given in the URL".into() }),
        },
        (Source::Path, true) => target.set_field(&field, Value::List(vec![value])),
        (Source::Query, false) if !seen.insert(path.clone()) => {
            return Err(FieldError { field: path, description: "given more than once".into() });
        }
        (_, false) => target.set_field(&field, value),
    }
    Ok(())
}

fn unknown(parent: &str, name: &str, descriptor: &prost_reflect::MessageDescriptor) -> FieldError {
    FieldError { field: child(parent, name), description: format!("unknown field of {}", descriptor.full_name()) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::descriptors::pool;
    use crate::json::encode::message_to_json;
    use serde_json::json;

    fn pairs(query: &str) -> Vec<(String, String)> {
        let uri: http::Uri = format!("/x?{query}").parse().unwrap();
        axum::extract::Query::<Vec<(String, String)>>::try_from_uri(&uri).unwrap().0
    }

    fn message(name: &str) -> DynamicMessage {
        DynamicMessage::new(pool().get_message_by_name(name).unwrap())
    }

    #[test]
    fn a_query_string_fills_nested_typed_fields_and_dates() {
        let mut request = message("sen.v1.ListReferralsRequest");
        let query = "school_urn=100001&status=REFERRAL_STATUS_SUBMITTED&page.page_size=50&as_of=2026-11-24&olderThanDays=30&overdue=true";
        merge_query(&mut request, &pairs(query)).unwrap();
        let json = message_to_json(&request);
        assert_eq!(json["school_urn"], "100001");
        assert_eq!(json["status"], "REFERRAL_STATUS_SUBMITTED");
        assert_eq!(json["page"], json!({"page_size": 50, "page_token": ""}));
        assert_eq!(json["as_of"], "2026-11-24");
        assert_eq!(json["older_than_days"], 30);
        assert_eq!(json["overdue"], true);
        let mut request = message("sen.v1.ListReferralsRequest");
        merge_query(&mut request, &pairs("page.pageToken=abc%3D")).unwrap();
        assert_eq!(message_to_json(&request)["page"]["page_token"], "abc=");
    }

    #[test]
    fn a_repeated_key_fills_a_repeated_field_in_order() {
        let mut request = message("sen.v1.GraduatedApproach");
        merge_query(&mut request, &pairs("support_cycle_ids=3&support_cycle_ids=1&supportCycleIds=2")).unwrap();
        assert_eq!(message_to_json(&request)["support_cycle_ids"], json!([3, 1, 2]));
    }

    #[test]
    fn bad_query_values_are_each_named() {
        let mut request = message("sen.v1.ListReferralsRequest");
        let query = "as_of=2026-13-01&page.page_size=-5&status=OPEN&colour=red&overdue=yes&as_of.year=2026&school_urn=1&school_urn=2";
        let error = merge_query(&mut request, &pairs(query)).unwrap_err();
        let named: Vec<&str> = error.fields.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(named, ["as_of", "page.page_size", "status", "colour", "overdue", "as_of", "school_urn"]);
        assert_eq!(error.status.as_u16(), 400);
    }

    #[test]
    fn path_values_win_over_the_body() {
        let mut request = message("sen.v1.GetReferralRequest");
        request.set_field_by_name("id", Value::I64(1));
        merge_path(&mut request, &[("id".into(), "77".into())]).unwrap();
        assert_eq!(message_to_json(&request)["id"], 77);
        let error = merge_path(&mut request, &[("id".into(), "seventy".into())]).unwrap_err();
        assert_eq!(error.fields[0].field, "id");
    }
}
