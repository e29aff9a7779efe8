//! `evident scan`, `evident redact` and `evident hook`: the detect crate on files, trees,
//! git's staging area and log pipelines.

use std::collections::{BTreeMap, HashSet};
use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::Command as Process;
use std::sync::{Arc, Mutex};

use anyhow::{anyhow, bail, Context, Result};
use evident_detect::walk::{scan_paths, WalkOptions};
use evident_detect::{
    gitleaks, Detector, Entity, Finding, Fingerprinter, LineRedactor, Outcome, RedactMode,
    Redactor, RuleSet, Scanner,
};
use indicatif::{ProgressBar, ProgressStyle};

use crate::args::{
    ColorChoice, DetectArgs, HookCommand, RedactArgs, RedactModeArg, ScanArgs, ScanFormat,
};
use crate::verdict::FindingsReported;

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

fn config_dir() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))?;
    Some(base.join("evident"))
}

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

type BaselineKey = (String, String, String);

fn read_baseline(path: &Path) -> Result<HashSet<BaselineKey>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading the baseline {}", path.display()))?;
    let mut keys = HashSet::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let finding: Finding = serde_json::from_str(line).with_context(|| {
            format!(
                "{}:{}: not a finding (expected JSON lines from `evident scan --format json`)",
                path.display(),
                n + 1
            )
        })?;
        keys.insert((finding.rule, finding.path, finding.fingerprint));
    }
    Ok(keys)
}

fn baseline_key(f: &Finding) -> BaselineKey {
    (f.rule.clone(), f.path.clone(), f.fingerprint.clone())
}

struct Collected {
    findings: Vec<Finding>,
    errors: Vec<String>,
    files: u64,
    bytes: u64,
    binary: u64,
}

/// `evident scan`.
pub fn scan(args: ScanArgs, quiet: bool) -> Result<()> {
    let (detector, entities) = build_detector(&args.rules)?;
    let fingerprints = fingerprinter(&args.rules)?;
    let baseline = args.baseline.as_deref().map(read_baseline).transpose()?;
    let progress = spinner();
    let collected = Mutex::new(Collected {
        findings: Vec::new(),
        errors: Vec::new(),
        files: 0,
        bytes: 0,
        binary: 0,
    });
    let record =
        |path: String, outcome: evident_detect::Result<Outcome>, findings: Vec<Finding>| {
            let Ok(mut c) = collected.lock() else { return };
            c.files += 1;
            match outcome {
                Ok(Outcome::Scanned { bytes }) => c.bytes += bytes,
                Ok(Outcome::Binary) => c.binary += 1,
                Ok(Outcome::Allowlisted) => {}
                Err(e) => c.errors.push(format!("{path}: {e}")),
            }
            c.findings.extend(findings);
            progress.set_message(format!("{} files, {} MB", c.files, c.bytes / 1_000_000));
        };

    if args.staged {
        for (path, content) in staged_files()? {
            let mut found = Vec::new();
            let outcome = Scanner::new(&detector, &fingerprints)
                .min_score(args.min_score)
                .scan_bytes(&content, &path, &mut |f| found.push(f));
            record(path, Ok(outcome), found);
        }
    } else {
        let paths = if args.paths.is_empty() {
            vec![PathBuf::from(".")]
        } else {
            args.paths.clone()
        };
        let (stdin, files): (Vec<PathBuf>, Vec<PathBuf>) =
            paths.into_iter().partition(|p| p.as_os_str() == "-");
        if !stdin.is_empty() {
            let mut found = Vec::new();
            let outcome = Scanner::new(&detector, &fingerprints)
                .min_score(args.min_score)
                .scan_reader(std::io::stdin().lock(), "-", &mut |f| found.push(f));
            record("-".into(), outcome, found);
        }
        if !files.is_empty() {
            let options = WalkOptions {
                hidden: !args.no_hidden,
                ignore_files: !args.no_ignore,
                threads: args.threads,
                max_file_size: args.max_file_size,
                min_score: args.min_score,
            };
            scan_paths(&detector, &fingerprints, &files, &options, &|report| {
                let path = report.path.to_string_lossy().into_owned();
                record(path, report.outcome, report.findings);
            })?;
        }
    }
    progress.finish_and_clear();

    let mut collected = collected
        .into_inner()
        .map_err(|_| anyhow!("a scanning thread panicked"))?;
    if let Some(only) = &entities {
        collected.findings.retain(|f| only.contains(&f.entity));
    }
    let total = collected.findings.len();
    if let Some(baseline) = &baseline {
        collected
            .findings
            .retain(|f| !baseline.contains(&baseline_key(f)));
    }
    let accepted = total - collected.findings.len();
    collected
        .findings
        .sort_by(|a, b| a.path.cmp(&b.path).then(a.start.cmp(&b.start)));

    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    match args.format {
        ScanFormat::Json => {
            for f in &collected.findings {
                serde_json::to_writer(&mut out, f)?;
                out.write_all(b"\n")?;
            }
        }
        ScanFormat::Sarif => {
            let log = evident_detect::sarif::log(
                &detector,
                &collected.findings,
                env!("CARGO_PKG_VERSION"),
            );
            serde_json::to_writer_pretty(&mut out, &log)?;
            out.write_all(b"\n")?;
        }
        ScanFormat::Human => {
            let color = match args.color {
                ColorChoice::Always => true,
                ColorChoice::Never => false,
                ColorChoice::Auto => {
                    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
                }
            };
            for f in &collected.findings {
                writeln!(out, "{}", human_line(f, color))?;
            }
        }
    }
    out.flush()?;
    for error in &collected.errors {
        eprintln!("error: {error}");
    }
    if (args.format == ScanFormat::Human && !quiet) || !collected.errors.is_empty() {
        let mut summary = format!(
            "{} finding(s) in {} file(s), {:.1} MB scanned",
            collected.findings.len(),
            collected.files,
            collected.bytes as f64 / 1e6
        );
        if collected.binary > 0 {
            summary.push_str(&format!(", {} binary file(s) skipped", collected.binary));
        }
        if accepted > 0 {
            summary.push_str(&format!(", {accepted} accepted by the baseline"));
        }
        eprintln!("{summary}");
    }
    if !collected.errors.is_empty() {
        bail!("{} input(s) could not be scanned", collected.errors.len());
    }
    if collected.findings.is_empty() {
        Ok(())
    } else {
        Err(FindingsReported(collected.findings.len()).into())
    }
}

fn human_line(f: &Finding, color: bool) -> String {
    let paint = |code: &str, text: &str| {
        if color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    };
    format!(
        "{}:{}:{}  {}  {}  {}",
        paint("35", &f.path),
        paint("32", &f.line.to_string()),
        f.column,
        paint("1;31", f.entity.as_str()),
        paint("2", &f.rule),
        f.masked
    )
}

fn spinner() -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new_spinner();
    if let Ok(style) = ProgressStyle::with_template("{spinner} scanning: {msg} ({elapsed})") {
        bar.set_style(style);
    }
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    bar
}

fn git(args: &[&str]) -> Result<Vec<u8>> {
    let output = Process::new("git")
        .args(args)
        .output()
        .context("running git (is it installed?)")?;
    if !output.status.success() {
        bail!(
            "git {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(output.stdout)
}

/// Staged files (added, copied, modified, renamed) with their staged content.
fn staged_files() -> Result<Vec<(String, Vec<u8>)>> {
    let top = String::from_utf8(git(&["rev-parse", "--show-toplevel"])?)
        .context("git printed a non-UTF-8 path")?;
    let top = top.trim_end();
    let names = git(&[
        "-C",
        top,
        "diff",
        "--cached",
        "--name-only",
        "-z",
        "--diff-filter=ACMR",
    ])?;
    let mut files = Vec::new();
    for name in names.split(|&b| b == 0).filter(|n| !n.is_empty()) {
        let name = String::from_utf8_lossy(name).into_owned();
        let content = git(&["-C", top, "show", &format!(":{name}")])?;
        files.push((name, content));
    }
    Ok(files)
}

/// `evident redact`.
pub fn redact(args: RedactArgs) -> Result<()> {
    let (detector, entities) = build_detector(&args.rules)?;
    let mode = match args.mode {
        RedactModeArg::Mask => RedactMode::Mask,
        RedactModeArg::Pseudonym => RedactMode::Pseudonym,
        RedactModeArg::Remove => RedactMode::Remove,
    };
    let mut redactor = Redactor::new(Arc::new(detector), fingerprinter(&args.rules)?, mode);
    if let Some(only) = &entities {
        redactor = redactor.only(only);
    }
    let mut lines = LineRedactor::new(redactor);
    let stdin = std::io::stdin();
    let mut input = stdin.lock();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut line = Vec::with_capacity(4096);
    let mut counts: BTreeMap<&'static str, usize> = BTreeMap::new();
    loop {
        line.clear();
        if input
            .read_until(b'\n', &mut line)
            .context("reading stdin")?
            == 0
        {
            break;
        }
        let (redacted, findings) = lines.line_with_findings(&line);
        for entity in findings {
            *counts.entry(entity.as_str()).or_default() += 1;
        }
        out.write_all(&redacted)?;
        out.flush()?;
    }
    if args.stats {
        let total: usize = counts.values().sum();
        let detail: Vec<String> = counts.iter().map(|(e, n)| format!("{e} {n}")).collect();
        eprintln!(
            "redacted {total} value(s){}{}",
            if total > 0 { ": " } else { "" },
            detail.join(", ")
        );
    }
    Ok(())
}

const HOOK_MARKER: &str = "# installed by `evident hook install`";

fn hook_path() -> Result<PathBuf> {
    let hooks = String::from_utf8(git(&["rev-parse", "--git-path", "hooks"])?)
        .context("git printed a non-UTF-8 path")?;
    Ok(PathBuf::from(hooks.trim_end()).join("pre-commit"))
}

/// `evident hook install|uninstall`.
pub fn hook(cmd: HookCommand) -> Result<()> {
    let path = hook_path()?;
    match cmd {
        HookCommand::Install { force } => {
            if let Ok(existing) = std::fs::read_to_string(&path) {
                if !existing.contains(HOOK_MARKER) && !force {
                    bail!(
                        "{} already exists and was not written by Evident; add `evident scan --staged` \
                         to it yourself, or pass --force to replace it",
                        path.display()
                    );
                }
            }
            let exe = std::env::current_exe().context("finding the evident binary")?;
            let script = format!(
                "#!/bin/sh\n{HOOK_MARKER}\n# Blocks a commit whose staged files hold card numbers, PHI or secrets.\n\
                 # Accept known findings with a baseline: evident scan --staged --baseline FILE\n\
                 # Skip once (think twice): git commit --no-verify\n\
                 exec '{}' scan --staged \"$@\"\n",
                exe.display().to_string().replace('\'', "'\\''")
            );
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("creating {}", dir.display()))?;
            }
            std::fs::write(&path, script).with_context(|| format!("writing {}", path.display()))?;
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))?;
            println!("installed {}", path.display());
        }
        HookCommand::Uninstall => match std::fs::read_to_string(&path) {
            Ok(existing) if existing.contains(HOOK_MARKER) => {
                std::fs::remove_file(&path)
                    .with_context(|| format!("removing {}", path.display()))?;
                println!("removed {}", path.display());
            }
            Ok(_) => bail!("{} was not written by Evident; leaving it", path.display()),
            Err(_) => println!("no pre-commit hook to remove"),
        },
    }
    Ok(())
}
