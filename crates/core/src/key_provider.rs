//! The root-key provider trait: where the root key lives is a part's business (a sealed
//! local file, an HSM over PKCS#11, a cloud KMS — `evident-crypto`), but the core needs one
//! to seal the log's signing key and the personal-data key, so the trait lives here.

use zeroize::Zeroizing;

use crate::Result;

/// Where the root key lives. Implementations never expose it: they only wrap and unwrap.
pub trait KeyProvider: Send + Sync {
    /// A short description for `evident keys list` (never key material).
    fn describe(&self) -> String;
    /// `local`, `pkcs11` or `aws-kms`: recorded in the data directory with the first key, so
    /// that opening it with another provider is refused with a clear message.
    fn kind(&self) -> &'static str;
    /// Encrypts a key under the root key.
    fn wrap(&self, key: &[u8]) -> Result<Vec<u8>>;
    /// Decrypts a key wrapped by [`KeyProvider::wrap`].
    fn unwrap_key(&self, wrapped: &[u8]) -> Result<Zeroizing<Vec<u8>>>;
}
