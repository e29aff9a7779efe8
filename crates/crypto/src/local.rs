//! The `local` key provider: the root key sealed in the data directory (`root.key`) under a
//! passphrase stretched with Argon2id, or given whole by the environment or a file.
//!
//! Sources, first match wins: `EVIDENT_ROOT_KEY` (64 hex digits), `EVIDENT_ROOT_KEY_FILE`
//! (a file holding 64 hex digits), then `DIR/root.key` opened with `EVIDENT_ROOT_PASSPHRASE`
//! or the contents of `EVIDENT_ROOT_PASSPHRASE_FILE`.

use std::path::{Path, PathBuf};

use argon2::{Algorithm, Argon2, Params, Version};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use evident_core::aead::{open, random_key, seal};
use evident_core::key_provider::KeyProvider;
use evident_core::{Error, Result};

/// The sealed root key's file name in a data directory.
pub const ROOT_KEY_FILE: &str = "root.key";
const ROOT_AAD: &[u8] = b"evident root key v1";
const WRAP_AAD: &[u8] = b"evident key wrap v1";
/// Argon2id cost: 64 MiB, 3 passes, 1 lane (OWASP's first recommended set).
const ARGON2_M_KIB: u32 = 64 * 1024;
const ARGON2_T: u32 = 3;
const ARGON2_P: u32 = 1;

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SealedRoot {
    v: u32,
    kdf: String,
    m_kib: u32,
    t: u32,
    p: u32,
    salt: String,
    sealed: String,
}

/// The root key, held in memory for this process only.
pub struct LocalProvider {
    root: Zeroizing<Vec<u8>>,
    source: String,
}

fn stretch(
    passphrase: &[u8],
    salt: &[u8],
    m_kib: u32,
    t: u32,
    p: u32,
) -> Result<Zeroizing<[u8; 32]>> {
    let params = Params::new(m_kib, t, p, Some(32))
        .map_err(|e| Error::Crypto(format!("Argon2 parameters: {e}")))?;
    let mut out = Zeroizing::new([0u8; 32]);
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password_into(passphrase, salt, out.as_mut())
        .map_err(|e| Error::Crypto(format!("Argon2id: {e}")))?;
    Ok(out)
}

fn hex_key(text: &str, origin: &str) -> Result<Zeroizing<Vec<u8>>> {
    let key = Zeroizing::new(
        hex::decode(text.trim())
            .map_err(|_| Error::Crypto(format!("{origin} must hold 64 hex digits")))?,
    );
    if key.len() != 32 {
        return Err(Error::Crypto(format!(
            "{origin} must hold 64 hex digits (32 bytes)"
        )));
    }
    Ok(key)
}

fn passphrase() -> Result<Option<Zeroizing<Vec<u8>>>> {
    if let Some(p) = std::env::var_os("EVIDENT_ROOT_PASSPHRASE") {
        return Ok(Some(Zeroizing::new(p.into_encoded_bytes())));
    }
    if let Some(path) = std::env::var_os("EVIDENT_ROOT_PASSPHRASE_FILE") {
        let text = std::fs::read(&path).map_err(|e| {
            Error::Crypto(format!(
                "reading EVIDENT_ROOT_PASSPHRASE_FILE {}: {e}",
                PathBuf::from(&path).display()
            ))
        })?;
        let trimmed = text.trim_ascii_end().to_vec();
        return Ok(Some(Zeroizing::new(trimmed)));
    }
    Ok(None)
}

impl LocalProvider {
    /// Opens the root key for `dir`; with `create`, seals a new one under the passphrase if
    /// the directory has none.
    pub fn open(dir: &Path, create: bool) -> Result<LocalProvider> {
        if let Ok(text) = std::env::var("EVIDENT_ROOT_KEY") {
            return Ok(LocalProvider {
                root: hex_key(&text, "EVIDENT_ROOT_KEY")?,
                source: "local, from EVIDENT_ROOT_KEY".into(),
            });
        }
        if let Some(path) = std::env::var_os("EVIDENT_ROOT_KEY_FILE") {
            let path = PathBuf::from(path);
            let text = Zeroizing::new(std::fs::read_to_string(&path).map_err(|e| {
                Error::Crypto(format!(
                    "reading EVIDENT_ROOT_KEY_FILE {}: {e}",
                    path.display()
                ))
            })?);
            return Ok(LocalProvider {
                root: hex_key(&text, &path.display().to_string())?,
                source: format!("local, from {}", path.display()),
            });
        }
        let sealed_path = dir.join(ROOT_KEY_FILE);
        let Some(passphrase) = passphrase()? else {
            return Err(Error::Crypto(format!(
                "no root key: set EVIDENT_ROOT_PASSPHRASE (or EVIDENT_ROOT_PASSPHRASE_FILE) to {} {}, or give the key in EVIDENT_ROOT_KEY / EVIDENT_ROOT_KEY_FILE",
                if sealed_path.exists() { "open" } else { "create" },
                sealed_path.display()
            )));
        };
        Self::with_passphrase(dir, &passphrase, create)
    }

    /// Opens (or, with `create`, makes) `DIR/root.key` with `passphrase`.
    pub fn with_passphrase(dir: &Path, passphrase: &[u8], create: bool) -> Result<LocalProvider> {
        let sealed_path = dir.join(ROOT_KEY_FILE);
        if passphrase.len() < 12 {
            return Err(Error::Crypto(
                "the root passphrase must be at least 12 characters".into(),
            ));
        }
        match std::fs::read(&sealed_path) {
            Ok(bytes) => {
                let file: SealedRoot = serde_json::from_slice(&bytes).map_err(|e| {
                    Error::Crypto(format!(
                        "{} is not a sealed root key: {e}",
                        sealed_path.display()
                    ))
                })?;
                if file.v != 1 || file.kdf != "argon2id" {
                    return Err(Error::Crypto(format!(
                        "{}: unsupported format",
                        sealed_path.display()
                    )));
                }
                let salt = B64
                    .decode(&file.salt)
                    .map_err(|_| Error::Crypto(format!("{}: bad salt", sealed_path.display())))?;
                let sealed = B64
                    .decode(&file.sealed)
                    .map_err(|_| Error::Crypto(format!("{}: bad body", sealed_path.display())))?;
                let kek = stretch(passphrase, &salt, file.m_kib, file.t, file.p)?;
                let root = open(kek.as_ref(), ROOT_AAD, &sealed).map_err(|_| {
                    Error::Crypto(format!(
                        "the passphrase does not open {}",
                        sealed_path.display()
                    ))
                })?;
                Ok(LocalProvider {
                    root,
                    source: format!("local, sealed in {} (Argon2id)", sealed_path.display()),
                })
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && create => {
                let root = random_key()?;
                let salt = random_key()?;
                let kek = stretch(passphrase, &salt[..16], ARGON2_M_KIB, ARGON2_T, ARGON2_P)?;
                let file = SealedRoot {
                    v: 1,
                    kdf: "argon2id".into(),
                    m_kib: ARGON2_M_KIB,
                    t: ARGON2_T,
                    p: ARGON2_P,
                    salt: B64.encode(&salt[..16]),
                    sealed: B64.encode(seal(kek.as_ref(), ROOT_AAD, root.as_ref())?),
                };
                let text =
                    serde_json::to_vec_pretty(&file).map_err(|e| Error::Crypto(e.to_string()))?;
                evident_core::files::write_private_file(&sealed_path, &text)?;
                Ok(LocalProvider {
                    root: Zeroizing::new(root.to_vec()),
                    source: format!("local, sealed in {} (Argon2id)", sealed_path.display()),
                })
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(Error::Crypto(format!(
                "{} does not exist: create a key first (`evident keys create NAME`)",
                sealed_path.display()
            ))),
            Err(e) => Err(Error::Crypto(format!(
                "reading {}: {e}",
                sealed_path.display()
            ))),
        }
    }
}

impl KeyProvider for LocalProvider {
    fn describe(&self) -> String {
        self.source.clone()
    }

    fn kind(&self) -> &'static str {
        "local"
    }

    fn wrap(&self, key: &[u8]) -> Result<Vec<u8>> {
        seal(&self.root, WRAP_AAD, key)
    }

    fn unwrap_key(&self, wrapped: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
        open(&self.root, WRAP_AAD, wrapped)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_root_opens_only_with_its_passphrase() {
        let dir = tempfile::tempdir().unwrap();
        assert!(
            LocalProvider::with_passphrase(dir.path(), b"correct horse battery", false).is_err(),
            "no file, no create"
        );
        let made =
            LocalProvider::with_passphrase(dir.path(), b"correct horse battery", true).unwrap();
        let wrapped = made.wrap(b"a data key of 32 bytes, exactly.").unwrap();
        let again =
            LocalProvider::with_passphrase(dir.path(), b"correct horse battery", false).unwrap();
        assert_eq!(
            again.unwrap_key(&wrapped).unwrap().as_slice(),
            b"a data key of 32 bytes, exactly."
        );
        let err = LocalProvider::with_passphrase(dir.path(), b"wrong horse battery", false)
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("does not open"), "{err}");
        assert!(LocalProvider::with_passphrase(dir.path(), b"short", false).is_err());
        let file = std::fs::read_to_string(dir.path().join(ROOT_KEY_FILE)).unwrap();
        assert!(file.contains("argon2id") && !file.contains("correct horse"));
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join(ROOT_KEY_FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
