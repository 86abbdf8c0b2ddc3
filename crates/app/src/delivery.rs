//! Delivering the outbox: the messages the flows queue (a temporary password, a hold ready
//! for pickup, a reminder, ...) rendered in the reader's language ([`crate::templates`]) and
//! sent on the channels the reader chose: by mail through a [`MailTransport`] (SMTP, or the
//! log when no SMTP server is configured) and by SMS through an [`SmsTransport`] (an HTTP
//! gateway, or the log). A reader with neither channel (or no address for it) is sent
//! nothing, and the row says why.
//!
//! At least once, and in practice exactly once: a run claims a batch of due messages with a
//! lease (on PostgreSQL `FOR UPDATE SKIP LOCKED`, on SQLite under the write lock), so two
//! server processes never hold the same message; each is sent, then marked sent. A message
//! that fails for a reason that may pass (the SMTP server down) is retried with exponential
//! backoff ([`DeliveryPolicy::retry_at`]); after [`DeliveryPolicy::max_attempts`], or at
//! once for a reason that will not pass (no address, a kind with no template), it is given
//! up with the reason kept. A process that dies between sending and marking sends that one
//! message again when its lease ends: at least once.

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use library_core::{LoanId, PatronId, TitleId};
use library_credentials::PortError;
use library_reader_services::{Channel, Language};
use time::format_description::well_known::{Iso8601, Rfc3339};
use time::{Date, OffsetDateTime};

use crate::metrics::SendResult;
use crate::notices::{ReminderKind, kind};
use crate::secrets::SecretBox;
use crate::services::{JobRunner, Services};
use crate::templates::{Addressee, Names, render};

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

/// An SMS ready to send.
#[derive(Clone, PartialEq, Eq)]
pub struct OutgoingSms {
    /// The mobile number it goes to.
    pub to: String,
    /// The text.
    pub text: String,
}

impl std::fmt::Debug for OutgoingSms {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutgoingSms")
            .field("to", &self.to)
            .finish_non_exhaustive()
    }
}

/// Why a mail or an SMS was not sent.
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

/// Where SMS go: a gateway, or the log.
#[async_trait]
pub trait SmsTransport: Send + Sync {
    /// Sends `sms`.
    async fn send(&self, sms: &OutgoingSms) -> Result<(), DeliveryError>;
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
    /// The channels it went by already (`email`, `sms`): not sent on them again.
    pub channels: Vec<String>,
}

/// A failed attempt as the outbox records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Failure<'a> {
    /// Failed attempts in all, this one included.
    pub attempts: u32,
    /// Why.
    pub reason: &'a str,
    /// The next try; `None`: given up.
    pub retry_at: Option<OffsetDateTime>,
    /// The channels it went by so far.
    pub channels: &'a [&'a str],
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
    /// Marks message `id` sent at `at` on `channels` (and forgets what it held that the
    /// sending needed).
    async fn sent(&self, id: i64, at: OffsetDateTime, channels: &[&str]) -> Result<(), PortError>;
    /// Records a failed attempt: retried from `failure.retry_at`, or given up at `now`.
    async fn failed(
        &self,
        id: i64,
        failure: Failure<'_>,
        now: OffsetDateTime,
    ) -> Result<(), PortError>;
    /// Deletes the messages sent before `before`; how many.
    async fn purge_sent(&self, before: OffsetDateTime) -> Result<u64, PortError>;
    /// Gives up the unsent messages whose `expires_at` has passed at `now` (a temporary
    /// password never sent), wiping their secrets; how many.
    async fn expire(&self, now: OffsetDateTime) -> Result<u64, PortError>;
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
    /// Messages of a batch in flight at once: an SMTP exchange or a gateway request is
    /// mostly waiting for the other side, so several overlap.
    pub concurrency: usize,
}

impl Default for DeliveryPolicy {
    /// 50 per round, 8 in flight, a 2-minute lease, 8 attempts (30 s, 1, 2, 4, 8, 16,
    /// 32 min, then given up), sent messages kept 30 days.
    fn default() -> Self {
        DeliveryPolicy {
            batch: 50,
            lease: Duration::from_secs(120),
            max_attempts: 8,
            first_retry: Duration::from_secs(30),
            max_retry: Duration::from_secs(3600),
            keep_sent: Duration::from_secs(30 * 24 * 3600),
            concurrency: 8,
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
    /// Messages given up unsent because their time passed.
    pub expired: u64,
}

impl DeliveryReport {
    /// Counts one message whose delivery ended as `result`.
    fn count(&mut self, result: SendResult) {
        match result {
            SendResult::Sent => self.sent += 1,
            SendResult::Retried => self.retried += 1,
            SendResult::GivenUp => self.given_up += 1,
            SendResult::Expired => self.expired += 1,
        }
    }
}

/// Who a message goes to: the addresses of the channels the reader chose, and the language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    /// The reader's name.
    pub name: String,
    /// The address, when the reader receives notices by email and has one.
    pub email: Option<String>,
    /// The mobile number, when the reader receives notices by SMS and has one.
    pub sms: Option<String>,
    /// The language of the reader's settings.
    pub language: Language,
}

/// A channel's code as the outbox records it.
const fn channel_code(channel: Channel) -> &'static str {
    match channel {
        Channel::Email => "email",
        Channel::Sms => "sms",
    }
}

/// The outbox sender: one round claims, renders, sends and marks a batch of messages.
#[derive(Clone)]
pub struct Sender {
    services: Services,
    outbox: std::sync::Arc<dyn Outbox>,
    mail: std::sync::Arc<dyn MailTransport>,
    sms: std::sync::Arc<dyn SmsTransport>,
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
    /// Sent on these channels.
    Sent(Vec<&'static str>),
    /// Not sent (on all of its channels): retried or given up, with the channels it did go
    /// by meanwhile.
    Failed {
        reason: String,
        retry: bool,
        done: Vec<&'static str>,
    },
}

impl Outcome {
    fn give_up(reason: impl Into<String>) -> Result<Outcome, PortError> {
        Ok(Outcome::Failed {
            reason: reason.into(),
            retry: false,
            done: Vec::new(),
        })
    }
}

/// The names of the libraries, by code: English and Traditional Chinese (may be empty).
type LibraryNames = HashMap<String, (String, String)>;

impl Sender {
    /// The sender of `outbox` through `mail` and `sms`, reading readers through `services`
    /// and opening sealed secrets with `secrets`.
    pub fn new(
        services: Services,
        outbox: std::sync::Arc<dyn Outbox>,
        mail: std::sync::Arc<dyn MailTransport>,
        sms: std::sync::Arc<dyn SmsTransport>,
        secrets: SecretBox,
        policy: DeliveryPolicy,
    ) -> Self {
        Sender {
            services,
            outbox,
            mail,
            sms,
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
        let sms = settings
            .channels
            .contains(&Channel::Sms)
            .then(|| settings.sms_number.map(|n| n.as_str().to_owned()))
            .flatten();
        Ok(Some(Recipient {
            name: profile.name,
            email,
            sms,
            language: settings.language,
        }))
    }

    /// The title and library the payload names, in `language`.
    async fn names(
        &self,
        payload: &serde_json::Value,
        language: Language,
        libraries: &LibraryNames,
    ) -> Result<Names, PortError> {
        let title = match payload["title_id"].as_i64() {
            Some(id) => self
                .services
                .catalogue
                .title_name(TitleId(id))
                .await
                .map_err(|e| PortError::Failed(format!("read title: {e}")))?,
            None => None,
        };
        let library = payload["library"]
            .as_str()
            .or_else(|| payload["pickup_library"].as_str())
            .and_then(|code| libraries.get(code))
            .map(|(en, zh)| match language {
                Language::ZhHant if !zh.is_empty() => zh.clone(),
                _ => en.clone(),
            });
        Ok(Names { title, library })
    }

    /// Renders and sends one message on each of its channels not yet done.
    async fn deliver(
        &self,
        message: &QueuedMessage,
        libraries: &LibraryNames,
    ) -> Result<Outcome, PortError> {
        let Ok(mut payload) = serde_json::from_str::<serde_json::Value>(&message.payload) else {
            return Outcome::give_up("the payload is not JSON");
        };
        // A temporary password: opened only here, in memory; never sent after it expired.
        if let Some(sealed) = payload["sealed_password"].as_str() {
            let Some(password) = self.secrets.open(sealed) else {
                return Outcome::give_up("the sealed secret does not open under this key");
            };
            let expired = payload["expires_at"]
                .as_str()
                .and_then(|t| OffsetDateTime::parse(t, &Rfc3339).ok())
                .is_none_or(|at| at <= self.services.clock.now());
            if expired {
                return Outcome::give_up("the temporary password expired before it was sent");
            }
            payload["temporary_password"] = serde_json::Value::String(password);
        }
        // A reminder about a loan returned or renewed since it was queued is not sent.
        if ReminderKind::of_kind(&message.kind).is_some() {
            let loan = payload["loan_id"].as_i64().map(LoanId);
            let due_on = payload["due_on"]
                .as_str()
                .and_then(|d| Date::parse(d, &Iso8601::DATE).ok());
            let (Some(loan), Some(due_on)) = (loan, due_on) else {
                return Outcome::give_up("the payload names no loan");
            };
            if !self.services.reminders.still_due(loan, due_on).await? {
                return Outcome::give_up("the loan was returned or renewed before it was sent");
            }
        }
        let Some(patron) = message.patron else {
            return Outcome::give_up("no reader");
        };
        let Some(mut to) = self.recipient(patron).await? else {
            return Outcome::give_up("no such reader");
        };
        // A temporary password goes to the address it was asked for, and an email change
        // to the address it replaced, whatever the channels; by mail only.
        let address_field = match message.kind.as_str() {
            kind::TEMPORARY_PASSWORD => Some("email"),
            kind::EMAIL_CHANGED => Some("old_email"),
            _ => None,
        };
        if let Some(field) = address_field {
            to.email = payload[field].as_str().map(str::to_owned);
            to.sms = None;
        }
        if to.email.is_none() && to.sms.is_none() {
            return Outcome::give_up(
                "the reader receives notices by neither email nor SMS (no channel chosen, or \
                 no address for it)",
            );
        }
        let names = self.names(&payload, to.language, libraries).await?;
        let addressee = Addressee {
            name: to.name.clone(),
            language: to.language,
        };
        let rendered = match render(&message.kind, &payload, &addressee, &names) {
            Ok(rendered) => rendered,
            Err(e) => return Outcome::give_up(e.to_string()),
        };
        let mut done: Vec<&'static str> = message
            .channels
            .iter()
            .filter_map(|c| match c.as_str() {
                "email" => Some(channel_code(Channel::Email)),
                "sms" => Some(channel_code(Channel::Sms)),
                _ => None,
            })
            .collect();
        let mut temporary = None;
        let mut permanent = None;
        for channel in [Channel::Email, Channel::Sms] {
            let code = channel_code(channel);
            if done.contains(&code) {
                continue;
            }
            let result = match channel {
                Channel::Email => match &to.email {
                    Some(address) => {
                        self.mail
                            .send(&OutgoingMail {
                                to: address.clone(),
                                subject: rendered.subject.clone(),
                                body: rendered.body.clone(),
                            })
                            .await
                    }
                    None => continue,
                },
                Channel::Sms => match (&to.sms, &rendered.sms) {
                    (Some(number), Some(text)) => {
                        self.sms
                            .send(&OutgoingSms {
                                to: number.clone(),
                                text: text.clone(),
                            })
                            .await
                    }
                    (Some(_), None) if to.email.is_none() => Err(DeliveryError::Permanent(
                        "this kind of message goes by email only".into(),
                    )),
                    _ => continue,
                },
            };
            match result {
                Ok(()) => done.push(code),
                Err(DeliveryError::Temporary(reason)) => {
                    temporary.get_or_insert(format!("{code}: {reason}"));
                }
                Err(DeliveryError::Permanent(reason)) => {
                    permanent.get_or_insert(format!("{code}: {reason}"));
                }
            }
        }
        Ok(match (temporary, permanent) {
            (Some(reason), _) => Outcome::Failed {
                reason,
                retry: true,
                done,
            },
            // Refused for good on one channel, sent on another: sent.
            (None, Some(reason)) if done.is_empty() => Outcome::Failed {
                reason,
                retry: false,
                done,
            },
            _ => Outcome::Sent(done),
        })
    }

    /// The libraries' names by code, read once per round.
    async fn library_names(&self) -> Result<LibraryNames, PortError> {
        Ok(self
            .services
            .libraries
            .list()
            .await
            .map_err(|e| PortError::Failed(format!("read libraries: {e}")))?
            .into_iter()
            .map(|l| {
                (
                    l.info.code.as_str().to_owned(),
                    (l.info.name, l.info.name_zh),
                )
            })
            .collect())
    }

    /// Delivers one claimed message and records how it went.
    async fn handle(
        &self,
        message: QueuedMessage,
        libraries: &LibraryNames,
    ) -> Result<SendResult, PortError> {
        match self.deliver(&message, libraries).await? {
            Outcome::Sent(channels) => {
                self.outbox
                    .sent(message.id, self.services.clock.now(), &channels)
                    .await?;
                Ok(SendResult::Sent)
            }
            Outcome::Failed {
                reason,
                retry,
                done,
            } => {
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
                    .failed(
                        message.id,
                        Failure {
                            attempts,
                            reason: &reason,
                            retry_at,
                            channels: &done,
                        },
                        now,
                    )
                    .await?;
                Ok(if retry_at.is_some() {
                    SendResult::Retried
                } else {
                    SendResult::GivenUp
                })
            }
        }
    }

    /// One round: claims due messages until none is left and delivers each batch with
    /// [`DeliveryPolicy::concurrency`] messages in flight, each marked as it goes; then
    /// purges the sent messages older than the policy keeps them, and gives up the unsent
    /// ones whose time has passed (a temporary password that expired unsent).
    pub async fn run_once(&self) -> Result<DeliveryReport, PortError> {
        let mut report = DeliveryReport::default();
        let mut libraries: Option<std::sync::Arc<LibraryNames>> = None;
        let mut first_error = None;
        loop {
            let now = self.services.clock.now();
            let batch = self
                .outbox
                .claim(now, self.policy.lease, self.policy.batch)
                .await?;
            if batch.is_empty() {
                break;
            }
            let names = match &libraries {
                Some(names) => names.clone(),
                None => libraries
                    .insert(std::sync::Arc::new(self.library_names().await?))
                    .clone(),
            };
            let full = batch.len() >= self.policy.batch as usize;
            let mut in_flight = tokio::task::JoinSet::new();
            let metrics = &self.services.metrics;
            let mut tally =
                |done: Option<Result<Result<SendResult, PortError>, tokio::task::JoinError>>| {
                    match done {
                        Some(Ok(Ok(result))) => {
                            report.count(result);
                            metrics.record_send(result, 1);
                        }
                        // The message stays claimed until its lease ends, then is tried again.
                        Some(Ok(Err(err))) => {
                            first_error.get_or_insert(err);
                        }
                        Some(Err(err)) => {
                            first_error.get_or_insert(PortError::Failed(format!(
                                "a delivery task ended abnormally: {err}"
                            )));
                        }
                        None => {}
                    }
                };
            for message in batch {
                while in_flight.len() >= self.policy.concurrency.max(1) {
                    tally(in_flight.join_next().await);
                }
                let sender = self.clone();
                let names = names.clone();
                in_flight.spawn(async move { sender.handle(message, &names).await });
            }
            while !in_flight.is_empty() {
                tally(in_flight.join_next().await);
            }
            if first_error.is_some() || !full {
                break;
            }
        }
        if let Some(err) = first_error {
            return Err(err);
        }
        let now = self.services.clock.now();
        self.outbox.purge_sent(now - self.policy.keep_sent).await?;
        report.expired = self.outbox.expire(now).await?;
        self.services
            .metrics
            .record_send(SendResult::Expired, report.expired);
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
                expired = report.expired,
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
}
