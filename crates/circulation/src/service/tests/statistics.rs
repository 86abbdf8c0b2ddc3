//! Every checkout, checkin, renewal, hold placed and hold collected is counted in its own
//! unit of work, on the library's local date, with the channel it came through; a refusal
//! counts nothing.

use library_core::StaffId;
use time::macros::{date, datetime};

use super::*;
use crate::ports::{Actor, CirculationStatistic, StatisticKind};

fn kinds(
    w: &World,
) -> Vec<(
    StatisticKind,
    Option<CirculationChannel>,
    String,
    time::Date,
)> {
    w.store
        .statistics()
        .into_iter()
        .map(|s: CirculationStatistic| (s.kind, s.channel, s.library.as_str().to_owned(), s.on))
        .collect()
}

#[test]
fn each_change_is_counted_on_the_librarys_local_date_with_its_channel() {
    use CirculationChannel::*;
    use StatisticKind::*;
    let w = World::new();
    let me = w.patron("21000000000001");
    let other = w.patron("21000000000002");
    let t = w.title("T");
    w.item("B1", t, "adult_book");
    // 23:30 in Hong Kong on 5 March 2021 is 15:30 UTC: still 5 March at the library.
    w.at(datetime!(2021-03-05 15:30 UTC));
    let staff = Actor::Staff(StaffId(7));
    let lent = pollster::block_on(w.svc.checkout_as(
        CheckoutRequest {
            card_number: card("21000000000001"),
            item_barcode: barcode("B1"),
            library: code("HKCL"),
        },
        Some(&staff),
    ))
    .unwrap();
    w.place_hold(other, t).unwrap();
    // A refused renewal (another reader's hold) counts nothing.
    let refused = pollster::block_on(w.svc.renew(RenewRequest {
        loan: lent.loan.id,
        patron: Some(me),
        channel: Pin,
    }));
    assert!(matches!(refused, Err(RenewError::Refused(_))));
    w.at(datetime!(2021-03-06 09:00 +08:00));
    let kiosk = Actor::Station("kiosk-1".into());
    pollster::block_on(w.svc.checkin_as(
        CheckinRequest {
            item_barcode: barcode("B1"),
            library: code("KLN"),
            returned_at: None,
        },
        Some(&kiosk),
    ))
    .unwrap();
    assert_eq!(
        kinds(&w),
        vec![
            (
                Checkout,
                Some(Counter),
                "HKCL".into(),
                date!(2021 - 03 - 05)
            ),
            (HoldPlaced, None, "HKCL".into(), date!(2021 - 03 - 05)),
            (Checkin, Some(Station), "KLN".into(), date!(2021 - 03 - 06)),
        ]
    );
}

#[test]
fn a_collection_counts_a_checkout_and_a_hold_collected_and_renewals_their_channel() {
    use CirculationChannel::*;
    use StatisticKind::*;
    let w = World::new();
    let me = w.patron("21000000000001");
    let t = w.title("T");
    w.item("B1", t, "adult_book");
    let hold = w.place_hold(me, t).unwrap();
    let lent = w.checkout("21000000000001", "B1").unwrap();
    assert_eq!(lent.collected_hold, Some(hold.id));
    w.at(datetime!(2021-03-08 10:00 +08:00));
    for channel in [Online, Pin] {
        pollster::block_on(w.svc.renew(RenewRequest {
            loan: lent.loan.id,
            patron: Some(me),
            channel,
        }))
        .unwrap();
    }
    let stats = w.store.statistics();
    assert_eq!(
        kinds(&w),
        vec![
            (HoldPlaced, None, "HKCL".into(), date!(2021 - 03 - 05)),
            (
                Checkout,
                Some(Counter),
                "HKCL".into(),
                date!(2021 - 03 - 05)
            ),
            (HoldCollected, None, "HKCL".into(), date!(2021 - 03 - 05)),
            (Renewal, Some(Online), "HKCL".into(), date!(2021 - 03 - 08)),
            (Renewal, Some(Pin), "HKCL".into(), date!(2021 - 03 - 08)),
        ]
    );
    assert_eq!(stats[2].hold, Some(hold.id));
    assert_eq!(stats[2].loan, Some(lent.loan.id));
}
