//! The detector the detect verbs share: which rules run (`--rules`, `--gitleaks`,
//! `--disable`, `--entity`) and the key findings are fingerprinted under.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};
use clap::Args;
use evident_detect::{gitleaks, Detector, Entity, Fingerprinter, RuleSet};

/// Which rules run and how findings are keyed; shared by scan, redact and lsp.
#[derive(Debug, Clone, Args)]
pub struct DetectArgs {
    /// An Evident rule file (TOML) to add; a rule with a built-in id replaces it. Repeatable.
    #[arg(
        long = "rules",
        value_name = "FILE",
        env = "EVIDENT_RULES",
        value_delimiter = ','
    )]
    pub rule_files: Vec<PathBuf>,
    /// A gitleaks rule file to import as it is (its rules find the `secret` entity). Repeatable.
    #[arg(long = "gitleaks", value_name = "FILE")]
    pub gitleaks_files: Vec<PathBuf>,
    /// Do not load the built-in rules (only --rules and --gitleaks).
    #[arg(long)]
    pub no_builtin: bool,
    /// Turn off a rule by id. Repeatable.
    #[arg(long, value_name = "RULE")]
    pub disable: Vec<String>,
    /// Only report these entities. Repeatable: card, cvv, ssn, itin, email, phone, iban, npi,
    /// dea, mrn, dob, ip, secret.
    #[arg(long, value_name = "ENTITY")]
    pub entity: Vec<String>,
    /// File holding the fingerprint key (16+ bytes). Fingerprints and baselines compare only
    /// under the same key. Default: EVIDENT_FINGERPRINT_KEY (hex), else a key created once in
    /// $XDG_CONFIG_HOME/evident/fingerprint.key (or ~/.config/evident/).
    #[arg(long, value_name = "FILE", env = "EVIDENT_FINGERPRINT_KEY_FILE")]
    pub fingerprint_key_file: Option<PathBuf>,
}

/// The rule set named by the flags, compiled, and the entities to keep.
pub fn build_detector(args: &DetectArgs) -> Result<(Detector, Option<Vec<Entity>>)> {
    let mut set = if args.no_builtin {
        RuleSet::default()
    } else {
        RuleSet::builtin()?
    };
    for path in &args.rule_files {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading the rule file {}", path.display()))?;
        set.merge(RuleSet::from_toml(&text, &path.display().to_string())?);
    }
    for path in &args.gitleaks_files {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading the gitleaks file {}", path.display()))?;
        let (imported, report) = gitleaks::import(&text, &path.display().to_string())?;
        for (id, why) in &report.skipped {
            tracing::warn!("{}: rule `{id}`: {why}", path.display());
        }
        tracing::info!(
            "{}: imported {} gitleaks rule(s)",
            path.display(),
            report.imported
        );
        set.merge(imported);
    }
    let unknown = set.disable(&args.disable);
    if !unknown.is_empty() {
        bail!("--disable names no such rule: {}", unknown.join(", "));
    }
    let entities = if args.entity.is_empty() {
        None
    } else {
        let mut wanted = Vec::new();
        for name in &args.entity {
            let entity = Entity::parse(name).ok_or_else(|| {
                anyhow!(
                    "unknown entity `{name}`; one of: {}",
                    Entity::ALL.map(Entity::as_str).join(", ")
                )
            })?;
            wanted.push(entity);
        }
        set.retain_entities(&wanted);
        Some(wanted)
    };
    if set.rules.iter().all(|r| r.disabled) {
        bail!("no rules are left to run (check --no-builtin, --disable and --entity)");
    }
    Ok((Detector::new(&set)?, entities))
}

/// The fingerprint key: the named file, else EVIDENT_FINGERPRINT_KEY (hex), else a key made
/// once in the user's configuration directory.
pub fn fingerprinter(args: &DetectArgs) -> Result<Fingerprinter> {
    if let Some(path) = &args.fingerprint_key_file {
        let key = std::fs::read(path)
            .with_context(|| format!("reading the fingerprint key file {}", path.display()))?;
        let trimmed: Vec<u8> = key.trim_ascii().to_vec();
        return Ok(Fingerprinter::new(&trimmed)?);
    }
    if let Ok(hex_key) = std::env::var("EVIDENT_FINGERPRINT_KEY") {
        let key = hex::decode(hex_key.trim())
            .context("EVIDENT_FINGERPRINT_KEY must be hex (e.g. `openssl rand -hex 32`)")?;
        return Ok(Fingerprinter::new(&key)?);
    }
    let Some(dir) = config_dir() else {
        tracing::warn!("no home directory: fingerprints use a random key for this run only");
        return Ok(Fingerprinter::random()?);
    };
    let path = dir.join("fingerprint.key");
    match std::fs::read(&path) {
        Ok(key) => Ok(Fingerprinter::new(&key)?),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let mut key = zeroize::Zeroizing::new([0u8; 32]);
            getrandom::fill(key.as_mut()).map_err(|e| anyhow!("random source: {e}"))?;
            write_private(&dir, &path, key.as_ref())?;
            Ok(Fingerprinter::new(key.as_ref())?)
        }
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}

/// The user's Evident configuration directory: `$XDG_CONFIG_HOME/evident` (when absolute),
/// else `~/.config/evident`.
fn config_dir() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))?;
    Some(base.join("evident"))
}

/// Creates a new owner-only file (and an owner-only directory for it, if there is none): it
/// holds a key. An existing file is never overwritten.
fn write_private(dir: &Path, path: &Path, bytes: &[u8]) -> Result<()> {
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .with_context(|| format!("creating {}", dir.display()))?;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .with_context(|| format!("writing {}", path.display()))
}
