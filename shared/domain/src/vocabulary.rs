//! The contract's vocabulary: the values applications, documents and messages are made of, each a
//! type that can only hold a valid value, parsed from the strings the API, the database and the
//! messages use (the strings on the wire are unchanged).

use std::fmt;

use serde::{Deserialize, Serialize};

/// A string that is not a valid value of a vocabulary type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{value:?} is not a valid {what}")]
pub struct VocabularyError {
    pub what: &'static str,
    pub value: String,
}

macro_rules! vocabulary {
    ($(#[$meta:meta])* $name:ident, $what:literal { $($(#[$vmeta:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($(#[$vmeta])* $variant),+
        }

        impl $name {
            /// Every value.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }

            pub fn parse(s: &str) -> Result<Self, VocabularyError> {
                Self::ALL
                    .iter()
                    .copied()
                    .find(|v| v.as_str() == s)
                    .ok_or_else(|| VocabularyError { what: $what, value: s.to_owned() })
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

vocabulary! {
    /// What is applied for (DOMAIN.md, "What is applied for").
    ApplicationKind, "application kind" {
        /// First application for a qualification (kutse taotlemine).
        Initial = "initial",
        /// Renewing a qualification (taastõendamine).
        Recertification = "recertification",
        /// Recognition of prior learning and work experience (VÕTA).
        PriorLearning = "prior_learning",
        /// A new copy of an existing certificate.
        Duplicate = "duplicate",
    }
}

vocabulary! {
    /// Why a holder asks for a duplicate of their certificate (DOMAIN.md: the original lost, or
    /// the holder's name changed).
    DuplicateReason, "duplicate reason (lost, damaged or name_changed)" {
        /// The original was lost.
        Lost = "lost",
        /// The original was damaged.
        Damaged = "damaged",
        /// The holder's name changed: the duplicate carries the new name.
        NameChanged = "name_changed",
    }
}

vocabulary! {
    /// How the certificate reaches its holder.
    DeliveryOption, "delivery option" {
        Pickup = "pickup",
        Post = "post",
        Electronic = "electronic",
    }
}

vocabulary! {
    /// The language of a person's e-mails.
    Language, "language" {
        Et = "et",
        En = "en",
    }
}

#[expect(
    clippy::derivable_impls,
    reason = "the vocabulary macro derives the same traits for every enum"
)]
impl Default for Language {
    fn default() -> Self {
        Language::Et
    }
}

vocabulary! {
    /// A kind of file, as its bytes tell (the documents service judges uploads by content). A
    /// round may name, per document type, the kinds it accepts.
    FileKind, "file kind (pdf, png, jpeg, asice, docx, xlsx, odt, ods)" {
        Pdf = "pdf",
        Png = "png",
        Jpeg = "jpeg",
        /// A signed container (ASiC-E; BDOC is the same format).
        Asice = "asice",
        Docx = "docx",
        Xlsx = "xlsx",
        Odt = "odt",
        Ods = "ods",
    }
}

impl FileKind {
    /// The MIME type a file of this kind is stored with.
    pub const fn mime(self) -> &'static str {
        match self {
            FileKind::Pdf => "application/pdf",
            FileKind::Png => "image/png",
            FileKind::Jpeg => "image/jpeg",
            FileKind::Asice => "application/vnd.etsi.asic-e+zip",
            FileKind::Docx => {
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
            }
            FileKind::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            FileKind::Odt => "application/vnd.oasis.opendocument.text",
            FileKind::Ods => "application/vnd.oasis.opendocument.spreadsheet",
        }
    }
}

/// A document type (`cv`, `employment_proof`, `payment_proof`, …): lowercase words joined by `_`,
/// at most 50 characters. Rounds name the types they require; uploads say which one they are.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DocumentType(String);

impl DocumentType {
    pub fn parse(s: &str) -> Result<Self, VocabularyError> {
        let ok = !s.is_empty()
            && s.len() <= 50
            && s.bytes().all(|b| b.is_ascii_lowercase() || b == b'_');
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(VocabularyError {
                what: "document type (lowercase words joined by _, e.g. cv)",
                value: s.to_owned(),
            })
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An e-mail address that can plausibly receive mail: one `@`, a dotted domain, no whitespace,
/// at most 254 characters. (Whether it exists only sending tells.)
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

impl Email {
    pub fn parse(s: &str) -> Result<Self, VocabularyError> {
        let s = s.trim();
        let plausible = s.len() <= 254
            && !s.contains(char::is_whitespace)
            && matches!(s.split_once('@'), Some((local, domain))
                if !local.is_empty() && !domain.contains('@') && domain.contains('.')
                    && !domain.starts_with('.') && !domain.ends_with('.'));
        if plausible {
            Ok(Self(s.to_owned()))
        } else {
            Err(VocabularyError {
                what: "e-mail address",
                value: s.to_owned(),
            })
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

macro_rules! string_newtype {
    ($($name:ident),+) => {$(
        impl TryFrom<String> for $name {
            type Error = VocabularyError;
            fn try_from(s: String) -> Result<Self, Self::Error> {
                Self::parse(&s)
            }
        }

        impl From<$name> for String {
            fn from(v: $name) -> String {
                v.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    )+};
}

string_newtype!(DocumentType, Email);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vocabulary_reads_back_from_its_strings_and_refuses_others() {
        for kind in ApplicationKind::ALL {
            assert_eq!(ApplicationKind::parse(kind.as_str()), Ok(*kind));
        }
        assert!(ApplicationKind::parse("priorlearning").is_err());
        assert_eq!(
            serde_json::to_string(&DeliveryOption::Electronic).expect("json"),
            "\"electronic\""
        );
        assert_eq!(Language::default(), Language::Et);
    }

    #[test]
    fn document_types_and_emails_are_checked_when_read() {
        assert!(DocumentType::parse("employment_proof").is_ok());
        for bad in ["", "CV", "cv.pdf", "cv proof", &"x".repeat(51)] {
            assert!(DocumentType::parse(bad).is_err(), "{bad:?}");
        }
        assert!(Email::parse("mari@example.com").is_ok());
        for bad in [
            "mari",
            "mari@",
            "@example.com",
            "mari@example",
            "ma ri@example.com",
            "a@b@c.ee",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?}");
        }
        let parsed: Result<Email, _> = serde_json::from_str("\"not an address\"");
        assert!(parsed.is_err());
    }
}
