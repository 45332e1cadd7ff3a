//! The names state enums are stored and answered under, in one style:
//! each derives its names from its variants with `strum`
//! (`IntoStaticStr`, `VariantArray`) and its stored form from the same rule
//! with `serde`, and is read back by name through [`parse`]. A unit test
//! beside each enum checks that both give every variant the same name.

pub use strum::{IntoStaticStr, VariantArray};

/// The variant `name` names, if any.
pub fn parse<E>(name: &str) -> Option<E>
where
    E: VariantArray + Copy + Into<&'static str>,
{
    E::VARIANTS.iter().copied().find(|v| {
        let own: &'static str = (*v).into();
        own == name
    })
}

/// Every variant's name, in declaration order, joined with `, `.
pub fn listed<E>() -> String
where
    E: VariantArray + Copy + Into<&'static str>,
{
    let names: Vec<&'static str> = E::VARIANTS.iter().map(|v| (*v).into()).collect();
    names.join(", ")
}

/// Whether serde stores every variant under its name (for the tests beside
/// each enum).
#[cfg(test)]
pub fn serde_agrees<E>() -> bool
where
    E: VariantArray + Copy + Into<&'static str> + serde::Serialize,
{
    E::VARIANTS.iter().all(|v| {
        let own: &'static str = (*v).into();
        serde_json::to_value(v).ok() == Some(serde_json::Value::from(own))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::assignment::{Change, Channel, DecidedBy, Status};
    use crate::domain::routing::Method;
    use crate::domain::setting::Kind;
    use crate::domain::user::{LivechatStatus, UserStatus};

    #[test]
    fn every_state_is_stored_under_the_name_it_is_answered_under() {
        assert!(serde_agrees::<Status>());
        assert!(serde_agrees::<Change>());
        assert!(serde_agrees::<Channel>());
        assert!(serde_agrees::<Kind>());
        assert!(serde_agrees::<UserStatus>());
        assert!(serde_agrees::<LivechatStatus>());
        for &m in Method::ALL {
            assert_eq!(serde_json::to_value(m).unwrap(), m.as_str());
        }
    }

    #[test]
    fn names_read_back_as_their_variants_and_nothing_else_does() {
        assert_eq!(parse::<Change>("timedOut"), Some(Change::TimedOut));
        assert_eq!(
            parse::<LivechatStatus>("not-available"),
            Some(LivechatStatus::NotAvailable)
        );
        assert_eq!(parse::<Status>("Open"), None);
        assert_eq!(listed::<UserStatus>(), "online, away, busy, offline");
    }

    #[test]
    fn an_unknown_stored_state_is_an_error_not_another_state() {
        assert!(serde_json::from_value::<Status>(serde_json::json!("weird")).is_err());
        assert!(serde_json::from_value::<Change>(serde_json::json!("")).is_err());
        assert!(serde_json::from_value::<DecidedBy>(serde_json::json!("guessed")).is_err());
    }

    #[test]
    fn how_a_chat_was_decided_reads_back_as_written() {
        for decided in [
            DecidedBy::Manual,
            DecidedBy::Nothing,
            DecidedBy::Method(Method::RoundRobin),
        ] {
            let stored = serde_json::to_value(decided).unwrap();
            assert_eq!(stored, decided.as_str());
            assert_eq!(
                serde_json::from_value::<DecidedBy>(stored).unwrap(),
                decided
            );
        }
    }
}
