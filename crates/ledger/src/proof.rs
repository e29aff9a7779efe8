//! Inclusion and consistency proofs: generation (RFC 6962 §2.1.1–2.1.2) over any source of
//! complete-subtree hashes, and verification (RFC 9162 §2.1.3.2 and §2.1.4.2).

use crate::hash::{empty_root, node_hash, to_hash, Hash};
use crate::ProofError;

pub use crate::source::HashSource;

/// The largest power of two strictly below `n` (`n >= 2`).
fn split_point(n: u64) -> u64 {
    1u64 << (63 - (n - 1).leading_zeros())
}

/// MTH(D[start:start+len]).
fn subtree<S: HashSource + ?Sized>(src: &S, start: u64, len: u64) -> Result<Hash, ProofError> {
    if len == 0 {
        return Ok(empty_root());
    }
    if len.is_power_of_two() && start.is_multiple_of(len) {
        let level = len.trailing_zeros();
        return src
            .perfect(level, start >> level)
            .ok_or(ProofError::SizeTooLarge {
                requested: start + len,
                available: src.size(),
            });
    }
    let k = split_point(len);
    let left = subtree(src, start, k)?;
    let right = subtree(src, start + k, len - k)?;
    Ok(node_hash(&left, &right))
}

/// The root hash of the first `size` leaves of `src`.
pub fn root_at<S: HashSource + ?Sized>(src: &S, size: u64) -> Result<Hash, ProofError> {
    check_size(src, size)?;
    subtree(src, 0, size)
}

fn check_size<S: HashSource + ?Sized>(src: &S, size: u64) -> Result<(), ProofError> {
    if size > src.size() {
        return Err(ProofError::SizeTooLarge {
            requested: size,
            available: src.size(),
        });
    }
    Ok(())
}

/// The audit path of leaf `index` in the tree of the first `size` leaves.
pub fn inclusion_proof<S: HashSource + ?Sized>(
    src: &S,
    index: u64,
    size: u64,
) -> Result<Vec<Hash>, ProofError> {
    check_size(src, size)?;
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    let mut proof = Vec::with_capacity(64);
    path(src, index, 0, size, &mut proof)?;
    Ok(proof)
}

/// PATH(m, D[start:start+n]), pushed leaf-side first.
fn path<S: HashSource + ?Sized>(
    src: &S,
    m: u64,
    start: u64,
    n: u64,
    out: &mut Vec<Hash>,
) -> Result<(), ProofError> {
    if n <= 1 {
        return Ok(());
    }
    let k = split_point(n);
    if m < k {
        path(src, m, start, k, out)?;
        out.push(subtree(src, start + k, n - k)?);
    } else {
        path(src, m - k, start + k, n - k, out)?;
        out.push(subtree(src, start, k)?);
    }
    Ok(())
}

/// The proof that the tree of `first` leaves is a prefix of the tree of `second` leaves.
pub fn consistency_proof<S: HashSource + ?Sized>(
    src: &S,
    first: u64,
    second: u64,
) -> Result<Vec<Hash>, ProofError> {
    check_size(src, second)?;
    if first == 0 || first > second {
        return Err(ProofError::BadSizes { first, second });
    }
    let mut proof = Vec::with_capacity(64);
    subproof(src, first, 0, second, true, &mut proof)?;
    Ok(proof)
}

/// SUBPROOF(m, D[start:start+n], b).
fn subproof<S: HashSource + ?Sized>(
    src: &S,
    m: u64,
    start: u64,
    n: u64,
    complete: bool,
    out: &mut Vec<Hash>,
) -> Result<(), ProofError> {
    if m == n {
        if !complete {
            out.push(subtree(src, start, n)?);
        }
        return Ok(());
    }
    let k = split_point(n);
    if m <= k {
        subproof(src, m, start, k, complete, out)?;
        out.push(subtree(src, start + k, n - k)?);
    } else {
        subproof(src, m - k, start + k, n - k, false, out)?;
        out.push(subtree(src, start, k)?);
    }
    Ok(())
}

/// Checks that `leaf` is at `index` in the tree of `size` leaves with root `root`.
pub fn verify_inclusion(
    index: u64,
    size: u64,
    leaf: &[u8],
    proof: &[Hash],
    root: &[u8],
) -> Result<(), ProofError> {
    let leaf = to_hash(leaf)?;
    let root = to_hash(root)?;
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    let (inner, border) = decompose(index, size);
    if proof.len() != inner + border {
        return Err(ProofError::WrongLength);
    }
    let mut fnode = index;
    let mut snode = size - 1;
    let mut r = leaf;
    for p in proof {
        if snode == 0 {
            return Err(ProofError::WrongLength);
        }
        if fnode & 1 == 1 || fnode == snode {
            r = node_hash(p, &r);
            if fnode & 1 == 0 {
                while fnode & 1 == 0 && fnode != 0 {
                    fnode >>= 1;
                    snode >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    if snode != 0 {
        return Err(ProofError::WrongLength);
    }
    if r != root {
        return Err(ProofError::RootMismatch);
    }
    Ok(())
}

/// The number of proof hashes below and above the point where the leaf's path meets the
/// right border of the tree.
fn decompose(index: u64, size: u64) -> (usize, usize) {
    let inner = 64 - (index ^ (size - 1)).leading_zeros();
    // When the paths part at the top bit (a size above 2^63, which a hostile log can sign),
    // all 64 hashes are inner and none is on the border: `index >> 64` would overflow.
    let border = index.checked_shr(inner).unwrap_or(0).count_ones() as usize;
    (inner as usize, border)
}

/// Checks that the tree of `first` leaves with root `first_root` is a prefix of the tree of
/// `second` leaves with root `second_root`.
pub fn verify_consistency(
    first: u64,
    second: u64,
    first_root: &[u8],
    second_root: &[u8],
    proof: &[Hash],
) -> Result<(), ProofError> {
    if first > second {
        return Err(ProofError::BadSizes { first, second });
    }
    if first == second {
        // Equal sizes need no proof: the roots must simply be the same (and, for the empty
        // tree, be the hash of nothing).
        if !proof.is_empty() {
            return Err(ProofError::WrongLength);
        }
        if first_root != second_root || (first == 0 && first_root != empty_root()) {
            return Err(ProofError::RootMismatch);
        }
        return Ok(());
    }
    if first == 0 {
        return Err(ProofError::BadSizes { first, second });
    }
    let first_root = to_hash(first_root)?;
    let second_root = to_hash(second_root)?;
    let mut path: Vec<Hash> = Vec::with_capacity(proof.len() + 1);
    if first.is_power_of_two() {
        path.push(first_root);
    }
    path.extend_from_slice(proof);
    let Some((seed, rest)) = path.split_first() else {
        return Err(ProofError::WrongLength);
    };
    let mut fnode = first - 1;
    let mut snode = second - 1;
    while fnode & 1 == 1 {
        fnode >>= 1;
        snode >>= 1;
    }
    let mut fr = *seed;
    let mut sr = *seed;
    for c in rest {
        if snode == 0 {
            return Err(ProofError::WrongLength);
        }
        if fnode & 1 == 1 || fnode == snode {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            if fnode & 1 == 0 {
                while fnode & 1 == 0 && fnode != 0 {
                    fnode >>= 1;
                    snode >>= 1;
                }
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    if snode != 0 {
        return Err(ProofError::WrongLength);
    }
    if fr != first_root || sr != second_root {
        return Err(ProofError::RootMismatch);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::leaf_hash;
    use crate::tree::Tree;
    use proptest::prelude::*;

    fn tree(n: u64) -> Tree {
        Tree::from_leaves((0..n).map(|i| leaf_hash(&i.to_be_bytes())))
    }

    proptest! {
        #[test]
        fn every_inclusion_proof_verifies_and_a_flipped_bit_does_not(
            n in 1u64..400, i in 0u64..400, flip in 0usize..64
        ) {
            let t = tree(n);
            let size = 1 + i % n;
            let index = i % size;
            let root = t.root_at(size).unwrap();
            let leaf = t.leaf(index).unwrap();
            let mut proof = inclusion_proof(&t, index, size).unwrap();
            prop_assert!(verify_inclusion(index, size, &leaf, &proof, &root).is_ok());
            if !proof.is_empty() {
                let at = flip % proof.len();
                proof[at][flip % 32] ^= 1;
                prop_assert!(verify_inclusion(index, size, &leaf, &proof, &root).is_err());
            } else {
                prop_assert!(verify_inclusion(index, size + 1, &leaf, &proof, &root).is_err());
            }
        }

        #[test]
        fn every_consistency_proof_verifies_and_wrong_sizes_do_not(
            n in 1u64..400, a in 1u64..400, b in 0u64..400
        ) {
            let t = tree(n);
            let second = 1 + b % n;
            let first = 1 + a % second;
            let proof = consistency_proof(&t, first, second).unwrap();
            let r1 = t.root_at(first).unwrap();
            let r2 = t.root_at(second).unwrap();
            prop_assert!(verify_consistency(first, second, &r1, &r2, &proof).is_ok());
            if first < second {
                prop_assert!(verify_consistency(first, second, &r2, &r1, &proof).is_err());
                let mut bent = proof.clone();
                bent[0][0] ^= 0x80;
                prop_assert!(verify_consistency(first, second, &r1, &r2, &bent).is_err());
            }
        }
    }

    #[test]
    fn generation_refuses_out_of_range() {
        let t = tree(5);
        assert!(inclusion_proof(&t, 5, 5).is_err());
        assert!(inclusion_proof(&t, 0, 6).is_err());
        assert!(consistency_proof(&t, 0, 5).is_err());
        assert!(consistency_proof(&t, 4, 3).is_err());
        assert!(consistency_proof(&t, 3, 6).is_err());
    }

    /// Found by the `proof_verify` fuzz target: a tree size above 2^63 (which a hostile log
    /// can sign) overflowed a shift while counting the proof's hashes. Leaf 0 of a tree of
    /// 2^63 + 1 leaves has a 64-hash path, all on its left edge.
    #[test]
    fn a_proof_in_a_tree_of_more_than_2_pow_63_leaves_is_checked_without_overflow() {
        let size = (1u64 << 63) + 1;
        let leaf = leaf_hash(b"first");
        let proof: Vec<Hash> = (0u64..64).map(|i| leaf_hash(&i.to_be_bytes())).collect();
        let root = proof.iter().fold(leaf, |r, p| node_hash(&r, p));
        assert_eq!(verify_inclusion(0, size, &leaf, &proof, &root), Ok(()));
        assert_eq!(
            verify_inclusion(0, size, &leaf, &proof[1..], &root),
            Err(ProofError::WrongLength)
        );
        assert_eq!(
            verify_inclusion(31, u64::MAX, &leaf, &[], &root),
            Err(ProofError::WrongLength)
        );
    }
}
