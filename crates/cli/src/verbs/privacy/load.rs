//! The map a `privacy map` verb works on (a file, or the data directory's active map), and
//! a map's validation errors as the verdict "invalid" (exit 1).

use std::path::Path;

use anyhow::{bail, Result};
use evident::privacy::datamap::{self, store::MapStore, DataMap};
use evident::privacy::Error as PrivacyError;

use crate::verdict::VerificationFailed;

/// A map error as the verdict "invalid" (exit 1); other errors pass through (exit 2).
pub fn invalid(err: PrivacyError) -> anyhow::Error {
    match err {
        PrivacyError::DataMap(d) => VerificationFailed(format!(
            "the data map is not valid ({} problem{}):\n{d}",
            d.0.len(),
            if d.0.len() == 1 { "" } else { "s" }
        ))
        .into(),
        other => other.into(),
    }
}

/// The map a verb works on: `file`, or the data directory's active one.
pub fn load(file: Option<&Path>, dir: &Path) -> Result<DataMap> {
    match file {
        Some(file) => datamap::load(file).map_err(invalid),
        None => match MapStore::new(dir).load_active().map_err(invalid)? {
            Some(map) => Ok(map),
            None => bail!(
                "no data map was applied in `{}`; name a file, or `evident privacy map apply FILE`",
                dir.display()
            ),
        },
    }
}
