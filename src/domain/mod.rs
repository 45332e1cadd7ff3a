//! Switchboard's rules, free of HTTP and storage: identifiers, users and
//! presence, departments and their agent links, pagination and the routing
//! decision. Types here can only be built through constructors that check
//! their invariants, so an invalid value cannot reach the store.

pub mod agent_link;
pub mod assignment;
pub mod auto_distribution;
pub mod batch;
pub mod ddp;
pub mod department;
pub mod id;
pub mod listing;
pub mod names;
pub mod pagination;
pub mod permission;
pub mod routing;
pub mod setting;
pub mod user;
pub mod validation;
pub mod visitor;

pub use validation::ValidationError;
