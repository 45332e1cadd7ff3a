//! An assignment: the record of one routing decision, and the holds an
//! in-flight decision leaves on the agent it reserved.
//!
//! A decision writes several documents (the department link, the agent's
//! user, the assignment). Each write that reserves capacity also records a
//! *hold* naming the assignment and the attempt that made it, in the same
//! atomic update. A hold is settled when its assignment is open with that
//! agent by that attempt; any other hold is capacity reserved for a chat
//! that does not exist, and the repair releases it. These are the rules of
//! that judgement.

use chrono::{DateTime, Utc};

use serde::{Deserialize, Serialize};

use super::names::{self, IntoStaticStr, VariantArray};
use super::routing::Method;

/// Where an assignment stands.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, IntoStaticStr, VariantArray,
)]
#[serde(rename_all = "camelCase")]
#[strum(serialize_all = "camelCase")]
pub enum Status {
    /// An agent holds it.
    Open,
    /// Offered to an agent that does not accept chats automatically: it
    /// holds one of that agent's slots until the agent accepts (open),
    /// declines or lets the offer time out (handed on, or queued).
    Offered,
    /// No agent could take it yet; it waits in its queue.
    Queued,
    Closed,
    /// A decision that failed before it was recorded: kept only so that
    /// the late write of that decision cannot land (its id is taken).
    Abandoned,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// The statuses a client may filter on (a tombstone is never listed).
    pub fn parse_public(s: &str) -> Option<Status> {
        names::parse(s).filter(|s| *s != Status::Abandoned)
    }
}

/// One routing decision as recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct Assignment {
    pub id: String,
    pub visitor_token: String,
    pub room_id: Option<String>,
    /// The department that serves it (a backup when the requested one
    /// could not).
    pub department_id: Option<String>,
    pub requested_department_id: Option<String>,
    pub agent_id: Option<String>,
    pub username: Option<String>,
    pub status: Status,
    pub method: DecidedBy,
    /// Why this agent was chosen, or why none was, in words.
    pub reason: String,
    /// The decision attempt that gave it its agent (see [`HoldFate`]).
    pub attempt: Option<String>,
    /// A drainer's lock while it places this queued chat.
    pub lock_id: Option<String>,
    pub created_at: DateTime<Utc>,
    /// When an agent took it: `created_at` for a chat routed at once,
    /// later for one that waited in the queue.
    pub routed_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    /// Agents that declined it (or let its offer time out): it is never
    /// offered to them again.
    pub declined_by: Vec<String>,
    /// An audio or video chat (see [`Channel`]).
    pub channel: Channel,
    /// Its state changes, oldest first.
    pub history: Vec<StateChange>,
}

/// How a chat got its agent, or would have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DecidedBy {
    /// Taken by hand from the queue (`inquiries.take`).
    #[serde(rename = "manual")]
    Manual,
    /// The tombstone of a decision that was never recorded.
    #[serde(rename = "")]
    Nothing,
    /// A routing method, stored under its own name.
    #[serde(untagged)]
    Method(Method),
}

impl DecidedBy {
    pub fn as_str(self) -> &'static str {
        match self {
            DecidedBy::Manual => "manual",
            DecidedBy::Nothing => "",
            DecidedBy::Method(m) => m.as_str(),
        }
    }
}

impl From<Method> for DecidedBy {
    fn from(m: Method) -> Self {
        DecidedBy::Method(m)
    }
}

/// How the visitor talks to the agent.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, IntoStaticStr, VariantArray, Default,
)]
#[serde(rename_all = "camelCase")]
#[strum(serialize_all = "camelCase")]
pub enum Channel {
    #[default]
    Chat,
    /// Comm100's `ifNotAutoDistributeChatsToAgentsWhenHavingAudioVideoChat`
    /// keeps new automatic chats from an agent holding one of these.
    AudioVideo,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    pub fn parse(s: &str) -> Option<Channel> {
        names::parse(s)
    }
}

/// What happened to an assignment.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, IntoStaticStr, VariantArray,
)]
#[serde(rename_all = "camelCase")]
#[strum(serialize_all = "camelCase")]
pub enum Change {
    Queued,
    Offered,
    Declined,
    /// An offer unanswered within `routing.offer_timeout_ms`.
    TimedOut,
    /// An agent has it: routed at once, placed from the queue, or an offer
    /// accepted.
    Open,
    TakenManually,
    Closed,
}

impl Change {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// One state change, with the agent it concerned.
#[derive(Debug, Clone, PartialEq)]
pub struct StateChange {
    pub change: Change,
    pub at: DateTime<Utc>,
    pub agent_id: Option<String>,
    pub username: Option<String>,
}

/// Whom a reserved slot is held for: one decision attempt of one chat.
/// Every reservation writes it beside the slot, in the same update, and
/// every release removes it in the same update that frees the slot, so a
/// slot is freed once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hold {
    pub assignment_id: String,
    pub attempt: String,
    /// The chat's visitor: recorded so a repair's tombstone for the
    /// assignment lands where the assignment would (its shard key).
    pub visitor_token: String,
}

impl Hold {
    /// A new decision's: the assignment it will record and a new attempt.
    pub fn fresh(visitor_token: &str) -> Hold {
        Hold {
            assignment_id: super::id::new_id(),
            attempt: super::id::new_id(),
            visitor_token: visitor_token.to_string(),
        }
    }

    /// A waiting chat's, placed (or taken by hand) under a lock: the lock
    /// is the attempt.
    pub fn under_lock(waiting: &Assignment, lock_id: &str) -> Hold {
        Hold {
            assignment_id: waiting.id.clone(),
            attempt: lock_id.to_string(),
            visitor_token: waiting.visitor_token.clone(),
        }
    }

    /// The hold of the attempt that gave the chat its agent; `None` for a
    /// chat no agent was given.
    pub fn of(a: &Assignment) -> Option<Hold> {
        Some(Hold {
            assignment_id: a.id.clone(),
            attempt: a.attempt.clone()?,
            visitor_token: a.visitor_token.clone(),
        })
    }
}

/// A hold as found on the document whose capacity it reserved (the
/// agent's user, or its department link).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldSlot {
    pub hold: Hold,
    pub at: DateTime<Utc>,
    /// The reservation also counted a chat routed without a department
    /// (the agent's `livechatCount`), so abandoning it undoes that too.
    pub counted: bool,
}

/// What the repair does with a hold that has outlived any decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HoldFate {
    /// Its chat is open with (or offered to) this agent by this attempt:
    /// keep it.
    Settled,
    /// Its chat was served by this attempt and closed, but the close did
    /// not free the slot: free it; the chat counts as routed.
    Served,
    /// Its chat was never served by this attempt: free the slot and take
    /// back the `count` increment, so increments equal chats routed.
    Abandoned,
    /// The assignment is not written yet (or a drainer still holds it):
    /// fence it first, then judge again.
    Fence,
}

/// Judges a hold of `agent_id` (on one of its links when `department_id`
/// is set) against its assignment as stored now.
pub fn hold_fate(
    hold: &Hold,
    agent_id: &str,
    department_id: Option<&str>,
    assignment: Option<&Assignment>,
) -> HoldFate {
    let Some(a) = assignment else {
        return HoldFate::Fence;
    };
    let by_this_attempt = a.attempt.as_deref() == Some(hold.attempt.as_str())
        && a.agent_id.as_deref() == Some(agent_id)
        && department_id.is_none_or(|d| a.department_id.as_deref() == Some(d));
    match a.status {
        Status::Open | Status::Offered if by_this_attempt => HoldFate::Settled,
        Status::Closed if by_this_attempt => HoldFate::Served,
        Status::Queued if a.lock_id.as_deref() == Some(hold.attempt.as_str()) => HoldFate::Fence,
        _ => HoldFate::Abandoned,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hold() -> Hold {
        Hold {
            assignment_id: "a1".into(),
            attempt: "k1".into(),
            visitor_token: "v".into(),
        }
    }

    fn assignment(status: Status, agent: Option<&str>, attempt: Option<&str>) -> Assignment {
        Assignment {
            id: "a1".into(),
            visitor_token: "v".into(),
            room_id: None,
            department_id: Some("d".into()),
            requested_department_id: Some("d".into()),
            agent_id: agent.map(str::to_string),
            username: None,
            status,
            method: Method::LeastServed.into(),
            reason: String::new(),
            attempt: attempt.map(str::to_string),
            lock_id: None,
            created_at: Utc::now(),
            routed_at: None,
            closed_at: None,
            declined_by: Vec::new(),
            channel: Channel::Chat,
            history: Vec::new(),
        }
    }

    #[test]
    fn an_offer_holds_its_slot_until_declined() {
        let offered = assignment(Status::Offered, Some("ann"), Some("k1"));
        assert_eq!(
            hold_fate(&hold(), "ann", None, Some(&offered)),
            HoldFate::Settled
        );
        // Declined: back in the queue, or offered to another agent.
        let declined = assignment(Status::Queued, None, None);
        assert_eq!(
            hold_fate(&hold(), "ann", None, Some(&declined)),
            HoldFate::Abandoned
        );
        let handed_on = assignment(Status::Offered, Some("bob"), Some("k2"));
        assert_eq!(
            hold_fate(&hold(), "ann", None, Some(&handed_on)),
            HoldFate::Abandoned
        );
    }

    #[test]
    fn a_hold_whose_chat_is_open_with_its_agent_is_kept() {
        let a = assignment(Status::Open, Some("ann"), Some("k1"));
        assert_eq!(
            hold_fate(&hold(), "ann", Some("d"), Some(&a)),
            HoldFate::Settled
        );
        assert_eq!(hold_fate(&hold(), "ann", None, Some(&a)), HoldFate::Settled);
    }

    #[test]
    fn a_hold_without_its_assignment_is_fenced_before_it_is_judged() {
        assert_eq!(hold_fate(&hold(), "ann", None, None), HoldFate::Fence);
    }

    #[test]
    fn a_hold_of_a_chat_that_another_attempt_served_is_abandoned() {
        let a = assignment(Status::Open, Some("ann"), Some("k2"));
        assert_eq!(
            hold_fate(&hold(), "ann", None, Some(&a)),
            HoldFate::Abandoned
        );
        let other_agent = assignment(Status::Open, Some("bob"), Some("k1"));
        assert_eq!(
            hold_fate(&hold(), "ann", None, Some(&other_agent)),
            HoldFate::Abandoned
        );
    }

    #[test]
    fn a_link_hold_of_a_chat_served_in_another_department_is_abandoned() {
        let a = assignment(Status::Open, Some("ann"), Some("k1"));
        assert_eq!(
            hold_fate(&hold(), "ann", Some("backup"), Some(&a)),
            HoldFate::Abandoned
        );
    }

    #[test]
    fn a_closed_chat_still_holding_its_slot_counts_as_served() {
        let a = assignment(Status::Closed, Some("ann"), Some("k1"));
        assert_eq!(hold_fate(&hold(), "ann", None, Some(&a)), HoldFate::Served);
        let never_served = assignment(Status::Closed, None, None);
        assert_eq!(
            hold_fate(&hold(), "ann", None, Some(&never_served)),
            HoldFate::Abandoned
        );
    }

    #[test]
    fn a_queued_chat_still_locked_by_the_holding_attempt_is_fenced_first() {
        let mut a = assignment(Status::Queued, None, None);
        a.lock_id = Some("k1".into());
        assert_eq!(hold_fate(&hold(), "ann", None, Some(&a)), HoldFate::Fence);
        a.lock_id = Some("k9".into());
        assert_eq!(
            hold_fate(&hold(), "ann", None, Some(&a)),
            HoldFate::Abandoned
        );
        let abandoned = assignment(Status::Abandoned, None, None);
        assert_eq!(
            hold_fate(&hold(), "ann", None, Some(&abandoned)),
            HoldFate::Abandoned
        );
    }
}
