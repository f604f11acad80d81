//! Tolerant deserialisation for the cloud responses (numbers that arrive as strings, wrappers that
//! are absent or `null`, single objects where a list is expected) and the handful of timestamp
//! formats the APIs use. Pure helpers; knows nothing of any specific API.

use serde::Deserialize;
use serde::de::{self, DeserializeOwned, Deserializer};
use serde_json::Value;
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime};

/// A JSON scalar turned into text: strings as is, numbers and booleans printed, `null` empty.
fn scalar_text(value: Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::String(s) => Some(s),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        // Objects and arrays are not scalars; keep their JSON text rather than failing the response.
        other => Some(other.to_string()),
    }
}

/// A string field that may arrive as a number, a boolean or `null` (→ empty).
pub(crate) fn string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(scalar_text(Value::deserialize(d)?).unwrap_or_default())
}

/// An optional string field that may arrive as a number; `null` and `""` are `None`.
pub(crate) fn opt_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(scalar_text(Value::deserialize(d)?).filter(|s| !s.is_empty()))
}

/// An integer that may arrive as a number or a numeric string; `null`, `""` and anything
/// unparsable are `None` (a cosmetic field must never fail a whole page).
pub(crate) fn opt_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    Ok(value_i64(&Value::deserialize(d)?))
}

fn value_i64(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => n
            .as_i64()
            .or_else(|| n.as_u64().and_then(|u| i64::try_from(u).ok()))
            .or_else(|| {
                n.as_f64()
                    .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e18)
                    .map(|f| f as i64)
            }),
        Value::String(s) => s.trim().parse::<i64>().ok(),
        _ => None,
    }
}

/// An integer that must be present (ids such as ESA `SiteId`), number or numeric string.
pub(crate) fn i64_required<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    let value = Value::deserialize(d)?;
    value_i64(&value).ok_or_else(|| de::Error::custom(format!("expected an integer, got {value}")))
}

/// A boolean that may arrive as `"true"`/`"false"`; anything else is `None`.
pub(crate) fn opt_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Bool(b) => Some(b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    })
}

/// A UNIX-milliseconds instant that may arrive as a number, a numeric string or a date string
/// (the CAS doc shows `RevokeTime` both as ms and as `2021-01-01T00:00Z`).
pub(crate) fn opt_epoch_ms<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    let value = Value::deserialize(d)?;
    Ok(value_i64(&value).or_else(|| match &value {
        Value::String(s) => parse_datetime(s).map(|t| t.saturating_mul(1000)),
        _ => None,
    }))
}

/// A secret string field (an STS AccessKeySecret or token, a private key); `null` → empty. The
/// text goes straight into the [`Secret`](crate::credentials::Secret), which wipes it when dropped.
pub(crate) fn secret<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<crate::credentials::Secret, D::Error> {
    Ok(crate::credentials::Secret::new(
        Option::<String>::deserialize(d)?.unwrap_or_default(),
    ))
}

/// A list that may be absent, `null`, or a single object instead of an array.
pub(crate) fn list<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned,
{
    match Value::deserialize(d)? {
        Value::Null => Ok(Vec::new()),
        Value::Array(items) => items
            .into_iter()
            .map(|item| serde_json::from_value(item).map_err(de::Error::custom))
            .collect(),
        single => serde_json::from_value(single)
            .map(|item| vec![item])
            .map_err(de::Error::custom),
    }
}

/// A wrapper object (`Domains`, `CertInfos`, `Sources`, `page`) that may be absent or `null`.
pub(crate) fn or_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// Any JSON value; `null` when absent (used for free-form `Tags` objects).
pub(crate) fn any<'de, D: Deserializer<'de>>(d: D) -> Result<Value, D::Error> {
    Value::deserialize(d)
}

/// Parses the timestamp formats the APIs use into UNIX seconds (UTC):
/// RFC 3339 (`2024-05-06T07:08:09Z`, `…+08:00`), ISO without seconds (`2021-01-01T00:00Z`),
/// `+0800` offsets, ESA's `YYYY-MM-DD HH:MM:SS` (UTC) and IoTDA's `yyyyMMddTHHmmssZ`.
pub fn parse_datetime(text: &str) -> Option<i64> {
    let s = text.trim();
    if s.is_empty() {
        return None;
    }
    if let Ok(t) = OffsetDateTime::parse(s, &Rfc3339) {
        return Some(t.unix_timestamp());
    }
    let utc = |p: PrimitiveDateTime| Some(p.assume_utc().unix_timestamp());
    if let Ok(p) = PrimitiveDateTime::parse(
        s,
        format_description!("[year][month][day]T[hour][minute][second]Z"),
    ) {
        return utc(p);
    }
    if let Ok(p) = PrimitiveDateTime::parse(
        s,
        format_description!("[year]-[month]-[day] [hour]:[minute]:[second]"),
    ) {
        return utc(p);
    }
    if let Ok(p) = PrimitiveDateTime::parse(
        s,
        format_description!("[year]-[month]-[day]T[hour]:[minute]Z"),
    ) {
        return utc(p);
    }
    if let Ok(p) = PrimitiveDateTime::parse(
        s,
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z"),
    ) {
        return utc(p);
    }
    if let Ok(t) = OffsetDateTime::parse(
        s,
        format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second][offset_hour sign:mandatory][offset_minute]"
        ),
    ) {
        return Some(t.unix_timestamp());
    }
    None
}

/// A `YYYY-MM-DD` day (the SSL repository's `StartDate`/`EndDate`) as the UNIX seconds of its
/// start, UTC.
pub(crate) fn parse_date(text: &str) -> Option<i64> {
    time::Date::parse(text.trim(), format_description!("[year]-[month]-[day]"))
        .ok()
        .map(|d| d.midnight().assume_utc().unix_timestamp())
}

/// UNIX milliseconds to seconds (PCA `AfterDate`); `None` stays `None`.
pub(crate) fn ms_to_secs(ms: Option<i64>) -> Option<i64> {
    ms.map(|ms| ms.div_euclid(1000))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Deserialize, Debug, Default)]
    struct Sample {
        #[serde(default, deserialize_with = "opt_i64")]
        n: Option<i64>,
        #[serde(default, deserialize_with = "string")]
        s: String,
        #[serde(default, deserialize_with = "list")]
        items: Vec<Item>,
        #[serde(default, deserialize_with = "opt_epoch_ms")]
        ms: Option<i64>,
        #[serde(default, deserialize_with = "opt_bool")]
        b: Option<bool>,
    }

    #[derive(Deserialize, Debug, PartialEq)]
    struct Item {
        v: i64,
    }

    fn parse(json: &str) -> Sample {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn numbers_may_be_strings() {
        assert_eq!(parse(r#"{"n": 12}"#).n, Some(12));
        assert_eq!(parse(r#"{"n": "12"}"#).n, Some(12));
        assert_eq!(parse(r#"{"n": ""}"#).n, None);
        assert_eq!(parse(r#"{"n": null}"#).n, None);
        assert_eq!(parse(r#"{"n": 1234567890123}"#).n, Some(1_234_567_890_123));
        assert_eq!(parse(r#"{}"#).n, None);
        assert_eq!(parse(r#"{"s": 42}"#).s, "42");
        assert_eq!(parse(r#"{"s": null}"#).s, "");
        assert_eq!(parse(r#"{"b": "true"}"#).b, Some(true));
        assert_eq!(parse(r#"{"b": false}"#).b, Some(false));
    }

    #[test]
    fn lists_may_be_absent_null_or_single() {
        assert!(parse(r#"{}"#).items.is_empty());
        assert!(parse(r#"{"items": null}"#).items.is_empty());
        assert_eq!(parse(r#"{"items": {"v": 1}}"#).items, vec![Item { v: 1 }]);
        assert_eq!(parse(r#"{"items": [{"v": 1}, {"v": 2}]}"#).items.len(), 2);
    }

    #[test]
    fn epoch_ms_accepts_numbers_strings_and_dates() {
        assert_eq!(
            parse(r#"{"ms": 1609459200000}"#).ms,
            Some(1_609_459_200_000)
        );
        assert_eq!(
            parse(r#"{"ms": "1609459200000"}"#).ms,
            Some(1_609_459_200_000)
        );
        assert_eq!(
            parse(r#"{"ms": "2021-01-01T00:00Z"}"#).ms,
            Some(1_609_459_200_000)
        );
        assert_eq!(parse(r#"{"ms": "garbage"}"#).ms, None);
    }

    #[test]
    fn timestamps_in_every_api_format() {
        let expected = 1_691_651_147; // 2023-08-10T07:05:47Z
        assert_eq!(parse_datetime("2023-08-10T07:05:47Z"), Some(expected));
        assert_eq!(parse_datetime("20230810T070547Z"), Some(expected));
        assert_eq!(parse_datetime("2023-08-10 07:05:47"), Some(expected));
        assert_eq!(parse_datetime("2023-08-10T15:05:47+08:00"), Some(expected));
        assert_eq!(parse_datetime("2023-08-10T15:05:47+0800"), Some(expected));
        assert_eq!(parse_datetime("2021-01-01T00:00Z"), Some(1_609_459_200));
        assert_eq!(parse_datetime(""), None);
        assert_eq!(parse_datetime("not a date"), None);
        assert_eq!(ms_to_secs(Some(1_609_459_200_999)), Some(1_609_459_200));
        assert_eq!(parse_date("2021-01-01"), Some(1_609_459_200));
        assert_eq!(parse_date("2021-13-01"), None);
    }
}
