//! What every handler receives: the store, the settings and the limiters.

use crate::config::Settings;
use crate::limits::Limits;
use crate::store::Store;

pub struct AppState {
    pub store: Store,
    pub settings: Settings,
    pub limits: Limits,
}
