//! Opening hours with concrete 2021 dates: 19 February 2021 was a Friday, the day the
//! libraries reopened with special hours.

use super::*;
use library_core::DEFAULT_LIBRARY_OFFSET as HK;
use proptest::prelude::*;
use time::macros::{date, datetime};

fn day(periods: &[(&str, &str)]) -> DayHours {
    DayHours::new(
        periods
            .iter()
            .map(|(s, e)| Period::parse(s, e).unwrap())
            .collect(),
    )
    .unwrap()
}

fn t(raw: &str) -> TimeOfDay {
    TimeOfDay::parse(raw).unwrap()
}

/// 10:00–19:00 Monday to Saturday, 10:00–17:00 on Sunday.
fn regular() -> WeekHours {
    let weekday = day(&[("10:00", "19:00")]);
    let mut days: [DayHours; 7] = std::array::from_fn(|_| weekday.clone());
    days[6] = day(&[("10:00", "17:00")]);
    WeekHours::new(days)
}

/// The reopening: 10:00–18:00 every day from Fri 19 Feb to Sun 28 Feb 2021.
fn reopening() -> Hours {
    Hours {
        regular: Some(regular()),
        special: vec![
            SpecialHours::new(
                date!(2021 - 02 - 19),
                date!(2021 - 02 - 28),
                SpecialPattern::Daily(day(&[("10:00", "18:00")])),
            )
            .unwrap(),
        ],
    }
}

fn never_closed(_: Date) -> bool {
    false
}

/// Closed on Chinese New Year's days 12–14 Feb 2021 and on Wed 24 Feb 2021.
fn calendar(d: Date) -> bool {
    (date!(2021 - 02 - 12)..=date!(2021 - 02 - 14)).contains(&d) || d == date!(2021 - 02 - 24)
}

/// `HH:MM` at local date-time `at` in Hong Kong.
fn hk(at: PrimitiveDateTime) -> OffsetDateTime {
    at.assume_offset(HK)
}

#[test]
fn times_of_day_parse_from_midnight_to_midnight() {
    for (raw, ok) in [
        ("00:00", true),
        ("10:00", true),
        ("23:59", true),
        ("24:00", true),
        ("24:01", false),
        ("25:00", false),
        ("10:60", false),
        ("1000", false),
        ("10:0", false),
        ("ab:cd", false),
        ("", false),
        ("１０:00", false),
    ] {
        assert_eq!(TimeOfDay::parse(raw).is_ok(), ok, "{raw}");
    }
    assert_eq!(t("08:05").to_string(), "08:05");
    assert_eq!(t("24:00").to_string(), "24:00");
}

#[test]
fn a_day_is_ordered_periods_with_gaps_and_at_most_four() {
    let p = |s: &str, e: &str| Period::parse(s, e);
    assert_eq!(p("19:00", "10:00"), Err(HoursError::Invalid));
    assert_eq!(p("10:00", "10:00"), Err(HoursError::Invalid));
    assert!(p("00:00", "24:00").is_ok());
    let ok = |v: &[(&str, &str)]| {
        DayHours::new(v.iter().map(|(s, e)| p(s, e).unwrap()).collect()).map(|_| ())
    };
    assert_eq!(ok(&[("08:00", "12:30"), ("12:45", "17:15")]), Ok(()));
    assert_eq!(
        ok(&[("08:00", "12:30"), ("12:30", "17:15")]),
        Err(HoursError::Overlap)
    );
    assert_eq!(
        ok(&[("08:00", "13:00"), ("12:45", "17:15")]),
        Err(HoursError::Overlap)
    );
    assert_eq!(
        ok(&[("12:45", "17:15"), ("08:00", "12:30")]),
        Err(HoursError::Overlap)
    );
    assert_eq!(
        ok(&[
            ("08:00", "09:00"),
            ("10:00", "11:00"),
            ("12:00", "13:00"),
            ("14:00", "15:00")
        ]),
        Ok(())
    );
    assert_eq!(
        ok(&[
            ("08:00", "09:00"),
            ("10:00", "11:00"),
            ("12:00", "13:00"),
            ("14:00", "15:00"),
            ("16:00", "17:00")
        ]),
        Err(HoursError::TooMany)
    );
    assert_eq!(HoursError::Overlap.code(), "hours_overlap");
    assert_eq!(HoursError::Invalid.code(), "hours_invalid");
}

#[test]
fn the_stored_forms_read_back() {
    let week = regular();
    assert_eq!(WeekHours::from_text(&week.to_text()), Ok(week.clone()));
    for pattern in [
        SpecialPattern::Closed,
        SpecialPattern::Daily(day(&[("08:00", "12:30"), ("12:45", "17:15")])),
        SpecialPattern::Daily(DayHours::closed()),
        SpecialPattern::Weekly(week),
    ] {
        assert_eq!(SpecialPattern::from_text(&pattern.to_text()), Ok(pattern));
    }
    assert!(WeekHours::from_text("10:00-19:00").is_err());
    assert!(SpecialPattern::from_text("open").is_err());
}

#[test]
fn the_status_at_each_edge_of_the_reopening() {
    let hours = reopening();
    let at = |a| hours.status(hk(a), HK, &calendar);
    // (instant, open_now, closes_at, opens_next)
    let cases = [
        // Thursday before: regular hours, open until 19:00.
        (
            datetime!(2021-02-18 18:59),
            true,
            Some("19:00"),
            datetime!(2021-02-19 10:00),
        ),
        // The minute of closing is closed.
        (
            datetime!(2021-02-18 19:00),
            false,
            None,
            datetime!(2021-02-19 10:00),
        ),
        (
            datetime!(2021-02-19 00:00),
            false,
            None,
            datetime!(2021-02-19 10:00),
        ),
        // First day of the special range: 10:00–18:00.
        (
            datetime!(2021-02-19 09:59),
            false,
            None,
            datetime!(2021-02-19 10:00),
        ),
        (
            datetime!(2021-02-19 10:00),
            true,
            Some("18:00"),
            datetime!(2021-02-20 10:00),
        ),
        (
            datetime!(2021-02-19 17:59),
            true,
            Some("18:00"),
            datetime!(2021-02-20 10:00),
        ),
        (
            datetime!(2021-02-19 18:00),
            false,
            None,
            datetime!(2021-02-20 10:00),
        ),
        // A closed day inside the special range: Wed 24 Feb.
        (
            datetime!(2021-02-23 18:30),
            false,
            None,
            datetime!(2021-02-25 10:00),
        ),
        (
            datetime!(2021-02-24 12:00),
            false,
            None,
            datetime!(2021-02-25 10:00),
        ),
        // Last day of the range (a Sunday): still 10:00–18:00, not Sunday's 17:00.
        (
            datetime!(2021-02-28 17:30),
            true,
            Some("18:00"),
            datetime!(2021-03-01 10:00),
        ),
        // The day after: the regular week again.
        (
            datetime!(2021-03-01 18:30),
            true,
            Some("19:00"),
            datetime!(2021-03-02 10:00),
        ),
        // Through the New Year closure: Thu 11 Feb evening to Mon 15 Feb.
        (
            datetime!(2021-02-11 20:00),
            false,
            None,
            datetime!(2021-02-15 10:00),
        ),
    ];
    for (instant, open, closes, next) in cases {
        let status = at(instant);
        assert_eq!(status.open_now, open, "{instant}");
        assert_eq!(
            status.closes_at.map(|c| c.to_string()),
            closes.map(str::to_owned),
            "{instant}"
        );
        assert_eq!(status.opens_next, Some(next), "{instant}");
    }
}

#[test]
fn the_status_is_read_in_the_library_zone() {
    // 02:00 UTC on 19 Feb is 10:00 in Hong Kong.
    let status = reopening().status(datetime!(2021-02-19 02:00 UTC), HK, &never_closed);
    assert!(status.open_now);
    // 10:00 UTC is 18:00 local: closed.
    let status = reopening().status(datetime!(2021-02-19 10:00 UTC), HK, &never_closed);
    assert!(!status.open_now);
}

#[test]
fn no_hours_configured_is_open_all_day_on_open_days() {
    let none = Hours::default();
    let s = none.status(hk(datetime!(2021-02-18 23:59)), HK, &never_closed);
    assert!(s.open_now);
    assert_eq!(s.closes_at.map(|c| c.to_string()).as_deref(), Some("24:00"));
    assert_eq!(s.opens_next, Some(datetime!(2021-02-19 00:00)));
    let s = none.status(hk(datetime!(2021-02-13 12:00)), HK, &calendar);
    assert!(!s.open_now);
    assert_eq!(s.opens_next, Some(datetime!(2021-02-15 00:00)));
}

#[test]
fn midnight_periods_and_lunch_breaks() {
    let hours = Hours {
        regular: Some(WeekHours::every_day(&day(&[
            ("08:00", "12:30"),
            ("12:45", "17:15"),
            ("20:00", "24:00"),
        ]))),
        special: vec![],
    };
    let s = |a| hours.status(hk(a), HK, &never_closed);
    assert!(s(datetime!(2021-02-19 12:29)).open_now);
    let lunch = s(datetime!(2021-02-19 12:30));
    assert!(!lunch.open_now);
    assert_eq!(lunch.opens_next, Some(datetime!(2021-02-19 12:45)));
    let late = s(datetime!(2021-02-19 23:59));
    assert!(late.open_now);
    assert_eq!(late.closes_at, Some(t("24:00")));
    assert_eq!(late.opens_next, Some(datetime!(2021-02-20 08:00)));
    assert!(!s(datetime!(2021-02-20 00:00)).open_now);
}

#[test]
fn a_later_special_range_wins_and_closed_special_hours_close() {
    let mut hours = reopening();
    hours.special.push(
        SpecialHours::new(
            date!(2021 - 02 - 22),
            date!(2021 - 02 - 23),
            SpecialPattern::Closed,
        )
        .unwrap(),
    );
    hours.special.push(
        SpecialHours::new(
            date!(2021 - 02 - 23),
            date!(2021 - 03 - 02),
            SpecialPattern::Weekly(WeekHours::every_day(&day(&[("09:00", "12:00")]))),
        )
        .unwrap(),
    );
    let on = |d| hours.on(d, &never_closed);
    assert_eq!(on(date!(2021 - 02 - 21)), day(&[("10:00", "18:00")]));
    assert_eq!(on(date!(2021 - 02 - 22)), DayHours::closed());
    assert_eq!(on(date!(2021 - 02 - 23)), day(&[("09:00", "12:00")]));
    assert_eq!(on(date!(2021 - 03 - 02)), day(&[("09:00", "12:00")]));
    assert_eq!(on(date!(2021 - 03 - 03)), day(&[("10:00", "19:00")]));
    assert_eq!(
        SpecialHours::new(
            date!(2021 - 02 - 19),
            date!(2021 - 02 - 18),
            SpecialPattern::Closed
        ),
        Err(HoursError::ToBeforeFrom)
    );
}

#[test]
fn never_open_within_a_year_has_no_next_opening() {
    let hours = Hours {
        regular: Some(WeekHours::every_day(&DayHours::closed())),
        special: vec![],
    };
    let s = hours.status(hk(datetime!(2021-02-19 10:00)), HK, &never_closed);
    assert_eq!((s.open_now, s.closes_at, s.opens_next), (false, None, None));
    // Open again just within the look-ahead, not beyond it.
    let mut hours = hours;
    hours.special.push(
        SpecialHours::new(
            date!(2022 - 02 - 20),
            date!(2022 - 02 - 20),
            SpecialPattern::Daily(day(&[("10:00", "11:00")])),
        )
        .unwrap(),
    );
    let s = hours.status(hk(datetime!(2021-02-19 10:00)), HK, &never_closed);
    assert_eq!(s.opens_next, Some(datetime!(2022-02-20 10:00)));
    let s = hours.status(hk(datetime!(2021-02-18 10:00)), HK, &never_closed);
    assert_eq!(s.opens_next, None);
}

#[test]
fn the_next_days_hours_for_a_page() {
    let days = reopening().days(date!(2021 - 02 - 18), 7, &calendar);
    let shown: Vec<(Date, String)> = days.iter().map(|(d, h)| (*d, h.to_text())).collect();
    assert_eq!(
        shown,
        vec![
            (date!(2021 - 02 - 18), "10:00-19:00".to_owned()),
            (date!(2021 - 02 - 19), "10:00-18:00".to_owned()),
            (date!(2021 - 02 - 20), "10:00-18:00".to_owned()),
            (date!(2021 - 02 - 21), "10:00-18:00".to_owned()),
            (date!(2021 - 02 - 22), "10:00-18:00".to_owned()),
            (date!(2021 - 02 - 23), "10:00-18:00".to_owned()),
            (date!(2021 - 02 - 24), String::new()),
        ]
    );
}

#[test]
fn section_codes() {
    for (raw, ok) in [
        ("adult", true),
        ("young_adult", true),
        ("study_room", true),
        ("computer2", true),
        ("Adult", false),
        ("study-room", false),
        ("", false),
        (&"a".repeat(32), true),
        (&"a".repeat(33), false),
    ] {
        assert_eq!(SectionCode::parse(raw).is_ok(), ok, "{raw}");
    }
}

#[test]
fn sections_open_from_a_date_or_closed_until_further_notice() {
    let hours = reopening();
    let code = |c| SectionCode::parse(c).unwrap();
    let adult = Section::new(
        code("adult"),
        SectionStatus::Open,
        date!(2021 - 02 - 19),
        None,
        None,
    )
    .unwrap();
    let study = Section::new(
        code("study_room"),
        SectionStatus::Closed,
        date!(2021 - 02 - 19),
        None,
        None,
    )
    .unwrap();
    let extended = Section::new(
        code("study_room"),
        SectionStatus::Open,
        date!(2021 - 03 - 01),
        Some(date!(2021 - 05 - 31)),
        Some(WeekHours::every_day(&day(&[("08:00", "22:00")]))),
    )
    .unwrap();
    let open = |s: &Section, a| s.open_at(hk(a), HK, &hours, &calendar);
    // (section, instant, open)
    let cases = [
        (&adult, datetime!(2021-02-18 12:00), false),
        (&adult, datetime!(2021-02-19 09:59), false),
        (&adult, datetime!(2021-02-19 10:00), true),
        (&adult, datetime!(2021-02-19 18:00), false),
        (&adult, datetime!(2021-02-24 12:00), false),
        (&study, datetime!(2021-02-18 12:00), true),
        (&study, datetime!(2021-02-19 12:00), false),
        (&study, datetime!(2022-02-19 12:00), false),
        (&extended, datetime!(2021-02-28 12:00), false),
        (&extended, datetime!(2021-03-01 08:00), true),
        (&extended, datetime!(2021-03-01 21:59), true),
        (&extended, datetime!(2021-03-01 22:00), false),
        (&extended, datetime!(2021-05-31 21:00), true),
        (&extended, datetime!(2021-06-01 12:00), false),
    ];
    for (section, instant, expected) in cases {
        assert_eq!(
            open(section, instant),
            expected,
            "{} {instant}",
            section.code()
        );
    }
    assert_eq!(
        adult.status_on(date!(2021 - 02 - 18)),
        SectionStatus::Closed
    );
    assert_eq!(
        Section::new(
            code("adult"),
            SectionStatus::Open,
            date!(2021 - 02 - 19),
            Some(date!(2021 - 02 - 18)),
            None
        ),
        Err(HoursError::ToBeforeFrom)
    );
}

fn arb_day() -> impl Strategy<Value = DayHours> {
    proptest::collection::btree_set(0u16..=DAY_MINUTES, 0..=8).prop_map(|points| {
        let points: Vec<u16> = points.into_iter().collect();
        let periods = points
            .chunks_exact(2)
            .map(|w| Period::new(TimeOfDay(w[0]), TimeOfDay(w[1])).unwrap())
            .collect::<Vec<_>>();
        // Touching periods are refused: keep every other one.
        let periods: Vec<Period> = periods.into_iter().step_by(2).collect();
        DayHours::new(periods).unwrap()
    })
}

fn arb_hours() -> impl Strategy<Value = Hours> {
    (
        proptest::option::of(proptest::collection::vec(arb_day(), 7)),
        proptest::collection::vec((0i64..60, 0i64..20, proptest::option::of(arb_day())), 0..3),
    )
        .prop_map(|(week, special)| Hours {
            regular: week.map(|w| WeekHours::new(w.try_into().unwrap())),
            special: special
                .into_iter()
                .map(|(start, len, day)| {
                    let from = date!(2021 - 02 - 01) + Duration::days(start);
                    let pattern = day.map_or(SpecialPattern::Closed, SpecialPattern::Daily);
                    SpecialHours::new(from, from + Duration::days(len), pattern).unwrap()
                })
                .collect(),
        })
}

proptest! {
    #[test]
    fn opens_next_is_after_now_and_open(hours in arb_hours(), minutes in 0i64..(90 * 24 * 60), closed_mod in 2u8..9) {
        let closed = |d: Date| d.ordinal().is_multiple_of(u16::from(closed_mod));
        let now = hk(datetime!(2021-01-25 00:00)) + Duration::minutes(minutes);
        let status = hours.status(now, HK, &closed);
        if let Some(next) = status.opens_next {
            let next = next.assume_offset(HK);
            prop_assert!(next > now);
            prop_assert!(hours.status(next, HK, &closed).open_now);
        }
        prop_assert_eq!(status.open_now, status.closes_at.is_some());
        if let Some(end) = status.closes_at {
            let local = now.to_offset(HK);
            prop_assert!(end > TimeOfDay::of(local.time()));
        }
    }
}
