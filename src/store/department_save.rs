//! Writes that touch a department and its agent links together.
//!
//! Every save is checked in full first (the department exists, the
//! fallback department exists, every agent is a livechat agent …), then
//! written in one MongoDB transaction. Where the server has no
//! transactions the same writes run one by one, in an order where every
//! intermediate state is valid: the department document first (with
//! `numAgents: 0` on create), then each link, each followed by `$inc
//! numAgents` only when that upsert really inserted (or that delete really
//! deleted). An interruption can therefore leave fewer links than asked,
//! but never a link without its department or a wrong `numAgents`.

use mongodb::ClientSession;
use mongodb::bson::{Document, doc};

use super::department_agents::LinkDoc;
use super::departments::fields_document;
use super::routing_fields::link_fields;
use super::{Store, is_duplicate_key, now, transaction};
use crate::domain::ValidationError;
use crate::domain::agent_link::{AgentLinkSpec, AgentLinkSpecs, starting_count};
use crate::domain::department::{Department, DepartmentPatch, NewDepartment};
use crate::domain::id::new_id;
use crate::domain::user::User;
use crate::error::Error;

/// Runs a driver action inside the session when there is one.
macro_rules! run {
    ($action:expr, $session:expr) => {
        match $session.as_deref_mut() {
            Some(s) => $action.session(s).await,
            None => $action.await,
        }
    };
}

/// The links a save upserts and removes, checked and ready.
#[derive(Default)]
struct LinkPlan {
    upserts: Vec<(AgentLinkSpec, User)>,
    removes: Vec<String>,
    /// `count` of new links that name none (see [`starting_count`]).
    start_count: i64,
}

enum Write<'a> {
    Create {
        id: String,
        fields: Document,
        active: bool,
        links: LinkPlan,
    },
    Update {
        id: &'a str,
        fields: Document,
        /// Set when `enabled` was sent: the links' new `departmentEnabled`.
        links_enabled: Option<bool>,
        active: bool,
        links: LinkPlan,
    },
    Agents {
        id: &'a str,
        active: bool,
        links: LinkPlan,
    },
    SetArchived {
        id: &'a str,
        archived: bool,
        links_enabled: bool,
    },
    Delete {
        id: &'a str,
    },
}

impl Store {
    /// Runs `write` in a transaction when the server has them, else step
    /// by step. Answers whether the department was found.
    async fn write(&self, write: &Write<'_>) -> Result<bool, Error> {
        transaction::run(self, async |session| apply(self, write, session).await).await
    }

    /// Creates a department with its agents; answers its id.
    pub async fn create_department(
        &self,
        new: &NewDepartment,
        agents: &AgentLinkSpecs,
        strict_counts: bool,
    ) -> Result<String, Error> {
        if let Some(fallback) = &new.fallback_forward_department {
            self.check_fallback_exists(fallback).await?;
        }
        let id = new_id();
        let links = self
            .plan_links(&id, "agents", agents, &[], strict_counts)
            .await?;
        let write = Write::Create {
            id: id.clone(),
            fields: fields_document(new.fields()),
            active: new.enabled,
            links,
        };
        self.write(&write).await?;
        Ok(id)
    }

    /// Updates a department's fields and, when given, upserts agents
    /// (agents not listed are kept).
    pub async fn update_department(
        &self,
        id: &str,
        patch: &DepartmentPatch,
        agents: Option<&AgentLinkSpecs>,
        strict_counts: bool,
    ) -> Result<(), Error> {
        let current = self.existing_department(id).await?;
        patch.check_against(&current).map_err(Error::from)?;
        if let Some(fallback) = &patch.fallback_forward_department {
            self.check_fallback_exists(fallback).await?;
        }
        let links = match agents {
            Some(a) => self.plan_links(id, "agents", a, &[], strict_counts).await?,
            None => LinkPlan::default(),
        };
        let write = Write::Update {
            id,
            fields: fields_document(patch.fields()),
            links_enabled: patch.links_enabled_after(&current),
            active: patch.active_after(&current),
            links,
        };
        if !self.write(&write).await? {
            return Err(Error::department_not_found());
        }
        Ok(())
    }

    /// Removes, then upserts, agents of a department.
    pub async fn update_department_agents(
        &self,
        id: &str,
        upsert: &AgentLinkSpecs,
        remove: &[String],
        strict_counts: bool,
    ) -> Result<(), Error> {
        let current = self.existing_department(id).await?;
        let links = self
            .plan_links(id, "upsert", upsert, remove, strict_counts)
            .await?;
        let write = Write::Agents {
            id,
            active: current.is_active(),
            links,
        };
        if !self.write(&write).await? {
            return Err(Error::department_not_found());
        }
        Ok(())
    }

    /// Archives (`enabled` becomes false) or unarchives (`enabled` stays
    /// as it is) a department; its links follow. Answers whether it exists.
    pub async fn set_department_archived(&self, id: &str, archived: bool) -> Result<bool, Error> {
        let Some(current) = self.departments().find_by_id(id).await? else {
            return Ok(false);
        };
        let links_enabled = current.links_enabled_when_archived(archived);
        self.write(&Write::SetArchived {
            id,
            archived,
            links_enabled,
        })
        .await
    }

    /// Deletes a department, its links and every reference other
    /// departments hold to it. Answers whether it existed.
    pub async fn delete_department(&self, id: &str) -> Result<bool, Error> {
        self.write(&Write::Delete { id }).await
    }

    async fn existing_department(&self, id: &str) -> Result<Department, Error> {
        self.departments()
            .find_by_id(id)
            .await?
            .ok_or_else(Error::department_not_found)
    }

    async fn check_fallback_exists(&self, fallback: &str) -> Result<(), Error> {
        if self.departments().find_by_id(fallback).await?.is_none() {
            return Err(Error::fallback_department_not_found());
        }
        Ok(())
    }

    /// Checks that every agent to upsert is a livechat agent and works out
    /// the starting `count` of new links, before anything is written.
    async fn plan_links(
        &self,
        department_id: &str,
        field: &str,
        upsert: &AgentLinkSpecs,
        remove: &[String],
        strict_counts: bool,
    ) -> Result<LinkPlan, Error> {
        if upsert.is_empty() {
            return Ok(LinkPlan {
                removes: remove.to_vec(),
                ..LinkPlan::default()
            });
        }
        let ids = upsert.agent_ids();
        let users = self.users().find_by_ids(&ids).await?;
        let mut upserts = Vec::with_capacity(ids.len());
        let mut refused = Vec::new();
        for spec in upsert.iter() {
            match users
                .iter()
                .find(|u| u.id == spec.agent_id && u.is_livechat_agent())
            {
                Some(user) => upserts.push((spec.clone(), user.clone())),
                None => refused.push(spec.agent_id.clone()),
            }
        }
        if !refused.is_empty() {
            return Err(ValidationError::new(
                field,
                "livechat-agent",
                format!("not livechat agents: {}", refused.join(", ")),
            )
            .into());
        }
        let needs_start = upserts.iter().any(|(s, _)| s.count.is_none());
        let lowest = if needs_start && !strict_counts {
            self.department_agents()
                .coll
                .find_one(doc! {
                    "departmentId": department_id,
                    "eligible": true,
                    "agentId": {"$nin": &ids},
                })
                .sort(doc! {"count": 1})
                .await?
                .map(|l: LinkDoc| l.count)
        } else {
            None
        };
        Ok(LinkPlan {
            upserts,
            removes: remove.to_vec(),
            start_count: starting_count(lowest, strict_counts),
        })
    }
}

/// Performs the writes, in the order the module doc explains.
async fn apply(
    store: &Store,
    write: &Write<'_>,
    session: &mut Option<&mut ClientSession>,
) -> Result<bool, mongodb::error::Error> {
    let departments = store.departments().coll;
    let links = store.department_agents().coll.clone_with_type::<Document>();
    match write {
        Write::Create {
            id,
            fields,
            active,
            links: plan,
        } => {
            let mut document = fields.clone();
            document.insert("_id", id.as_str());
            document.insert("numAgents", 0_i64);
            document.insert("_updatedAt", now());
            run!(departments.insert_one(document), session)?;
            apply_links(&departments, &links, id, *active, plan, session).await?;
            Ok(true)
        }
        Write::Update {
            id,
            fields,
            links_enabled,
            active,
            links: plan,
        } => {
            let mut set = fields.clone();
            set.insert("_updatedAt", now());
            let updated = run!(
                departments.update_one(doc! {"_id": *id}, doc! {"$set": set}),
                session
            )?;
            if updated.matched_count == 0 {
                return Ok(false);
            }
            if let Some(enabled) = links_enabled {
                set_links_enabled(&links, id, *enabled, session).await?;
            }
            apply_links(&departments, &links, id, *active, plan, session).await?;
            Ok(true)
        }
        Write::Agents {
            id,
            active,
            links: plan,
        } => {
            apply_links(&departments, &links, id, *active, plan, session).await?;
            Ok(true)
        }
        Write::SetArchived {
            id,
            archived,
            links_enabled,
        } => {
            let mut set = doc! {"archived": *archived, "_updatedAt": now()};
            if *archived {
                set.insert("enabled", false);
            }
            let updated = run!(
                departments.update_one(doc! {"_id": *id}, doc! {"$set": set}),
                session
            )?;
            if updated.matched_count == 0 {
                return Ok(false);
            }
            set_links_enabled(&links, id, *links_enabled, session).await?;
            Ok(true)
        }
        Write::Delete { id } => {
            let deleted = run!(departments.delete_one(doc! {"_id": *id}), session)?;
            if deleted.deleted_count == 0 {
                return Ok(false);
            }
            run!(links.delete_many(doc! {"departmentId": *id}), session)?;
            run!(
                departments.update_many(
                    doc! {"fallbackForwardDepartment": *id},
                    doc! {"$unset": {"fallbackForwardDepartment": 1}, "$set": {"_updatedAt": now()}},
                ),
                session
            )?;
            run!(
                departments.update_many(
                    doc! {"departmentsAllowedToForward": *id},
                    doc! {"$pull": {"departmentsAllowedToForward": *id}, "$set": {"_updatedAt": now()}},
                ),
                session
            )?;
            // Rooms and waiting inquiries forget the department, as
            // Rocket.Chat's removal does.
            let rooms = store.collection::<Document>(super::rooms::COLLECTION);
            run!(
                rooms.update_many(
                    doc! {"departmentId": *id},
                    doc! {"$unset": {"departmentId": 1, "departmentAncestors": 1}, "$set": {"_updatedAt": now()}},
                ),
                session
            )?;
            let inquiries = store.collection::<Document>(super::rooms::INQUIRIES);
            run!(
                inquiries.update_many(
                    doc! {"department": *id},
                    doc! {"$unset": {"department": 1}, "$set": {"_updatedAt": now()}},
                ),
                session
            )?;
            Ok(true)
        }
    }
}

async fn set_links_enabled(
    links: &mongodb::Collection<Document>,
    department_id: &str,
    enabled: bool,
    session: &mut Option<&mut ClientSession>,
) -> Result<(), mongodb::error::Error> {
    run!(
        links.update_many(
            doc! {"departmentId": department_id, "departmentEnabled": {"$ne": enabled}},
            doc! {"$set": {"departmentEnabled": enabled, "_updatedAt": now()}},
        ),
        session
    )?;
    Ok(())
}

/// Removes, then upserts, the planned links; `numAgents` moves by one for
/// each link this call really inserted or deleted, so concurrent saves of
/// the same agent never count it twice.
async fn apply_links(
    departments: &mongodb::Collection<Document>,
    links: &mongodb::Collection<Document>,
    department_id: &str,
    active: bool,
    plan: &LinkPlan,
    session: &mut Option<&mut ClientSession>,
) -> Result<(), mongodb::error::Error> {
    let mut delta: i64 = 0;
    for agent_id in &plan.removes {
        let deleted = run!(
            links.delete_one(doc! {"departmentId": department_id, "agentId": agent_id}),
            session
        )?;
        delta -= deleted.deleted_count as i64;
        if session.is_none() {
            bump(departments, department_id, &mut delta, session).await?;
        }
    }
    for (spec, user) in &plan.upserts {
        let filter = doc! {"departmentId": department_id, "agentId": &spec.agent_id};
        let mut set = link_fields(user);
        set.insert("departmentEnabled", active);
        set.insert("_updatedAt", now());
        let mut on_insert = doc! {"_id": new_id(), "openChats": 0_i64};
        match spec.count {
            Some(c) => set.insert("count", c),
            None => on_insert.insert("count", plan.start_count),
        };
        match spec.order {
            Some(o) => set.insert("order", o),
            None => on_insert.insert("order", 0_i64),
        };
        let update = doc! {"$set": set, "$setOnInsert": on_insert};
        let result = run!(
            links
                .update_one(filter.clone(), update.clone())
                .upsert(true),
            session
        );
        let inserted = match result {
            Ok(r) => r.upserted_id.is_some(),
            // Two upserts of a new link raced and the other inserted it:
            // this one is now an update of that link.
            Err(e) if is_duplicate_key(&e) && session.is_none() => {
                run!(links.update_one(filter, update), session)?;
                false
            }
            Err(e) => return Err(e),
        };
        if inserted {
            delta += 1;
        }
        if session.is_none() {
            bump(departments, department_id, &mut delta, session).await?;
        }
    }
    bump(departments, department_id, &mut delta, session).await
}

/// Applies the pending `numAgents` change, if any.
async fn bump(
    departments: &mongodb::Collection<Document>,
    department_id: &str,
    delta: &mut i64,
    session: &mut Option<&mut ClientSession>,
) -> Result<(), mongodb::error::Error> {
    if *delta != 0 {
        run!(
            departments.update_one(
                doc! {"_id": department_id},
                doc! {"$inc": {"numAgents": *delta}, "$set": {"_updatedAt": now()}},
            ),
            session
        )?;
        *delta = 0;
    }
    Ok(())
}
