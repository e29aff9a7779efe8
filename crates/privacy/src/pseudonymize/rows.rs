//! The two table formats, one chunk of rows at a time: reading CSV records (after the header
//! row) or JSON lines into a [`Chunk`], and turning a chunk into output bytes with the chosen
//! columns pseudonymized. Every error names the file and line, never a value.

use std::io::{BufRead, Read};
use std::path::Path;

use csv::ByteRecord;
use serde_json::Value;

use super::plan::{Counts, Plan, Target};
use crate::csv_input;
use crate::error::{Error, Result};

/// Rows read in one go and handed to one worker.
pub(crate) const CHUNK_ROWS: usize = 2048;
/// The longest JSON line read (a longer one is an error, so memory stays bounded).
pub const MAX_JSON_LINE: usize = 1 << 20;

/// Rows of one chunk, as read.
pub(crate) enum Rows {
    /// CSV records (each knows its line)
    Csv(Vec<ByteRecord>),
    /// JSON lines with their 1-based line numbers
    Json(Vec<(u64, Vec<u8>)>),
}

/// One chunk: its rows and how far into the input it ends (bytes, for progress).
pub(crate) struct Chunk {
    pub(crate) rows: Rows,
    pub(crate) end_byte: u64,
}

/// A chunk done: its output bytes and counts.
pub(crate) struct Done {
    pub(crate) bytes: Vec<u8>,
    pub(crate) counts: Counts,
    pub(crate) end_byte: u64,
}

/// Reads the next CSV chunk; `None` at the end.
pub(crate) fn next_csv<R: Read>(file: &Path, reader: &mut csv::Reader<R>) -> Result<Option<Chunk>> {
    let mut rows = Vec::with_capacity(CHUNK_ROWS);
    while rows.len() < CHUNK_ROWS {
        let mut record = ByteRecord::new();
        if !reader
            .read_byte_record(&mut record)
            .map_err(|e| csv_input::problem(file, e))?
        {
            break;
        }
        rows.push(record);
    }
    if rows.is_empty() {
        return Ok(None);
    }
    Ok(Some(Chunk {
        rows: Rows::Csv(rows),
        end_byte: reader.position().byte(),
    }))
}

/// Reads JSON lines a chunk at a time, counting lines and bytes.
pub(crate) struct JsonLines<R> {
    reader: std::io::BufReader<R>,
    line: u64,
    byte: u64,
}

impl<R: Read> JsonLines<R> {
    pub(crate) fn new(input: R) -> Self {
        JsonLines {
            reader: std::io::BufReader::with_capacity(1 << 16, input),
            line: 0,
            byte: 0,
        }
    }

    /// The next chunk of non-blank lines; `None` at the end.
    pub(crate) fn next_chunk(&mut self, file: &Path) -> Result<Option<Chunk>> {
        let mut rows = Vec::with_capacity(CHUNK_ROWS);
        while rows.len() < CHUNK_ROWS {
            let mut buf = Vec::new();
            let read = (&mut self.reader)
                .take(MAX_JSON_LINE as u64 + 1)
                .read_until(b'\n', &mut buf)
                .map_err(|source| Error::Io {
                    file: file.to_owned(),
                    source,
                })?;
            if read == 0 {
                break;
            }
            self.line += 1;
            self.byte += read as u64;
            if buf.len() > MAX_JSON_LINE && !buf.ends_with(b"\n") {
                return Err(Error::Parse {
                    file: file.to_owned(),
                    line: self.line,
                    message: format!("the line is longer than {MAX_JSON_LINE} bytes"),
                });
            }
            if buf.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            rows.push((self.line, buf));
        }
        if rows.is_empty() {
            return Ok(None);
        }
        Ok(Some(Chunk {
            rows: Rows::Json(rows),
            end_byte: self.byte,
        }))
    }
}

/// Pseudonymizes one value into `out` (cleared first); the error names the line and column.
fn one(plan: &Plan<'_>, target: &Target, line: u64, value: &str, out: &mut String) -> Result<()> {
    out.clear();
    plan.apply(target.mode, value, out)
        .map_err(|e| Error::Parse {
            file: plan.file.clone(),
            line,
            message: format!("column `{}`: {e}", target.column),
        })
}

/// Turns a chunk into output bytes. `by_index` maps each CSV column to its target, if any.
pub(crate) fn work(plan: &Plan<'_>, by_index: &[Option<usize>], chunk: Chunk) -> Result<Done> {
    let mut counts = Counts::default();
    let mut scratch = String::with_capacity(64);
    let bytes = match chunk.rows {
        Rows::Csv(records) => {
            let mut writer = csv::Writer::from_writer(Vec::with_capacity(records.len() * 96));
            let mut out = ByteRecord::new();
            for record in records {
                let line = record.position().map_or(0, |p| p.line());
                out.clear();
                for (i, field) in record.iter().enumerate() {
                    match by_index.get(i).copied().flatten() {
                        Some(t) if !field.is_empty() => {
                            let target = &plan.targets[t];
                            let text = std::str::from_utf8(field).map_err(|_| Error::Parse {
                                file: plan.file.clone(),
                                line,
                                message: format!("column `{}`: not valid UTF-8", target.column),
                            })?;
                            one(plan, target, line, text, &mut scratch)?;
                            out.push_field(scratch.as_bytes());
                            counts.values += 1;
                        }
                        Some(_) => {
                            out.push_field(field);
                            counts.skipped += 1;
                        }
                        None => out.push_field(field),
                    }
                }
                writer
                    .write_byte_record(&out)
                    .map_err(|e| csv_input::problem(&plan.file, e))?;
                counts.rows += 1;
            }
            writer.into_inner().map_err(|e| Error::Io {
                file: plan.file.clone(),
                source: e.into_error(),
            })?
        }
        Rows::Json(lines) => {
            let mut bytes = Vec::with_capacity(lines.len() * 128);
            for (line, text) in lines {
                let mut value: Value = serde_json::from_slice(&text).map_err(|e| Error::Parse {
                    file: plan.file.clone(),
                    line,
                    message: format!("not JSON: {}", strip_position(&e)),
                })?;
                let object = value.as_object_mut().ok_or_else(|| Error::Parse {
                    file: plan.file.clone(),
                    line,
                    message: "not a JSON object (each line holds one flat object)".into(),
                })?;
                for target in &plan.targets {
                    let field = object.get_mut(&target.column).ok_or_else(|| Error::Parse {
                        file: plan.file.clone(),
                        line,
                        message: format!("no field `{}`", target.column),
                    })?;
                    let text = match field {
                        Value::String(s) if s.is_empty() => None,
                        Value::String(s) => Some(std::mem::take(s)),
                        Value::Number(n) => Some(n.to_string()),
                        Value::Null => None,
                        other => {
                            return Err(Error::Parse {
                                file: plan.file.clone(),
                                line,
                                message: format!(
                                    "field `{}` is {}, not a string or number",
                                    target.column,
                                    kind(other)
                                ),
                            })
                        }
                    };
                    match text {
                        Some(text) => {
                            one(plan, target, line, &text, &mut scratch)?;
                            *field = Value::String(scratch.clone());
                            counts.values += 1;
                        }
                        None => counts.skipped += 1,
                    }
                }
                serde_json::to_writer(&mut bytes, &value).map_err(|e| Error::Parse {
                    file: plan.file.clone(),
                    line,
                    message: e.to_string(),
                })?;
                bytes.push(b'\n');
                counts.rows += 1;
            }
            bytes
        }
    };
    Ok(Done {
        bytes,
        counts,
        end_byte: chunk.end_byte,
    })
}

/// A JSON error without serde's own "at line 1 column N" (the line is ours to name).
fn strip_position(e: &serde_json::Error) -> String {
    let text = e.to_string();
    match text.find(" at line ") {
        Some(at) => text[..at].to_owned(),
        None => text,
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Bool(_) => "a boolean",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
        Value::Null => "null",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
    }
}
