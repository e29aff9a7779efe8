//! Consent records: every change kept under its ledger index, the newest as the current
//! state of a subject and purpose, and erasure of the subject removing them.

use evident_core::store::ConsentRecord;
use evident_core::Result;

use crate::fixture::Fixture;

fn change(subject: &str, purpose: &str, granted: bool, index: u64) -> ConsentRecord {
    ConsentRecord {
        subject: subject.into(),
        purpose: purpose.into(),
        granted,
        basis: "consent".into(),
        source: if granted { "web" } else { "gpc" }.into(),
        notice_hash: format!("sha256:{index:064x}"),
        at_us: 1_000 + index as i64,
        expires_us: granted.then_some(9_000 + index as i64),
        index,
    }
}

/// Changes read back as stored from any connection; the current state of a subject and
/// purpose is its change with the greatest ledger index, whatever order they were stored
/// in; a change stored twice is stored once; history is oldest first; other subjects and
/// purposes are apart.
pub(super) fn consent_keeps_every_change_and_the_newest_is_current(
    fixture: &dyn Fixture,
) -> Result<()> {
    let mut first = fixture.open()?;
    let second = fixture.open()?;
    assert_eq!(first.consent("s-1", "marketing")?, None);
    assert!(first.consents_of("s-1")?.is_empty());
    assert!(first.consent_history("s-1", "marketing")?.is_empty());
    let grant = change("s-1", "marketing", true, 4);
    let withdraw = change("s-1", "marketing", false, 7);
    let regrant = change("s-1", "marketing", true, 5);
    assert!(first.put_consent(&grant)?);
    assert!(first.put_consent(&withdraw)?);
    // Stored late (another process recorded it in between): history places it by index,
    // and it does not become the current state.
    assert!(first.put_consent(&regrant)?);
    assert!(!first.put_consent(&grant)?, "the same change stored twice");
    assert!(first.put_consent(&change("s-1", "analytics", true, 6))?);
    assert!(first.put_consent(&change("s-2", "marketing", true, 8))?);
    assert_eq!(second.consent("s-1", "marketing")?, Some(withdraw.clone()));
    assert_eq!(
        second.consent_history("s-1", "marketing")?,
        [grant, regrant, withdraw.clone()]
    );
    let now = second.consents_of("s-1")?;
    let purposes: Vec<(&str, bool, u64)> = now
        .iter()
        .map(|c| (c.purpose.as_str(), c.granted, c.index))
        .collect();
    assert_eq!(purposes, [("analytics", true, 6), ("marketing", false, 7)]);
    assert_eq!(now[1], withdraw);
    assert_eq!(second.consent("s-2", "analytics")?, None);
    assert_eq!(second.consent("s-3", "marketing")?, None);
    Ok(())
}

/// Erasing a subject removes every consent record of it, and no one else's.
pub(super) fn erasing_a_subject_removes_its_consent_records(fixture: &dyn Fixture) -> Result<()> {
    let mut store = fixture.open()?;
    store.put_consent(&change("s-1", "marketing", true, 1))?;
    store.put_consent(&change("s-1", "analytics", false, 2))?;
    store.put_consent(&change("s-2", "marketing", true, 3))?;
    store.erase_subject("s-1")?;
    let other = fixture.open()?;
    assert!(other.consents_of("s-1")?.is_empty());
    assert!(other.consent_history("s-1", "marketing")?.is_empty());
    assert_eq!(other.consents_of("s-2")?.len(), 1);
    Ok(())
}
