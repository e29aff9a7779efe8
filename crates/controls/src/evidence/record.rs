//! Manual evidence as the ledger holds it: adding a file to a control (validated, encrypted,
//! then one `evidence.added` event), listing and showing what was added, getting a file back
//! (checked against the SHA-256 its event recorded), and a control's evidence standing —
//! current, expired or missing — for `evident controls status`.

use std::io::Read;
use std::path::Path;

use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use evident_core::event::{format_time, Severity};
use evident_core::log::{EventRecord, Log};
use evident_core::{Error, Result};
use evident_crypto::keyring::Keyring;

use crate::cadence::Cadence;
use crate::events::{actor_of, meta_text, meta_time, new_id, person_event, read_all, received_at};
use crate::evidence::{media, store};
use crate::names::{EVIDENCE_ADDED, EVIDENCE_INGESTED};
use crate::state::Controls;

/// The default largest evidence file: 100 MiB.
pub const DEFAULT_MAX_BYTES: u64 = 100 * 1024 * 1024;

/// What to record with an evidence file.
#[derive(Debug, Clone, Default)]
pub struct EvidenceOptions {
    /// the control it is evidence for
    pub control: String,
    /// why it was added (the review it documents, the ticket)
    pub reason: Option<String>,
    /// the media type, instead of the guess from its first bytes and extension
    pub media_type: Option<String>,
    /// the start of the period it covers, µs (default: the end of that period)
    pub effective_from_us: Option<i64>,
    /// the end of the period it covers, µs (default: now)
    pub effective_to_us: Option<i64>,
    /// until when it stands, µs (default: the end of its period plus `validity`)
    pub valid_until_us: Option<i64>,
    /// how long it stands after its period (default: the control's cadence)
    pub validity: Option<Cadence>,
    /// the largest file taken, bytes (0: [`DEFAULT_MAX_BYTES`])
    pub max_bytes: u64,
    /// the time of the upload, µs
    pub now_us: i64,
}

/// One piece of evidence, as its ledger event records it.
#[derive(Debug, Clone, Serialize)]
pub struct Evidence {
    /// `evd-…`
    pub evidence_id: String,
    /// the control
    pub control: String,
    /// `evidence.added`, or `evidence.ingested` for a scanner's results
    pub action: String,
    /// the ledger index of its event
    pub index: u64,
    /// when the ledger received it, RFC 3339
    pub added_at: String,
    /// who added it (the event's actor)
    pub added_by: String,
    /// SHA-256 of the content, hex
    pub sha256: String,
    /// bytes
    pub size: u64,
    /// its media type
    pub media_type: String,
    /// the file's name when added
    pub file_name: String,
    /// why it was added
    pub reason: Option<String>,
    /// the period it covers, RFC 3339
    pub effective_from: String,
    /// (end)
    pub effective_to: String,
    /// until when it stands, RFC 3339
    pub valid_until: String,
    /// µs of `valid_until`
    #[serde(skip)]
    pub valid_until_us: i64,
}

impl Evidence {
    /// Reads an `evidence.added` or `evidence.ingested` event; `None` for one that lacks
    /// the fields.
    pub fn from_event(event: &EventRecord) -> Option<Evidence> {
        let text = |f: &str| meta_text(event, f).map(str::to_string);
        Some(Evidence {
            evidence_id: text("evidence_id")?,
            control: text("control")?,
            action: event.entry.get("action")?.as_str()?.to_string(),
            index: event.index,
            added_at: received_at(event),
            added_by: actor_of(event),
            sha256: text("sha256")?,
            size: event.entry.get("metadata")?.get("size")?.as_u64()?,
            media_type: text("media_type").unwrap_or_default(),
            file_name: text("file_name").unwrap_or_default(),
            reason: text("reason"),
            effective_from: text("effective_from").unwrap_or_default(),
            effective_to: text("effective_to").unwrap_or_default(),
            valid_until: text("valid_until")?,
            valid_until_us: meta_time(event, "valid_until")?,
        })
    }

    /// Whether it still stands at `now_us`.
    pub fn is_current(&self, now_us: i64) -> bool {
        self.valid_until_us > now_us
    }
}

/// A control's evidence at a moment: the piece that stands longest, and whether it still
/// does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EvidenceStanding {
    /// `current`, `expired` (the newest evidence is past its `valid_until`) or `missing`
    pub state: String,
    /// the evidence that stands longest
    pub evidence_id: Option<String>,
    /// its ledger index
    pub index: Option<u64>,
    /// when it was added, RFC 3339
    pub added_at: Option<String>,
    /// until when it stands, RFC 3339
    pub valid_until: Option<String>,
}

/// What a file looks like once read within the limit.
pub(crate) struct ReadFile {
    pub content: Zeroizing<Vec<u8>>,
    pub sha256: String,
    pub file_name: String,
}

/// Reads `path` whole, refusing an empty file or one over `max_bytes`.
pub(crate) fn read_limited(path: &Path, max_bytes: u64) -> Result<ReadFile> {
    let max_bytes = if max_bytes == 0 {
        DEFAULT_MAX_BYTES
    } else {
        max_bytes
    };
    let file =
        std::fs::File::open(path).map_err(Error::io(format!("opening {}", path.display())))?;
    let mut content = Zeroizing::new(Vec::new());
    file.take(max_bytes + 1)
        .read_to_end(&mut content)
        .map_err(Error::io(format!("reading {}", path.display())))?;
    if content.len() as u64 > max_bytes {
        return Err(Error::BadRequest(format!(
            "{} is over the evidence size limit of {} MiB (--max-size-mib raises it)",
            path.display(),
            max_bytes.div_ceil(1024 * 1024)
        )));
    }
    if content.is_empty() {
        return Err(Error::BadRequest(format!("{} is empty", path.display())));
    }
    let sha256 = hex::encode(Sha256::digest(&content[..]));
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    Ok(ReadFile {
        content,
        sha256,
        file_name,
    })
}

/// The period and validity of new evidence, checked: answers (from, to, valid_until) µs.
pub(crate) fn period(options: &EvidenceOptions, cadence: Cadence) -> Result<(i64, i64, i64)> {
    let to = options.effective_to_us.unwrap_or(options.now_us);
    let from = options.effective_from_us.unwrap_or(to);
    if from > to {
        return Err(Error::BadRequest(format!(
            "--effective-from ({}) is after --effective-to ({})",
            format_time(from),
            format_time(to)
        )));
    }
    if to > options.now_us + 86_400_000_000 {
        return Err(Error::BadRequest(format!(
            "--effective-to ({}) is in the future: evidence covers a period that has happened",
            format_time(to)
        )));
    }
    let valid_until = match (options.valid_until_us, options.validity) {
        (Some(_), Some(_)) => {
            return Err(Error::BadRequest(
                "give --valid-until or --validity, not both".into(),
            ))
        }
        (Some(until), None) => until,
        (None, validity) => to.saturating_add(validity.unwrap_or(cadence).micros()),
    };
    if valid_until <= to {
        return Err(Error::BadRequest(format!(
            "--valid-until ({}) is not after the end of the period the evidence covers ({})",
            format_time(valid_until),
            format_time(to)
        )));
    }
    Ok((from, to, valid_until))
}

/// Finds the evidence `id` in the ledger.
pub(crate) fn find(log: &Log<'_>, id: &str) -> Result<Evidence> {
    store::check_id(id)?;
    for action in [EVIDENCE_ADDED, EVIDENCE_INGESTED] {
        if let Some(found) = read_all(log, action, None)?
            .iter()
            .rev()
            .filter_map(Evidence::from_event)
            .find(|e| e.evidence_id == id)
        {
            return Ok(found);
        }
    }
    Err(Error::NotFound(format!(
        "no evidence `{id}` in the ledger (`evident evidence list` shows them)"
    )))
}

/// The evidence of `control` (every control when `None`), oldest first.
pub(crate) fn list(log: &Log<'_>, control: Option<&str>) -> Result<Vec<Evidence>> {
    let mut all: Vec<Evidence> = read_all(log, EVIDENCE_ADDED, control)?
        .iter()
        .filter_map(Evidence::from_event)
        .collect();
    let mut seen_ingested = std::collections::BTreeSet::new();
    for e in read_all(log, EVIDENCE_INGESTED, control)?
        .iter()
        .filter_map(Evidence::from_event)
    {
        // one scanner file is one piece of evidence per control
        if seen_ingested.insert((e.evidence_id.clone(), e.control.clone())) {
            all.push(e);
        }
    }
    all.sort_by_key(|e| e.index);
    Ok(all)
}

/// `control`'s evidence standing at `now_us`.
pub fn standing(log: &Log<'_>, control: &str, now_us: i64) -> Result<EvidenceStanding> {
    let longest = list(log, Some(control))?
        .into_iter()
        .max_by_key(|e| (e.valid_until_us, e.index));
    Ok(standing_of(longest, now_us))
}

/// Every control's evidence standing at `now_us`, from one read of the evidence events (a
/// control without any is absent): what `controls status` shows, without reading each
/// control's events apart.
pub fn standings(
    log: &Log<'_>,
    now_us: i64,
) -> Result<std::collections::BTreeMap<String, EvidenceStanding>> {
    let mut longest: std::collections::BTreeMap<String, Evidence> = Default::default();
    for e in list(log, None)? {
        let replace = longest
            .get(&e.control)
            .is_none_or(|held| (e.valid_until_us, e.index) > (held.valid_until_us, held.index));
        if replace {
            longest.insert(e.control.clone(), e);
        }
    }
    Ok(longest
        .into_iter()
        .map(|(control, e)| (control, standing_of(Some(e), now_us)))
        .collect())
}

fn standing_of(longest: Option<Evidence>, now_us: i64) -> EvidenceStanding {
    match longest {
        None => EvidenceStanding {
            state: "missing".into(),
            evidence_id: None,
            index: None,
            added_at: None,
            valid_until: None,
        },
        Some(e) => EvidenceStanding {
            state: if e.is_current(now_us) {
                "current"
            } else {
                "expired"
            }
            .into(),
            evidence_id: Some(e.evidence_id),
            index: Some(e.index),
            added_at: Some(e.added_at),
            valid_until: Some(e.valid_until),
        },
    }
}

impl Controls<'_> {
    /// Adds the file at `path` as evidence for a control of the catalog: checked (the
    /// control exists, the size is within the limit, the period is in order), encrypted into
    /// the data directory, then recorded as one `evidence.added` event whose actor is
    /// `actor`. Nothing is kept when any step fails.
    pub fn add_evidence(
        &self,
        keys: &Keyring<'_>,
        path: &Path,
        options: &EvidenceOptions,
        actor: &str,
    ) -> Result<Evidence> {
        let catalog = self.catalog()?;
        let control = catalog.known(&options.control)?;
        let (from, to, valid_until) = period(options, control.cadence)?;
        if let Some(m) = options.media_type.as_deref() {
            if !media::is_media_type(m) {
                return Err(Error::BadRequest(format!(
                    "--media-type `{m}` is not a media type (type/subtype, e.g. application/pdf)"
                )));
            }
        }
        let file = read_limited(path, options.max_bytes)?;
        let media_type = options
            .media_type
            .clone()
            .unwrap_or_else(|| media::guess(&file.file_name, &file.content).to_string());
        let id = new_id("evd")?;
        let metadata = json!({
            "control": control.id,
            "evidence_id": id,
            "sha256": file.sha256,
            "size": file.content.len() as u64,
            "media_type": media_type,
            "file_name": file.file_name,
            "reason": options.reason,
            "effective_from": format_time(from),
            "effective_to": format_time(to),
            "valid_until": format_time(valid_until),
        });
        self.keep_and_record(keys, &id, &file, actor, |_| {
            let mut event = person_event(EVIDENCE_ADDED, &control.id, actor, metadata.clone());
            event.severity = Some(Severity::Info);
            event.reason = options.reason.clone();
            vec![event]
        })?;
        find(&self.log, &id)
    }

    /// Encrypts `file` as evidence `id`, then appends the events `events` builds; removes
    /// the file again when the append fails, so nothing is kept that the ledger lacks.
    pub(crate) fn keep_and_record(
        &self,
        keys: &Keyring<'_>,
        id: &str,
        file: &ReadFile,
        actor: &str,
        events: impl FnOnce(&str) -> Vec<evident_core::AuditEvent>,
    ) -> Result<Vec<u64>> {
        let kept = store::write(self.dir(), keys, id, &file.sha256, &file.content, actor)?;
        match self.recorder.append_blocking(events(id)) {
            Ok(receipt) => Ok(receipt.receipts.iter().map(|r| r.index).collect()),
            Err(e) => {
                let _ = std::fs::remove_file(&kept);
                Err(e)
            }
        }
    }

    /// The evidence of `control` (all when `None`), oldest first.
    pub fn list_evidence(&self, control: Option<&str>) -> Result<Vec<Evidence>> {
        if let Some(id) = control {
            self.catalog()?.known(id)?;
        }
        list(&self.log, control)
    }

    /// The evidence `id`, as recorded.
    pub fn evidence(&self, id: &str) -> Result<Evidence> {
        find(&self.log, id)
    }

    /// The content of the evidence `id`, decrypted and checked against the SHA-256 and size
    /// its ledger event recorded (an `Integrity` error when they differ).
    pub fn evidence_content(
        &self,
        keys: &Keyring<'_>,
        id: &str,
    ) -> Result<(Evidence, Zeroizing<Vec<u8>>)> {
        let recorded = find(&self.log, id)?;
        let content = store::read(self.dir(), keys, id, &recorded.sha256)?;
        let actual = hex::encode(Sha256::digest(&content[..]));
        if actual != recorded.sha256 || content.len() as u64 != recorded.size {
            return Err(Error::Integrity(format!(
                "the content of {id} (sha256 {actual}, {} bytes) is not what ledger entry {} recorded (sha256 {}, {} bytes)",
                content.len(),
                recorded.index,
                recorded.sha256,
                recorded.size
            )));
        }
        Ok((recorded, content))
    }
}
