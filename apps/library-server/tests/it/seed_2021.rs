//! The seed's story of early 2021 as one test, over HTTP on every backend with the
//! development clock (docs/premises.md, The 2021 story): libraries closed over the new year
//! with the loans due inside the closure moved to the reopening day; the Students' Study
//! Room scheme opened for applications from 10 February; the partial reopening of
//! 19 February (three libraries' adult, young adult and children's libraries under special
//! hours, the study room and computers closed until further notice, one library closed with
//! its book drop serving, the notice in both languages); capacity at the door with the
//! visitors' registrations, purged after their 31 days; the study room opening with its
//! extended hours on 1 March; the ballot, re-drawn by anyone from its seed; the admission
//! cards checked at the door from 15 March.

use library_premises::study_room::ApplicationId;
use library_premises::study_room::ballot::{Entrant, draw};
use serde_json::{Value, json};

use crate::support::{TestApp, hk, on_every_backend, standard_rules};

const CLERK_PASSWORD: &str = "Reopening-Desk-21";

/// A fresh session of the librarian `door` (sessions expire while the clock jumps weeks).
async fn clerk(app: &TestApp) -> String {
    app.staff_login("door", CLERK_PASSWORD).await
}

/// Section `section` of library `code` as `GET /libraries/{code}/hours` shows it.
async fn section(app: &TestApp, code: &str, section: &str) -> Value {
    let hours = app
        .get(&format!("/api/v1/libraries/{code}/hours"), None)
        .await
        .expect(200, "")
        .body;
    hours["sections"]
        .as_array()
        .expect("sections")
        .iter()
        .find(|s| s["section"] == section)
        .cloned()
        .unwrap_or(Value::Null)
}

fn every_day(start: &str, end: &str) -> Value {
    let day = json!([{"start": start, "end": end}]);
    json!({"monday": day, "tuesday": day, "wednesday": day, "thursday": day,
           "friday": day, "saturday": day, "sunday": day})
}

#[tokio::test]
async fn the_libraries_of_early_2021() {
    on_every_backend(true, async |app: &TestApp| {
        // 20 December 2020: three libraries open 09:00–20:00, the rules, three readers, and
        // a loan at the central library due on 3 January.
        app.set_clock(hk("2020-12-20T10:00:00")).await;
        let admin = app.staff_token().await;
        for (code, name, name_zh, kind) in [
            (
                "CEN",
                "Hong Kong Central Library",
                "香港中央圖書館",
                "central",
            ),
            (
                "TMPL",
                "Tuen Mun Public Library",
                "屯門公共圖書館",
                "district",
            ),
            (
                "LCKPL",
                "Lai Chi Kok Public Library",
                "荔枝角公共圖書館",
                "small",
            ),
        ] {
            app.post(
                "/api/v1/libraries",
                Some(&admin),
                json!({"code": code, "name": name, "name_zh": name_zh, "kind": kind}),
            )
            .await
            .expect(201, code);
            app.put(
                &format!("/api/v1/libraries/{code}/hours"),
                Some(&admin),
                every_day("09:00", "20:00"),
            )
            .await
            .expect(200, "");
        }
        app.rules(&admin, json!({}), standard_rules())
            .await
            .expect(200, "");
        app.post(
            "/api/v1/staff/users",
            Some(&admin),
            json!({"username": "door", "password": CLERK_PASSWORD, "role": "librarian"}),
        )
        .await
        .expect(201, "");
        let title = app.title(&admin, "A Study of Reopening").await;
        app.item(&admin, title, "S0001", "CEN").await;
        let phones = ["91230001", "91230002", "91230003"];
        let mut cards = Vec::new();
        for phone in phones {
            let card = app.reader(&admin, phone).await;
            app.reader_session(&card, phone).await;
            cards.push(card);
        }
        let lent = app
            .checkout(&admin, &cards[0], "S0001", "CEN")
            .await
            .expect(201, "");
        assert_eq!(
            &lent.body["due_at"].as_str().expect("due")[..10],
            "2021-01-03"
        );

        // 31 December: the libraries close from 1 January until the reopening; the central
        // library's due dates inside the closure move to the first open day after it.
        app.set_clock(hk("2020-12-31T10:00:00")).await;
        let admin = app.staff_token().await;
        let closure = json!({"from": "2021-01-01", "to": "2021-02-18", "reason": "COVID-19",
                             "move_due_dates": "first_open_day",
                             "move_pickup_dates": "first_open_day"});
        let preview = app
            .post(
                "/api/v1/libraries/CEN/closures/preview",
                Some(&admin),
                closure.clone(),
            )
            .await
            .expect(200, "");
        assert_eq!(
            (
                &preview.body["loans"],
                &preview.body["readers"],
                &preview.body["due_on"]
            ),
            (&json!(1), &json!(1), &json!("2021-02-19"))
        );
        let declared = app
            .post("/api/v1/libraries/CEN/closures", Some(&admin), closure)
            .await
            .expect(201, "");
        assert_eq!(declared.body["loans"], json!(1));
        app.closure(&admin, "TMPL", "2021-01-01", "2021-02-18")
            .await;
        // Lai Chi Kok stays closed past the reopening; its book drop keeps serving.
        app.closure(&admin, "LCKPL", "2021-01-01", "2021-06-30")
            .await;
        app.put(
            "/api/v1/libraries/LCKPL/door-services",
            Some(&admin),
            json!({"book_drop": true, "self_service_station": false}),
        )
        .await
        .expect(200, "");
        let reader = app.relogin(&cards[0]).await;
        let loans = app
            .get("/api/v1/me/loans", Some(&reader))
            .await
            .expect(200, "");
        assert_eq!(
            &loans.body["loans"][0]["due_at"].as_str().expect("due")[..10],
            "2021-02-19"
        );

        // 10 February: the study-room scheme, applications by post from today; cards valid
        // 15 March–20 May; extended hours 1 March–31 May; two places, 95 % of them (one, rounded
        // down) for examination candidates.
        app.set_clock(hk("2021-02-10T09:00:00")).await;
        let admin = app.staff_token().await;
        let scheme = app
            .post(
                "/api/v1/study-room-schemes",
                Some(&admin),
                json!({"name": "Students' Study Room, examination period 2021",
                       "name_zh": "自修室 2021 年考試期間", "library_code": "CEN",
                       "opens_on": "2021-02-10", "closes_on": "2021-02-28",
                       "valid_from": "2021-03-15", "valid_to": "2021-05-20",
                       "extended_from": "2021-03-01", "extended_to": "2021-05-31",
                       "extended_hours": ["08:00-22:00"], "places": 2,
                       "priority_percent": 95}),
            )
            .await
            .expect(201, "")
            .body["id"]
            .as_i64()
            .expect("scheme id");
        for (n, card) in cards.iter().take(2).enumerate() {
            let token = app.relogin(card).await;
            app.post(
                "/api/v1/me/study-room-applications",
                Some(&token),
                json!({"scheme_id": scheme, "exam_candidate": n == 0,
                       "exam": if n == 0 { "HKDSE" } else { "" }}),
            )
            .await
            .expect(201, "");
        }

        // 18 February: the reopening act.
        app.set_clock(hk("2021-02-18T12:00:00")).await;
        let admin = app.staff_token().await;
        app.post(
            "/api/v1/reopenings",
            Some(&admin),
            json!({
                "libraries": ["CEN", "TMPL"],
                "from": "2021-02-19",
                "open_sections": ["adult", "young_adult", "children"],
                "closed_sections": ["study_room", "computer"],
                "special_hours": {"from": "2021-02-19", "to": "2021-03-31",
                                  "daily": [{"start": "10:00", "end": "18:00"}],
                                  "reason": "Special opening hours"},
                "notice": {
                    "title": "Some public libraries partially reopen from 19 February",
                    "body": "Lending, returning and collection of reserved items resume.",
                    "title_zh": "部分公共圖書館由二月十九日起局部重開",
                    "body_zh": "恢復借還圖書館資料及領取預約圖書館資料服務。"
                }
            }),
        )
        .await
        .expect(201, "");
        let reader = app.relogin(&cards[1]).await;
        let notices = app
            .get("/api/v1/me/notices", Some(&reader))
            .await
            .expect(200, "");
        let notice = notices.body["notices"]
            .as_array()
            .expect("notices")
            .iter()
            .find(|n| n["title"] == "Some public libraries partially reopen from 19 February")
            .cloned()
            .expect("the reopening notice");
        let body = notice["body"].as_str().expect("body");
        let body_zh = notice["body_zh"].as_str().expect("body_zh");
        assert!(
            body.contains("Hong Kong Central Library") && body.contains("Tuen Mun Public Library")
        );
        assert!(!body.contains("Lai Chi Kok"));
        assert!(body_zh.contains("香港中央圖書館") && body_zh.contains("屯門公共圖書館"));

        // 19 February 09:59: closed, opening at 10:00 under the special hours; Lai Chi Kok
        // closed, its book drop serving.
        app.set_clock(hk("2021-02-19T09:59:00")).await;
        let cen = app.listed("CEN").await;
        assert_eq!(
            (&cen["open_now"], &cen["opens_next"]),
            (&json!(false), &json!("2021-02-19T10:00:00+08:00"))
        );
        let lck = app.listed("LCKPL").await;
        assert_eq!(
            (&lck["open_now"], &lck["book_drop"]),
            (&json!(false), &json!(true))
        );
        // 10:00: open until 18:00; the adult library open, the study room closed.
        app.set_clock(hk("2021-02-19T10:00:00")).await;
        let cen = app.listed("CEN").await;
        assert_eq!(
            (&cen["open_now"], &cen["closes_at"]),
            (&json!(true), &json!("18:00"))
        );
        assert_eq!(section(app, "CEN", "adult").await["open_now"], json!(true));
        assert_eq!(
            section(app, "CEN", "study_room").await["open_now"],
            json!(false)
        );
        assert_eq!(app.listed("TMPL").await["open_now"], json!(true));

        // The door: two people at most; one registers at the door and is admitted, one
        // registers on the public form and is admitted; the third waits.
        let admin = app.staff_token().await;
        app.put(
            "/api/v1/libraries/CEN/capacity",
            Some(&admin),
            json!({"capacity": 2}),
        )
        .await
        .expect(200, "");
        let door = clerk(app).await;
        let first = app
            .post(
                "/api/v1/libraries/CEN/visitors",
                Some(&door),
                json!({"name": "Chan Tai Man", "phone": "9123 4567", "admit": true}),
            )
            .await
            .expect(201, "");
        assert_eq!(first.body["admitted"]["inside"], json!(1));
        app.post(
            "/api/v1/visitors",
            None,
            json!({"library": "CEN", "name": "Wong Siu Ming", "phone": "61234567"}),
        )
        .await
        .expect(201, "");
        app.post("/api/v1/libraries/CEN/admissions", Some(&door), json!({}))
            .await
            .expect(201, "");
        app.post("/api/v1/libraries/CEN/admissions", Some(&door), json!({}))
            .await
            .expect(409, "capacity_reached");
        // The moved loan comes back on the reopening day, its new due date: no fine.
        let back = app
            .checkin(&door, "S0001", "CEN", None)
            .await
            .expect(200, "");
        assert_eq!(back.body["fine_cents"], json!(0), "{}", back.body);

        // 1 March: the study room opens with its extended hours while the library keeps
        // its special hours; the window has closed, the ballot is drawn.
        app.set_clock(hk("2021-03-01T08:30:00")).await;
        let admin = app.staff_token().await;
        let door = clerk(app).await;
        app.post(
            &format!("/api/v1/study-room-schemes/{scheme}/applications"),
            Some(&door),
            json!({"card_number": cards[2], "postmarked_on": "2021-02-26",
                   "exam_candidate": true}),
        )
        .await
        .expect(201, "");
        app.put(
            "/api/v1/libraries/CEN/sections/study_room",
            Some(&admin),
            json!({"status": "open", "from": "2021-03-01", "until": "2021-05-31",
                   "hours": every_day("08:00", "22:00")}),
        )
        .await
        .expect(200, "");
        assert_eq!(
            section(app, "CEN", "study_room").await["open_now"],
            json!(true)
        );
        assert_eq!(app.listed("CEN").await["open_now"], json!(false));
        let ballot = app
            .post(
                &format!("/api/v1/study-room-schemes/{scheme}/ballot"),
                Some(&admin),
                json!({"seed": 20210301_u64}),
            )
            .await
            .expect(201, "")
            .body;
        let published = app
            .get(&format!("/api/v1/study-room-schemes/{scheme}/ballot"), None)
            .await
            .expect(200, "")
            .body;
        assert_eq!(published, ballot);
        let entrants: Vec<Entrant> = published["entrants"]
            .as_array()
            .expect("entrants")
            .iter()
            .map(|e| Entrant {
                application: ApplicationId(e["application_id"].as_i64().expect("id")),
                candidate: e["exam_candidate"].as_bool().expect("flag"),
            })
            .collect();
        assert_eq!(entrants.len(), 3);
        let winners: Vec<i64> = published["winners"]
            .as_array()
            .expect("winners")
            .iter()
            .map(|w| w.as_i64().expect("id"))
            .collect();
        assert_eq!(winners.len(), 2);
        let redrawn: Vec<i64> = draw(&entrants, 2, 95, 20_210_301)
            .winners
            .iter()
            .map(|w| w.0)
            .collect();
        assert_eq!(redrawn, winners);
        // One place is a priority place: a candidate wins it.
        assert!(
            entrants
                .iter()
                .any(|e| e.candidate && winners.contains(&e.application.0))
        );
        let applications = app
            .get(
                &format!("/api/v1/study-room-schemes/{scheme}/applications"),
                Some(&door),
            )
            .await
            .expect(200, "")
            .body;
        let card_of = |id: i64| -> String {
            applications["applications"]
                .as_array()
                .expect("applications")
                .iter()
                .find(|a| a["application"]["id"] == id)
                .and_then(|a| a["card_number"].as_str())
                .expect("the application's card")
                .to_owned()
        };
        let winner_card = card_of(winners[0]);
        let winner_cards = [card_of(winners[0]), card_of(winners[1])];
        let loser_card = cards
            .iter()
            .find(|c| !winner_cards.contains(c))
            .expect("a reader without a place")
            .clone();

        // At the study room's door: not before 15 March; the winner from then on; a reader
        // without a card never.
        let at_door = async |card: &str| {
            let door = clerk(app).await;
            app.post(
                &format!("/api/v1/study-room-schemes/{scheme}/admissions"),
                Some(&door),
                json!({"card_number": card}),
            )
            .await
        };
        app.set_clock(hk("2021-03-14T09:00:00")).await;
        let early = at_door(&winner_card).await.expect(409, "admission_refused");
        assert_eq!(early.body["reason"], json!("card_not_yet_valid"));
        app.set_clock(hk("2021-03-15T09:00:00")).await;
        assert_eq!(
            at_door(&winner_card).await.expect(200, "").body["admitted"],
            json!(true)
        );
        let none = at_door(&loser_card).await.expect(409, "admission_refused");
        assert_eq!(none.body["reason"], json!("no_card"));

        // The visitors' registrations of 19 February: read with the contact_tracing
        // permission on day 31 (22 March), purged by the scheduled job on day 32.
        let feb_19 = "/api/v1/visitors?library=CEN&from=2021-02-19&to=2021-02-19";
        let admin = app.staff_token().await;
        app.put(
            "/api/v1/staff/users/door/permissions/contact_tracing",
            Some(&admin),
            json!({}),
        )
        .await
        .expect(204, "");
        app.set_clock(hk("2021-03-22T23:59:00")).await;
        app.run_jobs().await;
        let kept = app
            .get(feb_19, Some(&clerk(app).await))
            .await
            .expect(200, "");
        assert_eq!(kept.body["visitors"].as_array().map(Vec::len), Some(2));
        app.set_clock(hk("2021-03-23T00:00:00")).await;
        app.run_jobs().await;
        let gone = app
            .get(feb_19, Some(&clerk(app).await))
            .await
            .expect(200, "");
        assert_eq!(gone.body["visitors"], json!([]));
    })
    .await;
}
