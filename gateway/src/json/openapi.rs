//! The OpenAPI 3.0.3 document of the JSON API, generated from the policy rules
//! (routes, roles) and the descriptors (types, proto comments), so it cannot
//! drift from what the router does: one operation per routed method, path
//! parameters and, for GET, every request field as a query parameter, the
//! request message as the body of POST and PATCH, the answer and the error body.

use prost_reflect::{Kind, MessageDescriptor, MethodDescriptor};
use serde_json::{Map, Value as Json, json};

use super::descriptors::{self, comment, is_date, is_well_known};
use super::error::size_in_words;
use super::handlers::{CHUNK_FIELD, MAX_JSON_BODY, MAX_UPLOAD_BODY, event_name};
use super::schema::{Schemas, field_comment};
use super::value::{child, find_field};
use crate::policy::{RULES, Rule, Verb};

const ERROR_CODES: [&str; 16] = [
    "CANCELLED",
    "UNKNOWN",
    "INVALID_ARGUMENT",
    "DEADLINE_EXCEEDED",
    "NOT_FOUND",
    "ALREADY_EXISTS",
    "PERMISSION_DENIED",
    "RESOURCE_EXHAUSTED",
    "FAILED_PRECONDITION",
    "ABORTED",
    "OUT_OF_RANGE",
    "UNIMPLEMENTED",
    "INTERNAL",
    "UNAVAILABLE",
    "DATA_LOSS",
    "UNAUTHENTICATED",
];

/// Error responses every operation may give: HTTP status, component name, meaning.
const ERRORS: [(&str, &str, &str); 9] = [
    ("400", "BadRequest", "Bad input (INVALID_ARGUMENT, OUT_OF_RANGE); `fields` names each bad field."),
    ("401", "Unauthenticated", "No valid bearer token (UNAUTHENTICATED)."),
    ("403", "PermissionDenied", "The caller's role may not call this (PERMISSION_DENIED)."),
    ("404", "NotFound", "No such record in the caller's scope (NOT_FOUND)."),
    (
        "409",
        "Conflict",
        "The record's state forbids it (FAILED_PRECONDITION), it exists already (ALREADY_EXISTS) or it changed since it was read (ABORTED).",
    ),
    ("429", "TooManyRequests", "Too many requests for the tenant (RESOURCE_EXHAUSTED)."),
    ("500", "Internal", "Something failed inside the platform; the detail is logged, never shown."),
    ("503", "Unavailable", "A service this call needs is unavailable (UNAVAILABLE)."),
    ("504", "Timeout", "The call took too long (DEADLINE_EXCEEDED)."),
];

/// The OpenAPI 3.0.3 document of every JSON route.
pub fn openapi() -> Json {
    let mut schemas = Schemas::default();
    let mut paths: Map<String, Json> = Map::new();
    let mut tags: Vec<Json> = Vec::new();
    for rule in RULES {
        let (Some((verb, path)), Some(method)) = (rule.http, descriptors::method(rule)) else { continue };
        let service = method.parent_service();
        if !tags.iter().any(|t| t["name"] == service.name()) {
            let description = comment(service.parent_file().name(), service.path()).unwrap_or_default();
            tags.push(json!({"name": service.name(), "description": description}));
        }
        let operation = operation(rule, verb, path, &method, &mut schemas);
        let entry = paths.entry(path.to_owned()).or_insert_with(|| json!({}));
        entry[verb.as_str()] = operation;
    }
    let mut components_schemas = schemas.finish();
    components_schemas.insert("Error".into(), error_schema());
    let responses: Map<String, Json> = ERRORS
        .iter()
        .chain([("413", "PayloadTooLarge", "The request body is larger than the route takes (RESOURCE_EXHAUSTED).")].iter())
        .map(|(_, name, text)| {
            let body = json!({"description": text, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}});
            ((*name).to_owned(), body)
        })
        .collect();
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "SEN oversight platform JSON API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": INFO,
        },
        "servers": [{"url": "/"}],
        "tags": tags,
        "paths": paths,
        "components": {
            "schemas": components_schemas,
            "responses": responses,
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
        },
        "security": [{"bearerAuth": []}],
    })
}

const INFO: &str = "Every gRPC method of the sen.v1 services, as JSON. Field names are the proto \
names (lowerCamelCase is accepted on input); every field is written, absent messages and optional \
fields as null; enums by name; 64-bit integers as numbers; dates as YYYY-MM-DD. Errors are \
`{\"error\": {\"code\", \"message\", \"fields\"}}` with the gRPC code name; FAILED_PRECONDITION answers 409.";

fn operation(rule: &Rule, verb: Verb, path: &str, method: &MethodDescriptor, schemas: &mut Schemas) -> Json {
    let input = method.input();
    let upload = method.is_client_streaming();
    let path_names = path_parameters(path);
    let mut parameters: Vec<Json> = path_names.iter().map(|name| path_parameter(&input, name, schemas)).collect();
    if verb == Verb::Get || upload {
        let mut skip: Vec<&str> = path_names.clone();
        if upload {
            skip.push(CHUNK_FIELD);
        }
        query_parameters(&input, "", &skip, schemas, &mut parameters, 0);
    }
    let text = comment(method.parent_file().name(), method.path());
    let mut description = text.map(|t| format!("{t}\n\n")).unwrap_or_default();
    let roles: Vec<String> = rule.roles.iter().map(|r| format!("`{r}`")).collect();
    description.push_str(&format!("Roles admitted: {}.", roles.join(", ")));
    let mut operation = json!({
        "operationId": rule.method,
        "tags": [method.parent_service().name()],
        "summary": text.map_or_else(|| rule.method.to_owned(), summary),
        "parameters": parameters,
        "security": [{"bearerAuth": []}],
    });
    let mut responses = Map::new();
    if method.is_server_streaming() {
        let event = event_name(method);
        description.push_str(&format!(
            "\n\nAnswers server-sent events: each `{event}` event's data is one `{}` as JSON; an `error` event carries the error body and ends the stream.",
            method.output().full_name()
        ));
        let schema = json!({"type": "string", "x-event-data": schemas.message(&method.output())});
        responses.insert(
            "200".into(),
            json!({"description": "A stream of events.", "content": {"text/event-stream": {"schema": schema}}}),
        );
    } else {
        let schema = schemas.message(&method.output());
        responses.insert(
            "200".into(),
            json!({"description": method.output().name(), "content": {"application/json": {"schema": schema}}}),
        );
    }
    if upload {
        description.push_str(&format!(
            "\n\nThe request body is the file itself (at most {}), sent on as it arrives; the other request fields come from the query string.",
            size_in_words(MAX_UPLOAD_BODY)
        ));
        let content = json!({"text/csv": {"schema": {"type": "string", "format": "binary"}}});
        operation["requestBody"] = json!({"required": true, "content": content});
    } else if verb != Verb::Get {
        operation["requestBody"] = json!({
            "required": false,
            "description": format!(
                "The {} message (at most {}); an empty body is the empty message. Fields named in the path are taken from the path.",
                input.full_name(),
                size_in_words(MAX_JSON_BODY)
            ),
            "content": {"application/json": {"schema": schemas.message(&input)}},
        });
    }
    let mut errors: Vec<(&str, &str, &str)> = ERRORS.to_vec();
    if verb != Verb::Get {
        errors.push(("413", "PayloadTooLarge", ""));
    }
    for (status, name, _) in errors {
        responses.insert(status.into(), json!({"$ref": format!("#/components/responses/{name}")}));
    }
    operation["description"] = json!(description);
    operation["responses"] = Json::Object(responses);
    operation
}

/// The `{name}` segments of a route.
pub fn path_parameters(path: &str) -> Vec<&str> {
    path.split('/').filter_map(|segment| segment.strip_prefix('{')?.strip_suffix('}')).collect()
}

fn path_parameter(input: &MessageDescriptor, name: &str, schemas: &mut Schemas) -> Json {
    let mut parameter = json!({"name": name, "in": "path", "required": true});
    match nested_field(input, name) {
        Some(field) => {
            let mut schema = schemas.field(&field);
            if let Some(object) = schema.as_object_mut() {
                object.remove("nullable");
            }
            parameter["schema"] = schema;
            if let Some(text) = field_comment(&field) {
                parameter["description"] = json!(text);
            }
        }
        None => parameter["schema"] = json!({"type": "string"}),
    }
    parameter
}

/// The field a dotted name reaches from `message`.
pub fn nested_field(message: &MessageDescriptor, dotted: &str) -> Option<prost_reflect::FieldDescriptor> {
    let mut current = message.clone();
    let mut segments = dotted.split('.').peekable();
    while let Some(segment) = segments.next() {
        let field = find_field(&current, segment)?;
        if segments.peek().is_none() {
            return Some(field);
        }
        let Kind::Message(inner) = field.kind() else { return None };
        current = inner;
    }
    None
}

/// Every field a query string can set, nested messages flattened with dots.
/// Repeated messages and maps cannot be written in a URL and are left out.
fn query_parameters(
    message: &MessageDescriptor,
    prefix: &str,
    skip: &[&str],
    schemas: &mut Schemas,
    parameters: &mut Vec<Json>,
    depth: usize,
) {
    for field in message.fields() {
        let name = child(prefix, field.name());
        if skip.contains(&name.as_str()) || field.is_map() {
            continue;
        }
        let flat = match field.kind() {
            Kind::Message(m) => is_date(&m) || is_well_known(&m),
            _ => true,
        };
        if !flat {
            if let (false, Kind::Message(inner)) = (field.is_list(), field.kind()) {
                // Deep enough for any real request; stops a self-referencing message.
                if depth < 4 {
                    query_parameters(&inner, &name, skip, schemas, parameters, depth + 1);
                }
            }
            continue;
        }
        let mut parameter = json!({"name": name, "in": "query", "required": false, "schema": schemas.field(&field)});
        if field.is_list() {
            parameter["style"] = json!("form");
            parameter["explode"] = json!(true);
        }
        if let Some(text) = field_comment(&field) {
            parameter["description"] = json!(text);
        }
        parameters.push(parameter);
    }
}

/// The first sentence of a comment.
fn summary(text: &str) -> String {
    let end = text.find(". ").map_or(text.len(), |i| i + 1);
    text[..end].to_owned()
}

fn error_schema() -> Json {
    json!({
        "type": "object",
        "required": ["error"],
        "properties": {"error": {
            "type": "object",
            "required": ["code", "message", "fields"],
            "properties": {
                "code": {"type": "string", "enum": ERROR_CODES, "description": "The gRPC status code name."},
                "message": {"type": "string"},
                "fields": {"type": "array", "description": "Each bad field, for INVALID_ARGUMENT; empty otherwise.", "items": {
                    "type": "object",
                    "required": ["field", "description"],
                    "properties": {
                        "field": {"type": "string", "example": "referral.consent.given_on"},
                        "description": {"type": "string"},
                    },
                }},
            },
        }},
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refs<'a>(value: &'a Json, found: &mut Vec<&'a str>) {
        match value {
            Json::Object(object) => {
                for (key, inner) in object {
                    match (key.as_str(), inner) {
                        ("$ref", Json::String(target)) => found.push(target),
                        _ => refs(inner, found),
                    }
                }
            }
            Json::Array(items) => items.iter().for_each(|item| refs(item, found)),
            _ => {}
        }
    }

    #[test]
    fn every_routed_rule_has_an_operation_with_its_roles_and_bearer_security() {
        let document = openapi();
        let mut ids = Vec::new();
        for rule in RULES {
            let Some((verb, path)) = rule.http else { continue };
            let operation = &document["paths"][path][verb.as_str()];
            assert_eq!(operation["operationId"], rule.method, "{path}");
            assert_eq!(operation["security"], json!([{"bearerAuth": []}]), "{path}");
            let description = operation["description"].as_str().unwrap();
            for role in rule.roles {
                assert!(description.contains(&format!("`{role}`")), "{} does not name {role}", rule.method);
            }
            assert!(operation["responses"]["200"].is_object());
            assert!(operation["responses"]["400"].is_object());
            ids.push(rule.method);
        }
        let count = ids.len();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), count, "operationIds are unique");
        assert_eq!(document["components"]["securitySchemes"]["bearerAuth"]["bearerFormat"], "JWT");
    }

    #[test]
    fn every_path_parameter_is_in_its_path_and_a_field_of_the_request() {
        let document = openapi();
        for rule in RULES {
            let (Some((verb, path)), Some(method)) = (rule.http, descriptors::method(rule)) else { continue };
            let declared: Vec<&str> = document["paths"][path][verb.as_str()]["parameters"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|p| p["in"] == "path")
                .map(|p| p["name"].as_str().unwrap())
                .collect();
            assert_eq!(declared, path_parameters(path), "{path}");
            for name in declared {
                assert!(
                    nested_field(&method.input(), name).is_some(),
                    "{path}: {name} is not a field of {}",
                    method.input().full_name()
                );
            }
        }
    }

    #[test]
    fn every_ref_resolves() {
        let document = openapi();
        let mut found = Vec::new();
        refs(&document, &mut found);
        assert!(found.len() > 100);
        for target in found {
            let pointer = target.strip_prefix('#').unwrap();
            assert!(document.pointer(pointer).is_some(), "{target} does not resolve");
        }
    }

    #[test]
    fn dates_int64_enums_and_streams_are_described_as_they_travel() {
        let document = openapi();
        let schemas = &document["components"]["schemas"];
        assert_eq!(schemas["sen.v1.Date"]["type"], "string");
        assert_eq!(schemas["sen.v1.Date"]["format"], "date");
        assert_eq!(schemas["sen.v1.Referral"]["properties"]["id"], json!({"type": "integer", "format": "int64"}));
        assert_eq!(schemas["sen.v1.ReferralStatus"]["enum"][1], "REFERRAL_STATUS_SUBMITTED");

        let list = &document["paths"]["/api/v1/referrals"]["get"];
        let names: Vec<&str> =
            list["parameters"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
        assert!(
            names.contains(&"page.page_size") && names.contains(&"as_of") && names.contains(&"status"),
            "{names:?}"
        );
        assert_eq!(list["summary"], "ListReferrals");

        let submit = &document["paths"]["/api/v1/referrals"]["post"];
        assert!(submit["summary"].as_str().unwrap().starts_with("Submits a referral"));
        assert_eq!(
            submit["requestBody"]["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/sen.v1.SubmitReferralRequest"
        );

        let watch = &document["paths"]["/api/v1/referrals/watch"]["get"];
        assert!(watch["responses"]["200"]["content"]["text/event-stream"].is_object());
        let import = &document["paths"]["/api/v1/schools/import"]["post"];
        assert!(import["requestBody"]["content"]["text/csv"].is_object());
        let import_params: Vec<&str> =
            import["parameters"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
        assert_eq!(import_params, ["dry_run"]);
    }
}
