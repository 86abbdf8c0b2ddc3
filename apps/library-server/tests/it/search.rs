//! Catalogue search over HTTP, on every backend, tried as a new user would: every word of
//! the query in the title, author or ISBN, the exact title first, copies counted per
//! library, paging, and bad input answered 422.

use serde_json::{Value, json};

use crate::support::on_every_backend;

/// The titles of an answer, in order.
fn titles(body: &Value) -> Vec<String> {
    body["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| r["title"].as_str().expect("title").to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn every_word_matches_the_exact_title_comes_first_and_copies_are_counted() {
    on_every_backend(true, async |app| {
        let staff = app.counter_on_1_june_2021().await;
        app.library(&staff, "KLN", "district").await;
        let title = |body: Value| {
            let app = &app;
            let staff = &staff;
            async move {
                app.post("/api/v1/catalog/titles", Some(staff), body)
                    .await
                    .expect(201, "")
                    .body["id"]
                    .as_i64()
                    .expect("id")
            }
        };
        let exact = title(json!({"title": "Silent River", "author": "Chan Siu Ming",
                                  "isbn": "978-0-306-40615-7"}))
        .await;
        title(json!({"title": "Silent River Songs"})).await;
        title(json!({"title": "The Silent River"})).await;
        title(json!({"title": "River Walks", "author": "Ada Silent"})).await;
        title(json!({"title": "Harbour Tales"})).await;
        title(json!({"title": "100% Cotton"})).await;
        // Three copies of the exact title: two at CEN (one lent), one at KLN.
        app.item(&staff, exact, "S1", "CEN").await;
        app.item(&staff, exact, "S2", "CEN").await;
        app.item(&staff, exact, "S3", "KLN").await;
        let card = app.reader(&staff, "9123 4567").await;
        app.checkout(&staff, &card, "S1", "CEN")
            .await
            .expect(201, "");

        // Public: no session. Every word somewhere in title or author; exact, then
        // starting with the query, then by title.
        let found = app
            .get("/api/v1/catalog/search?q=silent%20RIVER", None)
            .await
            .expect(200, "");
        assert_eq!(found.body["total"], 4, "{}: {}", app.db, found.body);
        assert_eq!(
            titles(&found.body),
            [
                "Silent River",
                "Silent River Songs",
                "River Walks",
                "The Silent River"
            ],
            "{}",
            app.db
        );
        let first = &found.body["results"][0];
        assert_eq!(first["title_id"], exact);
        assert_eq!(first["author"], "Chan Siu Ming");
        assert_eq!(first["isbn"], "9780306406157");
        assert_eq!(
            (&first["copies"], &first["available"]),
            (&json!(3), &json!(2))
        );
        assert_eq!(found.body["results"][1]["author"], Value::Null);
        assert_eq!(found.body["results"][1]["copies"], 0);

        // At one library.
        let at_kln = app
            .get("/api/v1/catalog/search?q=silent+river&library=KLN", None)
            .await
            .expect(200, "");
        let first = &at_kln.body["results"][0];
        assert_eq!(
            (&first["copies"], &first["available"]),
            (&json!(1), &json!(1))
        );
        let at_cen = app
            .get("/api/v1/catalog/search?q=silent+river&library=CEN", None)
            .await
            .expect(200, "");
        let first = &at_cen.body["results"][0];
        assert_eq!(
            (&first["copies"], &first["available"]),
            (&json!(2), &json!(1))
        );

        // An ISBN with or without hyphens, or part of it.
        for q in ["978-0-306-40615-7", "9780306406157", "0306"] {
            let found = app
                .get(&format!("/api/v1/catalog/search?q={q}"), None)
                .await
                .expect(200, "");
            assert_eq!(titles(&found.body), ["Silent River"], "{}: {q}", app.db);
        }
        // `%` and `_` are characters, not wildcards.
        let percent = app
            .get("/api/v1/catalog/search?q=%25", None)
            .await
            .expect(200, "");
        assert_eq!(titles(&percent.body), ["100% Cotton"], "{}", app.db);
        let underscore = app
            .get("/api/v1/catalog/search?q=_", None)
            .await
            .expect(200, "");
        assert_eq!(underscore.body["total"], 0, "{}", app.db);
        // A word found nowhere: nothing.
        let none = app
            .get("/api/v1/catalog/search?q=silent+harbour", None)
            .await
            .expect(200, "");
        assert_eq!(none.body, json!({"total": 0, "results": []}));

        // Paging: page 2 of 3 per page.
        let page = app
            .get("/api/v1/catalog/search?q=river&page=2&per_page=3", None)
            .await
            .expect(200, "");
        assert_eq!(page.body["total"], 4, "{}", app.db);
        assert_eq!(titles(&page.body), ["The Silent River"], "{}", app.db);
        let past = app
            .get(
                "/api/v1/catalog/search?q=river&page=9223372036854775807",
                None,
            )
            .await
            .expect(200, "");
        assert_eq!(past.body["results"], json!([]));

        // Bad input.
        for (query, violation) in [
            ("", "q_missing"),
            ("q=%20%20", "q_missing"),
            ("q=river&per_page=0", "per_page_invalid"),
            ("q=river&per_page=101", "per_page_invalid"),
            ("q=river&page=0", "page_invalid"),
            ("q=river&library=NOPE", "unknown_library"),
            ("q=river&library=not%20a%20code", "unknown_library"),
        ] {
            let answer = app
                .get(&format!("/api/v1/catalog/search?{query}"), None)
                .await
                .expect(422, "validation_failed");
            assert_eq!(answer.violations(), [violation], "{}: {query}", app.db);
        }
        let long = "a".repeat(201);
        let answer = app
            .get(&format!("/api/v1/catalog/search?q={long}"), None)
            .await
            .expect(422, "validation_failed");
        assert_eq!(answer.violations(), ["q_too_long"]);
        let answer = app
            .get("/api/v1/catalog/search?q=river&page=two", None)
            .await;
        assert_eq!(answer.status, 400, "{}: {}", app.db, answer.body);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn chinese_short_words_accented_letters_and_hyphenated_isbns_are_found() {
    on_every_backend(true, async |app| {
        let staff = app.counter_on_1_june_2021().await;
        for body in [
            json!({"title": "香港歷史", "author": "陳大文"}),
            json!({"title": "歷史與文化"}),
            json!({"title": "École des femmes", "author": "Molière"}),
            json!({"title": "L'ÉCOLE"}),
            json!({"title": "Go"}),
            json!({"title": "Go Fishing", "isbn": "0-8044-2957-X"}),
            json!({"title": "snake_case"}),
        ] {
            app.post("/api/v1/catalog/titles", Some(&staff), body)
                .await
                .expect(201, "");
        }
        let found = |q: &'static str| {
            let app = &app;
            async move {
                let body = app
                    .get(&format!("/api/v1/catalog/search?q={q}"), None)
                    .await
                    .expect(200, "")
                    .body;
                titles(&body)
            }
        };
        // Chinese: a word of two characters (no trigram: a scan), of three, and two words.
        assert_eq!(
            found("歷史").await,
            ["歷史與文化", "香港歷史"],
            "{}",
            app.db
        );
        assert_eq!(found("港歷史").await, ["香港歷史"], "{}", app.db);
        assert_eq!(found("香港%20陳大文").await, ["香港歷史"], "{}", app.db);
        // Letters outside ASCII in either case, in words of any length; the title starting
        // with the query first.
        for q in ["école", "ÉCOLE", "%C3%A9cole"] {
            assert_eq!(
                found(q).await,
                ["École des femmes", "L'ÉCOLE"],
                "{}: {q}",
                app.db
            );
        }
        assert_eq!(found("MOLIÈRE").await, ["École des femmes"], "{}", app.db);
        let mut one_letter = found("É").await;
        one_letter.sort();
        assert_eq!(one_letter, ["L'ÉCOLE", "École des femmes"], "{}", app.db);
        // One and two characters; the exact title first.
        assert_eq!(found("go").await, ["Go", "Go Fishing"], "{}", app.db);
        assert_eq!(found("fishing%20g").await, ["Go Fishing"], "{}", app.db);
        // `_` within a longer word is a character.
        assert_eq!(found("e_c").await, ["snake_case"], "{}", app.db);
        assert!(found("e_ca_").await.is_empty(), "{}", app.db);
        // An ISBN-10 typed with hyphens, its X in either case.
        for q in ["0-8044-2957-X", "0-8044-2957-x", "2957x"] {
            assert_eq!(found(q).await, ["Go Fishing"], "{}: {q}", app.db);
        }
    })
    .await;
}
