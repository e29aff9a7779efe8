//! Reading CSV strictly: the one reader configuration the part's file tools share, and the
//! one translation of the `csv` crate's errors into this crate's, naming file and line.
//!
//! The `csv` crate is lenient about one malformation that matters here: a quoted field whose
//! closing quote never comes runs to the end of the input and is returned as a value, so a
//! truncated file (or a stray `"`) would silently swallow every row after it into one field.
//! [`QuoteGuard`] watches the bytes on their way into the reader with the same quoting rules
//! and turns an unclosed quote at the end into an error naming the line where it opened.

use std::io::{self, Read};
use std::path::Path;

use crate::error::Error;

/// A `csv` reader over `input`, guarded against an unclosed quote. `headers` says whether the
/// first row names the columns; `flexible` whether rows may differ in length.
pub(crate) fn reader<R: Read>(
    input: R,
    headers: bool,
    flexible: bool,
) -> csv::Reader<QuoteGuard<R>> {
    csv::ReaderBuilder::new()
        .has_headers(headers)
        .flexible(flexible)
        .buffer_capacity(1 << 16)
        .from_reader(QuoteGuard::new(input))
}

/// A CSV reader's error as this crate's, with the file and line.
pub(crate) fn problem(file: &Path, error: csv::Error) -> Error {
    let line = error.position().map_or(0, |p| p.line());
    match error.into_kind() {
        csv::ErrorKind::UnequalLengths {
            pos,
            expected_len,
            len,
        } => Error::Ragged {
            file: file.to_owned(),
            line: pos.map_or(line, |p| p.line()),
            expected: expected_len,
            found: len,
        },
        csv::ErrorKind::Io(source) => match unclosed_quote(&source) {
            Some(opened) => Error::Parse {
                file: file.to_owned(),
                line: opened,
                message: UnclosedQuote(opened).to_string(),
            },
            None => Error::Io {
                file: file.to_owned(),
                source,
            },
        },
        csv::ErrorKind::Utf8 { pos, .. } => Error::Parse {
            file: file.to_owned(),
            line: pos.map_or(line, |p| p.line()),
            message: "the row is not valid UTF-8".into(),
        },
        other => Error::Parse {
            file: file.to_owned(),
            line,
            message: format!("malformed CSV: {other:?}"),
        },
    }
}

/// The line an unclosed quote opened on, if `error` is that.
pub(crate) fn unclosed_quote(error: &io::Error) -> Option<u64> {
    error
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<UnclosedQuote>())
        .map(|u| u.0)
}

/// The input ended inside a quoted field that opened on this 1-based line.
#[derive(Debug)]
pub(crate) struct UnclosedQuote(pub(crate) u64);

impl std::fmt::Display for UnclosedQuote {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "a quoted field opened on line {} is never closed (the file ends inside it; is it truncated?)",
            self.0
        )
    }
}

impl std::error::Error for UnclosedQuote {}

/// Where the guard is in the CSV grammar, as `csv-core` reads it with its defaults (`,`,
/// `"` doubled to escape, any line ending).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// at the start of a field: a quote here opens a quoted field
    FieldStart,
    /// inside an unquoted field: quotes are literal
    Unquoted,
    /// inside a quoted field
    Quoted,
    /// just after a quote inside a quoted field: another quote escapes, anything else ends it
    QuoteInQuoted,
}

/// A reader that passes bytes through unchanged and fails at the end of the input if it ends
/// inside a quoted field.
pub(crate) struct QuoteGuard<R> {
    inner: R,
    state: State,
    line: u64,
    opened: u64,
}

impl<R> QuoteGuard<R> {
    pub(crate) fn new(inner: R) -> Self {
        QuoteGuard {
            inner,
            state: State::FieldStart,
            line: 1,
            opened: 0,
        }
    }

    fn watch(&mut self, bytes: &[u8]) {
        for &b in bytes {
            if b == b'\n' {
                self.line += 1;
            }
            self.state = match (self.state, b) {
                (State::FieldStart, b'"') => {
                    self.opened = self.line;
                    State::Quoted
                }
                (State::Quoted, b'"') => State::QuoteInQuoted,
                (State::Quoted, _) => State::Quoted,
                (State::QuoteInQuoted, b'"') => State::Quoted,
                (_, b',' | b'\n' | b'\r') => State::FieldStart,
                _ => State::Unquoted,
            };
        }
    }
}

impl<R: Read> Read for QuoteGuard<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n == 0 && buf.is_empty() {
            return Ok(0);
        }
        if n == 0 && self.state == State::Quoted {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                UnclosedQuote(self.opened),
            ));
        }
        self.watch(&buf[..n]);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(text: &str) -> Result<Vec<Vec<String>>, Error> {
        let mut reader = reader(text.as_bytes(), false, true);
        let mut out = Vec::new();
        for record in reader.records() {
            let record = record.map_err(|e| problem(Path::new("t.csv"), e))?;
            out.push(record.iter().map(str::to_owned).collect());
        }
        Ok(out)
    }

    #[test]
    fn well_formed_quoting_passes_through_unchanged() {
        let got = rows("a,\"b,c\",\"say \"\"hi\"\"\"\n\"multi\nline\",x\"y,z\r\n").unwrap();
        assert_eq!(
            got,
            vec![
                vec!["a", "b,c", "say \"hi\""],
                vec!["multi\nline", "x\"y", "z"],
            ]
        );
        // The same without a final line ending.
        assert_eq!(rows("a,\"b\"").unwrap(), vec![vec!["a", "b"]]);
    }

    #[test]
    fn an_unclosed_quote_is_refused_with_the_line_it_opened_on() {
        for (text, line) in [
            ("a,b\nc,\"d\ne,f\n", 2),
            ("a,b\n\"", 2),
            ("\"never closed", 1),
            ("a,b\nc,\"escaped \"\" but open\n", 2),
        ] {
            match rows(text) {
                Err(Error::Parse {
                    line: got, message, ..
                }) => {
                    assert_eq!(got, line, "{text:?}");
                    assert!(message.contains("never closed"), "{message}");
                }
                other => panic!("{text:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn a_quote_inside_an_unquoted_field_is_literal() {
        assert_eq!(rows("ab\"c,d\n").unwrap(), vec![vec!["ab\"c", "d"]]);
    }
}
