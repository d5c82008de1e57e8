//! AMQP header conventions: our own `x-kutse-*` headers and the W3C trace context.

use std::collections::HashMap;

use lapin::types::{AMQPValue, FieldTable, ShortString};

/// How many times the message was handled and failed before (0 on first delivery).
pub const ATTEMPT: &str = "x-kutse-attempt";
/// The last error a handler returned, on retried and parked messages.
pub const ERROR: &str = "x-kutse-error";
/// Why a message was parked: `malformed`, `rejected` (a permanent handler error) or `exhausted`
/// (transient errors, every retry used).
pub const PARKED_REASON: &str = "x-kutse-parked-reason";
/// The routing key the message was first published with (a parked or retried message travels
/// under its queue's name).
pub const ROUTING_KEY: &str = "x-kutse-routing-key";
/// The service that parked the message.
pub const PARKED_BY: &str = "x-kutse-parked-by";

/// A string header's value (long or short string).
pub fn string(headers: Option<&FieldTable>, key: &str) -> Option<String> {
    match headers?.inner().get(key)? {
        AMQPValue::LongString(s) => Some(String::from_utf8_lossy(s.as_bytes()).into_owned()),
        AMQPValue::ShortString(s) => Some(s.as_str().to_owned()),
        _ => None,
    }
}

/// An integer header's value.
pub fn integer(headers: Option<&FieldTable>, key: &str) -> Option<i64> {
    match headers?.inner().get(key)? {
        AMQPValue::LongLongInt(v) => Some(*v),
        AMQPValue::LongInt(v) => Some(i64::from(*v)),
        AMQPValue::LongUInt(v) => Some(i64::from(*v)),
        AMQPValue::ShortInt(v) => Some(i64::from(*v)),
        AMQPValue::ShortUInt(v) => Some(i64::from(*v)),
        AMQPValue::ShortShortInt(v) => Some(i64::from(*v)),
        AMQPValue::ShortShortUInt(v) => Some(i64::from(*v)),
        _ => None,
    }
}

/// Sets a string header.
pub fn set_string(table: &mut FieldTable, key: &str, value: &str) {
    table.insert(ShortString::from(key), AMQPValue::LongString(value.into()));
}

/// Sets an integer header.
pub fn set_integer(table: &mut FieldTable, key: &str, value: i64) {
    table.insert(ShortString::from(key), AMQPValue::LongLongInt(value));
}

/// A table of string headers from a map (as stored in the outbox).
pub fn from_map(map: &HashMap<String, String>) -> FieldTable {
    let mut table = FieldTable::default();
    for (k, v) in map {
        set_string(&mut table, k, v);
    }
    table
}

/// The W3C trace context headers of a message, for `kutse_telemetry::set_parent_from`.
pub fn trace_pairs(headers: Option<&FieldTable>) -> Vec<(String, String)> {
    ["traceparent", "tracestate"]
        .into_iter()
        .filter_map(|k| string(headers, k).map(|v| (k.to_owned(), v)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trace_context_round_trips_through_headers() {
        let mut map = HashMap::new();
        map.insert(
            "traceparent".to_owned(),
            "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01".to_owned(),
        );
        let table = from_map(&map);
        assert_eq!(
            trace_pairs(Some(&table)),
            vec![(
                "traceparent".to_owned(),
                "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01".to_owned()
            )]
        );
    }

    #[test]
    fn integers_of_any_width_are_read() {
        let mut table = FieldTable::default();
        set_integer(&mut table, ATTEMPT, 3);
        table.insert("short".into(), AMQPValue::ShortShortUInt(2));
        assert_eq!(integer(Some(&table), ATTEMPT), Some(3));
        assert_eq!(integer(Some(&table), "short"), Some(2));
        assert_eq!(integer(Some(&table), "missing"), None);
        assert_eq!(integer(None, ATTEMPT), None);
    }
}
