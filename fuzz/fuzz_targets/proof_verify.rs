//! Inclusion and consistency proofs from untrusted hands (a `.tlog-proof` file, a hostile log):
//! the target builds a real proof in a real tree, then lets the input tamper with it — move the
//! index or the sizes, flip a bit of a hash, drop, insert or replace hashes, swap the leaf, or
//! swap a root for one of another size, of another tree or of nothing. Verification never
//! panics, the untouched proof verifies, and whatever verifies is true of the tree.
//!
//! "True" is what a proof can show: a root of another tree (or of none) never verifies; a
//! leaf verifies only under a root of a tree that holds it, and at its own index when the root
//! is the one of the claimed size. A proof does not bind a root to a size: leaf 42's path in
//! a tree of 43 leaves is leaf 41's in one of 42, so a root signed for the wrong size (the
//! checkpoint's lie, a signed and provable equivocation) can place a leaf at a wrong index.
#![no_main]
use evident_ledger::hash::{leaf_hash, Hash};
use evident_ledger::proof::{
    consistency_proof, inclusion_proof, verify_consistency, verify_inclusion,
};
use evident_ledger::tree::Tree;
use libfuzzer_sys::fuzz_target;

/// The largest tree built; big enough for every shape of proof up to six levels.
const MAX_LEAVES: u64 = 64;

/// The tree the proofs come from, and another with no leaf in common (past the empty prefix).
fn trees() -> &'static (Tree, Tree) {
    static TREES: std::sync::OnceLock<(Tree, Tree)> = std::sync::OnceLock::new();
    TREES.get_or_init(|| {
        let build = |from: u64| {
            Tree::from_leaves((from..from + MAX_LEAVES).map(|i| leaf_hash(&i.to_be_bytes())))
        };
        (build(0), build(1000))
    })
}

/// The size of the tree's prefix whose root is `root`, if it is one.
fn size_of_root(tree: &Tree, root: &Hash) -> Option<u64> {
    (0..=MAX_LEAVES).find(|&s| tree.root_at(s).as_ref() == Some(root))
}

/// What a proof claims: (index or first size, size, leaf or first root, root) and the proof.
struct Claim {
    a: u64,
    b: u64,
    leaf: Hash,
    root: Hash,
    proof: Vec<Hash>,
}

/// One tampering, read from 10 bytes of input: an operation, an argument and a position.
fn tamper(claim: &mut Claim, op: &[u8]) {
    let arg = u64::from_le_bytes(op[1..9].try_into().expect("8 bytes"));
    let at = usize::from(op[9]);
    let (ours, other) = trees();
    let hash = |x: u64| leaf_hash(&x.to_le_bytes());
    let some_root = |arg: u64| {
        let size = (arg >> 2) % (MAX_LEAVES + 1);
        match arg & 3 {
            0 => ours.root_at(size).expect("size within the tree"),
            1 => other.root_at(size).expect("size within the tree"),
            // a hash of nothing in either tree, and never one the leaf tampering makes
            _ => leaf_hash(&[&arg.to_le_bytes()[..], b"root"].concat()),
        }
    };
    match op[0] % 10 {
        0 => claim.a = arg,
        1 => claim.b = arg,
        2 => claim.a = claim.a.wrapping_add(arg % 5).wrapping_sub(2),
        3 => claim.b = claim.b.wrapping_add(arg % 5).wrapping_sub(2),
        4 if !claim.proof.is_empty() => {
            let i = at % claim.proof.len();
            claim.proof[i][(arg % 32) as usize] ^= 1 << (arg % 8);
        }
        5 if !claim.proof.is_empty() => {
            claim.proof.remove(at % claim.proof.len());
        }
        6 => claim.proof.insert(at % (claim.proof.len() + 1), hash(arg)),
        7 if !claim.proof.is_empty() => {
            let i = at % claim.proof.len();
            claim.proof[i] = some_root(arg);
        }
        8 => {
            claim.leaf = if arg & 1 == 0 {
                hash(arg)
            } else {
                ours.leaf(arg % MAX_LEAVES).expect("a leaf")
            }
        }
        9 => claim.root = some_root(arg),
        _ => {}
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&[kind, x, y], ops)) = data.split_first_chunk::<3>() else {
        return;
    };
    let (tree, _) = trees();
    let size = u64::from(y) % MAX_LEAVES + 1;
    let inclusion = kind & 1 == 0;
    let mut claim = if inclusion {
        let index = u64::from(x) % size;
        Claim {
            a: index,
            b: size,
            leaf: tree.leaf(index).expect("leaf in the tree"),
            root: tree.root_at(size).expect("size within the tree"),
            proof: inclusion_proof(tree, index, size).expect("a real inclusion proof"),
        }
    } else {
        let first = u64::from(x) % size + 1;
        Claim {
            a: first,
            b: size,
            leaf: tree.root_at(first).expect("size within the tree"),
            root: tree.root_at(size).expect("size within the tree"),
            proof: consistency_proof(tree, first, size).expect("a real consistency proof"),
        }
    };
    let tampered = !ops.is_empty();
    for op in ops.chunks_exact(10).take(8) {
        tamper(&mut claim, op);
    }
    let Claim {
        a,
        b,
        leaf,
        root,
        proof,
    } = &claim;
    let verified = if inclusion {
        verify_inclusion(*a, *b, leaf, proof, root).is_ok()
    } else {
        verify_consistency(*a, *b, leaf, root, proof).is_ok()
    };
    if !tampered {
        assert!(verified, "a real proof did not verify");
    }
    if !verified {
        return;
    }
    // Short of a SHA-256 collision, what verified is true of the tree.
    let Some(root_size) = size_of_root(tree, root) else {
        panic!("a proof verified against a root that is not one of the tree's");
    };
    let honest =
        |size: u64, root: &Hash| size <= MAX_LEAVES && tree.root_at(size).as_ref() == Some(root);
    if inclusion {
        let Some(at) = (0..root_size).find(|&i| tree.leaf(i).as_ref() == Some(leaf)) else {
            panic!("a proof verified a leaf that is not under its root");
        };
        if honest(*b, root) {
            assert_eq!(at, *a, "a proof verified a leaf at another index");
        }
    } else {
        let Some(first_size) = size_of_root(tree, leaf) else {
            panic!("a consistency proof verified a first root that is not one of the tree's");
        };
        if honest(*a, leaf) && honest(*b, root) {
            assert!(first_size <= root_size);
        }
    }
});
