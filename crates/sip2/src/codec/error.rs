//! Why a message could not be parsed.

/// Why bytes are not a SIP2 message we understand. Every variant is an answerable
/// condition: the server replies `96` (request SC resend), except for
/// [`CodecError::LineTooLong`], after which it closes the connection.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodecError {
    /// Nothing but terminators and blanks.
    #[error("empty message")]
    Empty,
    /// Longer than [`super::MAX_MESSAGE_LEN`]; refused before any other work.
    #[error("message of {len} bytes exceeds the limit of {max} bytes")]
    LineTooLong {
        /// Bytes received.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A control byte (below 0x20, or 0x7F) inside the message: a binary frame such as a
    /// TLS ClientHello, or a line that was not split at its terminator.
    #[error("invalid byte 0x{byte:02X} at offset {offset}")]
    InvalidCharacter {
        /// Offset in the bytes given to the parser.
        offset: usize,
        /// The byte.
        byte: u8,
    },
    /// A control character in a variable field's value once decoded: a C1 control
    /// (U+0080–U+009F), which both charsets can carry (`0xC2 0x85` in UTF-8, `0x85` in
    /// Latin-1) although no field means one. Refused like a control byte, so it never
    /// reaches a store.
    #[error("control character U+{:04X} at offset {offset}", u32::from(*character))]
    ControlCharacter {
        /// Offset in the bytes given to the parser.
        offset: usize,
        /// The character.
        character: char,
    },
    /// A variable field is not valid UTF-8 (with [`super::Charset::Utf8`]).
    #[error("invalid UTF-8 at offset {offset}")]
    InvalidUtf8 {
        /// Offset in the bytes given to the parser.
        offset: usize,
    },
    /// The first two bytes are not a command code this codec knows.
    #[error("unknown command {code:?}")]
    UnknownCommand {
        /// The first two bytes, lossily decoded.
        code: String,
    },
    /// Shorter than the fixed part of its message.
    #[error("message {command} needs {expected} bytes of command and fixed fields, got {actual}")]
    TooShort {
        /// Command code.
        command: &'static str,
        /// Length of command code plus fixed fields.
        expected: usize,
        /// Length received (without the error-detection trailer).
        actual: usize,
    },
    /// A fixed-position field holds a value outside its alphabet (a flag that is not `Y`/`N`,
    /// a count that is not digits, a non-ASCII byte).
    #[error("message {command}: fixed field {field} is invalid: {found:?}")]
    BadFixedField {
        /// Command code.
        command: &'static str,
        /// Field name as in the SIP2 specification.
        field: &'static str,
        /// What was there, lossily decoded.
        found: String,
    },
    /// An 18-character date that is neither blank nor `YYYYMMDDZZZZHHMMSS` with a real
    /// calendar date and time and a blank or military zone.
    #[error("message {command}: date field {field} is invalid: {found:?}")]
    BadDate {
        /// Command code.
        command: &'static str,
        /// Field name as in the SIP2 specification.
        field: &'static str,
        /// What was there, lossily decoded.
        found: String,
    },
    /// A variable field whose identifier is not two ASCII letters or digits.
    #[error("malformed variable field at offset {offset}")]
    MalformedField {
        /// Offset in the bytes given to the parser.
        offset: usize,
    },
    /// The `AZ` checksum does not match the bytes.
    #[error("bad checksum: the message sums to {expected:04X}, its AZ says {found:04X}")]
    BadChecksum {
        /// The checksum of the bytes received.
        expected: u16,
        /// The checksum in the `AZ` field.
        found: u16,
    },
}
