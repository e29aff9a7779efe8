//! The table an anonymity check reads: CSV (with a header row) or JSON lines (one flat object
//! a line), held column by column with each distinct value stored once and every cell a
//! 32-bit code into its column's dictionary. Grouping a million rows then hashes integers,
//! not strings. Reading reports the file, line and column of anything malformed; writing
//! gives back the same two formats.

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use super::hashing::FastMap;
use crate::csv_input;
use crate::error::{Error, Result};

/// A file format of the anonymity tools.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// comma-separated values with a header row (RFC 4180 quoting)
    Csv,
    /// one JSON object a line, every object with the same keys
    JsonLines,
}

impl Format {
    /// The format a file's extension suggests: `.jsonl`, `.ndjson` and `.json` are JSON
    /// lines, anything else CSV.
    pub fn from_path(path: &Path) -> Format {
        match path.extension().and_then(|e| e.to_str()) {
            Some(ext)
                if ["jsonl", "ndjson", "json"]
                    .iter()
                    .any(|j| ext.eq_ignore_ascii_case(j)) =>
            {
                Format::JsonLines
            }
            _ => Format::Csv,
        }
    }
}

/// One column: its name, its distinct values and each row's code into them.
#[derive(Debug, Clone)]
pub struct Column {
    name: String,
    dictionary: Vec<String>,
    codes: Vec<u32>,
    /// every value came from a JSON number (written back as numbers where they still are)
    json_numbers: bool,
}

impl Column {
    /// The column's name, from the header or the JSON keys.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The distinct values, in order of first appearance; codes index this.
    pub fn dictionary(&self) -> &[String] {
        &self.dictionary
    }

    /// Each row's code.
    pub fn codes(&self) -> &[u32] {
        &self.codes
    }

    /// Row `row`'s value.
    pub fn value(&self, row: usize) -> &str {
        &self.dictionary[self.codes[row] as usize]
    }
}

/// A table read whole into memory, column by column.
#[derive(Debug, Clone)]
pub struct Table {
    file: PathBuf,
    columns: Vec<Column>,
    /// 1-based line where each row starts (quoted fields may span lines)
    lines: Vec<u64>,
}

/// Builds a [`Table`] row by row, interning each value once per column.
pub struct TableBuilder {
    file: PathBuf,
    columns: Vec<Column>,
    interned: Vec<FastMap<String, u32>>,
    lines: Vec<u64>,
}

impl TableBuilder {
    /// An empty table with these column names, read from `file` (named in messages).
    pub fn new(file: impl Into<PathBuf>, names: Vec<String>) -> Result<TableBuilder> {
        let file = file.into();
        for (i, name) in names.iter().enumerate() {
            if names[..i].contains(name) {
                return Err(Error::Parse {
                    file,
                    line: 1,
                    message: format!("the column `{name}` appears twice"),
                });
            }
        }
        Ok(TableBuilder {
            interned: names.iter().map(|_| FastMap::default()).collect(),
            columns: names
                .into_iter()
                .map(|name| Column {
                    name,
                    dictionary: Vec::new(),
                    codes: Vec::new(),
                    json_numbers: true,
                })
                .collect(),
            file,
            lines: Vec::new(),
        })
    }

    /// Appends one row (as many values as columns) that starts on `line`.
    pub fn push<S: AsRef<str>>(&mut self, values: &[S], line: u64) -> Result<()> {
        if values.len() != self.columns.len() {
            return Err(Error::Ragged {
                file: self.file.clone(),
                line,
                expected: self.columns.len() as u64,
                found: values.len() as u64,
            });
        }
        self.push_fields(values.iter().map(|v| Ok(v.as_ref())), line)
    }

    /// Appends one row from values that may each have failed to read (bad UTF-8); the
    /// caller has checked their count.
    fn push_fields<'v>(
        &mut self,
        values: impl Iterator<Item = Result<&'v str>>,
        line: u64,
    ) -> Result<()> {
        for ((column, interned), value) in
            self.columns.iter_mut().zip(&mut self.interned).zip(values)
        {
            let value = value?;
            let code = match interned.get(value) {
                Some(&code) => code,
                None => {
                    let code = u32::try_from(column.dictionary.len()).map_err(|_| {
                        Error::BadRequest(format!(
                            "{}: the column `{}` has more than 4 billion distinct values",
                            self.file.display(),
                            column.name
                        ))
                    })?;
                    interned.insert(value.to_owned(), code);
                    column.dictionary.push(value.to_owned());
                    code
                }
            };
            column.codes.push(code);
        }
        self.lines.push(line);
        Ok(())
    }

    /// The table; an error if no row was pushed.
    pub fn finish(self) -> Result<Table> {
        if self.lines.is_empty() {
            return Err(Error::Empty { file: self.file });
        }
        Ok(Table {
            file: self.file,
            columns: self.columns,
            lines: self.lines,
        })
    }
}

impl Table {
    /// Reads `path` in `format`.
    pub fn read(path: &Path, format: Format) -> Result<Table> {
        let file = File::open(path).map_err(|source| Error::Io {
            file: path.to_owned(),
            source,
        })?;
        match format {
            Format::Csv => Table::read_csv(file, path),
            Format::JsonLines => Table::read_json_lines(BufReader::new(file), path),
        }
    }

    /// Reads CSV with a header row from `reader`; `path` names it in messages.
    pub fn read_csv(reader: impl Read, path: &Path) -> Result<Table> {
        let mut csv = csv_input::reader(reader, true, false);
        let csv_error = |e: csv::Error| csv_input::problem(path, e);
        let header = csv.byte_headers().map_err(csv_error)?.clone();
        if header.is_empty() {
            return Err(Error::Empty {
                file: path.to_owned(),
            });
        }
        let names = header
            .iter()
            .map(|name| utf8(path, 1, name).map(str::to_owned))
            .collect::<Result<Vec<_>>>()?;
        let mut table = TableBuilder::new(path, names)?;
        let mut record = csv::ByteRecord::new();
        // The reader refuses rows with another field count than the header's.
        while csv.read_byte_record(&mut record).map_err(csv_error)? {
            let line = record.position().map_or(0, |p| p.line());
            table.push_fields(record.iter().map(|field| utf8(path, line, field)), line)?;
        }
        table.finish()
    }

    /// Reads JSON lines from `reader`: one flat object a line, every line with the keys of
    /// the first; blank lines are skipped. Strings, numbers and booleans are values, `null` is
    /// the empty value; arrays and objects are refused.
    pub fn read_json_lines(reader: impl BufRead, path: &Path) -> Result<Table> {
        let mut table: Option<TableBuilder> = None;
        let mut values: Vec<String> = Vec::new();
        for (index, text) in reader.lines().enumerate() {
            let line = index as u64 + 1;
            let text = text.map_err(|source| Error::Io {
                file: path.to_owned(),
                source,
            })?;
            if text.trim().is_empty() {
                continue;
            }
            let parse = |message: String| Error::Parse {
                file: path.to_owned(),
                line,
                message,
            };
            let object: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&text)
                .map_err(|e| parse(format!("not a JSON object: {e}")))?;
            if table.is_none() {
                table = Some(TableBuilder::new(path, object.keys().cloned().collect())?);
            }
            let Some(builder) = table.as_mut() else {
                continue;
            };
            if let Some(extra) = object
                .keys()
                .find(|k| !builder.columns.iter().any(|c| &c.name == *k))
            {
                return Err(parse(format!("the key `{extra}` is not on the first line")));
            }
            values.clear();
            for column in &mut builder.columns {
                let value = object.get(&column.name).ok_or_else(|| {
                    parse(format!(
                        "the key `{}` is missing (the first line has it)",
                        column.name
                    ))
                })?;
                values.push(match value {
                    serde_json::Value::String(s) => {
                        column.json_numbers = false;
                        s.clone()
                    }
                    serde_json::Value::Number(n) => n.to_string(),
                    serde_json::Value::Bool(b) => {
                        column.json_numbers = false;
                        b.to_string()
                    }
                    serde_json::Value::Null => {
                        column.json_numbers = false;
                        String::new()
                    }
                    _ => {
                        return Err(parse(format!(
                            "the value of `{}` is an array or object; rows must be flat",
                            column.name
                        )))
                    }
                });
            }
            builder.push(&values, line)?;
        }
        table
            .ok_or_else(|| Error::Empty {
                file: path.to_owned(),
            })?
            .finish()
    }

    /// The file the table was read from.
    pub fn file(&self) -> &Path {
        &self.file
    }

    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.lines.len()
    }

    /// The columns, in file order.
    pub fn columns(&self) -> &[Column] {
        &self.columns
    }

    /// The column at `index`.
    pub fn column(&self, index: usize) -> &Column {
        &self.columns[index]
    }

    /// The index of the column named `name`, or an error listing the columns there are.
    pub fn column_index(&self, name: &str) -> Result<usize> {
        self.columns
            .iter()
            .position(|c| c.name == name)
            .ok_or_else(|| Error::MissingColumn {
                file: self.file.clone(),
                column: name.to_owned(),
                available: self
                    .columns
                    .iter()
                    .map(|c| format!("`{}`", c.name))
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }

    /// The 1-based line where row `row` starts.
    pub fn line(&self, row: usize) -> u64 {
        self.lines[row]
    }

    /// The number each distinct value of column `index` stands for, by code; an error naming
    /// the first row whose value is not a finite number.
    pub fn numbers(&self, index: usize) -> Result<Vec<f64>> {
        let column = &self.columns[index];
        let mut numbers = Vec::with_capacity(column.dictionary.len());
        for (code, value) in column.dictionary.iter().enumerate() {
            match value.trim().parse::<f64>() {
                Ok(n) if n.is_finite() => numbers.push(n),
                _ => {
                    let row = column
                        .codes
                        .iter()
                        .position(|&c| c as usize == code)
                        .unwrap_or(0);
                    return Err(Error::NotNumeric {
                        file: self.file.clone(),
                        line: self.lines[row],
                        column: column.name.clone(),
                        value: value.clone(),
                    });
                }
            }
        }
        Ok(numbers)
    }

    /// A table with the same rows whose column `index` is replaced by `dictionary` and
    /// `codes` (one per row). Used to write generalized quasi-identifiers.
    pub(crate) fn with_column(&mut self, index: usize, dictionary: Vec<String>, codes: Vec<u32>) {
        let column = &mut self.columns[index];
        column.json_numbers =
            column.json_numbers && dictionary.iter().all(|v| v.parse::<f64>().is_ok());
        column.dictionary = dictionary;
        column.codes = codes;
    }

    /// Writes the table to `path` in `format`.
    pub fn write(&self, path: &Path, format: Format) -> Result<()> {
        let io = |source| Error::Io {
            file: path.to_owned(),
            source,
        };
        let mut out = BufWriter::new(File::create(path).map_err(io)?);
        match format {
            Format::Csv => self.write_csv(&mut out).map_err(io)?,
            Format::JsonLines => self.write_json_lines(&mut out).map_err(io)?,
        }
        out.flush().map_err(io)
    }

    /// Writes CSV with a header row.
    pub fn write_csv(&self, out: impl Write) -> std::io::Result<()> {
        let mut csv = csv::Writer::from_writer(out);
        csv.write_record(self.columns.iter().map(|c| c.name.as_str()))?;
        for row in 0..self.rows() {
            csv.write_record(self.columns.iter().map(|c| c.value(row)))?;
        }
        csv.flush()
    }

    /// Writes one JSON object a line; columns read from JSON numbers stay numbers while
    /// every value still is one.
    pub fn write_json_lines(&self, mut out: impl Write) -> std::io::Result<()> {
        for row in 0..self.rows() {
            let mut object = serde_json::Map::with_capacity(self.columns.len());
            for column in &self.columns {
                let text = column.value(row);
                let value = match (column.json_numbers, text.parse::<serde_json::Number>()) {
                    (true, Ok(n)) => serde_json::Value::Number(n),
                    _ => serde_json::Value::String(text.to_owned()),
                };
                object.insert(column.name.clone(), value);
            }
            serde_json::to_writer(&mut out, &object)?;
            out.write_all(b"\n")?;
        }
        Ok(())
    }
}

fn utf8<'a>(path: &Path, line: u64, bytes: &'a [u8]) -> Result<&'a str> {
    std::str::from_utf8(bytes).map_err(|_| Error::Parse {
        file: path.to_owned(),
        line,
        message: "the row is not valid UTF-8".into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn csv(text: &str) -> Result<Table> {
        Table::read_csv(text.as_bytes(), Path::new("t.csv"))
    }

    #[test]
    fn csv_values_are_interned_per_column() {
        let t = csv("age,zip\n30,13053\n30,13068\n\"4\"\"0\",13053\n").unwrap();
        assert_eq!(t.rows(), 3);
        assert_eq!(t.column(0).dictionary(), ["30", "4\"0"]);
        assert_eq!(t.column(1).codes(), [0, 1, 0]);
        assert_eq!(t.line(2), 4);
        assert_eq!(t.column_index("zip").unwrap(), 1);
    }

    #[test]
    fn malformed_csv_is_named_by_file_and_line() {
        let ragged = csv("a,b\n1,2\n3\n").unwrap_err().to_string();
        assert_eq!(ragged, "t.csv, line 3: 1 fields where the header has 2");
        let open = csv("a,b\n1,\"2\n3,4\n").unwrap_err().to_string();
        assert!(open.starts_with("t.csv, line 2: a quoted field"), "{open}");
        assert!(matches!(csv(""), Err(Error::Empty { .. })));
        assert!(matches!(csv("a,b\n"), Err(Error::Empty { .. })));
        let missing = csv("a,b\n1,2\n").unwrap().column_index("c").unwrap_err();
        assert_eq!(
            missing.to_string(),
            "t.csv: no column `c` (the columns are `a`, `b`)"
        );
        let twice = csv("a,a\n1,2\n").unwrap_err().to_string();
        assert!(twice.contains("`a` appears twice"), "{twice}");
    }

    #[test]
    fn numbers_name_the_first_row_that_is_not_one() {
        let t = csv("age\n30\n 41 \nforty\n30\n").unwrap();
        let err = t.numbers(0).unwrap_err().to_string();
        assert_eq!(
            err,
            "t.csv, line 4, column `age`: `forty` is not a number (the column is declared numeric)"
        );
        let t = csv("age\n30\n41.5\n").unwrap();
        assert_eq!(t.numbers(0).unwrap(), [30.0, 41.5]);
    }

    #[test]
    fn json_lines_are_flat_objects_with_the_same_keys() {
        let path = Path::new("t.jsonl");
        let text =
            "{\"age\":30,\"sex\":\"F\",\"x\":null}\n\n{\"age\":41,\"sex\":\"M\",\"x\":true}\n";
        let t = Table::read_json_lines(text.as_bytes(), path).unwrap();
        assert_eq!(t.rows(), 2);
        assert_eq!(t.line(1), 3);
        assert_eq!(t.column(2).dictionary(), ["", "true"]);
        let mut out = Vec::new();
        t.write_json_lines(&mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "{\"age\":30,\"sex\":\"F\",\"x\":\"\"}\n{\"age\":41,\"sex\":\"M\",\"x\":\"true\"}\n"
        );
        let missing = Table::read_json_lines("{\"a\":1}\n{\"b\":2}\n".as_bytes(), path);
        assert!(missing
            .unwrap_err()
            .to_string()
            .contains("line 2: the key `b`"));
        let nested = Table::read_json_lines("{\"a\":[1]}\n".as_bytes(), path);
        assert!(nested
            .unwrap_err()
            .to_string()
            .contains("rows must be flat"));
        let garbage = Table::read_json_lines("{\"a\":1}\nnope\n".as_bytes(), path);
        assert!(garbage
            .unwrap_err()
            .to_string()
            .starts_with("t.jsonl, line 2: not a JSON object"));
    }

    #[test]
    fn csv_round_trips() {
        let text = "name,note\n\"Doe, J\",\"said \"\"hi\"\"\"\nx,y\n";
        let mut out = Vec::new();
        csv(text).unwrap().write_csv(&mut out).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), text);
    }
}
