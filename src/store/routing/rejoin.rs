//! Eligibility copied onto links, and the fair rejoin of returning agents.

use futures::TryStreamExt;

use serde::Deserialize;

use super::*;
use crate::store::department_agents::LinkDoc;
use crate::store::num;

/// A link's `count` alone.
#[derive(Debug, Deserialize)]
struct CountDoc {
    #[serde(default, deserialize_with = "num::i64_or_zero")]
    count: i64,
}

impl Routing {
    /// Copies the user's eligibility onto its links; when the agent has
    /// just become eligible and `fair` is set, lifts each link's `count` to
    /// the lowest count among the department's other eligible agents, so a
    /// returning agent is not flooded (never lowering it).
    pub async fn sync_links(
        &self,
        before: Option<&User>,
        after: &User,
        fair: bool,
    ) -> Result<(), Error> {
        self.links
            .update_many(
                doc! {"agentId": &after.id},
                doc! {"$set": crate::store::routing_fields::link_fields(after)},
            )
            .await?;
        let was = before.map(|u| crate::domain::routing::eligibility(u).eligible);
        let is = crate::domain::routing::eligibility(after).eligible;
        if fair && is && was != Some(true) {
            let links: Vec<LinkDoc> = self
                .links
                .clone_with_type()
                .find(doc! {"agentId": &after.id})
                .await?
                .try_collect()
                .await?;
            for link in links {
                self.lift_count(&link.department_id, &after.id, link.count)
                    .await?;
            }
        }
        Ok(())
    }

    async fn lift_count(
        &self,
        department_id: &str,
        agent_id: &str,
        current: i64,
    ) -> Result<(), Error> {
        let lowest = self
            .links
            .clone_with_type::<CountDoc>()
            .find_one(doc! {
                "departmentId": department_id,
                "eligible": true,
                "agentId": {"$ne": agent_id},
            })
            .sort(doc! {"count": 1})
            .projection(doc! {"count": 1})
            .await?
            .map(|d| d.count);
        let target = fair_count(current, lowest);
        if target > current {
            self.links
                .update_one(
                    doc! {"departmentId": department_id, "agentId": agent_id,
                    "count": {"$not": {"$gte": target}}},
                    doc! {"$set": {"count": target, "_updatedAt": now()}},
                )
                .await?;
        }
        Ok(())
    }
}
