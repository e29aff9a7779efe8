//! `evident keys …`, `evident encrypt` and `evident decrypt`: the keyring's named, versioned
//! encryption keys wrapped by the root key, and stdin encrypted or decrypted under them.

use std::io::{Read, Write};

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};

use crate::caller;
use crate::data_dir::{open, DataDir};

/// Manage encryption keys: named, versioned, wrapped by the root key.
///
/// The root key is sealed in DIR/root.key under EVIDENT_ROOT_PASSPHRASE (or
/// EVIDENT_ROOT_PASSPHRASE_FILE), stretched with Argon2id, and made on the first
/// `keys create`; or it is given whole by EVIDENT_ROOT_KEY / EVIDENT_ROOT_KEY_FILE (64 hex
/// digits). Every create, rotate, disable, enable and destroy is a ledger event.
#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Create a key (version 1).
    Create {
        #[command(flatten)]
        dir: DataDir,
        /// 1–64 characters of a-z, 0-9, `-`, `_`, `.`, e.g. `acme.payments`.
        name: String,
        /// The key protects regulated data (PHI, cardholder data): every decryption needs an
        /// allow from the access policy (action `decrypt` on `EncryptionKey::"NAME"`) and is
        /// logged.
        #[arg(long)]
        regulated: bool,
    },
    /// Mark a key as protecting regulated data, or not (logged).
    Classify {
        #[command(flatten)]
        dir: DataDir,
        /// The key.
        name: String,
        /// regulated or ordinary.
        #[arg(value_parser = ["regulated", "ordinary"])]
        class: String,
    },
    /// Make a new version the active one (older versions then only decrypt); with
    /// --older-than, rotate every key whose active version is older than that many days.
    Rotate {
        #[command(flatten)]
        dir: DataDir,
        /// The key to rotate.
        #[arg(required_unless_present = "older_than")]
        name: Option<String>,
        /// Rotate every key whose active version is older than DAYS (a max-age policy; run it
        /// from cron).
        #[arg(long, value_name = "DAYS", conflicts_with = "name")]
        older_than: Option<u32>,
    },
    /// Seal this directory's own secrets with the root key: the log's signing key, the
    /// pseudonym key and the personal values stored beside the tree, so a copy of the
    /// directory without the root key cannot sign, pseudonymise or read a personal value.
    ///
    /// Needs the root key's provider now and on every later open (`serve`, `log verify`, …):
    /// EVIDENT_ROOT_PASSPHRASE for `local`, or the pkcs11 / aws-kms settings. Logged as
    /// `evident.keys.sealed`. Idempotent: sealed files are left alone and any personal values
    /// stored plain since (by a server that opened the directory before) are sealed. Run it
    /// with the server stopped, or restart the server afterwards.
    Seal {
        #[command(flatten)]
        dir: DataDir,
    },
    /// Each key's versions, states, ages and usage counts.
    List {
        #[command(flatten)]
        dir: DataDir,
        /// JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Stop a version from encrypting or decrypting until enabled again.
    Disable {
        #[command(flatten)]
        dir: DataDir,
        /// The key.
        name: String,
        /// The version number.
        #[arg(value_name = "VERSION")]
        key_version: u32,
    },
    /// Undo `disable`.
    Enable {
        #[command(flatten)]
        dir: DataDir,
        /// The key.
        name: String,
        /// The version number.
        #[arg(value_name = "VERSION")]
        key_version: u32,
    },
    /// Destroy a version's key material: what it encrypted can never be read again.
    Destroy {
        #[command(flatten)]
        dir: DataDir,
        /// The key.
        name: String,
        /// The version number.
        #[arg(value_name = "VERSION")]
        key_version: u32,
        /// Confirm: this cannot be undone.
        #[arg(long)]
        yes: bool,
    },
}

/// Runs one `keys` subcommand.
pub fn run(cmd: KeysCommand) -> Result<()> {
    let actor = caller::actor();
    match cmd {
        KeysCommand::Create {
            dir,
            name,
            regulated,
        } => {
            let engine = open(&dir.data_dir)?;
            let keys = engine.keyring(true)?;
            let version = keys.create(&name, &actor)?;
            if regulated {
                keys.classify(&name, true, &actor)?;
            }
            println!(
                "created key `{name}` version {version}{}",
                if regulated {
                    " (regulated: decryption needs an access allow)"
                } else {
                    ""
                }
            );
        }
        KeysCommand::Classify { dir, name, class } => {
            let engine = open(&dir.data_dir)?;
            engine
                .keyring(false)?
                .classify(&name, class == "regulated", &actor)?;
            println!("key `{name}` is now {class}; logged");
        }
        KeysCommand::Rotate {
            dir,
            name,
            older_than,
        } => {
            let engine = open(&dir.data_dir)?;
            let keys = engine.keyring(false)?;
            match (name, older_than) {
                (Some(name), _) => {
                    let version = keys.rotate(&name, &actor)?;
                    println!("rotated `{name}`: version {version} is active");
                }
                (None, Some(days)) => {
                    let rotated = keys.rotate_older_than(i64::from(days) * 86_400, &actor)?;
                    if rotated.is_empty() {
                        println!("no key's active version is older than {days} days");
                    }
                    for (name, version) in rotated {
                        println!("rotated `{name}`: version {version} is active");
                    }
                }
                (None, None) => bail!("name a key or give --older-than"),
            }
        }
        KeysCommand::Seal { dir } => {
            let engine = open(&dir.data_dir)?;
            let sealed = engine.seal_own_keys(&caller::actor())?;
            if sealed.is_empty() {
                println!("already sealed: {}", evident::datadir::KEY_FILE);
            } else {
                println!(
                    "sealed with the root key ({}): {}; opening this directory now needs it",
                    engine.keyring(false)?.provider(),
                    sealed.join(", ")
                );
            }
        }
        KeysCommand::List { dir, json } => {
            let engine = open(&dir.data_dir)?;
            let keys = engine.keyring(false)?;
            let list = keys.list()?;
            if json {
                println!("{}", serde_json::to_string_pretty(&list)?);
            } else {
                println!("root key: {}", keys.provider());
                println!(
                    "{:<24} {:>7}  {:<12} {:>10}  {:>13}  {:<27}  class",
                    "key", "version", "state", "age (days)", "encryptions ≤", "created"
                );
                for key in &list {
                    for v in &key.versions {
                        let state = serde_json::to_value(v.state)?;
                        println!(
                            "{:<24} {:>7}  {:<12} {:>10}  {:>13}  {:<27}  {}",
                            key.name,
                            v.version,
                            state.as_str().unwrap_or_default(),
                            v.age_seconds / 86_400,
                            v.encryptions,
                            v.created,
                            if key.regulated {
                                "regulated"
                            } else {
                                "ordinary"
                            }
                        );
                    }
                }
            }
        }
        KeysCommand::Disable {
            dir,
            name,
            key_version: version,
        } => {
            let actor = caller::privileged_actor("disabling a key")?;
            open(&dir.data_dir)?
                .keyring(false)?
                .disable(&name, version, &actor)?;
            println!("disabled `{name}` version {version}");
        }
        KeysCommand::Enable {
            dir,
            name,
            key_version: version,
        } => {
            open(&dir.data_dir)?
                .keyring(false)?
                .enable(&name, version, &actor)?;
            println!("enabled `{name}` version {version}");
        }
        KeysCommand::Destroy {
            dir,
            name,
            key_version: version,
            yes,
        } => {
            if !yes {
                bail!("destroying `{name}` version {version} makes everything it encrypted unreadable for good; pass --yes to confirm");
            }
            let actor = caller::privileged_actor("destroying a key")?;
            open(&dir.data_dir)?
                .keyring(false)?
                .destroy(&name, version, &actor)?;
            println!("destroyed `{name}` version {version}; the destruction is in the ledger");
        }
    }
    Ok(())
}

/// Encrypt stdin under a named key; prints `evident:v<N>:<key>:<base64url>`.
///
/// Example: printf '%s' "$PAN" | evident encrypt --key payments --context tenant=acme
#[derive(Debug, Args)]
pub struct EncryptArgs {
    #[command(flatten)]
    pub dir: DataDir,
    /// The key's name.
    #[arg(long, value_name = "NAME", required_unless_present = "subject")]
    pub key: Option<String>,
    /// Encrypt under this data subject's own key instead (made on first use): erasing the
    /// subject (`evident log erase`) destroys it, and every such ciphertext becomes
    /// unreadable (crypto-shredding).
    #[arg(long, value_name = "ID", conflicts_with = "key")]
    pub subject: Option<String>,
    /// Associated data the ciphertext is bound to (tenant, record id); decryption needs
    /// the same.
    #[arg(long, default_value = "", value_name = "TEXT")]
    pub context: String,
}

/// Decrypt a ciphertext from stdin (it names its key) to stdout.
#[derive(Debug, Args)]
pub struct DecryptArgs {
    #[command(flatten)]
    pub dir: DataDir,
    /// The associated data given at encryption.
    #[arg(long, default_value = "", value_name = "TEXT")]
    pub context: String,
    /// For a regulated key: the access-policy context of this decryption as JSON, e.g.
    /// '{"purpose_of_use": "treatment"}'. The decision (subject `User::"$USER"`, action
    /// `decrypt`, resource `EncryptionKey::"NAME"`) is logged.
    #[arg(long, value_name = "JSON")]
    pub access_context: Option<String>,
}

/// The most stdin `encrypt` and `decrypt` take.
const MAX_CRYPT_BYTES: u64 = 64 << 20;

/// Reads stdin whole, refusing more than [`MAX_CRYPT_BYTES`].
fn read_stdin_limited(what: &str) -> Result<Vec<u8>> {
    let mut input = Vec::new();
    std::io::stdin()
        .lock()
        .take(MAX_CRYPT_BYTES + 1)
        .read_to_end(&mut input)
        .context("reading stdin")?;
    if input.len() as u64 > MAX_CRYPT_BYTES {
        bail!("{what} takes at most {MAX_CRYPT_BYTES} bytes on stdin; use a data key (envelope encryption) for larger data");
    }
    Ok(input)
}

/// Prints stdin's ciphertext under the named key (or the subject's own key).
pub fn encrypt(args: EncryptArgs) -> Result<()> {
    let EncryptArgs {
        dir,
        key,
        subject,
        context,
    } = args;
    let input = zeroize::Zeroizing::new(read_stdin_limited("encrypt")?);
    let engine = open(&dir.data_dir)?;
    let ciphertext = match (key.as_deref(), subject.as_deref()) {
        (_, Some(subject)) => engine.keyring(true)?.encrypt_for_subject(
            subject,
            &input,
            context.as_bytes(),
            &caller::actor(),
        )?,
        (Some(key), None) => engine
            .keyring(false)?
            .encrypt(key, &input, context.as_bytes())?,
        (None, None) => bail!("give --key NAME or --subject ID"),
    };
    println!("{ciphertext}");
    Ok(())
}

/// Writes the plaintext of the ciphertext on stdin, after an access allow for a regulated key.
pub fn decrypt(args: DecryptArgs) -> Result<()> {
    let DecryptArgs {
        dir,
        context,
        access_context,
    } = args;
    let input = read_stdin_limited("decrypt")?;
    let text = std::str::from_utf8(&input).context("a ciphertext is text (`evident:v<N>:…`)")?;
    let engine = open(&dir.data_dir)?;
    let (_, name, _) = evident::crypto::keyring::parse_ciphertext(text.trim())?;
    if engine.key_is_regulated(name)? {
        let access_context = caller::access_context(access_context.as_deref())?;
        let caller = caller::access_caller();
        let request = evident::access::decrypt_request("User", &caller.id, name, access_context);
        evident::access::require_allow(
            engine.access().evaluate_blocking(&request, &caller, None),
            &format!("decrypting with the regulated key `{name}`"),
        )?;
    }
    let plaintext = engine.keyring(false)?.decrypt(text, context.as_bytes())?;
    std::io::stdout().write_all(&plaintext)?;
    Ok(())
}
