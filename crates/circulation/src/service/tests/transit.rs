//! Copies in transit between libraries (docs/circulation.md, Transit): HKCL is every copy's
//! home; STLB is another library, closed on 12 and 13 March 2021.

use time::macros::{date, datetime};

use super::*;
use crate::calendar::Closure;
use crate::checkout::CheckoutRefusal;
use crate::hold_queue::HoldState;
use crate::ports::CirculationNotice;
use crate::renewal::RenewalRefusal;
use crate::rules::{RuleScope, RuleSet, ScopedRules};

/// The world with STLB (closed 12–13 March 2021), a title with copy B1 lent at HKCL on 1
/// March to reader …01, and a hold of reader …02 on it for pickup at STLB.
fn lent_with_a_hold_at_stlb() -> (World, TitleId, Hold) {
    let w = World::new();
    w.store.put_library(Library {
        code: code("STLB"),
        kind: LibraryKind::District,
        calendar: Calendar::default()
            .with_closure(Closure::new(date!(2021 - 03 - 12), date!(2021 - 03 - 13)).unwrap()),
    });
    w.patron("21000000000001");
    let holder = w.patron("21000000000002");
    let t = w.title("T");
    w.item("B1", t, "adult_book");
    w.at(datetime!(2021-03-01 10:00 +08:00));
    w.checkout("21000000000001", "B1").unwrap();
    let hold = hold_at(&w, holder, t, "STLB");
    (w, t, hold)
}

fn hold_at(w: &World, patron: PatronId, title: TitleId, pickup: &str) -> Hold {
    pollster::block_on(w.svc.place_hold(PlaceHoldRequest {
        patron,
        title,
        pickup_library: code(pickup),
        not_needed_after: None,
    }))
    .unwrap()
}

fn item(w: &World, bc: &str) -> Item {
    w.store.item_by_barcode(&barcode(bc)).unwrap()
}

fn cancel(w: &World, hold: HoldId) {
    pollster::block_on(w.svc.cancel_hold(CancelHoldRequest {
        hold,
        patron: None,
        reason: None,
    }))
    .unwrap();
}

#[test]
fn returned_at_hkcl_for_a_hold_at_stlb_travels_and_is_trapped_on_arrival() {
    let (w, _, hold) = lent_with_a_hold_at_stlb();

    // Returned at HKCL on 8 March: in transit to STLB for the hold; no notice yet.
    w.at(datetime!(2021-03-08 11:00 +08:00));
    let back = w.checkin_at("B1", "HKCL").unwrap();
    assert_eq!(back.hold, None);
    assert_eq!(back.placement.status, ItemStatus::InTransit);
    assert_eq!(back.in_transit_to(), Some(&code("STLB")));
    assert_eq!(back.transit_hold.as_ref().map(|h| h.id), Some(hold.id));
    let copy = item(&w, "B1");
    assert_eq!(
        (copy.status, copy.current_library, copy.transit_to),
        (ItemStatus::InTransit, code("HKCL"), Some(code("STLB")))
    );
    // The hold stays queued at its position, assigned the copy.
    let queued = w.store.hold(hold.id).unwrap();
    assert_eq!(queued.status(), HoldStatus::Queued);
    assert_eq!(queued.position(), Some(1));
    assert_eq!(queued.in_transit_item(), Some(copy.id));
    assert!(w.store.notices().is_empty());

    // In transit, it cannot be lent (refused as not available).
    assert!(matches!(
        w.checkout("21000000000001", "B1"),
        Err(CheckoutError::Refused(CheckoutRefusal::ItemNotAvailable))
    ));
    // Scanned in at a library it is not going to: the answer of a copy not on loan.
    assert!(matches!(
        w.checkin_at("B1", "KLN"),
        Err(CheckinError::NotOnLoan)
    ));

    // Scanned in at STLB on 10 March: trapped; 7 open days of STLB from 10 March, 12 and
    // 13 closed: 11, 14, 15, 16, 17, 18, 19.
    w.at(datetime!(2021-03-10 09:30 +08:00));
    let arrived = w.checkin_at("B1", "STLB").unwrap();
    assert_eq!(arrived.loan, None);
    assert_eq!(arrived.borrower, None);
    assert_eq!(arrived.fine, Money::ZERO);
    assert_eq!(arrived.in_transit_to(), None);
    assert_eq!(arrived.placement.status, ItemStatus::OnHoldShelf);
    let waiting = arrived.hold.unwrap();
    assert_eq!(waiting.id, hold.id);
    assert_eq!(
        waiting.state,
        HoldState::Waiting {
            item: copy.id,
            trapped_on: date!(2021 - 03 - 10),
            pickup_by: date!(2021 - 03 - 19),
        }
    );
    let copy = item(&w, "B1");
    assert_eq!(
        (copy.status, copy.current_library, copy.transit_to),
        (ItemStatus::OnHoldShelf, code("STLB"), None)
    );
    // One "hold waiting" notice, queued on arrival.
    assert_eq!(
        w.store.notices(),
        vec![CirculationNotice::HoldWaiting {
            patron: hold.patron,
            hold: hold.id,
            title: hold.title,
            item: copy.id,
            pickup_library: code("STLB"),
            pickup_by: date!(2021 - 03 - 19),
        }]
    );
    // A second scan at STLB: no longer in transit, the answer of a copy not on loan.
    assert!(matches!(
        w.checkin_at("B1", "STLB"),
        Err(CheckinError::NotOnLoan)
    ));
    // The holder collects it there.
    let out = w.checkout_at("21000000000002", "B1", "STLB").unwrap();
    assert_eq!(out.collected_hold, Some(hold.id));
}

#[test]
fn a_second_copy_is_not_sent_to_a_hold_a_copy_already_travels_for() {
    let (w, t, first) = lent_with_a_hold_at_stlb();
    let second = hold_at(&w, w.patron("21000000000003"), t, "STLB");
    w.item("B2", t, "adult_book");
    w.checkout("21000000000001", "B2").unwrap();
    w.at(datetime!(2021-03-08 11:00 +08:00));
    w.checkin_at("B1", "HKCL").unwrap();
    // B2 comes back at STLB: the first hold has a copy on its way, so B2 is trapped for
    // the second.
    let back = w.checkin_at("B2", "STLB").unwrap();
    assert_eq!(back.hold.as_ref().map(|h| h.id), Some(second.id));
    assert_eq!(w.store.hold(first.id).unwrap().position(), Some(1));
    // B1 arrives and is trapped for the hold it travelled for.
    w.at(datetime!(2021-03-10 09:30 +08:00));
    let arrived = w.checkin_at("B1", "STLB").unwrap();
    assert_eq!(arrived.hold.map(|h| h.id), Some(first.id));
}

#[test]
fn a_copy_whose_hold_ended_in_transit_goes_to_the_next_hold_or_home() {
    let (w, t, hold) = lent_with_a_hold_at_stlb();
    let next = hold_at(&w, w.patron("21000000000003"), t, "KLN");
    w.at(datetime!(2021-03-08 11:00 +08:00));
    let back = w.checkin_at("B1", "HKCL").unwrap();
    assert_eq!(back.transit_hold.map(|h| h.id), Some(hold.id));
    cancel(&w, hold.id);
    // Still travelling to STLB; the next hold is now first in line, without a copy.
    assert_eq!(item(&w, "B1").transit_to, Some(code("STLB")));
    assert_eq!(w.store.hold(next.id).unwrap().position(), Some(1));

    // Arrives at STLB: on to KLN for the next hold.
    w.at(datetime!(2021-03-10 09:30 +08:00));
    let arrived = w.checkin_at("B1", "STLB").unwrap();
    assert_eq!(arrived.hold, None);
    assert_eq!(arrived.in_transit_to(), Some(&code("KLN")));
    assert_eq!(arrived.transit_hold.map(|h| h.id), Some(next.id));
    assert!(w.store.notices().is_empty());

    // That hold is cancelled too: at KLN, with no hold, the copy goes home to HKCL.
    cancel(&w, next.id);
    w.at(datetime!(2021-03-11 09:30 +08:00));
    let arrived = w.checkin_at("B1", "KLN").unwrap();
    assert_eq!(arrived.in_transit_to(), Some(&code("HKCL")));
    assert_eq!(arrived.transit_hold, None);

    // Home: on the shelf.
    w.at(datetime!(2021-03-12 09:30 +08:00));
    let home = w.checkin_at("B1", "HKCL").unwrap();
    assert_eq!(home.placement.status, ItemStatus::Available);
    assert_eq!(home.in_transit_to(), None);
    let copy = item(&w, "B1");
    assert_eq!(
        (copy.status, copy.current_library, copy.transit_to),
        (ItemStatus::Available, code("HKCL"), None)
    );
    // On the shelf at home, a checkin is refused as before.
    assert!(matches!(
        w.checkin_at("B1", "HKCL"),
        Err(CheckinError::NotOnLoan)
    ));
}

#[test]
fn returned_away_from_home_goes_home_unless_its_type_floats() {
    let w = World::new();
    let mut rules = hkpl_profile();
    rules.push(ScopedRules {
        scope: RuleScope {
            item_type: Some(ItemType::parse("adult_av").unwrap()),
            ..RuleScope::any()
        },
        rules: RuleSet {
            floating: Some(true),
            ..RuleSet::default()
        },
    });
    w.store.set_rules(rules);
    w.patron("21000000000001");
    let t = w.title("T");
    w.item("B1", t, "adult_book");
    w.item("AV1", t, "adult_av");
    w.checkout("21000000000001", "B1").unwrap();
    w.checkout("21000000000001", "AV1").unwrap();

    w.at(datetime!(2021-03-08 11:00 +08:00));
    let book = w.checkin_at("B1", "KLN").unwrap();
    assert_eq!(book.placement.status, ItemStatus::InTransit);
    assert_eq!(book.in_transit_to(), Some(&code("HKCL")));
    assert_eq!(book.transit_hold, None);

    // The floating copy stays at KLN, on the shelf there.
    let av = w.checkin_at("AV1", "KLN").unwrap();
    assert_eq!(av.placement.status, ItemStatus::Available);
    assert_eq!(av.in_transit_to(), None);
    let copy = item(&w, "AV1");
    assert_eq!(
        (copy.status, copy.current_library, copy.home_library),
        (ItemStatus::Available, code("KLN"), code("HKCL"))
    );
    // It may be lent there again, and returned there again stays there.
    w.checkout_at("21000000000001", "AV1", "KLN").unwrap();
    let again = w.checkin_at("AV1", "KLN").unwrap();
    assert_eq!(again.placement.status, ItemStatus::Available);

    // The book arrives home on 10 March: on the shelf.
    w.at(datetime!(2021-03-10 09:30 +08:00));
    let home = w.checkin_at("B1", "HKCL").unwrap();
    assert_eq!(home.placement.status, ItemStatus::Available);
    assert!(w.store.notices().is_empty());
}

#[test]
fn an_expired_hold_at_stlb_sends_its_copy_to_the_next_readers_library() {
    let (w, t, hold) = lent_with_a_hold_at_stlb();
    let next = hold_at(&w, w.patron("21000000000003"), t, "HKCL");
    w.at(datetime!(2021-03-10 09:30 +08:00));
    // Returned at STLB: trapped there at once.
    let back = w.checkin_at("B1", "STLB").unwrap();
    assert_eq!(back.hold.map(|h| h.id), Some(hold.id));
    // Not collected by 19 March: on the 20th it expires and the copy goes to HKCL.
    w.at(datetime!(2021-03-20 00:30 +08:00));
    let report = pollster::block_on(w.svc.expire_waiting_holds()).unwrap();
    assert_eq!(report.expired, vec![hold.id]);
    assert!(report.trapped.is_empty());
    let copy = item(&w, "B1");
    assert_eq!(
        (copy.status, copy.current_library, copy.transit_to),
        (ItemStatus::InTransit, code("STLB"), Some(code("HKCL")))
    );
    assert_eq!(
        w.store.hold(next.id).unwrap().in_transit_item(),
        Some(copy.id)
    );
}

#[test]
fn a_hold_with_a_copy_on_its_way_no_longer_blocks_renewals() {
    let (w, t, _) = lent_with_a_hold_at_stlb();
    w.item("B2", t, "adult_book");
    let other = w.patron("21000000000003");
    let loan = w.checkout("21000000000003", "B2").unwrap().loan;
    let renew = || {
        pollster::block_on(w.svc.renew(RenewRequest {
            loan: loan.id,
            patron: Some(other),
            channel: crate::ports::CirculationChannel::Online,
        }))
    };
    // Before B1 comes back, the hold waits for a copy: B2 is reserved for it.
    w.at(datetime!(2021-03-08 10:00 +08:00));
    assert!(matches!(
        renew(),
        Err(RenewError::Refused(RenewalRefusal::OnHoldForAnother))
    ));
    // B1 returned at HKCL travels to the hold: B2 may be renewed.
    w.checkin_at("B1", "HKCL").unwrap();
    assert!(renew().is_ok());
}
