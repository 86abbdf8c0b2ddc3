//! Opening hours, sections and the reopening of 19 February 2021 (docs/premises.md), over
//! HTTP on every backend, with the dev clock moved through the story: closed by the
//! calendar the day before, opening at 10:00 and closing at 18:00 under the special hours,
//! the notice published in both languages naming both libraries, and the refusals.

use serde_json::{Value, json};

use crate::support::{TestApp, hk, on_every_backend};

impl TestApp {
    /// The entry of library `code` in `GET /libraries`.
    pub(crate) async fn listed(&self, code: &str) -> Value {
        let all = self
            .get("/api/v1/libraries", None)
            .await
            .expect(200, "")
            .body;
        all["libraries"]
            .as_array()
            .expect("libraries")
            .iter()
            .find(|l| l["code"] == code)
            .cloned()
            .expect("listed")
    }

    /// `open_now`, `closes_at`, `opens_next` of library `code`, from both routes (which
    /// must agree).
    async fn state(&self, code: &str) -> (bool, Value, Value) {
        let listed = self.listed(code).await;
        let hours = self
            .get(&format!("/api/v1/libraries/{code}/hours"), None)
            .await
            .expect(200, "")
            .body;
        for field in ["open_now", "closes_at", "opens_next"] {
            assert_eq!(listed[field], hours[field], "{code} {field}");
        }
        (
            listed["open_now"].as_bool().expect("open_now"),
            listed["closes_at"].clone(),
            listed["opens_next"].clone(),
        )
    }
}

fn reopening() -> Value {
    json!({
        "libraries": ["HKCL", "TMPL"],
        "from": "2021-02-19",
        "open_sections": ["adult", "young_adult", "children"],
        "closed_sections": ["study_room", "computer"],
        "special_hours": {"from": "2021-02-19", "to": "2021-03-31",
                          "daily": [{"start": "10:00", "end": "18:00"}],
                          "reason": "Special opening hours"},
        "notice": {
            "title": "Libraries reopen on 19 February",
            "body": "Lending, returning and collection of reserved items resume.",
            "title_zh": "圖書館於二月十九日重開",
            "body_zh": "恢復借還圖書館資料及領取預約圖書館資料服務。"
        }
    })
}

#[tokio::test]
async fn the_reopening_of_19_february_2021() {
    on_every_backend(true, async |app: &TestApp| {
        app.set_clock(hk("2021-02-10T12:00:00")).await;
        let admin = app.staff_token().await;
        for (code, name, name_zh, kind) in [
            ("CEN", "Central Library", "中央圖書館", "central"),
            ("HKCL", "Hong Kong Central Library", "香港中央圖書館", "central"),
            ("TMPL", "Tuen Mun Public Library", "屯門公共圖書館", "district"),
        ] {
            app.post(
                "/api/v1/libraries",
                Some(&admin),
                json!({"code": code, "name": name, "name_zh": name_zh, "kind": kind}),
            )
            .await
            .expect(201, code);
        }
        // Closed since 28 January by the calendar, until the reopening.
        for code in ["HKCL", "TMPL"] {
            app.closure(&admin, code, "2021-01-28", "2021-02-18").await;
        }
        let every_day = json!([{"start": "10:00", "end": "19:00"}]);
        let week = json!({"monday": every_day, "tuesday": every_day, "wednesday": every_day,
                          "thursday": every_day, "friday": every_day, "saturday": every_day,
                          "sunday": every_day});
        let set = app
            .put("/api/v1/libraries/HKCL/hours", Some(&admin), week.clone())
            .await
            .expect(200, "");
        assert_eq!(set.body["regular"]["friday"], json!([{"start": "10:00", "end": "19:00"}]));
        app.put(
            "/api/v1/libraries/HKCL/door-services",
            Some(&admin),
            json!({"book_drop": true, "self_service_station": true}),
        )
        .await
        .expect(200, "");

        // A librarian may read but not change any of it.
        let librarian = app.staff_user(&admin, "clerk", "librarian").await;
        for (method, path, body) in [
            ("POST", "/api/v1/reopenings", reopening()),
            ("PUT", "/api/v1/libraries/HKCL/hours", week.clone()),
            ("PUT", "/api/v1/libraries/HKCL/door-services",
             json!({"book_drop": false, "self_service_station": false})),
        ] {
            let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
            app.call(method, path, Some(&librarian), body)
                .await
                .expect(403, "forbidden");
        }

        // Bad inputs: each a 4xx with its code, nothing changed.
        let mut bad = reopening();
        bad["special_hours"]["daily"] = json!([{"start": "18:00", "end": "10:00"}]);
        let answer = app.post("/api/v1/reopenings", Some(&admin), bad).await;
        assert_eq!(answer.expect(422, "validation_failed").violations(), ["hours_invalid"]);
        let mut bad = reopening();
        bad["closed_sections"] = json!(["Study-Room"]);
        bad["libraries"] = json!(["HKCL", "NOPE"]);
        bad["notice"]["title_zh"] = json!(" ");
        let answer = app.post("/api/v1/reopenings", Some(&admin), bad).await;
        assert_eq!(
            answer.expect(422, "validation_failed").violations(),
            ["section_invalid", "title_zh_missing"]
        );
        let mut bad = reopening();
        bad["libraries"] = json!(["HKCL", "NOPE"]);
        let answer = app.post("/api/v1/reopenings", Some(&admin), bad).await;
        assert_eq!(answer.expect(422, "validation_failed").violations(), ["unknown_library"]);
        let mut bad = reopening();
        bad["special_hours"]["to"] = json!("2021-02-18");
        let answer = app.post("/api/v1/reopenings", Some(&admin), bad).await;
        assert_eq!(answer.expect(422, "validation_failed").violations(), ["to_before_from"]);
        let mut bad = reopening();
        bad["open_sections"] = json!(["adult", "computer"]);
        let answer = app.post("/api/v1/reopenings", Some(&admin), bad).await;
        assert_eq!(answer.expect(422, "validation_failed").violations(), ["section_twice"]);
        app.put("/api/v1/libraries/NOPE/hours", Some(&admin), week.clone())
            .await
            .expect(404, "not_found");
        app.put(
            "/api/v1/libraries/HKCL/hours",
            Some(&admin),
            json!({"monday": [{"start": "08:00", "end": "13:00"}, {"start": "12:45", "end": "17:15"}]}),
        )
        .await
        .expect(422, "validation_failed");
        let answer = app
            .put(
                "/api/v1/libraries/HKCL/sections/Study-Room",
                Some(&admin),
                json!({"status": "open", "from": "2021-03-01"}),
            )
            .await;
        assert_eq!(answer.expect(422, "validation_failed").violations(), ["section_invalid"]);
        app.put(
            "/api/v1/libraries/HKCL/sections/study_room",
            Some(&admin),
            json!({"status": "ajar", "from": "2021-03-01"}),
        )
        .await
        .expect(400, "bad_request");
        let answer = app
            .post(
                "/api/v1/libraries/HKCL/special-hours",
                Some(&admin),
                json!({"from": "2021-02-19", "to": "2021-02-20", "closed": true,
                       "daily": [{"start": "10:00", "end": "18:00"}]}),
            )
            .await;
        assert_eq!(
            answer.expect(422, "validation_failed").violations(),
            ["special_pattern_invalid"]
        );
        app.get("/api/v1/libraries/NOPE/hours", None)
            .await
            .expect(404, "not_found");
        let hkcl = app.get("/api/v1/libraries/HKCL/hours", None).await.expect(200, "").body;
        assert_eq!(hkcl["sections"], json!([]));
        assert_eq!(hkcl["special_hours"], json!([]));

        // The reopening, one act for both libraries.
        let reopened = app
            .post("/api/v1/reopenings", Some(&admin), reopening())
            .await
            .expect(201, "");
        let notice_id = reopened.body["notice_id"].as_i64().expect("notice_id");
        let audit = app.audit_log().await;
        let entry = audit
            .iter()
            .find(|e| e.entry.action == "library.reopening")
            .expect("audited");
        assert_eq!(entry.entry.subject, format!("notice:{notice_id}"));
        assert_eq!(
            audit.iter().filter(|e| e.entry.action == "library.reopening").count(),
            1
        );

        // The day before: closed all day by the calendar, though the week has hours.
        app.set_clock(hk("2021-02-18T12:00:00")).await;
        let (open, closes, next) = app.state("HKCL").await;
        assert!(!open);
        assert_eq!(closes, Value::Null);
        assert_eq!(next, "2021-02-19T10:00:00+08:00");
        let listed = app.listed("HKCL").await;
        assert_eq!((listed["book_drop"].clone(), listed["self_service_station"].clone()), (json!(true), json!(true)));
        assert_eq!(app.listed("TMPL").await["book_drop"], false);

        app.set_clock(hk("2021-02-19T09:59:00")).await;
        for code in ["HKCL", "TMPL"] {
            let (open, closes, next) = app.state(code).await;
            assert!(!open, "{code}");
            assert_eq!(closes, Value::Null);
            assert_eq!(next, "2021-02-19T10:00:00+08:00", "{code}");
        }

        app.set_clock(hk("2021-02-19T10:00:00")).await;
        for code in ["HKCL", "TMPL"] {
            let (open, closes, next) = app.state(code).await;
            assert!(open, "{code}");
            assert_eq!(closes, "18:00", "{code}");
            assert_eq!(next, "2021-02-20T10:00:00+08:00");
        }
        let hours = app.get("/api/v1/libraries/TMPL/hours", None).await.expect(200, "").body;
        let sections: Vec<(String, Value, Value, Value)> = hours["sections"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                (
                    s["section"].as_str().unwrap().to_owned(),
                    s["status_today"].clone(),
                    s["open_now"].clone(),
                    s["until"].clone(),
                )
            })
            .collect();
        assert_eq!(
            sections,
            [
                ("adult".to_owned(), json!("open"), json!(true), Value::Null),
                ("children".to_owned(), json!("open"), json!(true), Value::Null),
                ("computer".to_owned(), json!("closed"), json!(false), Value::Null),
                ("study_room".to_owned(), json!("closed"), json!(false), Value::Null),
                ("young_adult".to_owned(), json!("open"), json!(true), Value::Null),
            ]
        );
        assert_eq!(hours["regular"], Value::Null);
        assert_eq!(hours["special_hours"][0]["daily"], json!([{"start": "10:00", "end": "18:00"}]));
        assert_eq!(hours["special_hours"][0]["reason"], "Special opening hours");
        assert_eq!(hours["days"].as_array().unwrap().len(), 7);
        assert_eq!(
            hours["days"][0],
            json!({"date": "2021-02-19", "closed": false,
                   "periods": [{"start": "10:00", "end": "18:00"}]})
        );

        // The minute of closing is closed.
        app.set_clock(hk("2021-02-19T18:00:00")).await;
        let (open, closes, next) = app.state("HKCL").await;
        assert!(!open);
        assert_eq!(closes, Value::Null);
        assert_eq!(next, "2021-02-20T10:00:00+08:00");

        // After the special range: HKCL's week again; TMPL has none, so open all day.
        app.set_clock(hk("2021-04-01T18:30:00")).await;
        assert_eq!(app.state("HKCL").await.1, "19:00");
        assert_eq!(app.state("TMPL").await.1, "24:00");

        // The notice, for every library's readers, in both languages, naming both.
        app.set_clock(hk("2021-02-19T10:00:00")).await;
        let (_, reader) = app.full_reader("91234567", "Reopen-2021x").await;
        let notices = app.get("/api/v1/me/notices", Some(&reader)).await.expect(200, "").body;
        let notice = &notices["notices"][0];
        assert_eq!(notice["id"], notice_id);
        assert_eq!(notice["library_code"], Value::Null);
        assert_eq!(notice["title"], "Libraries reopen on 19 February");
        assert_eq!(notice["title_zh"], "圖書館於二月十九日重開");
        assert_eq!(
            notice["body"],
            "Lending, returning and collection of reserved items resume.\n\nLibraries \
             reopening: Hong Kong Central Library, Tuen Mun Public Library."
        );
        assert_eq!(
            notice["body_zh"],
            "恢復借還圖書館資料及領取預約圖書館資料服務。\n\n重開的圖書館：香港中央圖書館、屯門公共圖書館。"
        );

        // Special hours removed (a new session: the clock moved past the first's expiry):
        // HKCL's week applies again.
        let admin = app.staff_token().await;
        let id = hours["special_hours"][0]["id"].as_i64().unwrap();
        let hkcl = app.get("/api/v1/libraries/HKCL/hours", None).await.expect(200, "").body;
        let hkcl_id = hkcl["special_hours"][0]["id"].as_i64().unwrap();
        app.delete(&format!("/api/v1/libraries/HKCL/special-hours/{id}"), Some(&admin))
            .await
            .expect(404, "not_found");
        app.delete(&format!("/api/v1/libraries/HKCL/special-hours/{hkcl_id}"), Some(&admin))
            .await
            .expect(204, "");
        assert_eq!(app.state("HKCL").await.1, "19:00");
        assert_eq!(app.state("TMPL").await.1, "18:00");
    })
    .await;
}
