//! C2SP `tlog-tiles`: the one place tile and entry-bundle paths are defined, the tiles cut
//! from a [`Tree`], and entry bundles (big-endian `u16` length-prefixed entries).

use crate::hash::Hash;
use crate::tree::Tree;
use crate::TileError;

/// Tiles are subtrees of height 8.
pub const TILE_HEIGHT: u32 = 8;
/// A full tile holds 256 hashes (and a full bundle 256 entries).
pub const TILE_WIDTH: u64 = 1 << TILE_HEIGHT;
/// The largest entry an entry bundle can carry.
pub const MAX_ENTRY_BYTES: usize = u16::MAX as usize;

/// What a path under `tile/` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TilePath {
    /// `tile/<L>/<N>[.p/<W>]`: hashes at level `L`.
    Hashes {
        /// the tile level (0..=63)
        level: u8,
        /// the tile index within the level
        index: u64,
        /// `Some(w)` for a partial tile of `w` hashes (1..=255)
        width: Option<u8>,
    },
    /// `tile/entries/<N>[.p/<W>]`: an entry bundle.
    Entries {
        /// the bundle index
        index: u64,
        /// `Some(w)` for a partial bundle of `w` entries
        width: Option<u8>,
    },
}

/// Encodes a tile index as zero-padded 3-digit path elements: 1234067 → `x001/x234/067`.
pub fn encode_index(mut index: u64) -> String {
    let mut parts = vec![format!("{:03}", index % 1000)];
    index /= 1000;
    while index > 0 {
        parts.push(format!("x{:03}", index % 1000));
        index /= 1000;
    }
    parts.reverse();
    parts.join("/")
}

fn parse_small(text: &str, max: u64) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if text.len() > 1 && text.starts_with('0') {
        return None;
    }
    text.parse().ok().filter(|v| *v <= max)
}

impl TilePath {
    /// Parses the part of a path after `tile/`, accepting only canonical encodings.
    pub fn parse(path: &str) -> Result<Self, TileError> {
        let bad = || TileError::BadPath(path.chars().take(200).collect());
        let (head, rest) = path.split_once('/').ok_or_else(bad)?;
        let (index_part, width) = match rest.split_once(".p/") {
            Some((index, w)) => {
                let w = parse_small(w, 255).filter(|w| *w >= 1).ok_or_else(bad)?;
                (index, Some(w as u8))
            }
            None => (rest, None),
        };
        let segments: Vec<&str> = index_part.split('/').collect();
        if segments.len() > 7 {
            return Err(bad());
        }
        let mut index: u64 = 0;
        for (i, seg) in segments.iter().enumerate() {
            let last = i + 1 == segments.len();
            let digits = if last {
                Some(*seg)
            } else {
                seg.strip_prefix('x')
            };
            let digits = digits.filter(|d| d.len() == 3 && d.bytes().all(|b| b.is_ascii_digit()));
            let value: u64 = digits.and_then(|d| d.parse().ok()).ok_or_else(bad)?;
            index = index
                .checked_mul(1000)
                .and_then(|v| v.checked_add(value))
                .ok_or_else(bad)?;
        }
        if encode_index(index) != index_part {
            return Err(bad());
        }
        if head == "entries" {
            return Ok(Self::Entries { index, width });
        }
        let level = parse_small(head, 63).ok_or_else(bad)? as u8;
        Ok(Self::Hashes {
            level,
            index,
            width,
        })
    }

    /// The path below the log prefix, e.g. `tile/1/x001/234.p/17`.
    pub fn to_path(&self) -> String {
        let (head, index, width) = match self {
            Self::Hashes {
                level,
                index,
                width,
            } => (level.to_string(), index, width),
            Self::Entries { index, width } => ("entries".to_string(), index, width),
        };
        let mut path = format!("tile/{head}/{}", encode_index(*index));
        if let Some(w) = width {
            path.push_str(&format!(".p/{w}"));
        }
        path
    }

    /// The number of hashes or entries the resource holds.
    pub fn width(&self) -> u64 {
        match self {
            Self::Hashes { width, .. } | Self::Entries { width, .. } => {
                width.map_or(TILE_WIDTH, u64::from)
            }
        }
    }

    /// For an entry bundle: the range of entry indexes it holds.
    pub fn entry_range(&self) -> Option<std::ops::Range<u64>> {
        match self {
            Self::Entries { index, .. } => {
                let start = index.checked_mul(TILE_WIDTH)?;
                Some(start..start.checked_add(self.width())?)
            }
            Self::Hashes { .. } => None,
        }
    }
}

/// Cuts the hash tile `path` out of `tree`, or [`TileError::NotAvailable`] if the tree does
/// not (yet) hold all of it.
pub fn hash_tile(tree: &Tree, path: &TilePath) -> Result<Vec<u8>, TileError> {
    let TilePath::Hashes { level, index, .. } = *path else {
        return Err(TileError::NotAvailable);
    };
    let tree_level = u32::from(level) * TILE_HEIGHT;
    let start = index
        .checked_mul(TILE_WIDTH)
        .ok_or(TileError::NotAvailable)?;
    let hashes: &[Hash] = tree
        .level_slice(tree_level, start, path.width())
        .ok_or(TileError::NotAvailable)?;
    Ok(hashes.concat())
}

/// Encodes entries as a bundle of big-endian `u16` length-prefixed entries.
pub fn encode_bundle<'a, I: IntoIterator<Item = &'a [u8]>>(
    entries: I,
) -> Result<Vec<u8>, TileError> {
    let mut out = Vec::new();
    for entry in entries {
        let len = u16::try_from(entry.len())
            .map_err(|_| TileError::BadBundle(format!("entry of {} bytes", entry.len())))?;
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(entry);
    }
    Ok(out)
}

/// Splits an entry bundle into its entries.
pub fn decode_bundle(mut bytes: &[u8]) -> Result<Vec<&[u8]>, TileError> {
    let mut entries = Vec::new();
    while !bytes.is_empty() {
        let [a, b, rest @ ..] = bytes else {
            return Err(TileError::BadBundle("truncated length prefix".into()));
        };
        let len = usize::from(u16::from_be_bytes([*a, *b]));
        if rest.len() < len {
            return Err(TileError::BadBundle("truncated entry".into()));
        }
        entries.push(&rest[..len]);
        bytes = &rest[len..];
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::leaf_hash;

    #[test]
    fn index_encoding() {
        assert_eq!(encode_index(0), "000");
        assert_eq!(encode_index(5), "005");
        assert_eq!(encode_index(1234067), "x001/x234/067");
        for path in [
            "1/x001/x234/067",
            "0/005.p/17",
            "entries/x001/000",
            "63/000",
        ] {
            assert_eq!(
                TilePath::parse(path).unwrap().to_path(),
                format!("tile/{path}")
            );
        }
        for bad in [
            "",
            "0",
            "0/5",
            "0/x000/005",
            "0/005.p/0",
            "0/005.p/256",
            "0/005.p/017",
            "64/000",
            "01/000",
            "a/000",
            "0/x1/000",
            "0/005/",
            "0/005.p/",
            "-1/000",
            "0/+05",
            "0/x999/x999/x999/x999/x999/x999/x999/999",
        ] {
            assert!(TilePath::parse(bad).is_err(), "accepted {bad:?}");
        }
    }

    #[test]
    fn tiles_of_a_70000_entry_tree() {
        let tree = Tree::from_leaves((0u32..70_000).map(|i| leaf_hash(&i.to_be_bytes())));
        let full = TilePath::parse("0/272").unwrap();
        assert_eq!(hash_tile(&tree, &full).unwrap().len(), 8192);
        let partial = TilePath::parse("0/273.p/112").unwrap();
        assert_eq!(hash_tile(&tree, &partial).unwrap().len(), 112 * 32);
        assert!(hash_tile(&tree, &TilePath::parse("0/273").unwrap()).is_err());
        assert!(hash_tile(&tree, &TilePath::parse("0/273.p/113").unwrap()).is_err());
        let level1 = hash_tile(&tree, &TilePath::parse("1/001.p/17").unwrap()).unwrap();
        // Each level-1 hash is the root of one full level-0 tile.
        let sub = Tree::from_leaves((256u32 * 256..257 * 256).map(|i| leaf_hash(&i.to_be_bytes())));
        assert_eq!(&level1[..32], &sub.root());
        assert!(hash_tile(&tree, &TilePath::parse("2/000.p/1").unwrap()).is_ok());
    }

    #[test]
    fn bundles_round_trip_and_truncation_is_refused() {
        let entries: Vec<&[u8]> = vec![b"", b"a", &[7u8; 300]];
        let bundle = encode_bundle(entries.iter().copied()).unwrap();
        assert_eq!(decode_bundle(&bundle).unwrap(), entries);
        assert!(decode_bundle(&bundle[..bundle.len() - 1]).is_err());
        assert!(decode_bundle(&[0]).is_err());
        assert!(encode_bundle([&vec![0u8; 70_000][..]]).is_err());
    }
}
