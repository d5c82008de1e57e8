//! Intake's vocabulary: application kinds, delivery options and statuses, each parsed from the
//! strings the API and the database use.

use serde::{Deserialize, Serialize};

/// What is applied for (DOMAIN.md, "What is applied for").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApplicationKind {
    /// First application for a qualification (kutse taotlemine).
    Initial,
    /// Renewing a qualification (taastõendamine).
    Recertification,
    /// Recognition of prior learning and work experience (VÕTA).
    PriorLearning,
    /// A new copy of an existing certificate.
    Duplicate,
}

impl ApplicationKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ApplicationKind::Initial => "initial",
            ApplicationKind::Recertification => "recertification",
            ApplicationKind::PriorLearning => "prior_learning",
            ApplicationKind::Duplicate => "duplicate",
        }
    }
}

/// How the certificate reaches its holder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryOption {
    Pickup,
    Post,
    Electronic,
}

impl DeliveryOption {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryOption::Pickup => "pickup",
            DeliveryOption::Post => "post",
            DeliveryOption::Electronic => "electronic",
        }
    }
}

/// The language of an applicant's e-mails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Language {
    #[default]
    Et,
    En,
}

impl Language {
    pub fn as_str(self) -> &'static str {
        match self {
            Language::Et => "et",
            Language::En => "en",
        }
    }
}

/// The document type that proves the fee was paid.
pub const PAYMENT_PROOF: &str = "payment_proof";
