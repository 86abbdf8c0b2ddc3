//! Fines over 1,000,000 loans with 5 fine-suspension periods and a calendar (closed every
//! Monday plus a few dated closures). Throughput is reported in loans per second
//! (criterion `elem/s`).
//!
//! `CARGO_TARGET_DIR=/work/target-fines cargo bench -p library-fines`

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use library_core::{LibraryCode, LibraryKind, Money};
use library_fines::{
    ClosedDays, FinePolicy, FineSuspensionPeriod, GraceMode, IndexedCalendar, LendingLibrary,
    SuspensionScope, assess_fine,
};
use time::macros::date;
use time::{Date, Duration, Weekday};

const LOANS: usize = 1_000_000;

/// Closed every Monday and on a sorted list of dates; answers only `is_closed`, as a
/// calendar that knows nothing of the fast path would.
struct PlainCalendar {
    dated: Vec<Date>,
}

impl ClosedDays for PlainCalendar {
    fn is_closed(&self, date: Date) -> bool {
        date.weekday() == Weekday::Monday || self.dated.binary_search(&date).is_ok()
    }
}

/// The same calendar, counting closed days arithmetically.
struct CountingCalendar {
    dated: Vec<Date>,
}

impl ClosedDays for CountingCalendar {
    fn is_closed(&self, date: Date) -> bool {
        date.weekday() == Weekday::Monday || self.dated.binary_search(&date).is_ok()
    }

    fn closed_days_between(&self, first: Date, last: Date) -> u32 {
        if last < first {
            return 0;
        }
        // Julian day 0 is a Monday, so Mondays are the days ≡ 0 (mod 7).
        let mondays_to = |jd: i32| (jd + 7).div_euclid(7); // Mondays in [-7, jd] shifted
        let (a, b) = (first.to_julian_day(), last.to_julian_day());
        let mondays = mondays_to(b) - mondays_to(a - 1);
        let from = self.dated.partition_point(|d| *d < first);
        let to = self.dated.partition_point(|d| *d <= last);
        let other = self.dated[from..to]
            .iter()
            .filter(|d| d.weekday() != Weekday::Monday)
            .count();
        u32::try_from(mondays).unwrap_or(0) + u32::try_from(other).unwrap_or(0)
    }
}

fn dated_closures() -> Vec<Date> {
    let mut dated = vec![
        date!(2020 - 12 - 25),
        date!(2020 - 12 - 26),
        date!(2021 - 01 - 01),
        date!(2021 - 02 - 12),
        date!(2021 - 02 - 13),
        date!(2021 - 02 - 15),
        date!(2021 - 04 - 02),
        date!(2021 - 04 - 05),
        date!(2021 - 05 - 19),
        date!(2021 - 07 - 01),
    ];
    dated.sort();
    dated
}

fn periods(libraries: &[LendingLibrary]) -> Vec<FineSuspensionPeriod> {
    let all = SuspensionScope::all_libraries;
    vec![
        FineSuspensionPeriod::new(
            date!(2020 - 12 - 02),
            Some(date!(2021 - 03 - 05)),
            all(),
            "closure",
        )
        .unwrap(),
        FineSuspensionPeriod::new(
            date!(2020 - 12 - 02),
            Some(date!(2021 - 05 - 03)),
            SuspensionScope::kinds([LibraryKind::Mobile]),
            "mobile libraries",
        )
        .unwrap(),
        FineSuspensionPeriod::new(
            date!(2021 - 01 - 20),
            Some(date!(2021 - 02 - 10)),
            all(),
            "overlapping",
        )
        .unwrap(),
        FineSuspensionPeriod::new(
            date!(2021 - 04 - 01),
            Some(date!(2021 - 04 - 15)),
            SuspensionScope::codes([libraries[3].code.clone()]),
            "renovation",
        )
        .unwrap(),
        FineSuspensionPeriod::new(
            date!(2021 - 06 - 01),
            Some(date!(2021 - 06 - 08)),
            SuspensionScope::kinds([LibraryKind::Small]),
            "typhoon",
        )
        .unwrap(),
    ]
}

/// A small deterministic generator (xorshift), so every run assesses the same loans.
struct Rng(u64);
impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

struct Loan {
    due_on: Date,
    until: Date,
    library: usize,
    policy: usize,
}

fn loans(libraries: usize) -> Vec<Loan> {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let start = date!(2020 - 10 - 01);
    (0..LOANS)
        .map(|_| {
            let due_on = start + Duration::days(i64::try_from(rng.below(300)).unwrap());
            // Returned between 10 days early and 120 days late.
            let until = due_on + Duration::days(i64::try_from(rng.below(130)).unwrap() - 10);
            Loan {
                due_on,
                until,
                library: usize::try_from(rng.below(libraries as u64)).unwrap(),
                policy: usize::try_from(rng.below(2)).unwrap(),
            }
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let libraries: Vec<LendingLibrary> = (0..20)
        .map(|i| {
            LendingLibrary::new(
                LibraryCode::parse(&format!("L{i:02}")).unwrap(),
                LibraryKind::ALL[i % LibraryKind::ALL.len()],
            )
        })
        .collect();
    let periods = periods(&libraries);
    let loans = loans(libraries.len());
    let plain = PlainCalendar {
        dated: dated_closures(),
    };
    let counting = CountingCalendar {
        dated: dated_closures(),
    };
    // Built once per library calendar (here one, shared), before the loop.
    let indexed = IndexedCalendar::new(
        PlainCalendar {
            dated: dated_closures(),
        },
        date!(2020 - 09 - 01),
        date!(2022 - 01 - 01),
    );
    let policy = |count_closed_days, rate| FinePolicy {
        fine_per_day: Money::from_cents(rate),
        grace_days: 1,
        grace_mode: GraceMode::Deducted,
        max_fine: Some(Money::from_cents(10_000)),
        count_closed_days,
    };
    let closed_charged = [policy(true, 150), policy(true, 50)];
    let closed_skipped = [policy(false, 150), policy(false, 50)];
    let mixed = [policy(true, 150), policy(false, 50)];

    let mut group = c.benchmark_group("assess_fine_1m_loans");
    group.throughput(Throughput::Elements(LOANS as u64));
    group.sample_size(10);
    let cases: [(&str, &[FinePolicy; 2], &dyn ClosedDays); 6] = [
        ("closed_days_charged", &closed_charged, &plain),
        ("closed_days_skipped_indexed", &closed_skipped, &indexed),
        ("mixed_indexed", &mixed, &indexed),
        ("closed_days_skipped_counting", &closed_skipped, &counting),
        ("closed_days_skipped_is_closed", &closed_skipped, &plain),
        ("mixed_is_closed", &mixed, &plain),
    ];
    for (name, policies, calendar) in cases {
        group.bench_function(name, |b| {
            b.iter(|| {
                let mut total = Money::ZERO;
                for loan in &loans {
                    total += assess_fine(
                        loan.due_on,
                        loan.until,
                        &libraries[loan.library],
                        &policies[loan.policy],
                        &periods,
                        &calendar,
                    )
                    .fine;
                }
                black_box(total)
            });
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
