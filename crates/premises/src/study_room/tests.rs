//! The 2021 scheme: applications from 10 February, cards for 15 March to 20 May, the
//! extended hours from 1 March to 31 May.

use super::*;
use time::macros::{date, datetime, time};

fn form() -> SchemeForm {
    SchemeForm {
        name: "Students' Study Rooms 2021".into(),
        name_zh: "自修室 2021".into(),
        library_code: Some("HKCL".into()),
        opens_on: date!(2021 - 02 - 10),
        closes_on: date!(2021 - 02 - 28),
        valid_from: date!(2021 - 03 - 15),
        valid_to: date!(2021 - 05 - 20),
        extended_from: Some(date!(2021 - 03 - 01)),
        extended_to: Some(date!(2021 - 05 - 31)),
        extended_hours: vec!["08:00-22:00".into()],
        places: 3,
        priority_percent: Some(95),
    }
}

fn scheme() -> NewScheme {
    form().parse().unwrap()
}

fn application(decision: Decision, revoked: bool) -> Application {
    Application {
        id: ApplicationId(1),
        scheme: SchemeId(1),
        patron: PatronId(7),
        details: NewApplication {
            channel: Channel::Web,
            counted_on: date!(2021 - 02 - 10),
            exam_candidate: true,
            exam: "HKDSE".into(),
        },
        submitted_at: datetime!(2021-02-10 02:00 UTC),
        decision,
        reason: None,
        revoked_at: revoked.then_some(datetime!(2021-04-01 02:00 UTC)),
    }
}

#[test]
fn the_2021_scheme_is_valid() {
    let s = scheme();
    assert_eq!(s.places, 3);
    assert_eq!(s.priority_percent, 95);
    assert_eq!(s.library.as_ref().map(|l| l.as_str()), Some("HKCL"));
    let extended = s.extended.unwrap();
    assert_eq!(extended.hours[0].opens, time!(08:00));
    assert_eq!(extended.hours[0].to_string(), "08:00-22:00");
}

#[test]
fn scheme_violations() {
    type Edit = fn(&mut SchemeForm);
    let cases: &[(Edit, &[&str])] = &[
        (|f| f.name = "  ".into(), &["name_missing"]),
        (|f| f.name = "a".repeat(201), &["name_invalid"]),
        (|f| f.name_zh = String::new(), &["name_zh_missing"]),
        (|f| f.name_zh = "自\n修".into(), &["name_zh_invalid"]),
        (
            |f| f.library_code = Some("no such!".into()),
            &["library_code_invalid"],
        ),
        (|f| f.library_code = None, &[]),
        (|f| f.library_code = Some(" ".into()), &[]),
        (|f| f.opens_on = date!(2021 - 03 - 01), &["window_invalid"]),
        // A one-day window is a window.
        (|f| f.opens_on = date!(2021 - 02 - 28), &[]),
        (
            |f| f.valid_to = date!(2021 - 03 - 14),
            &["validity_invalid"],
        ),
        (|f| f.valid_to = date!(2021 - 03 - 15), &[]),
        (
            |f| {
                f.valid_from = date!(2021 - 02 - 28);
            },
            &["validity_before_window_closes"],
        ),
        (|f| f.valid_from = date!(2021 - 03 - 01), &[]),
        (|f| f.extended_to = None, &["extended_hours_invalid"]),
        (
            |f| f.extended_from = Some(date!(2021 - 06 - 01)),
            &["extended_hours_invalid"],
        ),
        (
            |f| f.extended_hours = vec!["22:00-08:00".into()],
            &["extended_hours_invalid"],
        ),
        (
            |f| f.extended_hours = vec!["8:00-22:00".into()],
            &["extended_hours_invalid"],
        ),
        (
            |f| f.extended_hours = vec!["08:00–13:00".into(), "14:00-22:00".into()],
            &[],
        ),
        (
            |f| f.extended_hours = vec!["08:00-09:00".into(); 5],
            &["extended_hours_invalid"],
        ),
        (
            |f| {
                f.extended_from = None;
                f.extended_to = None;
            },
            &["extended_hours_invalid"],
        ),
        (
            |f| {
                f.extended_from = None;
                f.extended_to = None;
                f.extended_hours.clear();
            },
            &[],
        ),
        (|f| f.places = 0, &["places_invalid"]),
        (|f| f.places = -1, &["places_invalid"]),
        (|f| f.places = 100_001, &["places_invalid"]),
        (|f| f.places = 100_000, &[]),
        (
            |f| f.priority_percent = Some(101),
            &["priority_share_invalid"],
        ),
        (
            |f| f.priority_percent = Some(-1),
            &["priority_share_invalid"],
        ),
        (|f| f.priority_percent = None, &[]),
        (|f| f.priority_percent = Some(100), &[]),
        (
            |f| {
                f.name.clear();
                f.places = 0;
                f.opens_on = date!(2021 - 03 - 01);
            },
            &["name_missing", "places_invalid", "window_invalid"],
        ),
    ];
    for (i, (edit, expected)) in cases.iter().enumerate() {
        let mut f = form();
        edit(&mut f);
        let got = f.parse().err().unwrap_or_default();
        assert_eq!(&got, expected, "case {i}");
    }
}

#[test]
fn applications_count_by_their_date_within_the_window() {
    let s = scheme();
    let cases = [
        (date!(2021 - 02 - 09), false, false, Some("before_window")),
        (date!(2021 - 02 - 10), false, false, None),
        (date!(2021 - 02 - 28), false, false, None),
        (date!(2021 - 03 - 01), false, false, Some("after_window")),
        (
            date!(2021 - 02 - 27),
            true,
            false,
            Some("ballot_already_run"),
        ),
        (date!(2021 - 02 - 27), false, true, Some("already_applied")),
        // The window comes first.
        (date!(2021 - 03 - 01), true, true, Some("after_window")),
        (
            date!(2021 - 02 - 20),
            true,
            true,
            Some("ballot_already_run"),
        ),
    ];
    for (counted_on, ballot_run, applied, expected) in cases {
        assert_eq!(
            s.application_refusal(counted_on, ballot_run, applied)
                .map(ApplicationRefusal::code),
            expected,
            "{counted_on}"
        );
    }
    assert!(!s.window_open(date!(2021 - 02 - 09)));
    assert!(s.window_open(date!(2021 - 02 - 10)));
    assert!(s.window_open(date!(2021 - 02 - 28)));
    assert!(!s.window_open(date!(2021 - 03 - 01)));
}

#[test]
fn the_application_form() {
    let today = date!(2021 - 03 - 02);
    let post = |counted_on, exam: Option<&str>| ApplicationForm {
        channel: Channel::Post,
        counted_on,
        exam_candidate: true,
        exam: exam.map(str::to_owned),
    };
    let ok = post(date!(2021 - 02 - 27), Some("  HKDSE "))
        .parse(today)
        .unwrap();
    assert_eq!(ok.exam, "HKDSE");
    assert!(post(today, None).parse(today).is_ok());
    assert_eq!(
        post(date!(2021 - 03 - 03), None).parse(today),
        Err(vec!["postmark_in_future"])
    );
    assert_eq!(
        post(today, Some(&"x".repeat(201))).parse(today),
        Err(vec!["exam_invalid"])
    );
}

#[test]
fn the_ballot_runs_once_after_the_window_closes() {
    let s = scheme();
    let cases = [
        (date!(2021 - 02 - 10), false, Some("window_still_open")),
        (date!(2021 - 02 - 28), false, Some("window_still_open")),
        (date!(2021 - 03 - 01), false, None),
        (date!(2021 - 03 - 01), true, Some("ballot_already_run")),
        (date!(2021 - 02 - 20), true, Some("ballot_already_run")),
    ];
    for (today, run, expected) in cases {
        assert_eq!(
            s.ballot_refusal(today, run).map(BallotRefusal::code),
            expected,
            "{today}"
        );
    }
}

#[test]
fn the_card_at_the_door() {
    let s = scheme();
    let approved = application(Decision::Approved, false);
    let revoked = application(Decision::Approved, true);
    let cases = [
        (None, date!(2021 - 03 - 15), Some("no_card")),
        (
            Some(application(Decision::Pending, false)),
            date!(2021 - 03 - 15),
            Some("no_card"),
        ),
        (
            Some(application(Decision::NotSelected, false)),
            date!(2021 - 03 - 15),
            Some("no_card"),
        ),
        (
            Some(application(Decision::Rejected, false)),
            date!(2021 - 03 - 15),
            Some("no_card"),
        ),
        (
            Some(approved.clone()),
            date!(2021 - 03 - 14),
            Some("card_not_yet_valid"),
        ),
        (Some(approved.clone()), date!(2021 - 03 - 15), None),
        (Some(approved.clone()), date!(2021 - 05 - 20), None),
        (
            Some(approved.clone()),
            date!(2021 - 05 - 21),
            Some("card_expired"),
        ),
        (
            Some(revoked.clone()),
            date!(2021 - 04 - 02),
            Some("card_revoked"),
        ),
        // The dates come before the revocation.
        (
            Some(revoked.clone()),
            date!(2021 - 03 - 14),
            Some("card_not_yet_valid"),
        ),
        (Some(revoked), date!(2021 - 05 - 21), Some("card_expired")),
    ];
    for (i, (app, on, expected)) in cases.into_iter().enumerate() {
        assert_eq!(
            admission(&s, app.as_ref(), on)
                .err()
                .map(AdmissionRefusal::code),
            expected,
            "case {i}"
        );
    }
}

#[test]
fn staff_decisions() {
    let approve = StaffDecision::Approve;
    let reject = StaffDecision::Reject {
        reason: "Not a registered reader".into(),
    };
    use Decision::*;
    let cases = [
        (Pending, false, &approve, false, 0, Some("ballot_not_run")),
        (Pending, false, &reject, false, 0, None),
        (NotSelected, false, &approve, true, 2, None),
        (NotSelected, false, &approve, true, 3, Some("no_place_left")),
        (Approved, false, &approve, true, 3, Some("already_approved")),
        (Approved, false, &reject, true, 3, None),
        (Rejected, false, &reject, true, 1, Some("already_rejected")),
        (Rejected, false, &approve, true, 1, None),
        (Approved, true, &reject, true, 1, Some("card_revoked")),
        (Approved, true, &approve, false, 1, Some("card_revoked")),
    ];
    for (i, (decision, revoked, staff, ballot_run, approved, expected)) in
        cases.into_iter().enumerate()
    {
        let app = application(decision, revoked);
        assert_eq!(
            app.decision_refusal(staff, ballot_run, approved, 3)
                .map(DecisionRefusal::code),
            expected,
            "case {i}"
        );
    }
}

#[test]
fn revocations_and_statuses() {
    use Decision::*;
    assert_eq!(application(Approved, false).revocation_refusal(), None);
    for d in [Pending, NotSelected, Rejected] {
        assert_eq!(
            application(d, false).revocation_refusal(),
            Some(RevocationRefusal::NotApproved)
        );
    }
    assert_eq!(
        application(Approved, true).revocation_refusal(),
        Some(RevocationRefusal::AlreadyRevoked)
    );
    assert_eq!(application(Approved, true).status().code(), "revoked");
    assert_eq!(
        application(NotSelected, false).status().code(),
        "not_selected"
    );
    for d in [Pending, Approved, NotSelected, Rejected] {
        assert_eq!(Decision::from_code(d.code()), Some(d));
    }
    assert_eq!(Decision::from_code("revoked"), None);
    assert_eq!(Channel::from_code("post"), Some(Channel::Post));
    assert_eq!(Channel::from_code("fax"), None);
}

#[test]
fn reasons() {
    assert_eq!(
        parse_reason("  Incomplete form "),
        Ok("Incomplete form".into())
    );
    assert_eq!(parse_reason(" "), Err("reason_missing"));
    assert_eq!(parse_reason(&"x".repeat(501)), Err("reason_invalid"));
    assert_eq!(parse_reason("a\u{7}"), Err("reason_invalid"));
}
