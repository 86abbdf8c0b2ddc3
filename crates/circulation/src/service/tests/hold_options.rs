//! Suspended holds, "not needed after" dates and staff's cancel reasons, with the dates of
//! docs/circulation.md.

use library_core::StaffId;
use time::macros::{date, datetime};

use super::*;
use crate::hold_options::{CancelReason, CancelledBy, HoldOptionViolation};
use crate::ports::{Actor, CirculationNotice};

fn change(
    w: &World,
    hold: HoldId,
    patron: PatronId,
    suspended_until: Option<Option<time::Date>>,
    not_needed_after: Option<Option<time::Date>>,
) -> Result<Hold, ChangeHoldError> {
    pollster::block_on(w.svc.change_hold(ChangeHoldRequest {
        hold,
        patron: Some(patron),
        suspended_until,
        not_needed_after,
    }))
}

fn violations(r: Result<Hold, ChangeHoldError>) -> Vec<HoldOptionViolation> {
    match r {
        Err(ChangeHoldError::Invalid(v)) => v,
        other => panic!("expected violations, got {other:?}"),
    }
}

/// A title with one copy on loan to a fourth reader and three readers queued for it.
fn three_queued(w: &World) -> (TitleId, [PatronId; 3], [HoldId; 3]) {
    let t = w.title("Harbour Tales");
    w.item("B1", t, "adult_book");
    w.patron("21000000000009");
    w.checkout("21000000000009", "B1").unwrap();
    let readers = [
        w.patron("21000000000001"),
        w.patron("21000000000002"),
        w.patron("21000000000003"),
    ];
    let holds = readers.map(|r| w.place_hold(r, t).unwrap().id);
    (t, readers, holds)
}

#[test]
fn a_suspended_hold_is_passed_over_keeps_its_place_and_is_next_on_its_resume_day() {
    let w = World::new();
    let (_, [a, b, _], [h1, h2, h3]) = three_queued(&w);
    let suspended = change(&w, h1, a, Some(Some(date!(2021 - 03 - 10))), None).unwrap();
    assert_eq!(suspended.suspended_until, Some(date!(2021 - 03 - 10)));
    assert_eq!(suspended.position(), Some(1));

    // Returned on 8 March: the copy goes to hold #2.
    w.at(datetime!(2021-03-08 11:00 +08:00));
    let back = w.checkin("B1").unwrap();
    assert_eq!(back.hold.as_ref().map(|h| h.id), Some(h2));
    assert_eq!(w.position(h1), Some(1), "#1 keeps its place");
    assert_eq!(w.position(h3), Some(2));

    // #2 borrows it and returns it on 10 March, the resume day itself: #1 gets it.
    let borrowed = pollster::block_on(w.svc.collect_hold(CollectHoldRequest {
        hold: h2,
        library: code("HKCL"),
    }))
    .unwrap();
    assert_eq!(borrowed.loan.patron, b);
    w.at(datetime!(2021-03-10 09:00 +08:00));
    let back = w.checkin("B1").unwrap();
    let trapped = back.hold.expect("trapped for #1");
    assert_eq!(trapped.id, h1);
    assert_eq!(trapped.suspended_until, None);
    assert_eq!(w.position(h3), Some(1));
}

#[test]
fn the_day_before_the_resume_day_the_hold_is_still_passed_over() {
    let w = World::new();
    let (_, [a, ..], [h1, h2, _]) = three_queued(&w);
    change(&w, h1, a, Some(Some(date!(2021 - 03 - 10))), None).unwrap();
    w.at(datetime!(2021-03-09 23:30 +08:00));
    let back = w.checkin("B1").unwrap();
    assert_eq!(back.hold.map(|h| h.id), Some(h2));
}

#[test]
fn resuming_makes_the_hold_first_in_line_at_once() {
    let w = World::new();
    let (_, [a, ..], [h1, ..]) = three_queued(&w);
    change(&w, h1, a, Some(Some(date!(2021 - 03 - 10))), None).unwrap();
    let resumed = change(&w, h1, a, Some(None), None).unwrap();
    assert_eq!(resumed.suspended_until, None);
    w.at(datetime!(2021-03-08 11:00 +08:00));
    assert_eq!(w.checkin("B1").unwrap().hold.map(|h| h.id), Some(h1));
}

#[test]
fn when_every_hold_is_suspended_the_copy_goes_back_to_the_shelf_and_may_be_renewed() {
    let w = World::new();
    let t = w.title("Harbour Tales");
    let copy = w.item("B1", t, "adult_book");
    w.patron("21000000000009");
    let lent = w.checkout("21000000000009", "B1").unwrap();
    let a = w.patron("21000000000001");
    let h = w.place_hold(a, t).unwrap().id;
    change(&w, h, a, Some(Some(date!(2021 - 03 - 20))), None).unwrap();
    // A suspended hold does not stop the borrower's renewal (Koha CheckReserves).
    w.at(datetime!(2021-03-15 10:00 +08:00));
    pollster::block_on(w.svc.renew(RenewRequest {
        loan: lent.loan.id,
        patron: None,
        channel: crate::ports::CirculationChannel::Counter,
    }))
    .unwrap();
    let back = w.checkin("B1").unwrap();
    assert!(back.hold.is_none());
    assert_eq!(w.store.item(copy).unwrap().status, ItemStatus::Available);
    assert_eq!(w.position(h), Some(1));
}

#[test]
fn suspension_and_last_date_are_checked_against_the_pickup_librarys_today() {
    let w = World::new();
    let (_, [a, b, _], [h1, h2, _]) = three_queued(&w);
    // Today is 5 March 2021.
    assert_eq!(
        violations(change(
            &w,
            h1,
            a,
            Some(Some(date!(2021 - 03 - 05))),
            Some(Some(date!(2021 - 03 - 04)))
        )),
        vec![
            HoldOptionViolation::SuspendedUntilNotAfterToday,
            HoldOptionViolation::NotNeededAfterInPast
        ]
    );
    assert_eq!(
        violations(change(&w, h1, a, Some(Some(date!(2022 - 03 - 06))), None)),
        vec![HoldOptionViolation::SuspendedUntilTooFar]
    );
    assert_eq!(
        violations(change(&w, h1, a, None, Some(Some(date!(2023 - 03 - 06))))),
        vec![HoldOptionViolation::NotNeededAfterTooFar]
    );
    let ok = change(
        &w,
        h1,
        a,
        Some(Some(date!(2022 - 03 - 05))),
        Some(Some(date!(2021 - 03 - 05))),
    )
    .unwrap();
    assert_eq!(ok.not_needed_after, Some(date!(2021 - 03 - 05)));
    // Another reader's hold is not found.
    assert!(matches!(
        change(&w, h1, b, Some(None), None),
        Err(ChangeHoldError::HoldNotFound)
    ));
    // A waiting hold cannot be suspended; an ended one cannot be changed.
    w.at(datetime!(2021-03-06 10:00 +08:00));
    change(&w, h1, a, Some(None), None).unwrap();
    w.checkin("B1").unwrap();
    assert_eq!(
        violations(change(&w, h1, a, Some(Some(date!(2021 - 03 - 20))), None)),
        vec![HoldOptionViolation::HoldNotQueued]
    );
    pollster::block_on(w.svc.cancel_hold(CancelHoldRequest {
        hold: h2,
        patron: Some(b),
        reason: None,
    }))
    .unwrap();
    assert!(matches!(
        change(&w, h2, b, Some(None), None),
        Err(ChangeHoldError::NotActive)
    ));
}

#[test]
fn a_hold_not_needed_after_5_march_expires_on_6_march_and_the_queue_moves_up() {
    let w = World::new();
    let t = w.title("Harbour Tales");
    w.item("B1", t, "adult_book");
    w.patron("21000000000009");
    w.checkout("21000000000009", "B1").unwrap();
    let a = w.patron("21000000000001");
    let b = w.patron("21000000000002");
    let h1 = pollster::block_on(w.svc.place_hold(PlaceHoldRequest {
        patron: a,
        title: t,
        pickup_library: code("HKCL"),
        not_needed_after: Some(date!(2021 - 03 - 05)),
    }))
    .unwrap();
    assert_eq!(h1.not_needed_after, Some(date!(2021 - 03 - 05)));
    let h2 = w.place_hold(b, t).unwrap();
    // Placing with a date already past is refused.
    let c = w.patron("21000000000003");
    assert!(matches!(
        pollster::block_on(w.svc.place_hold(PlaceHoldRequest {
            patron: c,
            title: t,
            pickup_library: code("HKCL"),
            not_needed_after: Some(date!(2021 - 03 - 04)),
        })),
        Err(PlaceHoldError::Invalid(
            HoldOptionViolation::NotNeededAfterInPast
        ))
    ));

    // The job on 5 March, late: still wanted today.
    w.at(datetime!(2021-03-05 23:59 +08:00));
    let report = pollster::block_on(w.svc.expire_waiting_holds()).unwrap();
    assert!(report.no_longer_needed.is_empty());
    assert_eq!(w.position(h1.id), Some(1));

    // The job on 6 March: expired, #2 moves up, the reader told.
    w.at(datetime!(2021-03-06 00:05 +08:00));
    let report = pollster::block_on(w.svc.expire_waiting_holds()).unwrap();
    assert_eq!(report.no_longer_needed, vec![h1.id]);
    assert_eq!(w.store.hold(h1.id).unwrap().status(), HoldStatus::Expired);
    assert_eq!(w.position(h2.id), Some(1));
    let told: Vec<_> = w
        .store
        .notices()
        .into_iter()
        .filter_map(|n| match n {
            CirculationNotice::HoldNotNeeded {
                patron,
                hold,
                not_needed_after,
                ..
            } => Some((patron, hold, not_needed_after)),
            _ => None,
        })
        .collect();
    assert_eq!(told, vec![(a, h1.id, date!(2021 - 03 - 05))]);
    // A second run does nothing more.
    let again = pollster::block_on(w.svc.expire_waiting_holds()).unwrap();
    assert!(again.no_longer_needed.is_empty());
}

#[test]
fn a_waiting_hold_keeps_its_pickup_by_date_past_its_last_date_of_interest() {
    let w = World::new();
    let (_, [a, ..], [h1, ..]) = three_queued(&w);
    change(&w, h1, a, None, Some(Some(date!(2021 - 03 - 06)))).unwrap();
    w.at(datetime!(2021-03-06 10:00 +08:00));
    let trapped = w.checkin("B1").unwrap().hold.unwrap();
    assert_eq!(trapped.id, h1);
    w.at(datetime!(2021-03-08 10:00 +08:00));
    let report = pollster::block_on(w.svc.expire_waiting_holds()).unwrap();
    assert!(report.no_longer_needed.is_empty() && report.expired.is_empty());
    assert_eq!(w.store.hold(h1).unwrap().status(), HoldStatus::Waiting);
}

#[test]
fn staff_cancel_with_a_reason_the_reader_sees_and_a_readers_own_says_reader() {
    let w = World::new();
    let (_, [a, b, _], [h1, h2, _]) = three_queued(&w);
    let reason = CancelReason::parse("The title was withdrawn from stock").unwrap();
    let cancelled = pollster::block_on(w.svc.cancel_hold_as(
        CancelHoldRequest {
            hold: h1,
            patron: Some(a),
            reason: Some(reason.clone()),
        },
        Some(&Actor::Staff(StaffId(1))),
    ))
    .unwrap();
    assert_eq!(
        cancelled.cancellation(),
        Some((CancelledBy::Staff, Some(&reason)))
    );
    let own = pollster::block_on(w.svc.cancel_hold(CancelHoldRequest {
        hold: h2,
        patron: Some(b),
        reason: None,
    }))
    .unwrap();
    assert_eq!(own.cancellation(), Some((CancelledBy::Reader, None)));
}
