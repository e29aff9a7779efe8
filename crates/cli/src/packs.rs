//! The policy packs shipped inside the binary, so `demo` and `bench access` run anywhere.

use evident::access::pack::PackFiles;

/// `policies/default`: RBAC, PHI with purpose and fresh MFA, privileged MFA, break-glass,
/// decryption with regulated keys.
pub fn default_pack() -> PackFiles {
    PackFiles(
        [
            (
                "schema.cedarschema",
                include_str!("../../../policies/default/schema.cedarschema"),
            ),
            (
                "rbac.cedar",
                include_str!("../../../policies/default/rbac.cedar"),
            ),
            (
                "privileged.cedar",
                include_str!("../../../policies/default/privileged.cedar"),
            ),
            (
                "phi.cedar",
                include_str!("../../../policies/default/phi.cedar"),
            ),
            (
                "break-glass.cedar",
                include_str!("../../../policies/default/break-glass.cedar"),
            ),
            (
                "crypto.cedar",
                include_str!("../../../policies/default/crypto.cedar"),
            ),
            (
                "tokens.cedar",
                include_str!("../../../policies/default/tokens.cedar"),
            ),
            (
                "entities.json",
                include_str!("../../../policies/default/entities.json"),
            ),
            (
                "pack.toml",
                include_str!("../../../policies/default/pack.toml"),
            ),
        ]
        .into_iter()
        .map(|(name, text)| (name.to_string(), text.to_string()))
        .collect(),
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_embedded_default_pack_is_the_one_in_the_repository() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policies/default");
        let on_disk = evident::access::pack::PackFiles::load_dir(&dir).unwrap_or_default();
        assert_eq!(crate::packs::default_pack(), on_disk);
    }
}
