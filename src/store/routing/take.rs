//! Takes: choosing the best link (or user) and claiming it atomically.

use super::*;

use crate::store::claim::{Claim, claim};

impl Routing {
    /// The filter, update, sort and index of a take.
    fn take_parts(
        department_id: &str,
        method: Method,
        filter: &TakeFilter<'_>,
    ) -> (Document, Document, Document, Document) {
        let mut query = doc! {
            "departmentId": department_id,
            "departmentEnabled": true,
            eligible_field(filter.exclude_away): true,
            "agentFull": {"$ne": true},
        };
        if let Some(limit) = filter.department_limit {
            query.insert("openChats", doc! {"$not": {"$gte": i64::from(limit)}});
        }
        if let Some(agent) = filter.only_agent {
            query.insert("agentId", agent);
        } else if !filter.skip_agents.is_empty() {
            query.insert("agentId", doc! {"$nin": filter.skip_agents});
        }
        let mut set = doc! {
            "count": plus("count", 1),
            "openChats": plus("openChats", 1),
            "lastRoutingTime": now(),
        };
        if matches!(method, Method::LoadBalancing | Method::CapabilityWeighted) {
            set.insert("agentOpenChats", plus("agentOpenChats", 1));
        }
        if method == Method::CapabilityWeighted {
            set.insert(
                "agentLoadRatio",
                doc! {"$cond": [
                    {"$gt": [{"$ifNull": ["$agentLimit", 0]}, 0]},
                    {"$divide": [plus("agentOpenChats", 1), "$agentLimit"]},
                    0,
                ]},
            );
        }
        let mut sort = Document::new();
        for (field, dir) in method.ranking() {
            sort.insert(*field, *dir);
        }
        let hint = take_index_keys(method, filter.exclude_away);
        (query, doc! {"$set": set}, sort, hint)
    }

    /// The query plan of a take, as the server explains it.
    pub async fn explain_take(
        &self,
        department_id: &str,
        method: Method,
        exclude_away: bool,
    ) -> Result<Document, Error> {
        let filter = TakeFilter {
            exclude_away,
            ..TakeFilter::default()
        };
        let (query, update, sort, hint) = Self::take_parts(department_id, method, &filter);
        let explained = self
            .links
            .client()
            .database(self.links.namespace().db.as_str())
            .run_command(doc! {
                "explain": {
                    "findAndModify": self.links.name(),
                    "query": query,
                    "update": [update],
                    "sort": sort,
                    "hint": hint,
                },
                "verbosity": "queryPlanner",
            })
            .await?;
        Ok(explained)
    }

    /// Picks and bumps the best eligible link of the department.
    pub async fn take_link(
        &self,
        department_id: &str,
        method: Method,
        filter: TakeFilter<'_>,
    ) -> Result<Option<Taken>, Error> {
        let (query, mut update, sort, hint) = Self::take_parts(department_id, method, &filter);
        if let Ok(set) = update.get_document_mut("$set") {
            set.insert("takeSeq", plus("takeSeq", 1));
        }
        let before = claim(
            &self.links,
            Claim {
                query,
                sort,
                hint: Some(hint),
                seq_field: "takeSeq",
                update: mongodb::options::UpdateModifications::Pipeline(vec![update]),
                projection: None,
                return_document: ReturnDocument::Before,
            },
        )
        .await?;
        Ok(before.map(|d| Taken {
            link_id: d.get_str("_id").unwrap_or_default().to_string(),
            pick: Pick {
                agent_id: d.get_str("agentId").unwrap_or_default().to_string(),
                username: d.get_str("username").unwrap_or_default().to_string(),
                count_before: int(&d, "count"),
                order: int(&d, "order"),
                open_before: int(&d, "agentOpenChats"),
                limit: match int(&d, "agentLimit") {
                    n if n > 0 => Some(n as u32),
                    _ => None,
                },
                last_assigned: d
                    .get_datetime("lastRoutingTime")
                    .ok()
                    .map(|t| t.to_chrono()),
            },
        }))
    }

    /// Undoes a take whose reservation failed.
    pub async fn untake_link(&self, link_id: &str) -> Result<(), Error> {
        self.untake_where(doc! {"_id": link_id}).await
    }

    /// Undoes the take of this agent's link in that department.
    pub async fn untake_agent_link(
        &self,
        department_id: &str,
        agent_id: &str,
    ) -> Result<(), Error> {
        self.untake_where(doc! {"departmentId": department_id, "agentId": agent_id})
            .await
    }

    async fn untake_where(&self, filter: Document) -> Result<(), Error> {
        self.links
            .update_one(
                filter,
                vec![doc! {"$set": {
                    "count": {"$add": [{"$ifNull": ["$count", 0]}, -1]},
                    "openChats": minus_floor_zero("openChats"),
                }}],
            )
            .await?;
        Ok(())
    }

    /// Without a department: the eligible agent with the lowest
    /// `livechatCount` (then username), incremented atomically, as
    /// Rocket.Chat's `Users.getNextAgent`.
    pub async fn take_user(
        &self,
        exclude_away: bool,
        skip_agents: &[String],
        only_agent: Option<&str>,
    ) -> Result<Option<Pick>, Error> {
        let excluded: Vec<&str> = if exclude_away {
            vec!["offline", "away"]
        } else {
            vec!["offline"]
        };
        let mut query = doc! {
            "roles": ROLE_AGENT,
            "statusLivechat": "available",
            "active": true,
            "status": {"$nin": excluded},
        };
        if let Some(agent) = only_agent {
            query.insert("_id", agent);
        } else if !skip_agents.is_empty() {
            query.insert("_id", doc! {"$nin": skip_agents});
        }
        let before = claim(
            &self.users,
            Claim {
                query,
                sort: doc! {"livechatCount": 1, "username": 1},
                hint: None,
                seq_field: "livechatTakeSeq",
                update: mongodb::options::UpdateModifications::Document(
                    doc! {"$inc": {"livechatCount": 1, "livechatTakeSeq": 1}},
                ),
                projection: Some(doc! {
                    "username": 1, "livechatCount": 1, "openLivechats": 1, "lastRoutingTime": 1,
                }),
                return_document: ReturnDocument::Before,
            },
        )
        .await?;
        Ok(before.map(|d| Pick {
            agent_id: d.get_str("_id").unwrap_or_default().to_string(),
            username: d.get_str("username").unwrap_or_default().to_string(),
            count_before: int(&d, "livechatCount"),
            order: 0,
            open_before: int(&d, "openLivechats"),
            limit: None,
            last_assigned: d
                .get_datetime("lastRoutingTime")
                .ok()
                .map(|t| t.to_chrono()),
        }))
    }

    pub async fn untake_user(&self, agent_id: &str) -> Result<(), Error> {
        self.users
            .update_one(doc! {"_id": agent_id}, doc! {"$inc": {"livechatCount": -1}})
            .await?;
        Ok(())
    }
}
