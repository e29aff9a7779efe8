//! The in-memory hash tree a sequencer appends to.
//!
//! Every complete (perfect, aligned) subtree hash is kept, level by level: level 0 holds the
//! leaf hashes, level `k` the hashes of the aligned subtrees of `2^k` leaves. That is two
//! hashes (64 bytes) per entry, and it makes roots at any earlier size, proofs and tiles
//! cheap lookups instead of re-hashing.

use crate::hash::{empty_root, node_hash, Hash};
use crate::source::HashSource;

/// An append-only RFC 6962 tree of leaf hashes.
#[derive(Debug, Clone, Default)]
pub struct Tree {
    levels: Vec<Vec<Hash>>,
}

impl Tree {
    /// An empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// Builds a tree from leaf hashes in order.
    pub fn from_leaves<I: IntoIterator<Item = Hash>>(leaves: I) -> Self {
        let mut tree = Self::new();
        for leaf in leaves {
            tree.push(leaf);
        }
        tree
    }

    /// The number of leaves.
    pub fn size(&self) -> u64 {
        self.levels.first().map_or(0, |l| l.len() as u64)
    }

    /// Appends one leaf hash and returns its index.
    pub fn push(&mut self, leaf: Hash) -> u64 {
        let index = self.size();
        let mut level = 0;
        let mut hash = leaf;
        loop {
            if self.levels.len() == level {
                self.levels.push(Vec::new());
            }
            let nodes = &mut self.levels[level];
            nodes.push(hash);
            if nodes.len() % 2 == 1 {
                break;
            }
            let n = nodes.len();
            hash = node_hash(&nodes[n - 2], &nodes[n - 1]);
            level += 1;
        }
        index
    }

    /// Forgets every leaf from `size` on; used to roll back a batch whose commit failed.
    pub fn truncate(&mut self, size: u64) {
        for (level, nodes) in self.levels.iter_mut().enumerate() {
            nodes.truncate((size >> level) as usize);
        }
        while self.levels.last().is_some_and(Vec::is_empty) {
            self.levels.pop();
        }
    }

    /// The leaf hash at `index`, if present.
    pub fn leaf(&self, index: u64) -> Option<Hash> {
        self.node(0, index)
    }

    /// The hash of the complete subtree of `2^level` leaves starting at leaf `index << level`.
    pub fn node(&self, level: u32, index: u64) -> Option<Hash> {
        self.levels
            .get(level as usize)
            .and_then(|l| l.get(usize::try_from(index).ok()?))
            .copied()
    }

    /// All complete nodes of one level, from `start` on (the raw material of tiles).
    pub fn level_slice(&self, level: u32, start: u64, len: u64) -> Option<&[Hash]> {
        let nodes = self.levels.get(level as usize)?;
        let start = usize::try_from(start).ok()?;
        let end = start.checked_add(usize::try_from(len).ok()?)?;
        nodes.get(start..end)
    }

    /// The root of the current tree.
    pub fn root(&self) -> Hash {
        self.root_at(self.size()).unwrap_or_else(empty_root)
    }

    /// The root the tree had when it held `size` leaves, or `None` if `size` is too large.
    pub fn root_at(&self, size: u64) -> Option<Hash> {
        if size > self.size() {
            return None;
        }
        if size == 0 {
            return Some(empty_root());
        }
        // Fold the perfect subtrees of the binary decomposition of `size`, smallest first.
        let mut acc: Option<Hash> = None;
        for level in 0..64u32 {
            if size & (1 << level) == 0 {
                continue;
            }
            let index = (size >> level) - 1;
            let node = self.node(level, index)?;
            acc = Some(match acc {
                None => node,
                Some(right) => node_hash(&node, &right),
            });
        }
        acc
    }
}

impl HashSource for Tree {
    fn size(&self) -> u64 {
        Tree::size(self)
    }

    fn perfect(&self, level: u32, index: u64) -> Option<Hash> {
        self.node(level, index)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::leaf_hash;
    use proptest::prelude::*;

    /// RFC 6962 MTH, straight from the definition: the model the tree is checked against.
    pub(crate) fn model_root(leaves: &[Hash]) -> Hash {
        match leaves.len() {
            0 => empty_root(),
            1 => leaves[0],
            n => {
                let k = 1usize << (usize::BITS - 1 - (n - 1).leading_zeros());
                node_hash(&model_root(&leaves[..k]), &model_root(&leaves[k..]))
            }
        }
    }

    #[test]
    fn rfc6962_eight_leaf_root() {
        let inputs: [&[u8]; 8] = [
            b"",
            b"\x00",
            b"\x10",
            b"\x20\x21",
            b"\x30\x31",
            b"\x40\x41\x42\x43",
            b"\x50\x51\x52\x53\x54\x55\x56\x57",
            b"\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f",
        ];
        let tree = Tree::from_leaves(inputs.iter().map(|e| leaf_hash(e)));
        assert_eq!(
            hex::encode(tree.root()),
            "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"
        );
    }

    proptest! {
        #[test]
        fn roots_match_the_model_at_every_size(n in 0usize..300) {
            let leaves: Vec<Hash> = (0..n).map(|i| leaf_hash(&i.to_le_bytes())).collect();
            let tree = Tree::from_leaves(leaves.iter().copied());
            for size in 0..=n {
                prop_assert_eq!(tree.root_at(size as u64), Some(model_root(&leaves[..size])));
            }
            prop_assert_eq!(tree.root_at(n as u64 + 1), None);
        }

        #[test]
        fn truncate_then_regrow_is_the_same_tree(n in 1usize..200, cut in 0usize..200) {
            let cut = cut % n;
            let leaves: Vec<Hash> = (0..n).map(|i| leaf_hash(&i.to_le_bytes())).collect();
            let full = Tree::from_leaves(leaves.iter().copied());
            let mut tree = full.clone();
            tree.truncate(cut as u64);
            prop_assert_eq!(tree.root(), model_root(&leaves[..cut]));
            for leaf in &leaves[cut..] {
                tree.push(*leaf);
            }
            prop_assert_eq!(tree.root(), full.root());
        }
    }
}
