//! DVVK: the state's classification of the channel a document moved through (dokumendivahetuse
//! viisi kood). Every document exchange in Kutse is counted under one of these codes, at the most
//! specific level known; the counts feed the state's questionnaire on provable official
//! communication (questions B7–B15).

use std::fmt;

use serde::{Deserialize, Serialize};

/// A DVVK channel code. The numeric code is the wire form (`"dvvk": 323`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "u16", into = "u16")]
pub enum Dvvk {
    /// 1 — oral: a phone call or visit recorded as a document.
    Oral,
    /// 2 — paper: letter, registered mail, hand delivery, courier, fax machine. Also the code for
    /// an exchange when paper and electronic cannot be told apart.
    Paper,
    /// 3 — electronic, not further determined.
    Electronic,
    /// 31 — over X-tee, not further determined.
    XTee,
    /// 311 — over X-tee through the document exchange centre (DVK).
    XTeeDvk,
    /// 312 — web form over X-tee.
    XTeeWebForm,
    /// 313 — system to system over X-tee.
    XTeeSystemToSystem,
    /// 32 — electronic without X-tee, not further determined.
    NonXTee,
    /// 321 — e-mail.
    Email,
    /// 322 — fax sent or received electronically.
    ElectronicFax,
    /// 323 — web form without X-tee (an application submitted through a portal).
    WebForm,
    /// 324 — system to system without X-tee (a protocol arriving from another system).
    SystemToSystem,
    /// 325 — file exchange without X-tee: upload, download, FTP, self-service download.
    FileExchange,
    /// 326 — shared database.
    SharedDatabase,
    /// 327 — social media.
    SocialMedia,
    /// 4 — undetermined.
    Undetermined,
}

/// A number that is not a DVVK code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0} is not a DVVK channel code")]
pub struct UnknownDvvk(pub u16);

impl Dvvk {
    /// Every code, from the most general to the most specific within each branch.
    pub const ALL: [Dvvk; 16] = [
        Dvvk::Oral,
        Dvvk::Paper,
        Dvvk::Electronic,
        Dvvk::XTee,
        Dvvk::XTeeDvk,
        Dvvk::XTeeWebForm,
        Dvvk::XTeeSystemToSystem,
        Dvvk::NonXTee,
        Dvvk::Email,
        Dvvk::ElectronicFax,
        Dvvk::WebForm,
        Dvvk::SystemToSystem,
        Dvvk::FileExchange,
        Dvvk::SharedDatabase,
        Dvvk::SocialMedia,
        Dvvk::Undetermined,
    ];

    /// The numeric code.
    pub const fn code(self) -> u16 {
        match self {
            Dvvk::Oral => 1,
            Dvvk::Paper => 2,
            Dvvk::Electronic => 3,
            Dvvk::XTee => 31,
            Dvvk::XTeeDvk => 311,
            Dvvk::XTeeWebForm => 312,
            Dvvk::XTeeSystemToSystem => 313,
            Dvvk::NonXTee => 32,
            Dvvk::Email => 321,
            Dvvk::ElectronicFax => 322,
            Dvvk::WebForm => 323,
            Dvvk::SystemToSystem => 324,
            Dvvk::FileExchange => 325,
            Dvvk::SharedDatabase => 326,
            Dvvk::SocialMedia => 327,
            Dvvk::Undetermined => 4,
        }
    }

    /// The code from its number.
    pub fn from_code(code: u16) -> Result<Self, UnknownDvvk> {
        Self::ALL
            .into_iter()
            .find(|d| d.code() == code)
            .ok_or(UnknownDvvk(code))
    }

    /// The more general code this one refines (`323` → `32` → `3`); `None` at the top level.
    pub fn parent(self) -> Option<Dvvk> {
        let code = self.code();
        (code >= 10)
            .then(|| Self::from_code(code / 10).ok())
            .flatten()
    }

    /// The channel's name in English.
    pub fn description(self) -> &'static str {
        match self {
            Dvvk::Oral => "oral",
            Dvvk::Paper => "paper",
            Dvvk::Electronic => "electronic, not further determined",
            Dvvk::XTee => "over X-tee, not further determined",
            Dvvk::XTeeDvk => "over X-tee through the document exchange centre (DVK)",
            Dvvk::XTeeWebForm => "web form over X-tee",
            Dvvk::XTeeSystemToSystem => "system to system over X-tee",
            Dvvk::NonXTee => "electronic without X-tee, not further determined",
            Dvvk::Email => "e-mail",
            Dvvk::ElectronicFax => "fax sent or received electronically",
            Dvvk::WebForm => "web form without X-tee",
            Dvvk::SystemToSystem => "system to system without X-tee",
            Dvvk::FileExchange => "file exchange without X-tee",
            Dvvk::SharedDatabase => "shared database",
            Dvvk::SocialMedia => "social media",
            Dvvk::Undetermined => "undetermined",
        }
    }
}

impl TryFrom<u16> for Dvvk {
    type Error = UnknownDvvk;
    fn try_from(code: u16) -> Result<Self, Self::Error> {
        Self::from_code(code)
    }
}

impl From<Dvvk> for u16 {
    fn from(d: Dvvk) -> u16 {
        d.code()
    }
}

impl fmt::Display for Dvvk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_round_trips_through_its_number() {
        for d in Dvvk::ALL {
            assert_eq!(Dvvk::from_code(d.code()), Ok(d));
        }
        assert_eq!(Dvvk::from_code(5), Err(UnknownDvvk(5)));
        assert_eq!(Dvvk::from_code(328), Err(UnknownDvvk(328)));
    }

    #[test]
    fn specific_codes_refine_general_ones() {
        assert_eq!(Dvvk::WebForm.parent(), Some(Dvvk::NonXTee));
        assert_eq!(Dvvk::NonXTee.parent(), Some(Dvvk::Electronic));
        assert_eq!(Dvvk::Electronic.parent(), None);
        assert_eq!(Dvvk::XTeeDvk.parent(), Some(Dvvk::XTee));
        assert_eq!(Dvvk::Paper.parent(), None);
    }

    #[test]
    fn wire_form_is_the_number() {
        assert_eq!(
            serde_json::to_string(&Dvvk::FileExchange).expect("json"),
            "325"
        );
        assert_eq!(
            serde_json::from_str::<Dvvk>("321").expect("json"),
            Dvvk::Email
        );
        assert!(serde_json::from_str::<Dvvk>("9").is_err());
    }
}
