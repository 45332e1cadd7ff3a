//! Typed settings, layered: the defaults in `config/default.toml` (compiled
//! into the binary, so it runs from any directory), then
//! `config/<SWITCHBOARD_ENV>.toml` when present, then environment variables.
//! Rocket.Chat's variable names win where they exist.

use std::collections::HashMap;

use config::{Config, Environment, File, FileFormat};
use schemars::JsonSchema;
use secrecy::SecretString;
use serde::Deserialize;

const DEFAULTS: &str = include_str!("../config/default.toml");

/// How long an instance may use what it cached of the shared state (the
/// Auto Distribution configuration, a department's rules, Rocket.Chat's
/// settings): a change made through another instance applies within it.
pub const CACHE_TTL: std::time::Duration = std::time::Duration::from_secs(1);

#[derive(Clone, Debug, Deserialize, JsonSchema)]
pub struct Settings {
    /// The MongoDB URL; the database name comes from its path.
    pub mongo_url: String,
    /// The port to serve HTTP on.
    pub port: u16,
    /// The address to listen on.
    pub bind_ip: String,
    pub admin: AdminSettings,
    pub http: HttpSettings,
    pub mongo: MongoSettings,
    pub rate_limit: RateLimitSettings,
    pub departments: DepartmentSettings,
    pub routing: RoutingSettings,
    pub log: LogSettings,
    pub metrics: MetricsSettings,
    pub live: LiveSettings,
}

#[derive(Clone, Debug, Deserialize, JsonSchema)]
pub struct LiveSettings {
    /// Open widget connections (`/websocket`) one client address may hold on one instance;
    /// one more is refused with 429.
    pub max_connections_per_address: u32,
    /// A connection that sent nothing for this long is sent a DDP `ping`.
    pub ping_interval_seconds: u64,
    /// A connection that sent nothing (not even a `pong`) for this long is closed.
    pub idle_timeout_seconds: u64,
    /// Frames larger than this close the connection (WebSocket close 1009).
    pub max_frame_bytes: usize,
    /// Frames a connection may send per second (a burst of as many is allowed); more close it
    /// (WebSocket close 1008).
    pub frames_per_second: u32,
    /// Subscriptions one connection may hold; more are answered `nosub` with an error.
    pub max_subscriptions: usize,
    /// Subscriptions that read the database, per second, that all connections of one client
    /// address on one instance may ask for (a burst of as many); more are answered `nosub` with
    /// `too-many-requests` without a read. A refused room asked again on the same connection
    /// costs nothing.
    pub reads_per_second_per_address: u32,
    /// After the database's change stream fails (or the server has none), how long the
    /// watcher waits before it tries again; live events are not delivered meanwhile.
    pub watch_retry_ms: u64,
}

#[derive(Clone, Debug, Deserialize, JsonSchema)]
pub struct MetricsSettings {
    /// `GET /metrics` answers only a request carrying `Authorization: Bearer <token>`
    /// (Prometheus: `authorization: {credentials: <token>}`). Empty, the default: metrics are
    /// not served at all.
    #[schemars(with = "String")]
    pub token: SecretString,
}

#[derive(Clone, Debug, Deserialize, JsonSchema)]
pub struct AdminSettings {
    /// With a password, the admin created at start-up when no user holds the `admin` role. An
    /// existing user is never overwritten.
    pub username: String,
    /// The created admin's password.
    #[schemars(with = "String")]
    pub password: SecretString,
    /// The created admin's e-mail (default `<username>@switchboard.local`).
    pub email: String,
}

#[derive(Clone, Debug, Deserialize, JsonSchema)]
pub struct HttpSettings {
    /// Request bodies larger than this are refused with 413.
    pub max_body_bytes: usize,
    /// Origins allowed to call the API from a browser (the livechat widget). `*` allows any
    /// origin; empty allows none. As a variable: a comma-separated list.
    pub cors_origins: Vec<String>,
    /// Grace period for in-flight requests after SIGTERM or Ctrl-C.
    pub shutdown_grace_seconds: u64,
    /// Any request still unanswered after this long answers 503.
    pub request_timeout_ms: u64,
    /// HTTP worker threads; 0 = one per CPU core.
    pub workers: usize,
}

#[derive(Clone, Debug, Deserialize, JsonSchema)]
pub struct MongoSettings {
    /// Multi-document transactions for department saves. Switchboard also finds out by itself
    /// when the server has none; false skips the attempt, and saves run step by step in a safe
    /// order.
    pub transactions: bool,
    /// How long to wait for a usable MongoDB server before a request fails.
    pub server_selection_timeout_ms: u64,
    /// How long to wait for a TCP connection to MongoDB.
    pub connect_timeout_ms: u64,
}

#[derive(Clone, Debug, Deserialize, JsonSchema)]
pub struct RateLimitSettings {
    /// Login attempts per client address and username.
    pub login_per_minute: u32,
    /// Public routing calls (`GET /api/v1/livechat/agent.next/:token`) per client address.
    pub agent_next_per_minute: u32,
    /// The widget's public calls (visitor, room, messages, config) per client
    /// address.
    pub livechat_per_minute: u32,
}

#[derive(Clone, Debug, Deserialize, JsonSchema)]
pub struct DepartmentSettings {
    /// Rocket.Chat's `Omnichannel_enable_department_removal`: false answers
    /// `error-department-removal-disabled`.
    pub removal_enabled: bool,
}

#[derive(Clone, Debug, Deserialize, JsonSchema)]
pub struct RoutingSettings {
    /// Exclude agents whose user status is `away` (Rocket.Chat's
    /// `Livechat_enabled_when_agent_idle = false`).
    pub exclude_away: bool,
    /// Open chats an agent may hold when it has no limit of its own; 0 = no limit.
    pub global_max_chats: u32,
    /// true restores Rocket.Chat's strict `count`: new and returning agents start at 0 instead
    /// of the department's lowest count.
    pub strict_counts: bool,
    /// How often each instance hands waiting chats to agents with room, oldest first (a close
    /// does it at once too); 0 = only on events; at least 10 otherwise.
    pub queue_interval_ms: u64,
    /// How often each instance repairs what a decision or close that failed half-way left
    /// behind.
    pub repair_interval_ms: u64,
    /// How old a reservation must be before the repair judges it; a repair is done within
    /// repair_after_ms + repair_interval_ms. Keep it above the request bound: the repair stops
    /// a decision still running that has not recorded its chat by then (it answers 503).
    pub repair_after_ms: u64,
    /// Routing decisions one instance runs at once; more wait their turn in arrival order (503
    /// if it does not come within the request bound).
    pub max_decisions: u32,
    /// How long an offer waits for its agent before it counts as
    /// declined; 0 = offers never time out.
    pub offer_timeout_ms: u64,
}

#[derive(Clone, Debug, Deserialize, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Json,
    Pretty,
}

#[derive(Clone, Debug, Deserialize, JsonSchema)]
pub struct LogSettings {
    /// `json` for production log lines, `pretty` for development.
    pub format: LogFormat,
}

/// The shortest queue sweep interval: below it every instance would
/// query the database almost continuously (likely a value meant in seconds).
const MIN_QUEUE_INTERVAL_MS: u64 = 10;

/// Rocket.Chat's environment variable names and the keys they set.
const ROCKETCHAT_NAMES: &[(&str, &str)] = &[
    ("MONGO_URL", "mongo_url"),
    ("PORT", "port"),
    ("BIND_IP", "bind_ip"),
    ("ADMIN_USERNAME", "admin.username"),
    ("ADMIN_PASS", "admin.password"),
    ("ADMIN_EMAIL", "admin.email"),
];

/// Variables read besides the settings themselves.
pub const PROCESS_VARIABLES: &[(&str, &str)] = &[
    (
        "SWITCHBOARD_ENV",
        "Profile: also reads config/<SWITCHBOARD_ENV>.toml when present (default local)",
    ),
    (
        "SWITCHBOARD_CONFIG_DIR",
        "Folder of the profile files (default config)",
    ),
    (
        "RUST_LOG",
        "Log level and filters, e.g. info or switchboard=debug (default info)",
    ),
];

/// One setting, as `--help` and the README show it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SettingDoc {
    /// Dotted key, e.g. `http.max_body_bytes`.
    pub key: String,
    /// The environment variable that sets it.
    pub variable: String,
    /// The default, from the compiled-in file.
    pub default: String,
    /// The doc comment of its field.
    pub help: String,
}

/// Every setting with its variable, default and description: the keys and
/// descriptions from the settings' own definitions (the doc comments on
/// [`Settings`] and its sections), the defaults from the compiled-in file,
/// so `--help`, the README and the container checks cannot miss a key.
pub fn documented_settings() -> Vec<SettingDoc> {
    let schema = schemars::schema_for!(Settings);
    let root = schema.as_value();
    let defaults = Config::builder()
        .add_source(File::from_str(DEFAULTS, FileFormat::Toml))
        .build()
        .expect("the compiled-in defaults parse");
    let mut out = Vec::new();
    collect_settings(root, root, "", &defaults, &mut out);
    out
}

fn collect_settings<'a>(
    root: &'a serde_json::Value,
    schema: &'a serde_json::Value,
    prefix: &str,
    defaults: &Config,
    out: &mut Vec<SettingDoc>,
) {
    let resolve = |s: &'a serde_json::Value| -> &'a serde_json::Value {
        match s.get("$ref").and_then(|r| r.as_str()) {
            Some(r) => r
                .strip_prefix("#/$defs/")
                .and_then(|name| root.get("$defs")?.get(name))
                .unwrap_or(s),
            None => s,
        }
    };
    let Some(properties) = resolve(schema)
        .get("properties")
        .and_then(|p| p.as_object())
    else {
        return;
    };
    for (name, field) in properties {
        let key = if prefix.is_empty() {
            name.clone()
        } else {
            format!("{prefix}.{name}")
        };
        let target = resolve(field);
        if target.get("properties").is_some() {
            collect_settings(root, target, &key, defaults, out);
            continue;
        }
        let variable = ROCKETCHAT_NAMES
            .iter()
            .find(|(_, k)| *k == key)
            .map(|(v, _)| v.to_string())
            .unwrap_or_else(|| format!("SWITCHBOARD_{}", key.replace('.', "__").to_uppercase()));
        let default = match defaults.get::<serde_json::Value>(&key) {
            Ok(serde_json::Value::String(s)) => format!("{s:?}"),
            Ok(other) => other.to_string(),
            Err(_) => String::new(),
        };
        let help = field
            .get("description")
            .or_else(|| target.get("description"))
            .and_then(|d| d.as_str())
            .unwrap_or_default()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        out.push(SettingDoc {
            key,
            variable,
            default,
            help,
        });
    }
}

/// Every environment variable Switchboard reads.
pub fn known_variables() -> Vec<String> {
    documented_settings()
        .into_iter()
        .map(|s| s.variable)
        .chain(PROCESS_VARIABLES.iter().map(|(v, _)| v.to_string()))
        .collect()
}

/// The settings section of `switchboard --help`.
pub fn settings_help() -> String {
    let mut out = String::from(
        "Settings (config/default.toml, then config/<SWITCHBOARD_ENV>.toml, then these variables):\n",
    );
    for s in documented_settings() {
        out.push_str(&format!(
            "  {:<42} {} (default {})\n",
            s.variable, s.key, s.default
        ));
        if !s.help.is_empty() {
            out.push_str(&format!("  {:<42} {}\n", "", s.help));
        }
    }
    out.push_str("Process:\n");
    for (variable, help) in PROCESS_VARIABLES {
        out.push_str(&format!("  {variable:<42} {help}\n"));
    }
    out
}

/// A setting that could not be read, named so the operator can fix it.
#[derive(Debug, thiserror::Error)]
#[error("configuration error: {0}")]
pub struct ConfigError(String);

impl ConfigError {
    pub fn new(message: impl Into<String>) -> Self {
        ConfigError(message.into())
    }
}

impl Settings {
    /// Reads the layered configuration from the process environment.
    pub fn load() -> Result<Settings, ConfigError> {
        Self::load_from(std::env::vars().collect())
    }

    /// Reads the layered configuration, taking environment variables from
    /// `vars` (tests pass their own).
    pub fn load_from(vars: HashMap<String, String>) -> Result<Settings, ConfigError> {
        let env = |name: &str| vars.get(name).cloned();
        let dir = env("SWITCHBOARD_CONFIG_DIR").unwrap_or_else(|| "config".into());
        let profile = env("SWITCHBOARD_ENV").unwrap_or_else(|| "local".into());
        let mut builder = Config::builder()
            .add_source(File::from_str(DEFAULTS, FileFormat::Toml))
            .add_source(File::with_name(&format!("{dir}/{profile}")).required(false))
            .add_source(
                Environment::with_prefix("SWITCHBOARD")
                    .prefix_separator("_")
                    .separator("__")
                    .list_separator(",")
                    .with_list_parse_key("http.cors_origins")
                    .try_parsing(true)
                    .source(Some(vars.clone().into_iter().collect())),
            );
        for (variable, key) in ROCKETCHAT_NAMES {
            if let Some(value) = env(variable) {
                builder = builder
                    .set_override(*key, value)
                    .map_err(|e| ConfigError(format!("{variable}: {e}")))?;
            }
        }
        let settings: Settings = builder
            .build()
            .and_then(Config::try_deserialize)
            .map_err(|e| ConfigError(describe(&e)))?;
        settings.check()?;
        Ok(settings)
    }

    fn check(&self) -> Result<(), ConfigError> {
        if !self.mongo_url.starts_with("mongodb://")
            && !self.mongo_url.starts_with("mongodb+srv://")
        {
            return Err(ConfigError(
                "MONGO_URL: must start with mongodb:// or mongodb+srv://".into(),
            ));
        }
        if self.bind_ip.parse::<std::net::IpAddr>().is_err() {
            return Err(ConfigError(format!(
                "BIND_IP: `{}` is not an IP address",
                self.bind_ip
            )));
        }
        if self.http.max_body_bytes == 0 {
            return Err(ConfigError(
                "http.max_body_bytes: must be greater than 0".into(),
            ));
        }
        if (1..MIN_QUEUE_INTERVAL_MS).contains(&self.routing.queue_interval_ms) {
            return Err(ConfigError(format!(
                "routing.queue_interval_ms: must be 0 (no periodic sweep) or at least {MIN_QUEUE_INTERVAL_MS}"
            )));
        }
        if self.routing.repair_interval_ms < MIN_QUEUE_INTERVAL_MS {
            return Err(ConfigError(format!(
                "routing.repair_interval_ms: must be at least {MIN_QUEUE_INTERVAL_MS}"
            )));
        }
        for origin in &self.http.cors_origins {
            let valid = origin == "*"
                || origin.parse::<actix_web::http::Uri>().is_ok_and(|u| {
                    matches!(u.scheme_str(), Some("http" | "https"))
                        && u.authority().is_some()
                        && u.path_and_query().is_none_or(|p| p.as_str() == "/")
                });
            if !valid {
                return Err(ConfigError(format!(
                    "http.cors_origins: `{origin}` is not an origin like https://chat.example.com or *"
                )));
            }
        }
        Ok(())
    }

    /// The admin to create at start-up, when one is configured.
    pub fn bootstrap_admin(&self) -> Option<&AdminSettings> {
        use secrecy::ExposeSecret;
        (!self.admin.username.is_empty() && !self.admin.password.expose_secret().is_empty())
            .then_some(&self.admin)
    }
}

/// Maps a key back to the environment variable an operator would set.
fn describe(error: &config::ConfigError) -> String {
    let text = error.to_string();
    for (variable, key) in ROCKETCHAT_NAMES {
        if text.contains(&format!("`{key}`")) || text.contains(&format!("key `{key}")) {
            return format!("{variable}: {text}");
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_match_rocketchat_deployments() {
        let settings = Settings::load_from(env_of(&[])).unwrap();
        assert_eq!(settings.port, 3000);
        assert_eq!(settings.bind_ip, "0.0.0.0");
        assert_eq!(settings.mongo_url, "mongodb://127.0.0.1:27017/switchboard");
        assert!(settings.bootstrap_admin().is_none());
    }

    #[test]
    fn rocketchat_variable_names_override_the_files() {
        let settings = Settings::load_from(env_of(&[
            ("PORT", "4000"),
            ("MONGO_URL", "mongodb://db:27017/rc"),
            ("ADMIN_USERNAME", "root"),
            ("ADMIN_PASS", "pw"),
        ]))
        .unwrap();
        assert_eq!(settings.port, 4000);
        assert_eq!(settings.mongo_url, "mongodb://db:27017/rc");
        assert_eq!(settings.bootstrap_admin().unwrap().username, "root");
    }

    #[test]
    fn every_documented_variable_sets_its_key() {
        let docs = documented_settings();
        let keys: Vec<&str> = docs.iter().map(|d| d.key.as_str()).collect();
        for key in [
            "mongo_url",
            "http.max_body_bytes",
            "rate_limit.login_per_minute",
            "log.format",
        ] {
            assert!(keys.contains(&key), "{key} missing from {keys:?}");
        }
        let port = docs.iter().find(|d| d.key == "port").unwrap();
        assert_eq!(port.variable, "PORT");
        let limit = docs
            .iter()
            .find(|d| d.key == "http.max_body_bytes")
            .unwrap();
        assert_eq!(limit.variable, "SWITCHBOARD_HTTP__MAX_BODY_BYTES");
        assert!(limit.help.contains("413"), "{limit:?}");
        // Setting each variable really changes the setting it names.
        let settings = Settings::load_from(env_of(&[
            ("SWITCHBOARD_HTTP__MAX_BODY_BYTES", "77"),
            ("SWITCHBOARD_RATE_LIMIT__LOGIN_PER_MINUTE", "5"),
        ]))
        .unwrap();
        assert_eq!(settings.http.max_body_bytes, 77);
        assert_eq!(settings.rate_limit.login_per_minute, 5);
    }

    #[test]
    fn a_bad_cors_origin_names_the_key() {
        let error = Settings::load_from(env_of(&[(
            "SWITCHBOARD_HTTP__CORS_ORIGINS",
            "not an origin",
        )]))
        .unwrap_err();
        assert!(error.to_string().contains("http.cors_origins"), "{error}");
    }

    #[test]
    fn a_queue_sweep_faster_than_10_ms_is_refused_but_0_turns_it_off() {
        let error = Settings::load_from(env_of(&[("SWITCHBOARD_ROUTING__QUEUE_INTERVAL_MS", "5")]))
            .unwrap_err();
        assert!(
            error.to_string().contains("routing.queue_interval_ms"),
            "{error}"
        );
        let off = Settings::load_from(env_of(&[("SWITCHBOARD_ROUTING__QUEUE_INTERVAL_MS", "0")]))
            .unwrap();
        assert_eq!(off.routing.queue_interval_ms, 0);
    }

    #[test]
    fn a_bad_port_names_the_variable() {
        let error = Settings::load_from(env_of(&[("PORT", "eighty")])).unwrap_err();
        assert!(error.to_string().contains("PORT"), "{error}");
    }

    #[test]
    fn a_bad_mongo_url_names_the_variable() {
        let error = Settings::load_from(env_of(&[("MONGO_URL", "postgres://x")])).unwrap_err();
        assert!(error.to_string().contains("MONGO_URL"), "{error}");
    }

    #[test]
    fn every_setting_has_a_description_and_a_default_in_the_file() {
        let documented = documented_settings();
        assert!(documented.len() > 20, "{documented:?}");
        for setting in &documented {
            assert!(
                !setting.help.is_empty(),
                "{} has no description",
                setting.key
            );
            assert!(
                !setting.default.is_empty(),
                "{} has no default",
                setting.key
            );
        }
        // And the file holds no key the settings do not define.
        let keys: Vec<&str> = documented.iter().map(|s| s.key.as_str()).collect();
        let mut section = String::new();
        for line in DEFAULTS.lines().map(str::trim) {
            if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
                section = format!("{name}.");
            } else if let Some((key, _)) = line.split_once('=').filter(|_| !line.starts_with('#')) {
                let key = format!("{section}{}", key.trim());
                assert!(keys.contains(&key.as_str()), "{key} is not a setting");
            }
        }
    }
}
