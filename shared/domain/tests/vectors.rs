//! The domain kernel against test vectors computed by independent implementations:
//! python-stdnum (isikukood) and the Python `holidays` package (Estonian public holidays).

use std::collections::BTreeSet;

use chrono::{Datelike, NaiveDate};
use kutse_domain::{Isikukood, WorkingDays};
use serde::Deserialize;

#[derive(Deserialize)]
struct IsikukoodVectors {
    valid: Vec<String>,
    invalid: Vec<Invalid>,
}

#[derive(Deserialize)]
struct Invalid {
    code: String,
    why: String,
}

#[derive(Deserialize)]
struct HolidayVectors {
    years: std::collections::BTreeMap<i32, Vec<HolidayVector>>,
}

#[derive(Deserialize)]
struct HolidayVector {
    date: NaiveDate,
}

#[test]
fn isikukood_accepts_every_code_python_stdnum_accepts() {
    let v: IsikukoodVectors =
        serde_json::from_str(include_str!("fixtures/isikukood-vectors.json")).expect("fixture");
    assert!(v.valid.len() > 40);
    for code in &v.valid {
        let parsed = Isikukood::parse(code).unwrap_or_else(|e| panic!("{code}: {e}"));
        assert_eq!(&parsed.to_string(), code);
    }
}

#[test]
fn isikukood_refuses_every_code_python_stdnum_refuses() {
    let v: IsikukoodVectors =
        serde_json::from_str(include_str!("fixtures/isikukood-vectors.json")).expect("fixture");
    assert!(v.invalid.len() > 20);
    for case in &v.invalid {
        assert!(
            Isikukood::parse(&case.code).is_err(),
            "{:?} should be refused ({})",
            case.code,
            case.why
        );
    }
}

#[test]
fn holidays_match_the_python_holidays_package_2024_to_2032() {
    let v: HolidayVectors =
        serde_json::from_str(include_str!("fixtures/ee-public-holidays-2024-2032.json"))
            .expect("fixture");
    assert_eq!(v.years.len(), 9);
    for (year, expected) in &v.years {
        let expected: BTreeSet<NaiveDate> = expected.iter().map(|h| h.date).collect();
        let ours: BTreeSet<NaiveDate> = WorkingDays::holidays(*year)
            .into_iter()
            .map(|h| h.date)
            .collect();
        assert_eq!(ours, expected, "{year}");
        // And day by day: exactly those dates are holidays.
        let start = NaiveDate::from_ymd_opt(*year, 1, 1).expect("date");
        for day in start.iter_days().take_while(|d| d.year() == *year) {
            assert_eq!(
                WorkingDays::is_holiday(day),
                expected.contains(&day),
                "{day}"
            );
        }
    }
}

/// The review and decision clocks for every round deadline from 2024 to mid-2032, against a
/// count made here from the `holidays` package's dates alone (weekends and those dates), with and
/// without an extension: Easter, Christmas and the turn of every year are among them.
#[test]
fn clocks_match_a_count_over_the_python_holidays_package_dates() {
    use kutse_domain::clocks;
    let v: HolidayVectors =
        serde_json::from_str(include_str!("fixtures/ee-public-holidays-2024-2032.json"))
            .expect("fixture");
    let holidays: BTreeSet<NaiveDate> = v
        .years
        .values()
        .flat_map(|days| days.iter().map(|h| h.date))
        .collect();
    let working = |d: &NaiveDate| {
        !matches!(d.weekday(), chrono::Weekday::Sat | chrono::Weekday::Sun) && !holidays.contains(d)
    };
    let nth_working_day_after = |from: NaiveDate, n: usize| {
        from.iter_days()
            .skip(1)
            .filter(working)
            .nth(n - 1)
            .expect("a working day")
    };
    let first = NaiveDate::from_ymd_opt(2024, 1, 1).expect("date");
    let last = NaiveDate::from_ymd_opt(2032, 11, 30).expect("date");
    for deadline in first.iter_days().take_while(|d| *d <= last) {
        assert_eq!(
            clocks::review_due(deadline, 0),
            nth_working_day_after(deadline, 10),
            "review from {deadline}"
        );
        assert_eq!(
            clocks::review_due(deadline, 3),
            nth_working_day_after(deadline, 13),
            "extended review from {deadline}"
        );
        assert_eq!(
            clocks::decision_due(deadline, 0),
            nth_working_day_after(deadline, 20),
            "decision from {deadline}"
        );
        let answered = deadline + chrono::Days::new(9);
        let open = deadline
            .iter_days()
            .skip(1)
            .take_while(|d| *d <= answered)
            .filter(working)
            .count() as u32;
        assert_eq!(clocks::extension(deadline, answered), open, "{deadline}");
    }
}
