//! The template language, and the document a template renders to.
//!
//! A template is Markdown of a small, fixed shape: `#`, `##` and `###` headings, paragraphs,
//! `- ` bullet items, `**strong**` and `` `code` `` in its own text, and `{# comment #}`
//! lines (left out of the output). `{{name}}` is a setting's value: inline, a text value or a
//! list joined with commas; on a line of its own, a list becomes a bulleted list and a table
//! a table. Nothing else is evaluated — no conditions, no loops, no filters — so a template
//! cannot do anything but show settings.
//!
//! Rendering is strict: a placeholder naming a setting that does not exist, one that is not
//! closed or not a name, or a table used inline is an error naming the template, the line
//! and the setting (every such line at once); nothing is rendered.

use std::collections::BTreeMap;

use evident_core::{Error, Result};

use crate::policy_docs::setting::{Setting, Settings};

/// The longest template read, in bytes.
pub const MAX_TEMPLATE_BYTES: usize = 64 * 1024;

/// How a document is written out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Markdown (the form that is hashed and published)
    Markdown,
    /// a self-contained HTML page
    Html,
}

impl std::str::FromStr for Format {
    type Err = Error;
    fn from_str(text: &str) -> Result<Self> {
        match text {
            "md" | "markdown" => Ok(Format::Markdown),
            "html" => Ok(Format::Html),
            other => Err(Error::BadRequest(format!(
                "no format `{other}`: `md` or `html`"
            ))),
        }
    }
}

/// A template: its name (`access-control`) and text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    /// the document's name
    pub name: String,
    /// where it comes from, as errors name it (`shipped`, `local`)
    pub origin: String,
    /// its text
    pub text: String,
}

/// A piece of a line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inline {
    /// the template's own text (Markdown: `**strong**` and `` `code` `` as written)
    Literal(String),
    /// a setting's value (escaped in every output)
    Value(String),
}

/// A block of the rendered document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Block {
    /// a heading of level 1–3
    Heading(usize, Vec<Inline>),
    /// a paragraph: its lines
    Paragraph(Vec<Vec<Inline>>),
    /// a bulleted list: its items
    List(Vec<Vec<Inline>>),
    /// a table of values
    Table {
        /// the headings
        columns: Vec<String>,
        /// the rows
        rows: Vec<Vec<String>>,
    },
}

/// A rendered document: its blocks and the settings it read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    /// the text of its first level-1 heading (else its name)
    pub title: String,
    /// its blocks, in order
    pub blocks: Vec<Block>,
    /// every setting it read, by name
    pub used: BTreeMap<String, Setting>,
}

/// What is shown for an empty list or table.
const NONE: &str = "none";

fn is_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        && name.len() <= 128
        && chars
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '.' | '-'))
}

/// Renders one template with `settings`.
pub fn render(template: &Template, settings: &Settings) -> Result<Document> {
    Renderer {
        template,
        settings,
        faults: Vec::new(),
        used: BTreeMap::new(),
    }
    .run()
}

struct Renderer<'a> {
    template: &'a Template,
    settings: &'a Settings,
    faults: Vec<String>,
    used: BTreeMap<String, Setting>,
}

enum Open {
    Nothing,
    Paragraph(Vec<Vec<Inline>>),
    List(Vec<Vec<Inline>>),
}

impl Renderer<'_> {
    fn fault(&mut self, line: usize, message: String) {
        if self.faults.len() < 20 {
            self.faults.push(format!("line {line}: {message}"));
        }
    }

    fn lookup(&mut self, line: usize, name: &str) -> Option<Setting> {
        if !is_name(name) {
            self.fault(
                line,
                format!("`{{{{{name}}}}}` is not a setting name (lower-case letters, digits, `.`, `_`, `-`)"),
            );
            return None;
        }
        match self.settings.get(name) {
            Some(value) => {
                self.used.insert(name.to_string(), value.clone());
                Some(value.clone())
            }
            None => {
                let why = match self.settings.why_absent(name) {
                    Some(why) => format!(": {why}"),
                    None => " (`evident policy-doc settings` lists the settings there are)".into(),
                };
                self.fault(line, format!("the setting `{name}` does not exist{why}"));
                None
            }
        }
    }

    /// A line's pieces, placeholders looked up.
    fn inline(&mut self, line: usize, text: &str) -> Vec<Inline> {
        let mut out = Vec::new();
        let mut rest = text;
        while let Some(start) = rest.find("{{") {
            if start > 0 {
                out.push(Inline::Literal(rest[..start].to_string()));
            }
            let after = &rest[start + 2..];
            let Some(end) = after.find("}}") else {
                self.fault(line, "a `{{` is not closed by `}}`".into());
                return out;
            };
            let name = after[..end].trim();
            match self.lookup(line, name) {
                Some(Setting::Text(v)) => out.push(Inline::Value(v)),
                Some(Setting::List(items)) => out.push(Inline::Value(if items.is_empty() {
                    NONE.to_string()
                } else {
                    items.join(", ")
                })),
                Some(Setting::Table { .. }) => self.fault(
                    line,
                    format!("`{name}` is a table: put `{{{{{name}}}}}` on a line of its own"),
                ),
                None => {}
            }
            rest = &after[end + 2..];
        }
        if !rest.is_empty() {
            out.push(Inline::Literal(rest.to_string()));
        }
        out
    }

    fn run(mut self) -> Result<Document> {
        let template = self.template;
        if template.text.len() > MAX_TEMPLATE_BYTES {
            return Err(Error::Conflict(format!(
                "policy document template `{}` ({}) is over {MAX_TEMPLATE_BYTES} bytes",
                template.name, template.origin
            )));
        }
        let mut blocks = Vec::new();
        let mut open = Open::Nothing;
        let mut title = None;
        let close =
            |open: &mut Open, blocks: &mut Vec<Block>| match std::mem::replace(open, Open::Nothing)
            {
                Open::Nothing => {}
                Open::Paragraph(lines) => blocks.push(Block::Paragraph(lines)),
                Open::List(items) => blocks.push(Block::List(items)),
            };
        for (i, raw) in template.text.lines().enumerate() {
            let line = i + 1;
            let text = raw.trim_end();
            let trimmed = text.trim_start();
            if trimmed.is_empty() {
                close(&mut open, &mut blocks);
                continue;
            }
            if trimmed.starts_with("{#") && trimmed.ends_with("#}") {
                continue;
            }
            let hashes = trimmed.bytes().take_while(|b| *b == b'#').count();
            if hashes > 0 && trimmed[hashes..].starts_with(' ') {
                close(&mut open, &mut blocks);
                if hashes > 3 {
                    self.fault(line, "headings go to level 3 (`###`)".into());
                    continue;
                }
                let content = self.inline(line, trimmed[hashes..].trim());
                if hashes == 1 && title.is_none() {
                    title = Some(plain(&content));
                }
                blocks.push(Block::Heading(hashes, content));
                continue;
            }
            if let Some(item) = trimmed.strip_prefix("- ") {
                if !matches!(open, Open::List(_)) {
                    close(&mut open, &mut blocks);
                    open = Open::List(Vec::new());
                }
                let content = self.inline(line, item.trim());
                if let Open::List(items) = &mut open {
                    items.push(content);
                }
                continue;
            }
            if let Some(name) = trimmed
                .strip_prefix("{{")
                .and_then(|t| t.strip_suffix("}}"))
                .filter(|n| !n.contains("{{") && !n.contains("}}"))
            {
                let name = name.trim();
                match self.lookup(line, name) {
                    Some(Setting::List(items)) => {
                        close(&mut open, &mut blocks);
                        let items = if items.is_empty() {
                            vec![NONE.to_string()]
                        } else {
                            items
                        };
                        blocks.push(Block::List(
                            items.into_iter().map(|v| vec![Inline::Value(v)]).collect(),
                        ));
                        continue;
                    }
                    Some(Setting::Table { columns, rows }) => {
                        close(&mut open, &mut blocks);
                        if rows.is_empty() {
                            blocks.push(Block::Paragraph(vec![vec![Inline::Value(
                                NONE.to_string(),
                            )]]));
                        } else {
                            blocks.push(Block::Table { columns, rows });
                        }
                        continue;
                    }
                    Some(Setting::Text(v)) => {
                        push_line(&mut open, &mut blocks, vec![Inline::Value(v)]);
                        continue;
                    }
                    None => continue,
                }
            }
            let content = self.inline(line, trimmed);
            push_line(&mut open, &mut blocks, content);
        }
        close(&mut open, &mut blocks);
        if !self.faults.is_empty() {
            return Err(Error::Conflict(format!(
                "policy document template `{}` ({}): {}; nothing was rendered",
                template.name,
                template.origin,
                self.faults.join("; ")
            )));
        }
        Ok(Document {
            title: title.unwrap_or_else(|| template.name.clone()),
            blocks,
            used: self.used,
        })
    }
}

fn push_line(open: &mut Open, blocks: &mut Vec<Block>, content: Vec<Inline>) {
    match open {
        Open::Paragraph(lines) => lines.push(content),
        _ => {
            match std::mem::replace(open, Open::Nothing) {
                Open::List(items) => blocks.push(Block::List(items)),
                Open::Paragraph(_) | Open::Nothing => {}
            }
            *open = Open::Paragraph(vec![content]);
        }
    }
}

/// A line's text without markup (for the title).
pub fn plain(content: &[Inline]) -> String {
    content
        .iter()
        .map(|i| match i {
            Inline::Literal(t) => t.replace("**", "").replace('`', ""),
            Inline::Value(v) => v.clone(),
        })
        .collect()
}
