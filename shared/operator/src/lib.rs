//! # kutse-operator
//!
//! Command-line tools, kept out of the libraries they drive:
//! - `kutse-protocol`: a committee chair's signer key (make, register, confirm), signing a frozen
//!   protocol, publishing it as `protocol.signed` (as an outside pipeline would);
//! - `kutse-ops`: a service's parked messages: list, show, replay, purge ([`parked`]);
//! - `kutse-dev-token`: development tokens the local stack trusts.
//!
//! # Layout
//! - `src/bin/kutse-protocol.rs`, `src/bin/kutse-ops.rs`, `src/bin/kutse-dev-token.rs`: the
//!   tools (`--help` on each).
//! - `src/parked.rs`: going through a parking queue without losing what it holds; the system
//!   tests drive it against services that parked real messages.
//! - `tests/cli.rs`: the protocol tool end to end against the local broker.

pub mod parked;
