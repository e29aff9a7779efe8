//! A rendered document written as one self-contained HTML page. Every value and all of the
//! template's own text is escaped; the only markup is the page's own and the template's
//! `**strong**` and `` `code` ``.

use std::fmt::Write;

use crate::policy_docs::template::{Block, Document, Inline};

/// Text made safe for HTML content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// A piece of a line on its way to HTML.
enum Tok {
    /// escaped text
    Text(String),
    /// `**`
    Strong,
    /// a backtick
    Code,
}

/// A line: the template's text and the values escaped, then its `` `code` `` and
/// `**strong**` pairs as tags (paired across values; an unpaired marker stays as written).
fn line(content: &[Inline]) -> String {
    let mut toks = Vec::new();
    for piece in content {
        match piece {
            Inline::Value(v) => toks.push(Tok::Text(escape(v))),
            Inline::Literal(t) => {
                let mut rest = t.as_str();
                while let Some(at) = rest.find(['`', '*']) {
                    if rest[at..].starts_with('`') {
                        toks.push(Tok::Text(escape(&rest[..at])));
                        toks.push(Tok::Code);
                        rest = &rest[at + 1..];
                    } else if rest[at..].starts_with("**") {
                        toks.push(Tok::Text(escape(&rest[..at])));
                        toks.push(Tok::Strong);
                        rest = &rest[at + 2..];
                    } else {
                        toks.push(Tok::Text(escape(&rest[..at + 1])));
                        rest = &rest[at + 1..];
                    }
                }
                toks.push(Tok::Text(escape(rest)));
            }
        }
    }
    let count = |strong: bool| {
        toks.iter()
            .filter(|t| matches!((t, strong), (Tok::Strong, true) | (Tok::Code, false)))
            .count()
    };
    let (mut strong_left, mut code_left) = (count(true) / 2 * 2, count(false) / 2 * 2);
    let (mut in_strong, mut in_code) = (false, false);
    let mut out = String::new();
    for tok in toks {
        match tok {
            Tok::Text(t) => out.push_str(&t),
            Tok::Strong if strong_left > 0 => {
                strong_left -= 1;
                out.push_str(if in_strong { "</strong>" } else { "<strong>" });
                in_strong = !in_strong;
            }
            Tok::Code if code_left > 0 => {
                code_left -= 1;
                out.push_str(if in_code { "</code>" } else { "<code>" });
                in_code = !in_code;
            }
            Tok::Strong => out.push_str("**"),
            Tok::Code => out.push('`'),
        }
    }
    out
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:48rem;margin:2rem auto;padding:0 1rem;line-height:1.5;color:#1b1b1b}table{border-collapse:collapse}th,td{border:1px solid #bbb;padding:.25rem .5rem;text-align:left}code{background:#f2f2f2;padding:0 .2rem}";

/// The document as an HTML page, ending with one newline.
pub fn write(doc: &Document) -> String {
    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        escape(&doc.title)
    );
    for block in &doc.blocks {
        match block {
            Block::Heading(level, content) => {
                let _ = writeln!(h, "<h{level}>{}</h{level}>", line(content));
            }
            Block::Paragraph(lines) => {
                let text: Vec<String> = lines.iter().map(|l| line(l)).collect();
                let _ = writeln!(h, "<p>{}</p>", text.join("\n"));
            }
            Block::List(items) => {
                h.push_str("<ul>\n");
                for item in items {
                    let _ = writeln!(h, "<li>{}</li>", line(item));
                }
                h.push_str("</ul>\n");
            }
            Block::Table { columns, rows } => {
                h.push_str("<table>\n<tr>");
                for c in columns {
                    let _ = write!(h, "<th>{}</th>", escape(c));
                }
                h.push_str("</tr>\n");
                for row in rows {
                    h.push_str("<tr>");
                    for cell in row {
                        let _ = write!(h, "<td>{}</td>", escape(cell));
                    }
                    h.push_str("</tr>\n");
                }
                h.push_str("</table>\n");
            }
        }
    }
    h.push_str("</body>\n</html>\n");
    h
}
