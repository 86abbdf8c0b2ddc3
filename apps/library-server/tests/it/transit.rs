//! Copies in transit between libraries (docs/circulation.md, Transit), over HTTP and SIP2
//! on every backend: HKCL is the copies' home, STLB another library closed on 12 and 13
//! March 2021; the readers' home is CEN.

use serde_json::{Value, json};

use crate::sip2::Raw;
use crate::support::{TestApp, hk, on_every_backend, on_every_backend_with, standard_rules};

const DATE: &str = "20210308    110000";
const STATION_PASSWORD: &str = "kiosk-pass-2026";

/// The counter on 1 March 2021 at 10:00: libraries CEN, HKCL and STLB (closed 12–13
/// March), the standard rules (3 pickup days); a staff token.
async fn counter(app: &TestApp) -> String {
    app.set_clock(hk("2021-03-01T10:00:00")).await;
    let staff = app.staff_token().await;
    app.library(&staff, "CEN", "district").await;
    app.library(&staff, "HKCL", "central").await;
    app.library(&staff, "STLB", "district").await;
    app.closure(&staff, "STLB", "2021-03-12", "2021-03-13")
        .await;
    app.rules(&staff, json!({}), standard_rules())
        .await
        .expect(200, "");
    staff
}

async fn hold_for(app: &TestApp, staff: &str, card: &str, title: i64, pickup: &str) -> i64 {
    app.post(
        &format!("/api/v1/patrons/{card}/holds"),
        Some(staff),
        json!({"title_id": title, "pickup_library": pickup}),
    )
    .await
    .expect(201, "")
    .body["id"]
        .as_i64()
        .expect("hold id")
}

async fn holds_of(app: &TestApp, staff: &str, card: &str) -> Vec<Value> {
    app.get(&format!("/api/v1/patrons/{card}/holds"), Some(staff))
        .await
        .expect(200, "")
        .body["holds"]
        .as_array()
        .expect("holds")
        .clone()
}

/// The "hold waiting" messages queued so far, as (hold id, pickup library, pickup by).
async fn hold_waiting_notices(app: &TestApp) -> Vec<(i64, String, String)> {
    app.outbox()
        .await
        .into_iter()
        .filter(|n| n.notification.kind == "hold.waiting")
        .map(|n| {
            let p: Value = serde_json::from_str(&n.notification.payload).expect("JSON");
            (
                p["hold_id"].as_i64().expect("hold"),
                p["pickup_library"].as_str().expect("library").to_owned(),
                p["pickup_by"].as_str().expect("date").to_owned(),
            )
        })
        .collect()
}

async fn item_of_type(app: &TestApp, staff: &str, title: i64, barcode: &str, item_type: &str) {
    app.post(
        "/api/v1/catalog/items",
        Some(staff),
        json!({"title_id": title, "barcode": barcode, "item_type": item_type,
               "home_library": "HKCL"}),
    )
    .await
    .expect(201, "");
}

#[tokio::test]
async fn a_copy_returned_at_hkcl_travels_to_the_hold_at_stlb_and_waits_from_its_arrival() {
    on_every_backend(true, async |app: &TestApp| {
        let staff = counter(app).await;
        let title = app.title(&staff, "Fortress Besieged").await;
        app.item(&staff, title, "H1", "HKCL").await;
        let lender = app.reader(&staff, "91235001").await;
        let holder = app.reader(&staff, "91235002").await;
        let lent = app
            .checkout(&staff, &lender, "H1", "HKCL")
            .await
            .expect(201, "");
        let hold = hold_for(app, &staff, &holder, title, "STLB").await;

        // Returned at HKCL on 8 March: in transit to STLB for the hold, no notice yet.
        app.set_clock(hk("2021-03-08T11:00:00")).await;
        let staff = app.staff_token().await;
        let back = app
            .checkin(&staff, "H1", "HKCL", None)
            .await
            .expect(200, "");
        assert_eq!(back.body["loan_id"], lent.body["loan_id"], "{}", app.db);
        assert_eq!(back.body["item_status"], "in_transit", "{:?}", back.body);
        assert_eq!(back.body["in_transit_to"], "STLB");
        assert_eq!(back.body["in_transit_for_hold"], hold);
        assert!(back.body.get("hold").is_none(), "{:?}", back.body);
        assert_eq!(back.body["fine_cents"], 0);
        let queued = holds_of(app, &staff, &holder).await;
        assert_eq!(
            (
                &queued[0]["status"],
                &queued[0]["position"],
                &queued[0]["in_transit"]
            ),
            (&json!("queued"), &json!(1), &json!(true)),
            "{queued:?}"
        );
        assert!(hold_waiting_notices(app).await.is_empty(), "{}", app.db);

        // In transit: not lent, and scanned in elsewhere it keeps the old answer.
        app.checkout(&staff, &holder, "H1", "STLB")
            .await
            .refused("checkout_refused", "item_not_available");
        app.checkin(&staff, "H1", "CEN", None)
            .await
            .refused("checkin_refused", "not_on_loan");

        // Scanned in at STLB on 10 March: waiting, 3 open days of STLB from 10 March with
        // 12 and 13 closed: 11, 14, 15. One notice, queued now.
        app.set_clock(hk("2021-03-10T09:30:00")).await;
        let staff = app.staff_token().await;
        let arrived = app
            .checkin(&staff, "H1", "STLB", None)
            .await
            .expect(200, "");
        assert_eq!(
            arrived.body,
            json!({"loan_id": null, "overdue_days": 0, "chargeable_days": 0, "fine_cents": 0,
                   "hold": {"id": hold, "pickup_library": "STLB", "pickup_by": "2021-03-15"},
                   "item_status": "on_hold_shelf", "in_transit_to": null,
                   "in_transit_for_hold": null}),
            "{}",
            app.db
        );
        assert_eq!(
            hold_waiting_notices(app).await,
            vec![(hold, "STLB".to_owned(), "2021-03-15".to_owned())]
        );
        let waiting = holds_of(app, &staff, &holder).await;
        assert_eq!(waiting[0]["status"], "waiting");
        assert_eq!(waiting[0]["pickup_by"], "2021-03-15");
        assert!(waiting[0].get("in_transit").is_none(), "{waiting:?}");
        // Scanned again: no longer in transit.
        app.checkin(&staff, "H1", "STLB", None)
            .await
            .refused("checkin_refused", "not_on_loan");
        let audit = app.audit_log().await;
        let received: Vec<_> = audit
            .iter()
            .filter(|e| e.entry.action == "circulation.transit_receive")
            .collect();
        assert_eq!(received.len(), 1, "{}", app.db);
        let details: Value = serde_json::from_str(&received[0].entry.details).expect("JSON");
        assert_eq!(
            (&details["library_code"], &details["trapped_hold"]),
            (&json!("STLB"), &json!(hold))
        );

        // The holder collects it at STLB.
        app.checkout(&staff, &holder, "H1", "STLB")
            .await
            .expect(201, "");
        assert_eq!(
            holds_of(app, &staff, &holder).await[0]["status"],
            "collected"
        );
    })
    .await;
}

#[tokio::test]
async fn returned_away_from_home_a_copy_goes_home_unless_its_type_floats() {
    on_every_backend(true, async |app: &TestApp| {
        let staff = counter(app).await;
        // `floating` is a rule like the others: set, read back, refused when not a boolean.
        app.rules(
            &staff,
            json!({"item_type": "adult_av"}),
            json!({"floating": "yes"}),
        )
        .await
        .expect(400, "bad_request");
        let set = app
            .rules(
                &staff,
                json!({"item_type": "adult_av"}),
                json!({"floating": true}),
            )
            .await
            .expect(200, "");
        assert_eq!(set.body["rules"], json!({"floating": true}));
        let all = app
            .get("/api/v1/circulation/rules", Some(&staff))
            .await
            .expect(200, "");
        assert!(
            all.body["scopes"]
                .as_array()
                .unwrap()
                .iter()
                .any(|s| s["rules"]["floating"] == json!(true)),
            "{:?}",
            all.body
        );
        let title = app.title(&staff, "Rickshaw Boy").await;
        app.item(&staff, title, "B1", "HKCL").await;
        item_of_type(app, &staff, title, "AV1", "adult_av").await;
        let reader = app.reader(&staff, "91235003").await;
        app.checkout(&staff, &reader, "B1", "HKCL")
            .await
            .expect(201, "");
        app.checkout(&staff, &reader, "AV1", "HKCL")
            .await
            .expect(201, "");

        app.set_clock(hk("2021-03-08T11:00:00")).await;
        let staff = app.staff_token().await;
        let book = app
            .checkin(&staff, "B1", "STLB", None)
            .await
            .expect(200, "");
        assert_eq!(
            (
                &book.body["item_status"],
                &book.body["in_transit_to"],
                &book.body["in_transit_for_hold"]
            ),
            (&json!("in_transit"), &json!("HKCL"), &Value::Null),
            "{}",
            app.db
        );
        let av = app
            .checkin(&staff, "AV1", "STLB", None)
            .await
            .expect(200, "");
        assert_eq!(
            (&av.body["item_status"], &av.body["in_transit_to"]),
            (&json!("available"), &Value::Null)
        );
        // The catalogue counts copies where they are: at STLB the floating copy (on the
        // shelf) and the book that left from there (in transit); none at HKCL.
        let at = |library: &'static str| async move {
            app.get(
                &format!("/api/v1/catalog/search?q=rickshaw&library={library}"),
                None,
            )
            .await
            .expect(200, "")
            .body["results"][0]
                .clone()
        };
        let stlb = at("STLB").await;
        assert_eq!(
            (&stlb["copies"], &stlb["available"]),
            (&json!(2), &json!(1))
        );
        assert_eq!(at("HKCL").await["copies"], 0);
        // The floating copy is lent at STLB again.
        app.checkout(&staff, &reader, "AV1", "STLB")
            .await
            .expect(201, "");

        // The book arrives home on 10 March: on the shelf there.
        app.set_clock(hk("2021-03-10T09:30:00")).await;
        let staff = app.staff_token().await;
        let home = app
            .checkin(&staff, "B1", "HKCL", None)
            .await
            .expect(200, "");
        assert_eq!(
            (
                &home.body["loan_id"],
                &home.body["item_status"],
                &home.body["in_transit_to"]
            ),
            (&Value::Null, &json!("available"), &Value::Null)
        );
        assert_eq!(at("HKCL").await["available"], 1);
        app.checkout(&staff, &reader, "B1", "HKCL")
            .await
            .expect(201, "");
        assert!(hold_waiting_notices(app).await.is_empty());
    })
    .await;
}

/// A station of `library`, logged in.
async fn station(app: &TestApp, staff: &str, username: &str, library: &str) -> Raw {
    app.post(
        "/api/v1/sip2/stations",
        Some(staff),
        json!({"username": username, "password": STATION_PASSWORD, "library_code": library}),
    )
    .await
    .expect(201, "");
    let mut raw = Raw::connect(app.sip2.expect("SIP2")).await;
    assert_eq!(
        raw.call(&format!(
            "9300CN{username}|CO{STATION_PASSWORD}|CP{library}|"
        ))
        .await,
        "941"
    );
    raw
}

/// A `09` checkin of `barcode` and the `10` answered, without its trailer.
async fn sip2_checkin(raw: &mut Raw, library: &str, barcode: &str) -> String {
    raw.call(&format!(
        "09N{DATE}{DATE}AP{library}|AO{library}|AB{barcode}|AC|"
    ))
    .await
}

/// The value of field `id` in a `10`, if present.
fn field(response: &str, id: &str) -> Option<String> {
    response[24..]
        .split('|')
        .find_map(|f| f.strip_prefix(id).map(str::to_owned))
}

#[tokio::test]
async fn a_station_is_told_where_a_copy_goes_ct_and_cv() {
    on_every_backend_with(true, true, async |app: &TestApp| {
        let staff = counter(app).await;
        let title = app.title(&staff, "Camel Xiangzi").await;
        for barcode in ["S1", "S2", "S3"] {
            app.item(&staff, title, barcode, "HKCL").await;
        }
        let lender = app.reader(&staff, "91235004").await;
        let holder = app.reader(&staff, "91235005").await;
        for barcode in ["S1", "S2", "S3"] {
            app.checkout(&staff, &lender, barcode, "HKCL")
                .await
                .expect(201, "");
        }
        let hold = hold_for(app, &staff, &holder, title, "STLB").await;
        let mut at_hkcl = station(app, &staff, "hkcl01", "HKCL").await;
        let mut at_stlb = station(app, &staff, "stlb01", "STLB").await;

        // S1 returned at HKCL for the hold at STLB: alert, hold for another library (02),
        // sent to STLB.
        app.set_clock(hk("2021-03-08T11:00:00")).await;
        let back = sip2_checkin(&mut at_hkcl, "HKCL", "S1").await;
        assert!(back.starts_with("101YNY"), "{}: {back}", app.db);
        assert_eq!(field(&back, "CV").as_deref(), Some("02"), "{back}");
        assert_eq!(field(&back, "CT").as_deref(), Some("STLB"), "{back}");
        assert_eq!(field(&back, "CL").as_deref(), Some("STLB"), "{back}");
        assert_eq!(field(&back, "AA"), Some(lender.clone()));

        // S2 returned at STLB with no one else waiting: away from home, sent home (04).
        let home = sip2_checkin(&mut at_stlb, "STLB", "S2").await;
        assert!(home.starts_with("101YNY"), "{home}");
        assert_eq!(field(&home, "CV").as_deref(), Some("04"), "{home}");
        assert_eq!(field(&home, "CT").as_deref(), Some("HKCL"), "{home}");

        // S3 returned at its home with no hold: the answer of before, no alert, no CV/CT.
        let shelf = sip2_checkin(&mut at_hkcl, "HKCL", "S3").await;
        assert!(shelf.starts_with("101YNN"), "{shelf}");
        assert_eq!((field(&shelf, "CV"), field(&shelf, "CT")), (None, None));

        // S1 scanned in at STLB on 10 March: trapped here (01), no borrower.
        app.set_clock(hk("2021-03-10T09:30:00")).await;
        let staff = app.staff_token().await;
        let arrived = sip2_checkin(&mut at_stlb, "STLB", "S1").await;
        assert!(arrived.starts_with("101YNY"), "{arrived}");
        assert_eq!(field(&arrived, "CV").as_deref(), Some("01"), "{arrived}");
        assert_eq!(field(&arrived, "CT").as_deref(), Some("STLB"), "{arrived}");
        assert_eq!(field(&arrived, "AA"), None, "{arrived}");
        let waiting = holds_of(app, &staff, &holder).await;
        assert_eq!(
            (
                &waiting[0]["id"],
                &waiting[0]["status"],
                &waiting[0]["pickup_by"]
            ),
            (&json!(hold), &json!("waiting"), &json!("2021-03-15"))
        );
        assert_eq!(
            hold_waiting_notices(app).await,
            vec![(hold, "STLB".to_owned(), "2021-03-15".to_owned())]
        );
        // Scanned again, or S3 on the shelf: not checked out, as before (ok 0, alert).
        let again = sip2_checkin(&mut at_stlb, "STLB", "S1").await;
        assert!(again.starts_with("100"), "{again}");
        let on_shelf = sip2_checkin(&mut at_hkcl, "HKCL", "S3").await;
        assert!(on_shelf.starts_with("100"), "{on_shelf}");
        assert_eq!(field(&on_shelf, "CV"), None);
    })
    .await;
}
