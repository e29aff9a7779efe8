//! C2SP `tlog-checkpoint` bodies: origin, tree size, root hash, optional extension lines.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;

use crate::hash::Hash;
use crate::NoteError;

/// A checkpoint body (unsigned).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// the log's origin line (also the signing key's name)
    pub origin: String,
    /// the number of entries committed to
    pub size: u64,
    /// the Merkle tree hash of those entries
    pub root: Hash,
    /// extension lines, opaque to this crate
    pub extensions: Vec<String>,
}

impl Checkpoint {
    /// A checkpoint without extension lines.
    pub fn new(origin: &str, size: u64, root: Hash) -> Self {
        Self {
            origin: origin.to_string(),
            size,
            root,
            extensions: Vec::new(),
        }
    }

    /// The note text: `origin\nsize\nbase64(root)\n[extension\n]*`.
    pub fn to_body(&self) -> String {
        let mut body = format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            B64.encode(self.root)
        );
        for line in &self.extensions {
            body.push_str(line);
            body.push('\n');
        }
        body
    }

    /// Parses a note text as a checkpoint body.
    pub fn parse(text: &str) -> Result<Self, NoteError> {
        let bad = |why: &str| NoteError::BadCheckpoint(why.to_string());
        let body = text
            .strip_suffix('\n')
            .ok_or_else(|| bad("must end with a newline"))?;
        let mut lines = body.split('\n');
        let origin = lines
            .next()
            .filter(|l| !l.is_empty())
            .ok_or_else(|| bad("empty origin"))?;
        let size_line = lines.next().ok_or_else(|| bad("missing tree size"))?;
        if size_line.is_empty()
            || !size_line.bytes().all(|b| b.is_ascii_digit())
            || (size_line.len() > 1 && size_line.starts_with('0'))
        {
            return Err(bad(
                "tree size must be a decimal number without leading zeros",
            ));
        }
        let size: u64 = size_line
            .parse()
            .map_err(|_| bad("tree size out of range"))?;
        let root_line = lines.next().ok_or_else(|| bad("missing root hash"))?;
        let root = B64
            .decode(root_line)
            .ok()
            .and_then(|r| Hash::try_from(r.as_slice()).ok())
            .ok_or_else(|| bad("root hash must be base64 of 32 bytes"))?;
        let extensions: Vec<String> = lines.map(str::to_string).collect();
        if extensions.iter().any(String::is_empty) {
            return Err(bad("empty extension line"));
        }
        Ok(Self {
            origin: origin.to_string(),
            size,
            root,
            extensions,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_rejects() {
        let cp = Checkpoint::new("example.com/log", 20852163, [7; 32]);
        assert_eq!(Checkpoint::parse(&cp.to_body()).unwrap(), cp);
        for bad in [
            "",
            "o\n",
            "o\n01\nAAAA\n",
            "o\n1\nAAAA\n",
            "o\n-1\nBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=\n",
            "o\n1\nBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=",
            "o\n99999999999999999999999\nBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=\n",
        ] {
            assert!(Checkpoint::parse(bad).is_err(), "accepted {bad:?}");
        }
    }
}
