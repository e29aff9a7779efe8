//! Where evidence files are kept: encrypted, one file per piece of evidence, under the data
//! directory (`DIR/evidence/<id>.enc`), so the SQLite store stays small and `evident backup`
//! copies them beside the database snapshot.
//!
//! A file is `EVIDENT-EVIDENCE 1\n`, one line holding a fresh 256-bit data key encrypted by
//! the keyring's named key `evidence` (`evident:v<N>:evidence:…`, bound to the evidence id),
//! then the content sealed with AES-256-GCM under that data key, with the evidence id and
//! the content's SHA-256 as associated data: a file renamed to another id, or holding other
//! content than the ledger recorded, does not open. Rotating the `evidence` key leaves old
//! files readable (its old versions decrypt); destroying it shreds every evidence file.

use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use evident_core::aead::{open, seal};
use evident_core::{Error, Result};
use evident_crypto::keyring::Keyring;

use crate::names::EVIDENCE_KEY;

const MAGIC: &[u8] = b"EVIDENT-EVIDENCE 1\n";
/// The data directory's folder of evidence files.
pub const EVIDENCE_DIR: &str = "evidence";

/// Whether `id` is an evidence id (`evd-` and 24 hex digits): checked before it becomes part
/// of a path.
pub fn is_evidence_id(id: &str) -> bool {
    id.strip_prefix("evd-")
        .is_some_and(|h| h.len() == 24 && h.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// `id` if it is an evidence id, else the error that says what one looks like.
pub fn check_id(id: &str) -> Result<&str> {
    if is_evidence_id(id) {
        Ok(id)
    } else {
        Err(Error::BadRequest(format!(
            "`{id}` is not an evidence id (evd- and 24 hex digits; `evident evidence list` shows them)"
        )))
    }
}

/// The file of the evidence `id` in the data directory `dir`.
pub fn path_of(dir: &Path, id: &str) -> Result<PathBuf> {
    Ok(dir
        .join(EVIDENCE_DIR)
        .join(format!("{}.enc", check_id(id)?)))
}

fn aad(id: &str, sha256: &str) -> Vec<u8> {
    format!("evident evidence v1\0{id}\0{sha256}").into_bytes()
}

/// Encrypts `content` (whose SHA-256 is `sha256`, hex) into the new file of `id`; answers
/// its path. Makes the keyring's `evidence` key on first use (logged by the keyring).
pub fn write(
    dir: &Path,
    keys: &Keyring<'_>,
    id: &str,
    sha256: &str,
    content: &[u8],
    actor: &str,
) -> Result<PathBuf> {
    let path = path_of(dir, id)?;
    let (data_key, wrapped) = match keys.data_key(EVIDENCE_KEY, id.as_bytes()) {
        Err(Error::NotFound(_)) => {
            match keys.create(EVIDENCE_KEY, actor) {
                Ok(_) | Err(Error::Conflict(_)) => {}
                Err(e) => return Err(e),
            }
            keys.data_key(EVIDENCE_KEY, id.as_bytes())?
        }
        other => other?,
    };
    let sealed = seal(data_key.as_ref(), &aad(id, sha256), content)?;
    let mut bytes = Vec::with_capacity(MAGIC.len() + wrapped.len() + 1 + sealed.len());
    bytes.extend_from_slice(MAGIC);
    bytes.extend_from_slice(wrapped.as_bytes());
    bytes.push(b'\n');
    bytes.extend_from_slice(&sealed);
    let folder = dir.join(EVIDENCE_DIR);
    std::fs::create_dir_all(&folder)
        .map_err(Error::io(format!("creating {}", folder.display())))?;
    evident_core::files::write_private_file(&path, &bytes)?;
    Ok(path)
}

/// Decrypts the file of `id`, which must hold the content whose SHA-256 is `sha256`.
pub fn read(dir: &Path, keys: &Keyring<'_>, id: &str, sha256: &str) -> Result<Zeroizing<Vec<u8>>> {
    let path = path_of(dir, id)?;
    let bytes = std::fs::read(&path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => Error::NotFound(format!(
            "the file of {id} is missing from the data directory ({}); restore it from a backup",
            path.display()
        )),
        _ => Error::Io {
            context: format!("reading {}", path.display()),
            source: e,
        },
    })?;
    let damaged = || {
        Error::Integrity(format!(
            "{}: not an evidence file, or damaged",
            path.display()
        ))
    };
    let rest = bytes.strip_prefix(MAGIC).ok_or_else(damaged)?;
    let newline = rest.iter().position(|&b| b == b'\n').ok_or_else(damaged)?;
    let wrapped = std::str::from_utf8(&rest[..newline]).map_err(|_| damaged())?;
    let data_key = keys.decrypt(wrapped, id.as_bytes())?;
    open(data_key.as_slice(), &aad(id, sha256), &rest[newline + 1..]).map_err(|_| {
        Error::Integrity(format!(
            "{}: the content does not open as the evidence the ledger recorded (altered, or another id's file)",
            path.display()
        ))
    })
}
