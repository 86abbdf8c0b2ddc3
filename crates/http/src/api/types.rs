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
/// (`21` → `"21"`), which the contract calls wrong types (400). Request bodies and query
/// parameters use this.
///
/// The document states what the server accepts: a `Text` is declared without the control
/// characters the edge refuses (`crate::text`: every `Cc` but TAB, LF and CR), and a field
/// may add its rule with poem-openapi's validators (`#[oai(validator(min_length = 1,
/// max_length = 200, pattern = "…"))]`). Those validators are **declarations only**: a
/// `Text` shows poem-openapi no raw value to check (`as_raw_value` is `None`), so the rule
/// is enforced in one place, by the handler and the domain, which answer 422
/// `validation_failed` with the field's own code and every violation at once, as the
/// contract says. poem-openapi enforcing them would answer 400 with the first one only.
/// The API check (`cargo xtask api-check`) holds the two together: schemathesis sends
/// values inside every declared rule (they must not be refused) and outside it (they must
/// be).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Text(pub(crate) String);

/// Text without the characters the edge refuses (`crate::text::is_refused`): TAB, LF and
/// CR allowed.
pub(crate) const NO_CONTROL: &str =
    "^[^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F-\\u009F]*$";

impl Text {
    pub(crate) fn into_string(self) -> String {
        self.0
    }
}

impl std::ops::Deref for Text {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
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
        let mut schema = poem_openapi::registry::MetaSchema::new("string");
        schema.pattern = Some(NO_CONTROL.to_owned());
        poem_openapi::registry::MetaSchemaRef::Inline(Box::new(schema))
    }

    /// `None`: the validators of a `Text` field are declarations (see [`Text`]).
    fn as_raw_value(&self) -> Option<&Self::RawValueType> {
        None
    }

    fn raw_element_iter<'a>(
        &'a self,
    ) -> Box<dyn Iterator<Item = &'a Self::RawElementValueType> + 'a> {
        Box::new(std::iter::empty())
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

impl poem_openapi::types::ParseFromParameter for Text {
    fn parse_from_parameter(value: &str) -> poem_openapi::types::ParseResult<Self> {
        Ok(Text(value.to_owned()))
    }
}

impl poem_openapi::types::ToJSON for Text {
    fn to_json(&self) -> Option<serde_json::Value> {
        Some(serde_json::Value::String(self.0.clone()))
    }
}

/// A whole number in a body or a query, parsed as poem-openapi parses an `i64` (anything
/// else is 400), whose validators (`minimum`, `maximum`) are declarations only, like a
/// [`Text`]'s: the handler's rule answers 422 with its own code.
pub(crate) type Int = Declared<i64>;

/// A JSON string, strictly (as [`Text`]), declared as any string: for the one field where
/// the server gives the same answer whatever the text holds (the forgotten-Password email:
/// 202 even with a control character, `crate::text`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AnyText(pub(crate) Text);

impl poem_openapi::types::Type for AnyText {
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
        None
    }

    fn raw_element_iter<'a>(
        &'a self,
    ) -> Box<dyn Iterator<Item = &'a Self::RawElementValueType> + 'a> {
        Box::new(std::iter::empty())
    }
}

impl poem_openapi::types::ParseFromJSON for AnyText {
    fn parse_from_json(value: Option<serde_json::Value>) -> poem_openapi::types::ParseResult<Self> {
        Text::parse_from_json(value)
            .map(AnyText)
            .map_err(poem_openapi::types::ParseError::propagate)
    }
}

impl poem_openapi::types::ToJSON for AnyText {
    fn to_json(&self) -> Option<serde_json::Value> {
        self.0.to_json()
    }
}

/// A value whose validators are declarations only, like a [`Text`]'s: for a number whose
/// range, or a list whose length rule (`min_items`, `max_items`), the handler answers 422
/// with its own code (poem-openapi would answer 400 for the first broken rule).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Declared<T>(pub(crate) T);

impl<T> Declared<T> {
    /// The value of an optional parameter or field.
    pub(crate) fn get(value: Option<Self>) -> Option<T> {
        value.map(|v| v.0)
    }
}

impl<T: poem_openapi::types::Type> poem_openapi::types::Type for Declared<T> {
    const IS_REQUIRED: bool = T::IS_REQUIRED;
    type RawValueType = T::RawValueType;
    type RawElementValueType = T::RawElementValueType;

    fn name() -> std::borrow::Cow<'static, str> {
        T::name()
    }

    fn schema_ref() -> poem_openapi::registry::MetaSchemaRef {
        T::schema_ref()
    }

    fn register(registry: &mut poem_openapi::registry::Registry) {
        T::register(registry);
    }

    /// `None`: the validators of a `Declared` value are declarations.
    fn as_raw_value(&self) -> Option<&Self::RawValueType> {
        None
    }

    fn raw_element_iter<'a>(
        &'a self,
    ) -> Box<dyn Iterator<Item = &'a Self::RawElementValueType> + 'a> {
        Box::new(std::iter::empty())
    }
}

impl<T: poem_openapi::types::ParseFromJSON> poem_openapi::types::ParseFromJSON for Declared<T> {
    fn parse_from_json(value: Option<serde_json::Value>) -> poem_openapi::types::ParseResult<Self> {
        T::parse_from_json(value)
            .map(Declared)
            .map_err(poem_openapi::types::ParseError::propagate)
    }
}

impl<T: poem_openapi::types::ParseFromParameter> poem_openapi::types::ParseFromParameter
    for Declared<T>
{
    fn parse_from_parameter(value: &str) -> poem_openapi::types::ParseResult<Self> {
        T::parse_from_parameter(value)
            .map(Declared)
            .map_err(poem_openapi::types::ParseError::propagate)
    }
}

impl<T: poem_openapi::types::ToJSON> poem_openapi::types::ToJSON for Declared<T> {
    fn to_json(&self) -> Option<serde_json::Value> {
        self.0.to_json()
    }
}

/// A field that must be present and may be `null` (`required` and `nullable` in the
/// document): absent is 400, `null` is `None`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct OrNull<T>(pub(crate) Option<T>);

impl<T: poem_openapi::types::Type> poem_openapi::types::Type for OrNull<T> {
    const IS_REQUIRED: bool = true;
    type RawValueType = T::RawValueType;
    type RawElementValueType = T::RawElementValueType;

    fn name() -> std::borrow::Cow<'static, str> {
        format!("or_null_{}", T::name()).into()
    }

    fn schema_ref() -> poem_openapi::registry::MetaSchemaRef {
        let mut nullable = poem_openapi::registry::MetaSchema::ANY;
        nullable.nullable = true;
        T::schema_ref().merge(nullable)
    }

    fn register(registry: &mut poem_openapi::registry::Registry) {
        T::register(registry);
    }

    fn as_raw_value(&self) -> Option<&Self::RawValueType> {
        self.0.as_ref().and_then(T::as_raw_value)
    }

    fn raw_element_iter<'a>(
        &'a self,
    ) -> Box<dyn Iterator<Item = &'a Self::RawElementValueType> + 'a> {
        match &self.0 {
            Some(value) => value.raw_element_iter(),
            None => Box::new(std::iter::empty()),
        }
    }
}

impl<T: poem_openapi::types::ParseFromJSON> poem_openapi::types::ParseFromJSON for OrNull<T> {
    fn parse_from_json(value: Option<serde_json::Value>) -> poem_openapi::types::ParseResult<Self> {
        match value {
            None => Err(poem_openapi::types::ParseError::expected_input()),
            Some(serde_json::Value::Null) => Ok(OrNull(None)),
            Some(value) => T::parse_from_json(Some(value))
                .map(|v| OrNull(Some(v)))
                .map_err(poem_openapi::types::ParseError::propagate),
        }
    }
}

impl<T: poem_openapi::types::ToJSON> poem_openapi::types::ToJSON for OrNull<T> {
    fn to_json(&self) -> Option<serde_json::Value> {
        Some(
            self.0
                .as_ref()
                .and_then(T::to_json)
                .unwrap_or(serde_json::Value::Null),
        )
    }
}
