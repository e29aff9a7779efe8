//! `evident log …`: the evidence log itself. Append events, read and query them, prove an
//! entry, print the verifier key and checkpoint, verify the whole log, erase a data subject.

use std::fs::File;
use std::io::{BufRead, BufReader, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use clap::{Args, Subcommand};
use evident::store::{EventQuery, LogStore};
use evident::AuditEvent;
use evident_ledger::note::NoteVerifier;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{json, Value};

use crate::caller;
use crate::data_dir::{open, DataDir};
use crate::verdict::VerificationFailed;

/// Work with the evidence log: append, read, query, prove, verify.
#[derive(Debug, Subcommand)]
pub enum LogCommand {
    /// Append audit events: JSON lines from FILE, or from stdin when FILE is `-` or absent.
    ///
    /// A file is validated completely before anything is appended, so a bad line stores
    /// nothing. From stdin, events are appended in batches as they come; a bad line stops
    /// the run and says how many were appended before it.
    Append {
        #[command(flatten)]
        dir: DataDir,
        /// JSON-lines file (one event object per line).
        file: Option<PathBuf>,
        /// Events per durable batch.
        #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..=10_000))]
        batch: u64,
        /// Also take events of the actions Evident writes itself (`access.`, `auth.`,
        /// `controls.`, `evidence.`, `evident.`): a forged control check or access decision
        /// would then sit in the ledger beside real ones. For migrations and tests only.
        #[arg(long)]
        danger_system_actions: bool,
    },
    /// Print the latest events as JSON lines, oldest first.
    Tail {
        #[command(flatten)]
        dir: DataDir,
        /// How many.
        #[arg(short = 'n', long, default_value_t = 10)]
        lines: u32,
        /// Keep printing new events as they are appended.
        #[arg(short, long)]
        follow: bool,
    },
    /// Query events by actor, action, resource, outcome and time, as JSON lines.
    Query {
        #[command(flatten)]
        dir: DataDir,
        #[command(flatten)]
        filter: QueryFilter,
    },
    /// Print one event (with `--reveal`, its personal values too).
    Show {
        #[command(flatten)]
        dir: DataDir,
        /// The entry index.
        index: u64,
        /// Include the stored personal values and their salts.
        #[arg(long)]
        reveal: bool,
    },
    /// Recompute the whole tree from storage and check every signed checkpoint.
    ///
    /// Checks that every entry matches its leaf hash, that no index is missing or out of
    /// order, that every stored checkpoint is validly signed and filed under its own size,
    /// that the entries hash to every signed root (so the checkpoints are mutually
    /// consistent), and that every stored personal value matches its commitment. The first
    /// fault is named; the exit code is 1. Runs on every core (segments of the log side by
    /// side); a log being appended to is verified at least up to its size when verify started.
    Verify {
        #[command(flatten)]
        dir: DataDir,
        /// Check signatures with this verifier key instead of the one in the data directory
        /// (an auditor should pass the key published by the log operator).
        #[arg(long, value_name = "VKEY")]
        vkey: Option<String>,
    },
    /// Write a C2SP tlog-proof that entry INDEX is in the log.
    Prove {
        #[command(flatten)]
        dir: DataDir,
        /// The entry index.
        index: u64,
        /// Write the proof here instead of stdout.
        #[arg(long, short, value_name = "FILE")]
        out: Option<PathBuf>,
        /// Also write the entry's exact bytes here (what `evident verify --entry` hashes).
        #[arg(long, value_name = "FILE")]
        entry_out: Option<PathBuf>,
    },
    /// Print the verifier key (`name+hex8+base64`) auditors check checkpoints with.
    Vkey {
        #[command(flatten)]
        dir: DataDir,
    },
    /// Print the latest signed checkpoint.
    Checkpoint {
        #[command(flatten)]
        dir: DataDir,
    },
    /// Erase every stored personal value of a data subject (GDPR Art. 17). The log stays
    /// verifiable; the erasure itself is logged.
    Erase {
        #[command(flatten)]
        dir: DataDir,
        /// The data subject (by default the `actor.id` of their events).
        #[arg(long)]
        subject: String,
    },
}

#[derive(Debug, Clone, Args)]
pub struct QueryFilter {
    /// `actor.id` equals.
    #[arg(long)]
    pub actor: Option<String>,
    /// `action` equals.
    #[arg(long)]
    pub action: Option<String>,
    /// `resource.type` equals.
    #[arg(long)]
    pub resource_type: Option<String>,
    /// `resource.id` equals.
    #[arg(long)]
    pub resource_id: Option<String>,
    /// `outcome` equals (success, failure, denied, error, unknown).
    #[arg(long)]
    pub outcome: Option<String>,
    /// Event time at or after (RFC 3339).
    #[arg(long)]
    pub since: Option<String>,
    /// Event time before (RFC 3339).
    #[arg(long)]
    pub until: Option<String>,
    /// At most this many events (0: all).
    #[arg(long, default_value_t = 100)]
    pub limit: u64,
    /// Newest first.
    #[arg(long)]
    pub newest_first: bool,
}

/// Runs one `log` subcommand.
pub fn run(cmd: LogCommand) -> Result<()> {
    match cmd {
        LogCommand::Append {
            dir,
            file,
            batch,
            danger_system_actions,
        } => append(
            &dir.data_dir,
            file.as_deref(),
            batch as usize,
            danger_system_actions,
        ),
        LogCommand::Tail { dir, lines, follow } => tail(&dir.data_dir, lines, follow),
        LogCommand::Query { dir, filter } => query(&dir.data_dir, &filter),
        LogCommand::Show { dir, index, reveal } => {
            let engine = open(&dir.data_dir)?;
            let record = engine.event(index, reveal)?;
            let mut out = json!({"index": record.index, "leaf_hash": hex::encode(&record.leaf), "event": record.entry});
            if reveal {
                out["personal"] = record
                    .revealed
                    .iter()
                    .map(|p| json!({"path": p.path, "value": serde_json::from_str::<Value>(&p.value).unwrap_or(Value::Null), "salt": B64.encode(&p.salt), "subject": p.subject}))
                    .collect();
            }
            println!("{}", serde_json::to_string_pretty(&out)?);
            Ok(())
        }
        LogCommand::Verify { dir, vkey } => verify(&dir.data_dir, vkey.as_deref()),
        LogCommand::Prove {
            dir,
            index,
            out,
            entry_out,
        } => {
            let engine = open(&dir.data_dir)?;
            let proof = engine.tlog_proof(index)?;
            if let Some(path) = entry_out {
                let bytes = engine.entry_bytes(index)?;
                std::fs::write(&path, bytes)
                    .with_context(|| format!("writing {}", path.display()))?;
            }
            match out {
                Some(path) => std::fs::write(&path, proof.to_text())
                    .with_context(|| format!("writing {}", path.display()))?,
                None => print!("{}", proof.to_text()),
            }
            Ok(())
        }
        LogCommand::Vkey { dir } => {
            let signer = evident::datadir::load_signer(&dir.data_dir)?;
            println!("{}", signer.verifier().to_key_string());
            Ok(())
        }
        LogCommand::Checkpoint { dir } => {
            let engine = open(&dir.data_dir)?;
            match engine.checkpoint() {
                Some(c) => print!("{}", c.note),
                None => bail!("the log is empty: no checkpoint yet"),
            }
            Ok(())
        }
        LogCommand::Erase { dir, subject } => {
            let engine = open(&dir.data_dir)?;
            let actor = caller::privileged_actor("erasing a data subject")?;
            let report = engine.erase_subject(&subject, &actor)?;
            println!(
                "destroyed {} personal values and {} versions of the subject's key of `{subject}`; erasure recorded as entry {}",
                report.removed, report.keys_destroyed, report.receipt.index
            );
            Ok(())
        }
    }
}

fn parse_line(line: &str, number: usize, system_actions: bool) -> Result<AuditEvent> {
    let value: Value =
        serde_json::from_str(line).with_context(|| format!("line {number}: malformed JSON"))?;
    let event = AuditEvent::from_json(value).with_context(|| format!("line {number}"))?;
    event.prepare(0).with_context(|| format!("line {number}"))?;
    if let Some(family) = evident::event::reserved_action(&event.action) {
        if !system_actions {
            bail!(
                "line {number}: actions starting with `{family}` are written by Evident itself; \
                 name your action otherwise (or, for a migration, --danger-system-actions)"
            );
        }
    }
    Ok(event)
}

fn append(dir: &Path, file: Option<&Path>, batch: usize, system_actions: bool) -> Result<()> {
    let engine = open(dir)?;
    let started = Instant::now();
    let mut appended = 0u64;
    let mut last = None;
    let mut flush = |events: &mut Vec<AuditEvent>, appended: &mut u64| -> Result<()> {
        if events.is_empty() {
            return Ok(());
        }
        let receipt = engine.append_blocking(std::mem::take(events))?;
        *appended += receipt.receipts.len() as u64;
        last = Some(receipt.checkpoint);
        Ok(())
    };
    match file.filter(|f| f.as_os_str() != "-") {
        Some(path) => {
            let open_file =
                || File::open(path).with_context(|| format!("opening {}", path.display()));
            // First pass: validate everything, so a bad line stores nothing.
            let mut lines = 0u64;
            for (i, line) in BufReader::new(open_file()?).lines().enumerate() {
                let line = line.with_context(|| format!("reading line {}", i + 1))?;
                if !line.trim().is_empty() {
                    parse_line(&line, i + 1, system_actions)?;
                    lines += 1;
                }
            }
            let progress = bar(lines, "events");
            let mut events = Vec::with_capacity(batch);
            for line in BufReader::new(open_file()?).lines() {
                let line = line?;
                if line.trim().is_empty() {
                    continue;
                }
                events.push(AuditEvent::from_json(serde_json::from_str(&line)?)?);
                if events.len() == batch {
                    flush(&mut events, &mut appended)?;
                    progress.set_position(appended);
                }
            }
            flush(&mut events, &mut appended)?;
            progress.finish_and_clear();
        }
        None => {
            let stdin = std::io::stdin();
            let mut events = Vec::with_capacity(batch);
            for (i, line) in stdin.lock().lines().enumerate() {
                let line = line.with_context(|| format!("reading line {}", i + 1))?;
                if line.trim().is_empty() {
                    continue;
                }
                match parse_line(&line, i + 1, system_actions) {
                    Ok(event) => events.push(event),
                    Err(e) => {
                        flush(&mut events, &mut appended)?;
                        return Err(e.context(format!(
                            "stopped; {appended} events before this line were appended"
                        )));
                    }
                }
                if events.len() == batch {
                    flush(&mut events, &mut appended)?;
                }
            }
            flush(&mut events, &mut appended)?;
        }
    }
    let secs = started.elapsed().as_secs_f64();
    match last {
        Some(c) => eprintln!(
            "appended {appended} events in {secs:.2}s ({:.0}/s); log size {} (checkpoint signed)",
            appended as f64 / secs.max(1e-9),
            c.checkpoint.size
        ),
        None => eprintln!("no events in the input"),
    }
    Ok(())
}

fn print_record(out: &mut impl Write, record: &evident::EventRecord) -> Result<()> {
    let line = json!({"index": record.index, "leaf_hash": hex::encode(&record.leaf), "event": record.entry});
    writeln!(out, "{line}")?;
    Ok(())
}

fn tail(dir: &Path, lines: u32, follow: bool) -> Result<()> {
    let backend = evident::store::sqlite::SqliteBackend::open(&dir.join(evident::datadir::DB_FILE))
        .with_context(|| format!("opening the data directory `{}`", dir.display()))?;
    let store = backend.connect()?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut newest = store.query(&EventQuery {
        descending: true,
        limit: lines.clamp(1, 1000),
        ..Default::default()
    })?;
    newest.reverse();
    let mut last = None;
    for entry in &newest {
        print_stored(&mut out, entry)?;
        last = Some(entry.index);
    }
    out.flush()?;
    if !follow {
        return Ok(());
    }
    loop {
        // Entries are stored with the checkpoint that covers them, so whatever is visible is
        // durable and signed, whichever process appended it.
        let page = store.query(&EventQuery {
            cursor: last,
            limit: 1000,
            ..Default::default()
        })?;
        if page.is_empty() {
            std::thread::sleep(Duration::from_millis(500));
            continue;
        }
        for entry in &page {
            print_stored(&mut out, entry)?;
            last = Some(entry.index);
        }
        out.flush()?;
    }
}

fn print_stored(out: &mut impl Write, entry: &evident::store::StoredEntry) -> Result<()> {
    let event: Value = serde_json::from_slice(&entry.data)?;
    let line = json!({"index": entry.index, "leaf_hash": hex::encode(&entry.leaf), "event": event});
    writeln!(out, "{line}")?;
    Ok(())
}

fn query(dir: &Path, f: &QueryFilter) -> Result<()> {
    let engine = open(dir)?;
    let time = |t: &Option<String>| -> Result<Option<i64>> {
        t.as_deref()
            .map(evident::event::parse_time)
            .transpose()
            .map_err(Into::into)
    };
    let mut q = EventQuery {
        actor: f.actor.clone(),
        action: f.action.clone(),
        resource_type: f.resource_type.clone(),
        resource_id: f.resource_id.clone(),
        outcome: f.outcome.clone(),
        since_us: time(&f.since).context("--since")?,
        until_us: time(&f.until).context("--until")?,
        cursor: None,
        descending: f.newest_first,
        limit: 1000,
    };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut printed = 0u64;
    loop {
        let page = engine.query(&q)?;
        for record in &page.events {
            if f.limit != 0 && printed == f.limit {
                return Ok(());
            }
            print_record(&mut out, record)?;
            printed += 1;
        }
        match page.next_cursor {
            Some(c) => q.cursor = Some(c),
            None => return Ok(()),
        }
    }
}

/// Replays the whole log from storage; a fault is a [`VerificationFailed`].
fn verify(dir: &Path, vkey: Option<&str>) -> Result<()> {
    // Straight from storage, with no sequencer: verification must work on a damaged log,
    // which the engine refuses to open for appending.
    let db = evident::datadir::existing_db(dir)?;
    let verifier = match vkey {
        Some(vkey) => NoteVerifier::parse(vkey).context("--vkey")?,
        None => evident::datadir::load_signer(dir)?.verifier(),
    };
    let backend = evident::store::sqlite::SqliteBackend::open(&db)?;
    let size = backend.connect()?.size()?;
    let progress = bar(size, "entries");
    let started = Instant::now();
    let connect = || -> evident::Result<Box<dyn LogStore>> { Ok(Box::new(backend.connect()?)) };
    // Sealed personal values are checked when the root key opens; else counted, not checked.
    let seal = match evident::open_personal_seal(dir) {
        Ok(seal) => seal,
        Err(e) => {
            eprintln!("note: this directory's personal values are sealed and the root key did not open ({e}); they are counted, not checked");
            None
        }
    };
    let result = evident::verify_store_sealed(connect, &verifier, seal.as_ref(), &mut |n| {
        progress.set_position(n)
    });
    progress.finish_and_clear();
    match result {
        Ok(r) => {
            let secs = started.elapsed().as_secs_f64();
            println!(
                "ok: {} entries ({:.1} MB, {:.0} MB/s), {} signed checkpoints, {} personal values checked; root {}",
                r.entries,
                r.bytes as f64 / 1e6,
                r.bytes as f64 / 1e6 / secs.max(1e-9),
                r.checkpoints,
                r.personal,
                B64.encode(r.root)
            );
            if r.personal_sealed > 0 {
                println!(
                    "{} sealed personal values not checked (no root key)",
                    r.personal_sealed
                );
            }
            Ok(())
        }
        Err(evident::Error::Integrity(m)) => {
            Err(VerificationFailed(format!("log verification failed: {m}")).into())
        }
        Err(e) => Err(e.into()),
    }
}

/// A progress bar on stderr, shown only when stderr is a terminal.
fn bar(len: u64, unit: &str) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let style = ProgressStyle::with_template(&format!(
        "{{spinner}} [{{elapsed_precise}}] {{wide_bar}} {{pos}}/{{len}} {unit} ({{per_sec}}, eta {{eta}})"
    ))
    .unwrap_or_else(|_| ProgressStyle::default_bar());
    ProgressBar::new(len).with_style(style)
}
