//! The distribution settings in force: the stored Auto Distribution
//! configuration over the service's own routing settings.

use std::sync::Arc;

use super::{Distribution, shared};
use crate::config::RoutingSettings;
use crate::domain::auto_distribution::AutoDistributionConfig;
use crate::domain::routing::Method;
use crate::domain::setting;
use crate::error::Error;
use crate::store::routing::DepartmentRules;

/// How one department distributes chats.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    pub method: Method,
    pub last_chatted_preferred: bool,
    /// Backup departments, in ascending order.
    pub backups: Vec<String>,
}

/// The Auto Distribution configuration with the limits it implies.
#[derive(Debug, Clone)]
pub struct Policies {
    config: AutoDistributionConfig,
    /// Rocket.Chat's `Livechat_Routing_Method` is `Manual_Selection`.
    manual_selection: bool,
    /// Chat limit for agents without their own; 0 = none.
    pub global_limit: u32,
}

impl Policies {
    /// Switchboard's defaults: least-served, no preference, no backups,
    /// the configured global limit.
    pub fn defaults(settings: &RoutingSettings) -> Policies {
        Policies::from_config(AutoDistributionConfig::default(), settings)
    }

    /// The stored configuration; its global limit, when set, replaces the
    /// configured default.
    pub fn from_config(config: AutoDistributionConfig, settings: &RoutingSettings) -> Policies {
        let global_limit = config.global_limit().unwrap_or(settings.global_max_chats);
        Policies {
            config,
            manual_selection: false,
            global_limit,
        }
    }

    /// With Rocket.Chat's manual selection in force (or not).
    pub fn with_manual_selection(mut self, manual: bool) -> Policies {
        self.manual_selection = manual;
        self
    }

    /// Whether chats are distributed automatically at all: the Auto
    /// Distribution configuration is enabled and Rocket.Chat's routing
    /// method is not manual selection.
    pub fn enabled(&self) -> bool {
        self.config.is_enabled() && !self.manual_selection
    }

    pub fn for_department(&self, id: &str) -> Policy {
        let d = self.config.for_department(id);
        Policy {
            method: d.method,
            last_chatted_preferred: d.last_chatted_preferred,
            backups: d.backups,
        }
    }

    /// Whether any department ranks agents by what a reservation changes
    /// on every link of the agent (its load, its last assignment): then
    /// each reservation and release publishes it. With least-served
    /// everywhere, only an agent becoming full or leaving full does.
    pub fn ranks_by_agent_load(&self) -> bool {
        let by_load = |m: Method| m != Method::LeastServed;
        by_load(self.config.method)
            || self
                .config
                .departments
                .iter()
                .any(|d| d.method.is_some_and(by_load))
    }

    /// Whether an agent at or over its limit may still take a waiting
    /// chat by hand (Comm100's
    /// `ifAgentCanManuallyAcceptChatsAfterReachingMaxChatsLimit`).
    pub fn manual_over_limit(&self) -> bool {
        self.config.manual_accept_over_limit
    }

    /// Whether chats are offered to this agent (it accepts or declines)
    /// rather than opened at once: Comm100's per-agent `ifAutoAcceptChat`
    /// false. Agents without settings accept automatically.
    pub fn offers_to(&self, agent_id: &str) -> bool {
        self.config
            .agents
            .iter()
            .any(|a| a.agent_id == agent_id && !a.auto_accept)
    }

    /// Whether an agent holding an audio/video chat gets no new automatic
    /// chats (Comm100's
    /// `ifNotAutoDistributeChatsToAgentsWhenHavingAudioVideoChat`).
    pub fn spares_audio_video(&self) -> bool {
        self.config.skip_agents_in_audio_video
    }

    /// Without a department: the global preference applies.
    pub fn last_chatted_preferred(&self) -> bool {
        self.config.last_chatted_preferred
    }
}

impl Distribution {
    /// The distribution settings in force (cached).
    pub async fn policies(&self) -> Result<Arc<Policies>, Error> {
        self.policies
            .try_get_with((), async {
                let config = self.store.auto_distribution().load().await?;
                let manual = self
                    .store
                    .settings()
                    .find_visible(setting::ROUTING_METHOD)
                    .await?
                    .is_some_and(|s| s.value == setting::MANUAL_SELECTION);
                Ok::<_, Error>(Arc::new(
                    Policies::from_config(config, &self.settings.routing)
                        .with_manual_selection(manual),
                ))
            })
            .await
            .map_err(shared)
    }

    /// A department's routing rules (cached); `None` when it does not exist.
    pub(super) async fn department(&self, id: &str) -> Result<Option<DepartmentRules>, Error> {
        self.departments
            .try_get_with(id.to_string(), async {
                self.store.routing().department(id).await
            })
            .await
            .map_err(shared)
    }
}
