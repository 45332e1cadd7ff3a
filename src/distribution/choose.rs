//! Choosing an agent for one chat: the department, then its backups in
//! order (the visitor's last agent first when the department prefers it),
//! or, without a department, the least-served agent with room. Each
//! choice is taken through the department's turn (`together.rs`) or the
//! slot floor below it (`take.rs`); nothing here writes a record.

use super::together::{Seat, Seated};
use super::{Distribution, Policies, Policy};
use crate::domain::assignment::Hold;
use crate::domain::routing::{Method, Pick, backup_path, explain_last_chatted};
use crate::error::{Error, error_chain_fmt};
use crate::store::assignments::Served;
use crate::store::routing::{DepartmentRules, TakeFilter, UserFilter};

pub(super) struct Chosen {
    pub pick: Pick,
    pub department_id: Option<String>,
    pub method: Method,
    pub reason: String,
    /// The agent does not accept chats automatically: it is offered.
    pub offered: bool,
}

impl Chosen {
    /// The record's view of this choice.
    pub fn served(&self) -> Served {
        Served {
            agent_id: self.pick.agent_id.clone(),
            username: self.pick.username.clone(),
            department_id: self.department_id.clone(),
            method: self.method.into(),
            reason: self.reason.clone(),
            offered: self.offered,
            manual: false,
        }
    }
}

impl Distribution {
    /// Tries the department, then its backups in order.
    pub(super) async fn choose_in_chain(
        &self,
        policies: &Policies,
        requested: &DepartmentRules,
        token: &str,
        skip: &[String],
        hold: &Hold,
    ) -> Result<Option<Chosen>, Error> {
        let path = backup_path(&requested.id, |d| policies.for_department(d).backups);
        let mut visited = Vec::new();
        for id in &path {
            let department = if *id == requested.id {
                requested.clone()
            } else {
                match self.department(id).await? {
                    Some(d) => d,
                    None => continue,
                }
            };
            visited.push(department.name.clone());
            if !department.open {
                continue;
            }
            let policy = policies.for_department(id);
            if let Some(mut chosen) = self
                .choose_in_department(policies, &department, &policy, token, skip, hold)
                .await?
            {
                if visited.len() > 1 {
                    chosen.reason = format!(
                        "{}; served by backup department {} after {}",
                        chosen.reason,
                        department.name,
                        visited[..visited.len() - 1].join(" → ")
                    );
                }
                return Ok(Some(chosen));
            }
        }
        Ok(None)
    }

    pub(super) async fn choose_in_department(
        &self,
        policies: &Policies,
        department: &DepartmentRules,
        policy: &Policy,
        token: &str,
        skip: &[String],
        hold: &Hold,
    ) -> Result<Option<Chosen>, Error> {
        let chosen = |pick: Pick, reason: String| Chosen {
            offered: policies.offers_to(&pick.agent_id),
            pick,
            department_id: Some(department.id.clone()),
            method: policy.method,
            reason,
        };
        let filter = |only_agent| TakeFilter {
            exclude_away: self.settings.routing.exclude_away,
            department_limit: department.max_chats_per_agent,
            skip_agents: &[],
            only_agent,
        };
        let mut previous = None;
        if policy.last_chatted_preferred {
            previous = self.store.assignments().last_served(token).await?;
        }
        if let Some(agent) = previous.as_ref().and_then(|p| p.agent_id.as_deref())
            && !skip.iter().any(|s| s == agent)
            && let Some(pick) = self
                .take_link(&department.id, policy.method, filter(Some(agent)), hold)
                .await?
            && let Some(pick) = self.reserve(policies, &department.id, pick, hold).await?
        {
            let reason = explain_last_chatted(&pick);
            return Ok(Some(chosen(pick, reason)));
        }
        match self
            .take_in_turn(department, policy.method, Seat::new(hold, skip))
            .await?
        {
            Seated::Placed(pick) => {
                let reason = policy.method.explain(&pick);
                Ok(Some(chosen(pick, reason)))
            }
            Seated::NoAgent => Ok(None),
            Seated::Alone => Ok(self
                .take_alone(department, policy.method, skip, hold)
                .await?
                .map(|pick| {
                    let reason = policy.method.explain(&pick);
                    chosen(pick, reason)
                })),
        }
    }

    /// Without a department: the visitor's last agent when the global
    /// preference says so and it can take the chat, else the agent with
    /// room and the lowest `livechatCount`, taken and reserved in one step.
    pub(super) async fn choose_without_department(
        &self,
        policies: &Policies,
        token: &str,
        skip: &[String],
        hold: &Hold,
    ) -> Result<Option<Chosen>, Error> {
        let routing = self.store.routing();
        let filter = |only_agent| UserFilter {
            exclude_away: self.settings.routing.exclude_away,
            global: policies.global_limit,
            skip_agents: skip,
            only_agent,
        };
        let mut preferred = None;
        if policies.last_chatted_preferred()
            && let Some(previous) = self.store.assignments().last_served(token).await?
        {
            preferred = previous.agent_id.filter(|a| !skip.contains(a));
        }
        let mut taken = None;
        if let Some(agent) = preferred.as_deref() {
            let _turn = self.gate.enter(None).await;
            taken = routing
                .take_user(filter(Some(agent)), hold)
                .await?
                .map(|t| (t, true));
        }
        if taken.is_none() {
            let _turn = self.gate.enter(None).await;
            taken = routing
                .take_user(filter(None), hold)
                .await?
                .map(|t| (t, false));
        }
        let Some(((pick, reserved), last_chatted)) = taken else {
            return Ok(None);
        };
        self.publish_if_read(policies, &pick.agent_id, reserved, true)
            .await?;
        let reason = if last_chatted {
            explain_last_chatted(&pick)
        } else {
            format!(
                "least served without a department: {} had the lowest livechatCount ({})",
                pick.username, pick.count_before
            )
        };
        Ok(Some(Chosen {
            offered: policies.offers_to(&pick.agent_id),
            pick,
            department_id: None,
            method: Method::LeastServed,
            reason,
        }))
    }

    /// Agents a decision must pass over: those that declined this chat,
    /// and, when the configuration says so, those holding an audio/video
    /// chat.
    pub(super) async fn excluded(
        &self,
        policies: &Policies,
        declined: &[String],
    ) -> Result<Vec<String>, Error> {
        let mut skip = declined.to_vec();
        if policies.spares_audio_video() {
            skip.extend(self.store.assignments().agents_in_audio_video().await?);
        }
        Ok(skip)
    }

    /// Takes back a decision that will not be recorded. A failure here is
    /// left to the repair, which finds the hold.
    pub(super) async fn give_back(
        &self,
        chosen: Option<&Chosen>,
        hold: &Hold,
        policies: &Policies,
    ) {
        let Some(c) = chosen else { return };
        let released = self
            .release(
                &c.pick.agent_id,
                c.department_id.as_deref(),
                hold,
                false,
                policies,
            )
            .await;
        if let Err(e) = released {
            tracing::warn!(error = %error_chain_fmt(&e), "giving back a reservation failed; the repair frees it");
        }
    }
}
