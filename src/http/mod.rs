//! What handlers share on the HTTP side: body, query and path extraction
//! with Rocket.Chat's error answers, the `AuthUser` extractor, and the
//! size and time bounds on every request.

pub mod auth_user;
pub mod bounds;
pub mod extract;
pub mod paged;

pub use auth_user::AuthUser;
