//! A rendered document written as Markdown — the form that is hashed and published. The
//! template's own text is kept as written; values are escaped so that none can add markup
//! (a role named `<b>` shows as text, a `|` cannot split a table cell); an `_` inside a word
//! (`created_at`) is left as written, as it is no emphasis there.

use crate::policy_docs::template::{Block, Document, Inline};

/// A value made safe for Markdown text: its punctuation that means markup backslash-escaped,
/// line breaks and control characters as spaces.
pub fn escape(value: &str) -> String {
    let chars: Vec<char> = value.chars().collect();
    let mut out = String::with_capacity(value.len());
    for (i, &c) in chars.iter().enumerate() {
        // `_` inside a word (`created_at`) is no emphasis in CommonMark: left as written.
        let inside_word = |i: usize| {
            i > 0
                && chars[i - 1].is_alphanumeric()
                && chars.get(i + 1).is_some_and(|n| n.is_alphanumeric())
        };
        match c {
            '_' if inside_word(i) => out.push(c),
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '#' | '&' | '~' => {
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
                        cells
                            .iter()
                            .map(|c| escape(c))
                            .collect::<Vec<_>>()
                            .join(" | ")
                    )
                };
                let mut out = vec![row(columns), format!("|{}", " --- |".repeat(columns.len()))];
                out.extend(rows.iter().map(|r| row(r)));
                out.join("\n")
            }
        });
    }
    let mut text = parts.join("\n\n");
    text.push('\n');
    text
}
