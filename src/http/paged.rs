//! The answer to a paged list, in Rocket.Chat's shape:
//! `{<items>: [...], count, offset, total, success: true}`.

use actix_web::HttpResponse;
use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::domain::pagination::Page;

/// `items` under `key`, with the page's place in the whole list.
pub fn paged<T: Serialize>(key: &str, items: Vec<T>, page: Page, total: u64) -> HttpResponse {
    let mut body = Map::new();
    body.insert("count".into(), json!(items.len()));
    body.insert(key.into(), json!(items));
    body.insert("offset".into(), json!(page.offset));
    body.insert("total".into(), json!(total));
    body.insert("success".into(), Value::Bool(true));
    HttpResponse::Ok().json(Value::Object(body))
}
