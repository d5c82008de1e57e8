//! Amounts of money in euro cents. Fees and shipping costs are never floating point.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A non-negative amount in euro cents (`17000` is 170.00 €).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(try_from = "i64", into = "i64")]
pub struct Money(i64);

/// Why an amount was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("amount must not be negative")]
    Negative,
    #[error("amount is too large")]
    Overflow,
}

/// Amounts above this (10 million euro) are surely a typing error in this domain.
const MAX_CENTS: i64 = 1_000_000_000;

impl Money {
    pub const ZERO: Money = Money(0);

    /// An amount from cents.
    pub fn from_cents(cents: i64) -> Result<Self, MoneyError> {
        match cents {
            c if c < 0 => Err(MoneyError::Negative),
            c if c > MAX_CENTS => Err(MoneyError::Overflow),
            c => Ok(Self(c)),
        }
    }

    /// An amount from whole euros.
    pub fn from_euros(euros: i64) -> Result<Self, MoneyError> {
        Self::from_cents(euros.checked_mul(100).ok_or(MoneyError::Overflow)?)
    }

    pub fn cents(self) -> i64 {
        self.0
    }

    /// The sum, refusing an overflow.
    pub fn checked_add(self, other: Money) -> Result<Money, MoneyError> {
        Self::from_cents(self.0.checked_add(other.0).ok_or(MoneyError::Overflow)?)
    }
}

impl TryFrom<i64> for Money {
    type Error = MoneyError;
    fn try_from(cents: i64) -> Result<Self, Self::Error> {
        Self::from_cents(cents)
    }
}

impl From<Money> for i64 {
    fn from(m: Money) -> i64 {
        m.0
    }
}

/// Estonian notation: `170,00 €`.
impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{},{:02} €", self.0 / 100, self.0 % 100)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fees_are_shown_in_estonian_notation() {
        assert_eq!(Money::from_euros(170).expect("ok").to_string(), "170,00 €");
        assert_eq!(
            Money::from_cents(13_505).expect("ok").to_string(),
            "135,05 €"
        );
    }

    #[test]
    fn negative_and_absurd_amounts_are_refused() {
        assert_eq!(Money::from_cents(-1), Err(MoneyError::Negative));
        assert_eq!(Money::from_cents(MAX_CENTS + 1), Err(MoneyError::Overflow));
        assert_eq!(Money::from_euros(i64::MAX), Err(MoneyError::Overflow));
        let json: Result<Money, _> = serde_json::from_str("-5");
        assert!(json.is_err());
    }

    #[test]
    fn sums_are_checked() {
        let a = Money::from_euros(170).expect("ok");
        assert_eq!(a.checked_add(a).expect("ok").cents(), 34_000);
        let max = Money::from_cents(MAX_CENTS).expect("ok");
        assert_eq!(max.checked_add(a), Err(MoneyError::Overflow));
    }
}
