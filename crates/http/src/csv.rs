//! CSV answers (RFC 4180): fields separated by commas, records ended by CRLF, a field
//! quoted when it holds a comma, a double quote, CR or LF (a quote doubled inside), and a
//! header record first.
//!
//! CSV injection: a spreadsheet opening the file runs a cell starting with `=`, `+`, `-`
//! or `@` as a formula (and Excel also one starting with a tab or CR). A text cell that
//! starts so is written with a leading `'`, which spreadsheets show as text and nothing
//! else reads differently (OWASP, "CSV Injection"). Numbers and dates are written as they
//! are: ours are never negative.

/// A CSV document being written.
#[derive(Debug, Default)]
pub(crate) struct Csv {
    text: String,
}

/// One cell.
pub(crate) enum Cell<'a> {
    /// Text from the data (titles, card numbers, codes): guarded and quoted as needed.
    Text(&'a str),
    /// A number.
    Number(i128),
}

impl Csv {
    /// A document whose header names `columns`.
    pub(crate) fn with_header(columns: &[&str]) -> Self {
        let mut csv = Csv::default();
        csv.record(columns.iter().map(|c| Cell::Text(c)));
        csv
    }

    /// Appends one record.
    pub(crate) fn record<'a>(&mut self, cells: impl IntoIterator<Item = Cell<'a>>) {
        for (i, cell) in cells.into_iter().enumerate() {
            if i > 0 {
                self.text.push(',');
            }
            match cell {
                Cell::Number(n) => self.text.push_str(&n.to_string()),
                Cell::Text(text) => push_text(&mut self.text, text),
            }
        }
        self.text.push_str("\r\n");
    }

    /// The document.
    pub(crate) fn finish(self) -> String {
        self.text
    }
}

fn push_text(out: &mut String, text: &str) {
    let guarded;
    let text = if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        guarded = format!("'{text}");
        guarded.as_str()
    } else {
        text
    };
    if text.contains([',', '"', '\r', '\n']) {
        out.push('"');
        out.push_str(&text.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(text);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_and_the_injection_guard() {
        let mut csv = Csv::with_header(&["a", "b", "c"]);
        csv.record([
            Cell::Text("plain"),
            Cell::Text("with, comma and \"quotes\""),
            Cell::Number(150),
        ]);
        csv.record([
            Cell::Text("=HYPERLINK(\"x\")"),
            Cell::Text("+1"),
            Cell::Text("line\nbreak"),
        ]);
        csv.record([Cell::Text("-2"), Cell::Text("@SUM(A1)"), Cell::Text("")]);
        assert_eq!(
            csv.finish(),
            "a,b,c\r\n\
             plain,\"with, comma and \"\"quotes\"\"\",150\r\n\
             \"'=HYPERLINK(\"\"x\"\")\",'+1,\"line\nbreak\"\r\n\
             '-2,'@SUM(A1),\r\n"
        );
    }
}
