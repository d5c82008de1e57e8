//! A service's parking queue, for the operator: what is parked and why, putting a message back
//! to be handled again, or dropping it.
//!
//! AMQP cannot read a queue without taking from it, so every operation goes once through the
//! whole queue ([`Parking::walk`]): each message is taken, and then either put back at the end of
//! the parking queue (published, confirmed, and only then acknowledged), replayed, or dropped.
//! A message is never acknowledged before its copy is confirmed, so a tool that dies half-way
//! leaves at worst a message twice in the parking queue, never none. Putting back instead of
//! returning (`nack` with requeue) keeps listing from counting as a failed delivery: a quorum
//! queue with a delivery limit (RabbitMQ 4's default) would drop a message listed too often.
//!
//! **Replay** publishes the message to the service's own queue through the default exchange,
//! with its original routing key in `x-kutse-routing-key` (as a retried message comes back from
//! its delay queue), its attempt count reset and the parking headers removed. Only the service
//! that parked it sees it again; the others handled it already. The service's inbox makes a
//! replay of something it already handled harmless.
//!
//! **Refused:** a message parked as `misrouted` (its type is not the routing key it was
//! published with, or it came through an exchange that is not the events exchange: a forgery
//! around the broker's permissions) or `malformed` (not an envelope at all) is never replayed;
//! it can only be looked at and purged.

use std::collections::BTreeMap;

use kutse_messaging::headers;
use kutse_messaging::publisher::Outgoing;
use kutse_messaging::{Publisher, Topology};
use lapin::options::{BasicAckOptions, BasicGetOptions, QueueDeclareOptions};
use lapin::types::{AMQPValue, FieldTable};
use lapin::{BasicProperties, Channel, Connection};

/// Reasons whose messages are never replayed.
pub const NEVER_REPLAYED: [&str; 2] = ["misrouted", "malformed"];

/// One parked message, read.
#[derive(Debug, Clone)]
pub struct ParkedMessage {
    /// The envelope's id (the AMQP `message-id`), if it has one.
    pub message_id: Option<String>,
    /// The AMQP `type`: the envelope's message type as published.
    pub message_type: Option<String>,
    /// The routing key it was first published with.
    pub routing_key: Option<String>,
    /// `rejected`, `exhausted`, `misrouted`, `malformed`, or the broker's own reason
    /// (`delivery_limit`) for a message that kept crashing its consumer.
    pub reason: String,
    /// The last error, as the consumer recorded it.
    pub error: Option<String>,
    /// Who published it (the AMQP `app-id`, e.g. `kutse-intake`), as the publisher claimed.
    pub app_id: Option<String>,
    pub body: Vec<u8>,
    properties: BasicProperties,
}

impl ParkedMessage {
    fn read(body: Vec<u8>, properties: BasicProperties) -> Self {
        let table = properties.headers().as_ref();
        let death = first_death(table);
        let reason = headers::string(table, headers::PARKED_REASON)
            .or_else(|| death.as_ref().and_then(|d| string_of(d.get("reason"))))
            .unwrap_or_else(|| "unknown".to_owned());
        let routing_key = headers::string(table, headers::ROUTING_KEY).or_else(|| {
            death.as_ref().and_then(|d| match d.get("routing-keys") {
                Some(AMQPValue::FieldArray(keys)) => {
                    keys.as_slice().first().and_then(|k| string_of(Some(k)))
                }
                _ => None,
            })
        });
        Self {
            message_id: properties.message_id().as_ref().map(|s| s.to_string()),
            message_type: properties.kind().as_ref().map(|s| s.to_string()),
            routing_key,
            reason,
            error: headers::string(table, headers::ERROR),
            app_id: properties.app_id().as_ref().map(|s| s.to_string()),
            body,
            properties,
        }
    }

    /// Why this message may not be replayed, if it may not.
    pub fn refusal(&self) -> Option<String> {
        if NEVER_REPLAYED.contains(&self.reason.as_str()) {
            return Some(format!(
                "parked as {}: {}; a forgery or a body that is not a message is never replayed, only purged",
                self.reason,
                self.error.as_deref().unwrap_or("no error recorded")
            ));
        }
        if self.routing_key.is_none() {
            return Some("its original routing key is not recorded".to_owned());
        }
        None
    }

    /// The headers, for `show`: every `x-` header as text.
    pub fn headers(&self) -> BTreeMap<String, String> {
        self.properties
            .headers()
            .as_ref()
            .map(|table| {
                table
                    .inner()
                    .iter()
                    .map(|(k, v)| (k.to_string(), display(v)))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The body as pretty JSON when it is JSON, else as (lossy) text.
    pub fn body_text(&self) -> String {
        serde_json::from_slice::<serde_json::Value>(&self.body)
            .ok()
            .and_then(|v| serde_json::to_string_pretty(&v).ok())
            .unwrap_or_else(|| String::from_utf8_lossy(&self.body).into_owned())
    }

    /// The properties to replay with: parking headers gone, attempts from zero.
    fn for_replay(&self) -> BasicProperties {
        let mut table = FieldTable::default();
        if let Some(old) = self.properties.headers().as_ref() {
            for (k, v) in old.inner() {
                let drop = [
                    headers::PARKED_REASON,
                    headers::PARKED_BY,
                    headers::ERROR,
                    headers::ATTEMPT,
                    "x-death",
                    "x-first-death-exchange",
                    "x-first-death-queue",
                    "x-first-death-reason",
                    "x-last-death-exchange",
                    "x-last-death-queue",
                    "x-last-death-reason",
                    "x-delivery-count",
                ]
                .contains(&k.as_str());
                if !drop {
                    table.insert(k.clone(), v.clone());
                }
            }
        }
        if let Some(key) = &self.routing_key {
            headers::set_string(&mut table, headers::ROUTING_KEY, key);
        }
        self.properties.clone().with_headers(table)
    }
}

/// What to do with one message of a walk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Put it back at the end of the parking queue.
    Keep,
    /// Publish it to the service's queue again.
    Replay,
    /// Drop it.
    Purge,
}

/// What a walk did: the messages it put back, replayed or dropped, in the order met.
#[derive(Debug, Default)]
pub struct Walked {
    pub kept: Vec<ParkedMessage>,
    pub replayed: Vec<ParkedMessage>,
    pub purged: Vec<ParkedMessage>,
}

/// A service's parking queue, opened with the service's own broker user (whose permissions cover
/// its queues and the default exchange).
pub struct Parking {
    connection: Connection,
    channel: Channel,
    publisher: Publisher,
    service: String,
    queue: String,
    parked: String,
}

impl std::fmt::Debug for Parking {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Parking")
            .field("queue", &self.parked)
            .finish_non_exhaustive()
    }
}

impl Parking {
    /// Opens `service`'s parking queue under the topology `prefix`.
    pub async fn open(amqp_url: &str, prefix: &str, service: &str) -> anyhow::Result<Self> {
        anyhow::ensure!(
            consuming_services().contains(&service),
            "{service:?} is not a service with a queue; one of: {}",
            consuming_services().join(", ")
        );
        let topology = Topology {
            prefix: prefix.to_owned(),
            ..Topology::default()
        };
        let connection = kutse_messaging::connect(amqp_url, "kutse-ops").await?;
        let channel = connection.create_channel().await?;
        let publisher = Publisher::new(&connection).await?;
        Ok(Self {
            connection,
            channel,
            publisher,
            service: service.to_owned(),
            queue: topology.queue(service),
            parked: topology.parked_queue(service),
        })
    }

    /// The parking queue's name.
    pub fn parked_queue(&self) -> &str {
        &self.parked
    }

    /// How many messages are parked now.
    pub async fn count(&self) -> anyhow::Result<u32> {
        let queue = self
            .channel
            .queue_declare(
                self.parked.as_str().into(),
                QueueDeclareOptions {
                    passive: true,
                    ..QueueDeclareOptions::default()
                },
                FieldTable::default(),
            )
            .await
            .map_err(|e| {
                anyhow::anyhow!(
                    "{}: {e} (has the service, or `kutse-{} topology`, run against this broker with this prefix?)",
                    self.parked,
                    self.service
                )
            })?;
        Ok(queue.message_count())
    }

    /// Goes once through the messages parked when it starts, doing with each what `decide` says;
    /// `progress` hears of each as it is done (position from 1, of how many).
    pub async fn walk(
        &self,
        mut decide: impl FnMut(&ParkedMessage) -> Action,
        mut progress: impl FnMut(usize, usize, Action, &ParkedMessage),
    ) -> anyhow::Result<Walked> {
        let total = self.count().await? as usize;
        let mut walked = Walked::default();
        for position in 1..=total {
            let Some(delivery) = self
                .channel
                .basic_get(
                    self.parked.as_str().into(),
                    BasicGetOptions { no_ack: false },
                )
                .await?
            else {
                break;
            };
            let message = ParkedMessage::read(
                delivery.delivery.data.clone(),
                delivery.delivery.properties.clone(),
            );
            let action = match decide(&message) {
                Action::Replay if message.refusal().is_some() => Action::Keep,
                action => action,
            };
            match action {
                Action::Keep => {
                    self.send(&self.parked, &message, message.properties.clone())
                        .await?;
                }
                Action::Replay => {
                    self.send(&self.queue, &message, message.for_replay())
                        .await?;
                }
                Action::Purge => {}
            }
            delivery
                .delivery
                .acker
                .ack(BasicAckOptions::default())
                .await?;
            progress(position, total, action, &message);
            match action {
                Action::Keep => walked.kept.push(message),
                Action::Replay => walked.replayed.push(message),
                Action::Purge => walked.purged.push(message),
            }
        }
        Ok(walked)
    }

    /// Publishes a copy through the default exchange to `queue`, confirmed.
    async fn send(
        &self,
        queue: &str,
        message: &ParkedMessage,
        properties: BasicProperties,
    ) -> anyhow::Result<()> {
        self.publisher
            .publish(Outgoing {
                exchange: "",
                routing_key: queue,
                body: &message.body,
                properties,
            })
            .await
            .map_err(|e| anyhow::anyhow!("putting a message into {queue}: {e}"))
    }

    /// The service whose queue this is.
    pub fn service(&self) -> &str {
        &self.service
    }

    /// Closes the connection.
    pub async fn close(self) {
        let _ = self.connection.close(200, "kutse-ops done".into()).await;
    }
}

/// The services that consume messages, and so have a parking queue.
pub fn consuming_services() -> Vec<&'static str> {
    kutse_messaging::catalogue::services::ALL
        .iter()
        .copied()
        .filter(|s| !kutse_messaging::catalogue::bindings_for(s).is_empty())
        .collect()
}

fn first_death(table: Option<&FieldTable>) -> Option<BTreeMap<String, AMQPValue>> {
    match table?.inner().get("x-death")? {
        AMQPValue::FieldArray(deaths) => match deaths.as_slice().first()? {
            AMQPValue::FieldTable(death) => Some(
                death
                    .inner()
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.clone()))
                    .collect(),
            ),
            _ => None,
        },
        _ => None,
    }
}

fn string_of(value: Option<&AMQPValue>) -> Option<String> {
    match value? {
        AMQPValue::LongString(s) => Some(String::from_utf8_lossy(s.as_bytes()).into_owned()),
        AMQPValue::ShortString(s) => Some(s.as_str().to_owned()),
        _ => None,
    }
}

fn display(value: &AMQPValue) -> String {
    match value {
        AMQPValue::LongString(_) | AMQPValue::ShortString(_) => {
            string_of(Some(value)).unwrap_or_default()
        }
        AMQPValue::LongLongInt(v) => v.to_string(),
        AMQPValue::LongInt(v) => v.to_string(),
        AMQPValue::Boolean(v) => v.to_string(),
        other => format!("{other:?}"),
    }
}
