//! The committee's queries, by table; they return `sqlx` results and plain rows and know nothing
//! of HTTP.

pub mod agenda;
pub mod appeals;
pub mod roster;
pub mod sessions;
pub mod signer_keys;
