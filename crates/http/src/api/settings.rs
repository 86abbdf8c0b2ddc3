//! My Setting: email, SMS number, notification channels, language, whether the reading
//! history is kept; and the reading history itself.

use library_credentials::Secret;
use library_reader_services::{Channel, Language, ReaderSettings, SettingsForm};
use poem::Request;
use poem_openapi::payload::Json;
use poem_openapi::{Enum, Object, OpenApi};
use time::OffsetDateTime;

use super::ApiTags;
use super::activities::reader;
use super::common::shown;
use super::types::{OrNull, Text};
use crate::auth::{ReaderAuth, attempt_source};
use crate::error::ApiError;
use library_app::Services;

/// A notification channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "snake_case")]
enum ChannelDto {
    /// By email (needs `email`).
    Email,
    /// By SMS (needs `sms_number`).
    Sms,
}

/// A language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "snake_case")]
enum LanguageDto {
    /// English.
    En,
    /// Traditional Chinese.
    ZhHant,
}

impl From<Language> for LanguageDto {
    fn from(l: Language) -> Self {
        match l {
            Language::En => LanguageDto::En,
            Language::ZhHant => LanguageDto::ZhHant,
        }
    }
}

impl From<LanguageDto> for Language {
    fn from(l: LanguageDto) -> Self {
        match l {
            LanguageDto::En => Language::En,
            LanguageDto::ZhHant => Language::ZhHant,
        }
    }
}

/// My settings.
#[derive(Debug, Object)]
struct SettingsBody {
    /// My email: the one `GET /me` shows and "forgot Password" matches.
    #[oai(nullable)]
    email: Option<String>,
    /// The mobile number SMS notices go to.
    #[oai(nullable)]
    sms_number: Option<String>,
    /// The channels notices go through.
    notification_channels: Vec<ChannelDto>,
    language: LanguageDto,
    /// Whether returned loans are kept in my reading history.
    keep_reading_history: bool,
}

fn settings_body(s: ReaderSettings) -> SettingsBody {
    SettingsBody {
        email: s.email.map(|e| e.as_str().to_owned()),
        sms_number: s.sms_number.map(|n| n.as_str().to_owned()),
        notification_channels: s
            .channels
            .into_iter()
            .map(|c| match c {
                Channel::Email => ChannelDto::Email,
                Channel::Sms => ChannelDto::Sms,
            })
            .collect(),
        language: s.language.into(),
        keep_reading_history: s.keep_reading_history,
    }
}

/// `PUT /me/settings`: the whole settings; every field is required, `email` and
/// `sms_number` may be `null` (or blank) for none. Not `Debug`: it may hold the Password.
#[derive(Object)]
struct SettingsRequest {
    /// Required; `null` removes my email (then "forgot Password" cannot reach me).
    email: OrNull<Text>,
    /// Required; `null` for none. 8 to 15 digits, optionally a leading `+`, spaces and
    /// hyphens.
    sms_number: OrNull<Text>,
    /// `email`, `sms` (each needs its address), or none.
    notification_channels: Vec<ChannelDto>,
    /// `en` or `zh_hant`.
    language: LanguageDto,
    keep_reading_history: bool,
    /// My Password: required when `email` changes (another address, a first one, or
    /// `null` for none), ignored otherwise.
    #[oai(nullable)]
    current_password: Option<Text>,
}

/// A nullable field that must be present (absent is 400 when the body is read: a
/// replacement names every field).
fn required(field: OrNull<Text>) -> Result<Option<String>, ApiError> {
    Ok(field.0.map(Text::into_string))
}

/// A returned loan in my reading history.
#[derive(Debug, Object)]
struct ReturnedLoanBody {
    loan_id: i64,
    item_barcode: String,
    title: String,
    /// The lending library.
    library_code: String,
    borrowed_at: OffsetDateTime,
    returned_at: OffsetDateTime,
}

/// `GET /me/reading-history`.
#[derive(Debug, Object)]
pub(super) struct ReadingHistoryBody {
    /// Whether the history is kept (when not, `loans` is empty).
    keep_reading_history: bool,
    /// Since when it has been kept without a break (`null` = since I registered).
    #[oai(nullable)]
    kept_since: Option<OffsetDateTime>,
    /// Returned loans, most recently returned first.
    loans: Vec<ReturnedLoanBody>,
}

pub(crate) struct SettingsApi {
    state: Services,
}

impl SettingsApi {
    pub(crate) fn new(state: Services) -> Self {
        Self { state }
    }
}

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Me")]
impl SettingsApi {
    /// My settings (Password session); the defaults until I save any: English, reading
    /// history kept, no SMS number, the `email` channel if I have an email.
    #[oai(path = "/me/settings", method = "get")]
    async fn get(&self, auth: ReaderAuth) -> Result<Json<SettingsBody>, ApiError> {
        let patron = reader(&auth.0)?;
        let settings = self.state.reader_services.settings.settings(patron).await?;
        Ok(Json(settings_body(settings)))
    }

    /// Replaces my settings (Password session; a full replacement: every field). The
    /// email is my one email: `GET /me` and "forgot Password" use the new one at once.
    /// Changing it needs `current_password` (403 `forbidden` without it or with a wrong
    /// one, which counts as a failed Password attempt; 429 with `Retry-After` while
    /// Password attempts are throttled), and the old address is told of the change.
    /// 400 for a missing field or an unknown `language` or channel; 422 with violations
    /// `email_invalid`, `sms_number_invalid`, `no_channel_address` (a channel chosen
    /// without its address). Turning `keep_reading_history` off hides my returned loans
    /// from the history; turning it back on starts a new history from then.
    #[oai(path = "/me/settings", method = "put")]
    async fn put(
        &self,
        auth: ReaderAuth,
        req: &Request,
        body: Json<SettingsRequest>,
    ) -> Result<Json<SettingsBody>, ApiError> {
        reader(&auth.0)?;
        let body = body.0;
        let current_password = body
            .current_password
            .map(|text| Secret::new(text.into_string()));
        let settings = SettingsForm {
            email: required(body.email)?,
            sms_number: required(body.sms_number)?,
            channels: body
                .notification_channels
                .into_iter()
                .map(|c| match c {
                    ChannelDto::Email => Channel::Email,
                    ChannelDto::Sms => Channel::Sms,
                })
                .collect(),
            language: body.language.into(),
            keep_reading_history: body.keep_reading_history,
        }
        .parse()?;
        let stored = self
            .state
            .replace_settings(
                &auth.0.session,
                &settings,
                current_password.as_ref(),
                &attempt_source(req),
            )
            .await?;
        Ok(Json(settings_body(stored)))
    }

    /// My reading history (Password session): returned loans, most recent first, while I
    /// keep it (see `keep_reading_history` in my settings).
    #[oai(path = "/me/reading-history", method = "get")]
    async fn reading_history(
        &self,
        auth: ReaderAuth,
    ) -> Result<Json<ReadingHistoryBody>, ApiError> {
        reading_history_of(&self.state, reader(&auth.0)?).await
    }
}

/// A reader's reading history as `GET /me/reading-history` answers it (staff see the same).
pub(super) async fn reading_history_of(
    state: &Services,
    patron: library_core::PatronId,
) -> Result<Json<ReadingHistoryBody>, ApiError> {
    let (history, loans) = state
        .reader_services
        .settings
        .reading_history(patron)
        .await?;
    Ok(Json(ReadingHistoryBody {
        keep_reading_history: history.keep,
        kept_since: history.kept_since.map(shown),
        loans: loans
            .into_iter()
            .map(|l| ReturnedLoanBody {
                loan_id: l.loan.get(),
                item_barcode: l.item_barcode.as_str().to_owned(),
                title: l.title,
                library_code: l.library.as_str().to_owned(),
                borrowed_at: shown(l.borrowed_at),
                returned_at: shown(l.returned_at),
            })
            .collect(),
    }))
}
