//! The services over mockall mocks: infrastructure failures pass through as the opaque
//! variant, and nothing is written when a check fails early.

use library_core::ManualClock;
use time::macros::datetime;

use super::*;
use crate::ports::{
    InfrastructureError, MockCalendarRepository, MockCirculationStore,
    MockFineSuspensionRepository, MockRuleRepository,
};

type Mocked = Circulation<
    MockCirculationStore,
    MockRuleRepository,
    MockCalendarRepository,
    MockFineSuspensionRepository,
    ManualClock,
>;

fn service(
    store: MockCirculationStore,
    rules: MockRuleRepository,
    calendars: MockCalendarRepository,
) -> Mocked {
    let mut periods = MockFineSuspensionRepository::new();
    periods
        .expect_fine_suspension_periods()
        .returning(|| Ok(Vec::new()));
    Circulation::new(
        store,
        rules,
        calendars,
        periods,
        ManualClock::new(datetime!(2021-03-05 10:00 +08:00)),
    )
}

fn checkout_request() -> CheckoutRequest {
    CheckoutRequest {
        card_number: card("21000000000001"),
        item_barcode: barcode("B1"),
        library: code("HKCL"),
    }
}

#[test]
fn a_store_that_cannot_begin_is_an_infrastructure_error() {
    let mut store = MockCirculationStore::new();
    store
        .expect_begin()
        .times(1)
        .returning(|| Err(InfrastructureError::new("database down")));
    let mut rules = MockRuleRepository::new();
    rules.expect_scoped_rules().returning(|| Ok(hkpl_profile()));
    let svc = service(store, rules, MockCalendarRepository::new());
    let err = pollster::block_on(svc.checkout(checkout_request())).unwrap_err();
    assert!(matches!(err, CheckoutError::Infrastructure(_)));
    // The message stays opaque to clients but keeps the cause for logs.
    assert!(err.to_string().contains("database down"));
}

#[test]
fn unreadable_rules_stop_before_any_transaction() {
    let mut store = MockCirculationStore::new();
    store.expect_begin().never();
    let mut rules = MockRuleRepository::new();
    rules
        .expect_scoped_rules()
        .returning(|| Err(InfrastructureError::new("timeout")));
    let svc = service(store, rules, MockCalendarRepository::new());
    assert!(matches!(
        pollster::block_on(svc.checkout(checkout_request())),
        Err(CheckoutError::Infrastructure(_))
    ));
    assert!(matches!(
        pollster::block_on(svc.expire_waiting_holds()),
        Err(ExpireHoldsError::Infrastructure(_))
    ));
}

#[test]
fn an_unknown_library_is_not_found_before_any_transaction() {
    let mut store = MockCirculationStore::new();
    store.expect_begin().never();
    let mut rules = MockRuleRepository::new();
    rules.expect_scoped_rules().returning(|| Ok(Vec::new()));
    let mut calendars = MockCalendarRepository::new();
    calendars
        .expect_library_calendar()
        .withf(|c| c.as_str() == "NOWHERE")
        .returning(|_| Ok(None));
    let svc = service(store, rules, calendars);
    let checkin = pollster::block_on(svc.checkin(CheckinRequest {
        item_barcode: barcode("B1"),
        library: code("NOWHERE"),
        returned_at: None,
    }));
    assert!(matches!(checkin, Err(CheckinError::LibraryNotFound(_))));
    let hold = pollster::block_on(svc.place_hold(PlaceHoldRequest {
        patron: PatronId(1),
        title: TitleId(1),
        pickup_library: code("NOWHERE"),
        not_needed_after: None,
    }));
    assert!(matches!(hold, Err(PlaceHoldError::LibraryNotFound(_))));
}

#[test]
fn a_failed_commit_loses_nothing_already_committed() {
    // The in-memory store: a transaction that lost the race fails at commit, and the
    // winner's writes stand.
    let w = World::new();
    w.patron("21000000000001");
    let t = w.title("T");
    w.item("B1", t, "adult_book");
    let stale = pollster::block_on(w.store.begin()).unwrap();
    w.checkout("21000000000001", "B1").unwrap();
    let err = pollster::block_on(stale.commit()).unwrap_err();
    assert!(err.to_string().contains("write conflict"));
    assert_eq!(w.store.loans().len(), 1);
}
