//! Switchboard keeps what routing eligibility needs on each agent link, so
//! choosing an agent is one indexed `findOneAndUpdate` over the links of a
//! department instead of reading every agent's user document (Rocket.Chat
//! does the latter on every decision). Rocket.Chat ignores these fields.
//!
//! * `eligible`: the user is active, holds `livechat-agent`, its
//!   `statusLivechat` is `available` and its `status` is not `offline`;
//! * `eligibleNotAway`: `eligible` and `status` is not `away` (used when
//!   `routing.exclude_away` is set).
//!
//! They are written whenever a link is created and whenever the user's
//! presence, activity or roles change.

use mongodb::bson::{Document, doc};

use crate::domain::routing::{Eligibility, eligibility};
use crate::domain::user::User;

/// The fields to `$set` on every link of `user`.
pub fn link_fields(user: &User) -> Document {
    let Eligibility {
        eligible,
        eligible_when_away_excluded: not_away,
    } = eligibility(user);
    doc! {
        "username": &user.username,
        "eligible": eligible,
        "eligibleNotAway": not_away,
    }
}
