//! Full verification of a stored log: every entry against its leaf hash, every signed
//! checkpoint's signature and root, and every stored personal value against the commitment
//! in its entry. It reads through the storage trait alone, so it runs on any backend and on a
//! copy of a data directory with an independently obtained verifier key (`evident log
//! verify`), in segments on every core.

use evident_ledger::audit::Auditor;
use evident_ledger::Hash;

use crate::personal;
use crate::store::{self, LogStore};
use crate::{Error, Result};
use std::sync::atomic::Ordering;

/// What a full verification checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    /// entries replayed
    pub entries: u64,
    /// bytes of entries hashed
    pub bytes: u64,
    /// checkpoints whose signature and root were checked
    pub checkpoints: u64,
    /// stored personal values checked against their commitments
    pub personal: u64,
    /// sealed personal values not checked, for want of the root key
    pub personal_sealed: u64,
    /// the root of the whole log
    pub root: Hash,
    /// threads that replayed segments of the log side by side
    pub workers: usize,
}

/// Verifies a store against a verifier key; the engine's `log().verify()`. Usable without a running
/// sequencer (and so on a copy of a data directory, with an independently obtained key).
/// `connect` opens a connection; one is used per core, each replaying its own segments of the
/// log.
pub fn verify_store<F>(
    connect: F,
    verifier: &evident_ledger::note::NoteVerifier,
    progress: &mut dyn FnMut(u64),
) -> Result<VerifyReport>
where
    F: Fn() -> Result<Box<dyn LogStore>>,
{
    verify_store_sealed(connect, verifier, None, progress)
}

/// What one worker found in one segment of the log.
struct SegmentOutcome {
    hashed: evident_ledger::audit::HashedSegment,
    personal: u64,
    personal_sealed: u64,
    /// the first personal value that failed its check
    personal_fault: Option<Error>,
}

/// [`verify_store`] for a directory whose personal values may be sealed: with `seal`, sealed
/// values are opened and checked; without it they are counted in
/// [`VerifyReport::personal_sealed`] and not checked.
///
/// The log is cut into segments of [`evident_ledger::audit::SEGMENT_CAPACITY`] entries that the workers (one per
/// core, each on its own connection) take in turn: each reads its segment's entries and
/// personal values, hashes the entries many at a time and checks the personal values against
/// the commitments in their entries. This thread checks the checkpoint signatures meanwhile
/// and joins the segments in order, so faults are named as a one-entry-at-a-time replay
/// would name them: a bad signature first, then the first fault among the entries, then the
/// first bad personal value.
pub fn verify_store_sealed<F>(
    connect: F,
    verifier: &evident_ledger::note::NoteVerifier,
    seal: Option<&personal::PersonalSeal>,
    progress: &mut dyn FnMut(u64),
) -> Result<VerifyReport>
where
    F: Fn() -> Result<Box<dyn LogStore>>,
{
    let capacity = evident_ledger::audit::SEGMENT_CAPACITY;
    verify_in_segments(connect, verifier, seal, capacity, progress)
}

/// [`verify_store_sealed`] with segments of `capacity` entries (a power of two); small
/// segments let tests put faults on segment edges.
pub fn verify_in_segments<F>(
    connect: F,
    verifier: &evident_ledger::note::NoteVerifier,
    seal: Option<&personal::PersonalSeal>,
    capacity: u64,
    progress: &mut dyn FnMut(u64),
) -> Result<VerifyReport>
where
    F: Fn() -> Result<Box<dyn LogStore>>,
{
    use std::sync::atomic::{AtomicBool, AtomicU64};

    let store = connect()?;
    let checkpoints = store.checkpoints()?;
    let size = store.size()?;
    let fault = |f: evident_ledger::audit::Fault| Error::Integrity(f.to_string());
    let mut auditor = Auditor::with_unverified(&checkpoints).map_err(fault)?;
    let segments = size.div_ceil(capacity);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get() as u64);
    let workers = cores.min(segments) as usize;
    let mut stores = Vec::with_capacity(workers);
    for _ in 0..workers {
        stores.push(connect()?);
    }
    let checkpoint_sizes = auditor.checkpoint_sizes();
    let next_segment = AtomicU64::new(0);
    let stop = AtomicBool::new(false);
    let (signatures, entries, personal) = std::thread::scope(|scope| {
        let (sender, outcomes) = std::sync::mpsc::channel::<(u64, Result<SegmentOutcome>)>();
        for store in stores {
            let sender = sender.clone();
            let (next_segment, stop, sizes) = (&next_segment, &stop, &checkpoint_sizes);
            scope.spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let k = next_segment.fetch_add(1, Ordering::Relaxed);
                    if k >= segments {
                        break;
                    }
                    let outcome = verify_segment(&*store, k * capacity, capacity, sizes, seal);
                    if sender.send((k, outcome)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(sender);
        let signatures = evident_ledger::audit::verify_signatures(verifier, &checkpoints);
        if signatures.is_err() {
            stop.store(true, Ordering::Relaxed);
        }
        let mut entries: Result<()> = Ok(());
        let (mut checked, mut sealed, mut personal_fault) = (0u64, 0u64, None);
        let mut waiting = std::collections::BTreeMap::new();
        let mut joined = 0u64;
        for (k, outcome) in outcomes {
            if entries.is_err() || signatures.is_err() {
                continue;
            }
            waiting.insert(k, outcome);
            while let Some(outcome) = waiting.remove(&joined) {
                joined += 1;
                let joining = outcome.and_then(|o| {
                    checked += o.personal;
                    sealed += o.personal_sealed;
                    if personal_fault.is_none() {
                        personal_fault = o.personal_fault;
                    }
                    auditor.push_segment(o.hashed).map_err(fault)
                });
                if let Err(e) = joining {
                    entries = Err(e);
                    stop.store(true, Ordering::Relaxed);
                    break;
                }
                progress(auditor.size());
            }
        }
        (signatures, entries, (checked, sealed, personal_fault))
    });
    // A forged or misfiled checkpoint explains any mismatch after it, so it is named first.
    signatures.map_err(fault)?;
    entries?;
    let report = auditor.finish().map_err(fault)?;
    // Rows outside `0..size` belong to no segment.
    if let Some(index) = store.stray_entry()? {
        return Err(Error::Integrity(format!(
            "an entry is stored under index {index}, outside the log (inserted row)"
        )));
    }
    let (personal, personal_sealed, personal_fault) = personal;
    if let Some(e) = personal_fault {
        return Err(e);
    }
    if let Some((index, path)) = store.orphan_personal(report.entries)? {
        return Err(Error::Integrity(format!(
            "personal value `{path}` of entry {index}: its entry is missing"
        )));
    }
    progress(report.entries);
    Ok(VerifyReport {
        entries: report.entries,
        bytes: report.bytes,
        checkpoints: report.checkpoints,
        personal,
        personal_sealed,
        root: report.root,
        workers,
    })
}

/// Replays the segment of the log that starts at `start` and checks its personal values.
fn verify_segment(
    store: &dyn LogStore,
    start: u64,
    capacity: u64,
    checkpoint_sizes: &[u64],
    seal: Option<&personal::PersonalSeal>,
) -> Result<SegmentOutcome> {
    let mut segment = evident_ledger::audit::Segment::new(start, capacity, checkpoint_sizes)
        .map_err(|e| Error::Integrity(e.to_string()))?;
    let (mut personal, mut personal_sealed, mut personal_fault) = (0u64, 0u64, None);
    let mut entry_fault = false;
    let mut commitments = personal::CommitmentBatch::default();
    let scanned = store.scan_range(start, start + capacity, &mut |item| {
        match item {
            store::Scanned::Entry { index, leaf, data } => {
                if segment.push(index, data, Some(leaf)).is_err() {
                    // The segment keeps the fault; nothing after it matters.
                    entry_fault = true;
                    return Err(Error::Integrity("stop".into()));
                }
            }
            store::Scanned::Personal { value, entry } if personal_fault.is_none() => {
                match queue_personal(value, entry, seal, &mut commitments) {
                    Ok(true) => personal += 1,
                    Ok(false) => personal_sealed += 1,
                    // A mismatch still queued came before this fault.
                    Err(e) => personal_fault = Some(commitments.flush().err().unwrap_or(e)),
                }
            }
            store::Scanned::Personal { .. } => {}
        }
        Ok(())
    });
    match scanned {
        Err(_) if entry_fault => {}
        other => other?,
    }
    if personal_fault.is_none() {
        personal_fault = commitments.flush().err();
    }
    Ok(SegmentOutcome {
        hashed: segment.finish(),
        personal,
        personal_sealed,
        personal_fault,
    })
}

/// The part of an entry the personal-value check reads when it has to parse the entry.
#[derive(serde::Deserialize)]
struct Commitments {
    #[serde(default)]
    personal: std::collections::BTreeMap<String, String>,
}

/// The commitment stored in a schema-1 entry for the personal field at `path`, found without
/// parsing the entry. In canonical JSON the keys are sorted, so the top-level `personal`
/// object, if any, directly follows the top-level `outcome` — the last occurrence of
/// `"outcome":"` in the entry, because every key sorted after it holds a string (where quotes
/// are escaped) or an object with fixed keys. Inside that object, an unescaped `"<path>":"`
/// can only be the key itself. `None` means "parse the entry instead".
fn find_commitment<'a>(data: &'a [u8], path: &str) -> Option<Option<&'a str>> {
    const OUTCOME: &[u8] = b"\"outcome\":\"";
    const PERSONAL: &[u8] = b",\"personal\":{";
    const COMMITMENT_LEN: usize = "sha256:".len() + 64;
    if !data.ends_with(b",\"v\":1}")
        || path.is_empty()
        || path.bytes().any(|b| b == b'"' || b == b'\\' || b < 0x20)
    {
        return None;
    }
    // Built once: building a searcher per entry cost more than the search.
    // The forward search is vectorised and the reverse one is not: finding every occurrence
    // forward was twice as fast over real logs as one reverse search.
    static OUTCOME_FINDER: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
        std::sync::LazyLock::new(|| memchr::memmem::Finder::new(OUTCOME));
    let at = OUTCOME_FINDER.find_iter(data).last()?;
    let rest = data.get(at + OUTCOME.len()..)?;
    let after = rest.get(rest.iter().position(|&b| b == b'"')? + 1..)?;
    let Some(object) = after.strip_prefix(PERSONAL) else {
        return Some(None);
    };
    // `"<path>":"`, found as the path followed by `":"` right after an opening quote.
    let mut from = 0;
    let start = loop {
        let Some(found) = memchr::memchr(path.as_bytes()[0], object.get(from..)?)
            .and_then(|first| {
                let tail = object.get(from + first..)?;
                tail.starts_with(path.as_bytes()).then_some(first)
            })
            .or_else(|| memchr::memmem::find(object.get(from..)?, path.as_bytes()))
        else {
            return Some(None);
        };
        let at = from + found;
        let end = at + path.len();
        if at > 0 && object[at - 1] == b'"' && object.get(end..end + 3) == Some(b"\":\"") {
            break end + 3;
        }
        from = at + 1;
    };
    let value = object.get(start..start + COMMITMENT_LEN)?;
    std::str::from_utf8(value).ok().map(Some)
}

/// The commitment for `path` in an entry, by [`find_commitment`] or by parsing the entry.
fn commitment_of(data: &[u8], path: &str) -> Option<String> {
    match find_commitment(data, path) {
        Some(found) => found.map(str::to_string),
        None => serde_json::from_slice::<Commitments>(data)
            .ok()
            .and_then(|mut c| c.personal.remove(path)),
    }
}

/// Queues the check of a stored personal value against the commitment in its entry:
/// `Ok(true)` if queued, `Ok(false)` if it is sealed and no `seal` was given to open it.
fn queue_personal(
    p: store::PersonalRef<'_>,
    data: &[u8],
    seal: Option<&personal::PersonalSeal>,
    commitments: &mut personal::CommitmentBatch,
) -> Result<bool> {
    let bad = |why: &str| {
        Error::Integrity(format!(
            "personal value `{}` of entry {}: {why}",
            p.path, p.index
        ))
    };
    if data.is_empty() {
        return Err(bad("its entry is missing"));
    }
    let opened;
    let value: &str = if personal::is_sealed(p.value) {
        let Some(seal) = seal else {
            return Ok(false);
        };
        opened = seal
            .open(p.path, p.salt, p.value)
            .map_err(|_| bad("its sealed value does not open (altered, or another key)"))?;
        opened.as_str()
    } else {
        p.value
    };
    // The stored value is hashed as stored: any change to it, even re-spelling the same
    // JSON, is a change to what was committed.
    let mut queue =
        |commitment: &str| commitments.push(p.index, p.path, p.salt, value.as_bytes(), commitment);
    match find_commitment(data, p.path) {
        Some(Some(commitment)) => queue(commitment)?,
        Some(None) => return Err(bad("the entry holds no commitment for it")),
        None => {
            let commitment = commitment_of(data, p.path)
                .ok_or_else(|| bad("the entry holds no commitment for it"))?;
            queue(&commitment)?;
        }
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::AuditEvent;
    use serde_json::json;

    /// The fast path of [`commitments`] must agree with parsing the whole entry, whatever
    /// the event holds elsewhere.
    #[test]
    fn commitments_fast_path_agrees_with_a_full_parse() {
        let hostile = [
            json!({"personal": {"a": "b"}, "note": "\"personal\":{\"x\":\"y\"}"}),
            json!({"z": {"personal": {"q": "r"}}}),
            json!({"outcome": "success", "personal": {"/actor/ip": "sha256:00"}}),
            json!({}),
        ];
        for (i, metadata) in hostile.into_iter().enumerate() {
            for with_ip in [true, false] {
                let mut event = json!({
                    "actor": {"id": "u"}, "action": "a", "resource": {"type": "r", "id": "\"personal\":{"},
                    "outcome": "success", "reason": "\"personal\":{\"k\":\"v\"}", "metadata": metadata,
                });
                if with_ip {
                    event["actor"]["ip"] = json!("192.0.2.1");
                }
                let entry = AuditEvent::from_json(event).unwrap().prepare(0).unwrap();
                let full = serde_json::from_slice::<Commitments>(&entry.data)
                    .unwrap()
                    .personal;
                for path in ["/actor/ip", "/metadata/personal", "/nope"] {
                    let fast = find_commitment(&entry.data, path).expect("fast path applies");
                    assert_eq!(fast, full.get(path).map(String::as_str), "case {i} {path}");
                    assert_eq!(commitment_of(&entry.data, path), full.get(path).cloned());
                }
                assert_eq!(full.len(), usize::from(with_ip), "case {i}");
            }
        }
        assert_eq!(find_commitment(b"not json", "/a"), None);
        assert_eq!(commitment_of(b"not json", "/a"), None);
        assert_eq!(find_commitment(b"{\"v\":1}", "/a\"b"), None);
    }
}
