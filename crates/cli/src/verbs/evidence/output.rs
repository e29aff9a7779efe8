//! Writing what an `evidence` verb produces: whole or not at all.

use anyhow::{Context, Result};

/// Writes `bytes` to `path` whole or not at all (a temporary file beside it, renamed).
pub(super) fn write_whole(path: &std::path::Path, bytes: &[u8]) -> Result<()> {
    let name = path
        .file_name()
        .with_context(|| format!("-o {}: not a file name", path.display()))?;
    let tmp = path.with_file_name(format!(".{}.partial", name.to_string_lossy()));
    std::fs::write(&tmp, bytes).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))
}
