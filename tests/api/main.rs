//! Switchboard's API, specified by black-box tests over HTTP against a real
//! MongoDB-wire-protocol server.

mod auto_distribution;
mod batches;
mod binary;
mod containers;
mod ddp;
mod departments_agents;
mod departments_create;
mod departments_read;
mod departments_stepwise;
mod departments_update;
mod distribution;
mod failures;
mod faults;
mod health;
mod helpers;
mod inquiries;
mod livechat_users;
mod login;
mod offers;
mod offers_random;
mod openapi;
mod operations;
mod permissions;
mod presence;
mod queue;
mod queue_events;
mod routing;
mod routing_scale;
mod settings;
mod startup;
mod users;
mod visitors;
mod widget;
