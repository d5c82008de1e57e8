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
    /// More than one of the above: all of them, so they can be put right at once.
    #[error("the application cannot be submitted yet: {}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Several(Vec<SubmitError>),
}

impl SubmitError {
    /// One error for `all` that stand in the way (none: `None`).
    pub fn of(mut all: Vec<SubmitError>) -> Option<SubmitError> {
        match all.len() {
            0 => None,
            1 => all.pop(),
            _ => Some(SubmitError::Several(all)),
        }
    }
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
        // Everything that stands in the way is reported at once.
        let mut blocking = Vec::new();
        if !self.round_open {
            blocking.push(SubmitError::RoundClosed);
        }
        if deadline_passed(self.deadline, now) {
            blocking.push(SubmitError::DeadlinePassed(self.deadline));
        }
        let missing: Vec<String> = self
            .required_documents
            .iter()
            .filter(|doc| !self.uploaded.contains(*doc))
            .cloned()
            .collect();
        if !missing.is_empty() {
            blocking.push(SubmitError::DocumentsMissing(missing));
        }
        if let Some(e) = SubmitError::of(blocking) {
            return Err(e);
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

/// Why the certificate a recertification or a duplicate names cannot be taken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NamedCertificateError {
    /// Unknown, or someone else's: the same answer, so neither is revealed.
    #[error("not a certificate of yours")]
    NotYours,
    #[error("a certificate of another qualification than the round's")]
    OtherQualification,
    #[error("issued by another awarding body: its duplicate is ordered from that body")]
    OtherBody,
    #[error("the certificate is revoked")]
    Revoked,
    #[error("the certificate was succeeded by {0}; name that one")]
    Superseded(String),
    #[error("outside the awarding body's recertification window, from {from} to {until}")]
    OutsideWindow {
        from: chrono::NaiveDate,
        until: chrono::NaiveDate,
    },
}

/// The awarding body's window for recertification around a certificate's expiry: from
/// `months_before` it expires until `months_after` (0-60 each).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(deny_unknown_fields)]
pub struct RecertificationWindow {
    /// Months before the certificate's expiry that recertification opens (0-60).
    pub months_before: u32,
    /// Months after the expiry that recertification stays open (0-60).
    pub months_after: u32,
}

impl RecertificationWindow {
    /// A body's window unless it sets its own.
    pub const DEFAULT: Self = Self {
        months_before: 12,
        months_after: 12,
    };
    /// The longest either side may be.
    pub const MAX_MONTHS: u32 = 60;
}

/// Whether `held` (the certificate an application of `kind` names, if intake knows it) may be
/// named by `applicant` in a round of `qualification` of `body` on `today`: a recertification
/// renews, and a duplicate copies, a certificate of the applicant's own and of the round's
/// qualification that is neither revoked nor succeeded; a duplicate only at the body that issued
/// it, a recertification only within the body's window around its expiry (when the expiry is
/// known).
pub fn check_named_certificate(
    kind: ApplicationKind,
    held: Option<&crate::db::certificates::Held>,
    applicant: &str,
    (qualification, body): (uuid::Uuid, uuid::Uuid),
    window: RecertificationWindow,
    today: chrono::NaiveDate,
) -> Result<(), NamedCertificateError> {
    let held = held
        .filter(|h| h.holder == applicant)
        .ok_or(NamedCertificateError::NotYours)?;
    if held.qualification_id != qualification {
        return Err(NamedCertificateError::OtherQualification);
    }
    if kind == ApplicationKind::Duplicate && held.awarding_body_id != body {
        return Err(NamedCertificateError::OtherBody);
    }
    if held.status == "revoked" {
        return Err(NamedCertificateError::Revoked);
    }
    if let Some(successor) = &held.superseded_by {
        return Err(NamedCertificateError::Superseded(successor.clone()));
    }
    if let (ApplicationKind::Recertification, Some(until)) = (kind, held.valid_until) {
        let from = until
            .checked_sub_months(chrono::Months::new(window.months_before))
            .unwrap_or(until);
        let last = until
            .checked_add_months(chrono::Months::new(window.months_after))
            .unwrap_or(until);
        if today < from || today > last {
            return Err(NamedCertificateError::OutsideWindow { from, until: last });
        }
    }
    Ok(())
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
            ..ok.clone()
        };
        assert_eq!(
            bare.submit(now),
            Err(super::SubmitError::DocumentsMissing(vec!["cv".into()]))
        );
        // Everything in the way at once: closed, late and without its CV.
        let hopeless = super::Submission {
            round_open: false,
            uploaded: Default::default(),
            ..ok
        };
        let Err(super::SubmitError::Several(all)) = hopeless.submit(late) else {
            panic!("not all reported");
        };
        assert_eq!(all.len(), 3, "{all:?}");
        assert_eq!(all[0], super::SubmitError::RoundClosed);
        assert_eq!(
            all[2],
            super::SubmitError::DocumentsMissing(vec!["cv".into()])
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

    fn held(holder: &str, qualification: uuid::Uuid) -> crate::db::certificates::Held {
        crate::db::certificates::Held {
            register_number: "KT-2026-000001".into(),
            holder: holder.into(),
            awarding_body_id: uuid::Uuid::nil(),
            qualification_id: qualification,
            given_name: "Mari".into(),
            family_name: "Maasikas".into(),
            valid_until: Some("2031-06-30".parse().expect("date")),
            status: "valid".into(),
            superseded_by: None,
        }
    }

    #[test]
    fn a_recertification_or_duplicate_names_an_own_living_certificate_of_the_qualification() {
        use super::{
            ApplicationKind::{Duplicate, Recertification},
            NamedCertificateError as E, RecertificationWindow, check_named_certificate,
        };
        let q = uuid::Uuid::now_v7();
        let window = RecertificationWindow {
            months_before: 12,
            months_after: 6,
        };
        let day = |s: &str| -> chrono::NaiveDate { s.parse().expect("date") };
        let mine = held("49403136526", q);
        let check = |kind, held: Option<&crate::db::certificates::Held>, today: &str| {
            check_named_certificate(
                kind,
                held,
                "49403136526",
                (q, uuid::Uuid::nil()),
                window,
                day(today),
            )
        };
        assert_eq!(check(Recertification, Some(&mine), "2030-07-01"), Ok(()));
        assert_eq!(check(Recertification, Some(&mine), "2031-12-30"), Ok(()));
        let outside = Err(E::OutsideWindow {
            from: day("2030-06-30"),
            until: day("2031-12-30"),
        });
        assert_eq!(check(Recertification, Some(&mine), "2030-06-29"), outside);
        assert_eq!(check(Recertification, Some(&mine), "2031-12-31"), outside);
        // A duplicate has no window.
        assert_eq!(check(Duplicate, Some(&mine), "2026-12-04"), Ok(()));
        assert_eq!(check(Duplicate, None, "2026-12-04"), Err(E::NotYours));
        let theirs = held("38001085718", q);
        assert_eq!(
            check(Duplicate, Some(&theirs), "2026-12-04"),
            Err(E::NotYours)
        );
        let other = held("49403136526", uuid::Uuid::now_v7());
        assert_eq!(
            check(Recertification, Some(&other), "2031-01-01"),
            Err(E::OtherQualification)
        );
        let mut revoked = mine.clone();
        revoked.status = "revoked".into();
        assert_eq!(
            check(Duplicate, Some(&revoked), "2027-01-01"),
            Err(E::Revoked)
        );
        let mut succeeded = mine.clone();
        succeeded.superseded_by = Some("KT-2031-000007".into());
        assert_eq!(
            check(Recertification, Some(&succeeded), "2031-01-01"),
            Err(E::Superseded("KT-2031-000007".into()))
        );
        // A duplicate is ordered from the body that issued the certificate; a recertification
        // may be made at another.
        let mut elsewhere = mine.clone();
        elsewhere.awarding_body_id = uuid::Uuid::now_v7();
        assert_eq!(
            check(Duplicate, Some(&elsewhere), "2027-01-01"),
            Err(E::OtherBody)
        );
        assert_eq!(
            check(Recertification, Some(&elsewhere), "2031-01-01"),
            Ok(())
        );
        // Issued before intake kept expiry: no window to check.
        let mut unknown = mine.clone();
        unknown.valid_until = None;
        assert_eq!(check(Recertification, Some(&unknown), "2020-01-01"), Ok(()));
    }
}
