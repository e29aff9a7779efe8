//! A scan's proposals as TOML: a fragment to read ([`fragment`]) and a merge into the map
//! file's text ([`merge`]) that keeps every line the user wrote (comments included) and is
//! validated before anyone writes it.

use std::fmt::Write as _;
use std::path::Path;

use super::load::parse;
use super::model::DataMap;
use super::model::{raw, System};
use super::scan::{Proposal, ScanReport};
use crate::{Error, Result};

/// A TOML basic string literal.
fn lit(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for ch in s.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn field_line(p: &Proposal) -> String {
    format!(
        "{{ name = {}, categories = [{}], erasure = \"null\", type = {} }}",
        lit(&p.column),
        lit(p.category),
        lit(&p.data_type)
    )
}

fn evidence_comment(p: &Proposal) -> String {
    format!("# {} ({:.2})", p.evidence.join(", "), p.confidence)
}

/// The settings a new table copies: from the nearest mapped table on its path.
fn inherited(system: &System, path: &[String]) -> Vec<String> {
    let Some(parent) = path.iter().skip(1).find_map(|t| system.table(t)) else {
        return Vec::new();
    };
    vec![
        format!("purpose = {}", lit(&parent.purpose)),
        format!("lawful_basis = {}", lit(parent.lawful_basis.name())),
        format!("retention = {}", lit(&parent.retention.to_string())),
    ]
}

/// The new tables as `[[systems.tables]]` blocks, and the new field lines of mapped tables
/// (by table).
struct Blocks {
    tables: String,
    fields: Vec<(String, Vec<String>)>,
}

/// A table the map lacks, as proposed.
struct NewTable<'r> {
    name: &'r str,
    primary_key: Vec<String>,
    join: Option<&'r str>,
    path: Vec<String>,
    proposals: Vec<&'r Proposal>,
}

fn blocks(system: &System, report: &ScanReport) -> Blocks {
    let mut tables = String::new();
    let of = |table: &str| -> Vec<&Proposal> {
        report
            .proposals
            .iter()
            .filter(|p| p.table == table)
            .collect()
    };
    let mut new_tables = Vec::new();
    if let Some(id) = report.identity.as_ref().filter(|i| !i.mapped) {
        new_tables.push(NewTable {
            name: &id.table,
            primary_key: vec![id.column.clone()],
            join: None,
            path: vec![id.table.clone()],
            proposals: of(&id.table),
        });
    }
    for j in &report.joins {
        new_tables.push(NewTable {
            name: &j.table,
            primary_key: j.primary_key.clone(),
            join: Some(&j.join),
            path: j.path.clone(),
            proposals: of(&j.table),
        });
    }
    for NewTable {
        name: table,
        primary_key: pk,
        join,
        path,
        proposals: props,
    } in &new_tables
    {
        let _ = writeln!(
            tables,
            "\n# proposed by `evident privacy map scan`: review before applying"
        );
        let _ = writeln!(tables, "[[systems.tables]]");
        let _ = writeln!(tables, "name = {}", lit(table));
        match pk.as_slice() {
            [one] => {
                let _ = writeln!(tables, "primary_key = {}", lit(one));
            }
            many => {
                let cols: Vec<String> = many.iter().map(|c| lit(c)).collect();
                let _ = writeln!(tables, "primary_key = [{}]", cols.join(", "));
            }
        }
        match join {
            Some(j) => {
                let _ = writeln!(tables, "join = {}", lit(j));
            }
            None => {
                let column = report.identity.as_ref().map_or("", |i| i.column.as_str());
                let _ = writeln!(tables, "identity = {}", lit(column));
            }
        }
        for line in inherited(system, path) {
            let _ = writeln!(tables, "{line}");
        }
        let _ = writeln!(tables, "fields = [");
        for p in props {
            let _ = writeln!(tables, "  {},  {}", field_line(p), evidence_comment(p));
        }
        let _ = writeln!(tables, "]");
    }
    let mut fields: Vec<(String, Vec<String>)> = Vec::new();
    for p in report.proposals.iter().filter(|p| p.table_mapped) {
        let line = format!("{},  {}", field_line(p), evidence_comment(p));
        match fields.iter_mut().find(|(t, _)| *t == p.table) {
            Some((_, lines)) => lines.push(line),
            None => fields.push((p.table.clone(), vec![line])),
        }
    }
    Blocks { tables, fields }
}

/// The proposals as a TOML fragment for the system's `[[systems]]` section.
pub fn fragment(system: &System, report: &ScanReport) -> String {
    let b = blocks(system, report);
    let mut out = format!(
        "# system `{}`: proposals of `evident privacy map scan` (sample {} a column)\n",
        report.system, report.sample
    );
    for (table, lines) in &b.fields {
        let _ = writeln!(
            out,
            "\n# table `{table}` is in the map: add to its `fields`"
        );
        for line in lines {
            let _ = writeln!(out, "#   {line}");
        }
    }
    out.push_str(&b.tables);
    for t in &report.unreachable {
        let _ = writeln!(out, "\n# table `{t}` holds personal data but no foreign key leads to the identity table: map it by hand");
    }
    out
}

fn line_start(text: &str, offset: usize) -> usize {
    text.get(..offset)
        .and_then(|s| s.rfind('\n'))
        .map_or(0, |i| i + 1)
}

fn next_line(text: &str, offset: usize) -> usize {
    text.get(offset..)
        .and_then(|s| s.find('\n'))
        .map_or(text.len(), |i| offset + i + 1)
}

/// The first line at or after `from` whose trimmed text starts with one of `headers`.
fn next_header(text: &str, from: usize, headers: &[&str]) -> usize {
    let mut at = from;
    while at < text.len() {
        let end = next_line(text, at);
        let line = text.get(at..end).unwrap_or("").trim_start();
        if headers.iter().any(|h| line.starts_with(h)) {
            return at;
        }
        at = end;
    }
    text.len()
}

/// The map text with the proposals merged into `system`'s section, validated. `file`
/// names the map in errors.
pub fn merge(
    file: &Path,
    text: &str,
    system: &System,
    report: &ScanReport,
) -> Result<(String, DataMap)> {
    let map: raw::Map = toml::from_str(text)
        .map_err(|e| Error::BadRequest(format!("{}: {}", file.display(), e.message())))?;
    let Some(sys) = map
        .systems
        .iter()
        .find(|s| *s.get_ref().name.get_ref() == system.name)
    else {
        return Err(Error::BadRequest(format!(
            "{}: no system `{}`",
            file.display(),
            system.name
        )));
    };
    let b = blocks(system, report);
    // Insertions by offset, applied from the end so earlier offsets stay valid.
    let mut inserts: Vec<(usize, String)> = Vec::new();
    for (table, lines) in &b.fields {
        let Some(t) = sys
            .get_ref()
            .tables
            .iter()
            .find(|t| t.get_ref().name.get_ref() == table)
        else {
            continue;
        };
        let t = t.get_ref();
        let header = line_start(
            text,
            text.get(..t.name.span().start)
                .and_then(|s| s.rfind("[["))
                .unwrap_or(0),
        );
        let section_end = next_header(
            text,
            next_line(text, header),
            &[
                "[[systems]]",
                "[[systems.tables]]",
                "[[systems.tables.fields]]",
            ],
        );
        let fields_span = t.fields.as_ref().map(toml::Spanned::span);
        let inline = fields_span.as_ref().filter(|span| {
            let src = text.get(span.start..span.end).unwrap_or("");
            src.starts_with('[') && !src.starts_with("[[") && src.ends_with(']')
        });
        match (inline, &fields_span) {
            (Some(span), _) => {
                // An inline array: the entries go before its `]`, after a comma.
                let close = span.end - 1;
                let body_start = span.start + 1;
                let body = text.get(body_start..close).unwrap_or("");
                if let Some(end) = last_code_end(body) {
                    if !body.get(..end).unwrap_or("").ends_with(',') {
                        inserts.push((body_start + end, ",".into()));
                    }
                }
                let mut add = String::from("\n");
                for line in lines {
                    let _ = writeln!(add, "  {line}");
                }
                inserts.push((close, add));
            }
            (None, Some(_)) => {
                let mut add = String::new();
                for line in lines {
                    let (value, comment) = line.split_once(",  #").unwrap_or((line, ""));
                    let _ = writeln!(add, "[[systems.tables.fields]]  #{comment}");
                    let inner = value.trim().trim_start_matches('{').trim_end_matches('}');
                    for kv in split_top_level(inner) {
                        let _ = writeln!(add, "{}", kv.trim());
                    }
                    add.push('\n');
                }
                let at = next_header(
                    text,
                    next_line(text, header),
                    &["[[systems]]", "[[systems.tables]]"],
                );
                inserts.push((at, add));
            }
            (None, None) => {
                let mut add = String::from("fields = [\n");
                for line in lines {
                    let _ = writeln!(add, "  {line}");
                }
                add.push_str("]\n");
                inserts.push((next_line(text, header).min(section_end), add));
            }
        }
    }
    if !b.tables.is_empty() {
        let after = next_line(text, sys.get_ref().name.span().start);
        let at = next_header(text, after, &["[[systems]]"]);
        let mut add = b.tables.clone();
        if at > 0 && text.get(at - 1..at) != Some("\n") {
            add.insert(0, '\n');
        }
        add.push('\n');
        inserts.push((at, add));
    }
    inserts.sort_by_key(|(at, _)| std::cmp::Reverse(*at));
    let mut merged = text.to_owned();
    for (at, add) in inserts {
        merged.insert_str(at, &add);
    }
    let map = parse(file, &merged)?;
    Ok((merged, map))
}

/// The byte offset just after the last code character of an array body (comments and
/// blank lines skipped); `None` when the body holds no entry.
fn last_code_end(body: &str) -> Option<usize> {
    let mut offset = 0;
    let mut last = None;
    for line in body.split_inclusive('\n') {
        let code = strip_comment(line).trim_end();
        if !code.trim().is_empty() {
            last = Some(offset + code.len());
        }
        offset += line.len();
    }
    last
}

/// A line without its `#` comment (a `#` inside a string is not one).
fn strip_comment(line: &str) -> &str {
    let mut in_string = false;
    let mut previous = ' ';
    for (i, ch) in line.char_indices() {
        match ch {
            '"' if previous != '\\' => in_string = !in_string,
            '#' if !in_string => return line.get(..i).unwrap_or(line),
            _ => {}
        }
        previous = ch;
    }
    line
}

/// `a = 1, b = [2, 3]` split at the commas outside brackets and strings.
fn split_top_level(s: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut depth = 0i32;
    let mut in_string = false;
    let mut current = String::new();
    let mut previous = ' ';
    for ch in s.chars() {
        match ch {
            '"' if previous != '\\' => in_string = !in_string,
            '[' | '{' if !in_string => depth += 1,
            ']' | '}' if !in_string => depth -= 1,
            ',' if !in_string && depth == 0 => {
                parts.push(std::mem::take(&mut current));
                previous = ch;
                continue;
            }
            _ => {}
        }
        current.push(ch);
        previous = ch;
    }
    if !current.trim().is_empty() {
        parts.push(current);
    }
    parts
}
