//! The messages readers receive, in English and Traditional Chinese: a mail (subject and
//! plain-text body) and, for the kinds that may go by SMS, a short text. Times are shown in
//! the libraries' zone, dates as `2021-03-05`, amounts as `HK$1.50`.

use library_core::{DEFAULT_LIBRARY_OFFSET, Money};
use library_reader_services::Language;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::notices::kind;

/// Who a message goes to, as the templates address them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Addressee {
    /// The reader's name.
    pub name: String,
    /// The language of the reader's settings.
    pub language: Language,
}

/// What the payload names, looked up by the sender: the title's name and the library's name
/// in the reader's language. Missing ones fall back to what the payload holds (the code).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Names {
    /// The title the payload's `title_id` names.
    pub title: Option<String>,
    /// The library the payload's `library` or `pickup_library` names.
    pub library: Option<String>,
}

/// A rendered message.
#[derive(Clone, PartialEq, Eq)]
pub struct Rendered {
    /// The mail's subject.
    pub subject: String,
    /// The mail's body (it may hold a secret: never log it).
    pub body: String,
    /// The SMS text; `None` for a kind that goes by mail only (a temporary password, an
    /// email change told to the old address).
    pub sms: Option<String>,
}

impl std::fmt::Debug for Rendered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rendered")
            .field("subject", &self.subject)
            .finish_non_exhaustive()
    }
}

/// A message's kind without a template, or a payload it cannot be read from.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct RenderError(String);

const SIGNATURE_EN: &str = "Hong Kong Public Libraries\n";
const SIGNATURE_ZH: &str = "香港公共圖書館\n";
const SMS_EN: &str = "HK Public Libraries";
const SMS_ZH: &str = "香港公共圖書館";

fn field<'a>(payload: &'a serde_json::Value, name: &str) -> Result<&'a str, RenderError> {
    payload[name]
        .as_str()
        .ok_or_else(|| RenderError(format!("payload without `{name}`")))
}

fn number(payload: &serde_json::Value, name: &str) -> Result<i64, RenderError> {
    payload[name]
        .as_i64()
        .ok_or_else(|| RenderError(format!("payload without `{name}`")))
}

/// An instant as the reader reads it: the libraries' zone, to the minute
/// (`2021-03-05 18:30`).
fn local_time(text: &str) -> Result<String, RenderError> {
    let at = OffsetDateTime::parse(text, &Rfc3339)
        .map_err(|_| RenderError(format!("not an instant: {text:?}")))?
        .to_offset(DEFAULT_LIBRARY_OFFSET);
    Ok(format!(
        "{:04}-{:02}-{:02} {:02}:{:02}",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute()
    ))
}

/// One deadline a closure moved, as its notice lists it: a loan (with the copy's barcode)
/// or a waiting hold.
struct MovedDeadline {
    title: String,
    barcode: Option<String>,
    from: String,
    to: String,
}

/// The payload's `loans` (`title`, `item_barcode`, `due_on_before`, `due_on`) and `holds`
/// (`title`, `pickup_by_before`, `pickup_by`), loans first.
fn moved_deadlines(payload: &serde_json::Value) -> Result<Vec<MovedDeadline>, RenderError> {
    let list = |name: &str| payload[name].as_array().cloned().unwrap_or_default();
    let mut out = Vec::new();
    for loan in list("loans") {
        out.push(MovedDeadline {
            title: field(&loan, "title")?.to_owned(),
            barcode: Some(field(&loan, "item_barcode")?.to_owned()),
            from: field(&loan, "due_on_before")?.to_owned(),
            to: field(&loan, "due_on")?.to_owned(),
        });
    }
    for hold in list("holds") {
        out.push(MovedDeadline {
            title: field(&hold, "title")?.to_owned(),
            barcode: None,
            from: field(&hold, "pickup_by_before")?.to_owned(),
            to: field(&hold, "pickup_by")?.to_owned(),
        });
    }
    Ok(out)
}

/// The mail (and SMS) of a message of `kind` with `payload` for `to`, in their language.
pub fn render(
    kind: &str,
    payload: &serde_json::Value,
    to: &Addressee,
    names: &Names,
) -> Result<Rendered, RenderError> {
    let name = &to.name;
    let title = names
        .title
        .clone()
        .or_else(|| payload["title"].as_str().map(str::to_owned))
        .unwrap_or_default();
    let library = || -> Result<String, RenderError> {
        match &names.library {
            Some(name) => Ok(name.clone()),
            None => payload["library"]
                .as_str()
                .or_else(|| payload["pickup_library"].as_str())
                .map(str::to_owned)
                .ok_or_else(|| RenderError("payload without `library`".into())),
        }
    };
    let en = to.language == Language::En;
    let mail =
        |subject: String, body: String, sms: Option<String>| Ok(Rendered { subject, body, sms });
    match kind {
        kind::TEMPORARY_PASSWORD => {
            let password = field(payload, "temporary_password")?;
            let expires = local_time(field(payload, "expires_at")?)?;
            if en {
                mail(
                    "Your temporary library Password".to_owned(),
                    format!(
                        "Dear {name},\n\nA temporary Password was requested for your library \
                         account. Log in with it once and choose a new Password:\n\n    \
                         {password}\n\nIt works once, until {expires} (Hong Kong time). If \
                         you did not ask for it, ignore this mail: your Password has not \
                         changed.\n\n{SIGNATURE_EN}"
                    ),
                    None,
                )
            } else {
                mail(
                    "您的圖書館臨時密碼".to_owned(),
                    format!(
                        "{name} 您好：\n\n您的圖書館帳戶已申請臨時密碼。請以此密碼登入一次，\
                         然後設定新密碼：\n\n    {password}\n\n此密碼只可使用一次，有效期至 \
                         {expires}（香港時間）。如非閣下本人申請，請不用理會本郵件，\
                         您的密碼並未更改。\n\n{SIGNATURE_ZH}"
                    ),
                    None,
                )
            }
        }
        kind::HOLD_WAITING => {
            let library = library()?;
            let by = field(payload, "pickup_by")?;
            if en {
                mail(
                    format!("Ready for pickup: {title}"),
                    format!(
                        "Dear {name},\n\nThe item you reserved is ready for pickup:\n\n    \
                         {title}\n\nat {library}, until {by}. After that day it goes to the \
                         next reader.\n\n{SIGNATURE_EN}"
                    ),
                    Some(format!(
                        "{SMS_EN}: \"{title}\" is ready for pickup at {library} until {by}."
                    )),
                )
            } else {
                mail(
                    format!("預約資料已可領取：{title}"),
                    format!(
                        "{name} 您好：\n\n您預約的資料已可領取：\n\n    {title}\n\n\
                         領取圖書館：{library}，請於 {by} 或之前領取，逾期資料將轉給下一位讀者。\
                         \n\n{SIGNATURE_ZH}"
                    ),
                    Some(format!(
                        "{SMS_ZH}：您預約的「{title}」已可於{library}領取，請於 {by} 或之前領取。"
                    )),
                )
            }
        }
        kind::HOLD_EXPIRED => {
            let library = library()?;
            let by = field(payload, "pickup_by")?;
            if en {
                mail(
                    format!("Not collected: {title}"),
                    format!(
                        "Dear {name},\n\nThe item you reserved was kept for you at {library} \
                         until {by} and was not collected, so your hold has ended:\n\n    \
                         {title}\n\nYou may place a new hold at any time.\n\n{SIGNATURE_EN}"
                    ),
                    Some(format!(
                        "{SMS_EN}: your hold on \"{title}\" at {library} ended: it was not \
                         collected by {by}."
                    )),
                )
            } else {
                mail(
                    format!("預約資料逾期未領取：{title}"),
                    format!(
                        "{name} 您好：\n\n您預約的資料已於{library}保留至 {by}，\
                         因逾期未領取，預約已取消：\n\n    {title}\n\n閣下可隨時再次預約。\
                         \n\n{SIGNATURE_ZH}"
                    ),
                    Some(format!(
                        "{SMS_ZH}：您於{library}預約的「{title}」未於 {by} 或之前領取，預約已取消。"
                    )),
                )
            }
        }
        kind::HOLD_NOT_NEEDED => {
            let library = library()?;
            let last = field(payload, "not_needed_after")?;
            if en {
                mail(
                    format!("Hold ended: {title}"),
                    format!(
                        "Dear {name},\n\nYou told us you would not need this item after \
                         {last}. No copy became available for you by then, so your hold for \
                         collection at {library} has ended:\n\n    {title}\n\nYou may place \
                         a new hold at any time.\n\n{SIGNATURE_EN}"
                    ),
                    Some(format!(
                        "{SMS_EN}: your hold on \"{title}\" at {library} ended: not needed \
                         after {last}."
                    )),
                )
            } else {
                mail(
                    format!("預約已結束：{title}"),
                    format!(
                        "{name} 您好：\n\n您表示於 {last} 後不再需要以下資料。由於在此日期前\
                         未有資料可供領取，您於{library}的預約已結束：\n\n    {title}\n\n\
                         閣下可隨時再次預約。\n\n{SIGNATURE_ZH}"
                    ),
                    Some(format!(
                        "{SMS_ZH}：您於{library}預約的「{title}」已於 {last} 後不再需要，預約已結束。"
                    )),
                )
            }
        }
        kind::DUE_SOON => {
            let library = library()?;
            let due = field(payload, "due_on")?;
            let barcode = field(payload, "item_barcode")?;
            if en {
                mail(
                    format!("Due on {due}: {title}"),
                    format!(
                        "Dear {name},\n\nThis item you borrowed from {library} is due on \
                         {due}:\n\n    {title} ({barcode})\n\nReturn it by then, or renew it \
                         on the web, by telephone or at any library, to avoid a fine.\n\n\
                         {SIGNATURE_EN}"
                    ),
                    Some(format!(
                        "{SMS_EN}: \"{title}\" is due on {due}. Return or renew it by then."
                    )),
                )
            } else {
                mail(
                    format!("{due} 到期：{title}"),
                    format!(
                        "{name} 您好：\n\n您於{library}借閱的以下資料將於 {due} 到期：\n\n    \
                         {title}（{barcode}）\n\n請於到期日或之前歸還，或透過網上、電話或任何\
                         圖書館續借，以免罰款。\n\n{SIGNATURE_ZH}"
                    ),
                    Some(format!(
                        "{SMS_ZH}：您借閱的「{title}」將於 {due} 到期，請按時歸還或續借。"
                    )),
                )
            }
        }
        kind::OVERDUE_ALERT | kind::OVERDUE_NOTICE => {
            let library = library()?;
            let due = field(payload, "due_on")?;
            let barcode = field(payload, "item_barcode")?;
            let days = number(payload, "overdue_days")?;
            let fine = Money::from_cents(number(payload, "fine_cents")?);
            let first_notice = kind == kind::OVERDUE_NOTICE;
            if en {
                let (subject, opening) = if first_notice {
                    (
                        format!("Overdue notice: {title}"),
                        "This is the first overdue notice for this item you borrowed from",
                    )
                } else {
                    (format!("Overdue: {title}"), "This item you borrowed from")
                };
                let plural = if days == 1 { "" } else { "s" };
                mail(
                    subject,
                    format!(
                        "Dear {name},\n\n{opening} {library}. It was due on {due} and is \
                         {days} day{plural} overdue:\n\n    {title} ({barcode})\n\nThe fine \
                         so far is {fine}; it grows for each further day until the item is \
                         returned. Please return it at any library as soon as you can.\n\n\
                         {SIGNATURE_EN}"
                    ),
                    Some(format!(
                        "{SMS_EN}: \"{title}\" was due on {due} and is {days} day{plural} \
                         overdue. Fine so far: {fine}. Please return it."
                    )),
                )
            } else {
                let (subject, opening) = if first_notice {
                    (format!("逾期通知：{title}"), "此為首次逾期通知。您於")
                } else {
                    (format!("資料逾期：{title}"), "您於")
                };
                mail(
                    subject,
                    format!(
                        "{name} 您好：\n\n{opening}{library}借閱的以下資料已於 {due} 到期，\
                         現已逾期 {days} 天：\n\n    {title}（{barcode}）\n\n至今罰款為 \
                         {fine}，歸還前每日遞增。請盡快到任何圖書館歸還。\n\n{SIGNATURE_ZH}"
                    ),
                    Some(format!(
                        "{SMS_ZH}：您借閱的「{title}」已於 {due} 到期，逾期 {days} 天，\
                         至今罰款 {fine}，請盡快歸還。"
                    )),
                )
            }
        }
        kind::DEADLINES_MOVED => {
            let library = library()?;
            let from = field(payload, "closure_from")?;
            let to_day = field(payload, "closure_to")?;
            let moved = moved_deadlines(payload)?;
            if moved.is_empty() {
                return Err(RenderError("payload without moved deadlines".into()));
            }
            let due_on = moved
                .iter()
                .find(|m| m.barcode.is_some())
                .map(|m| m.to.as_str());
            let pickup_by = moved
                .iter()
                .find(|m| m.barcode.is_none())
                .map(|m| m.to.as_str());
            let lines = |en: bool| -> String {
                moved
                    .iter()
                    .map(|m| match (&m.barcode, en) {
                        (Some(barcode), true) => format!(
                            "    {} ({barcode}): now due on {} (was {})\n",
                            m.title, m.to, m.from
                        ),
                        (None, true) => format!(
                            "    {}: waiting for you until {} (was {})\n",
                            m.title, m.to, m.from
                        ),
                        (Some(barcode), false) => format!(
                            "    {}（{barcode}）：新到期日 {}（原為 {}）\n",
                            m.title, m.to, m.from
                        ),
                        (None, false) => format!(
                            "    {}：請於 {} 或之前領取（原為 {}）\n",
                            m.title, m.to, m.from
                        ),
                    })
                    .collect()
            };
            if en {
                let mut sms = format!("{SMS_EN}: {library} is closed {from} to {to_day}.");
                if let Some(d) = due_on {
                    sms.push_str(&format!(" Your items due then are now due on {d}."));
                }
                if let Some(d) = pickup_by {
                    sms.push_str(&format!(" Reserved items wait for you until {d}."));
                }
                mail(
                    "New dates for your library items".to_owned(),
                    format!(
                        "Dear {name},\n\n{library} is closed from {from} to {to_day}. These \
                         items were due, or waiting for you, while it is closed, and have new \
                         dates:\n\n{}\nReturn or collect them by the new dates.\n\n\
                         {SIGNATURE_EN}",
                        lines(true)
                    ),
                    Some(sms),
                )
            } else {
                let mut sms = format!("{SMS_ZH}：{library}於 {from} 至 {to_day} 關閉。");
                if let Some(d) = due_on {
                    sms.push_str(&format!("您於期間到期的資料已延至 {d} 到期。"));
                }
                if let Some(d) = pickup_by {
                    sms.push_str(&format!("預約資料可於 {d} 或之前領取。"));
                }
                mail(
                    "圖書館資料的新日期".to_owned(),
                    format!(
                        "{name} 您好：\n\n{library}於 {from} 至 {to_day} 期間關閉。\
                         以下資料於關閉期間到期或等候領取，現已更改日期：\n\n{}\n\
                         請於新日期或之前歸還或領取。\n\n{SIGNATURE_ZH}",
                        lines(false)
                    ),
                    Some(sms),
                )
            }
        }
        kind::ENQUIRY_ANSWERED => {
            let subject = field(payload, "subject")?;
            let answer = field(payload, "answer")?;
            if en {
                mail(
                    format!("Your enquiry was answered: {subject}"),
                    format!(
                        "Dear {name},\n\nA librarian answered your enquiry \"{subject}\":\n\n\
                         {answer}\n\nYou can read it again under Ask a Librarian.\n\n\
                         {SIGNATURE_EN}"
                    ),
                    Some(format!(
                        "{SMS_EN}: your enquiry \"{subject}\" was answered. Read it under Ask \
                         a Librarian."
                    )),
                )
            } else {
                mail(
                    format!("您的查詢已獲回覆：{subject}"),
                    format!(
                        "{name} 您好：\n\n圖書館職員已回覆您的查詢「{subject}」：\n\n\
                         {answer}\n\n您可於「諮詢圖書館員」再次查閱。\n\n{SIGNATURE_ZH}"
                    ),
                    Some(format!(
                        "{SMS_ZH}：您的查詢「{subject}」已獲回覆，請於「諮詢圖書館員」查閱。"
                    )),
                )
            }
        }
        kind::PASSWORD_CHANGED => {
            if en {
                mail(
                    "Your library Password was changed".to_owned(),
                    format!(
                        "Dear {name},\n\nThe Password of your library account was changed. \
                         If you did not change it, ask any library for a reset at once.\n\n\
                         {SIGNATURE_EN}"
                    ),
                    Some(format!(
                        "{SMS_EN}: your Password was changed. Not you? Ask any library at once."
                    )),
                )
            } else {
                mail(
                    "您的圖書館密碼已更改".to_owned(),
                    format!(
                        "{name} 您好：\n\n您的圖書館帳戶密碼已更改。如非閣下本人更改，\
                         請立即到任何圖書館重設密碼。\n\n{SIGNATURE_ZH}"
                    ),
                    Some(format!(
                        "{SMS_ZH}：您的密碼已更改。如非本人更改，請立即聯絡任何圖書館。"
                    )),
                )
            }
        }
        kind::PIN_CHANGED => {
            if en {
                mail(
                    "Your library PIN was changed".to_owned(),
                    format!(
                        "Dear {name},\n\nThe PIN of your library account was changed. If you \
                         did not change it, change your Password and PIN at once, or ask any \
                         library.\n\n{SIGNATURE_EN}"
                    ),
                    Some(format!(
                        "{SMS_EN}: your PIN was changed. Not you? Ask any library at once."
                    )),
                )
            } else {
                mail(
                    "您的圖書館個人密碼已更改".to_owned(),
                    format!(
                        "{name} 您好：\n\n您的圖書館帳戶個人密碼（PIN）已更改。如非閣下本人更改，\
                         請立即更改密碼及個人密碼，或聯絡任何圖書館。\n\n{SIGNATURE_ZH}"
                    ),
                    Some(format!(
                        "{SMS_ZH}：您的個人密碼已更改。如非本人更改，請立即聯絡任何圖書館。"
                    )),
                )
            }
        }
        kind::PASSWORD_RESET_BY_STAFF => {
            if en {
                mail(
                    "Your library Password was reset".to_owned(),
                    format!(
                        "Dear {name},\n\nLibrary staff reset the Password of your library \
                         account at your request and gave you a temporary Password. If you \
                         did not ask for it, tell any library at once.\n\n{SIGNATURE_EN}"
                    ),
                    Some(format!(
                        "{SMS_EN}: staff reset your Password. Not you? Tell any library at once."
                    )),
                )
            } else {
                mail(
                    "您的圖書館密碼已重設".to_owned(),
                    format!(
                        "{name} 您好：\n\n圖書館職員已應閣下要求重設您的圖書館帳戶密碼，\
                         並提供臨時密碼。如非閣下本人要求，請立即通知任何圖書館。\n\n\
                         {SIGNATURE_ZH}"
                    ),
                    Some(format!(
                        "{SMS_ZH}：職員已重設您的密碼。如非本人要求，請立即通知任何圖書館。"
                    )),
                )
            }
        }
        kind::EMAIL_CHANGED => {
            // `new_email` is null when the reader removed the address.
            let new = payload["new_email"].as_str();
            if en {
                let what = match new {
                    Some(new) => format!("was changed from this address to {new}"),
                    None => "was removed: this address no longer receives its mail".to_owned(),
                };
                mail(
                    "The email of your library account was changed".to_owned(),
                    format!(
                        "Dear {name},\n\nThe email address of your library account {what}. \
                         If you did not change it, ask any library at once.\n\n{SIGNATURE_EN}"
                    ),
                    None,
                )
            } else {
                let what = match new {
                    Some(new) => format!("您的圖書館帳戶電郵地址已由此地址更改為 {new}。"),
                    None => "您的圖書館帳戶已刪除此電郵地址，此地址不會再收到帳戶郵件。".to_owned(),
                };
                mail(
                    "您的圖書館帳戶電郵地址已更改".to_owned(),
                    format!(
                        "{name} 您好：\n\n{what}如非閣下本人更改，請立即聯絡任何圖書館。\n\n\
                         {SIGNATURE_ZH}"
                    ),
                    None,
                )
            }
        }
        kind::ACTIVITY_CANCELLED => {
            let starts = field(payload, "starts_at")
                .and_then(local_time)
                .unwrap_or_default();
            if en {
                mail(
                    format!("Cancelled: {title}"),
                    format!(
                        "Dear {name},\n\nThe library activity you registered for has been \
                         cancelled:\n\n    {title}\n    {starts}\n\nWe are sorry for the \
                         inconvenience.\n\n{SIGNATURE_EN}"
                    ),
                    Some(format!(
                        "{SMS_EN}: \"{title}\" on {starts} is cancelled. Sorry for the \
                         inconvenience."
                    )),
                )
            } else {
                mail(
                    format!("活動已取消：{title}"),
                    format!(
                        "{name} 您好：\n\n閣下已報名的圖書館活動已取消：\n\n    {title}\n    \
                         {starts}\n\n不便之處，敬請原諒。\n\n{SIGNATURE_ZH}"
                    ),
                    Some(format!(
                        "{SMS_ZH}：{starts} 的活動「{title}」已取消，不便之處，敬請原諒。"
                    )),
                )
            }
        }
        other => Err(RenderError(format!("no template for `{other}`"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reader(language: Language) -> Addressee {
        Addressee {
            name: "Chan Tai Man".into(),
            language,
        }
    }

    fn names(title: &str, library: &str) -> Names {
        Names {
            title: Some(title.into()),
            library: Some(library.into()),
        }
    }

    #[test]
    fn a_temporary_password_mail_names_the_password_and_the_local_expiry() {
        let payload = serde_json::json!({
            "email": "tm@example.com",
            "temporary_password": "Kite-Lamp-73",
            // 23:30 UTC is 07:30 the next morning in Hong Kong.
            "expires_at": "2021-03-05T23:30:00Z",
        });
        let mail = render(
            kind::TEMPORARY_PASSWORD,
            &payload,
            &reader(Language::En),
            &Names::default(),
        )
        .unwrap();
        assert_eq!(mail.subject, "Your temporary library Password");
        assert!(mail.body.contains("Dear Chan Tai Man"), "{}", mail.body);
        assert!(mail.body.contains("    Kite-Lamp-73\n"), "{}", mail.body);
        assert!(
            mail.body
                .contains("until 2021-03-06 07:30 (Hong Kong time)"),
            "{}",
            mail.body
        );
        assert_eq!(mail.sms, None, "a temporary password never goes by SMS");
        let mail = render(
            kind::TEMPORARY_PASSWORD,
            &payload,
            &reader(Language::ZhHant),
            &Names::default(),
        )
        .unwrap();
        assert_eq!(mail.subject, "您的圖書館臨時密碼");
        assert!(mail.body.contains("Kite-Lamp-73"), "{}", mail.body);
        assert!(
            mail.body.contains("有效期至 2021-03-06 07:30（香港時間）"),
            "{}",
            mail.body
        );
    }

    #[test]
    fn a_hold_mail_names_the_title_the_library_and_the_last_day() {
        let payload = serde_json::json!({
            "hold_id": 7, "title_id": 3, "item_id": 11,
            "pickup_library": "KLNPL", "pickup_by": "2021-03-12",
        });
        let mail = render(
            kind::HOLD_WAITING,
            &payload,
            &reader(Language::En),
            &names("The Silent River", "Kowloon Public Library"),
        )
        .unwrap();
        assert_eq!(mail.subject, "Ready for pickup: The Silent River");
        assert!(
            mail.body
                .contains("at Kowloon Public Library, until 2021-03-12"),
            "{}",
            mail.body
        );
        assert_eq!(
            mail.sms.as_deref(),
            Some(
                "HK Public Libraries: \"The Silent River\" is ready for pickup at Kowloon \
                 Public Library until 2021-03-12."
            )
        );
        let mail = render(
            kind::HOLD_WAITING,
            &payload,
            &reader(Language::ZhHant),
            &names("寧靜的海港", "九龍公共圖書館"),
        )
        .unwrap();
        assert_eq!(mail.subject, "預約資料已可領取：寧靜的海港");
        assert!(
            mail.body
                .contains("領取圖書館：九龍公共圖書館，請於 2021-03-12 或之前領取"),
            "{}",
            mail.body
        );
        // Without a looked-up name, the library's code.
        let mail = render(
            kind::HOLD_WAITING,
            &payload,
            &reader(Language::En),
            &Names::default(),
        )
        .unwrap();
        assert!(mail.body.contains("at KLNPL, until"), "{}", mail.body);
    }

    #[test]
    fn reminders_name_the_due_date_the_days_overdue_and_the_fine_in_hk_dollars() {
        let due_soon = serde_json::json!({
            "loan_id": 5, "title_id": 3, "item_barcode": "30001",
            "library": "CHPL", "due_on": "2024-02-29",
        });
        let mail = render(
            kind::DUE_SOON,
            &due_soon,
            &reader(Language::En),
            &names("Harbour Tales", "City Hall Public Library"),
        )
        .unwrap();
        assert_eq!(mail.subject, "Due on 2024-02-29: Harbour Tales");
        assert!(
            mail.body.contains(
                "from City Hall Public Library is due on 2024-02-29:\n\n    Harbour Tales \
                 (30001)"
            ),
            "{}",
            mail.body
        );
        let mail = render(
            kind::DUE_SOON,
            &due_soon,
            &reader(Language::ZhHant),
            &names("海港故事", "大會堂公共圖書館"),
        )
        .unwrap();
        assert_eq!(mail.subject, "2024-02-29 到期：海港故事");
        assert!(
            mail.body
                .contains("您於大會堂公共圖書館借閱的以下資料將於 2024-02-29 到期"),
            "{}",
            mail.body
        );

        let overdue = |days: i64, cents: i64| {
            serde_json::json!({
                "loan_id": 5, "title_id": 3, "item_barcode": "30001",
                "library": "CHPL", "due_on": "2024-02-29",
                "overdue_days": days, "fine_cents": cents,
            })
        };
        let alert = render(
            kind::OVERDUE_ALERT,
            &overdue(1, 150),
            &reader(Language::En),
            &names("Harbour Tales", "City Hall Public Library"),
        )
        .unwrap();
        assert_eq!(alert.subject, "Overdue: Harbour Tales");
        assert!(
            alert
                .body
                .contains("due on 2024-02-29 and is 1 day overdue"),
            "{}",
            alert.body
        );
        assert!(
            alert.body.contains("The fine so far is HK$1.50;"),
            "{}",
            alert.body
        );
        let notice = render(
            kind::OVERDUE_NOTICE,
            &overdue(11, 1650),
            &reader(Language::ZhHant),
            &names("海港故事", "大會堂公共圖書館"),
        )
        .unwrap();
        assert_eq!(notice.subject, "逾期通知：海港故事");
        assert!(
            notice.body.contains("此為首次逾期通知。"),
            "{}",
            notice.body
        );
        assert!(
            notice.body.contains("現已逾期 11 天") && notice.body.contains("至今罰款為 HK$16.50"),
            "{}",
            notice.body
        );
        assert_eq!(
            notice.sms.as_deref(),
            Some(
                "香港公共圖書館：您借閱的「海港故事」已於 2024-02-29 到期，逾期 11 天，\
                 至今罰款 HK$16.50，請盡快歸還。"
            )
        );
        // A zero fine (the days fell in a suspension period) says so in figures.
        let zero = render(
            kind::OVERDUE_ALERT,
            &overdue(2, 0),
            &reader(Language::En),
            &Names::default(),
        )
        .unwrap();
        assert!(zero.body.contains("2 days overdue"), "{}", zero.body);
        assert!(zero.body.contains("HK$0.00"), "{}", zero.body);
        assert!(zero.body.contains("from CHPL."), "{}", zero.body);
    }

    #[test]
    fn every_kind_has_a_template_in_both_languages() {
        let payload = serde_json::json!({
            "old_email": "old@example.com", "new_email": "new@example.com",
            "title": "Storytelling for Children", "starts_at": "2021-03-06T02:30:00Z",
            "subject": "Opening hours", "answer": "We open at 10:00.",
            "library": "CHPL", "pickup_library": "CHPL", "pickup_by": "2021-03-12",
            "not_needed_after": "2021-03-05",
            "due_on": "2021-03-05", "item_barcode": "30001",
            "overdue_days": 3, "fine_cents": 450,
            "temporary_password": "Kite-Lamp-73", "expires_at": "2021-03-05T23:30:00Z",
            "closure_from": "2021-01-01", "closure_to": "2021-02-18",
            "loans": [{"loan_id": 5, "title": "Harbour Tales", "item_barcode": "30001",
                       "due_on_before": "2021-02-01", "due_on": "2021-02-19"}],
            "holds": [{"hold_id": 7, "title": "The Silent River",
                       "pickup_by_before": "2021-02-10", "pickup_by": "2021-02-19"}],
        });
        for kind in [
            kind::TEMPORARY_PASSWORD,
            kind::PASSWORD_CHANGED,
            kind::PIN_CHANGED,
            kind::PASSWORD_RESET_BY_STAFF,
            kind::EMAIL_CHANGED,
            kind::HOLD_WAITING,
            kind::HOLD_EXPIRED,
            kind::HOLD_NOT_NEEDED,
            kind::ACTIVITY_CANCELLED,
            kind::ENQUIRY_ANSWERED,
            kind::DUE_SOON,
            kind::OVERDUE_ALERT,
            kind::OVERDUE_NOTICE,
            kind::DEADLINES_MOVED,
        ] {
            for language in [Language::En, Language::ZhHant] {
                let mail = render(kind, &payload, &reader(language), &Names::default())
                    .unwrap_or_else(|e| panic!("{kind} {language:?}: {e}"));
                assert!(
                    !mail.subject.is_empty() && mail.body.contains("Chan Tai Man"),
                    "{kind}"
                );
                if let Some(sms) = &mail.sms {
                    // One SMS: 160 GSM characters or 70 in UCS-2, sent as at most 3 parts.
                    let limit = if language == Language::En {
                        3 * 153
                    } else {
                        3 * 67
                    };
                    assert!(sms.chars().count() <= limit, "{kind}: {sms}");
                }
            }
        }
        let mail = render(
            kind::ACTIVITY_CANCELLED,
            &payload,
            &reader(Language::En),
            &Names::default(),
        )
        .unwrap();
        // 02:30 UTC is 10:30 in Hong Kong.
        assert!(
            mail.body.contains("    2021-03-06 10:30\n"),
            "{}",
            mail.body
        );
        let mail = render(
            kind::EMAIL_CHANGED,
            &payload,
            &reader(Language::ZhHant),
            &Names::default(),
        )
        .unwrap();
        assert!(
            mail.body.contains("更改為 new@example.com"),
            "{}",
            mail.body
        );
        let removed = serde_json::json!({"old_email": "old@example.com", "new_email": null});
        let mail = render(
            kind::EMAIL_CHANGED,
            &removed,
            &reader(Language::En),
            &Names::default(),
        )
        .unwrap();
        assert!(
            mail.body.contains("was removed: this address no longer"),
            "{}",
            mail.body
        );
        assert!(!mail.body.contains(" to ."), "{}", mail.body);
    }

    #[test]
    fn a_deadlines_moved_mail_lists_each_item_with_its_old_and_new_date() {
        let payload = serde_json::json!({
            "library": "CHPL", "closure_from": "2021-01-01", "closure_to": "2021-02-18",
            "loans": [
                {"loan_id": 5, "title": "Harbour Tales", "item_barcode": "30001",
                 "due_on_before": "2021-02-01", "due_on": "2021-02-19"},
                {"loan_id": 6, "title": "Kowloon Walks", "item_barcode": "30002",
                 "due_on_before": "2021-02-18", "due_on": "2021-02-19"},
            ],
            "holds": [{"hold_id": 7, "title": "The Silent River",
                       "pickup_by_before": "2021-02-10", "pickup_by": "2021-02-23"}],
        });
        let mail = render(
            kind::DEADLINES_MOVED,
            &payload,
            &reader(Language::En),
            &names("", "City Hall Public Library"),
        )
        .unwrap();
        assert_eq!(mail.subject, "New dates for your library items");
        for line in [
            "City Hall Public Library is closed from 2021-01-01 to 2021-02-18.",
            "    Harbour Tales (30001): now due on 2021-02-19 (was 2021-02-01)\n",
            "    Kowloon Walks (30002): now due on 2021-02-19 (was 2021-02-18)\n",
            "    The Silent River: waiting for you until 2021-02-23 (was 2021-02-10)\n",
        ] {
            assert!(mail.body.contains(line), "{line}\n{}", mail.body);
        }
        assert_eq!(
            mail.sms.as_deref(),
            Some(
                "HK Public Libraries: City Hall Public Library is closed 2021-01-01 to \
                 2021-02-18. Your items due then are now due on 2021-02-19. Reserved items \
                 wait for you until 2021-02-23."
            )
        );
        let mail = render(
            kind::DEADLINES_MOVED,
            &payload,
            &reader(Language::ZhHant),
            &names("", "大會堂公共圖書館"),
        )
        .unwrap();
        assert!(
            mail.body
                .contains("    Harbour Tales（30001）：新到期日 2021-02-19（原為 2021-02-01）"),
            "{}",
            mail.body
        );
        assert!(
            mail.body
                .contains("    The Silent River：請於 2021-02-23 或之前領取（原為 2021-02-10）"),
            "{}",
            mail.body
        );
        // Only loans moved: the SMS says nothing of holds.
        let loans_only = serde_json::json!({
            "library": "CHPL", "closure_from": "2021-01-01", "closure_to": "2021-02-18",
            "loans": payload["loans"].clone(), "holds": [],
        });
        let mail = render(
            kind::DEADLINES_MOVED,
            &loans_only,
            &reader(Language::En),
            &Names::default(),
        )
        .unwrap();
        assert!(!mail.sms.unwrap().contains("Reserved"));
        // Nothing moved is not a message.
        let empty = serde_json::json!({
            "library": "CHPL", "closure_from": "2021-01-01", "closure_to": "2021-02-18",
            "loans": [], "holds": [],
        });
        assert!(
            render(
                kind::DEADLINES_MOVED,
                &empty,
                &reader(Language::En),
                &Names::default()
            )
            .is_err()
        );
    }

    #[test]
    fn a_kind_without_a_template_or_a_payload_without_its_fields_is_refused() {
        let to = reader(Language::En);
        assert!(render("loan.lost", &serde_json::json!({}), &to, &Names::default()).is_err());
        assert!(
            render(
                kind::DUE_SOON,
                &serde_json::json!({"library": "CHPL"}),
                &to,
                &Names::default()
            )
            .is_err()
        );
        assert!(
            render(
                kind::TEMPORARY_PASSWORD,
                &serde_json::json!({"email": "tm@example.com"}),
                &to,
                &Names::default()
            )
            .is_err()
        );
    }
}
