//! A rendered document written as Markdown — the form that is hashed and published. The
//! template's own text is kept as written; values are escaped so that none can add markup
//! (a role named `<b>` shows as text, a `|` cannot split a table cell).

use crate::policy_docs::template::{Block, Document, Inline};

/// A value made safe for Markdown text: its punctuation that means markup backslash-escaped,
/// line breaks and control characters as spaces.
pub fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '#' | '&' | '!' | '~' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

fn line(content: &[Inline]) -> String {
    content
        .iter()
        .map(|i| match i {
            Inline::Literal(t) => t.clone(),
            Inline::Value(v) => escape(v),
        })
        .collect()
}

/// The document as Markdown, ending with one newline.
pub fn write(doc: &Document) -> String {
    let mut parts = Vec::with_capacity(doc.blocks.len());
    for block in &doc.blocks {
        parts.push(match block {
            Block::Heading(level, content) => format!("{} {}", "#".repeat(*level), line(content)),
            Block::Paragraph(lines) => lines.iter().map(|l| line(l)).collect::<Vec<_>>().join("\n"),
            Block::List(items) => items
                .iter()
                .map(|i| format!("- {}", line(i)))
                .collect::<Vec<_>>()
                .join("\n"),
            Block::Table { columns, rows } => {
                let row = |cells: &[String]| {
                    format!(
                        "| {} |",
                        cells.iter().map(|c| escape(c)).collect::<Vec<_>>().join(" | ")
                    )
                };
                let mut out = vec![
                    row(columns),
                    format!("|{}", " --- |".repeat(columns.len())),
                ];
                out.extend(rows.iter().map(|r| row(r)));
                out.join("\n")
            }
        });
    }
    let mut text = parts.join("\n\n");
    text.push('\n');
    text
}
