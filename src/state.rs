//! What every handler receives: the store and the settings.

use crate::config::Settings;
use crate::store::Store;

pub struct AppState {
    pub store: Store,
    pub settings: Settings,
}
