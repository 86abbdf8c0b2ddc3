//! Library notices ("My Info", library information; docs/http.md): a library, or every
//! library, publishes a title and a text shown to readers from a date, optionally until a
//! date, unless withdrawn. A notice may also carry its title and text in Traditional
//! Chinese, which readers who chose that language see instead.

use library_core::LibraryCode;
use time::{Date, OffsetDateTime};

use crate::Language;
use crate::text::{Checks, TextField, Violations};

const TITLE: TextField = TextField {
    missing: "title_missing",
    too_long: "title_too_long",
    invalid: "title_invalid",
    max_chars: 200,
    multi_line: false,
};
const BODY: TextField = TextField {
    missing: "body_missing",
    too_long: "body_too_long",
    invalid: "body_invalid",
    max_chars: 5_000,
    multi_line: true,
};
const TITLE_ZH: TextField = TextField {
    missing: "title_zh_missing",
    too_long: "title_zh_too_long",
    invalid: "title_zh_invalid",
    max_chars: 200,
    multi_line: false,
};
const BODY_ZH: TextField = TextField {
    missing: "body_zh_missing",
    too_long: "body_zh_too_long",
    invalid: "body_zh_invalid",
    max_chars: 5_000,
    multi_line: true,
};

/// A notice's id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NoticeId(pub i64);

impl NoticeId {
    /// The number.
    pub fn get(self) -> i64 {
        self.0
    }
}

/// A notice as staff submit it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeForm {
    /// The library publishing it; `None` = every library.
    pub library_code: Option<String>,
    /// Its title.
    pub title: String,
    /// Its text (line breaks allowed).
    pub body: String,
    /// Its title in Traditional Chinese, if any (blank: none).
    pub title_zh: Option<String>,
    /// Its text in Traditional Chinese, if any (blank: none).
    pub body_zh: Option<String>,
    /// First day shown (default: today).
    pub published_on: Option<Date>,
    /// Last day shown (default: until withdrawn).
    pub expires_on: Option<Date>,
}

/// A valid notice, not yet stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewNotice {
    /// The library publishing it; `None` = every library.
    pub library: Option<LibraryCode>,
    /// Its title.
    pub title: String,
    /// Its text.
    pub body: String,
    /// Its title in Traditional Chinese, if any.
    pub title_zh: Option<String>,
    /// Its text in Traditional Chinese, if any.
    pub body_zh: Option<String>,
    /// First day shown (library-local date).
    pub published_on: Date,
    /// Last day shown, inclusive; `None` = until withdrawn.
    pub expires_on: Option<Date>,
}

impl NoticeForm {
    /// Checks every field, `today` being the library-local date; the notice or every
    /// violation: `unknown_library` (not a library code), `title_*`, `body_*`,
    /// `title_zh_*`, `body_zh_*`, `expires_on_before_published_on`, `expires_on_in_past`.
    pub fn parse(self, today: Date) -> Result<NewNotice, Violations> {
        let mut checks = Checks::default();
        let library = checks.take(match self.library_code.as_deref().map(str::trim) {
            None => Ok(None),
            Some(code) => LibraryCode::parse(code)
                .map(Some)
                .map_err(|_| "unknown_library"),
        });
        let title = checks.take(TITLE.parse(&self.title));
        let body = checks.take(BODY.parse(&self.body));
        let title_zh = checks.take(TITLE_ZH.parse_optional(self.title_zh.as_deref()));
        let body_zh = checks.take(BODY_ZH.parse_optional(self.body_zh.as_deref()));
        let published_on = self.published_on.unwrap_or(today);
        if let Some(expires_on) = self.expires_on {
            checks.check(expires_on < published_on, "expires_on_before_published_on");
            checks.check(expires_on < today, "expires_on_in_past");
        }
        let none_if_blank = |t: String| (!t.is_empty()).then_some(t);
        let notice = match (library, title, body, title_zh, body_zh) {
            (Some(library), Some(title), Some(body), Some(title_zh), Some(body_zh)) => {
                Some(NewNotice {
                    library,
                    title,
                    body,
                    title_zh: none_if_blank(title_zh),
                    body_zh: none_if_blank(body_zh),
                    published_on,
                    expires_on: self.expires_on,
                })
            }
            _ => None,
        };
        checks.finish(notice)
    }
}

impl NewNotice {
    /// The title and text a reader reading `language` sees: the Chinese ones where the
    /// notice has them, else the English.
    pub fn text_in(&self, language: Language) -> (&str, &str) {
        match language {
            Language::En => (&self.title, &self.body),
            Language::ZhHant => (
                self.title_zh.as_deref().unwrap_or(&self.title),
                self.body_zh.as_deref().unwrap_or(&self.body),
            ),
        }
    }
}

/// A stored notice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    /// Its id.
    pub id: NoticeId,
    /// What and for whom.
    pub details: NewNotice,
    /// When it was published (stored).
    pub created_at: OffsetDateTime,
    /// When staff withdrew it, if they did.
    pub withdrawn_at: Option<OffsetDateTime>,
}

impl Notice {
    /// Whether it is shown on `today` (library-local): not withdrawn, published on or
    /// before today, not expired before today.
    pub fn is_current(&self, today: Date) -> bool {
        self.withdrawn_at.is_none()
            && self.details.published_on <= today
            && self.details.expires_on.is_none_or(|last| today <= last)
    }

    /// Whether a reader whose home library is `home` sees it: notices for every library,
    /// and those of the home library.
    pub fn reaches(&self, home: Option<&LibraryCode>) -> bool {
        match &self.details.library {
            None => true,
            Some(library) => home == Some(library),
        }
    }
}

/// A notice with the names of its library (`None` for notices to every library).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeListing {
    /// The notice.
    pub notice: Notice,
    /// The library's English name.
    pub library_name: Option<String>,
    /// The library's Traditional Chinese name.
    pub library_name_zh: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime};

    const TODAY: Date = date!(2026 - 12 - 01);

    fn form() -> NoticeForm {
        NoticeForm {
            library_code: Some("KLNPL".into()),
            title: "Closed for stocktaking".into(),
            body: "The library is closed\nfrom 7 to 9 December.".into(),
            title_zh: None,
            body_zh: None,
            published_on: None,
            expires_on: Some(date!(2026 - 12 - 09)),
        }
    }

    #[test]
    fn forms() {
        let n = form().parse(TODAY).unwrap();
        assert_eq!(n.published_on, TODAY);
        assert_eq!(n.library.as_ref().map(LibraryCode::as_str), Some("KLNPL"));
        let all = NoticeForm {
            library_code: None,
            ..form()
        };
        assert_eq!(all.parse(TODAY).unwrap().library, None);
        let bad = NoticeForm {
            library_code: Some("K L N".into()),
            title: "".into(),
            body: "x".repeat(5_001),
            title_zh: Some("\u{7}".into()),
            body_zh: Some("x".repeat(5_001)),
            published_on: Some(date!(2026 - 12 - 10)),
            expires_on: Some(date!(2026 - 11 - 30)),
        };
        assert_eq!(
            bad.parse(TODAY).unwrap_err().0,
            [
                "unknown_library",
                "title_missing",
                "body_too_long",
                "title_zh_invalid",
                "body_zh_too_long",
                "expires_on_before_published_on",
                "expires_on_in_past"
            ]
        );
    }

    #[test]
    fn readers_see_the_chinese_text_where_there_is_one() {
        let both = NoticeForm {
            title_zh: Some(" 盤點暫停開放 ".into()),
            body_zh: Some("".into()),
            ..form()
        }
        .parse(TODAY)
        .unwrap();
        assert_eq!(both.title_zh.as_deref(), Some("盤點暫停開放"));
        assert_eq!(both.body_zh, None);
        assert_eq!(
            both.text_in(Language::ZhHant),
            (
                "盤點暫停開放",
                "The library is closed\nfrom 7 to 9 December."
            )
        );
        assert_eq!(both.text_in(Language::En).0, "Closed for stocktaking");
    }

    #[test]
    fn which_notices_are_current_and_for_whom() {
        let notice = |published_on, expires_on, withdrawn: bool| Notice {
            id: NoticeId(1),
            details: NewNotice {
                library: None,
                title: "t".into(),
                body: "b".into(),
                title_zh: None,
                body_zh: None,
                published_on,
                expires_on,
            },
            created_at: datetime!(2026-11-01 09:00 UTC),
            withdrawn_at: withdrawn.then_some(datetime!(2026-11-02 09:00 UTC)),
        };
        let d = |day| Date::from_calendar_date(2026, time::Month::December, day).unwrap();
        let table = [
            (d(1), None, false, true),
            (d(2), None, false, false),
            (d(1), Some(d(1)), false, true),
            (
                date!(2026 - 11 - 01),
                Some(date!(2026 - 11 - 30)),
                false,
                false,
            ),
            (d(1), None, true, false),
        ];
        for (published, expires, withdrawn, current) in table {
            assert_eq!(
                notice(published, expires, withdrawn).is_current(TODAY),
                current,
                "{published} {expires:?} {withdrawn}"
            );
        }
        let kln = LibraryCode::parse("KLNPL").unwrap();
        let tm = LibraryCode::parse("TMPL").unwrap();
        let mut n = notice(d(1), None, false);
        assert!(n.reaches(Some(&kln)) && n.reaches(None));
        n.details.library = Some(kln.clone());
        assert!(n.reaches(Some(&kln)));
        assert!(!n.reaches(Some(&tm)));
        assert!(!n.reaches(None));
    }
}
