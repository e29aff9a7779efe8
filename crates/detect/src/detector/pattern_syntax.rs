//! How a rule's pattern and a keyword become regex syntax: the syntax every detector regex
//! is compiled with, keyword spellings and escaping, and counting a pattern's groups.

use regex_automata::meta;
use regex_automata::util::syntax;

pub(super) fn syntax_config() -> syntax::Config {
    // Byte-oriented with ASCII classes: what Go's RE2 (and so gitleaks) does, and what lets the
    // lazy DFA handle `\b` without falling back to slower engines.
    syntax::Config::new().unicode(false).utf8(false)
}

pub(super) fn compile_one(pattern: &str) -> std::result::Result<meta::Regex, String> {
    meta::Builder::new()
        .syntax(syntax_config())
        .configure(meta::Config::new().utf8_empty(false))
        .build(pattern)
        .map_err(|e| e.to_string())
}

/// A keyword, lower-cased, and where it has several words the spellings code gives it as one
/// identifier: `tax file` is also `taxfile` (`taxFileNumber`) and `tax_file`.
pub(super) fn spellings(keyword: &str) -> Vec<String> {
    let lower = keyword.to_ascii_lowercase();
    if !lower.contains(' ') || lower.trim() != lower {
        return vec![lower];
    }
    ["", "_"]
        .iter()
        .map(|joint| lower.replace(' ', joint))
        .chain([lower.clone()])
        .collect()
}

/// Escapes a literal for use inside a regex.
pub(super) fn regex_syntax_escape(literal: &str) -> String {
    let mut out = String::with_capacity(literal.len() * 2);
    for c in literal.chars() {
        if "\\.+*?()|[]{}^$#&-~".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The number of explicit capture groups in `pattern`, or why it does not compile.
pub(crate) fn capture_groups(pattern: &str) -> std::result::Result<usize, String> {
    let regex = compile_one(pattern)?;
    Ok(regex
        .group_info()
        .group_len(regex_automata::PatternID::ZERO)
        - 1)
}
