//! Intake's rules: the application's state machine and the submission deadline. The shared
//! vocabulary (application kinds, delivery options, languages) is in `kutse_domain`.

pub use kutse_domain::{ApplicationKind, DeliveryOption, Language};

/// Where an application is. Statuses only move forward along the declared state machine:
///
/// ```text
/// draft ──submit──▶ awaiting_fee ──fee confirmed──▶ submitted ──protocol──▶ awarded | refused
///   └────────submit (fee already confirmed)────────────▲
/// ```
///
/// An outcome (`awarded`, `refused`) is final: a signed protocol decided it, and corrections go
/// through appeal or revocation, never by deciding again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ApplicationStatus {
    Draft,
    /// Submitted by the applicant; processing waits until the body confirms the fee.
    AwaitingFee,
    Submitted,
    Awarded,
    Refused,
}

impl ApplicationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ApplicationStatus::Draft => "draft",
            ApplicationStatus::AwaitingFee => "awaiting_fee",
            ApplicationStatus::Submitted => "submitted",
            ApplicationStatus::Awarded => "awarded",
            ApplicationStatus::Refused => "refused",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            ApplicationStatus::Draft,
            ApplicationStatus::AwaitingFee,
            ApplicationStatus::Submitted,
            ApplicationStatus::Awarded,
            ApplicationStatus::Refused,
        ]
        .into_iter()
        .find(|status| status.as_str() == s)
    }

    /// Whether the state machine allows moving from `self` to `next`. A refusal goes back to
    /// `submitted` only when the committee upholds an appeal against it (`appeal.resolved`).
    pub fn may_become(self, next: Self) -> bool {
        use ApplicationStatus::{AwaitingFee, Awarded, Draft, Refused, Submitted};
        matches!(
            (self, next),
            (Draft, AwaitingFee | Submitted)
                | (AwaitingFee, Submitted)
                | (Submitted, Awarded | Refused)
                | (Refused, Submitted)
        )
    }
}

/// An application as submitting it is judged: its state, its round, its documents.
#[derive(Debug, Clone)]
pub struct Submission {
    pub status: ApplicationStatus,
    pub fee_confirmed: bool,
    pub round_open: bool,
    pub deadline: chrono::NaiveDate,
    pub required_documents: Vec<String>,
    pub uploaded: std::collections::HashSet<String>,
}

/// Why an application cannot be submitted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SubmitError {
    #[error("the application is already {}", .0.as_str())]
    NotDraft(ApplicationStatus),
    #[error("the round is closed")]
    RoundClosed,
    #[error("the round's deadline {0} (end of the day in Tallinn) has passed")]
    DeadlinePassed(chrono::NaiveDate),
    #[error("documents the round requires are missing")]
    DocumentsMissing(Vec<String>),
}

impl Submission {
    /// Submits at `now`: the status the application moves to — `submitted` if the body has
    /// confirmed the fee, else `awaiting_fee` (processing starts once the fee is in).
    pub fn submit(
        &self,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<ApplicationStatus, SubmitError> {
        if self.status != ApplicationStatus::Draft {
            return Err(SubmitError::NotDraft(self.status));
        }
        if !self.round_open {
            return Err(SubmitError::RoundClosed);
        }
        if deadline_passed(self.deadline, now) {
            return Err(SubmitError::DeadlinePassed(self.deadline));
        }
        let missing: Vec<String> = self
            .required_documents
            .iter()
            .filter(|doc| !self.uploaded.contains(*doc))
            .cloned()
            .collect();
        if !missing.is_empty() {
            return Err(SubmitError::DocumentsMissing(missing));
        }
        Ok(if self.fee_confirmed {
            ApplicationStatus::Submitted
        } else {
            ApplicationStatus::AwaitingFee
        })
    }
}

/// Whether a round whose deadline is `deadline` still accepts a submission at `now`: until the end
/// of the deadline day in Tallinn, not in UTC (which would accept submissions up to three hours
/// late in summer).
pub fn deadline_passed(deadline: chrono::NaiveDate, now: chrono::DateTime<chrono::Utc>) -> bool {
    kutse_domain::tallinn_date(now) > deadline
}

#[cfg(test)]
mod tests {
    use super::ApplicationStatus::{self, AwaitingFee, Awarded, Draft, Refused, Submitted};

    #[test]
    fn a_submission_waits_for_the_fee_and_is_refused_for_the_rounds_reasons() {
        let now: chrono::DateTime<chrono::Utc> = "2026-12-01T10:00:00Z".parse().expect("now");
        let ok = super::Submission {
            status: Draft,
            fee_confirmed: false,
            round_open: true,
            deadline: "2026-12-18".parse().expect("date"),
            required_documents: vec!["cv".into()],
            uploaded: ["cv".to_owned()].into(),
        };
        assert_eq!(ok.submit(now), Ok(AwaitingFee));
        let paid = super::Submission {
            fee_confirmed: true,
            ..ok.clone()
        };
        assert_eq!(paid.submit(now), Ok(Submitted));
        let again = super::Submission {
            status: Submitted,
            ..ok.clone()
        };
        assert_eq!(
            again.submit(now),
            Err(super::SubmitError::NotDraft(Submitted))
        );
        let closed = super::Submission {
            round_open: false,
            ..ok.clone()
        };
        assert_eq!(closed.submit(now), Err(super::SubmitError::RoundClosed));
        let late: chrono::DateTime<chrono::Utc> = "2026-12-18T22:00:00Z".parse().expect("late");
        assert!(matches!(
            ok.submit(late),
            Err(super::SubmitError::DeadlinePassed(_))
        ));
        let bare = super::Submission {
            uploaded: Default::default(),
            ..ok
        };
        assert_eq!(
            bare.submit(now),
            Err(super::SubmitError::DocumentsMissing(vec!["cv".into()]))
        );
    }

    #[test]
    fn a_deadline_ends_at_midnight_in_tallinn() {
        let deadline = "2026-12-18".parse().expect("date");
        let at = |s: &str| s.parse().expect("instant");
        assert!(!super::deadline_passed(
            deadline,
            at("2026-12-18T21:59:59Z")
        ));
        // 22:00 UTC is midnight in Tallinn (UTC+2): the UTC date is still the 18th.
        assert!(super::deadline_passed(deadline, at("2026-12-18T22:00:00Z")));
        let summer = "2026-06-22".parse().expect("date");
        assert!(super::deadline_passed(summer, at("2026-06-22T21:00:00Z")));
        assert!(!super::deadline_passed(summer, at("2026-06-22T20:59:59Z")));
    }

    const ALL: [ApplicationStatus; 5] = [Draft, AwaitingFee, Submitted, Awarded, Refused];

    #[test]
    fn statuses_only_move_forward_and_outcomes_are_final_but_for_an_upheld_appeal() {
        let allowed = [
            (Draft, AwaitingFee),
            (Draft, Submitted),
            (AwaitingFee, Submitted),
            (Submitted, Awarded),
            (Submitted, Refused),
            // Only `appeal.resolved` (upheld) moves a refusal back.
            (Refused, Submitted),
        ];
        for from in ALL {
            for to in ALL {
                assert_eq!(
                    from.may_become(to),
                    allowed.contains(&(from, to)),
                    "{from:?} → {to:?}"
                );
            }
        }
    }

    #[test]
    fn statuses_read_back_from_their_names() {
        for status in ALL {
            assert_eq!(ApplicationStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(ApplicationStatus::parse("approved"), None);
    }
}
