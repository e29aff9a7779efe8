//! What a detector pass reports, and which finding wins where two overlap.

use crate::Entity;

/// A match that passed every check, as byte offsets into the scanned buffer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RawFinding {
    /// index of the rule in [`Detector::rules`](crate::Detector::rules)
    pub rule: usize,
    /// start of the value (the rule's capture group)
    pub start: usize,
    /// end of the value
    pub end: usize,
    /// 0–1: the rule's confidence, raised by context words
    pub score: f32,
}

/// Whether `a` wins over `b` where the two overlap. Between entities of different kinds
/// the one that holds the other whole wins (a `cvv 824` must not cut the SSN `824-91-2137`
/// it starts); otherwise, and between two rules for one entity (a specific token format
/// and the generic high-entropy rule), the earlier rule in the set.
fn wins(a: &RawFinding, b: &RawFinding, entity: impl Fn(usize) -> Entity) -> bool {
    if entity(a.rule) != entity(b.rule) {
        let a_holds_b = a.start <= b.start && a.end >= b.end;
        let b_holds_a = b.start <= a.start && b.end >= a.end;
        if a_holds_b != b_holds_a {
            return a_holds_b;
        }
    }
    a.rule < b.rule
}

/// Keeps the winning finding where findings overlap ([`wins`]), ordered by start.
pub(super) fn resolve_overlaps(
    mut found: Vec<RawFinding>,
    entity: impl Fn(usize) -> Entity + Copy,
) -> Vec<RawFinding> {
    if found.len() < 2 {
        return found;
    }
    // Nearly sorted already (the pass goes in order; window findings follow): a stable sort
    // merges the few runs in linear time, where the unstable one cost thousands of
    // instructions per finding on text dense with findings.
    found.sort_by_key(|f| (f.start, f.rule));
    let mut kept: Vec<RawFinding> = Vec::with_capacity(found.len());
    for f in found {
        // Overlaps are rare; when one happens, walk back over the kept findings it overlaps.
        let clashes = kept.iter().rev().take_while(|k| k.end > f.start).count();
        if clashes == 0 {
            kept.push(f);
        } else if kept[kept.len() - clashes..]
            .iter()
            .all(|k| wins(&f, k, entity))
        {
            kept.truncate(kept.len() - clashes);
            kept.push(f);
        }
    }
    kept
}
