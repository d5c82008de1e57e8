//! # kutse-operator
//!
//! Command-line tools, kept out of the libraries they drive:
//! - `kutse-protocol`: a committee chair's signer key (make, register, confirm), signing a frozen
//!   protocol, publishing it as `protocol.signed` (as an outside pipeline would);
//! - `kutse-dev-token`: development tokens the local stack trusts.
//!
//! # Layout
//! - `src/bin/kutse-protocol.rs`, `src/bin/kutse-dev-token.rs`: the two tools (`--help` on each).
//! - `tests/cli.rs`: the protocol tool end to end against the local broker.
