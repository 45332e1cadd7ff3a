//! Reservations: an agent's open chats, its limit, and the load copied
//! onto its links.

use super::*;

fn load_projection() -> Document {
    doc! {"openLivechats": 1, "routingLoadSeq": 1, "livechat": 1}
}

fn reserved(d: &Document, global: u32) -> Reserved {
    let own = d
        .get_document("livechat")
        .ok()
        .map(|l| int(l, "maxNumberSimultaneousChat"))
        .filter(|n| *n > 0)
        .map(|n| n.min(i64::from(u32::MAX)) as u32);
    Reserved {
        load: Load {
            open: int(d, "openLivechats"),
            seq: int(d, "routingLoadSeq"),
        },
        limit: agent_limit(own, global),
    }
}

impl Routing {
    /// Counts one more open chat for the agent if it is still eligible and
    /// under its limit (its own when set, else `global`; 0 = none), in one
    /// conditional update; `None` when it is not.
    pub async fn reserve_agent(
        &self,
        agent_id: &str,
        global: u32,
        exclude_away: bool,
    ) -> Result<Option<Reserved>, Error> {
        let excluded: Vec<&str> = if exclude_away {
            vec!["offline", "away"]
        } else {
            vec!["offline"]
        };
        let no_limit = i64::MAX;
        let fallback = if global > 0 {
            i64::from(global)
        } else {
            no_limit
        };
        let query = doc! {
            "_id": agent_id,
            "active": true,
            "roles": ROLE_AGENT,
            "statusLivechat": "available",
            "status": {"$nin": excluded},
            "$expr": {"$lt": [
                {"$ifNull": ["$openLivechats", 0]},
                {"$let": {
                    "vars": {"own": {"$ifNull": ["$livechat.maxNumberSimultaneousChat", 0]}},
                    "in": {"$cond": [{"$gt": ["$$own", 0]}, "$$own", fallback]},
                }},
            ]},
        };
        let after = self
            .users
            .find_one_and_update(
                query,
                doc! {
                    "$inc": {"openLivechats": 1, "routingLoadSeq": 1},
                    "$set": {"lastRoutingTime": now()},
                },
            )
            .return_document(ReturnDocument::After)
            .projection(load_projection())
            .await?;
        Ok(after.map(|d| reserved(&d, global)))
    }

    /// One open chat less for the agent.
    pub async fn release_agent(
        &self,
        agent_id: &str,
        global: u32,
    ) -> Result<Option<Reserved>, Error> {
        let after = self
            .users
            .find_one_and_update(
                doc! {"_id": agent_id},
                vec![doc! {"$set": {
                    "openLivechats": minus_floor_zero("openLivechats"),
                    "routingLoadSeq": plus("routingLoadSeq", 1),
                }}],
            )
            .return_document(ReturnDocument::After)
            .projection(load_projection())
            .await?;
        Ok(after.map(|d| reserved(&d, global)))
    }

    /// One open chat less on the agent's link in that department.
    pub async fn release_link(&self, department_id: &str, agent_id: &str) -> Result<(), Error> {
        self.links
            .update_one(
                doc! {"departmentId": department_id, "agentId": agent_id},
                vec![doc! {"$set": {"openChats": minus_floor_zero("openChats")}}],
            )
            .await?;
        Ok(())
    }

    /// The agent's current load, as stored.
    pub async fn load_of(&self, agent_id: &str, global: u32) -> Result<Option<Reserved>, Error> {
        let found = self
            .users
            .find_one(doc! {"_id": agent_id})
            .projection(load_projection())
            .await?;
        Ok(found.map(|d| reserved(&d, global)))
    }

    /// Copies the agent's load onto all its links, unless a newer load is
    /// already there.
    pub async fn publish_load(
        &self,
        agent_id: &str,
        reserved: Reserved,
        assigned_now: bool,
    ) -> Result<(), Error> {
        let Reserved { load, limit } = reserved;
        let ratio = match limit {
            Some(l) if l > 0 => load.open as f64 / f64::from(l),
            _ => 0.0,
        };
        let mut set = doc! {
            "agentOpenChats": load.open,
            "agentLoadRatio": ratio,
            "agentLimit": i64::from(limit.unwrap_or(0)),
            "agentFull": !crate::domain::routing::has_room(load.open, limit),
            "agentLoadSeq": load.seq,
        };
        if assigned_now {
            set.insert("lastRoutingTime", now());
        }
        self.links
            .update_many(
                doc! {"agentId": agent_id, "agentLoadSeq": {"$not": {"$gt": load.seq}}},
                doc! {"$set": set},
            )
            .await?;
        Ok(())
    }

    /// Agents whose links say they are full.
    pub async fn agents_marked_full(&self) -> Result<Vec<String>, Error> {
        let ids = self
            .links
            .distinct("agentId", doc! {"agentFull": true})
            .await?;
        Ok(ids
            .into_iter()
            .filter_map(|b| b.as_str().map(str::to_string))
            .collect())
    }
}
