//! `evident init`: create a data directory (a new log and signing key), optionally sealing its
//! keys with the root key and writing a development TLS pair.

use anyhow::Result;
use clap::Args;

use crate::caller;
use crate::data_dir::{open, DataDir};
use crate::tls;

/// Create a data directory with a new log and signing key (idempotent).
///
/// The signing key is written to DIR/signing.key, readable by the owner only. Running
/// `init` again on an existing directory changes nothing and prints the same facts.
#[derive(Debug, Args)]
pub struct InitArgs {
    #[command(flatten)]
    pub dir: DataDir,
    /// The log's origin line, e.g. `audit.example.com/prod`. Default: a random
    /// `evident.local/<id>`. Fixed once the log exists.
    #[arg(long, value_name = "ORIGIN")]
    pub origin: Option<String>,
    /// Also write a self-signed TLS certificate and key for development (DIR/tls/cert.pem,
    /// DIR/tls/key.pem, for localhost, 127.0.0.1 and ::1); `serve` then uses them. Kept if
    /// present. For production, give `serve` a certificate from your CA.
    #[arg(long)]
    pub tls: bool,
    /// Seal the log's signing key, the pseudonym key and the personal values with the root
    /// key (as `evident keys seal` does); every later open then needs the root key's
    /// provider. This is the default when a root key is configured (EVIDENT_ROOT_PASSPHRASE,
    /// EVIDENT_ROOT_KEY, or EVIDENT_KEY_PROVIDER pkcs11 / aws-kms); with none configured,
    /// --seal-keys fails and says what to set.
    #[arg(long, conflicts_with = "no_seal_keys")]
    pub seal_keys: bool,
    /// Leave the keys unsealed even though a root key is configured (development).
    #[arg(long)]
    pub no_seal_keys: bool,
}

/// Creates (or finds) the data directory and prints its facts.
pub fn run(args: InitArgs) -> Result<()> {
    let InitArgs {
        dir,
        origin,
        tls,
        seal_keys,
        no_seal_keys,
    } = args;
    let dir = dir.data_dir.as_path();
    let seal_keys = seal_keys || (!no_seal_keys && root_key_configured());
    let report = evident::datadir::init(dir, origin.as_deref())?;
    let engine = open(dir)?;
    if seal_keys {
        let sealed = engine.seal_own_keys(&caller::actor())?;
        if sealed.is_empty() {
            println!("keys already sealed with the root key");
        } else {
            println!("sealed with the root key: {}", sealed.join(", "));
        }
    }
    println!(
        "{} log `{}` in {}",
        if report.created { "created" } else { "found" },
        report.origin,
        dir.display()
    );
    println!("verifier key: {}", engine.verifier_key());
    if tls {
        let (cert, key, created) = tls::self_signed(dir)?;
        println!(
            "{} self-signed TLS certificate {} (key {}), for localhost, 127.0.0.1 and ::1",
            if created { "created" } else { "found" },
            cert.display(),
            key.display()
        );
    }
    Ok(())
}

/// Whether the environment names a root key (so `init` seals the directory's own keys).
fn root_key_configured() -> bool {
    let set = |name: &str| std::env::var_os(name).is_some_and(|v| !v.is_empty());
    set("EVIDENT_ROOT_PASSPHRASE")
        || set("EVIDENT_ROOT_PASSPHRASE_FILE")
        || set("EVIDENT_ROOT_KEY")
        || set("EVIDENT_ROOT_KEY_FILE")
        || std::env::var("EVIDENT_KEY_PROVIDER").is_ok_and(|p| p == "pkcs11" || p == "aws-kms")
}
