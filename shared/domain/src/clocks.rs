//! The legal clocks of the assessment procedure (VÕTA, the awarding body's procedure; see
//! `DOMAIN.md` of the project documents), computed here and nowhere else:
//!
//! | clock | rule | counted in |
//! |---|---|---|
//! | [`review_due`] | the panel reviews within **10 working days** of the round's deadline, plus the time documents were awaited | working days |
//! | [`decision_due`] | the decision reaches the committee within **20 working days** of the deadline, plus the same extension | working days |
//! | [`notice_due`] | the applicant is told the decision within **14 calendar days** of it | calendar days |
//! | [`appeal_until`] | the applicant may contest within **30 calendar days** of being told | calendar days |
//! | [`extension`] | a request for more documents extends the periods by the working days it was open | working days |
//! | [`extension_of`] | several requests extend them by the working days *any* of them was open (overlapping days once) | working days |
//!
//! Working days are those of [`WorkingDays`] (Monday to Friday less Estonian public holidays);
//! every date is a date in Tallinn ([`crate::tallinn_date`]). A period "within N working days of
//! D" ends on the N-th working day after D (D itself not counted); its last day counts in full.

use chrono::{Days, NaiveDate};

use crate::WorkingDays;

/// Working days the panel has to review an application, from the round's deadline.
pub const REVIEW_WORKING_DAYS: u32 = 10;
/// Working days from the round's deadline until the decision must reach the committee.
pub const DECISION_WORKING_DAYS: u32 = 20;
/// Calendar days from the decision until the applicant must have been told.
pub const NOTICE_CALENDAR_DAYS: u64 = 14;
/// Calendar days from being told within which an applicant may appeal.
pub const APPEAL_CALENDAR_DAYS: u64 = 30;

/// The day the panel's review is due: 10 working days after the round's deadline, plus
/// `extension` working days (requests for more documents).
pub fn review_due(round_deadline: NaiveDate, extension: u32) -> NaiveDate {
    WorkingDays::add(round_deadline, REVIEW_WORKING_DAYS + extension)
}

/// The day the decision is due at the committee: 20 working days after the round's deadline,
/// plus `extension` working days.
pub fn decision_due(round_deadline: NaiveDate, extension: u32) -> NaiveDate {
    WorkingDays::add(round_deadline, DECISION_WORKING_DAYS + extension)
}

/// The last day by which the applicant must be told a decision made on `decided_on`.
pub fn notice_due(decided_on: NaiveDate) -> NaiveDate {
    decided_on
        .checked_add_days(Days::new(NOTICE_CALENDAR_DAYS))
        .unwrap_or(decided_on)
}

/// The last day on which an applicant told on `told_on` may appeal.
pub fn appeal_until(told_on: NaiveDate) -> NaiveDate {
    told_on
        .checked_add_days(Days::new(APPEAL_CALENDAR_DAYS))
        .unwrap_or(told_on)
}

/// The working days a request for more documents was open, from the day it was made to the day
/// it was answered: what it adds to the review and decision periods. A request answered on the
/// day it was made adds nothing.
pub fn extension(requested_on: NaiveDate, answered_on: NaiveDate) -> u32 {
    WorkingDays::between(requested_on, answered_on)
}

/// The working days on which at least one of several requests was open, each request given as
/// `(requested_on, answered_on)` (an open one up to today): what they add together to the
/// periods. Days on which two requests were open at once count once — documents awaited for two
/// reasons do not stop the clock twice.
pub fn extension_of(requests: &[(NaiveDate, NaiveDate)]) -> u32 {
    let mut spans: Vec<(NaiveDate, NaiveDate)> = requests
        .iter()
        .copied()
        .filter(|(from, to)| from < to)
        .collect();
    spans.sort();
    let mut total = 0;
    let mut current: Option<(NaiveDate, NaiveDate)> = None;
    for (from, to) in spans {
        current = match current {
            // `extension` counts the days in `(from, to]`: spans that share a day merge.
            Some((start, end)) if from < end => Some((start, end.max(to))),
            Some((start, end)) => {
                total += extension(start, end);
                Some((from, to))
            }
            None => Some((from, to)),
        };
    }
    total + current.map_or(0, |(start, end)| extension(start, end))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> NaiveDate {
        s.parse().expect("date")
    }

    #[test]
    fn a_review_over_christmas_and_the_turn_of_the_year_skips_every_holiday() {
        // Fri 18 Dec 2026: 21, 22, 23 Dec; 24–26 Dec are holidays; 28–31 Dec; 1 Jan is a
        // holiday; 4, 5, 6 Jan 2027 — the tenth working day is Wednesday 6 January.
        assert_eq!(review_due(date("2026-12-18"), 0), date("2027-01-06"));
        // Twenty: 7, 8, 11–15, 18, 19, 20 January.
        assert_eq!(decision_due(date("2026-12-18"), 0), date("2027-01-20"));
    }

    #[test]
    fn a_review_over_easter_skips_good_friday() {
        // Easter 2027 is 28 March, Good Friday 26 March. From Fri 19 March: 22–25 (4), 29–31 and
        // 1–2 April (9), 5 April (10).
        assert_eq!(review_due(date("2027-03-19"), 0), date("2027-04-05"));
        // Pentecost is a Sunday, so only Good Friday moves working days in spring.
        assert_eq!(review_due(date("2026-03-27"), 0), date("2026-04-13"));
    }

    #[test]
    fn a_request_extends_the_periods_by_the_working_days_it_was_open() {
        // Requested Wed 23 Dec 2026, answered Mon 4 Jan 2027: 28, 29, 30, 31 Dec and 4 Jan.
        let added = extension(date("2026-12-23"), date("2027-01-04"));
        assert_eq!(added, 5);
        assert_eq!(review_due(date("2026-12-18"), added), date("2027-01-13"));
        assert_eq!(extension(date("2027-01-04"), date("2027-01-04")), 0);
    }

    #[test]
    fn overlapping_requests_extend_the_periods_by_the_days_any_was_open_once() {
        // Mon 11 Jan – Fri 15 Jan 2027 (4 working days after the 11th) and Wed 13 – Tue 19 Jan
        // (4): together 12–19 January, 6 working days — not 8.
        let a = (date("2027-01-11"), date("2027-01-15"));
        let b = (date("2027-01-13"), date("2027-01-19"));
        assert_eq!(extension(a.0, a.1) + extension(b.0, b.1), 8);
        assert_eq!(extension_of(&[a, b]), 6);
        assert_eq!(extension_of(&[b, a]), 6);
        // One inside the other adds nothing more.
        assert_eq!(
            extension_of(&[a, (date("2027-01-12"), date("2027-01-13"))]),
            4
        );
        // Apart, they add up; a request answered the day it was made adds nothing.
        let c = (date("2027-01-25"), date("2027-01-27"));
        assert_eq!(extension_of(&[a, c]), 6);
        assert_eq!(extension_of(&[(c.0, c.0)]), 0);
        assert_eq!(extension_of(&[]), 0);
        // Back to back: the first ends on the day the second starts.
        let d = (date("2027-01-15"), date("2027-01-18"));
        assert_eq!(extension_of(&[a, d]), extension(a.0, d.1));
    }

    #[test]
    fn the_notice_and_appeal_clocks_count_calendar_days() {
        assert_eq!(notice_due(date("2026-12-20")), date("2027-01-03"));
        assert_eq!(appeal_until(date("2027-01-03")), date("2027-02-02"));
    }
}
