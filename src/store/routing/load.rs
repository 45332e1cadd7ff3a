//! Reservations: an agent's open chats, its limit, and the load copied
//! onto its links.

use super::*;

impl Routing {
    /// Counts one more open chat for the agent, with its hold, if it is
    /// still eligible and under its limit (its own when set, else `global`;
    /// 0 = none), in one conditional update; `None` when it is not.
    pub async fn reserve_agent(
        &self,
        agent_id: &str,
        global: u32,
        exclude_away: bool,
        hold: &Hold,
    ) -> Result<Option<Reserved>, Error> {
        let mut query = reservable(exclude_away, global);
        query.insert("_id", agent_id);
        query.insert("roles", ROLE_AGENT);
        let after = self
            .users
            .find_one_and_update(query, reservation(&[hold], false))
            .return_document(ReturnDocument::After)
            .projection(load_projection())
            .await?;
        Ok(after.map(|d| reserved(&d, global)))
    }

    /// A manual take: counts one more open chat for this agent, with its
    /// hold, only while it takes chats (online and available, as a
    /// decision requires); `within_limit` keeps the limit (its own when
    /// set, else `global`) in the same conditional update. `None` when the
    /// user is no active agent taking chats or, within the limit, is full.
    /// `served` also counts a chat taken without a department.
    pub async fn claim_agent(
        &self,
        agent_id: &str,
        global: u32,
        exclude_away: bool,
        within_limit: bool,
        served: bool,
        hold: &Hold,
    ) -> Result<Option<Reserved>, Error> {
        // Only an agent that takes chats now; within its limits unless
        // the caller says otherwise.
        let mut query = reservable(exclude_away, global);
        if !within_limit {
            query.remove("$expr");
        }
        query.insert("_id", agent_id);
        query.insert("roles", ROLE_AGENT);
        let after = self
            .users
            .find_one_and_update(query, reservation(&[hold], served))
            .return_document(ReturnDocument::After)
            .projection(load_projection())
            .await?;
        Ok(after.map(|d| reserved(&d, global)))
    }

    /// Frees the agent's slot held for this chat, once; `None` when the
    /// hold was already gone. `undo_served` also takes back the
    /// `livechatCount` increment of a chat routed without a department
    /// that did not happen.
    pub async fn release_agent_hold(
        &self,
        agent_id: &str,
        global: u32,
        hold: &Hold,
        undo_served: bool,
    ) -> Result<Option<Reserved>, Error> {
        let mut inc = doc! {"openLivechats": -1, "routingLoadSeq": 1};
        if undo_served {
            inc.insert("livechatCount", -1);
        }
        let after = self
            .users
            .find_one_and_update(
                doc! {"_id": agent_id, HOLDS: hold.matcher()},
                doc! {"$pull": {HOLDS: hold.as_doc()}, "$inc": inc},
            )
            .return_document(ReturnDocument::After)
            .projection(load_projection())
            .await?;
        Ok(after.map(|d| reserved(&d, global)))
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

    /// The current loads of these agents, as stored.
    pub async fn loads_of(
        &self,
        agent_ids: &[String],
        global: u32,
    ) -> Result<Vec<(String, Reserved)>, Error> {
        if agent_ids.is_empty() {
            return Ok(Vec::new());
        }
        let found: Vec<Document> = futures::TryStreamExt::try_collect(
            self.users
                .find(doc! {"_id": {"$in": agent_ids}})
                .projection(load_projection())
                .await?,
        )
        .await?;
        Ok(found
            .iter()
            .map(|d| {
                (
                    d.get_str("_id").unwrap_or_default().to_string(),
                    reserved(d, global),
                )
            })
            .collect())
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
