//! `evident controls except` and `evident controls exceptions`: a failing control formally
//! accepted until a date, approved by a second person; revoking one; listing them.

use anyhow::{bail, Result};
use clap::Args;
use evident::controls::exceptions::{Exception, ExceptionRequest};

use crate::caller;
use crate::data_dir::{open, DataDir};
use crate::time_arg::when;

/// Grant an exception (waiver) to a failing control, or revoke one.
///
/// An exception accepts a control's failure until a date, for a reason, approved by someone
/// other than you; it is a `controls.exception.granted` ledger event. While it is open,
/// `evident controls status` shows the control as `failing (excepted until …)` and the
/// `controls.monitored` check (EV-GOV-05) accepts the failure; once it ends, the check fails
/// for it at once. An `--until` in the past or more than --max-days ahead, an unknown
/// control, or an approver who is you is refused (exit 2) and nothing is recorded.
///
/// Examples:
///
///   evident controls except EV-OPS-01 --until 2027-03-31 \
///       --reason "restore test blocked by the storage migration, CHG-311" --approved-by ciso
///
///   evident controls except --revoke exc-0123456789abcdef01234567 --reason "migration done"
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct ExceptArgs {
    #[command(flatten)]
    dir: DataDir,
    /// The control to except.
    #[arg(required_unless_present = "revoke", conflicts_with = "revoke")]
    id: Option<String>,
    /// Until when: a date (YYYY-MM-DD, to its last moment, UTC) or an RFC 3339 time.
    #[arg(long, value_name = "DATE", required_unless_present = "revoke")]
    until: Option<String>,
    /// Why the failure is accepted (or, with --revoke, why the exception ends early).
    #[arg(long, value_name = "TEXT")]
    reason: String,
    /// Who approved it: a second person, never you.
    #[arg(long, value_name = "WHO", required_unless_present = "revoke")]
    approved_by: Option<String>,
    /// Revoke this exception instead (its id, from `evident controls exceptions`).
    #[arg(long, value_name = "EXCEPTION_ID", conflicts_with_all = ["until", "approved_by"])]
    revoke: Option<String>,
    /// The longest exception allowed, in days.
    #[arg(
        long,
        env = "EVIDENT_EXCEPTION_MAX_DAYS",
        default_value_t = 365,
        value_name = "DAYS"
    )]
    max_days: u64,
    /// JSON instead of text.
    #[arg(long)]
    json: bool,
}

/// List the exceptions granted: open, ended or revoked.
///
/// Example:
///
///   evident controls exceptions --json
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct ExceptionsArgs {
    #[command(flatten)]
    dir: DataDir,
    /// JSON (one object per exception) instead of a table.
    #[arg(long)]
    json: bool,
}

pub fn except(args: ExceptArgs) -> Result<()> {
    let engine = open(&args.dir.data_dir)?;
    let controls = engine.controls();
    let done = if let Some(id) = &args.revoke {
        let actor = caller::privileged_actor("revoking an exception")?;
        controls.revoke_exception(id, &args.reason, &actor)?
    } else {
        let (Some(control), Some(until), Some(approved_by)) =
            (args.id, args.until.as_deref(), args.approved_by)
        else {
            bail!("give the control, --until and --approved-by (or --revoke EXCEPTION_ID)");
        };
        let actor = caller::privileged_actor("granting an exception")?;
        controls.grant_exception(
            &ExceptionRequest {
                control,
                until_us: when(until, true, "--until")?,
                reason: args.reason,
                approved_by,
                max_days: args.max_days,
                now_us: evident::event::now_us(),
            },
            &actor,
        )?
    };
    if args.json {
        println!("{}", serde_json::to_string(&done)?);
    } else {
        print_one(&done, evident::event::now_us());
    }
    Ok(())
}

pub fn list(args: ExceptionsArgs) -> Result<()> {
    let engine = open(&args.dir.data_dir)?;
    let now = evident::event::now_us();
    for e in engine.controls().exceptions()? {
        if args.json {
            println!("{}", serde_json::to_string(&e)?);
        } else {
            print_one(&e, now);
        }
    }
    Ok(())
}

fn print_one(e: &Exception, now_us: i64) {
    let state = match e.revoked {
        Some(index) => format!("revoked [index {index}]"),
        None if e.is_open(now_us) => format!("open until {}", e.until),
        None => format!("ended {}", e.until),
    };
    println!(
        "{}  {:<10} {}  approved by {}, granted by {} [index {}]: {}",
        e.exception_id, e.control, state, e.approved_by, e.granted_by, e.index, e.reason
    );
}
