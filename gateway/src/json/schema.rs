//! OpenAPI schemas for protobuf messages and enums, written from the descriptors
//! and their comments the same way the transcoder reads and writes JSON: proto
//! field names, enums by name, 64-bit integers as integers, `sen.v1.Date` as a
//! `date` string, absent optional fields and messages as `null`.

use std::collections::{BTreeMap, HashSet};

use prost_reflect::{EnumDescriptor, FieldDescriptor, Kind, MessageDescriptor};
use serde_json::{Map, Value as Json, json};

use super::descriptors::{comment, is_date, is_well_known};

/// The component schemas referenced so far, written out on [`Schemas::finish`].
#[derive(Default)]
pub struct Schemas {
    queued: HashSet<String>,
    pending: Vec<Named>,
}

enum Named {
    Message(MessageDescriptor),
    Enum(EnumDescriptor),
}

impl Schemas {
    /// A `$ref` to the schema of `message`, which is then written with the rest.
    pub fn message(&mut self, message: &MessageDescriptor) -> Json {
        if self.queued.insert(message.full_name().to_owned()) {
            self.pending.push(Named::Message(message.clone()));
        }
        reference(message.full_name())
    }

    fn enumeration(&mut self, descriptor: &EnumDescriptor) -> Json {
        if self.queued.insert(descriptor.full_name().to_owned()) {
            self.pending.push(Named::Enum(descriptor.clone()));
        }
        reference(descriptor.full_name())
    }

    /// Every schema referenced, and every one those reference, by full name.
    pub fn finish(mut self) -> Map<String, Json> {
        let mut written = BTreeMap::new();
        while let Some(named) = self.pending.pop() {
            let (name, schema) = match named {
                Named::Message(m) => (m.full_name().to_owned(), self.message_schema(&m)),
                Named::Enum(e) => (e.full_name().to_owned(), enum_schema(&e)),
            };
            written.insert(name, schema);
        }
        written.into_iter().collect()
    }

    /// The schema of one field as it appears in a body or a parameter.
    pub fn field(&mut self, field: &FieldDescriptor) -> Json {
        let schema = if field.is_map() {
            let value = match field.kind() {
                Kind::Message(entry) => self.kind(&entry.map_entry_value_field().kind()),
                other => self.kind(&other),
            };
            json!({"type": "object", "additionalProperties": value})
        } else if field.is_list() {
            json!({"type": "array", "items": self.kind(&field.kind())})
        } else {
            self.kind(&field.kind())
        };
        let nullable = field.supports_presence() && !field.is_list();
        decorate(schema, field_comment(field), nullable)
    }

    fn kind(&mut self, kind: &Kind) -> Json {
        match kind {
            Kind::Double => json!({"type": "number", "format": "double"}),
            Kind::Float => json!({"type": "number", "format": "float"}),
            Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => json!({"type": "integer", "format": "int32"}),
            Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 => json!({"type": "integer", "format": "int64"}),
            Kind::Uint32 | Kind::Fixed32 => {
                json!({"type": "integer", "format": "int64", "minimum": 0, "maximum": u32::MAX})
            }
            Kind::Uint64 | Kind::Fixed64 => json!({"type": "integer", "format": "int64", "minimum": 0}),
            Kind::Bool => json!({"type": "boolean"}),
            Kind::String => json!({"type": "string"}),
            Kind::Bytes => json!({"type": "string", "format": "byte"}),
            Kind::Enum(e) => self.enumeration(e),
            Kind::Message(m) => self.message(m),
        }
    }

    fn message_schema(&mut self, message: &MessageDescriptor) -> Json {
        let description = comment(message.parent_file().name(), message.path());
        if is_date(message) {
            let text = description.map_or(String::new(), |d| format!("{d} "));
            return json!({"type": "string", "format": "date", "description": format!("{text}Written YYYY-MM-DD."), "example": "2026-11-24"});
        }
        if is_well_known(message) {
            return well_known_schema(message);
        }
        let properties: Map<String, Json> =
            message.fields().map(|field| (field.name().to_owned(), self.field(&field))).collect();
        let mut schema = json!({"type": "object", "properties": properties});
        if let Some(text) = description {
            schema["description"] = json!(text);
        }
        schema
    }
}

fn reference(name: &str) -> Json {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

/// Adds a description and nullability; a `$ref` takes no siblings in OpenAPI
/// 3.0, so it is wrapped in `allOf` when it needs them.
fn decorate(mut schema: Json, description: Option<&str>, nullable: bool) -> Json {
    if description.is_none() && !nullable {
        return schema;
    }
    if schema.get("$ref").is_some() {
        schema = json!({"allOf": [schema]});
    }
    if let Some(text) = description {
        schema["description"] = json!(text);
    }
    if nullable {
        schema["nullable"] = json!(true);
    }
    schema
}

/// The comment on a field, as the proto file has it.
pub fn field_comment(field: &FieldDescriptor) -> Option<&'static str> {
    comment(field.parent_file().name(), field.path())
}

fn enum_schema(descriptor: &EnumDescriptor) -> Json {
    let names: Vec<String> = descriptor.values().map(|v| v.name().to_owned()).collect();
    let values: Vec<String> = descriptor
        .values()
        .filter_map(|value| {
            let text = comment(value.parent_file().name(), value.path())?;
            Some(format!("- `{}`: {text}", value.name()))
        })
        .collect();
    let paragraphs: Vec<String> = comment(descriptor.parent_file().name(), descriptor.path())
        .map(str::to_owned)
        .into_iter()
        .chain((!values.is_empty()).then(|| values.join("\n")))
        .collect();
    let mut schema = json!({"type": "string", "enum": names});
    if !paragraphs.is_empty() {
        schema["description"] = json!(paragraphs.join("\n\n"));
    }
    schema
}

fn well_known_schema(message: &MessageDescriptor) -> Json {
    match message.name() {
        "Timestamp" => json!({"type": "string", "format": "date-time"}),
        "Duration" => json!({"type": "string", "example": "1.5s"}),
        "FieldMask" => json!({"type": "string"}),
        "Empty" => json!({"type": "object"}),
        "BoolValue" => json!({"type": "boolean", "nullable": true}),
        "StringValue" | "BytesValue" => json!({"type": "string", "nullable": true}),
        "Int32Value" | "UInt32Value" | "Int64Value" | "UInt64Value" => json!({"type": "integer", "nullable": true}),
        "FloatValue" | "DoubleValue" => json!({"type": "number", "nullable": true}),
        _ => json!({"description": format!("{} in its protobuf JSON form", message.full_name())}),
    }
}
