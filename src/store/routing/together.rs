//! Several chats of one department at once (see `domain::batch`): the best
//! links read in one command, then the takes and the reservations written
//! in one command each, whatever the number of chats. Each agent's share
//! of the chats is one conditional update, so it lands whole or not at all,
//! and carries one hold per chat, as single takes do.

use futures::TryStreamExt;
use mongodb::options::Hint;

use super::take::TakenLinkDoc;
use super::*;
use crate::domain::batch::Candidate;
use crate::store::num;

/// The chats one agent takes in a batch, by their holds.
#[derive(Debug)]
pub struct Share<'a> {
    pub agent_id: &'a str,
    pub holds: Vec<&'a Hold>,
}

impl Routing {
    /// The first `limit` links of the department that may take a chat now,
    /// in the method's order.
    pub async fn candidates(
        &self,
        department_id: &str,
        method: Method,
        filter: &TakeFilter<'_>,
        limit: i64,
    ) -> Result<Vec<Candidate>, Error> {
        let (query, sort, hint) = Self::take_parts(department_id, method, filter);
        let found: Vec<TakenLinkDoc> = self
            .links
            .clone_with_type::<TakenLinkDoc>()
            .find(query)
            .sort(sort)
            .hint(Hint::Keys(hint))
            .limit(limit)
            .projection(TakenLinkDoc::projection())
            .await?
            .try_collect()
            .await?;
        Ok(found
            .into_iter()
            .map(|d| Candidate {
                department_open: d.open_chats,
                pick: d.into_pick(false),
            })
            .collect())
    }

    /// Takes each share's link with all its holds, under the same filter
    /// as a single take (the department limit counting the whole share);
    /// answers which shares were taken.
    pub async fn take_links(
        &self,
        department_id: &str,
        method: Method,
        filter: &TakeFilter<'_>,
        shares: &[Share<'_>],
    ) -> Result<Vec<bool>, Error> {
        let statements = shares
            .iter()
            .map(|share| -> Result<Document, Error> {
                let one_agent = TakeFilter {
                    department_limit: None,
                    skip_agents: &[],
                    only_agent: Some(share.agent_id),
                    ..filter.clone()
                };
                let (mut query, _, _) = Self::take_parts(department_id, method, &one_agent);
                if let Some(limit) = filter.department_limit {
                    let room_for_all = i64::from(limit) - share.holds.len() as i64;
                    query.insert("openChats", doc! {"$not": {"$gt": room_for_all}});
                }
                let (update, _) = Self::take_update(method, &share.holds);
                // An operator document or a pipeline, as the driver sends it.
                Ok(doc! {"q": query, "u": mongodb::bson::to_bson(&update)?})
            })
            .collect::<Result<_, _>>()?;
        let applied = run_updates(&self.links, statements).await?;
        if applied == shares.len() {
            return Ok(vec![true; shares.len()]);
        }
        holding(&self.links, "agentId", shares).await
    }

    /// Reserves each share's slots on its agent, guarded by its limit
    /// counting the whole share; answers which shares were reserved.
    pub async fn reserve_agents(
        &self,
        shares: &[Share<'_>],
        global: u32,
        exclude_away: bool,
    ) -> Result<Vec<bool>, Error> {
        let statements = shares
            .iter()
            .map(|share| {
                let mut query = reservable_for(exclude_away, global, share.holds.len() as i64);
                query.insert("_id", share.agent_id);
                query.insert("roles", ROLE_AGENT);
                doc! {"q": query, "u": reservation(&share.holds, false)}
            })
            .collect();
        let applied = run_updates(&self.users, statements).await?;
        if applied == shares.len() {
            return Ok(vec![true; shares.len()]);
        }
        holding(&self.users, "_id", shares).await
    }
}

/// Runs these update statements as one unordered command; answers how
/// many matched.
async fn run_updates(
    coll: &Collection<Document>,
    statements: Vec<Document>,
) -> Result<usize, Error> {
    let reply = coll
        .client()
        .database(coll.namespace().db.as_str())
        .run_command(doc! {"update": coll.name(), "updates": statements, "ordered": false})
        .await?;
    Ok(usize::try_from(num::field_i64(&reply, "n")).unwrap_or(0))
}

/// Which shares' holds are on their agents' documents: read back after a
/// command that applied only some of its statements.
async fn holding(
    coll: &Collection<Document>,
    agent_field: &str,
    shares: &[Share<'_>],
) -> Result<Vec<bool>, Error> {
    let agents: Vec<&str> = shares.iter().map(|s| s.agent_id).collect();
    let attempts: Vec<&str> = shares
        .iter()
        .filter_map(|s| s.holds.first().map(|h| h.attempt.as_str()))
        .collect();
    let attempt_field = format!("{HOLDS}.attempt");
    let found: Vec<Document> = coll
        .find(doc! {agent_field: {"$in": agents}, &attempt_field: {"$in": &attempts}})
        .projection(doc! {agent_field: 1, &attempt_field: 1})
        .await?
        .try_collect()
        .await?;
    let held = |agent: &str, attempt: &str| {
        found.iter().any(|d| {
            d.get_str(agent_field) == Ok(agent)
                && d.get_array(HOLDS).is_ok_and(|holds| {
                    holds.iter().any(|h| {
                        h.as_document()
                            .is_some_and(|h| h.get_str("attempt") == Ok(attempt))
                    })
                })
        })
    };
    Ok(shares
        .iter()
        .map(|s| {
            s.holds
                .first()
                .is_some_and(|h| held(s.agent_id, &h.attempt))
        })
        .collect())
}
