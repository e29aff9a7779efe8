//! The catalog shipped in the binary: the repository's `catalog/` directory, compiled in so
//! that the catalog in force is the one this build was tested with. Organisations add their
//! own files in the data directory (see [`super::load`]); they never edit these.

use crate::catalog::parse::Source;

macro_rules! shipped {
    ($($path:literal),* $(,)?) => {
        &[$(($path, include_str!(concat!("../../../../", $path)))),*]
    };
}

/// Evident's controls and the requirement lists (ids only) of the frameworks it maps to.
const FILES: &[(&str, &str)] = shipped![
    "catalog/frameworks/soc2.toml",
    "catalog/frameworks/hipaa.toml",
    "catalog/frameworks/pci.toml",
    "catalog/frameworks/gdpr.toml",
    "catalog/controls/access.toml",
    "catalog/controls/crypto.toml",
    "catalog/controls/logging.toml",
    "catalog/controls/operations.toml",
    "catalog/controls/privacy.toml",
    "catalog/controls/governance.toml",
    "catalog/nist/dispositions.toml",
];

/// NIST SP 800-53 rev5 baselines as NIST publishes them (OSCAL 1.1.2 resolved-profile
/// catalogs, public domain): framework id, file name, JSON.
pub const NIST_BASELINES: &[(&str, &str, &str)] = &[
    (
        "nist-800-53",
        "catalog/nist/NIST_SP-800-53_rev5_MODERATE-baseline-resolved-profile_catalog-min.json",
        include_str!(
            "../../../../catalog/nist/NIST_SP-800-53_rev5_MODERATE-baseline-resolved-profile_catalog-min.json"
        ),
    ),
    (
        "nist-800-53-privacy",
        "catalog/nist/NIST_SP-800-53_rev5_PRIVACY-baseline-resolved-profile_catalog-min.json",
        include_str!(
            "../../../../catalog/nist/NIST_SP-800-53_rev5_PRIVACY-baseline-resolved-profile_catalog-min.json"
        ),
    ),
];

/// The shipped catalog files.
pub fn sources() -> Vec<Source> {
    FILES
        .iter()
        .map(|(name, text)| Source {
            name: (*name).to_string(),
            text: (*text).to_string(),
            shipped: true,
        })
        .collect()
}
