//! What a list request may ask for: filters, a sort over whitelisted
//! fields, and `true`/`false` flags, each refused by name when malformed.

use serde_json::Value;

use super::ValidationError;

/// Which archived state a list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ArchivedFilter {
    /// Only departments that are not archived (the default).
    #[default]
    Hide,
    /// Archived and not archived alike (`showArchived=true`).
    Include,
    /// Only archived ones (`departments/archived`).
    Only,
}

/// The filters of a department list; every value is matched literally
/// (the text is a case-insensitive "contains", regex characters escaped).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DepartmentFilter {
    pub text: Option<String>,
    pub enabled: Option<bool>,
    pub exclude_id: Option<String>,
    pub archived: ArchivedFilter,
}

/// Fields a list may be sorted by.
pub const SORTABLE_FIELDS: &[&str] = &[
    "name",
    "_id",
    "enabled",
    "email",
    "numAgents",
    "_updatedAt",
    "description",
    "archived",
];

/// A sort over whitelisted fields, each ascending (1) or descending (-1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sort(Vec<(String, i32)>);

impl Sort {
    pub fn by(field: &str) -> Sort {
        Sort(vec![(field.to_string(), 1)])
    }

    /// Parses Rocket.Chat's `sort` parameter, a JSON object such as
    /// `{"name":-1}`, against `allowed`; absent gives `default`.
    pub fn parse(
        raw: Option<&str>,
        allowed: &[&str],
        default: Sort,
    ) -> Result<Sort, ValidationError> {
        let Some(raw) = raw.filter(|r| !r.trim().is_empty()) else {
            return Ok(default);
        };
        let invalid = || {
            ValidationError::new(
                "sort",
                "sort",
                format!("Invalid sort parameter provided: \"{raw}\""),
            )
        };
        let parsed: serde_json::Map<String, Value> =
            serde_json::from_str(raw).map_err(|_| invalid())?;
        let mut keys = Vec::new();
        for (field, direction) in parsed {
            if !allowed.contains(&field.as_str()) {
                return Err(ValidationError::new(
                    "sort",
                    "sort",
                    format!("cannot sort by `{field}`; allowed: {}", allowed.join(", ")),
                ));
            }
            match direction.as_i64() {
                Some(d @ (1 | -1)) => keys.push((field, d as i32)),
                _ => return Err(invalid()),
            }
        }
        if keys.is_empty() {
            return Ok(default);
        }
        Ok(Sort(keys))
    }

    pub fn keys(&self) -> &[(String, i32)] {
        &self.0
    }
}

/// Parses a `true`/`false` query flag; anything else names the parameter.
pub fn parse_flag(field: &str, raw: Option<&str>) -> Result<Option<bool>, ValidationError> {
    match raw.map(str::trim) {
        None | Some("") => Ok(None),
        Some("true") => Ok(Some(true)),
        Some("false") => Ok(Some(false)),
        Some(_) => Err(ValidationError::new(field, "type", "must be true or false")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorts_are_limited_to_whitelisted_fields_and_directions() {
        let default = Sort::by("name");
        assert_eq!(
            Sort::parse(None, SORTABLE_FIELDS, default.clone()).unwrap(),
            default
        );
        let s = Sort::parse(
            Some(r#"{"numAgents":-1}"#),
            SORTABLE_FIELDS,
            default.clone(),
        )
        .unwrap();
        assert_eq!(s.keys(), &[("numAgents".to_string(), -1)]);
        for bad in [
            r#"{"password":1}"#,
            r#"{"name":2}"#,
            "{name",
            r#"{"$where":1}"#,
        ] {
            assert!(
                Sort::parse(Some(bad), SORTABLE_FIELDS, default.clone()).is_err(),
                "{bad}"
            );
        }
    }
}
