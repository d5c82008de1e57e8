//! The Estonian personal identification code (isikukood), e.g. `38001085718`.
//!
//! Eleven digits `GYYMMDDSSSC`: `G` gives the century of birth and the sex (1–2: 1800s, 3–4:
//! 1900s, 5–6: 2000s, 7–8: 2100s; odd is male), `YYMMDD` the date of birth, `SSS` a serial
//! number and `C` the check digit (weights 1…9,1, modulo 11; if that gives 10, weights 3…9,1,2,3;
//! if that gives 10 again, 0). Standard: EVS 585:2007.

use std::fmt;
use std::str::FromStr;

use chrono::NaiveDate;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A personal identification code that has passed every check: length, digits, century digit,
/// date of birth and check digit.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Isikukood([u8; 11]);

/// Why a string is not a valid isikukood. The messages are fit to show to the person who typed it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IsikukoodError {
    #[error("must be 11 digits, got {0} characters")]
    Length(usize),
    #[error("must contain digits only")]
    NotDigits,
    #[error("first digit {0} is not a century/sex digit 1-8")]
    CenturyDigit(u8),
    #[error("digits 2-7 are not a real date of birth")]
    BirthDate,
    #[error("check digit is wrong")]
    CheckDigit,
}

/// Sex as encoded in the first digit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sex {
    Male,
    Female,
}

const WEIGHTS_1: [u32; 10] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 1];
const WEIGHTS_2: [u32; 10] = [3, 4, 5, 6, 7, 8, 9, 1, 2, 3];

fn check_digit(digits: &[u8; 11]) -> u8 {
    let sum = |weights: &[u32; 10]| -> u32 {
        digits[..10]
            .iter()
            .zip(weights)
            .map(|(d, w)| u32::from(*d) * w)
            .sum::<u32>()
            % 11
    };
    match sum(&WEIGHTS_1) {
        10 => match sum(&WEIGHTS_2) {
            10 => 0,
            r => r as u8,
        },
        r => r as u8,
    }
}

impl Isikukood {
    /// Parses a code, checking everything the code itself can tell.
    pub fn parse(input: &str) -> Result<Self, IsikukoodError> {
        let chars = input.chars().count();
        if chars != 11 {
            return Err(IsikukoodError::Length(chars));
        }
        let mut digits = [0u8; 11];
        for (slot, b) in digits.iter_mut().zip(input.bytes()) {
            if !b.is_ascii_digit() {
                return Err(IsikukoodError::NotDigits);
            }
            *slot = b - b'0';
        }
        if !(1..=8).contains(&digits[0]) {
            return Err(IsikukoodError::CenturyDigit(digits[0]));
        }
        let code = Self(digits);
        if code.birth_date_checked().is_none() {
            return Err(IsikukoodError::BirthDate);
        }
        if check_digit(&digits) != digits[10] {
            return Err(IsikukoodError::CheckDigit);
        }
        Ok(code)
    }

    fn number(&self, from: usize, len: usize) -> u32 {
        self.0[from..from + len]
            .iter()
            .fold(0, |acc, d| acc * 10 + u32::from(*d))
    }

    fn birth_date_checked(&self) -> Option<NaiveDate> {
        let century = 1800 + 100 * ((i32::from(self.0[0]) - 1) / 2);
        let year = century + self.number(1, 2) as i32;
        NaiveDate::from_ymd_opt(year, self.number(3, 2), self.number(5, 2))
    }

    /// The date of birth the code encodes.
    pub fn birth_date(&self) -> NaiveDate {
        // Checked in `parse`, the only way to build a value.
        self.birth_date_checked().unwrap_or(NaiveDate::MIN)
    }

    /// The sex the code encodes.
    pub fn sex(&self) -> Sex {
        if self.0[0] % 2 == 1 {
            Sex::Male
        } else {
            Sex::Female
        }
    }

    /// The code as the 11-digit string.
    pub fn as_string(&self) -> String {
        self.0.iter().map(|d| char::from(b'0' + d)).collect()
    }

    /// The subject identifier TARA puts in a token's `sub` claim: `EE` followed by the code.
    pub fn to_subject(&self) -> String {
        format!("EE{}", self.as_string())
    }

    /// Parses a TARA subject (`EE38001085718`). Other countries' subjects are refused.
    pub fn from_subject(subject: &str) -> Result<Self, IsikukoodError> {
        Self::parse(subject.strip_prefix("EE").unwrap_or(subject))
    }
}

impl fmt::Display for Isikukood {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.as_string())
    }
}

/// Personal codes are personal data: debug output (and so logs) shows only the birth year and sex
/// digit, never the whole code.
impl fmt::Debug for Isikukood {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Isikukood({}{}{}********)",
            self.0[0], self.0[1], self.0[2]
        )
    }
}

impl FromStr for Isikukood {
    type Err = IsikukoodError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for Isikukood {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.as_string())
    }
}

impl<'de> Deserialize<'de> for Isikukood {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn birth_date_and_sex_are_read_from_the_code() {
        let code = Isikukood::parse("38001085718").expect("valid");
        assert_eq!(
            code.birth_date(),
            NaiveDate::from_ymd_opt(1980, 1, 8).expect("date")
        );
        assert_eq!(code.sex(), Sex::Male);
        let code = Isikukood::parse("60108109486").expect("valid");
        assert_eq!(
            code.birth_date(),
            NaiveDate::from_ymd_opt(2001, 8, 10).expect("date")
        );
        assert_eq!(code.sex(), Sex::Female);
    }

    #[test]
    fn errors_name_what_is_wrong() {
        let cases = [
            ("3800101000", IsikukoodError::Length(10)),
            ("380010100000", IsikukoodError::Length(12)),
            ("38001O10000", IsikukoodError::NotDigits),
            ("08001010006", IsikukoodError::CenturyDigit(0)),
            ("98001010004", IsikukoodError::CenturyDigit(9)),
            ("38002300003", IsikukoodError::BirthDate),
            ("38001085719", IsikukoodError::CheckDigit),
            ("", IsikukoodError::Length(0)),
        ];
        for (input, expected) in cases {
            assert_eq!(Isikukood::parse(input), Err(expected), "{input:?}");
        }
    }

    #[test]
    fn debug_output_hides_the_code() {
        let code = Isikukood::parse("38001085718").expect("valid");
        let shown = format!("{code:?}");
        assert!(!shown.contains("38001085718"), "{shown}");
    }

    #[test]
    fn subject_round_trips() {
        let code = Isikukood::parse("38001085718").expect("valid");
        assert_eq!(code.to_subject(), "EE38001085718");
        assert_eq!(Isikukood::from_subject("EE38001085718"), Ok(code));
        assert!(Isikukood::from_subject("LV38001085718").is_err());
    }
}
