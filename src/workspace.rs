//! Rocket.Chat's workspace settings as a service: read through a cache that
//! lives [`CACHE_TTL`], so a change through any instance (or a Rocket.Chat
//! server on the same database) applies on every instance within it, and
//! a change through this instance applies here at once.
//!
//! Where a setting and a configuration key say the same thing, the
//! configuration key gives the setting its first value when it is seeded;
//! afterwards:
//! - `Omnichannel_enable_department_removal`: the setting wins.
//! - `Livechat_enabled_when_agent_idle` and `Livechat_maximum_chats_per_agent`:
//!   the configuration keys (`routing.exclude_away`, `routing.global_max_chats`)
//!   win, because the routing fields published on every link depend on them;
//!   the settings show the values in force and refuse changes.

use std::collections::HashMap;
use std::sync::Arc;

use moka::future::Cache;
use serde_json::Value;

use crate::config::CACHE_TTL;
use crate::config::Settings as Config;
use crate::domain::setting::{
    self, DEPARTMENT_REMOVAL, Definition, ENABLED_WHEN_AGENT_IDLE, MAX_CHATS_PER_AGENT,
    SettingValue,
};
use crate::error::Error;
use crate::store::Store;
use crate::store::settings::{Setting, kind_of};

/// The settings a configuration key governs: a change through the API is
/// refused, naming the key.
const GOVERNED_BY_CONFIG: &[(&str, &str)] = &[
    (ENABLED_WHEN_AGENT_IDLE, "routing.exclude_away"),
    (MAX_CHATS_PER_AGENT, "routing.global_max_chats"),
];

#[derive(Clone)]
pub struct Workspace {
    store: Store,
    config: Arc<Config>,
    values: Cache<(), Arc<HashMap<String, Value>>>,
}

impl Workspace {
    pub fn new(store: Store, config: &Config) -> Workspace {
        Workspace {
            store,
            config: Arc::new(config.clone()),
            values: Cache::builder().time_to_live(CACHE_TTL).build(),
        }
    }

    /// The first value of a setting: Rocket.Chat's default, or what the
    /// overlapping configuration key says.
    pub fn initial_value(config: &Config, d: &Definition) -> Value {
        match d.id {
            DEPARTMENT_REMOVAL => Value::Bool(config.departments.removal_enabled),
            ENABLED_WHEN_AGENT_IDLE => Value::Bool(!config.routing.exclude_away),
            MAX_CHATS_PER_AGENT => Value::from(config.routing.global_max_chats),
            _ => d.default_value(),
        }
    }

    async fn values(&self) -> Result<Arc<HashMap<String, Value>>, Error> {
        self.values
            .try_get_with((), async {
                Ok::<_, Error>(Arc::new(self.store.settings().values().await?))
            })
            .await
            .map_err(|e| e.shared())
    }

    /// A setting's value in force (its default when it has no document).
    pub async fn value(&self, id: &str) -> Result<Value, Error> {
        let values = self.values().await?;
        Ok(match values.get(id) {
            Some(v) => v.clone(),
            None => setting::definition(id)
                .map(|d| Self::initial_value(&self.config, d))
                .unwrap_or(Value::Null),
        })
    }

    pub async fn flag(&self, id: &str) -> Result<bool, Error> {
        Ok(self.value(id).await?.as_bool().unwrap_or(false))
    }

    /// Several values at once, by id (one cache read).
    pub async fn snapshot(&self) -> Result<Snapshot, Error> {
        Ok(Snapshot {
            values: self.values().await?,
            config: self.config.clone(),
        })
    }

    /// Changes a setting's value; `None` when it does not exist (or is
    /// hidden).
    pub async fn set(&self, id: &str, value: Value) -> Result<Option<Setting>, Error> {
        if let Some((_, key)) = GOVERNED_BY_CONFIG.iter().find(|(s, _)| *s == id) {
            return Err(Error::meteor(
                "error-setting-governed-by-configuration",
                &format!("Switchboard reads this from its configuration key {key}"),
            ));
        }
        let settings = self.store.settings();
        let Some(current) = settings.find_visible(id).await? else {
            return Ok(None);
        };
        let kind = setting::definition(id)
            .map(|d| d.kind)
            .or_else(|| kind_of(current.kind.as_deref()));
        let value = SettingValue::parse(kind, value)?;
        let saved = settings.set_value(id, value).await?;
        self.values.invalidate_all();
        Ok(saved)
    }
}

/// The values in force at one moment.
pub struct Snapshot {
    values: Arc<HashMap<String, Value>>,
    config: Arc<Config>,
}

impl Snapshot {
    pub fn get(&self, id: &str) -> Value {
        match self.values.get(id) {
            Some(v) => v.clone(),
            None => setting::definition(id)
                .map(|d| Workspace::initial_value(&self.config, d))
                .unwrap_or(Value::Null),
        }
    }

    pub fn flag(&self, id: &str) -> bool {
        self.get(id).as_bool().unwrap_or(false)
    }

    pub fn int(&self, id: &str) -> i64 {
        self.get(id).as_i64().unwrap_or(0)
    }
}
