//! A line diff between two texts of a document (two published versions, or a published one
//! and what the live settings render now): each line kept, removed or added, in order.

use serde::Serialize;

/// The most lines either side may have for a diff (a published document is far shorter).
pub const MAX_DIFF_LINES: usize = 5_000;

/// One line of a diff.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "op", content = "line", rename_all = "lowercase")]
pub enum Line {
    /// in both
    Same(String),
    /// only in the old text
    Removed(String),
    /// only in the new text
    Added(String),
}

/// The lines of `old` and `new`, aligned on their longest common subsequence; `None` when
/// either has more than [`MAX_DIFF_LINES`] lines.
pub fn lines(old: &str, new: &str) -> Option<Vec<Line>> {
    let a: Vec<&str> = old.lines().collect();
    let b: Vec<&str> = new.lines().collect();
    if a.len() > MAX_DIFF_LINES || b.len() > MAX_DIFF_LINES {
        return None;
    }
    // lcs[i][j]: the longest common subsequence of a[i..] and b[j..].
    let mut lcs = vec![vec![0u32; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::new();
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            out.push(Line::Same(a[i].to_string()));
            i += 1;
            j += 1;
        } else if j < b.len() && (i == a.len() || lcs[i][j + 1] >= lcs[i + 1][j]) {
            out.push(Line::Added(b[j].to_string()));
            j += 1;
        } else {
            out.push(Line::Removed(a[i].to_string()));
            i += 1;
        }
    }
    Some(out)
}

/// A diff as text: ` ` kept, `-` removed, `+` added, one line each.
pub fn unified(lines: &[Line]) -> String {
    let mut out = String::new();
    for line in lines {
        let (mark, text) = match line {
            Line::Same(t) => (' ', t),
            Line::Removed(t) => ('-', t),
            Line::Added(t) => ('+', t),
        };
        out.push(mark);
        out.push_str(text);
        out.push('\n');
    }
    out
}
