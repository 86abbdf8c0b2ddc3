//! Staff reports over HTTP, on every backend: circulation counts per library and local
//! day (the Hong Kong midnight edge), renewals by channel, holds placed and collected; the
//! fines charged, paid and waived; the overdue list, paged; JSON and CSV.

use serde_json::{Value, json};

use crate::support::{TestApp, hk, on_every_backend, standard_rules};

async fn loan_id(answer: crate::support::Answer) -> i64 {
    answer.expect(201, "").body["loan_id"]
        .as_i64()
        .expect("loan id")
}

fn zero_day(date: &str) -> Value {
    json!({"date": date, "library_code": "CEN",
           "checkouts_counter": 0, "checkouts_station": 0,
           "checkins_counter": 0, "checkins_station": 0,
           "renewals_counter": 0, "renewals_station": 0,
           "renewals_online": 0, "renewals_pin": 0,
           "holds_placed": 0, "holds_collected": 0})
}

fn day(date: &str, counts: Value) -> Value {
    let mut day = zero_day(date);
    for (k, v) in counts.as_object().expect("counts") {
        day[k] = v.clone();
    }
    day
}

#[tokio::test]
async fn circulation_fines_and_overdue_reports() {
    on_every_backend(true, async |app: &TestApp| {
        app.set_clock(hk("2021-03-05T10:00:00")).await;
        let staff = app.staff_token().await;
        app.library(&staff, "CEN", "district").await;
        app.library(&staff, "KLN", "major").await;
        app.rules(&staff, json!({}), standard_rules())
            .await
            .expect(200, "");
        let titles = [
            "Journey to the West",
            "Water Margin",
            "=HYPERLINK(\"x\"), Red",
        ];
        let mut ids = Vec::new();
        for (n, name) in titles.iter().enumerate() {
            let t = app.title(&staff, name).await;
            app.item(&staff, t, &format!("B{}", n + 1), "CEN").await;
            ids.push(t);
        }
        let t1 = ids[0];
        let a = app.reader(&staff, "91230001").await;
        let b = app.reader(&staff, "91230002").await;
        app.reader_session(&a, "91230001").await;
        app.reader_session(&b, "91230002").await;

        // 5 March, 10:00 and 23:30 in Hong Kong (15:30 UTC): both on 5 March.
        let l1 = loan_id(app.checkout(&staff, &a, "B1", "CEN").await).await;
        app.set_clock(hk("2021-03-05T23:30:00")).await;
        let staff = app.staff_token().await;
        let l2 = loan_id(app.checkout(&staff, &a, "B2", "CEN").await).await;
        // 00:30 on 6 March in Hong Kong is still 5 March in UTC: a 6 March checkout.
        app.set_clock(hk("2021-03-06T00:30:00")).await;
        let staff = app.staff_token().await;
        let l3 = loan_id(app.checkout(&staff, &a, "B3", "CEN").await).await;

        // 6 March: a renewal online, one by PIN, one at the counter; a hold placed online.
        app.set_clock(hk("2021-03-06T10:00:00")).await;
        let staff = app.staff_token().await;
        let a_full = app.relogin(&a).await;
        let a_pin = app.pin_login(&a, "0001").await.expect(200, "").token();
        let b_full = app.relogin(&b).await;
        app.post(
            &format!("/api/v1/me/loans/{l1}/renewal"),
            Some(&a_full),
            Value::Null,
        )
        .await
        .expect(200, "");
        app.post(
            &format!("/api/v1/me/loans/{l2}/renewal"),
            Some(&a_pin),
            Value::Null,
        )
        .await
        .expect(200, "");
        app.post(
            &format!("/api/v1/circulation/loans/{l3}/renewal"),
            Some(&staff),
            Value::Null,
        )
        .await
        .expect(200, "");
        let hold = app
            .post(
                "/api/v1/me/holds",
                Some(&b_full),
                json!({"title_id": t1, "pickup_library": "CEN"}),
            )
            .await
            .expect(201, "")
            .body["id"]
            .as_i64()
            .expect("hold");

        // 7 March: B1 returned, trapped for the hold, collected.
        app.set_clock(hk("2021-03-07T10:00:00")).await;
        let staff = app.staff_token().await;
        app.checkin(&staff, "B1", "CEN", None).await.expect(200, "");
        app.post(
            &format!("/api/v1/circulation/holds/{hold}/collection"),
            Some(&staff),
            json!({"library_code": "CEN"}),
        )
        .await
        .expect(201, "");

        let report = app
            .get(
                "/api/v1/reports/circulation?from=2021-03-01&to=2021-03-31",
                Some(&staff),
            )
            .await
            .expect(200, "");
        assert_eq!(
            report.body,
            json!({"from": "2021-03-01", "to": "2021-03-31", "library_code": null, "days": [
                day("2021-03-05", json!({"checkouts_counter": 2})),
                day("2021-03-06", json!({"checkouts_counter": 1, "renewals_counter": 1,
                                         "renewals_online": 1, "renewals_pin": 1,
                                         "holds_placed": 1})),
                day("2021-03-07", json!({"checkouts_counter": 1, "checkins_counter": 1,
                                         "holds_collected": 1})),
            ]}),
            "{}",
            app.db
        );
        // One day, the boundary day itself; another library has nothing.
        let one = app
            .get(
                "/api/v1/reports/circulation?from=2021-03-05&to=2021-03-05&library=CEN",
                Some(&staff),
            )
            .await
            .expect(200, "");
        assert_eq!(
            one.body["days"],
            json!([day("2021-03-05", json!({"checkouts_counter": 2}))])
        );
        let kln = app
            .get(
                "/api/v1/reports/circulation?from=2021-03-01&to=2021-03-31&library=KLN",
                Some(&staff),
            )
            .await
            .expect(200, "");
        assert_eq!(kln.body["days"], json!([]));

        // CSV, by Accept or by format.
        let csv = "date,library_code,checkouts_counter,checkouts_station,checkins_counter,\
                   checkins_station,renewals_counter,renewals_station,renewals_online,\
                   renewals_pin,holds_placed,holds_collected\r\n\
                   2021-03-05,CEN,2,0,0,0,0,0,0,0,0,0\r\n\
                   2021-03-06,CEN,1,0,0,0,1,0,1,1,1,0\r\n\
                   2021-03-07,CEN,1,0,1,0,0,0,0,0,0,1\r\n";
        let path = "/api/v1/reports/circulation?from=2021-03-01&to=2021-03-31";
        let (status, content_type, body) = app.get_text(path, Some(&staff), Some("text/csv")).await;
        assert_eq!(
            (status, content_type.as_str(), body.as_str()),
            (200, "text/csv; charset=utf-8", csv)
        );
        let (status, _, body) = app
            .get_text(&format!("{path}&format=csv"), Some(&staff), None)
            .await;
        assert_eq!((status, body.as_str()), (200, csv));

        // The overdue list on 25 March: B2 and B3 due 20 March (5 days, HK$7.50 each),
        // B1 (collected 7 March) due 21 March (4 days, HK$6.00).
        app.set_clock(hk("2021-03-25T10:00:00")).await;
        let staff = app.staff_token().await;
        let first = app
            .get(
                "/api/v1/reports/overdue?library=CEN&per_page=2",
                Some(&staff),
            )
            .await
            .expect(200, "");
        let line =
            |loan: i64, card: &str, title: &str, barcode: &str, due: &str, days: u32, fine: i64| {
                json!({"loan_id": loan, "card_number": card, "title": title,
                   "item_barcode": barcode, "library_code": "CEN", "due_on": due,
                   "due_at": format!("{due}T23:59:59+08:00"), "overdue_days": days,
                   "fine_cents": fine})
            };
        assert_eq!(
            first.body,
            json!({"total": 3, "loans": [
                line(l2, &a, titles[1], "B2", "2021-03-20", 5, 750),
                line(l3, &a, titles[2], "B3", "2021-03-20", 5, 750),
            ]}),
            "{}",
            app.db
        );
        let second = app
            .get(
                "/api/v1/reports/overdue?library=CEN&per_page=2&page=2",
                Some(&staff),
            )
            .await
            .expect(200, "");
        let l4 = second.body["loans"][0]["loan_id"].as_i64().expect("loan");
        assert_eq!(
            second.body,
            json!({"total": 3, "loans": [line(l4, &b, titles[0], "B1", "2021-03-21", 4, 600)]})
        );
        let past = app
            .get("/api/v1/reports/overdue?page=3&per_page=2", Some(&staff))
            .await
            .expect(200, "");
        assert_eq!(past.body, json!({"total": 3, "loans": []}));
        let (status, _, body) = app
            .get_text(
                "/api/v1/reports/overdue?per_page=2&format=csv",
                Some(&staff),
                None,
            )
            .await;
        assert_eq!(status, 200);
        assert_eq!(
            body,
            format!(
                "loan_id,card_number,title,item_barcode,library_code,due_on,due_at,\
                 overdue_days,fine_cents\r\n\
                 {l2},{a},Water Margin,B2,CEN,2021-03-20,2021-03-20T23:59:59+08:00,5,750\r\n\
                 {l3},{a},\"'=HYPERLINK(\"\"x\"\"), Red\",B3,CEN,2021-03-20,\
                 2021-03-20T23:59:59+08:00,5,750\r\n"
            )
        );
        // The boundary: on the due date itself nothing is overdue.
        app.set_clock(hk("2021-03-20T23:00:00")).await;
        let staff = app.staff_token().await;
        let none = app
            .get("/api/v1/reports/overdue", Some(&staff))
            .await
            .expect(200, "");
        assert_eq!(none.body, json!({"total": 0, "loans": []}));

        // Fines: B3 returned on 25 March (HK$7.50), HK$5.00 paid on the 26th, the rest
        // waived on the 27th.
        app.set_clock(hk("2021-03-25T10:00:00")).await;
        let staff = app.staff_token().await;
        let back = app.checkin(&staff, "B3", "CEN", None).await.expect(200, "");
        assert_eq!(back.body["fine_cents"], 750);
        app.set_clock(hk("2021-03-26T10:00:00")).await;
        let staff = app.staff_token().await;
        app.post(
            &format!("/api/v1/patrons/{a}/payments"),
            Some(&staff),
            json!({"amount_cents": 500}),
        )
        .await
        .expect(201, "");
        app.set_clock(hk("2021-03-27T10:00:00")).await;
        let staff = app.staff_token().await;
        let fines = app
            .get(&format!("/api/v1/patrons/{a}/fines"), Some(&staff))
            .await
            .expect(200, "");
        let charge = fines.body["fines"][0]["id"].as_i64().expect("charge");
        app.post(
            &format!("/api/v1/fines/{charge}/waiver"),
            Some(&staff),
            json!({"reason": "first time"}),
        )
        .await
        .expect(200, "");
        let fines = app
            .get(
                "/api/v1/reports/fines?from=2021-03-25&to=2021-03-27",
                Some(&staff),
            )
            .await
            .expect(200, "");
        let f = |date: &str, charged: i64, paid: i64, waived: i64| {
            json!({"date": date, "library_code": "CEN", "charged_cents": charged,
                   "paid_cents": paid, "waived_cents": waived})
        };
        assert_eq!(
            fines.body,
            json!({"from": "2021-03-25", "to": "2021-03-27", "library_code": null, "days": [
                f("2021-03-25", 750, 0, 0), f("2021-03-26", 0, 500, 0), f("2021-03-27", 0, 0, 250),
            ]}),
            "{}",
            app.db
        );
        let (_, _, body) = app
            .get_text(
                "/api/v1/reports/fines?from=2021-03-26&to=2021-03-26&library=CEN",
                Some(&staff),
                Some("text/csv"),
            )
            .await;
        assert_eq!(
            body,
            "date,library_code,charged_cents,paid_cents,waived_cents\r\n\
                          2021-03-26,CEN,0,500,0\r\n"
        );
        let none = app
            .get(
                "/api/v1/reports/fines?from=2021-03-28&to=2021-03-28",
                Some(&staff),
            )
            .await
            .expect(200, "");
        assert_eq!(none.body["days"], json!([]));
    })
    .await;
}

#[tokio::test]
async fn report_parameters_are_checked() {
    on_every_backend(true, async |app: &TestApp| {
        let staff = app.counter_on_1_june_2021().await;
        let bad = async |path: &str| {
            app.get(path, Some(&staff))
                .await
                .expect(422, "validation_failed")
                .violations()
        };
        assert_eq!(
            bad("/api/v1/reports/circulation").await,
            ["from_missing", "to_missing"]
        );
        assert_eq!(
            bad("/api/v1/reports/fines?from=2021-03-05&to=2021-03-04").await,
            ["to_before_from"]
        );
        // 366 days pass (2020 is a leap year); 367 do not.
        app.get(
            "/api/v1/reports/circulation?from=2020-01-01&to=2020-12-31",
            Some(&staff),
        )
        .await
        .expect(200, "");
        assert_eq!(
            bad("/api/v1/reports/circulation?from=2020-01-01&to=2021-01-01").await,
            ["period_too_long"]
        );
        assert_eq!(
            bad("/api/v1/reports/circulation?from=2021-01-01&to=2021-01-02&library=NOPE").await,
            ["unknown_library"]
        );
        assert_eq!(
            bad("/api/v1/reports/fines?from=2021-01-01&to=2021-01-02&format=xml").await,
            ["format_invalid"]
        );
        assert_eq!(
            bad("/api/v1/reports/overdue?page=0&per_page=101&library=a-b").await,
            ["unknown_library", "per_page_invalid", "page_invalid"]
        );
        app.get(
            "/api/v1/reports/circulation?from=2021-02-30&to=2021-03-01",
            Some(&staff),
        )
        .await
        .expect(400, "bad_request");
        app.get("/api/v1/reports/overdue?page=x", Some(&staff))
            .await
            .expect(400, "bad_request");
        // Readers may not read them.
        let reader = app.reader(&staff, "91230009").await;
        let token = app.reader_session(&reader, "91230009").await;
        app.get("/api/v1/reports/overdue", Some(&token))
            .await
            .expect(403, "forbidden");
        app.get("/api/v1/reports/overdue", None)
            .await
            .expect(401, "unauthorized");
    })
    .await;
}
