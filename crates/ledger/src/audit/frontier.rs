//! The right edge of a growing tree, [`Frontier`]: the `O(log n)` perfect-subtree roots that
//! give the root at the current size, which is all an audit keeps of the tree it replays.

use crate::hash::{empty_root, node_hash, Hash};

/// The right edge of a growing tree: enough to give the root at the current size.
#[derive(Debug, Clone, Default)]
pub(super) struct Frontier {
    /// the number of leaves
    pub(super) size: u64,
    /// perfect subtree roots, largest first (one per set bit of `size`)
    pub(super) stack: Vec<Hash>,
}

impl Frontier {
    /// Appends one leaf hash.
    pub(super) fn push(&mut self, leaf: Hash) {
        self.push_subtree(leaf, 0);
    }

    /// Appends a perfect subtree of `2^height` leaves; the size must be a multiple of it.
    pub(super) fn push_subtree(&mut self, subtree: Hash, height: u32) {
        debug_assert_eq!(self.size % (1 << height), 0, "misaligned subtree");
        let mut hash = subtree;
        let mut merges = (self.size >> height).trailing_ones();
        while merges > 0 {
            let Some(left) = self.stack.pop() else { break };
            hash = node_hash(&left, &hash);
            merges -= 1;
        }
        self.stack.push(hash);
        self.size += 1 << height;
    }

    /// The root at the current size.
    pub(super) fn root(&self) -> Hash {
        root_of(&self.stack, &[])
    }
}

/// The root of a tree given as its perfect subtrees, largest first: `log` then `more`
/// (subtrees of a segment, all smaller than the smallest of `log`).
pub(super) fn root_of(log: &[Hash], more: &[Hash]) -> Hash {
    let mut iter = log.iter().chain(more).rev();
    let Some(first) = iter.next() else {
        return empty_root();
    };
    iter.fold(*first, |acc, left| node_hash(left, &acc))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::leaf_hash;
    use crate::tree::Tree;

    #[test]
    fn frontier_matches_tree() {
        let mut frontier = Frontier::default();
        let mut tree = Tree::new();
        for i in 0u32..1000 {
            assert_eq!(frontier.root(), tree.root());
            frontier.push(leaf_hash(&i.to_be_bytes()));
            tree.push(leaf_hash(&i.to_be_bytes()));
        }
    }
}
