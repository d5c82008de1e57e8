//! Confirmed, pipelined publishing.
//!
//! Every publish is `mandatory` (a message no queue takes comes back as a return instead of
//! vanishing) on a channel in confirm mode (the broker acknowledges each message once it is safely
//! enqueued). A batch is sent whole before any confirm is awaited, so throughput is bounded by the
//! broker, not by round trips: one-by-one confirms are some 20× slower.

use lapin::options::{BasicPublishOptions, ConfirmSelectOptions};
use lapin::{BasicProperties, Channel, Connection};

/// Why one message was not published.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// No queue is bound for the routing key: the broker returned the message.
    #[error(
        "unroutable: no queue bound to exchange {exchange:?} for routing key {routing_key:?} ({reply})"
    )]
    Unroutable {
        exchange: String,
        routing_key: String,
        reply: String,
    },
    /// The broker refused responsibility for the message (e.g. a queue at its length limit).
    #[error("broker nacked the message")]
    Nacked,
    /// The channel or connection failed.
    #[error("broker error: {0}")]
    Broker(#[from] lapin::Error),
}

/// One message to publish.
#[derive(Debug, Clone)]
pub struct Outgoing<'a> {
    pub exchange: &'a str,
    pub routing_key: &'a str,
    pub body: &'a [u8],
    pub properties: BasicProperties,
}

/// A channel in confirm mode.
#[derive(Debug, Clone)]
pub struct Publisher {
    channel: Channel,
}

impl Publisher {
    /// Opens a channel on `connection` and puts it in confirm mode.
    pub async fn new(connection: &Connection) -> Result<Self, lapin::Error> {
        let channel = connection.create_channel().await?;
        channel
            .confirm_select(ConfirmSelectOptions::default())
            .await?;
        Ok(Self { channel })
    }

    /// The channel, e.g. to declare topology on.
    pub fn channel(&self) -> &Channel {
        &self.channel
    }

    /// Publishes every message, all in flight at once, and reports each one's fate in order.
    pub async fn publish_all(&self, messages: &[Outgoing<'_>]) -> Vec<Result<(), PublishError>> {
        // Each publish is handed to the connection's I/O thread at once and only then awaited:
        // the thread writes every frame queued meanwhile in one go, instead of one write (and
        // one wake-up of this task) per message. `join_all` polls the publishes in order, so
        // they go out in order.
        let pending = futures::future::join_all(messages.iter().map(|message| {
            self.channel.basic_publish(
                message.exchange.into(),
                message.routing_key.into(),
                BasicPublishOptions {
                    mandatory: true,
                    ..BasicPublishOptions::default()
                },
                message.body,
                message.properties.clone(),
            )
        }))
        .await;
        let mut results = Vec::with_capacity(messages.len());
        for (message, sent) in messages.iter().zip(pending) {
            let result = match sent {
                Err(e) => Err(PublishError::Broker(e)),
                Ok(confirm) => match confirm.await {
                    Err(e) => Err(PublishError::Broker(e)),
                    Ok(confirmation) if confirmation.is_nack() => Err(PublishError::Nacked),
                    Ok(confirmation) => match confirmation.take_message() {
                        Some(returned) => Err(PublishError::Unroutable {
                            exchange: message.exchange.to_owned(),
                            routing_key: message.routing_key.to_owned(),
                            reply: format!("{} {}", returned.reply_code, returned.reply_text),
                        }),
                        None => Ok(()),
                    },
                },
            };
            results.push(result);
        }
        results
    }

    /// Publishes one message and waits for its confirm.
    pub async fn publish(&self, message: Outgoing<'_>) -> Result<(), PublishError> {
        self.publish_all(std::slice::from_ref(&message))
            .await
            .pop()
            .unwrap_or(Err(PublishError::Nacked))
    }
}

/// The AMQP properties of an envelope: persistent, JSON, with the envelope's ids.
pub fn properties(
    message_id: &str,
    message_type: &str,
    correlation_id: &str,
    app_id: &str,
    headers: lapin::types::FieldTable,
) -> BasicProperties {
    BasicProperties::default()
        // Persistent: written to disk by the broker (quorum queues persist regardless).
        .with_delivery_mode(2)
        .with_content_type("application/json".into())
        .with_message_id(message_id.into())
        .with_type(message_type.into())
        .with_correlation_id(correlation_id.into())
        .with_app_id(app_id.into())
        .with_timestamp(chrono::Utc::now().timestamp().max(0).cast_unsigned())
        .with_headers(headers)
}
