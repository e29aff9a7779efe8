//! `evident evidence add FILE --control ID`: one file as evidence for a control, encrypted
//! into the data directory and recorded as one `evidence.added` ledger event.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use evident::controls::evidence::{Evidence, EvidenceOptions};
use evident::controls::Cadence;

use crate::caller;
use crate::data_dir::{open, DataDir};
use crate::time_arg::when;

/// Add a file as evidence for a control: kept encrypted under the keyring's `evidence` key in
/// DIR/evidence/, recorded as one `evidence.added` ledger event with its SHA-256, size, media
/// type, the period it covers and until when it stands. You are the event's actor.
///
/// The period defaults to the moment of upload; give it when the evidence documents
/// something earlier (a quarterly access review uploaded a week late). It stands until
/// --valid-until, or the end of its period plus --validity, or plus the control's cadence.
/// Once past that, `evident controls status` shows the control's evidence as expired — a gap.
///
/// An unknown control, an empty file or one over the size limit is refused (exit 2) and
/// nothing is stored.
///
/// Examples:
///
///   evident evidence add q1-access-review.pdf --control EV-AC-07 \
///       --reason "Q1 review, ticket SEC-142" \
///       --effective-from 2026-01-01 --effective-to 2026-03-31 --validity 90d
///
///   evident evidence add ir-tabletop.md --control EV-OPS-02 --valid-until 2027-06-30
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct AddArgs {
    #[command(flatten)]
    dir: DataDir,
    /// The file.
    file: PathBuf,
    /// The control it is evidence for (`evident controls list` shows them).
    #[arg(long, value_name = "ID")]
    control: String,
    /// Its media type, instead of the guess from its first bytes and extension.
    #[arg(long, value_name = "TYPE")]
    media_type: Option<String>,
    #[command(flatten)]
    flags: EvidenceFlags,
    /// JSON instead of text.
    #[arg(long)]
    json: bool,
}

/// What `add` and `ingest` both record: why, the period covered, until when it stands, and
/// the size limit.
#[derive(Debug, Args)]
pub(super) struct EvidenceFlags {
    /// Why it is added: what it documents, the ticket.
    #[arg(long, value_name = "TEXT")]
    reason: Option<String>,
    /// Start of the period it covers: a date (YYYY-MM-DD, its first moment, UTC) or an RFC
    /// 3339 time. Default: the end of the period.
    #[arg(long, value_name = "DATE")]
    effective_from: Option<String>,
    /// End of the period it covers: a date (its last moment, UTC) or an RFC 3339 time.
    /// Default: now.
    #[arg(long, value_name = "DATE")]
    effective_to: Option<String>,
    /// Until when it stands: a date (its last moment, UTC) or an RFC 3339 time.
    #[arg(long, value_name = "DATE", conflicts_with = "validity")]
    valid_until: Option<String>,
    /// How long it stands after its period ends: 90d, 365d, 12h … Default: the control's
    /// cadence.
    #[arg(long, value_name = "DURATION")]
    validity: Option<String>,
    /// The largest file taken, in MiB.
    #[arg(
        long,
        env = "EVIDENT_EVIDENCE_MAX_MIB",
        default_value_t = 100,
        value_name = "MIB",
        value_parser = clap::value_parser!(u64).range(1..=1_048_576)
    )]
    max_size_mib: u64,
}

impl EvidenceFlags {
    /// The library's options for evidence of `control`.
    pub(super) fn options(self, control: String) -> Result<EvidenceOptions> {
        Ok(EvidenceOptions {
            control,
            reason: self.reason,
            media_type: None,
            effective_from_us: self
                .effective_from
                .as_deref()
                .map(|t| when(t, false, "--effective-from"))
                .transpose()?,
            effective_to_us: self
                .effective_to
                .as_deref()
                .map(|t| when(t, true, "--effective-to"))
                .transpose()?,
            valid_until_us: self
                .valid_until
                .as_deref()
                .map(|t| when(t, true, "--valid-until"))
                .transpose()?,
            validity: self
                .validity
                .as_deref()
                .map(|t| Cadence::parse(t).map_err(|e| anyhow::anyhow!("--validity: {e}")))
                .transpose()?,
            max_bytes: self.max_size_mib.saturating_mul(1024 * 1024),
            now_us: evident::event::now_us(),
        })
    }
}

pub fn run(args: AddArgs) -> Result<()> {
    let options = EvidenceOptions {
        media_type: args.media_type,
        ..args.flags.options(args.control)?
    };
    let engine = open(&args.dir.data_dir)?;
    let keys = engine.keyring(true)?;
    let added = engine
        .controls()
        .add_evidence(&keys, &args.file, &options, &caller::actor())?;
    print_one(&added, args.json)
}

/// Prints one piece of evidence, as text or JSON.
pub(super) fn print_one(e: &Evidence, json: bool) -> Result<()> {
    if json {
        println!("{}", serde_json::to_string(e)?);
        return Ok(());
    }
    println!("{}  {}  [index {}]", e.evidence_id, e.control, e.index);
    println!(
        "  file        {} ({}, {} bytes)",
        e.file_name, e.media_type, e.size
    );
    println!("  sha256      {}", e.sha256);
    println!("  covers      {} … {}", e.effective_from, e.effective_to);
    println!("  valid until {}", e.valid_until);
    println!("  added       {} by {}", e.added_at, e.added_by);
    if let Some(reason) = &e.reason {
        println!("  reason      {reason}");
    }
    Ok(())
}
