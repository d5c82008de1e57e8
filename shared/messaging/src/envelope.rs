//! The envelope every message travels in, and the `Message` trait of typed payloads.

use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A typed message payload. Each implementation is listed in [`crate::catalogue`].
pub trait Message: Serialize + DeserializeOwned + Send + Sync + 'static {
    /// The message type, which is also its routing key on the topic exchange
    /// (`application.submitted`).
    const TYPE: &'static str;
    /// The payload's schema version. A consumer refuses (parks) a version it does not know.
    const VERSION: u16;
}

/// W3C trace context of the operation that caused the message.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TraceContext {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traceparent: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracestate: Option<String>,
}

impl TraceContext {
    /// The trace context of the current span.
    pub fn current() -> Self {
        let mut headers = kutse_telemetry::trace_headers();
        Self {
            traceparent: headers.remove("traceparent"),
            tracestate: headers.remove("tracestate"),
        }
    }

    /// As header pairs, for `kutse_telemetry::set_parent_from`.
    pub fn pairs(&self) -> Vec<(String, String)> {
        let mut pairs = Vec::new();
        if let Some(v) = &self.traceparent {
            pairs.push(("traceparent".to_owned(), v.clone()));
        }
        if let Some(v) = &self.tracestate {
            pairs.push(("tracestate".to_owned(), v.clone()));
        }
        pairs
    }
}

/// The envelope: what every message on the wire is.
///
/// The body of an AMQP message is this envelope as JSON; the payload's shape is given by `type`
/// and `schema_version`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Envelope {
    /// Unique per message (UUIDv7, so ids sort by creation time). The inbox deduplicates on it.
    pub id: Uuid,
    /// The message type, e.g. `application.submitted`; also the routing key.
    #[serde(rename = "type")]
    pub message_type: String,
    pub schema_version: u16,
    pub occurred_at: DateTime<Utc>,
    /// Shared by every message that follows from one original request (e.g. one application),
    /// so a whole flow can be found in logs and traces.
    pub correlation_id: Uuid,
    /// The id of the message that caused this one; none for a message caused by an HTTP request.
    #[serde(default)]
    pub causation_id: Option<Uuid>,
    #[serde(default)]
    pub trace_context: TraceContext,
    pub payload: serde_json::Value,
}

/// Why an envelope's payload could not be read as the expected type.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("expected message type {expected}, got {actual}")]
    WrongType {
        expected: &'static str,
        actual: String,
    },
    #[error("{message_type} schema version {actual} is not supported (expected {expected})")]
    WrongVersion {
        message_type: String,
        expected: u16,
        actual: u16,
    },
    #[error("payload of {message_type} is invalid: {source}")]
    Payload {
        message_type: String,
        #[source]
        source: serde_json::Error,
    },
}

impl Envelope {
    /// A new message caused by an outside request: a fresh correlation id unless one is given.
    pub fn new<M: Message>(
        payload: &M,
        correlation_id: Option<Uuid>,
    ) -> Result<Self, serde_json::Error> {
        Ok(Self {
            id: Uuid::now_v7(),
            message_type: M::TYPE.to_owned(),
            schema_version: M::VERSION,
            occurred_at: Utc::now(),
            correlation_id: correlation_id.unwrap_or_else(Uuid::now_v7),
            causation_id: None,
            trace_context: TraceContext::current(),
            payload: serde_json::to_value(payload)?,
        })
    }

    /// A message caused by handling `cause`: same correlation id, `cause` as causation.
    pub fn caused_by<M: Message>(payload: &M, cause: &Envelope) -> Result<Self, serde_json::Error> {
        let mut envelope = Self::new(payload, Some(cause.correlation_id))?;
        envelope.causation_id = Some(cause.id);
        Ok(envelope)
    }

    /// The routing key on the topic exchange: the message type.
    pub fn routing_key(&self) -> &str {
        &self.message_type
    }

    /// Reads the payload as `M`, checking type and schema version.
    pub fn decode<M: Message>(&self) -> Result<M, DecodeError> {
        if self.message_type != M::TYPE {
            return Err(DecodeError::WrongType {
                expected: M::TYPE,
                actual: self.message_type.clone(),
            });
        }
        if self.schema_version != M::VERSION {
            return Err(DecodeError::WrongVersion {
                message_type: self.message_type.clone(),
                expected: M::VERSION,
                actual: self.schema_version,
            });
        }
        serde_json::from_value(self.payload.clone()).map_err(|source| DecodeError::Payload {
            message_type: self.message_type.clone(),
            source,
        })
    }

    /// The wire form.
    pub fn to_bytes(&self) -> Vec<u8> {
        // Serializing a struct of strings, numbers and a `Value` cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// Parses the wire form.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, serde_json::Error> {
        serde_json::from_slice(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Ping {
        n: u32,
    }

    impl Message for Ping {
        const TYPE: &'static str = "test.ping";
        const VERSION: u16 = 2;
    }

    #[test]
    fn envelope_round_trips_and_decodes_its_payload() {
        let original = Envelope::new(&Ping { n: 7 }, None).expect("envelope");
        let parsed = Envelope::from_bytes(&original.to_bytes()).expect("parse");
        assert_eq!(parsed, original);
        assert_eq!(parsed.decode::<Ping>().expect("decode"), Ping { n: 7 });
        assert_eq!(parsed.routing_key(), "test.ping");
    }

    #[test]
    fn a_caused_message_keeps_the_correlation_and_names_its_cause() {
        let first = Envelope::new(&Ping { n: 1 }, None).expect("envelope");
        let second = Envelope::caused_by(&Ping { n: 2 }, &first).expect("envelope");
        assert_eq!(second.correlation_id, first.correlation_id);
        assert_eq!(second.causation_id, Some(first.id));
        assert_ne!(second.id, first.id);
    }

    #[test]
    fn wrong_version_or_shape_is_refused() {
        let mut envelope = Envelope::new(&Ping { n: 1 }, None).expect("envelope");
        envelope.schema_version = 1;
        assert!(matches!(
            envelope.decode::<Ping>(),
            Err(DecodeError::WrongVersion { .. })
        ));
        envelope.schema_version = 2;
        envelope.payload = serde_json::json!({ "n": "one" });
        assert!(matches!(
            envelope.decode::<Ping>(),
            Err(DecodeError::Payload { .. })
        ));
    }
}
