//! `count`/`offset` paging as Rocket.Chat's `getPaginationItems` does it.

use super::ValidationError;

pub const DEFAULT_COUNT: u64 = 50;
pub const MAX_COUNT: u64 = 100;

/// A page request: `count` defaults to 50 and is capped at 100; `count=0`
/// (Rocket.Chat's "unlimited") is also capped at 100, so no list answer can
/// grow without bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub offset: u64,
    pub count: u64,
}

impl Page {
    pub fn parse(offset: Option<&str>, count: Option<&str>) -> Result<Page, ValidationError> {
        let number = |field: &str, raw: Option<&str>| -> Result<Option<u64>, ValidationError> {
            match raw.map(str::trim) {
                None | Some("") => Ok(None),
                // The database counts in signed 64 bits.
                Some(text) => text
                    .parse::<u64>()
                    .ok()
                    .filter(|n| i64::try_from(*n).is_ok())
                    .map(Some)
                    .ok_or_else(|| {
                        ValidationError::new(
                            field,
                            "type",
                            "must be a non-negative integer up to 9223372036854775807",
                        )
                    }),
            }
        };
        let offset = number("offset", offset)?.unwrap_or(0);
        let count = match number("count", count)? {
            None => DEFAULT_COUNT,
            Some(0) => MAX_COUNT,
            Some(n) => n.min(MAX_COUNT),
        };
        Ok(Page { offset, count })
    }
}

impl Default for Page {
    fn default() -> Self {
        Page {
            offset: 0,
            count: DEFAULT_COUNT,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_offset_past_what_the_database_counts_is_refused() {
        assert!(Page::parse(Some("9223372036854775807"), None).is_ok());
        let e = Page::parse(Some("9223372036854775808"), None).unwrap_err();
        assert_eq!(e.field, "offset");
    }

    #[test]
    fn missing_values_take_the_defaults() {
        assert_eq!(
            Page::parse(None, None).unwrap(),
            Page {
                offset: 0,
                count: 50
            }
        );
    }

    #[test]
    fn count_is_capped_at_one_hundred() {
        assert_eq!(Page::parse(Some("5"), Some("1000")).unwrap().count, 100);
        assert_eq!(Page::parse(None, Some("0")).unwrap().count, 100);
    }

    #[test]
    fn a_non_numeric_count_is_rejected_naming_the_field() {
        let e = Page::parse(None, Some("invalid")).unwrap_err();
        assert_eq!(e.field, "count");
        assert!(Page::parse(Some("-1"), None).is_err());
    }
}
