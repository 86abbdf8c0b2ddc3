//! A small RFC 4180 reader: comma-separated fields, optional double quotes (`""` inside
//! quotes is one `"`; quoted fields may hold commas and line breaks), LF or CRLF line
//! ends, a UTF-8 byte-order mark ignored, blank lines skipped. Every record remembers the
//! line it starts on, for error messages. The first record is the header: column names
//! are matched case-insensitively, trimmed.

use std::collections::HashMap;
use std::fmt;

/// One data record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The line (1-based) the record starts on.
    pub line: usize,
    fields: Vec<String>,
}

/// A parsed file: the header's column positions and the data records.
#[derive(Debug, Clone)]
pub struct Table {
    columns: HashMap<String, usize>,
    /// The data records (the header excluded).
    pub records: Vec<Record>,
}

/// Why a file is not a usable CSV table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvError {
    /// The line the problem is on.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for CsvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl Table {
    /// Parses `text` and checks the header: every `required` column present, no column
    /// outside `required` and `optional`, none twice.
    pub fn parse(text: &str, required: &[&str], optional: &[&str]) -> Result<Table, CsvError> {
        let mut records = records(text.strip_prefix('\u{feff}').unwrap_or(text))?.into_iter();
        let header = records.next().ok_or(CsvError {
            line: 1,
            message: format!("empty file: expected a header row ({})", required.join(",")),
        })?;
        let mut columns = HashMap::new();
        for (i, name) in header.fields.iter().enumerate() {
            let name = name.trim().to_lowercase();
            if !required.contains(&name.as_str()) && !optional.contains(&name.as_str()) {
                return Err(CsvError {
                    line: header.line,
                    message: format!(
                        "unknown column {name:?} (columns: {}{}{})",
                        required.join(", "),
                        if optional.is_empty() {
                            ""
                        } else {
                            "; optional: "
                        },
                        optional.join(", ")
                    ),
                });
            }
            if columns.insert(name.clone(), i).is_some() {
                return Err(CsvError {
                    line: header.line,
                    message: format!("column {name:?} appears twice"),
                });
            }
        }
        let missing: Vec<&str> = required
            .iter()
            .copied()
            .filter(|c| !columns.contains_key(*c))
            .collect();
        if !missing.is_empty() {
            return Err(CsvError {
                line: header.line,
                message: format!("missing column(s): {}", missing.join(", ")),
            });
        }
        let width = header.fields.len();
        let records: Vec<Record> = records.collect();
        if let Some(bad) = records.iter().find(|r| r.fields.len() != width) {
            return Err(CsvError {
                line: bad.line,
                message: format!("{} field(s), the header has {width}", bad.fields.len()),
            });
        }
        Ok(Table { columns, records })
    }

    /// The trimmed value of `column` in `record`; `None` when the column is absent or the
    /// value empty.
    pub fn get<'r>(&self, record: &'r Record, column: &str) -> Option<&'r str> {
        let i = *self.columns.get(column)?;
        let v = record.fields.get(i)?.trim();
        (!v.is_empty()).then_some(v)
    }
}

/// Splits `text` into records.
fn records(text: &str) -> Result<Vec<Record>, CsvError> {
    let mut out = Vec::new();
    let mut line = 1usize;
    let mut chars = text.chars().peekable();
    let mut fields: Vec<String> = Vec::new();
    let mut field = String::new();
    let mut start = 1usize;
    let mut in_record = false;
    let mut quoted = false;
    let mut after_quote = false;
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => {
                    quoted = false;
                    after_quote = true;
                }
                '\n' => {
                    line += 1;
                    field.push('\n');
                }
                c => field.push(c),
            }
            continue;
        }
        match c {
            '"' if field.trim().is_empty() && !after_quote => {
                if !in_record {
                    in_record = true;
                    start = line;
                }
                field.clear();
                quoted = true;
            }
            '"' => {
                return Err(CsvError {
                    line,
                    message: "a quote inside an unquoted field (quote the whole field and \
                              double the quote)"
                        .into(),
                });
            }
            ',' => {
                if !in_record {
                    in_record = true;
                    start = line;
                }
                fields.push(std::mem::take(&mut field));
                after_quote = false;
            }
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' | '\r' => {
                if in_record || !field.trim().is_empty() {
                    fields.push(std::mem::take(&mut field));
                    out.push(Record {
                        line: start,
                        fields: std::mem::take(&mut fields),
                    });
                }
                field.clear();
                in_record = false;
                after_quote = false;
                line += 1;
            }
            c if after_quote => {
                if !c.is_whitespace() {
                    return Err(CsvError {
                        line,
                        message: "text after a closing quote".into(),
                    });
                }
            }
            c => {
                if !in_record {
                    in_record = true;
                    start = line;
                }
                field.push(c);
            }
        }
    }
    if quoted {
        return Err(CsvError {
            line: start,
            message: "a quoted field is never closed".into(),
        });
    }
    if in_record || !field.trim().is_empty() {
        fields.push(field);
        out.push(Record {
            line: start,
            fields,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(t: &Table, col: &str) -> Vec<Option<String>> {
        t.records
            .iter()
            .map(|r| t.get(r, col).map(str::to_owned))
            .collect()
    }

    #[test]
    fn quotes_commas_line_breaks_and_blank_lines() {
        let text = "\u{feff}Name, phone ,email\r\n\
                    \"Chan, Tai Man\",9123 4567,\r\n\
                    \r\n\
                    \"Said \"\"hi\"\"\ntwice\",1234,a@b.c\n\
                    Lee,5678,\"\"";
        let t = Table::parse(text, &["name", "phone"], &["email"]).unwrap();
        assert_eq!(
            values(&t, "name"),
            [
                Some("Chan, Tai Man".into()),
                Some("Said \"hi\"\ntwice".into()),
                Some("Lee".into())
            ]
        );
        assert_eq!(values(&t, "email"), [None, Some("a@b.c".into()), None]);
        let lines: Vec<usize> = t.records.iter().map(|r| r.line).collect();
        assert_eq!(lines, [2, 4, 6]);
    }

    #[test]
    fn header_and_shape_errors_name_the_line() {
        let err = |text: &str| Table::parse(text, &["name", "phone"], &["email"]).unwrap_err();
        assert_eq!(err("").line, 1);
        assert!(
            err("name,phon\n")
                .message
                .contains("unknown column \"phon\"")
        );
        assert!(err("name\n").message.contains("missing column(s): phone"));
        assert!(err("name,phone,name\n").message.contains("twice"));
        let e = err("name,phone\na,1\nb,2,3\n");
        assert_eq!(
            (e.line, e.message.as_str()),
            (3, "3 field(s), the header has 2")
        );
        assert_eq!(err("name,phone\n\"a,1\n").line, 2);
        assert_eq!(err("name,phone\na\"b,1\n").line, 2);
        assert_eq!(err("name,phone\n\"a\"b,1\n").line, 2);
    }
}
