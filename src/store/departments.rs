//! `rocketchat_livechat_department`: department documents. Lists exclude
//! Rocket.Chat Enterprise units (`type: 'u'`), which share the collection.

use futures::TryStreamExt;
use mongodb::bson::{Bson, Document, doc};
use mongodb::options::IndexOptions;
use mongodb::{Collection, IndexModel};
use regex::escape;

use super::case_insensitive;

use super::json::{document_to_json, field_to_bson};
use super::{Store, now, num};
use crate::domain::department::{Department, FieldValue};
use crate::domain::listing::{ArchivedFilter, DepartmentFilter, Sort};
use crate::domain::pagination::Page;
use crate::error::Error;

pub const COLLECTION: &str = "rocketchat_livechat_department";

/// At most this many departments in answers that Rocket.Chat does not
/// paginate (autocomplete, listByIds, the widget configuration).
pub const UNPAGED_LIMIT: i64 = 100;

pub(super) fn indexes() -> Vec<IndexModel> {
    vec![
        // Lists sort by name with `_id` as the tie-break that keeps pages
        // stable: the first page of 100,000 departments reads 50 index
        // entries instead of sorting the collection.
        IndexModel::builder()
            .keys(doc! {"name": 1, "_id": 1})
            .build(),
        IndexModel::builder()
            .keys(doc! {"enabled": 1, "name": 1, "_id": 1})
            .build(),
        // Cleared when the department they name is deleted.
        IndexModel::builder()
            .keys(doc! {"fallbackForwardDepartment": 1})
            .options(IndexOptions::builder().sparse(true).build())
            .build(),
        IndexModel::builder()
            .keys(doc! {"departmentsAllowedToForward": 1})
            .options(IndexOptions::builder().sparse(true).build())
            .build(),
    ]
}

/// Never a Rocket.Chat Enterprise unit.
fn departments_only() -> Document {
    doc! {"type": {"$ne": "u"}}
}

fn archived_clause(filter: ArchivedFilter) -> Option<Bson> {
    match filter {
        ArchivedFilter::Hide => Some(Bson::Document(doc! {"$ne": true})),
        ArchivedFilter::Include => None,
        ArchivedFilter::Only => Some(Bson::Boolean(true)),
    }
}

/// The MongoDB filter of a list; every client value is a literal.
pub(crate) fn list_filter(filter: &DepartmentFilter) -> Document {
    let mut query = departments_only();
    if let Some(archived) = archived_clause(filter.archived) {
        query.insert("archived", archived);
    }
    if let Some(enabled) = filter.enabled {
        query.insert("enabled", enabled);
    }
    if let Some(text) = filter.text.as_deref().filter(|t| !t.is_empty()) {
        query.insert("name", case_insensitive(escape(text)));
    }
    if let Some(id) = &filter.exclude_id {
        query.insert("_id", doc! {"$ne": id});
    }
    query
}

pub(crate) fn sort_document(sort: &Sort) -> Document {
    let mut d = Document::new();
    for (field, direction) in sort.keys() {
        d.insert(field.clone(), *direction);
    }
    // A unique tie-break keeps pages stable; it follows the direction of
    // the first key so `{name, _id}` indexes serve both directions.
    if !d.contains_key("_id") {
        let direction = sort.keys().first().map(|(_, d)| *d).unwrap_or(1);
        d.insert("_id", direction);
    }
    d
}

/// The index that serves a sort by name alone. Named explicitly because
/// not every MongoDB-compatible server's planner picks an index for a
/// sort whose fields the filter does not mention.
pub(crate) fn name_sort_hint(sort: &Sort) -> Option<Document> {
    match sort.keys() {
        [(field, _)] if field == "name" => Some(doc! {"name": 1, "_id": 1}),
        _ => None,
    }
}

pub(crate) fn to_department(mut d: Document) -> Department {
    let take_str = |d: &mut Document, key: &str| match d.remove(key) {
        Some(Bson::String(s)) => s,
        _ => String::new(),
    };
    let id = match d.remove("_id") {
        Some(Bson::String(s)) => s,
        Some(Bson::ObjectId(o)) => o.to_hex(),
        _ => String::new(),
    };
    let name = take_str(&mut d, "name");
    let email = take_str(&mut d, "email");
    let fallback = take_str(&mut d, "fallbackForwardDepartment");
    let flag = |d: &Document, key: &str| d.get_bool(key).unwrap_or(false);
    let enabled = flag(&d, "enabled");
    let archived = flag(&d, "archived");
    let show_on_registration = flag(&d, "showOnRegistration");
    let show_on_offline_form = flag(&d, "showOnOfflineForm");
    for key in [
        "enabled",
        "archived",
        "showOnRegistration",
        "showOnOfflineForm",
    ] {
        d.remove(key);
    }
    let number = |d: &mut Document, key: &str| d.remove(key).as_ref().and_then(num::read_i64);
    let num_agents = number(&mut d, "numAgents").unwrap_or(0);
    let max = number(&mut d, "maxNumberSimultaneousChat");
    Department {
        id,
        name,
        enabled,
        archived,
        email,
        show_on_registration,
        show_on_offline_form,
        num_agents,
        max_number_simultaneous_chat: max,
        fallback_forward_department: Some(fallback).filter(|f| !f.is_empty()),
        other: document_to_json(d),
    }
}

/// The stored form of client-set fields.
pub(crate) fn fields_document(fields: &[(String, FieldValue)]) -> Document {
    fields
        .iter()
        .map(|(k, v)| (k.clone(), field_to_bson(v)))
        .collect()
}

pub struct Departments {
    pub(super) coll: Collection<Document>,
}

impl Departments {
    pub(super) fn new(store: &Store) -> Self {
        Departments {
            coll: store.collection(COLLECTION),
        }
    }

    /// Adds `delta` to the department's `numAgents`.
    pub async fn add_to_num_agents(&self, department_id: &str, delta: i32) -> Result<(), Error> {
        self.coll
            .update_one(
                doc! {"_id": department_id},
                doc! {"$inc": {"numAgents": delta}, "$set": {"_updatedAt": now()}},
            )
            .await?;
        Ok(())
    }

    /// The department with this id, archived or not (units included, as
    /// Rocket.Chat's `findOneById`).
    pub async fn find_by_id(&self, id: &str) -> Result<Option<Department>, Error> {
        Ok(self
            .coll
            .find_one(doc! {"_id": id})
            .await?
            .map(to_department))
    }

    /// A page of departments and the total matching the filter.
    pub async fn list(
        &self,
        filter: &DepartmentFilter,
        sort: &Sort,
        page: Page,
    ) -> Result<(Vec<Department>, u64), Error> {
        let query = list_filter(filter);
        let total = self.coll.count_documents(query.clone()).await?;
        let mut find = self
            .coll
            .find(query)
            .sort(sort_document(sort))
            .skip(page.offset)
            .limit(page.count as i64);
        if let Some(hint) = name_sort_hint(sort) {
            find = find.hint(mongodb::options::Hint::Keys(hint));
        }
        let found: Vec<Document> = find.await?.try_collect().await?;
        Ok((found.into_iter().map(to_department).collect(), total))
    }

    /// `(id, name)` of departments whose name starts with `term`
    /// (case-insensitive), leaving out `exceptions`, by name.
    pub async fn autocomplete(
        &self,
        term: &str,
        exceptions: &[String],
        archived: ArchivedFilter,
    ) -> Result<Vec<(String, String)>, Error> {
        let mut query = departments_only();
        query.insert(
            "name",
            case_insensitive(format!("^{}", escape(term.trim()))),
        );
        if !exceptions.is_empty() {
            query.insert("_id", doc! {"$nin": exceptions});
        }
        if let Some(a) = archived_clause(archived) {
            query.insert("archived", a);
        }
        let found: Vec<Document> = self
            .coll
            .find(query)
            .projection(doc! {"_id": 1, "name": 1})
            .sort(doc! {"name": 1, "_id": 1})
            .limit(UNPAGED_LIMIT)
            .await?
            .try_collect()
            .await?;
        Ok(found
            .into_iter()
            .map(to_department)
            .map(|d| (d.id, d.name))
            .collect())
    }

    /// The departments with these ids (unknown ids left out), by name.
    pub async fn list_by_ids(&self, ids: &[String]) -> Result<Vec<Department>, Error> {
        let found: Vec<Document> = self
            .coll
            .find(doc! {"_id": {"$in": ids}})
            .sort(doc! {"name": 1, "_id": 1})
            .limit(UNPAGED_LIMIT)
            .await?
            .try_collect()
            .await?;
        Ok(found.into_iter().map(to_department).collect())
    }

    /// Enabled, not archived departments that visitors may pick, by name.
    pub async fn list_public(&self) -> Result<Vec<Department>, Error> {
        let mut query = departments_only();
        query.insert("enabled", true);
        query.insert("archived", doc! {"$ne": true});
        let found: Vec<Document> = self
            .coll
            .find(query)
            .projection(doc! {"_id": 1, "name": 1, "showOnRegistration": 1, "showOnOfflineForm": 1, "enabled": 1})
            .sort(doc! {"name": 1, "_id": 1})
            .limit(UNPAGED_LIMIT * 10)
            .await?
            .try_collect()
            .await?;
        Ok(found.into_iter().map(to_department).collect())
    }
}
