//! The validator's state: the source, the diagnostics found so far, and the small checks
//! every part of the map shares (names, clipping user text in messages).

use std::path::Path;

use toml::Spanned;

use super::source::{line_column, Diagnostic};

/// The map being validated and what is wrong with it so far.
pub(crate) struct Check<'a> {
    pub(crate) file: &'a Path,
    pub(crate) text: &'a str,
    pub(crate) found: Vec<Diagnostic>,
}

impl Check<'_> {
    /// Records a problem at the start of `span`.
    pub(crate) fn at(&mut self, span: std::ops::Range<usize>, message: String) {
        let (line, column) = line_column(self.text, span.start);
        self.found.push(Diagnostic {
            file: self.file.to_path_buf(),
            line,
            column,
            message,
        });
    }

    /// The 1-based line of `span`.
    pub(crate) fn line(&self, span: &std::ops::Range<usize>) -> usize {
        line_column(self.text, span.start).0
    }
}

/// Refuses a name that is empty, too long or has characters other than letters, digits,
/// `_`, `-`, `$`.
pub(crate) fn check_name(c: &mut Check<'_>, what: &str, name: &Spanned<String>) {
    let n = name.get_ref();
    let ok = !n.is_empty()
        && n.len() <= 128
        && n.chars()
            .all(|ch| ch.is_ascii_alphanumeric() || matches!(ch, '_' | '-' | '$'))
        && !n.starts_with('-');
    if !ok {
        c.at(
            name.span(),
            format!(
                "`{}` is not a {what} name (letters, digits, `_`, `-`, `$`; at most 128)",
                clip(n)
            ),
        );
    }
}

/// User text shortened for a message.
pub(crate) fn clip(s: &str) -> String {
    const MAX: usize = 80;
    if s.chars().count() <= MAX {
        s.to_owned()
    } else {
        format!("{}…", s.chars().take(MAX).collect::<String>())
    }
}
