//! The OpenAPI schema of Comm100's seven switches, read off their serde
//! form: the names are written once, in
//! `domain::auto_distribution::Switches`, and the domain carries no
//! OpenAPI derive.

use serde_json::Value;
use utoipa::openapi::schema::{ObjectBuilder, Schema, SchemaType, Type};

use crate::domain::auto_distribution::{AutoDistributionConfig, ChatLimit, Method};

/// Every switch, as the GET answer shows them.
pub fn set() -> Schema {
    switches(true)
}

/// Any of the switches, as a PUT changes them: each may be left out or
/// null.
pub fn change() -> Schema {
    switches(false)
}

/// Each switch's kind is its default value's JSON kind; a string is a
/// method (the only string switch), a number a chat limit.
fn switches(all: bool) -> Schema {
    let defaults = serde_json::to_value(AutoDistributionConfig::default().switches)
        .expect("the switches serialize");
    let mut object = ObjectBuilder::new();
    for (key, default) in defaults.as_object().into_iter().flatten() {
        let (kind, property) = match default {
            Value::Bool(_) => (Type::Boolean, ObjectBuilder::new()),
            Value::String(_) => {
                let mut names: Vec<Value> = Method::ALL.iter().map(|m| m.as_str().into()).collect();
                if !all {
                    names.push(Value::Null);
                }
                (Type::String, ObjectBuilder::new().enum_values(Some(names)))
            }
            _ => (
                Type::Integer,
                ObjectBuilder::new()
                    .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
                        utoipa::openapi::KnownFormat::Int32,
                    )))
                    .minimum(Some(0))
                    .maximum(Some(ChatLimit::MAX)),
            ),
        };
        let property = if all {
            property.schema_type(kind)
        } else {
            property.schema_type(SchemaType::from_iter([kind, Type::Null]))
        };
        object = object.property(key, property);
        if all {
            object = object.required(key);
        }
    }
    Schema::Object(object.build())
}
