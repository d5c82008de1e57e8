//! The whole-system tests, one binary (one link instead of eight): all six services in one
//! process against the real local stack. A module per area; each test builds what it needs.

mod assessment;
mod bad_input;
mod certificates;
mod committee;
mod contract;
mod credentials;
mod documents;
mod dvvk;
mod flow;
mod health;
mod identity;
mod intake;
mod notifications;
mod operations;
mod procedure;
mod questions;
mod traces;
