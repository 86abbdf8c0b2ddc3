//! Reading and writing the two parts of a message body: positional fixed fields, then
//! variable fields (`ID` + value + `|`, in any order on input).

use super::CodecError;
use super::values::{
    Charset, Field, FixedStr, HoldMode, PatronStatus, SipDate, SummaryItem, YesNoUnknown,
};

/// Longest variable-field value written, in characters (SIP2 limit; longer values are cut).
pub const MAX_FIELD_CHARS: usize = 255;

/// The fixed part of a body, read left to right. Its bytes were checked to be printable
/// (no control bytes) by the caller; each reader checks its own alphabet.
#[derive(Debug)]
pub(crate) struct Fixed<'a> {
    body: &'a [u8],
    pos: usize,
    command: &'static str,
}

impl<'a> Fixed<'a> {
    /// Refuses a body shorter than the command code plus `fixed_len` bytes.
    pub fn new(
        body: &'a [u8],
        command: &'static str,
        fixed_len: usize,
    ) -> Result<Self, CodecError> {
        if body.len() < 2 + fixed_len {
            return Err(CodecError::TooShort {
                command,
                expected: 2 + fixed_len,
                actual: body.len(),
            });
        }
        Ok(Self {
            body,
            pos: 2,
            command,
        })
    }

    /// The bytes not read yet (the variable part, once every fixed field is read).
    pub fn rest(&self) -> &'a [u8] {
        &self.body[self.pos..]
    }

    pub fn pos(&self) -> usize {
        self.pos
    }

    pub fn peek(&self, n: usize) -> Option<&'a [u8]> {
        self.body.get(self.pos..self.pos + n)
    }

    pub fn skip(&mut self, n: usize) {
        self.pos = (self.pos + n).min(self.body.len());
    }

    fn take(&mut self, n: usize) -> &'a [u8] {
        // `new` guaranteed the length of all fixed fields; stay total anyway.
        let end = (self.pos + n).min(self.body.len());
        let bytes = &self.body[self.pos..end];
        self.pos = end;
        bytes
    }

    fn bad(&self, field: &'static str, found: &[u8]) -> CodecError {
        CodecError::BadFixedField {
            command: self.command,
            field,
            found: String::from_utf8_lossy(found).into_owned(),
        }
    }

    pub fn text<const N: usize>(&mut self, field: &'static str) -> Result<FixedStr<N>, CodecError> {
        let bytes = self.take(N);
        bytes
            .try_into()
            .ok()
            .and_then(FixedStr::from_bytes)
            .ok_or_else(|| self.bad(field, bytes))
    }

    /// `Y`/`N` (lower case accepted).
    pub fn yes_no(&mut self, field: &'static str) -> Result<bool, CodecError> {
        match self.take(1) {
            [b'Y' | b'y'] => Ok(true),
            [b'N' | b'n'] => Ok(false),
            other => Err(self.bad(field, other)),
        }
    }

    /// `Y`/`N`/`U` (lower case accepted).
    pub fn yes_no_unknown(&mut self, field: &'static str) -> Result<YesNoUnknown, CodecError> {
        match self.take(1) {
            [b'Y' | b'y'] => Ok(YesNoUnknown::Yes),
            [b'N' | b'n'] => Ok(YesNoUnknown::No),
            [b'U' | b'u'] => Ok(YesNoUnknown::Unknown),
            other => Err(self.bad(field, other)),
        }
    }

    /// `1`/`0`.
    pub fn ok(&mut self, field: &'static str) -> Result<bool, CodecError> {
        match self.take(1) {
            [b'1'] => Ok(true),
            [b'0'] => Ok(false),
            other => Err(self.bad(field, other)),
        }
    }

    /// `n` digits.
    pub fn number(&mut self, n: usize, field: &'static str) -> Result<u16, CodecError> {
        let bytes = self.take(n);
        parse_digits(bytes).ok_or_else(|| self.bad(field, bytes))
    }

    /// 4 digits, or 4 blanks for "not supported".
    pub fn count(&mut self, field: &'static str) -> Result<Option<u16>, CodecError> {
        let bytes = self.take(4);
        if bytes == b"    " {
            return Ok(None);
        }
        parse_digits(bytes)
            .map(Some)
            .ok_or_else(|| self.bad(field, bytes))
    }

    /// An 18-character date; blank is `None`.
    pub fn date(&mut self, field: &'static str) -> Result<Option<SipDate>, CodecError> {
        let bytes = self.take(SipDate::LEN);
        SipDate::parse(bytes).map_err(|_| CodecError::BadDate {
            command: self.command,
            field,
            found: String::from_utf8_lossy(bytes).into_owned(),
        })
    }

    /// A date that must not be blank (in responses, which we check strictly).
    pub fn required_date(&mut self, field: &'static str) -> Result<SipDate, CodecError> {
        let start = self.pos;
        self.date(field)?.ok_or_else(|| CodecError::BadDate {
            command: self.command,
            field,
            found: String::from_utf8_lossy(&self.body[start..self.pos]).into_owned(),
        })
    }

    pub fn patron_status(&mut self) -> Result<PatronStatus, CodecError> {
        let bytes = self.take(PatronStatus::LEN);
        PatronStatus::parse(bytes).ok_or_else(|| self.bad("patron status", bytes))
    }

    pub fn summary(&mut self) -> Option<SummaryItem> {
        SummaryItem::parse(self.take(SummaryItem::LEN))
    }
}

fn parse_digits(bytes: &[u8]) -> Option<u16> {
    if bytes.is_empty() || bytes.len() > 4 {
        return None;
    }
    bytes.iter().try_fold(0u16, |acc, &b| {
        b.is_ascii_digit().then(|| acc * 10 + u16::from(b - b'0'))
    })
}

/// The variable fields of a message, consumed by identifier; what is left over becomes
/// [`Field`]s for the caller (unknown identifiers, repeats of non-repeatable fields).
#[derive(Debug)]
pub(crate) struct Vars {
    fields: Vec<Option<Field>>,
}

impl Vars {
    /// Splits at `|`. Empty segments (`||`, trailing `|||`) and blank ones are skipped; the
    /// last field may lack its `|`. A value holding a control character once decoded is
    /// refused. `offset` is where `bytes` start in the caller's input.
    pub fn parse(bytes: &[u8], offset: usize, charset: Charset) -> Result<Self, CodecError> {
        let mut fields = Vec::new();
        let mut start = 0;
        for segment in bytes.split(|&b| b == b'|') {
            let at = offset + start;
            start += segment.len() + 1;
            if segment.iter().all(|&b| b == b' ') {
                continue;
            }
            let [a, b, value @ ..] = segment else {
                return Err(CodecError::MalformedField { offset: at });
            };
            if !a.is_ascii_alphanumeric() || !b.is_ascii_alphanumeric() {
                return Err(CodecError::MalformedField { offset: at });
            }
            let value = charset
                .decode(value)
                .map_err(|bad| CodecError::InvalidUtf8 {
                    offset: at + 2 + bad,
                })?;
            if let Some((index, character)) = value.char_indices().find(|(_, c)| c.is_control()) {
                let on_wire = match charset {
                    Charset::Utf8 => index,
                    Charset::Latin1 => value[..index].chars().count(),
                };
                return Err(CodecError::ControlCharacter {
                    offset: at + 2 + on_wire,
                    character,
                });
            }
            fields.push(Some(Field {
                id: String::from_utf8_lossy(&[*a, *b]).into_owned(),
                value,
            }));
        }
        Ok(Self { fields })
    }

    /// The first `id`, or `None`.
    pub fn optional(&mut self, id: &str) -> Option<String> {
        self.take_if(id, |_| true)
    }

    /// The first `id`, or empty: stations omit required fields (the `sip2` crate sends no
    /// `AO` when unset and no `AP` on checkin), and the adapter decides what empty means.
    pub fn required(&mut self, id: &str) -> String {
        self.optional(id).unwrap_or_default()
    }

    /// Every `id`, in order.
    pub fn repeated(&mut self, id: &str) -> Vec<String> {
        std::iter::from_fn(|| self.optional(id)).collect()
    }

    /// The first `id` that is `Y` or `N`; any other value is left for the extras.
    pub fn flag(&mut self, id: &str) -> Option<bool> {
        self.take_if(id, |v| matches!(v, "Y" | "N" | "y" | "n"))
            .map(|v| v.eq_ignore_ascii_case("Y"))
    }

    /// The first `id` that is a number of 1 to 4 digits; anything else is left for the
    /// extras.
    pub fn number(&mut self, id: &str) -> Option<u16> {
        self.take_if(id, |v| parse_digits(v.as_bytes()).is_some())
            .and_then(|v| parse_digits(v.as_bytes()))
    }

    fn take_if(&mut self, id: &str, accept: impl Fn(&str) -> bool) -> Option<String> {
        let slot = self.fields.iter_mut().find(|slot| {
            slot.as_ref()
                .is_some_and(|f| f.id == id && accept(&f.value))
        })?;
        slot.take().map(|f| f.value)
    }

    pub fn into_extras(self) -> Vec<Field> {
        self.fields.into_iter().flatten().collect()
    }
}

/// Builds one message. Values are sanitised so a message can never be broken by its
/// content: `|` and control characters become blanks, values are cut at
/// [`MAX_FIELD_CHARS`] characters (Koha escapes `|` as `&#124;`; FOLIO, like us, blanks
/// it).
#[derive(Debug)]
pub(crate) struct Writer {
    buf: Vec<u8>,
    charset: Charset,
}

impl Writer {
    pub fn new(command: &str, charset: Charset) -> Self {
        let mut buf = Vec::with_capacity(128);
        buf.extend_from_slice(command.as_bytes());
        Self { buf, charset }
    }

    pub fn text<const N: usize>(&mut self, value: &FixedStr<N>) -> &mut Self {
        self.buf.extend_from_slice(value.as_str().as_bytes());
        self
    }

    pub fn yes_no(&mut self, value: bool) -> &mut Self {
        self.buf.push(if value { b'Y' } else { b'N' });
        self
    }

    pub fn yes_no_unknown(&mut self, value: YesNoUnknown) -> &mut Self {
        self.buf.push(match value {
            YesNoUnknown::Yes => b'Y',
            YesNoUnknown::No => b'N',
            YesNoUnknown::Unknown => b'U',
        });
        self
    }

    pub fn hold_mode(&mut self, value: HoldMode) -> &mut Self {
        self.buf.push(match value {
            HoldMode::Add => b'+',
            HoldMode::Delete => b'-',
            HoldMode::Change => b'*',
        });
        self
    }

    pub fn ok(&mut self, value: bool) -> &mut Self {
        self.buf.push(if value { b'1' } else { b'0' });
        self
    }

    /// `width` digits, clamped to the largest number that fits.
    pub fn number(&mut self, value: u16, width: usize) -> &mut Self {
        let max = if width >= 4 { 9999 } else { 999 };
        self.buf
            .extend_from_slice(format!("{:0width$}", value.min(max)).as_bytes());
        self
    }

    pub fn count(&mut self, value: Option<u16>) -> &mut Self {
        match value {
            Some(v) => self.number(v, 4),
            None => {
                self.buf.extend_from_slice(b"    ");
                self
            }
        }
    }

    pub fn date(&mut self, value: Option<&SipDate>) -> &mut Self {
        match value {
            Some(d) => d.write(&mut self.buf),
            None => self.buf.extend_from_slice(&[b' '; SipDate::LEN]),
        }
        self
    }

    pub fn patron_status(&mut self, value: PatronStatus) -> &mut Self {
        value.write(&mut self.buf);
        self
    }

    pub fn summary(&mut self, value: Option<SummaryItem>) -> &mut Self {
        SummaryItem::write(value, &mut self.buf);
        self
    }

    /// A field written even when empty.
    pub fn field(&mut self, id: &str, value: &str) -> &mut Self {
        self.buf.extend_from_slice(id.as_bytes());
        let clean: String = value
            .chars()
            .take(MAX_FIELD_CHARS)
            .map(|c| if c == '|' || c.is_control() { ' ' } else { c })
            .collect();
        self.charset.encode_into(&clean, &mut self.buf);
        self.buf.push(b'|');
        self
    }

    pub fn optional(&mut self, id: &str, value: Option<&String>) -> &mut Self {
        if let Some(v) = value {
            self.field(id, v);
        }
        self
    }

    pub fn repeated(&mut self, id: &str, values: &[String]) -> &mut Self {
        for v in values {
            self.field(id, v);
        }
        self
    }

    pub fn flag(&mut self, id: &str, value: Option<bool>) -> &mut Self {
        if let Some(v) = value {
            self.field(id, if v { "Y" } else { "N" });
        }
        self
    }

    pub fn optional_number(&mut self, id: &str, value: Option<u16>) -> &mut Self {
        if let Some(v) = value {
            self.field(id, &format!("{:04}", v.min(9999)));
        }
        self
    }

    pub fn into_bytes(self) -> Vec<u8> {
        self.buf
    }
}
