//! Bulk import of existing consent: a CSV file with a header row, or JSON lines (one object
//! per line), each row one grant or withdrawal. A bad row is reported (its line, the field at
//! fault, why) and does not stop the good ones, unless the import is strict, which records
//! nothing when any row is bad.
//!
//! Columns (CSV header names, JSON keys): `subject`, `purpose`, `status` (`granted` or
//! `withdrawn`) are required; `basis` (default `consent`), `source` (default `import`),
//! `notice_hash` or `notice` (the text, hashed), `time` and `expires` (RFC 3339) are optional.

use serde_json::{Map, Value};

use evident_core::event::parse_time;
use evident_core::{Error, Result};

use super::model::{notice_hash, shorten, ConsentChange, LawfulBasis};
use super::Consent;
use crate::csv_input;

/// The most rows one import takes.
pub const MAX_IMPORT_ROWS: usize = 100_000;
/// Changes appended to the ledger per batch.
const CHUNK: usize = 500;
/// Every column an import knows.
const COLUMNS: &[&str] = &[
    "subject",
    "purpose",
    "status",
    "basis",
    "source",
    "notice_hash",
    "notice",
    "time",
    "expires",
];

/// How the file is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportFormat {
    /// CSV with a header row
    Csv,
    /// one JSON object per line (blank lines are skipped)
    JsonLines,
}

impl ImportFormat {
    /// `csv`, `jsonl` (or `ndjson`, `json`).
    pub fn parse(name: &str) -> Result<ImportFormat> {
        match name {
            "csv" => Ok(ImportFormat::Csv),
            "jsonl" | "ndjson" | "json" => Ok(ImportFormat::JsonLines),
            other => Err(Error::BadRequest(format!(
                "unknown import format `{}` (csv or jsonl)",
                shorten(other)
            ))),
        }
    }
}

/// Why one row was not imported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    /// its line in the file, from 1
    pub line: u64,
    /// the field at fault, when one is
    pub field: Option<String>,
    /// why
    pub message: String,
}

/// What an import did.
#[derive(Debug, Clone, Default)]
pub struct ImportReport {
    /// data rows read
    pub rows: u64,
    /// changes recorded
    pub recorded: u64,
    /// the rows refused, by line
    pub errors: Vec<RowError>,
    /// strict, and a row was bad: nothing was recorded
    pub refused: bool,
}

/// One good row: its line, the change, granted or not.
pub type ParsedRow = (u64, ConsentChange, bool);

/// Reads a file into its good rows and the errors of its bad ones. A file that cannot be
/// read as a whole (no header, a column it does not know, more than [`MAX_IMPORT_ROWS`]
/// rows) is an error.
pub fn parse(bytes: &[u8], format: ImportFormat) -> Result<(Vec<ParsedRow>, Vec<RowError>)> {
    let rows = match format {
        ImportFormat::Csv => csv_rows(bytes)?,
        ImportFormat::JsonLines => json_rows(bytes)?,
    };
    if rows.len() > MAX_IMPORT_ROWS {
        return Err(Error::BadRequest(format!(
            "the file has {} rows; an import takes at most {MAX_IMPORT_ROWS}",
            rows.len()
        )));
    }
    let mut good = Vec::new();
    let mut errors = Vec::new();
    for (line, row) in rows {
        match row.and_then(|fields| change_of(&fields)) {
            Ok((change, granted)) => good.push((line, change, granted)),
            Err((field, message)) => errors.push(RowError {
                line,
                field: field.map(str::to_string),
                message,
            }),
        }
    }
    Ok((good, errors))
}

type FieldError = (Option<&'static str>, String);
type Fields = Vec<(String, String)>;

fn csv_rows(bytes: &[u8]) -> Result<Vec<(u64, std::result::Result<Fields, FieldError>)>> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(csv_input::QuoteGuard::new(bytes));
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| Error::BadRequest(format!("the header row: {e}")))?
        .iter()
        .map(str::to_string)
        .collect();
    if header.iter().all(String::is_empty) {
        return Err(Error::BadRequest("the file has no header row".into()));
    }
    for name in &header {
        known_column(name)?;
    }
    let mut rows = Vec::new();
    for record in reader.records() {
        if rows.len() > MAX_IMPORT_ROWS {
            break;
        }
        let (line, row) = match record {
            Ok(r) => {
                let line = r.position().map_or(0, |p| p.line());
                if r.len() != header.len() {
                    let message =
                        format!("{} fields where the header has {}", r.len(), header.len());
                    (line, Err((None, message)))
                } else {
                    let fields = header
                        .iter()
                        .zip(r.iter())
                        .filter(|(_, v)| !v.is_empty())
                        .map(|(k, v)| (k.clone(), v.to_string()))
                        .collect();
                    (line, Ok(fields))
                }
            }
            Err(e) => {
                if let csv::ErrorKind::Io(io) = e.kind() {
                    // The file ends inside a quoted field: every row from the quote on was
                    // swallowed into it, so the rest cannot be read as rows.
                    if let Some(opened) = csv_input::unclosed_quote(io) {
                        let message = csv_input::UnclosedQuote(opened).to_string();
                        rows.push((opened, Err((None, message))));
                        break;
                    }
                }
                let line = e.position().map_or(0, |p| p.line());
                (line, Err((None, format!("not a CSV row: {e}"))))
            }
        };
        rows.push((line, row));
    }
    Ok(rows)
}

fn json_rows(bytes: &[u8]) -> Result<Vec<(u64, std::result::Result<Fields, FieldError>)>> {
    let text = std::str::from_utf8(bytes)
        .map_err(|e| Error::BadRequest(format!("the file is not UTF-8: {e}")))?;
    let mut rows = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        if rows.len() > MAX_IMPORT_ROWS {
            break;
        }
        rows.push((n as u64 + 1, json_fields(line)));
    }
    Ok(rows)
}

fn json_fields(line: &str) -> std::result::Result<Fields, FieldError> {
    let object: Map<String, Value> = match serde_json::from_str(line) {
        Ok(Value::Object(o)) => o,
        Ok(_) => return Err((None, "not a JSON object".into())),
        Err(e) => return Err((None, format!("not JSON: {e}"))),
    };
    let mut fields = Vec::with_capacity(object.len());
    for (key, value) in object {
        let Some(name) = COLUMNS.iter().copied().find(|c| *c == key) else {
            return Err((None, format!("unknown field `{}`", shorten(&key))));
        };
        match value {
            Value::String(s) => fields.push((key, s)),
            Value::Null => {}
            other => {
                return Err((
                    Some(name),
                    format!("must be a string, not {}", kind_of(&other)),
                ))
            }
        }
    }
    Ok(fields)
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn known_column(name: &str) -> Result<&'static str> {
    COLUMNS.iter().copied().find(|c| *c == name).ok_or_else(|| {
        Error::BadRequest(format!(
            "unknown column `{}` (columns: {})",
            shorten(name),
            COLUMNS.join(", ")
        ))
    })
}

fn change_of(fields: &Fields) -> std::result::Result<(ConsentChange, bool), FieldError> {
    let get = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let required = |name: &'static str| get(name).ok_or((Some(name), "is missing".to_string()));
    let time = |name: &'static str| {
        get(name)
            .map(|t| {
                parse_time(t).map_err(|_| {
                    (
                        Some(name),
                        format!("`{}` is not an RFC 3339 time", shorten(t)),
                    )
                })
            })
            .transpose()
    };
    let subject = required("subject")?;
    let purpose = required("purpose")?;
    let granted = match required("status")? {
        "granted" => true,
        "withdrawn" => false,
        other => {
            return Err((
                Some("status"),
                format!("`{}` is neither `granted` nor `withdrawn`", shorten(other)),
            ))
        }
    };
    let basis = match get("basis") {
        Some(b) => LawfulBasis::parse(b).map_err(|e| (Some("basis"), e.to_string()))?,
        None => LawfulBasis::Consent,
    };
    let notice = match (get("notice_hash"), get("notice")) {
        (Some(_), Some(_)) => {
            return Err((
                Some("notice"),
                "give the notice's text or its hash, not both".into(),
            ))
        }
        (Some(h), None) => Some(h.to_string()),
        (None, Some(text)) => Some(notice_hash(text)),
        (None, None) => None,
    };
    let change = ConsentChange {
        subject: subject.to_string(),
        purpose: purpose.to_string(),
        basis,
        source: get("source").unwrap_or("import").to_string(),
        notice_hash: notice,
        at_us: time("time")?,
        expires_us: time("expires")?,
    };
    change
        .check(granted)
        .map_err(|(field, e)| (Some(field), e.to_string()))?;
    Ok((change, granted))
}

impl Consent<'_> {
    /// Imports a file: its good rows are recorded (in file order, in batches), its bad rows
    /// reported. If `strict` and any row is bad, nothing is recorded.
    pub fn import(
        &self,
        bytes: &[u8],
        format: ImportFormat,
        strict: bool,
        actor: &str,
    ) -> Result<ImportReport> {
        let (good, errors) = parse(bytes, format)?;
        let mut report = ImportReport {
            rows: (good.len() + errors.len()) as u64,
            recorded: 0,
            refused: strict && !errors.is_empty(),
            errors,
        };
        report.errors.sort_by_key(|e| e.line);
        if report.refused {
            return Ok(report);
        }
        for chunk in good.chunks(CHUNK) {
            let changes: Vec<(ConsentChange, bool)> = chunk
                .iter()
                .map(|(_, change, granted)| (change.clone(), *granted))
                .collect();
            report.recorded += self.record_all(&changes, actor)?.len() as u64;
        }
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOTICE: &str = "sha256:1111111111111111111111111111111111111111111111111111111111111111";

    #[test]
    fn csv_rows_are_read_and_bad_ones_named_by_line_and_field() {
        let file = format!(
            "subject,purpose,status,basis,notice_hash,expires\n\
             s-1,marketing,granted,consent,{NOTICE},2030-01-01T00:00:00Z\n\
             s-2,marketing,maybe,consent,,\n\
             s-3,marketing,withdrawn,because,,\n\
             s-4,Marketing,withdrawn,,,\n\
             s-5,marketing,granted,consent,,\n\
             s-6,marketing,granted,consent,{NOTICE},tomorrow\n\
             s-7,analytics,withdrawn\n\
             s-8,analytics,withdrawn,,,\n"
        );
        let (good, errors) = parse(file.as_bytes(), ImportFormat::Csv).unwrap();
        let lines: Vec<u64> = good.iter().map(|g| g.0).collect();
        assert_eq!(lines, [2, 9]);
        assert!(good[0].2 && !good[1].2);
        let named: Vec<(u64, Option<&str>)> = errors
            .iter()
            .map(|e| (e.line, e.field.as_deref()))
            .collect();
        assert_eq!(
            named,
            [
                (3, Some("status")),
                (4, Some("basis")),
                (5, Some("purpose")),
                (6, Some("notice_hash")),
                (7, Some("expires")),
                (8, None),
            ]
        );
    }

    #[test]
    fn a_quote_left_open_to_the_end_of_the_file_is_one_error_not_a_swallowed_row() {
        let file = "subject,purpose,status\n\
                    s-1,marketing,withdrawn\n\
                    s-2,\"marketing,withdrawn\n\
                    s-3,marketing,withdrawn\n";
        let (good, errors) = parse(file.as_bytes(), ImportFormat::Csv).unwrap();
        assert_eq!(good.iter().map(|g| g.0).collect::<Vec<_>>(), [2]);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].line, 3);
        assert!(errors[0].message.contains("never closed"), "{errors:?}");
    }

    #[test]
    fn a_csv_file_with_an_unknown_column_is_refused_whole() {
        let err = parse(b"subject,purpose,status,colour\n", ImportFormat::Csv).unwrap_err();
        assert!(err.to_string().contains("unknown column `colour`"), "{err}");
    }

    #[test]
    fn json_lines_name_wrong_types_unknown_fields_and_bad_json() {
        let file = format!(
            "{{\"subject\":\"s-1\",\"purpose\":\"marketing\",\"status\":\"granted\",\"notice\":\"We email offers.\"}}\n\
             \n\
             {{\"subject\":1,\"purpose\":\"marketing\",\"status\":\"granted\"}}\n\
             {{\"subject\":\"s-3\",\"purpose\":\"marketing\",\"status\":\"withdrawn\",\"colour\":\"red\"}}\n\
             [1,2]\n\
             {{\"subject\":\"s-5\"\n\
             {{\"purpose\":\"marketing\",\"status\":\"withdrawn\",\"notice_hash\":\"{NOTICE}\"}}\n"
        );
        let (good, errors) = parse(file.as_bytes(), ImportFormat::JsonLines).unwrap();
        assert_eq!(good.len(), 1);
        assert_eq!(
            good[0].1.notice_hash.as_deref(),
            Some(notice_hash("We email offers.").as_str())
        );
        let named: Vec<(u64, Option<&str>)> = errors
            .iter()
            .map(|e| (e.line, e.field.as_deref()))
            .collect();
        assert_eq!(
            named,
            [
                (3, Some("subject")),
                (4, None),
                (5, None),
                (6, None),
                (7, Some("subject"))
            ]
        );
        assert!(errors[0].message.contains("a number"));
        assert!(errors[1].message.contains("unknown field `colour`"));
        assert!(errors[4].message.contains("missing"));
    }
}
