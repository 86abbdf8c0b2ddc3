//! Framing and error detection: terminators, the optional `AY<seq>AZ<checksum>` trailer.

use super::CodecError;

/// Longest line accepted, terminator included. Real messages are far shorter (a value is
/// at most 255 characters); anything longer is an attack or a broken client.
pub const MAX_MESSAGE_LEN: usize = 4096;

/// The SIP2 checksum of `bytes` (everything from the command code through `AZ`): the two's
/// complement of their 16-bit sum, so that sum + checksum ≡ 0 (mod 2^16). Written as 4
/// upper-case hex digits.
pub fn checksum(bytes: &[u8]) -> u16 {
    bytes
        .iter()
        .fold(0u16, |sum, &b| sum.wrapping_add(u16::from(b)))
        .wrapping_neg()
}

/// One message with its terminator and trailer removed.
#[derive(Debug)]
pub(crate) struct Frame<'a> {
    /// Command code, fixed and variable fields.
    pub body: &'a [u8],
    /// Offset of `body` in the input, for error positions.
    pub offset: usize,
    pub sequence: Option<u8>,
    pub checksum: Option<u16>,
}

/// Strips blanks and line ends around the message (a CRLF client leaves a LF in front of the
/// next message when the reader splits at CR; Koha strips the same way), then detects and
/// verifies the trailer.
///
/// The trailer is auto-detected per message, as Koha does: `AZ` followed by 1 to 4 hex
/// digits at the very end (the Python `Sip2` client writes `%X` without zero padding;
/// lower-case digits are accepted too), optionally preceded by `AY` and one digit; or `AY`
/// and one digit alone at the end. `AZ` without `AY` is accepted.
pub(crate) fn unframe(input: &[u8]) -> Result<Frame<'_>, CodecError> {
    if input.len() > MAX_MESSAGE_LEN {
        return Err(CodecError::LineTooLong {
            len: input.len(),
            max: MAX_MESSAGE_LEN,
        });
    }
    let start = input
        .iter()
        .position(|b| !matches!(b, b'\r' | b'\n' | b'\0' | b' ' | b'\t'))
        .ok_or(CodecError::Empty)?;
    let end = input
        .iter()
        .rposition(|b| !matches!(b, b'\r' | b'\n' | b'\0'))
        .map_or(start, |i| i + 1);
    let mut body = &input[start..end];

    let mut checksum_found = None;
    if let Some((prefix, value)) = split_checksum(body) {
        let expected = self::checksum(prefix);
        if expected != value {
            return Err(CodecError::BadChecksum {
                expected,
                found: value,
            });
        }
        checksum_found = Some(value);
        body = &prefix[..prefix.len() - 2];
    }
    let mut sequence = None;
    if let [rest @ .., b'A', b'Y', digit] = body
        && digit.is_ascii_digit()
    {
        sequence = Some(digit - b'0');
        body = rest;
    }
    Ok(Frame {
        body,
        offset: start,
        sequence,
        checksum: checksum_found,
    })
}

/// `(everything through "AZ", checksum value)` if `body` ends with `AZ` + 1..=4 hex digits.
fn split_checksum(body: &[u8]) -> Option<(&[u8], u16)> {
    (1..=4).rev().find_map(|digits| {
        let hex_start = body.len().checked_sub(digits)?;
        let az_start = hex_start.checked_sub(2)?;
        if &body[az_start..hex_start] != b"AZ" {
            return None;
        }
        let hex = &body[hex_start..];
        if !hex.iter().all(u8::is_ascii_hexdigit) {
            return None;
        }
        let text = std::str::from_utf8(hex).ok()?;
        let value = u16::from_str_radix(text, 16).ok()?;
        Some((&body[..hex_start], value))
    })
}

/// Appends the trailer and the CR terminator to a formatted message.
pub(crate) fn finish(mut buf: Vec<u8>, sequence: Option<u8>, with_checksum: bool) -> Vec<u8> {
    if let Some(seq) = sequence {
        buf.extend_from_slice(b"AY");
        buf.push(b'0' + seq % 10);
    }
    if with_checksum {
        buf.extend_from_slice(b"AZ");
        let sum = checksum(&buf);
        buf.extend_from_slice(format!("{sum:04X}").as_bytes());
    }
    buf.push(b'\r');
    buf
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksum_of_reference_vectors() {
        // The checksum vectors of docs/sip2.md (Framing and checksum).
        for (prefix, sum) in [
            ("9900802.00AY1AZ", 0xFCA0),
            ("941AY0AZ", 0xFDFD),
            ("96AZ", 0xFEF6),
            ("97AZ", 0xFEF5),
            ("9300CNsc_user|COsc_pass|CPMAIN|AY0AZ", 0xF3A0),
        ] {
            assert_eq!(checksum(prefix.as_bytes()), sum, "{prefix}");
        }
    }

    #[test]
    fn checksum_of_nothing_is_zero() {
        assert_eq!(checksum(b""), 0);
    }

    #[test]
    fn finish_appends_trailer_and_cr() {
        assert_eq!(finish(b"941".to_vec(), Some(0), true), b"941AY0AZFDFD\r");
        assert_eq!(finish(b"96".to_vec(), None, true), b"96AZFEF6\r");
        assert_eq!(finish(b"941".to_vec(), Some(13), false), b"941AY3\r");
        assert_eq!(finish(b"940".to_vec(), None, false), b"940\r");
    }

    #[test]
    fn unframe_detects_trailers() {
        let f = unframe(b"9900802.00AY1AZFCA0\r").unwrap();
        assert_eq!(
            (f.body, f.sequence, f.checksum),
            (&b"9900802.00"[..], Some(1), Some(0xFCA0))
        );
        let f = unframe(b"\n97AZfef5\r\n").unwrap();
        assert_eq!(
            (f.body, f.sequence, f.checksum),
            (&b"97"[..], None, Some(0xFEF5))
        );
        let f = unframe(b"941AY7").unwrap();
        assert_eq!(
            (f.body, f.sequence, f.checksum),
            (&b"941"[..], Some(7), None)
        );
        assert_eq!(f.offset, 0);
        assert!(matches!(unframe(b" \r\n\0"), Err(CodecError::Empty)));
    }

    #[test]
    fn unframe_accepts_short_unpadded_checksums() {
        // The Python Sip2 client writes `%X`: a checksum below 0x1000 has 3 digits.
        let mut msg = b"63001".to_vec();
        msg.resize(1000, b'x');
        while checksum(&[&msg[..], b"AY1AZ"].concat()) >= 0x1000 {
            msg.push(b'x');
        }
        msg.extend_from_slice(b"AY1AZ");
        let sum = checksum(&msg);
        let text = format!("{sum:X}");
        assert_eq!(text.len(), 3);
        msg.extend_from_slice(text.as_bytes());
        let f = unframe(&msg).unwrap();
        assert_eq!(f.checksum, Some(sum));
        assert_eq!(f.sequence, Some(1));
    }
}
