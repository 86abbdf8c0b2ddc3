//! Splitting a byte stream into lines, with a length limit.

use tokio::io::{AsyncRead, AsyncReadExt};

/// What the next read produced.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Line {
    /// One line, its terminator (CR or LF) included. A CRLF client's LF comes back as a
    /// line of its own, which the caller skips as blank.
    Complete(Vec<u8>),
    /// More than the limit without a terminator, or a line longer than it.
    TooLong,
    /// The peer closed the connection (a partial line is dropped).
    Closed,
}

/// Reads lines terminated by CR (SIP2) or LF (sloppy clients), never buffering more than
/// `limit` bytes. Cancel-safe: bytes are moved into the buffer only once a read returns,
/// so a read abandoned by a timeout or shutdown loses nothing.
#[derive(Debug)]
pub(crate) struct LineReader<R> {
    inner: R,
    buf: Vec<u8>,
    limit: usize,
}

impl<R: AsyncRead + Unpin> LineReader<R> {
    pub(crate) fn new(inner: R, limit: usize) -> Self {
        Self {
            inner,
            buf: Vec::with_capacity(512),
            limit,
        }
    }

    pub(crate) async fn next_line(&mut self) -> std::io::Result<Line> {
        let mut chunk = [0u8; 1024];
        loop {
            if let Some(end) = self.buf.iter().position(|&b| b == b'\r' || b == b'\n') {
                if end + 1 > self.limit {
                    return Ok(Line::TooLong);
                }
                let line: Vec<u8> = self.buf.drain(..=end).collect();
                return Ok(Line::Complete(line));
            }
            if self.buf.len() >= self.limit {
                return Ok(Line::TooLong);
            }
            let n = self.inner.read(&mut chunk).await?;
            if n == 0 {
                return Ok(Line::Closed);
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(input: &[u8], limit: usize) -> Vec<Line> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        rt.block_on(async {
            let mut reader = LineReader::new(input, limit);
            let mut out = Vec::new();
            loop {
                let line = reader.next_line().await.expect("in-memory read");
                let done = !matches!(line, Line::Complete(_));
                out.push(line);
                if done {
                    return out;
                }
            }
        })
    }

    #[test]
    fn splits_at_cr_and_lf() {
        assert_eq!(
            read_all(b"99AZ\r\n97\rpart", 64),
            [
                Line::Complete(b"99AZ\r".to_vec()),
                Line::Complete(b"\n".to_vec()),
                Line::Complete(b"97\r".to_vec()),
                Line::Closed,
            ]
        );
    }

    #[test]
    fn refuses_lines_over_the_limit() {
        assert_eq!(read_all(&[b'x'; 100], 16), [Line::TooLong]);
        assert_eq!(
            read_all(b"0123456789abcdef\r", 16),
            [Line::TooLong],
            "17 bytes with the CR"
        );
        assert_eq!(
            read_all(b"0123456789abcde\r", 16),
            [Line::Complete(b"0123456789abcde\r".to_vec()), Line::Closed]
        );
    }
}
