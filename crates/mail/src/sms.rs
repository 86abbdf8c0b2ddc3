//! Where SMS go (`library_app::SmsTransport`):
//! - [`HttpSms`]: an HTTP gateway, the common shape: a form-encoded `POST` of `to` (the
//!   number without its spaces and hyphens: `+852 9123-4567` → `+85291234567`), `text`
//!   (and `from` when a sender name is set) to the gateway's URL, with the token as
//!   `Authorization: Bearer …`. A 2xx answer is sent; 408, 429, 5xx and a network failure
//!   are retried; any other answer is a refusal for good.
//! - [`LogSms`]: no gateway configured: each SMS is logged (number only, never the text)
//!   and counts as sent.

use std::time::Duration;

use async_trait::async_trait;
use library_app::{DeliveryError, OutgoingSms, SmsTransport};

/// How long one request to the gateway may take.
pub const SMS_TIMEOUT: Duration = Duration::from_secs(15);

/// Why the SMS settings are unusable.
#[derive(Debug, thiserror::Error)]
pub enum SmsConfigError {
    /// The gateway URL is not an `http://` or `https://` URL.
    #[error("LIBRARY_SMS_URL is not an http:// or https:// URL")]
    Url,
    /// The HTTP client could not be built.
    #[error("the SMS gateway client: {0}")]
    Client(String),
}

/// SMS through an HTTP gateway.
#[derive(Clone)]
pub struct HttpSms {
    client: reqwest::Client,
    url: reqwest::Url,
    token: Option<String>,
    from: Option<String>,
}

impl std::fmt::Debug for HttpSms {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may carry credentials and the token is one: neither shown.
        f.debug_struct("HttpSms")
            .field("host", &self.url.host_str())
            .field("from", &self.from)
            .finish_non_exhaustive()
    }
}

impl HttpSms {
    /// SMS through the gateway at `url`, authenticated with `token`, sent as `from`.
    pub fn new(url: &str, token: Option<&str>, from: Option<&str>) -> Result<Self, SmsConfigError> {
        let url = reqwest::Url::parse(url).map_err(|_| SmsConfigError::Url)?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(SmsConfigError::Url);
        }
        let client = reqwest::Client::builder()
            .timeout(SMS_TIMEOUT)
            .connect_timeout(SMS_TIMEOUT)
            .build()
            .map_err(|e| SmsConfigError::Client(e.to_string()))?;
        Ok(HttpSms {
            client,
            url,
            token: token.filter(|t| !t.is_empty()).map(str::to_owned),
            from: from.filter(|f| !f.is_empty()).map(str::to_owned),
        })
    }
}

#[async_trait]
impl SmsTransport for HttpSms {
    async fn send(&self, sms: &OutgoingSms) -> Result<(), DeliveryError> {
        let to = gateway_number(&sms.to);
        let mut form = vec![("to", to.as_str()), ("text", sms.text.as_str())];
        if let Some(from) = &self.from {
            form.push(("from", from));
        }
        let mut request = self.client.post(self.url.clone()).form(&form);
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.map_err(|e| {
            // Without the URL: it may carry credentials.
            DeliveryError::Temporary(format!("the SMS gateway: {}", e.without_url()))
        })?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        let reason = format!("the SMS gateway answered {status}");
        if status.is_server_error()
            || status == reqwest::StatusCode::TOO_MANY_REQUESTS
            || status == reqwest::StatusCode::REQUEST_TIMEOUT
        {
            Err(DeliveryError::Temporary(reason))
        } else {
            Err(DeliveryError::Permanent(reason))
        }
    }
}

/// A number as gateways take it: its digits, with the leading `+` if it has one (the
/// settings allow spaces and hyphens between the digits).
fn gateway_number(number: &str) -> String {
    number
        .chars()
        .filter(|c| c.is_ascii_digit() || *c == '+')
        .collect()
}

/// SMS written to the log instead of sent (no gateway configured).
#[derive(Debug, Clone, Copy, Default)]
pub struct LogSms;

#[async_trait]
impl SmsTransport for LogSms {
    async fn send(&self, sms: &OutgoingSms) -> Result<(), DeliveryError> {
        tracing::info!(
            to = %sms.to,
            "SMS not sent (no LIBRARY_SMS_URL): logged without its text"
        );
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::gateway_number;

    #[test]
    fn numbers_reach_the_gateway_without_spaces_or_hyphens() {
        assert_eq!(gateway_number("+852 9123-4567"), "+85291234567");
        assert_eq!(gateway_number("9123 4567"), "91234567");
        assert_eq!(gateway_number("+85291234567"), "+85291234567");
    }
}
