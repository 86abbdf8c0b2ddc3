//! Ask a Librarian (docs/http.md, Reader services): a reader sends an enquiry, optionally
//! to a library; staff answer it once; the reader reads the answer. A follow-up question is
//! a new enquiry: an answer is never replaced, since the reader may already have read it.

use library_core::{CardNumber, LibraryCode, PatronId, StaffId};
use time::OffsetDateTime;

use crate::text::{Checks, TextField, Violations};

const SUBJECT: TextField = TextField {
    missing: "subject_missing",
    too_long: "subject_too_long",
    invalid: "subject_invalid",
    max_chars: 200,
    multi_line: false,
};
const MESSAGE: TextField = TextField {
    missing: "message_missing",
    too_long: "message_too_long",
    invalid: "message_invalid",
    max_chars: 4_000,
    multi_line: true,
};
const ANSWER: TextField = TextField {
    missing: "answer_missing",
    too_long: "answer_too_long",
    invalid: "answer_invalid",
    max_chars: 4_000,
    multi_line: true,
};

/// An enquiry's id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EnquiryId(pub i64);

impl EnquiryId {
    /// The number.
    pub fn get(self) -> i64 {
        self.0
    }
}

/// An enquiry as the reader submits it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnquiryForm {
    /// One line: what it is about.
    pub subject: String,
    /// The question (line breaks allowed).
    pub message: String,
    /// The library asked, if any.
    pub library_code: Option<String>,
}

/// A valid enquiry, not yet stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEnquiry {
    /// What it is about.
    pub subject: String,
    /// The question.
    pub message: String,
    /// The library asked, if any.
    pub library: Option<LibraryCode>,
}

impl EnquiryForm {
    /// Checks the form; the enquiry or every violation: `subject_missing`,
    /// `subject_too_long` (over 200 characters), `subject_invalid`, `message_missing`,
    /// `message_too_long` (over 4,000), `message_invalid`, `unknown_library`.
    pub fn parse(self) -> Result<NewEnquiry, Violations> {
        let mut checks = Checks::default();
        let subject = checks.take(SUBJECT.parse(&self.subject));
        let message = checks.take(MESSAGE.parse(&self.message));
        let library = checks.take(match self.library_code.as_deref().map(str::trim) {
            None | Some("") => Ok(None),
            Some(code) => LibraryCode::parse(code)
                .map(Some)
                .map_err(|_| "unknown_library"),
        });
        let enquiry = match (subject, message, library) {
            (Some(subject), Some(message), Some(library)) => Some(NewEnquiry {
                subject,
                message,
                library,
            }),
            _ => None,
        };
        checks.finish(enquiry)
    }
}

/// Checks a staff answer: the trimmed text, or `answer_missing`, `answer_too_long` (over
/// 4,000 characters), `answer_invalid`.
pub fn parse_answer(raw: &str) -> Result<String, Violations> {
    ANSWER.parse(raw).map_err(|code| Violations(vec![code]))
}

/// A staff answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// The text.
    pub text: String,
    /// When.
    pub answered_at: OffsetDateTime,
    /// Who (`None` if the staff user has since been removed).
    pub staff: Option<StaffId>,
}

/// A stored enquiry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Enquiry {
    /// Its id.
    pub id: EnquiryId,
    /// The reader who asked.
    pub patron: PatronId,
    /// What they asked.
    pub details: NewEnquiry,
    /// When.
    pub created_at: OffsetDateTime,
    /// The answer, once given.
    pub answer: Option<Answer>,
}

/// Whether an enquiry has been answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnquiryStatus {
    /// Waiting for an answer.
    Open,
    /// Answered.
    Answered,
}

impl EnquiryStatus {
    /// The code (`open`, `answered`).
    pub fn code(self) -> &'static str {
        match self {
            EnquiryStatus::Open => "open",
            EnquiryStatus::Answered => "answered",
        }
    }
}

impl Enquiry {
    /// Open until answered.
    pub fn status(&self) -> EnquiryStatus {
        if self.answer.is_some() {
            EnquiryStatus::Answered
        } else {
            EnquiryStatus::Open
        }
    }
}

/// An enquiry with who asked, as staff see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffEnquiry {
    /// The enquiry.
    pub enquiry: Enquiry,
    /// The reader's card.
    pub card_number: CardNumber,
    /// The reader's name.
    pub reader_name: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enquiry_forms() {
        let ok = EnquiryForm {
            subject: " Opening hours at Christmas ".into(),
            message: "Is the library open\non 26 December?".into(),
            library_code: Some("HKCL".into()),
        }
        .parse()
        .unwrap();
        assert_eq!(ok.subject, "Opening hours at Christmas");
        assert_eq!(ok.library.as_ref().map(LibraryCode::as_str), Some("HKCL"));
        let no_library = EnquiryForm {
            subject: "s".into(),
            message: "m".into(),
            library_code: Some(" ".into()),
        };
        assert_eq!(no_library.parse().unwrap().library, None);
        let table: &[(&str, &str, Option<&str>, &[&str])] = &[
            ("", "  ", None, &["subject_missing", "message_missing"]),
            (&"s".repeat(201), "m", None, &["subject_too_long"]),
            ("s", &"m".repeat(4_001), None, &["message_too_long"]),
            ("a\tb", "m", None, &["subject_invalid"]),
            (
                "s",
                "a\u{1b}b",
                Some("central!"),
                &["message_invalid", "unknown_library"],
            ),
        ];
        for &(subject, message, library, expected) in table {
            let f = EnquiryForm {
                subject: subject.into(),
                message: message.into(),
                library_code: library.map(str::to_owned),
            };
            assert_eq!(f.parse().unwrap_err().0, expected, "{subject:?}");
        }
        assert!(
            EnquiryForm {
                subject: "s".repeat(200),
                message: "m".repeat(4_000),
                library_code: None
            }
            .parse()
            .is_ok()
        );
    }

    #[test]
    fn answers() {
        assert_eq!(parse_answer(" Yes. ").unwrap(), "Yes.");
        assert_eq!(parse_answer(" ").unwrap_err().0, ["answer_missing"]);
        assert_eq!(
            parse_answer(&"a".repeat(4_001)).unwrap_err().0,
            ["answer_too_long"]
        );
    }
}
