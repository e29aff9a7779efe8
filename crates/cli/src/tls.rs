//! The development TLS pair a data directory may hold: where it lives (`serve` looks there),
//! and `init --tls` writing a self-signed one.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// The directory inside a data directory that `init --tls` writes.
const TLS_DIR: &str = "tls";

/// The certificate and key files of the pair inside a data directory.
pub fn default_pair(dir: &Path) -> (PathBuf, PathBuf) {
    let tls = dir.join(TLS_DIR);
    (tls.join("cert.pem"), tls.join("key.pem"))
}

/// Writes a self-signed certificate and key into the data directory unless both exist;
/// answers their paths and whether they were made now.
pub fn self_signed(dir: &Path) -> Result<(PathBuf, PathBuf, bool)> {
    let (cert_path, key_path) = default_pair(dir);
    if cert_path.exists() && key_path.exists() {
        return Ok((cert_path, key_path, false));
    }
    let names = vec![
        "localhost".to_owned(),
        "127.0.0.1".to_owned(),
        "::1".to_owned(),
    ];
    let generated =
        rcgen::generate_simple_self_signed(names).context("generating a certificate")?;
    let key_pem = zeroize::Zeroizing::new(generated.key_pair.serialize_pem());
    let tls_dir = dir.join(TLS_DIR);
    {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&tls_dir)
            .with_context(|| format!("creating {}", tls_dir.display()))?;
    }
    write_file(&key_path, key_pem.as_bytes(), 0o600)?;
    write_file(&cert_path, generated.cert.pem().as_bytes(), 0o644)?;
    Ok((cert_path, key_path, true))
}

fn write_file(path: &Path, bytes: &[u8], mode: u32) -> Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(mode)
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .with_context(|| format!("writing {}", path.display()))
}
