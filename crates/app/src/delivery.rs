//! Delivering the outbox: the messages the flows queue (a temporary password, a hold ready
//! for pickup, ...) rendered in the reader's language and sent through a [`MailTransport`]
//! (SMTP, or the log when no SMTP server is configured).
//!
//! At least once, and in practice exactly once: a run claims a batch of due messages with a
//! lease (on PostgreSQL `FOR UPDATE SKIP LOCKED`, on SQLite under the write lock), so two
//! server processes never hold the same message; each is sent, then marked sent. A message
//! that fails for a reason that may pass (the SMTP server down) is retried with exponential
//! backoff ([`DeliveryPolicy::retry_at`]); after [`DeliveryPolicy::max_attempts`], or at
//! once for a reason that will not pass (no address, a kind with no template), it is given
//! up with the reason kept. A process that dies between sending and marking sends that one
//! message again when its lease ends: at least once.

use std::time::Duration;

use async_trait::async_trait;
use library_core::{DEFAULT_LIBRARY_OFFSET, PatronId, TitleId};
use library_credentials::PortError;
use library_reader_services::{Channel, Language};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::secrets::SecretBox;
use crate::services::{JobRunner, Services};

/// A mail ready to send.
#[derive(Clone, PartialEq, Eq)]
pub struct OutgoingMail {
    /// The address it goes to.
    pub to: String,
    /// The subject line.
    pub subject: String,
    /// The plain-text body (it may hold a secret: never log it).
    pub body: String,
}

impl std::fmt::Debug for OutgoingMail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutgoingMail")
            .field("to", &self.to)
            .field("subject", &self.subject)
            .finish_non_exhaustive()
    }
}

/// Why a mail was not sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeliveryError {
    /// A reason that may pass (the server unreachable, a temporary SMTP refusal): retry.
    #[error("temporary: {0}")]
    Temporary(String),
    /// A reason that will not pass (the address refused for good): give up.
    #[error("permanent: {0}")]
    Permanent(String),
}

/// Where mail goes: an SMTP server, or the log.
#[async_trait]
pub trait MailTransport: Send + Sync {
    /// Sends `mail`.
    async fn send(&self, mail: &OutgoingMail) -> Result<(), DeliveryError>;
}

/// A queued message as the sender claims it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedMessage {
    /// Its id.
    pub id: i64,
    /// What it is (`credentials.temporary_password`, `hold.waiting`, ...).
    pub kind: String,
    /// The reader it is for.
    pub patron: Option<PatronId>,
    /// What the flow that queued it recorded (JSON).
    pub payload: String,
    /// How many times sending it failed so far.
    pub attempts: u32,
}

/// The outbox as the sender works it.
#[async_trait]
pub trait Outbox: Send + Sync {
    /// Claims up to `limit` messages due at `now` (unsent, not given up, not waiting for a
    /// retry, not claimed by another sender) until `now + lease`, oldest first.
    async fn claim(
        &self,
        now: OffsetDateTime,
        lease: Duration,
        limit: u32,
    ) -> Result<Vec<QueuedMessage>, PortError>;
    /// Marks message `id` sent at `at` (and forgets what it held that the sending needed).
    async fn sent(&self, id: i64, at: OffsetDateTime) -> Result<(), PortError>;
    /// Records a failed attempt (`attempts` in all now) with its reason: retried from
    /// `retry_at`, or given up at `now` when `retry_at` is `None`.
    async fn failed(
        &self,
        id: i64,
        attempts: u32,
        reason: &str,
        retry_at: Option<OffsetDateTime>,
        now: OffsetDateTime,
    ) -> Result<(), PortError>;
    /// Deletes the messages sent before `before`; how many.
    async fn purge_sent(&self, before: OffsetDateTime) -> Result<u64, PortError>;
}

/// How the sender works.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeliveryPolicy {
    /// Messages claimed per round.
    pub batch: u32,
    /// How long a claim keeps other senders off a message.
    pub lease: Duration,
    /// Failed attempts after which a message is given up.
    pub max_attempts: u32,
    /// The wait after the first failure; doubled after each further one.
    pub first_retry: Duration,
    /// The longest wait between two attempts.
    pub max_retry: Duration,
    /// How long sent messages are kept (what was sent, for readers and staff to see).
    pub keep_sent: Duration,
}

impl Default for DeliveryPolicy {
    /// 50 per round, a 2-minute lease, 8 attempts (30 s, 1, 2, 4, 8, 16, 32 min, then given
    /// up), sent messages kept 30 days.
    fn default() -> Self {
        DeliveryPolicy {
            batch: 50,
            lease: Duration::from_secs(120),
            max_attempts: 8,
            first_retry: Duration::from_secs(30),
            max_retry: Duration::from_secs(3600),
            keep_sent: Duration::from_secs(30 * 24 * 3600),
        }
    }
}

impl DeliveryPolicy {
    /// When a message that has now failed `attempts` times is tried again; `None` when it is
    /// given up.
    pub fn retry_at(&self, attempts: u32, now: OffsetDateTime) -> Option<OffsetDateTime> {
        if attempts >= self.max_attempts {
            return None;
        }
        let doublings = attempts.saturating_sub(1).min(31);
        let wait = self
            .first_retry
            .saturating_mul(1u32 << doublings)
            .min(self.max_retry);
        Some(now + wait)
    }
}

/// What a round of the sender did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeliveryReport {
    /// Messages sent.
    pub sent: usize,
    /// Messages that failed and will be retried.
    pub retried: usize,
    /// Messages given up.
    pub given_up: usize,
}

/// Who a message goes to, and in which language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    /// The reader's name.
    pub name: String,
    /// The address, when the reader receives notices by email.
    pub email: Option<String>,
    /// The language of the reader's settings.
    pub language: Language,
}

const SIGNATURE_EN: &str = "Hong Kong Public Libraries\n";
const SIGNATURE_ZH: &str = "香港公共圖書館\n";

/// A message's kind without a template, or a payload it cannot be read from.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct RenderError(String);

fn field<'a>(payload: &'a serde_json::Value, name: &str) -> Result<&'a str, RenderError> {
    payload[name]
        .as_str()
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

/// The mail of a message of `kind` with `payload` for `to`, in `language`. `title`: the
/// name of the title the payload names, when it names one.
pub fn render(
    kind: &str,
    payload: &serde_json::Value,
    to: &Recipient,
    title: Option<&str>,
) -> Result<(String, String), RenderError> {
    let name = &to.name;
    match (kind, to.language) {
        ("credentials.temporary_password", language) => {
            let password = field(payload, "temporary_password")?;
            let expires = local_time(field(payload, "expires_at")?)?;
            Ok(match language {
                Language::En => (
                    "Your temporary library Password".to_owned(),
                    format!(
                        "Dear {name},\n\nA temporary Password was requested for your library \
                         account. Log in with it once and choose a new Password:\n\n    \
                         {password}\n\nIt works once, until {expires} (Hong Kong time). If \
                         you did not ask for it, ignore this mail: your Password has not \
                         changed.\n\nHong Kong Public Libraries\n"
                    ),
                ),
                Language::ZhHant => (
                    "您的圖書館臨時密碼".to_owned(),
                    format!(
                        "{name} 您好：\n\n您的圖書館帳戶已申請臨時密碼。請以此密碼登入一次，\
                         然後設定新密碼：\n\n    {password}\n\n此密碼只可使用一次，有效期至 \
                         {expires}（香港時間）。如非閣下本人申請，請不用理會本郵件，\
                         您的密碼並未更改。\n\n香港公共圖書館\n"
                    ),
                ),
            })
        }
        ("hold.waiting", language) => {
            let title = title.unwrap_or("");
            let library = field(payload, "pickup_library")?;
            let by = field(payload, "pickup_by")?;
            Ok(match language {
                Language::En => (
                    format!("Ready for pickup: {title}"),
                    format!(
                        "Dear {name},\n\nThe item you reserved is ready for pickup:\n\n    \
                         {title}\n\nat library {library}, until {by}. After that day it goes \
                         to the next reader.\n\nHong Kong Public Libraries\n"
                    ),
                ),
                Language::ZhHant => (
                    format!("預約資料已可領取：{title}"),
                    format!(
                        "{name} 您好：\n\n您預約的資料已可領取：\n\n    {title}\n\n\
                         領取圖書館：{library}，請於 {by} 或之前領取，逾期資料將轉給下一位讀者。\
                         \n\n香港公共圖書館\n"
                    ),
                ),
            })
        }
        ("credentials.password_changed", Language::En) => Ok((
            "Your library Password was changed".to_owned(),
            format!(
                "Dear {name},\n\nThe Password of your library account was changed. If you \
                 did not change it, ask any library for a reset at once.\n\n{SIGNATURE_EN}"
            ),
        )),
        ("credentials.password_changed", Language::ZhHant) => Ok((
            "您的圖書館密碼已更改".to_owned(),
            format!(
                "{name} 您好：\n\n您的圖書館帳戶密碼已更改。如非閣下本人更改，\
                 請立即到任何圖書館重設密碼。\n\n{SIGNATURE_ZH}"
            ),
        )),
        ("credentials.pin_changed", Language::En) => Ok((
            "Your library PIN was changed".to_owned(),
            format!(
                "Dear {name},\n\nThe PIN of your library account was changed. If you did \
                 not change it, change your Password and PIN at once, or ask any \
                 library.\n\n{SIGNATURE_EN}"
            ),
        )),
        ("credentials.pin_changed", Language::ZhHant) => Ok((
            "您的圖書館個人密碼已更改".to_owned(),
            format!(
                "{name} 您好：\n\n您的圖書館帳戶個人密碼（PIN）已更改。如非閣下本人更改，\
                 請立即更改密碼及個人密碼，或聯絡任何圖書館。\n\n{SIGNATURE_ZH}"
            ),
        )),
        ("credentials.password_reset_by_staff", Language::En) => Ok((
            "Your library Password was reset".to_owned(),
            format!(
                "Dear {name},\n\nLibrary staff reset the Password of your library account \
                 at your request and gave you a temporary Password. If you did not ask for \
                 it, tell any library at once.\n\n{SIGNATURE_EN}"
            ),
        )),
        ("credentials.password_reset_by_staff", Language::ZhHant) => Ok((
            "您的圖書館密碼已重設".to_owned(),
            format!(
                "{name} 您好：\n\n圖書館職員已應閣下要求重設您的圖書館帳戶密碼，\
                 並提供臨時密碼。如非閣下本人要求，請立即通知任何圖書館。\n\n{SIGNATURE_ZH}"
            ),
        )),
        ("settings.email_changed", language) => {
            // `new_email` is null when the reader removed the address.
            let new = payload["new_email"].as_str();
            Ok(match language {
                Language::En => (
                    "The email of your library account was changed".to_owned(),
                    format!(
                        "Dear {name},\n\nThe email address of your library account {}. If \
                         you did not change it, ask any library at once.\n\n{SIGNATURE_EN}",
                        match new {
                            Some(new) => format!("was changed from this address to {new}"),
                            None =>
                                "was removed: this address no longer receives its mail".to_owned(),
                        }
                    ),
                ),
                Language::ZhHant => (
                    "您的圖書館帳戶電郵地址已更改".to_owned(),
                    format!(
                        "{name} 您好：\n\n{}如非閣下本人更改，請立即聯絡任何圖書館。\n\n\
                         {SIGNATURE_ZH}",
                        match new {
                            Some(new) => format!("您的圖書館帳戶電郵地址已由此地址更改為 {new}。"),
                            None => "您的圖書館帳戶已刪除此電郵地址，此地址不會再收到帳戶郵件。"
                                .to_owned(),
                        }
                    ),
                ),
            })
        }
        ("activity.cancelled", language) => {
            let title = field(payload, "title").unwrap_or("");
            let starts = field(payload, "starts_at")
                .and_then(local_time)
                .unwrap_or_default();
            Ok(match language {
                Language::En => (
                    format!("Cancelled: {title}"),
                    format!(
                        "Dear {name},\n\nThe library activity you registered for has been \
                         cancelled:\n\n    {title}\n    {starts}\n\nWe are sorry for the \
                         inconvenience.\n\n{SIGNATURE_EN}"
                    ),
                ),
                Language::ZhHant => (
                    format!("活動已取消：{title}"),
                    format!(
                        "{name} 您好：\n\n閣下已報名的圖書館活動已取消：\n\n    {title}\n    \
                         {starts}\n\n不便之處，敬請原諒。\n\n{SIGNATURE_ZH}"
                    ),
                ),
            })
        }
        (other, _) => Err(RenderError(format!("no template for `{other}`"))),
    }
}

/// The outbox sender: one round claims, renders, sends and marks a batch of messages.
#[derive(Clone)]
pub struct Sender {
    services: Services,
    outbox: std::sync::Arc<dyn Outbox>,
    transport: std::sync::Arc<dyn MailTransport>,
    secrets: SecretBox,
    policy: DeliveryPolicy,
}

impl std::fmt::Debug for Sender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sender")
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

/// How one message went.
enum Outcome {
    Sent,
    Failed { reason: String, retry: bool },
}

impl Sender {
    /// The sender of `outbox` through `transport`, reading readers through `services` and
    /// opening sealed secrets with `secrets`.
    pub fn new(
        services: Services,
        outbox: std::sync::Arc<dyn Outbox>,
        transport: std::sync::Arc<dyn MailTransport>,
        secrets: SecretBox,
        policy: DeliveryPolicy,
    ) -> Self {
        Sender {
            services,
            outbox,
            transport,
            secrets,
            policy,
        }
    }

    /// Who `patron` is as a recipient; `None` if there is no such reader.
    async fn recipient(&self, patron: PatronId) -> Result<Option<Recipient>, PortError> {
        let Some(profile) = self.services.readers.profile(patron).await? else {
            return Ok(None);
        };
        let settings = self
            .services
            .reader_services
            .settings
            .settings(patron)
            .await
            .map_err(|e| PortError::Failed(format!("read settings: {e}")))?;
        let email = settings
            .channels
            .contains(&Channel::Email)
            .then(|| settings.email.map(|e| e.as_str().to_owned()))
            .flatten();
        Ok(Some(Recipient {
            name: profile.name,
            email,
            language: settings.language,
        }))
    }

    /// Renders and sends one message.
    async fn deliver(&self, message: &QueuedMessage) -> Result<Outcome, PortError> {
        let give_up = |reason: String| {
            Ok(Outcome::Failed {
                reason,
                retry: false,
            })
        };
        let Ok(mut payload) = serde_json::from_str::<serde_json::Value>(&message.payload) else {
            return give_up("the payload is not JSON".into());
        };
        // A temporary password: opened only here, in memory; never sent after it expired.
        if let Some(sealed) = payload["sealed_password"].as_str() {
            let Some(password) = self.secrets.open(sealed) else {
                return give_up("the sealed secret does not open under this key".into());
            };
            let expired = payload["expires_at"]
                .as_str()
                .and_then(|t| OffsetDateTime::parse(t, &Rfc3339).ok())
                .is_none_or(|at| at <= self.services.clock.now());
            if expired {
                return give_up("the temporary password expired before it was sent".into());
            }
            payload["temporary_password"] = serde_json::Value::String(password);
        }
        let Some(patron) = message.patron else {
            return give_up("no reader".into());
        };
        let Some(mut to) = self.recipient(patron).await? else {
            return give_up("no such reader".into());
        };
        // A temporary password goes to the address it was asked for, and an email change
        // to the address it replaced, whatever the channels.
        let address_field = match message.kind.as_str() {
            "credentials.temporary_password" => Some("email"),
            "settings.email_changed" => Some("old_email"),
            _ => None,
        };
        if let Some(email) = address_field.and_then(|f| payload[f].as_str()) {
            to.email = Some(email.to_owned());
        }
        let Some(address) = to.email.clone() else {
            return give_up("the reader receives no notices by email".into());
        };
        let title = match payload["title_id"].as_i64() {
            Some(id) => self
                .services
                .catalogue
                .title_name(TitleId(id))
                .await
                .map_err(|e| PortError::Failed(format!("read title: {e}")))?,
            None => None,
        };
        let (subject, body) = match render(&message.kind, &payload, &to, title.as_deref()) {
            Ok(mail) => mail,
            Err(e) => return give_up(e.to_string()),
        };
        let mail = OutgoingMail {
            to: address,
            subject,
            body,
        };
        Ok(match self.transport.send(&mail).await {
            Ok(()) => Outcome::Sent,
            Err(DeliveryError::Temporary(reason)) => Outcome::Failed {
                reason,
                retry: true,
            },
            Err(DeliveryError::Permanent(reason)) => Outcome::Failed {
                reason,
                retry: false,
            },
        })
    }

    /// One round: claims due messages until none is left, sends each, marks it; then
    /// purges the sent messages older than the policy keeps them.
    pub async fn run_once(&self) -> Result<DeliveryReport, PortError> {
        let mut report = DeliveryReport::default();
        loop {
            let now = self.services.clock.now();
            let batch = self
                .outbox
                .claim(now, self.policy.lease, self.policy.batch)
                .await?;
            if batch.is_empty() {
                break;
            }
            for message in &batch {
                match self.deliver(message).await? {
                    Outcome::Sent => {
                        self.outbox
                            .sent(message.id, self.services.clock.now())
                            .await?;
                        report.sent += 1;
                    }
                    Outcome::Failed { reason, retry } => {
                        let now = self.services.clock.now();
                        let attempts = message.attempts.saturating_add(1);
                        let retry_at = retry.then(|| self.policy.retry_at(attempts, now)).flatten();
                        tracing::warn!(
                            id = message.id,
                            kind = %message.kind,
                            attempts,
                            retry = retry_at.is_some(),
                            %reason,
                            "a message was not sent"
                        );
                        self.outbox
                            .failed(message.id, attempts, &reason, retry_at, now)
                            .await?;
                        if retry_at.is_some() {
                            report.retried += 1;
                        } else {
                            report.given_up += 1;
                        }
                    }
                }
            }
            if batch.len() < self.policy.batch as usize {
                break;
            }
        }
        let before = self.services.clock.now() - self.policy.keep_sent;
        self.outbox.purge_sent(before).await?;
        Ok(report)
    }
}

#[async_trait]
impl JobRunner for Sender {
    async fn run_all(&self, _now: OffsetDateTime) -> Result<(), PortError> {
        let report = self.run_once().await?;
        if report != DeliveryReport::default() {
            tracing::info!(
                sent = report.sent,
                retried = report.retried,
                given_up = report.given_up,
                "outbox delivered"
            );
        }
        Ok(())
    }
}

/// Several scheduled jobs run one after the other; each runs even if one before it failed,
/// and the first failure is reported.
#[derive(Clone)]
pub struct Jobs(pub Vec<std::sync::Arc<dyn JobRunner>>);

impl std::fmt::Debug for Jobs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Jobs").field(&self.0.len()).finish()
    }
}

#[async_trait]
impl JobRunner for Jobs {
    async fn run_all(&self, now: OffsetDateTime) -> Result<(), PortError> {
        let mut first = None;
        for job in &self.0 {
            if let Err(err) = job.run_all(now).await {
                tracing::error!(%err, "a scheduled job failed");
                first.get_or_insert(err);
            }
        }
        first.map_or(Ok(()), Err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn retries_back_off_doubling_to_the_cap_then_give_up() {
        let policy = DeliveryPolicy::default();
        let now = datetime!(2021-03-05 10:00 UTC);
        let waits: Vec<Option<i64>> = (1..=9)
            .map(|n| policy.retry_at(n, now).map(|at| (at - now).whole_seconds()))
            .collect();
        assert_eq!(
            waits,
            [
                Some(30),
                Some(60),
                Some(120),
                Some(240),
                Some(480),
                Some(960),
                Some(1920),
                None,
                None
            ]
        );
        let capped = DeliveryPolicy {
            max_attempts: 40,
            ..policy
        };
        assert_eq!(
            capped.retry_at(39, now),
            Some(now + Duration::from_secs(3600))
        );
    }

    fn reader(language: Language) -> Recipient {
        Recipient {
            name: "Chan Tai Man".into(),
            email: Some("tm@example.com".into()),
            language,
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
        let (subject, body) = render(
            "credentials.temporary_password",
            &payload,
            &reader(Language::En),
            None,
        )
        .unwrap();
        assert_eq!(subject, "Your temporary library Password");
        assert!(body.contains("Dear Chan Tai Man"), "{body}");
        assert!(body.contains("    Kite-Lamp-73\n"), "{body}");
        assert!(
            body.contains("until 2021-03-06 07:30 (Hong Kong time)"),
            "{body}"
        );
        let (subject, body) = render(
            "credentials.temporary_password",
            &payload,
            &reader(Language::ZhHant),
            None,
        )
        .unwrap();
        assert_eq!(subject, "您的圖書館臨時密碼");
        assert!(body.contains("Kite-Lamp-73"), "{body}");
        assert!(
            body.contains("有效期至 2021-03-06 07:30（香港時間）"),
            "{body}"
        );
    }

    #[test]
    fn a_hold_mail_names_the_title_the_library_and_the_last_day() {
        let payload = serde_json::json!({
            "hold_id": 7, "title_id": 3, "item_id": 11,
            "pickup_library": "KLNPL", "pickup_by": "2021-03-12",
        });
        let (subject, body) = render(
            "hold.waiting",
            &payload,
            &reader(Language::En),
            Some("The Silent River"),
        )
        .unwrap();
        assert_eq!(subject, "Ready for pickup: The Silent River");
        assert!(
            body.contains("at library KLNPL, until 2021-03-12"),
            "{body}"
        );
        let (subject, body) = render(
            "hold.waiting",
            &payload,
            &reader(Language::ZhHant),
            Some("寧靜的海港"),
        )
        .unwrap();
        assert_eq!(subject, "預約資料已可領取：寧靜的海港");
        assert!(body.contains("請於 2021-03-12 或之前領取"), "{body}");
    }

    #[test]
    fn every_queued_kind_has_a_template_in_both_languages() {
        let payload = serde_json::json!({
            "old_email": "old@example.com", "new_email": "new@example.com",
            "title": "Storytelling for Children", "starts_at": "2021-03-06T02:30:00Z",
        });
        for kind in [
            "credentials.password_changed",
            "credentials.pin_changed",
            "credentials.password_reset_by_staff",
            "settings.email_changed",
            "activity.cancelled",
        ] {
            for language in [Language::En, Language::ZhHant] {
                let (subject, body) = render(kind, &payload, &reader(language), None)
                    .unwrap_or_else(|e| panic!("{kind} {language:?}: {e}"));
                assert!(
                    !subject.is_empty() && body.contains("Chan Tai Man"),
                    "{kind}"
                );
            }
        }
        let (_, body) =
            render("activity.cancelled", &payload, &reader(Language::En), None).unwrap();
        // 02:30 UTC is 10:30 in Hong Kong.
        assert!(body.contains("    2021-03-06 10:30\n"), "{body}");
        let (_, body) = render(
            "settings.email_changed",
            &payload,
            &reader(Language::ZhHant),
            None,
        )
        .unwrap();
        assert!(body.contains("更改為 new@example.com"), "{body}");
        let removed = serde_json::json!({"old_email": "old@example.com", "new_email": null});
        let (_, body) = render(
            "settings.email_changed",
            &removed,
            &reader(Language::En),
            None,
        )
        .unwrap();
        assert!(
            body.contains("was removed: this address no longer"),
            "{body}"
        );
        assert!(!body.contains(" to ."), "{body}");
    }

    #[test]
    fn a_kind_without_a_template_or_a_payload_without_its_fields_is_refused() {
        let to = reader(Language::En);
        assert!(render("loan.due_soon", &serde_json::json!({}), &to, None).is_err());
        assert!(
            render(
                "credentials.temporary_password",
                &serde_json::json!({"email": "tm@example.com"}),
                &to,
                None
            )
            .is_err()
        );
    }
}
