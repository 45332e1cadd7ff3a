//! What every handler receives: the store, the settings, the limiters, the
//! access cache and the distribution engine.

use crate::auth::access::Access;
use crate::config::Settings;
use crate::distribution::Distribution;
use crate::limits::Limits;
use crate::store::Store;

pub struct AppState {
    pub store: Store,
    pub settings: Settings,
    pub limits: Limits,
    pub access: Access,
    pub distribution: Distribution,
    /// The OpenAPI document, built once at start-up and served as is.
    pub api_document: actix_web::web::Bytes,
}
