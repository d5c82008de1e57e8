//! Exchange and queue names, and their declarations.
//!
//! ```text
//!  publishers ──▶ kutse.events (topic, durable)
//!                   │ binding per message type the service consumes
//!                   ▼
//!                kutse.<service>            quorum; x-delivery-limit → parked
//!                   │ handler fails (transient)          ▲
//!                   ▼                                    │ TTL expires
//!                kutse.<service>.retry.<ms>ms ───────────┘ (one delay queue per back-off step)
//!                   │ every step used, or malformed, or rejected
//!                   ▼
//!                kutse.<service>.parked     quorum; kept for an operator, with the error in headers
//! ```
//!
//! Every name starts with a prefix (`kutse` in deployments); tests use a prefix of their own so
//! they can share one broker and run in parallel.

use std::time::Duration;

use lapin::options::{ExchangeDeclareOptions, QueueBindOptions, QueueDeclareOptions};
use lapin::types::{AMQPValue, FieldTable, ShortString};
use lapin::{Channel, ExchangeKind};

/// The broker layout for one deployment (or one test).
#[derive(Debug, Clone)]
pub struct Topology {
    /// First part of every exchange and queue name.
    pub prefix: String,
    /// Back-off before each retry of a failed message; its length is the number of retries.
    pub retry_delays: Vec<Duration>,
    /// Deliveries after which the quorum queue itself parks a message. This is the last guard,
    /// for a message that crashes the consumer before it can count the failure itself.
    pub delivery_limit: u32,
    /// Unused queues are deleted after this long (`x-expires`). For tests only: a deployment's
    /// queues must outlive any outage of their consumers.
    pub queue_expiry: Option<Duration>,
}

impl Default for Topology {
    fn default() -> Self {
        Self {
            prefix: "kutse".to_owned(),
            retry_delays: [1, 10, 60, 300]
                .into_iter()
                .map(Duration::from_secs)
                .collect(),
            delivery_limit: 20,
            queue_expiry: None,
        }
    }
}

impl Topology {
    /// The topic exchange every event is published to.
    pub fn exchange(&self) -> String {
        format!("{}.events", self.prefix)
    }

    /// A consuming service's queue.
    pub fn queue(&self, service: &str) -> String {
        format!("{}.{service}", self.prefix)
    }

    /// The delay queue of a retry step. The delay is in the name because a queue's TTL cannot
    /// change once declared: a new back-off schedule declares new queues instead of failing.
    pub fn retry_queue(&self, service: &str, delay: Duration) -> String {
        format!("{}.{service}.retry.{}ms", self.prefix, delay.as_millis())
    }

    /// A service's parking (dead-letter) queue.
    pub fn parked_queue(&self, service: &str) -> String {
        format!("{}.{service}.parked", self.prefix)
    }

    /// Declares the exchange (idempotent).
    pub async fn declare_exchange(&self, channel: &Channel) -> Result<(), lapin::Error> {
        channel
            .exchange_declare(
                self.exchange().into(),
                // Topic, so a consumer can bind to a family (`application.*`) as well as a type.
                ExchangeKind::Topic,
                ExchangeDeclareOptions {
                    // Survives a broker restart.
                    durable: true,
                    // Test topologies clean up after themselves: once their expiring queues are
                    // gone, the exchange goes too.
                    auto_delete: self.queue_expiry.is_some(),
                    ..ExchangeDeclareOptions::default()
                },
                FieldTable::default(),
            )
            .await
    }

    /// Declares a service's queue, delay queues and parking queue, and binds its queue to the
    /// routing keys it consumes (idempotent).
    pub async fn declare_consumer(
        &self,
        channel: &Channel,
        service: &str,
        bindings: &[&str],
    ) -> Result<(), lapin::Error> {
        self.declare_exchange(channel).await?;
        let queue = self.queue(service);
        let parked = self.parked_queue(service);

        // Parked messages wait for a person; nothing else reads them.
        self.declare_queue(channel, &parked, self.quorum_args())
            .await?;

        let mut main_args = self.quorum_args();
        // The last guard: a message delivered this many times without being settled (a consumer
        // that crashes on it) goes to the parking queue instead of looping forever.
        main_args.insert(
            "x-delivery-limit".into(),
            AMQPValue::LongLongInt(i64::from(self.delivery_limit)),
        );
        dead_letter_to(&mut main_args, &parked);
        self.declare_queue(channel, &queue, main_args).await?;

        for delay in &self.retry_delays {
            let mut args = self.quorum_args();
            // A message waits here for `delay`, then dead-letters back into the service's queue.
            args.insert(
                "x-message-ttl".into(),
                AMQPValue::LongLongInt(i64::try_from(delay.as_millis()).unwrap_or(i64::MAX)),
            );
            dead_letter_to(&mut args, &queue);
            self.declare_queue(channel, &self.retry_queue(service, *delay), args)
                .await?;
        }

        for key in bindings {
            channel
                .queue_bind(
                    queue.as_str().into(),
                    self.exchange().into(),
                    (*key).into(),
                    QueueBindOptions::default(),
                    FieldTable::default(),
                )
                .await?;
        }
        Ok(())
    }

    /// Declares the whole layout the catalogue implies: the exchange and, for every consuming
    /// service, its queue, delay queues, parking queue and bindings (idempotent).
    ///
    /// Every service runs this at start, and `kutse-<service> topology` runs it once before a
    /// deployment starts, so that no event is ever published while a consumer's queue is missing:
    /// the broker would confirm it as routed (to the queues that exist) and the absent consumer
    /// would never see it.
    pub async fn declare_all(&self, channel: &Channel) -> Result<(), lapin::Error> {
        for service in crate::catalogue::services::ALL {
            let bindings = crate::catalogue::bindings_for(service);
            if !bindings.is_empty() {
                self.declare_consumer(channel, service, &bindings).await?;
            }
        }
        // Bindings are only ever added by declaring; those the catalogue dropped are removed
        // here, so an existing broker stops routing them (unbinding what is not bound is a no-op).
        for (service, key) in crate::catalogue::RETIRED_BINDINGS {
            channel
                .queue_unbind(
                    self.queue(service).as_str().into(),
                    self.exchange().into(),
                    (*key).into(),
                    FieldTable::default(),
                )
                .await?;
        }
        Ok(())
    }

    /// Every queue [`Topology::declare_all`] declares.
    pub fn queue_names(&self) -> Vec<String> {
        crate::catalogue::services::ALL
            .iter()
            .filter(|service| !crate::catalogue::bindings_for(service).is_empty())
            .flat_map(|service| {
                let mut names = vec![self.queue(service), self.parked_queue(service)];
                names.extend(
                    self.retry_delays
                        .iter()
                        .map(|delay| self.retry_queue(service, *delay)),
                );
                names
            })
            .collect()
    }

    /// Deletes every queue of the layout and the exchange: for tests, which clean up what they
    /// declared instead of leaving hundreds of quorum queues to expire at once (RabbitMQ stops
    /// answering while it deletes many together).
    pub async fn delete_all(&self, channel: &Channel) -> Result<(), lapin::Error> {
        for queue in self.queue_names() {
            channel
                .queue_delete(queue.as_str().into(), Default::default())
                .await?;
        }
        channel
            .exchange_delete(self.exchange().as_str().into(), Default::default())
            .await
    }

    /// Deletes one consumer's queue, delay queues and parking queue (tests of a consumer that is
    /// not one of the catalogue's services).
    pub async fn delete_consumer(
        &self,
        channel: &Channel,
        service: &str,
    ) -> Result<(), lapin::Error> {
        let mut names = vec![self.queue(service), self.parked_queue(service)];
        names.extend(
            self.retry_delays
                .iter()
                .map(|d| self.retry_queue(service, *d)),
        );
        for queue in names {
            channel
                .queue_delete(queue.as_str().into(), Default::default())
                .await?;
        }
        Ok(())
    }

    fn quorum_args(&self) -> FieldTable {
        let mut args = FieldTable::default();
        // Quorum queues are replicated and durable: a broker node's loss loses no message.
        args.insert("x-queue-type".into(), long_string("quorum"));
        if let Some(expiry) = self.queue_expiry {
            args.insert(
                "x-expires".into(),
                AMQPValue::LongLongInt(i64::try_from(expiry.as_millis()).unwrap_or(i64::MAX)),
            );
        }
        args
    }

    async fn declare_queue(
        &self,
        channel: &Channel,
        name: &str,
        args: FieldTable,
    ) -> Result<(), lapin::Error> {
        channel
            .queue_declare(
                name.into(),
                QueueDeclareOptions {
                    durable: true,
                    ..QueueDeclareOptions::default()
                },
                args,
            )
            .await
            .map(|_| ())
    }
}

fn long_string(s: &str) -> AMQPValue {
    AMQPValue::LongString(s.into())
}

/// Dead-letters into `queue` through the default exchange, at least once: with
/// `x-dead-letter-strategy: at-least-once` the broker keeps the message until the target queue
/// confirmed it, so a retry or a parked message is never lost on the way (this needs
/// `x-overflow: reject-publish`).
fn dead_letter_to(args: &mut FieldTable, queue: &str) {
    args.insert("x-dead-letter-exchange".into(), long_string(""));
    args.insert(
        ShortString::from("x-dead-letter-routing-key"),
        long_string(queue),
    );
    args.insert(
        "x-dead-letter-strategy".into(),
        long_string("at-least-once"),
    );
    args.insert("x-overflow".into(), long_string("reject-publish"));
}
