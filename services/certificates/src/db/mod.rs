//! The register's queries, by table; they return `sqlx` results and plain rows and know nothing
//! of HTTP.

pub mod applications;
pub mod duplicates;
pub mod expiry;
pub mod holders;
pub mod outcomes;
pub mod protocols;
pub mod renderings;
pub mod search;
pub mod signer_keys;
pub mod status;
