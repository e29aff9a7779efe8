//! The log: appends, what they store and refuse, checkpoints, and what a second process finds.

use evident_core::store::{
    ApiKeyRecord, AppendOutcome, BreakGlassRecord, LogStore, StoredPolicyVersion, StoredToken,
    TokenInsert,
};
use evident_core::Result;
use evident_ledger::audit::StoredCheckpoint;

use crate::fixture::Fixture;
use crate::testlog::{samples, verify, TestLog, Verified};

/// Every leaf hash in `from..to`, as [`LogStore::leaf_hashes`] streams them.
fn leaf_hashes(store: &dyn LogStore, from: u64, to: u64) -> Result<Vec<(u64, Vec<u8>)>> {
    let mut seen = Vec::new();
    store.leaf_hashes(from, to, &mut |index, leaf| {
        seen.push((index, leaf.to_vec()));
        Ok(())
    })?;
    Ok(seen)
}

/// A store with nothing in it answers nothing, everywhere.
pub(super) fn a_fresh_store_is_empty(fixture: &dyn Fixture) -> Result<()> {
    let store = fixture.open()?;
    assert_eq!(store.size()?, 0);
    assert!(store.entry(0)?.is_none());
    assert!(store.entries(0, 10)?.is_empty());
    assert!(leaf_hashes(&*store, 0, 10)?.is_empty());
    assert!(store.latest_checkpoint()?.is_none());
    assert!(store.checkpoint_covering(0)?.is_none());
    assert!(store.checkpoints()?.is_empty());
    assert!(store.personal_of(0)?.is_empty());
    assert!(store.meta("conformance.absent")?.is_none());
    assert!(store.api_keys()?.is_empty());
    assert!(store.key_names()?.is_empty());
    assert!(store.regulated_keys()?.is_empty());
    assert!(store.policy_versions()?.is_empty());
    assert!(store.break_glass(false)?.is_empty());
    assert!(store.token_counts()?.is_empty());
    assert!(store.query(&Default::default())?.is_empty());
    let mut scanned = 0;
    store.scan_range(0, 10, &mut |_| {
        scanned += 1;
        Ok(())
    })?;
    assert_eq!(scanned, 0, "a scan of an empty store found something");
    assert_eq!(store.stray_entry()?, None);
    assert_eq!(store.orphan_personal(0)?, None);
    Ok(())
}

/// Entries come back as they were appended: by index, by range (`from..to`, cut at the end of
/// the log) and as leaf hashes, in index order.
pub(super) fn appended_entries_read_back_as_stored(fixture: &dyn Fixture) -> Result<()> {
    let mut store = fixture.open()?;
    let mut log = TestLog::new()?;
    let mut stored = log.append(&mut *store, &samples(0, 3)?)?.stored();
    stored.extend(log.append(&mut *store, &samples(3, 10)?)?.stored());
    assert_eq!(store.size()?, 10);
    for expected in &stored {
        assert_eq!(store.entry(expected.index)?.as_ref(), Some(expected));
    }
    assert_eq!(store.entry(10)?, None, "an entry past the end of the log");
    assert_eq!(store.entry(u64::MAX)?, None, "an entry far past the end");
    assert_eq!(store.entries(0, 10)?, stored);
    assert_eq!(store.entries(2, 5)?, stored[2..5]);
    assert_eq!(store.entries(7, 100)?, stored[7..], "a range past the end");
    assert!(store.entries(5, 5)?.is_empty(), "an empty range");
    assert!(
        store.entries(6, 4)?.is_empty(),
        "a range that ends before it starts"
    );
    let leaves: Vec<(u64, Vec<u8>)> = stored.iter().map(|e| (e.index, e.leaf.clone())).collect();
    assert_eq!(leaf_hashes(&*store, 0, 10)?, leaves);
    assert_eq!(leaf_hashes(&*store, 4, 6)?, leaves[4..6]);
    assert_eq!(leaf_hashes(&*store, 8, 50)?, leaves[8..]);
    let verified = verify(&*store, &log.verifier())?;
    assert_eq!((verified.entries, verified.checkpoints), (10, 2));
    Ok(())
}

/// Two writers share the store: an append whose base is not the log's size (another writer
/// appended first) is refused with the actual size, and nothing of it is stored.
pub(super) fn an_append_at_a_stale_size_conflicts_and_stores_nothing(
    fixture: &dyn Fixture,
) -> Result<()> {
    let mut first = fixture.open()?;
    let mut second = fixture.open()?;
    let mut log = TestLog::new()?;
    log.append(&mut *first, &samples(0, 3)?)?;
    let checkpoints = first.checkpoints()?.len();
    // The second writer still believes the log is empty: its batch starts at 0.
    let stale = TestLog::new()?.batch(&samples(10, 12)?)?;
    assert_eq!(
        stale.append_to(&mut *second)?,
        AppendOutcome::Conflict { size: 3 }
    );
    // A batch that would leave a gap is refused the same way.
    let mut ahead = log.batch(&samples(3, 4)?)?;
    ahead.base = 5;
    ahead.checkpoint.size = 6;
    assert_eq!(
        ahead.append_to(&mut *second)?,
        AppendOutcome::Conflict { size: 3 }
    );
    for store in [&first, &second] {
        assert_eq!(store.size()?, 3);
        assert_eq!(store.checkpoints()?.len(), checkpoints);
        assert!(store.entry(3)?.is_none() && store.entry(5)?.is_none());
        assert!(store.personal_of(3)?.is_empty() && store.personal_of(5)?.is_empty());
    }
    // Once it knows the size, the second writer appends where the log ends.
    log.append(&mut *second, &samples(3, 5)?)?;
    assert_eq!(first.size()?, 5);
    let verified = verify(&*first, &log.verifier())?;
    assert_eq!((verified.entries, verified.checkpoints), (5, 2));
    Ok(())
}

/// A batch that cannot be stored — here two entries under one index — fails as a whole:
/// none of its entries, personal values or its checkpoint is stored, for this connection or
/// any other, and the connection appends normally afterwards.
pub(super) fn a_failed_append_stores_nothing_and_the_store_stays_usable(
    fixture: &dyn Fixture,
) -> Result<()> {
    let mut store = fixture.open()?;
    let mut log = TestLog::new()?;
    log.append(&mut *store, &samples(0, 2)?)?;
    let before = store.checkpoints()?.len();
    let batch = log.batch(&samples(2, 5)?)?;
    let mut entries = batch.entries();
    entries[2].index = entries[1].index;
    let failed = store.append(batch.base, &entries, &batch.checkpoint);
    assert!(
        failed.is_err(),
        "two entries under one index were accepted: {failed:?}"
    );
    let other = fixture.open()?;
    for store in [&store, &other] {
        assert_eq!(store.size()?, 2, "a failed append left entries behind");
        assert_eq!(store.checkpoints()?.len(), before, "… or its checkpoint");
        assert!(store.personal_of(2)?.is_empty(), "… or personal values");
    }
    log.append(&mut *store, &samples(2, 5)?)?;
    assert_eq!(other.size()?, 5);
    let verified = verify(&*other, &log.verifier())?;
    assert_eq!((verified.entries, verified.checkpoints), (5, 2));
    Ok(())
}

/// Checkpoints are kept by the size they cover: the latest is the largest, the one covering
/// a size is the smallest at or above it, and all come in order of size.
pub(super) fn checkpoints_are_found_by_size(fixture: &dyn Fixture) -> Result<()> {
    let mut store = fixture.open()?;
    let mut log = TestLog::new()?;
    let mut notes = Vec::new();
    for (from, to) in [(0, 2), (2, 5), (5, 9)] {
        notes.push(log.append(&mut *store, &samples(from, to)?)?.checkpoint);
    }
    let filed = |found: Vec<StoredCheckpoint>| -> Vec<(u64, String)> {
        found.into_iter().map(|c| (c.size, c.note)).collect()
    };
    assert_eq!(filed(store.checkpoints()?), filed(notes.clone()));
    let latest = store.latest_checkpoint()?;
    assert_eq!(
        filed(latest.into_iter().collect()),
        filed(vec![notes[2].clone()])
    );
    let covering = [
        (0, Some(2)),
        (2, Some(2)),
        (3, Some(5)),
        (5, Some(5)),
        (6, Some(9)),
        (9, Some(9)),
        (10, None),
    ];
    for (size, expected) in covering {
        let found = store.checkpoint_covering(size)?;
        assert_eq!(
            found.as_ref().map(|c| c.size),
            expected,
            "the checkpoint covering {size} entries"
        );
        if let Some(found) = found {
            let note = notes.iter().find(|n| n.size == found.size).map(|n| &n.note);
            assert_eq!(
                note,
                Some(&found.note),
                "the note filed under {}",
                found.size
            );
        }
    }
    let verified = verify(&*store, &log.verifier())?;
    assert_eq!((verified.entries, verified.checkpoints), (9, 3));
    Ok(())
}

/// Whatever a connection committed is there for the next one, even though the first was
/// abandoned without being closed (as a crashed process leaves it): entries, checkpoints,
/// personal values and every other record.
pub(super) fn what_was_committed_is_there_after_reopening(fixture: &dyn Fixture) -> Result<()> {
    let mut log = TestLog::new()?;
    let mut first = fixture.open()?;
    let stored = log.append(&mut *first, &samples(0, 4)?)?.stored();
    first.set_meta("conformance.set", "one")?;
    first.init_meta("conformance.init", "two")?;
    let key = ApiKeyRecord {
        id: "key-1".into(),
        secret_hash: vec![7; 32],
        role: "writer".into(),
        label: Some("ingest".into()),
        created_us: 1,
        revoked_us: None,
    };
    first.insert_api_key(&key)?;
    first.insert_key_version("data", b"wrapped", 2)?;
    first.set_key_regulated("data", true)?;
    let policy = StoredPolicyVersion {
        version: 1,
        hash: "sha256:aa".into(),
        files: Some("{}".into()),
        created_us: 3,
        actor: "admin".into(),
        origin: "apply".into(),
    };
    first.insert_policy_version(&policy)?;
    let review = BreakGlassRecord {
        id: "bg-1".into(),
        decision_id: "d-1".into(),
        subject: "User::\"alice\"".into(),
        action: "read".into(),
        resource: "Record::\"r-1\"".into(),
        justification: "on call".into(),
        policies: "p1".into(),
        opened_us: 4,
        reviewer: None,
        outcome: None,
        note: None,
        closed_us: None,
    };
    first.insert_break_glass(&review)?;
    let token = StoredToken {
        token: "4111110000001111".into(),
        format: "random".into(),
        keep: "first6-last4".into(),
        pan_index: vec![1; 32],
        pan_sealed: Some("sealed".into()),
        created_us: 5,
    };
    assert_eq!(
        first.insert_tokens(std::slice::from_ref(&token))?,
        [TokenInsert::Inserted]
    );
    let personal = first.personal_of(2)?;
    // No close, no flush: the connection is abandoned as a crash would leave it.
    std::mem::forget(first);

    let second = fixture.open()?;
    assert_eq!(second.entries(0, 4)?, stored);
    assert_eq!(second.personal_of(2)?, personal);
    assert!(!personal.is_empty());
    assert_eq!(
        verify(&*second, &log.verifier())?,
        Verified {
            entries: 4,
            checkpoints: 1,
            personal: 8
        }
    );
    assert_eq!(second.meta("conformance.set")?.as_deref(), Some("one"));
    assert_eq!(second.meta("conformance.init")?.as_deref(), Some("two"));
    assert_eq!(second.api_key("key-1")?, Some(key));
    assert_eq!(second.key_versions("data")?.len(), 1);
    assert_eq!(second.regulated_keys()?, ["data"]);
    assert_eq!(second.policy_version(1)?, Some(policy));
    assert_eq!(second.break_glass(true)?, [review]);
    assert_eq!(second.token(&token.token)?, Some(token));
    Ok(())
}
