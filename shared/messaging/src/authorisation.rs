//! Who may publish what on the broker, derived from the catalogue.
//!
//! Consumers refuse a message whose envelope type differs from its routing key; the broker
//! itself refuses a routing key the publisher may not use. Each service connects as its own
//! RabbitMQ user (`kutse-intake`, …) whose **topic permissions** on the events exchange allow
//! only the message types the catalogue says it produces; an outside issuance pipeline connects
//! as a user that may publish only `protocol.signed` (and read what it is told back). RabbitMQ
//! checks topic permissions on every publish to a topic exchange and closes the channel with
//! `ACCESS_REFUSED` otherwise.
//!
//! `deploy/rabbitmq/definitions.json` is this module's output for the `kutse` prefix (a test keeps
//! them equal); the local stack, compose and operators import it.
//!
//! Left to trust: services also publish retried and parked messages through the default exchange
//! into their own delay and parking queues, which the broker cannot restrict to their own queues
//! (`amq.default` write is all or nothing). Outside users never get it.

use crate::catalogue::{CATALOGUE, services};
use crate::topology::Topology;

/// The user an outside issuance pipeline connects as.
pub const PIPELINE: &str = "pipeline";

/// One RabbitMQ user's permissions: regular expressions over resource names (configure, write,
/// read) and over routing keys on the events exchange (topic write, topic read).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokerUser {
    pub name: String,
    pub configure: String,
    pub write: String,
    pub read: String,
    pub topic_write: String,
    pub topic_read: String,
}

/// Every user of a deployment: one per service, and the pipeline.
pub fn users(topology: &Topology) -> Vec<BrokerUser> {
    let mut users: Vec<BrokerUser> = services::ALL
        .iter()
        .map(|service| service_user(topology, service))
        .collect();
    users.push(pipeline_user(topology));
    users
}

/// A service's user: it declares the whole topology (every service does, at start), consumes and
/// reads queues of the prefix, moves its failed messages through the default exchange, and
/// publishes on the events exchange only the types it produces.
pub fn service_user(topology: &Topology, service: &str) -> BrokerUser {
    let prefix = regex_escape(&topology.prefix);
    let produced: Vec<&str> = CATALOGUE
        .iter()
        .filter(|spec| spec.producer == service)
        .map(|spec| spec.message_type)
        .collect();
    BrokerUser {
        name: user_name(topology, service),
        configure: format!("^{prefix}\\..*"),
        write: format!("^(amq\\.default|{prefix}\\..*)$"),
        read: format!("^{prefix}\\..*"),
        topic_write: one_of(&produced),
        topic_read: ".*".to_owned(),
    }
}

/// The outside pipeline's user: publishes `protocol.signed` on the events exchange and reads
/// queues of its own (`<prefix>.pipeline.*`, which the operator declares and binds to the
/// answers, `protocol.accepted` and `protocol.rejected`). It may declare nothing: an exchange of
/// its own bound to the events exchange would carry any routing key past the topic permissions.
pub fn pipeline_user(topology: &Topology) -> BrokerUser {
    let prefix = regex_escape(&topology.prefix);
    BrokerUser {
        name: user_name(topology, PIPELINE),
        configure: "^$".to_owned(),
        write: format!("^({prefix}\\.events|{prefix}\\.{PIPELINE}\\..*)$"),
        read: format!("^({prefix}\\.events|{prefix}\\.{PIPELINE}\\..*)$"),
        topic_write: one_of(&["protocol.signed"]),
        topic_read: one_of(&["protocol.accepted", "protocol.rejected"]),
    }
}

/// `kutse-intake`, `kutse-pipeline`: the prefix, a dash, the role.
pub fn user_name(topology: &Topology, role: &str) -> String {
    format!("{}-{role}", topology.prefix)
}

/// The RabbitMQ definitions (users with the given password hash, permissions, topic permissions
/// on vhost `/`), as `rabbitmqctl import_definitions` and the management API take them.
pub fn definitions(
    topology: &Topology,
    password_hash: impl Fn(&str) -> String,
) -> serde_json::Value {
    let users = users(topology);
    serde_json::json!({
        // A node that loads these at its first boot has no vhost yet.
        "vhosts": [{ "name": "/" }],
        "users": users.iter().map(|u| serde_json::json!({
            "name": u.name,
            "password_hash": password_hash(&u.name),
            "hashing_algorithm": "rabbit_password_hashing_sha256",
            "tags": [],
        })).collect::<Vec<_>>(),
        "permissions": users.iter().map(|u| serde_json::json!({
            "user": u.name, "vhost": "/",
            "configure": u.configure, "write": u.write, "read": u.read,
        })).collect::<Vec<_>>(),
        "topic_permissions": users.iter().map(|u| serde_json::json!({
            "user": u.name, "vhost": "/", "exchange": topology.exchange(),
            "write": u.topic_write, "read": u.topic_read,
        })).collect::<Vec<_>>(),
    })
}

/// A regular expression matching exactly these routing keys (nothing, if there are none).
fn one_of(keys: &[&str]) -> String {
    if keys.is_empty() {
        // Matches no routing key: the user may publish nothing on the events exchange.
        return "^$".to_owned();
    }
    let escaped: Vec<String> = keys.iter().map(|k| regex_escape(k)).collect();
    format!("^({})$", escaped.join("|"))
}

fn regex_escape(s: &str) -> String {
    s.chars()
        .flat_map(|c| {
            let special = "\\.+*?()|[]{}^$#&-~".contains(c);
            special
                .then_some('\\')
                .into_iter()
                .chain(std::iter::once(c))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_service_may_publish_only_what_it_produces() {
        let topology = Topology::default();
        let intake = service_user(&topology, services::INTAKE);
        assert_eq!(intake.name, "kutse-intake");
        assert_eq!(
            intake.topic_write,
            "^(application\\.submitted|application\\.awaiting_fee|application\\.created|role\\.appointed|role\\.removed|question\\.asked|question\\.forwarded|question\\.answered)$"
        );
        let notifications = service_user(&topology, services::NOTIFICATIONS);
        assert_eq!(
            notifications.topic_write,
            "^(notice\\.sent|document_exchange\\.notifications)$"
        );
        let pipeline = pipeline_user(&topology);
        assert_eq!(pipeline.topic_write, "^(protocol\\.signed)$");
        assert!(!pipeline.write.contains("amq"));
        assert_eq!(pipeline.configure, "^$", "a pipeline declares nothing");
    }

    #[test]
    fn the_shipped_definitions_are_the_catalogues() {
        let shipped: serde_json::Value =
            serde_json::from_str(include_str!("../../../deploy/rabbitmq/definitions.json"))
                .expect("definitions.json is JSON");
        let hashes: std::collections::HashMap<String, String> = shipped["users"]
            .as_array()
            .expect("users")
            .iter()
            .map(|u| {
                (
                    u["name"].as_str().unwrap_or_default().to_owned(),
                    u["password_hash"].as_str().unwrap_or_default().to_owned(),
                )
            })
            .collect();
        let expected = definitions(&Topology::default(), |name| {
            hashes.get(name).cloned().unwrap_or_default()
        });
        assert_eq!(
            shipped,
            expected,
            "deploy/rabbitmq/definitions.json is out of step with the catalogue; regenerate it:\n{}",
            serde_json::to_string_pretty(&expected).unwrap_or_default()
        );
        for (name, hash) in hashes {
            assert!(!hash.is_empty(), "{name} has no password hash");
        }
    }
}
