//! The notifications service's queries, by table; they return `sqlx` results and plain rows.

pub mod applicants;
pub mod mails;
