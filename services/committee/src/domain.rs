//! The committee's rules: a session's state machine.
//!
//! ```text
//! voting ──staff freezes the protocol (chair with an active key)──▶ closed ──chair's verified signature──▶ signed
//! ```
//!
//! A session never goes back: a frozen protocol is signed as frozen or not at all, and a signed one
//! is the register's to apply or reject.

/// Where a committee session is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionStatus {
    /// Members vote on the agenda.
    Voting,
    /// The protocol is frozen and waits for the chair's signature.
    Closed,
    /// The chair signed; `protocol.signed` is published.
    Signed,
}

impl SessionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            SessionStatus::Voting => "voting",
            SessionStatus::Closed => "closed",
            SessionStatus::Signed => "signed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Voting, Self::Closed, Self::Signed]
            .into_iter()
            .find(|status| status.as_str() == s)
    }

    /// Whether the state machine allows moving from `self` to `next`.
    pub fn may_become(self, next: Self) -> bool {
        matches!(
            (self, next),
            (SessionStatus::Voting, SessionStatus::Closed)
                | (SessionStatus::Closed, SessionStatus::Signed)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::SessionStatus::{self, Closed, Signed, Voting};

    #[test]
    fn a_session_only_moves_forward_one_step_at_a_time() {
        let all = [Voting, Closed, Signed];
        for from in all {
            for to in all {
                assert_eq!(
                    from.may_become(to),
                    matches!((from, to), (Voting, Closed) | (Closed, Signed)),
                    "{from:?} → {to:?}"
                );
            }
            assert_eq!(SessionStatus::parse(from.as_str()), Some(from));
        }
    }
}
