//! The assessment's queries, by table; they return `sqlx` results and plain rows and know nothing
//! of HTTP.

pub mod appeals;
pub mod cases;
pub mod exams;
pub mod procedure;
