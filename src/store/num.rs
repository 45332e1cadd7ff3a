//! Rocket.Chat's data mixes int32, int64 and double for the same field
//! (and some limits were stored as strings, Rocket.Chat PR #35688). These
//! deserializers read any of them.

use serde::de::{self, Deserializer, Visitor};
use std::fmt;

struct LenientI64;

impl<'de> Visitor<'de> for LenientI64 {
    type Value = Option<i64>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a number")
    }
    fn visit_i32<E: de::Error>(self, v: i32) -> Result<Self::Value, E> {
        Ok(Some(v.into()))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Some(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Some(i64::try_from(v).unwrap_or(i64::MAX)))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Ok(v.is_finite().then_some(v.trunc() as i64))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(v.trim()
            .parse::<f64>()
            .ok()
            .filter(|f| f.is_finite())
            .map(|f| f.trunc() as i64))
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(LenientI64)
    }
}

/// Reads an optional integer stored as int32, int64, double or numeric
/// string; anything else reads as absent.
pub fn opt_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    d.deserialize_option(LenientI64)
}

/// Reads one stored value like [`opt_i64`].
pub fn read_i64(value: &mongodb::bson::Bson) -> Option<i64> {
    serde::Deserializer::deserialize_option(
        mongodb::bson::Deserializer::new(value.clone()),
        LenientI64,
    )
    .ok()
    .flatten()
}

/// The integer under `key`, absent or unreadable as 0.
pub fn field_i64(doc: &mongodb::bson::Document, key: &str) -> i64 {
    doc.get(key).and_then(read_i64).unwrap_or(0)
}

/// Reads an integer like [`opt_i64`], absent or unreadable as 0.
pub fn i64_or_zero<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    Ok(opt_i64(d)?.unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use mongodb::bson::{self, doc};
    use serde::Deserialize;

    #[derive(Deserialize)]
    struct Row {
        #[serde(default, deserialize_with = "super::i64_or_zero")]
        count: i64,
        #[serde(default, deserialize_with = "super::opt_i64")]
        limit: Option<i64>,
    }

    #[test]
    fn int32_int64_double_and_strings_all_read() {
        for (stored, expected) in [
            (doc! {"count": 3_i32}, 3),
            (doc! {"count": 4_i64}, 4),
            (doc! {"count": 5.0_f64}, 5),
            (doc! {"count": "6"}, 6),
            (doc! {}, 0),
        ] {
            let row: Row = bson::from_document(stored).unwrap();
            assert_eq!(row.count, expected);
        }
        let row: Row = bson::from_document(doc! {"limit": bson::Bson::Null}).unwrap();
        assert_eq!(row.limit, None);
    }

    #[test]
    fn one_stored_value_reads_the_same_way() {
        let stored = doc! {"a": 3_i32, "b": 4.9_f64, "c": " 7 ", "d": true, "e": "x"};
        let read: Vec<i64> = ["a", "b", "c", "d", "e", "missing"]
            .iter()
            .map(|k| super::field_i64(&stored, k))
            .collect();
        assert_eq!(read, vec![3, 4, 7, 0, 0, 0]);
        assert_eq!(super::read_i64(&bson::Bson::Int64(9)), Some(9));
        assert_eq!(super::read_i64(&bson::Bson::Null), None);
    }
}
