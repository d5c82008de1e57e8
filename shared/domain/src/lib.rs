//! The domain kernel: value types every Kutse service shares, each of which can only hold a
//! valid value. They are built by `parse` (or `TryFrom`) and never by setting fields, so a
//! function that receives an [`Isikukood`] or a [`Money`] never has to check it again.
//!
//! # Layout
//! - [`isikukood`]: the Estonian personal identification code.
//! - [`money`]: amounts in euro cents.
//! - [`calendar`]: the Estonian working-day calendar (weekends and public holidays).
//! - [`clocks`]: the assessment procedure's legal clocks (review, decision, notice, appeal).
//! - [`dvvk`]: the state's document-exchange channel codes.

pub mod calendar;
pub mod clocks;
pub mod dvvk;
pub mod isikukood;
pub mod money;
mod openapi;
pub mod vocabulary;

pub use calendar::{WorkingDays, tallinn_date, tallinn_midnight, tallinn_today};
pub use dvvk::Dvvk;
pub use isikukood::{Isikukood, IsikukoodError, Sex};
pub use money::{Money, MoneyError};
pub use vocabulary::{
    ApplicationKind, DeliveryOption, DocumentType, DuplicateReason, Email, FileKind, Language,
    VocabularyError,
};
