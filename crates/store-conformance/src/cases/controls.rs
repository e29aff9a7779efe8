//! What the controls part keeps beside the log: each control's latest check result, and
//! when each API key last authenticated.

use evident_core::store::ControlStatusRecord;
use evident_core::Result;

use crate::fixture::Fixture;

fn status(control: &str, result: &str, index: u64) -> ControlStatusRecord {
    ControlStatusRecord {
        control: control.into(),
        result: result.into(),
        since_us: 100,
        checked_us: 200 + index as i64,
        index,
        check_version: format!("v-{index}"),
        trend: "PPF".into(),
        runs: 3,
    }
}

/// A control's status reads back as stored from any connection, is replaced by a later run
/// (a greater ledger index) and never by an earlier one, and statuses are listed by control.
pub(super) fn control_statuses_keep_the_latest_run(fixture: &dyn Fixture) -> Result<()> {
    let mut first = fixture.open()?;
    let second = fixture.open()?;
    assert_eq!(first.control_status("EV-B")?, None);
    assert!(first.control_statuses()?.is_empty());
    let b5 = status("EV-B", "fail", 5);
    assert!(first.put_control_status(&b5)?);
    assert!(first.put_control_status(&status("EV-A", "pass", 3))?);
    assert_eq!(second.control_status("EV-B")?, Some(b5.clone()));
    let earlier = status("EV-B", "pass", 4);
    assert!(
        !first.put_control_status(&earlier)?,
        "an earlier run replaced a later one"
    );
    assert!(!first.put_control_status(&b5)?, "the same run stored twice");
    assert_eq!(second.control_status("EV-B")?, Some(b5));
    let b9 = ControlStatusRecord {
        trend: "PPFP".into(),
        runs: 4,
        ..status("EV-B", "pass", 9)
    };
    assert!(first.put_control_status(&b9)?);
    let listed = second.control_statuses()?;
    let ids: Vec<&str> = listed.iter().map(|s| s.control.as_str()).collect();
    assert_eq!(ids, ["EV-A", "EV-B"]);
    assert_eq!(listed[1], b9);
    assert_eq!(second.control_status("EV-C")?, None);
    Ok(())
}

/// An API key's last use moves forward only, and is seen by every connection.
pub(super) fn api_key_uses_only_move_forward(fixture: &dyn Fixture) -> Result<()> {
    let mut first = fixture.open()?;
    let second = fixture.open()?;
    assert!(first.api_key_uses()?.is_empty());
    first.record_api_key_use("k-2", 50)?;
    first.record_api_key_use("k-1", 70)?;
    first.record_api_key_use("k-1", 60)?;
    assert_eq!(
        second.api_key_uses()?,
        [("k-1".to_string(), 70), ("k-2".to_string(), 50)]
    );
    first.record_api_key_use("k-2", 80)?;
    assert_eq!(second.api_key_uses()?[1], ("k-2".to_string(), 80));
    Ok(())
}
