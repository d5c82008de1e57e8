//! The Estonian working-day calendar: Monday to Friday, less the public holidays of the Public
//! Holidays and Days of National Importance Act (pühade ja tähtpäevade seadus). Deadlines in the
//! qualification process ("within 10 working days of the round's deadline") are counted with it.
//!
//! Easter comes from the `computus` crate (the Gregorian computus); Good Friday is two days
//! before it and Pentecost seven weeks after.
//!
//! **Every date rule is evaluated in Europe/Tallinn**, the law's time zone: "applications are
//! accepted until the end of the deadline day" means midnight in Tallinn (UTC+2, UTC+3 in
//! summer), not in UTC. Turn an instant into a date only with [`tallinn_date`]; the time zone
//! rules come from the `chrono-tz` crate (the IANA database).

use chrono::{DateTime, Datelike, Days, NaiveDate, Utc, Weekday};

/// The time zone of every date rule.
pub const TIME_ZONE: chrono_tz::Tz = chrono_tz::Europe::Tallinn;

/// The calendar date in Tallinn at `instant`.
pub fn tallinn_date(instant: DateTime<Utc>) -> NaiveDate {
    instant.with_timezone(&TIME_ZONE).date_naive()
}

/// The instant `day` begins in Tallinn: its midnight, local time. (Tallinn changes its clocks at
/// 03:00 and 04:00, so midnight always exists and is never repeated.)
pub fn tallinn_midnight(day: NaiveDate) -> DateTime<Utc> {
    use chrono::TimeZone as _;
    let local = day.and_time(chrono::NaiveTime::MIN);
    TIME_ZONE
        .from_local_datetime(&local)
        .earliest()
        .map_or_else(|| local.and_utc(), |t| t.with_timezone(&Utc))
}

/// Today's date in Tallinn.
pub fn tallinn_today() -> NaiveDate {
    tallinn_date(Utc::now())
}

/// A public holiday: its date and Estonian name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Holiday {
    pub date: NaiveDate,
    pub name: &'static str,
}

/// The Estonian working-day calendar. Stateless; holidays are computed per year on demand.
#[derive(Debug, Clone, Copy, Default)]
pub struct WorkingDays;

/// Holidays on fixed dates: (month, day, name).
const FIXED: [(u32, u32, &str); 9] = [
    (1, 1, "uusaasta"),
    (2, 24, "iseseisvuspäev"),
    (5, 1, "kevadpüha"),
    (6, 23, "võidupüha"),
    (6, 24, "jaanipäev"),
    (8, 20, "taasiseseisvumispäev"),
    (12, 24, "jõululaupäev"),
    (12, 25, "esimene jõulupüha"),
    (12, 26, "teine jõulupüha"),
];

impl WorkingDays {
    /// Easter Sunday of a year (Gregorian). `None` only outside the range chrono can represent.
    pub fn easter(year: i32) -> Option<NaiveDate> {
        computus::gregorian_naive(year).ok()
    }

    /// Every public holiday of a year, in date order.
    pub fn holidays(year: i32) -> Vec<Holiday> {
        let mut days: Vec<Holiday> = FIXED
            .iter()
            .filter_map(|&(m, d, name)| {
                NaiveDate::from_ymd_opt(year, m, d).map(|date| Holiday { date, name })
            })
            .collect();
        if let Some(easter) = Self::easter(year) {
            let moving = [
                (easter.checked_sub_days(Days::new(2)), "suur reede"),
                (Some(easter), "ülestõusmispühade 1. püha"),
                (easter.checked_add_days(Days::new(49)), "nelipühade 1. püha"),
            ];
            days.extend(
                moving
                    .into_iter()
                    .filter_map(|(date, name)| date.map(|date| Holiday { date, name })),
            );
        }
        days.sort_by_key(|h| h.date);
        days
    }

    /// Whether a date is a public holiday.
    pub fn is_holiday(date: NaiveDate) -> bool {
        let fixed = FIXED
            .iter()
            .any(|&(m, d, _)| date.month() == m && date.day() == d);
        fixed
            || Self::easter(date.year()).is_some_and(|easter| {
                let offset = (date - easter).num_days();
                offset == -2 || offset == 0 || offset == 49
            })
    }

    /// Whether a date is a working day: a weekday that is not a public holiday.
    pub fn is_working_day(date: NaiveDate) -> bool {
        !matches!(date.weekday(), Weekday::Sat | Weekday::Sun) && !Self::is_holiday(date)
    }

    /// The `n`-th working day after `from` (not counting `from` itself): the due date of a period
    /// of `n` working days that starts on `from`. `n = 0` gives `from`.
    pub fn add(from: NaiveDate, n: u32) -> NaiveDate {
        let mut date = from;
        let mut left = n;
        while left > 0 {
            date = date.succ_opt().unwrap_or(date);
            if Self::is_working_day(date) {
                left -= 1;
            }
        }
        date
    }

    /// Working days in `(from, to]`: how many working days lie after `from` up to and including `to`.
    pub fn between(from: NaiveDate, to: NaiveDate) -> u32 {
        from.iter_days()
            .skip(1)
            .take_while(|d| *d <= to)
            .filter(|d| Self::is_working_day(*d))
            .count() as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> NaiveDate {
        s.parse().expect("date")
    }

    #[test]
    fn a_tallinn_date_turns_at_tallinn_midnight_in_winter_and_summer() {
        let at = |s: &str| s.parse::<DateTime<Utc>>().expect("instant");
        // Winter, UTC+2: 22:00 UTC on 18 December is already 19 December in Tallinn.
        assert_eq!(tallinn_date(at("2026-12-18T21:59:59Z")), date("2026-12-18"));
        assert_eq!(tallinn_date(at("2026-12-18T22:00:00Z")), date("2026-12-19"));
        // Summer, UTC+3.
        assert_eq!(tallinn_date(at("2026-06-22T20:59:59Z")), date("2026-06-22"));
        assert_eq!(tallinn_date(at("2026-06-22T21:00:00Z")), date("2026-06-23"));
    }

    #[test]
    fn easter_dependent_holidays_move_with_easter() {
        // (year, Good Friday, Easter Sunday, Pentecost)
        let cases = [
            (2024, "2024-03-29", "2024-03-31", "2024-05-19"),
            (2025, "2025-04-18", "2025-04-20", "2025-06-08"),
            (2026, "2026-04-03", "2026-04-05", "2026-05-24"),
            (2027, "2027-03-26", "2027-03-28", "2027-05-16"),
            (2030, "2030-04-19", "2030-04-21", "2030-06-09"),
        ];
        for (year, good_friday, easter, pentecost) in cases {
            assert_eq!(WorkingDays::easter(year), Some(date(easter)), "{year}");
            assert!(WorkingDays::is_holiday(date(good_friday)), "{good_friday}");
            assert!(
                !WorkingDays::is_working_day(date(good_friday)),
                "{good_friday}"
            );
            assert!(WorkingDays::is_holiday(date(pentecost)), "{pentecost}");
            // The Thursday before Good Friday is an ordinary working day.
            let thursday = date(good_friday).pred_opt().expect("date");
            assert!(WorkingDays::is_working_day(thursday), "{thursday}");
        }
    }

    #[test]
    fn a_deadline_spanning_christmas_skips_the_holidays_and_the_weekend() {
        // Monday 21 Dec 2026 + 5 working days: 22, 23 (Tue, Wed), 24-26 holidays, 27 Sunday,
        // 28, 29, 30 → Wednesday 30 Dec.
        assert_eq!(WorkingDays::add(date("2026-12-21"), 5), date("2026-12-30"));
        // 10 working days from Friday 18 Dec 2026: 21, 22, 23, 28, 29, 30, 31, (1 Jan holiday), 4, 5, 6 Jan.
        assert_eq!(WorkingDays::add(date("2026-12-18"), 10), date("2027-01-06"));
        assert_eq!(
            WorkingDays::between(date("2026-12-18"), date("2027-01-06")),
            10
        );
    }

    #[test]
    fn zero_working_days_is_the_same_day() {
        assert_eq!(WorkingDays::add(date("2026-12-25"), 0), date("2026-12-25"));
    }

    #[test]
    fn a_day_in_tallinn_begins_at_its_local_midnight_winter_and_summer() {
        let winter = NaiveDate::from_ymd_opt(2026, 12, 4).expect("date");
        assert_eq!(
            tallinn_midnight(winter).to_rfc3339(),
            "2026-12-03T22:00:00+00:00"
        );
        let summer = NaiveDate::from_ymd_opt(2027, 7, 1).expect("date");
        assert_eq!(
            tallinn_midnight(summer).to_rfc3339(),
            "2027-06-30T21:00:00+00:00"
        );
        assert_eq!(tallinn_date(tallinn_midnight(summer)), summer);
    }
}
