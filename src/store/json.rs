//! Stored documents as the JSON clients read: dates as ISO-8601 strings
//! with milliseconds (`2016-12-13T17:22:19.109Z`, as Rocket.Chat answers),
//! ids and numbers as plain JSON.

use mongodb::bson::{Bson, Document};
use serde_json::{Map, Value, json};

use crate::domain::department::FieldValue;

pub(crate) fn to_json(value: Bson) -> Value {
    match value {
        Bson::Double(f) => json!(f),
        Bson::String(s) => Value::String(s),
        Bson::Array(items) => Value::Array(items.into_iter().map(to_json).collect()),
        Bson::Document(d) => Value::Object(document_to_json(d)),
        Bson::Boolean(b) => Value::Bool(b),
        Bson::Null | Bson::Undefined => Value::Null,
        Bson::Int32(i) => json!(i),
        Bson::Int64(i) => json!(i),
        Bson::DateTime(t) => Value::String(iso(t)),
        Bson::ObjectId(o) => Value::String(o.to_hex()),
        other => other.into_relaxed_extjson(),
    }
}

pub(crate) fn document_to_json(d: Document) -> Map<String, Value> {
    d.into_iter().map(|(k, v)| (k, to_json(v))).collect()
}

pub(crate) fn iso(t: mongodb::bson::DateTime) -> String {
    t.to_chrono()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

pub(crate) fn field_to_bson(value: &FieldValue) -> Bson {
    match value {
        FieldValue::Str(s) => Bson::String(s.clone()),
        FieldValue::Int(i) => Bson::Int64(*i),
        FieldValue::Bool(b) => Bson::Boolean(*b),
        FieldValue::StrList(items) => {
            Bson::Array(items.iter().cloned().map(Bson::String).collect())
        }
    }
}
