//! Where the outbox's mail goes (`library_app::MailTransport`):
//! - [`SmtpMail`]: an SMTP server named by a URL (`smtp://[user:pass@]host:port` plain or,
//!   with `?tls=required`, STARTTLS; `smtps://…` implicit TLS), with a timeout;
//! - [`LogMail`]: no server configured: each message is logged (address and subject, never
//!   the body, which may hold a secret) and counts as sent, so a server started without
//!   mail settings still works.
//!
//! And where SMS go ([`sms`]): an HTTP gateway ([`HttpSms`]) or the log ([`LogSms`]).

pub mod sms;

pub use sms::{HttpSms, LogSms, SmsConfigError};

use std::time::Duration;

use async_trait::async_trait;
use lettre::message::Mailbox;
use lettre::message::header::ContentType;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use library_app::{DeliveryError, MailTransport, OutgoingMail};

/// How long one SMTP exchange may take.
pub const SMTP_TIMEOUT: Duration = Duration::from_secs(20);

/// Why the mail settings are unusable.
#[derive(Debug, thiserror::Error)]
pub enum MailConfigError {
    /// The sender address does not parse.
    #[error("LIBRARY_MAIL_FROM {0:?} is not an email address")]
    From(String),
    /// The SMTP URL does not parse.
    #[error("LIBRARY_SMTP_URL is not a usable SMTP URL: {0}")]
    Url(String),
}

/// Mail through an SMTP server.
#[derive(Clone)]
pub struct SmtpMail {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl std::fmt::Debug for SmtpMail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may hold a password: not shown.
        f.debug_struct("SmtpMail")
            .field("from", &self.from.to_string())
            .finish_non_exhaustive()
    }
}

impl SmtpMail {
    /// Mail through the server at `url`, from `from`.
    pub fn new(url: &str, from: &str) -> Result<Self, MailConfigError> {
        let from: Mailbox = from
            .parse()
            .map_err(|_| MailConfigError::From(from.to_owned()))?;
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| MailConfigError::Url(e.to_string()))?
            .timeout(Some(SMTP_TIMEOUT))
            .build();
        Ok(SmtpMail { transport, from })
    }
}

#[async_trait]
impl MailTransport for SmtpMail {
    async fn send(&self, mail: &OutgoingMail) -> Result<(), DeliveryError> {
        let to: Mailbox = mail
            .to
            .parse()
            .map_err(|_| DeliveryError::Permanent(format!("not an address: {:?}", mail.to)))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(mail.subject.clone())
            .header(ContentType::TEXT_PLAIN)
            .body(mail.body.clone())
            .map_err(|e| DeliveryError::Permanent(format!("cannot build the mail: {e}")))?;
        match self.transport.send(message).await {
            Ok(_) => Ok(()),
            Err(e) if e.is_permanent() => Err(DeliveryError::Permanent(e.to_string())),
            Err(e) => Err(DeliveryError::Temporary(e.to_string())),
        }
    }
}

/// Mail written to the log instead of sent (no SMTP server configured).
#[derive(Debug, Clone, Copy, Default)]
pub struct LogMail;

#[async_trait]
impl MailTransport for LogMail {
    async fn send(&self, mail: &OutgoingMail) -> Result<(), DeliveryError> {
        tracing::info!(
            to = %mail.to,
            subject = %mail.subject,
            "mail not sent (no LIBRARY_SMTP_URL): logged without its body"
        );
        Ok(())
    }
}
