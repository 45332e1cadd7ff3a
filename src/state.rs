//! What every handler receives: the store, the settings, the limiters, the
//! access cache and the distribution engine.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use crate::auth::access::Access;
use crate::config::Settings;
use crate::departments::Departments;
use crate::distribution::Distribution;
use crate::limits::Limits;
use crate::live::Live;
use crate::livechat::Livechat;
use crate::store::Store;
use crate::workspace::Workspace;

pub struct AppState {
    pub store: Store,
    /// The start-up preparation (indexes, seed data, the admin) has
    /// finished; until then the instance is not ready.
    pub prepared: Arc<AtomicBool>,
    pub settings: Settings,
    pub limits: Limits,
    pub access: Access,
    pub distribution: Distribution,
    /// The OpenAPI document, built once at start-up and served as is.
    pub api_document: actix_web::web::Bytes,
    /// Rocket.Chat's workspace settings (cached).
    pub workspace: Workspace,
    /// The department registry: saves, links, archive, removal.
    pub departments: Departments,
    /// The widget's visitor side: registration, rooms, messages.
    pub livechat: Livechat,
    /// The widget's live connections.
    pub live: Live,
}
