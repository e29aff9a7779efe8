//! Personal values beside the tree — kept, erased, resealed — and the scan verification reads.

use std::sync::mpsc;
use std::time::Duration;

use evident_core::personal::verify_canonical;
use evident_core::store::{AppendOutcome, Scanned, StoredPersonal};
use evident_core::{Error, Result};

use crate::fixture::Fixture;
use crate::testlog::{commitment_in, samples, verify, Sample, TestLog, RECEIVED_US};

/// Each entry's personal values come back by path, with the subject, salt and value that
/// were appended, and each matches the commitment its entry holds.
pub(super) fn personal_values_are_kept_beside_their_entries(fixture: &dyn Fixture) -> Result<()> {
    let mut store = fixture.open()?;
    let mut log = TestLog::new()?;
    let batch = log.append(&mut *store, &samples(0, 3)?)?;
    for (entry, index) in batch.prepared.iter().zip(0..) {
        let mut expected: Vec<StoredPersonal> = entry
            .personal
            .iter()
            .map(|p| StoredPersonal {
                index,
                path: p.path.clone(),
                subject: p.subject.clone(),
                salt: p.salt.to_vec(),
                value: p.value.clone(),
            })
            .collect();
        expected.sort_by(|a, b| a.path.cmp(&b.path));
        assert_eq!(
            expected.len(),
            2,
            "the sample event has two personal values"
        );
        let stored = store.personal_of(index)?;
        assert_eq!(stored, expected, "the personal values of entry {index}");
        for value in &stored {
            let commitment = commitment_in(&entry.data, &value.path)?;
            assert!(verify_canonical(
                &commitment,
                &value.path,
                &value.salt,
                value.value.as_bytes()
            )?);
        }
    }
    assert!(
        store.personal_of(3)?.is_empty(),
        "values of a missing entry"
    );
    assert_eq!(verify(&*store, &log.verifier())?.personal, 6);
    Ok(())
}

/// Erasing a subject deletes its personal values and no one else's, and answers how many;
/// the entries, their leaf hashes and every checkpoint stay as they were, so the log still
/// verifies.
pub(super) fn erasing_a_subject_removes_its_values_and_proofs_still_match(
    fixture: &dyn Fixture,
) -> Result<()> {
    let mut store = fixture.open()?;
    let mut log = TestLog::new()?;
    log.append(&mut *store, &samples(0, 4)?)?;
    log.append(&mut *store, &samples(4, 9)?)?;
    let entries = store.entries(0, 9)?;
    let before = verify(&*store, &log.verifier())?;
    assert_eq!(before.personal, 18);
    // alice acted in samples 0, 3 and 6, two personal values each.
    assert_eq!(store.erase_subject("alice")?, 6);
    for n in 0..9 {
        let expected = if Sample::new(n).actor == "alice" {
            0
        } else {
            2
        };
        assert_eq!(store.personal_of(n)?.len(), expected, "entry {n}");
    }
    assert_eq!(store.erase_subject("alice")?, 0, "a second erasure");
    assert_eq!(store.erase_subject("nobody")?, 0, "an unknown subject");
    assert_eq!(store.entries(0, 9)?, entries, "erasure changed entries");
    let after = verify(&*fixture.open()?, &log.verifier())?;
    assert_eq!(
        (after.entries, after.checkpoints, after.personal),
        (before.entries, before.checkpoints, 12)
    );
    Ok(())
}

/// Purging personal values by age deletes those of the entries of one action (or action
/// prefix) received before the cutoff, and no other; entries and checkpoints stay as they
/// were, so the log still verifies; a second purge deletes nothing.
pub(super) fn purging_by_age_removes_values_of_one_action_and_proofs_still_match(
    fixture: &dyn Fixture,
) -> Result<()> {
    let mut store = fixture.open()?;
    let mut log = TestLog::new()?;
    log.append(&mut *store, &samples(0, 6)?)?;
    let entries = store.entries(0, 6)?;
    let received = RECEIVED_US;
    // Not received before the cutoff: nothing goes.
    assert_eq!(store.purge_personal("record.read", received)?, 0);
    // The even samples are `record.read`: two values each.
    assert_eq!(store.purge_personal("record.read", received + 1)?, 6);
    for n in 0..6 {
        let expected = if n % 2 == 0 { 0 } else { 2 };
        assert_eq!(store.personal_of(n)?.len(), expected, "entry {n}");
    }
    assert_eq!(
        store.purge_personal("record.read", received + 1)?,
        0,
        "a second purge"
    );
    assert_eq!(
        store.purge_personal("record", received + 1)?,
        0,
        "not a prefix without `*`"
    );
    assert_eq!(store.purge_personal("record.*", received + 1)?, 6);
    assert_eq!(store.entries(0, 6)?, entries, "the purge changed entries");
    let after = verify(&*fixture.open()?, &log.verifier())?;
    assert_eq!((after.entries, after.personal), (6, 0));
    Ok(())
}

/// Resealing replaces the values the function changes and leaves the rest; one that fails
/// part-way changes nothing at all.
pub(super) fn resealing_replaces_the_values_it_changes_or_none(
    fixture: &dyn Fixture,
) -> Result<()> {
    let mut store = fixture.open()?;
    let mut log = TestLog::new()?;
    log.append(&mut *store, &samples(0, 3)?)?;
    let before: Vec<Vec<StoredPersonal>> = (0..3)
        .map(|n| store.personal_of(n))
        .collect::<Result<_>>()?;
    let mut calls = 0;
    let failed = store.reseal_personal(&mut |_, _, value| {
        calls += 1;
        if calls == 4 {
            return Err(Error::Crypto("the sealing key went away".into()));
        }
        Ok(Some(format!("sealed:{value}")))
    });
    assert!(
        failed.is_err(),
        "a failing seal function must fail the reseal"
    );
    for n in 0..3 {
        assert_eq!(
            store.personal_of(n)?,
            before[n as usize],
            "a failed reseal changed entry {n}"
        );
    }
    let changed = store.reseal_personal(&mut |path, salt, value| {
        assert_eq!(salt.len(), 32, "the seal function is handed the salt");
        Ok((path == "/actor/ip").then(|| format!("sealed:{value}")))
    })?;
    assert_eq!(changed, 3, "one IP address per entry");
    let other = fixture.open()?;
    for n in 0..3 {
        let expected: Vec<StoredPersonal> = before[n as usize]
            .iter()
            .cloned()
            .map(|mut p| {
                if p.path == "/actor/ip" {
                    p.value = format!("sealed:{}", p.value);
                }
                p
            })
            .collect();
        assert_eq!(other.personal_of(n)?, expected, "entry {n} after resealing");
    }
    Ok(())
}

/// One scanned item, owned.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Item {
    Entry(u64, Vec<u8>, Vec<u8>),
    Personal(u64, String, Vec<u8>),
}

/// A scan hands over each entry in `from..to` with its leaf hash and bytes, followed by its
/// personal values (each with its entry's bytes); a visitor's error stops it and is answered.
pub(super) fn a_scan_gives_each_entry_then_its_personal_values(
    fixture: &dyn Fixture,
) -> Result<()> {
    let mut store = fixture.open()?;
    let mut log = TestLog::new()?;
    let stored = log.append(&mut *store, &samples(0, 6)?)?.stored();
    let scan = |from: u64, to: u64| -> Result<Vec<Item>> {
        let mut items = Vec::new();
        store.scan_range(from, to, &mut |item| {
            items.push(match item {
                Scanned::Entry { index, leaf, data } => {
                    Item::Entry(index, leaf.to_vec(), data.to_vec())
                }
                Scanned::Personal { value, entry } => {
                    Item::Personal(value.index, value.path.to_string(), entry.to_vec())
                }
            });
            Ok(())
        })?;
        Ok(items)
    };
    let expected = |from: u64, to: u64| -> Result<Vec<Item>> {
        let mut items = Vec::new();
        for e in stored.iter().filter(|e| (from..to).contains(&e.index)) {
            items.push(Item::Entry(e.index, e.leaf.clone(), e.data.clone()));
            for p in store.personal_of(e.index)? {
                items.push(Item::Personal(e.index, p.path, e.data.clone()));
            }
        }
        Ok(items)
    };
    let sort_values = |mut items: Vec<Item>| {
        // The order of one entry's values among themselves is the backend's.
        items.sort_by_key(|item| match item {
            Item::Entry(index, ..) => (*index, 0, String::new()),
            Item::Personal(index, path, _) => (*index, 1, path.clone()),
        });
        items
    };
    for (from, to) in [(0, 6), (2, 4), (5, 100), (3, 3)] {
        let scanned = scan(from, to)?;
        assert!(
            scanned.windows(2).all(|w| match (&w[0], &w[1]) {
                (Item::Entry(a, ..), Item::Entry(b, ..)) => a < b,
                (Item::Entry(a, ..) | Item::Personal(a, ..), Item::Personal(b, ..)) => a == b,
                (Item::Personal(a, ..), Item::Entry(b, ..)) => a < b,
            }),
            "scan {from}..{to}: not each entry followed by its own values: {scanned:?}"
        );
        assert_eq!(
            sort_values(scanned),
            expected(from, to)?,
            "scan {from}..{to}"
        );
    }
    let mut visited = 0;
    let stopped = store.scan_range(0, 6, &mut |_| {
        visited += 1;
        Err(Error::Integrity("stop here".into()))
    });
    assert!(
        matches!(&stopped, Err(Error::Integrity(why)) if why == "stop here"),
        "the visitor's error was not answered: {stopped:?}"
    );
    assert_eq!(visited, 1, "the scan went on after the visitor's error");
    Ok(())
}

/// A scan reads one snapshot: a batch another connection appends while the scan runs is in
/// it wholly (every entry with every personal value) or not at all.
pub(super) fn a_scan_sees_an_append_beside_it_wholly_or_not_at_all(
    fixture: &dyn Fixture,
) -> Result<()> {
    let mut log = TestLog::new()?;
    let reader = fixture.open()?;
    let mut writer = fixture.open()?;
    log.append(&mut *writer, &samples(0, 2)?)?;
    let mut writer = Some(writer);
    let mut beside = Some(log.batch(&samples(2, 4)?)?);
    let (done, appended) = mpsc::channel();
    let mut running = None;
    let mut entries = Vec::new();
    let mut personal = Vec::new();
    reader.scan_range(0, 100, &mut |item| {
        match item {
            Scanned::Entry { index, .. } => entries.push(index),
            Scanned::Personal { value, entry } => {
                assert!(!entry.is_empty(), "a personal value came without its entry");
                personal.push(value.index);
            }
        }
        if let (Some(mut store), Some(batch)) = (writer.take(), beside.take()) {
            let done = done.clone();
            running = Some(std::thread::spawn(move || {
                let outcome = batch.append_to(&mut *store);
                let _ = done.send(());
                outcome
            }));
            // A backend may hold the append until the scan ends; then the scan goes on
            // without it.
            let _ = appended.recv_timeout(Duration::from_secs(5));
        }
        Ok(())
    })?;
    let outcome = match running.map(std::thread::JoinHandle::join) {
        Some(Ok(outcome)) => outcome?,
        Some(Err(panic)) => std::panic::resume_unwind(panic),
        None => panic!("the scan handed over nothing"),
    };
    assert_eq!(outcome, AppendOutcome::Appended);
    let (expected_entries, expected_personal) = if entries.len() == 2 {
        (vec![0, 1], vec![0, 0, 1, 1])
    } else {
        (vec![0, 1, 2, 3], vec![0, 0, 1, 1, 2, 2, 3, 3])
    };
    assert_eq!(
        entries, expected_entries,
        "entries scanned beside an append"
    );
    assert_eq!(
        personal, expected_personal,
        "personal values scanned beside an append"
    );
    assert_eq!(verify(&*reader, &log.verifier())?.entries, 4);
    Ok(())
}
