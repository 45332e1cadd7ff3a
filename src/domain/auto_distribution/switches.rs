//! Comm100's seven scalar Auto Distribution settings, declared once. The
//! configuration holds a value for each, a change may leave any out; the
//! stored document, the PUT body and the GET answer all take their keys
//! from the serde names here.

use std::fmt::Debug;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::Method;
use crate::domain::ValidationError;

/// A type one of the settings can have.
pub trait Switch: Debug + Clone + PartialEq + Eq + Default + Serialize + DeserializeOwned {}
impl Switch for bool {}
impl Switch for Method {}
impl Switch for ChatLimit {}

/// How [`Switches`] holds each setting.
pub trait Hold {
    type Of<T: Switch>: Debug + Clone + PartialEq + Eq + Default + Serialize + DeserializeOwned;
}

/// Every setting has its value: the configuration in force.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Set;
impl Hold for Set {
    type Of<T: Switch> = T;
}

/// A setting left out (`None`) keeps its value: a change.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Change;
impl Hold for Change {
    type Of<T: Switch> = Option<T>;
}

/// The settings under Comm100's names. A key left out reads as the
/// holding's default: `None` for a change; for a configuration, the type's
/// default, which is why the store fills every key from
/// `AutoDistributionConfig::default()` (enabled) before it reads one.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(bound(serialize = "", deserialize = "H: Default"), default)]
pub struct Switches<H: Hold> {
    #[serde(rename = "isEnabled")]
    pub enabled: H::Of<bool>,
    #[serde(rename = "autoDistributionMethod")]
    pub method: H::Of<Method>,
    #[serde(rename = "isLastChattedAgentPreferredForAutoDistribution")]
    pub last_chatted_preferred: H::Of<bool>,
    #[serde(rename = "ifLimitMaxConcurrentChatsForAllAgents")]
    pub limit_all_agents: H::Of<bool>,
    #[serde(rename = "maxConcurrentChatsForAllAgents")]
    pub max_chats_all_agents: H::Of<ChatLimit>,
    #[serde(rename = "ifAgentCanManuallyAcceptChatsAfterReachingMaxChatsLimit")]
    pub manual_accept_over_limit: H::Of<bool>,
    #[serde(rename = "ifNotAutoDistributeChatsToAgentsWhenHavingAudioVideoChat")]
    pub skip_agents_in_audio_video: H::Of<bool>,
}

/// A chat limit; 0 means none. Limits are kept as Rocket.Chat keeps them,
/// in 32 bits, so at most [`ChatLimit::MAX`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, PartialOrd, Ord)]
pub struct ChatLimit(u32);

impl ChatLimit {
    pub const MAX: u32 = i32::MAX as u32;

    /// `n`, or `None` when it is over [`ChatLimit::MAX`].
    pub fn new(n: u32) -> Option<ChatLimit> {
        (n <= Self::MAX).then_some(ChatLimit(n))
    }

    pub fn get(self) -> u32 {
        self.0
    }
}

impl Serialize for ChatLimit {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u32(self.0)
    }
}

/// Read as a 64-bit integer, so a fraction or a string is refused with
/// serde's own words and a number out of range with the rule it breaks.
impl<'de> Deserialize<'de> for ChatLimit {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let n = i64::deserialize(d)?;
        u32::try_from(n)
            .ok()
            .and_then(ChatLimit::new)
            .ok_or_else(|| {
                ValidationError::new("", "range", "must be a whole number from 0").into_serde()
            })
    }
}

/// Methods travel by their Comm100 names.
impl Serialize for Method {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Method {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        Method::parse("", &raw).map_err(ValidationError::into_serde)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_serializes_what_it_leaves_out_as_null() {
        let change = Switches::<Change> {
            method: Some(Method::RoundRobin),
            ..Default::default()
        };
        let value = serde_json::to_value(&change).unwrap();
        assert_eq!(value["autoDistributionMethod"], "roundRobin");
        assert!(value["isEnabled"].is_null());
        assert_eq!(value.as_object().unwrap().len(), 7);
    }

    #[test]
    fn keys_left_out_read_as_not_given_and_broken_rules_travel_with_their_rule() {
        let change: Switches<Change> =
            serde_json::from_value(serde_json::json!({"maxConcurrentChatsForAllAgents": 4}))
                .unwrap();
        assert_eq!(change.max_chats_all_agents, ChatLimit::new(4));
        assert_eq!(change.enabled, None);
        let e = serde_json::from_value::<Switches<Change>>(
            serde_json::json!({"maxConcurrentChatsForAllAgents": -1}),
        )
        .unwrap_err();
        let carried = ValidationError::from_serde(&e.to_string()).unwrap();
        assert_eq!(carried.rule, "range");
        let e = serde_json::from_value::<Switches<Change>>(
            serde_json::json!({"autoDistributionMethod": "fastest"}),
        )
        .unwrap_err();
        assert_eq!(
            ValidationError::from_serde(&e.to_string()).unwrap().rule,
            "method"
        );
    }

    #[test]
    fn a_limit_over_32_bits_is_not_a_limit() {
        assert_eq!(
            ChatLimit::new(ChatLimit::MAX).map(ChatLimit::get),
            Some(ChatLimit::MAX)
        );
        assert_eq!(ChatLimit::new(ChatLimit::MAX + 1), None);
    }
}
