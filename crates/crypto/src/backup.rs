//! Encrypted, consistent backups of a data directory, their restore, and the restore test
//! whose record is a ledger event (contingency-plan evidence).
//!
//! A backup file is `EVIDENT-BACKUP 1\n`, one line of JSON header, then the payload in
//! sealed chunks. The payload is the files of the data directory — a consistent SQLite
//! snapshot of `evident.db` taken with SQLite's online backup while the server runs, the
//! signing key, the redaction key, the TLS pair if present, and the controls part's encrypted
//! evidence files (`evidence/evd-….enc`, taken after the snapshot, so every evidence event the
//! snapshot holds has its file) — concatenated in the header's order. It is encrypted with a fresh 256-bit data key in 1 MiB chunks, each AES-256-GCM with
//! the header's hash, its index and a last-chunk flag as associated data, so chunks cannot be
//! reordered, dropped or truncated unnoticed. The data key is wrapped by the root key, and the
//! header carries the passphrase-sealed root key (`root.key`), so a restore needs only the
//! passphrase (or the root key given by the environment).

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use evident_core::datadir;
use evident_core::event::{format_time, now_us, system_event, Outcome, Severity};
use evident_core::recorder::Recorder;
use evident_core::verify::VerifyReport;
use evident_core::{Error, Result};

use crate::keyring::Keyring;
use crate::local::{LocalProvider, ROOT_KEY_FILE};
use crate::{open, provider_from_env, random_key, requested_provider, seal, KeyProvider};

/// Opens a restored data directory and verifies its whole log (the engine does it: opening
/// a directory is above this part).
pub type VerifyRestored<'a> = &'a dyn Fn(&Path) -> Result<VerifyReport>;

const MAGIC: &[u8] = b"EVIDENT-BACKUP 1\n";
const CHUNK: usize = 1 << 20;
/// Files copied beside the database snapshot, if present.
const FILES: &[&str] = &[
    datadir::KEY_FILE,
    datadir::REDACTION_KEY_FILE,
    "tls/cert.pem",
    "tls/key.pem",
];

/// Whether `name` is an evidence file of the controls part (`evidence/evd-<24 hex>.enc`):
/// already encrypted under the keyring, copied as they are.
fn is_evidence_file(name: &str) -> bool {
    name.strip_prefix("evidence/evd-")
        .and_then(|rest| rest.strip_suffix(".enc"))
        .is_some_and(|h| h.len() == 24 && h.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The evidence files of `dir`, by name in the backup.
fn evidence_files(dir: &Path) -> Result<Vec<(String, PathBuf)>> {
    let folder = dir.join("evidence");
    let entries = match std::fs::read_dir(&folder) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io(format!("reading {}", folder.display()))(e)),
    };
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry.map_err(io(format!("reading {}", folder.display())))?;
        let name = format!("evidence/{}", entry.file_name().to_string_lossy());
        if is_evidence_file(&name) {
            files.push((name, entry.path()));
        }
    }
    files.sort();
    Ok(files)
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Header {
    created: String,
    origin: String,
    entries: u64,
    root_key_sealed: Option<String>,
    /// the key provider that wrapped the data key (absent in backups from before providers:
    /// `local`)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    provider: Option<String>,
    data_key_wrapped: String,
    files: Vec<(String, u64)>,
}

/// What a backup holds.
#[derive(Debug, Clone, Serialize)]
pub struct BackupReport {
    /// the file written
    pub path: PathBuf,
    /// its size
    pub bytes: u64,
    /// log entries in the snapshot
    pub entries: u64,
    /// SHA-256 of the whole file, hex
    pub sha256: String,
}

/// What a restore found.
#[derive(Debug, Clone, Serialize)]
pub struct RestoreReport {
    /// the data directory written
    pub dir: PathBuf,
    /// the log's origin
    pub origin: String,
    /// entries verified
    pub entries: u64,
    /// signed checkpoints verified
    pub checkpoints: u64,
    /// the verified root, base64
    pub root: String,
}

fn chunk_aad(header_hash: &[u8], index: u64, last: bool) -> Vec<u8> {
    let mut aad = b"evident backup v1".to_vec();
    aad.extend_from_slice(header_hash);
    aad.extend_from_slice(&index.to_be_bytes());
    aad.push(u8::from(last));
    aad
}

fn io(context: String) -> impl FnOnce(std::io::Error) -> Error {
    Error::io(context)
}

/// Writes an encrypted, consistent backup of the data directory behind `recorder` to `out`,
/// its data key wrapped by `keys`' root key, and logs it.
pub fn create(
    recorder: &dyn Recorder,
    keys: &Keyring<'_>,
    out: &Path,
    actor: &str,
) -> Result<BackupReport> {
    if out.exists() {
        return Err(Error::BadRequest(format!(
            "{} exists; backups never overwrite",
            out.display()
        )));
    }
    let dir = recorder.dir().to_path_buf();
    let scratch = tempfile_in(&dir)?;
    let snapshot = scratch.join("evident.db");
    let entries = recorder.snapshot_store(&snapshot)?;
    let mut files: Vec<(String, PathBuf)> = vec![(datadir::DB_FILE.to_owned(), snapshot.clone())];
    for name in FILES {
        let path = dir.join(name);
        if path.exists() {
            files.push(((*name).to_owned(), path));
        }
    }
    files.extend(evidence_files(&dir)?);
    let data_key = random_key()?;
    let header = Header {
        created: format_time(now_us()),
        origin: recorder.origin().to_owned(),
        entries,
        root_key_sealed: std::fs::read_to_string(dir.join(ROOT_KEY_FILE)).ok(),
        provider: Some(keys.provider_kind().to_owned()),
        data_key_wrapped: B64.encode(keys.wrap_with_root(data_key.as_ref())?),
        files: files
            .iter()
            .map(|(name, path)| {
                Ok((
                    name.clone(),
                    std::fs::metadata(path)
                        .map_err(io(format!("reading {}", path.display())))?
                        .len(),
                ))
            })
            .collect::<Result<_>>()?,
    };
    let header_line = serde_json::to_vec(&header).map_err(|e| Error::Crypto(e.to_string()))?;
    let header_hash = Sha256::digest(&header_line);

    let partial = out.with_extension("partial");
    let mut file =
        std::fs::File::create(&partial).map_err(io(format!("creating {}", partial.display())))?;
    let mut hasher = Sha256::new();
    let mut write = |bytes: &[u8]| -> Result<()> {
        hasher.update(bytes);
        file.write_all(bytes)
            .map_err(io(format!("writing {}", partial.display())))
    };
    write(MAGIC)?;
    write(&header_line)?;
    write(b"\n")?;
    let mut payload = Zeroizing::new(Vec::with_capacity(CHUNK));
    let mut index = 0u64;
    let total: u64 = header.files.iter().map(|(_, len)| len).sum();
    let mut done = 0u64;
    for (_, path) in &files {
        let mut reader =
            std::fs::File::open(path).map_err(io(format!("reading {}", path.display())))?;
        loop {
            let room = CHUNK - payload.len();
            let start = payload.len();
            payload.resize(CHUNK, 0);
            let n = reader
                .read(&mut payload[start..start + room])
                .map_err(io(format!("reading {}", path.display())))?;
            payload.truncate(start + n);
            if n == 0 {
                break;
            }
            done += n as u64;
            if payload.len() == CHUNK && done < total {
                let sealed = seal(
                    data_key.as_ref(),
                    &chunk_aad(&header_hash, index, false),
                    &payload,
                )?;
                write(&(sealed.len() as u32).to_be_bytes())?;
                write(&sealed)?;
                payload.clear();
                index += 1;
            }
        }
    }
    let sealed = seal(
        data_key.as_ref(),
        &chunk_aad(&header_hash, index, true),
        &payload,
    )?;
    write(&(sealed.len() as u32).to_be_bytes())?;
    write(&sealed)?;
    file.sync_all()
        .map_err(io(format!("writing {}", partial.display())))?;
    drop(file);
    std::fs::rename(&partial, out).map_err(io(format!("renaming to {}", out.display())))?;
    let _ = std::fs::remove_dir_all(&scratch);
    let report = BackupReport {
        path: out.to_path_buf(),
        bytes: std::fs::metadata(out)
            .map_err(io(format!("reading {}", out.display())))?
            .len(),
        entries,
        sha256: hex::encode(hasher.finalize()),
    };
    let mut event = system_event(
        "evident.backup.created",
        "backup",
        Some(&report.sha256),
        serde_json::json!({"entries": entries, "bytes": report.bytes, "requested_by": actor}),
    );
    event.severity = Some(Severity::Medium);
    recorder.append_blocking(vec![event])?;
    Ok(report)
}

fn tempfile_in(dir: &Path) -> Result<PathBuf> {
    let mut id = [0u8; 8];
    getrandom::fill(&mut id).map_err(|e| Error::Crypto(format!("random source: {e}")))?;
    let path = dir.join(format!(".backup-{}", hex::encode(id)));
    std::fs::create_dir(&path).map_err(io(format!("creating {}", path.display())))?;
    Ok(path)
}

/// The root-key provider for a restore: the environment's key, else the header's sealed
/// root opened with the environment's passphrase.
fn restore_provider(header: &Header, target: &Path) -> Result<Arc<dyn KeyProvider>> {
    let kind = header.provider.as_deref().unwrap_or("local");
    if kind != "local" {
        // The root key is in an HSM or a KMS: the same provider settings open the backup.
        if requested_provider()? != kind {
            return Err(Error::Crypto(format!(
                "this backup's data key is wrapped by the `{kind}` key provider: set EVIDENT_KEY_PROVIDER to `{kind}` with its settings"
            )));
        }
        return provider_from_env(target, false);
    }
    if std::env::var_os("EVIDENT_ROOT_KEY").is_some()
        || std::env::var_os("EVIDENT_ROOT_KEY_FILE").is_some()
    {
        return Ok(Arc::new(LocalProvider::open(target, false)?));
    }
    let sealed = header.root_key_sealed.as_ref().ok_or_else(|| {
        Error::Crypto("this backup's root key came from the environment: set EVIDENT_ROOT_KEY or EVIDENT_ROOT_KEY_FILE".into())
    })?;
    datadir::write_private_file(&target.join(ROOT_KEY_FILE), sealed.as_bytes())?;
    Ok(Arc::new(LocalProvider::open(target, false)?))
}

/// Reads the magic line and the JSON header of a backup; answers the header and its exact
/// bytes (what the chunks' associated data hashes). Never reads more than 1 MiB of header.
fn read_header(reader: &mut impl BufRead) -> std::result::Result<(Header, Vec<u8>), String> {
    let mut magic = vec![0u8; MAGIC.len()];
    reader
        .read_exact(&mut magic)
        .map_err(|_| "not an Evident backup".to_owned())?;
    if magic != MAGIC {
        return Err("not an Evident backup".into());
    }
    let mut header_line = Vec::new();
    reader
        .take(1 << 20)
        .read_until(b'\n', &mut header_line)
        .map_err(|e| format!("reading the header: {e}"))?;
    if header_line.pop() != Some(b'\n') {
        return Err("truncated header".into());
    }
    let header: Header =
        serde_json::from_slice(&header_line).map_err(|e| format!("bad header: {e}"))?;
    payload_size(&header.files)?;
    Ok((header, header_line))
}

/// The payload size a backup's manifest declares, once its files are known to be the ones a
/// backup holds (the database and [`FILES`], each at most once) and their sizes add up within
/// range: so a restore writes only inside its target and slices only inside its payload.
fn payload_size(files: &[(String, u64)]) -> std::result::Result<u64, String> {
    let mut total = 0u64;
    for (i, (name, len)) in files.iter().enumerate() {
        if name != datadir::DB_FILE && !FILES.contains(&name.as_str()) && !is_evidence_file(name) {
            return Err(format!("bad header: unknown file {name:?}"));
        }
        if files[..i].iter().any(|(seen, _)| seen == name) {
            return Err(format!("bad header: {name:?} twice"));
        }
        total = total
            .checked_add(*len)
            .filter(|t| usize::try_from(*t).is_ok())
            .ok_or_else(|| "bad header: the file sizes are out of range".to_owned())?;
    }
    Ok(total)
}

/// Checks that `bytes` start like a backup with a well-formed header (for tools and fuzzing;
/// opening the payload needs the root key).
pub fn inspect_header(bytes: &[u8]) -> Result<(String, u64)> {
    let (header, _) = read_header(&mut &bytes[..]).map_err(Error::BadRequest)?;
    Ok((header.origin, header.entries))
}

/// Restores `backup` into `target` (which must not exist or be empty) and verifies it with
/// `verify`.
pub fn restore(backup: &Path, target: &Path, verify: VerifyRestored<'_>) -> Result<RestoreReport> {
    if target.exists()
        && std::fs::read_dir(target)
            .map_err(io(format!("reading {}", target.display())))?
            .next()
            .is_some()
    {
        return Err(Error::BadRequest(format!(
            "{} is not empty; restore into a new directory",
            target.display()
        )));
    }
    let file = std::fs::File::open(backup).map_err(io(format!("opening {}", backup.display())))?;
    let mut reader = BufReader::new(file);
    let (header, header_line) = read_header(&mut reader)
        .map_err(|e| Error::BadRequest(format!("{}: {e}", backup.display())))?;
    let header_hash = Sha256::digest(&header_line);

    std::fs::create_dir_all(target).map_err(io(format!("creating {}", target.display())))?;
    let provider = restore_provider(&header, target)?;
    let wrapped = B64
        .decode(&header.data_key_wrapped)
        .map_err(|_| Error::BadRequest("bad data key".into()))?;
    let data_key = provider
        .unwrap_key(&wrapped)
        .map_err(|_| Error::Crypto("the root key does not open this backup".into()))?;

    let mut payload: Zeroizing<Vec<u8>> = Zeroizing::new(Vec::new());
    let mut index = 0u64;
    loop {
        let mut len = [0u8; 4];
        reader.read_exact(&mut len).map_err(|_| {
            Error::Integrity(format!(
                "{}: truncated (chunk {index} missing)",
                backup.display()
            ))
        })?;
        let len = u32::from_be_bytes(len) as usize;
        if len > CHUNK + 64 {
            return Err(Error::Integrity(format!(
                "{}: chunk {index} is malformed",
                backup.display()
            )));
        }
        let mut sealed = vec![0u8; len];
        reader.read_exact(&mut sealed).map_err(|_| {
            Error::Integrity(format!("{}: truncated in chunk {index}", backup.display()))
        })?;
        let (plain, last) = match open(
            data_key.as_slice(),
            &chunk_aad(&header_hash, index, false),
            &sealed,
        ) {
            Ok(p) => (p, false),
            Err(_) => (
                open(
                    data_key.as_slice(),
                    &chunk_aad(&header_hash, index, true),
                    &sealed,
                )
                .map_err(|_| {
                    Error::Integrity(format!("{}: chunk {index} was altered", backup.display()))
                })?,
                true,
            ),
        };
        payload.extend_from_slice(&plain);
        index += 1;
        if last {
            break;
        }
    }
    let expected = payload_size(&header.files)
        .map_err(|e| Error::BadRequest(format!("{}: {e}", backup.display())))?;
    if payload.len() as u64 != expected {
        return Err(Error::Integrity(format!(
            "{}: the payload does not match its manifest",
            backup.display()
        )));
    }
    let mut at = 0usize;
    for (name, len) in &header.files {
        let path = target.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(io(format!("creating {}", parent.display())))?;
        }
        let bytes = &payload[at..at + *len as usize];
        datadir::write_private_file(&path, bytes)?;
        at += *len as usize;
    }
    let report = verify(target)?;
    Ok(RestoreReport {
        dir: target.to_path_buf(),
        origin: header.origin,
        entries: report.entries,
        checkpoints: report.checkpoints,
        root: B64.encode(report.root),
    })
}

/// Restores `backup` into a scratch directory, verifies the whole log there with `verify`,
/// removes it, and records the outcome in `recorder`'s ledger.
pub fn test(
    recorder: &dyn Recorder,
    backup: &Path,
    actor: &str,
    verify: VerifyRestored<'_>,
) -> Result<RestoreReport> {
    let scratch = std::env::temp_dir().join(format!(
        "evident-backup-test-{}-{}",
        std::process::id(),
        now_us()
    ));
    let outcome = restore(backup, &scratch, verify);
    let _ = std::fs::remove_dir_all(&scratch);
    let digest = std::fs::read(backup)
        .map(|b| hex::encode(Sha256::digest(&b)))
        .unwrap_or_default();
    let mut event = system_event(
        "evident.backup.tested",
        "backup",
        Some(&digest),
        match &outcome {
            Ok(r) => {
                serde_json::json!({"result": "restored and verified", "entries": r.entries, "checkpoints": r.checkpoints, "root": r.root, "requested_by": actor})
            }
            Err(e) => {
                serde_json::json!({"result": "failed", "error": e.to_string(), "requested_by": actor})
            }
        },
    );
    if outcome.is_err() {
        event.outcome = Outcome::Failure;
        event.severity = Some(Severity::High);
    }
    recorder.append_blocking(vec![event])?;
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header_with(files: serde_json::Value) -> Vec<u8> {
        let header = serde_json::json!({
            "created": "2026-12-07T00:00:00Z", "origin": "example.com/log", "entries": 1,
            "root_key_sealed": null, "data_key_wrapped": "", "files": files,
        });
        let mut bytes = MAGIC.to_vec();
        bytes.extend(serde_json::to_vec(&header).unwrap_or_default());
        bytes.push(b'\n');
        bytes
    }

    /// File sizes that add past `u64::MAX` overflowed the restore's sum (a panic, or in a
    /// release build a wrapped total and a slice past the payload); the header refuses them.
    #[test]
    fn a_manifest_with_overflowing_sizes_is_refused() {
        let bytes = header_with(serde_json::json!([
            ["evident.db", u64::MAX],
            [datadir::KEY_FILE, 1]
        ]));
        let err = inspect_header(&bytes)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("out of range"), "{err}");
    }

    #[test]
    fn a_manifest_names_only_the_files_a_backup_holds() {
        for files in [
            serde_json::json!([["../outside", 1]]),
            serde_json::json!([["/etc/passwd", 1]]),
            serde_json::json!([["evident.db", 1], ["evident.db", 1]]),
            serde_json::json!([["evidence/../../outside.enc", 1]]),
            serde_json::json!([["evidence/evd-0123456789abcdef0123456.enc", 1]]),
        ] {
            assert!(
                inspect_header(&header_with(files.clone())).is_err(),
                "{files}"
            );
        }
        let good = header_with(serde_json::json!([
            ["evident.db", 4096],
            [datadir::KEY_FILE, 90],
            ["evidence/evd-0123456789abcdef01234567.enc", 200]
        ]));
        let inspected = inspect_header(&good).map_err(|e| e.to_string());
        assert_eq!(inspected, Ok(("example.com/log".to_owned(), 1)));
    }
}
