//! Request and response bodies shared by several groups.

use library_core::DEFAULT_LIBRARY_OFFSET;
use library_credentials::{IssuedSession, Scope};
use poem_openapi::{ApiResponse, Enum, Object};
use time::OffsetDateTime;

/// A session scope on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "snake_case")]
pub(crate) enum ScopeDto {
    /// Password login.
    Full,
    /// Default or temporary Password: may only change the Password.
    ChangePasswordOnly,
    /// PIN login: may only list loans and renew.
    Pin,
    /// Staff.
    Staff,
}

impl From<Scope> for ScopeDto {
    fn from(scope: Scope) -> Self {
        match scope {
            Scope::Full => ScopeDto::Full,
            Scope::ChangePasswordOnly => ScopeDto::ChangePasswordOnly,
            Scope::Pin => ScopeDto::Pin,
            Scope::Staff => ScopeDto::Staff,
        }
    }
}

/// Instants are shown in the library's time zone (RFC 3339 with offset).
pub(crate) fn local(at: OffsetDateTime) -> OffsetDateTime {
    at.to_offset(DEFAULT_LIBRARY_OFFSET)
}

/// A new reader session.
#[derive(Debug, Clone, Object)]
pub(crate) struct SessionBody {
    /// The bearer token (shown once).
    token: String,
    /// What the session may do.
    scope: ScopeDto,
    /// When it stops working.
    expires_at: OffsetDateTime,
}

impl From<IssuedSession> for SessionBody {
    fn from(issued: IssuedSession) -> Self {
        Self {
            token: issued.token.expose().to_owned(),
            scope: issued.scope.into(),
            expires_at: local(issued.expires_at),
        }
    }
}

/// 204 without a body.
#[derive(ApiResponse)]
pub(crate) enum NoContent {
    /// Done.
    #[oai(status = 204)]
    NoContent,
}

/// A JSON string, strictly: poem-openapi's `String` also accepts numbers and booleans
/// (`21` → `"21"`), which the contract calls wrong types (400). Request bodies use this.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Text(pub(crate) String);

impl Text {
    pub(crate) fn into_string(self) -> String {
        self.0
    }
}

impl poem_openapi::types::Type for Text {
    const IS_REQUIRED: bool = true;
    type RawValueType = String;
    type RawElementValueType = String;

    fn name() -> std::borrow::Cow<'static, str> {
        "string".into()
    }

    fn schema_ref() -> poem_openapi::registry::MetaSchemaRef {
        String::schema_ref()
    }

    fn as_raw_value(&self) -> Option<&Self::RawValueType> {
        Some(&self.0)
    }

    fn raw_element_iter<'a>(
        &'a self,
    ) -> Box<dyn Iterator<Item = &'a Self::RawElementValueType> + 'a> {
        Box::new(self.as_raw_value().into_iter())
    }
}

impl poem_openapi::types::ParseFromJSON for Text {
    fn parse_from_json(value: Option<serde_json::Value>) -> poem_openapi::types::ParseResult<Self> {
        match value {
            Some(serde_json::Value::String(text)) => Ok(Text(text)),
            other => Err(poem_openapi::types::ParseError::expected_type(
                other.unwrap_or_default(),
            )),
        }
    }
}

impl poem_openapi::types::ToJSON for Text {
    fn to_json(&self) -> Option<serde_json::Value> {
        Some(serde_json::Value::String(self.0.clone()))
    }
}
