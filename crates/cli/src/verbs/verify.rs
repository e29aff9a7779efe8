//! `evident verify`: what an auditor runs, offline, on what a log handed them: a period
//! evidence bundle, a sample, a tlog-proof, a signed checkpoint, or a revealed personal
//! value. No data directory, no network. The checks themselves live in the libraries
//! (`evident_controls::bundle` for bundles and samples, `evident_ledger` for proofs).

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use clap::Args;
use evident::controls::bundle::format::MAX_BUNDLE_BYTES;
use evident::controls::bundle::{read_sample, verify_bundle, verify_sample, ANCHOR_MEMBERS};
use evident_ledger::hash::leaf_hash;
use evident_ledger::note::NoteVerifier;
use evident_ledger::tlog_proof::TlogProof;
use serde_json::Value;

use crate::verdict::VerificationFailed;

/// Verify, offline, what a log handed you: bundles, samples, certificates, proofs.
///
/// Takes a period evidence bundle, a sample, an erasure certificate, a tlog-proof, a
/// checkpoint, or a revealed personal value.
///
/// This is what an auditor runs. It needs no data directory and no network: only the
/// log's verifier key (`evident log vkey` prints it) and the files. A bundle is checked
/// member by member (hashes, checkpoint signatures, consistency and inclusion proofs, the
/// figures recomputed) and then for operation: every automated control checked at its
/// cadence, every failure followed by a pass or an exception. Exit 0 verified, 1 not,
/// 2 unreadable.
///
/// Examples:
///   evident verify soc2-h1.tar --vkey "$VKEY"
///   evident verify ev-ac-01.sample.json --vkey "$VKEY" --seed "auditor-2026-07-01"
///   evident verify dsr-7f3a.certificate.json --vkey "$VKEY"
///   evident verify entry.tlog-proof --vkey "$VKEY" --entry entry.json
///   evident verify checkpoint.txt --vkey "$VKEY"
///   evident verify --commitment sha256:… --path /actor/ip --salt BASE64 --value '"192.0.2.7"'
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct VerifyArgs {
    /// A bundle (`evident evidence bundle`), a sample (`evident evidence sample`), an erasure
    /// certificate (`evident dsr certificate`), a `.tlog-proof` file or a signed checkpoint.
    #[arg(required_unless_present = "commitment")]
    pub file: Option<PathBuf>,
    /// The log's verifier key (`name+hex8+base64`); also EVIDENT_VKEY.
    #[arg(
        long,
        env = "EVIDENT_VKEY",
        value_name = "VKEY",
        required_unless_present = "commitment"
    )]
    pub vkey: Option<String>,
    /// For a tlog-proof: the file holding the entry's exact bytes.
    #[arg(long, value_name = "FILE", conflicts_with = "leaf_hash")]
    pub entry: Option<PathBuf>,
    /// For a tlog-proof: the entry's leaf hash in hex, instead of `--entry`.
    #[arg(long, value_name = "HEX")]
    pub leaf_hash: Option<String>,
    /// For a sample: the seed you chose, which the sample must have been drawn with.
    #[arg(long)]
    pub seed: Option<String>,
    /// Check a revealed personal value: the `sha256:…` commitment from the entry.
    #[arg(long, requires_all = ["path", "salt", "value"])]
    pub commitment: Option<String>,
    /// The JSON pointer of the personal field, e.g. `/actor/ip`.
    #[arg(long)]
    pub path: Option<String>,
    /// The salt, base64.
    #[arg(long)]
    pub salt: Option<String>,
    /// The revealed value, as JSON (a string needs its quotes: '"192.0.2.7"').
    #[arg(long)]
    pub value: Option<String>,
}

/// Checks a revealed value against its commitment, or a proof or checkpoint against the key.
pub fn run(args: VerifyArgs) -> Result<()> {
    if let Some(commitment) = &args.commitment {
        let (Some(path), Some(salt), Some(value)) = (&args.path, &args.salt, &args.value) else {
            bail!("--commitment needs --path, --salt and --value");
        };
        let salt = B64.decode(salt).context("--salt is not base64")?;
        let value: Value = serde_json::from_str(value)
            .context("--value is not JSON (a string needs its quotes)")?;
        return if evident::personal::verify_reveal(commitment, path, &salt, &value)? {
            println!("ok: the value matches the commitment");
            Ok(())
        } else {
            Err(VerificationFailed("the value does not match the commitment".into()).into())
        };
    }
    let (Some(file), Some(vkey)) = (&args.file, &args.vkey) else {
        bail!("give a proof or checkpoint file and --vkey");
    };
    let verifier = NoteVerifier::parse(vkey).context("--vkey")?;
    let mut bytes = Vec::new();
    File::open(file)
        .with_context(|| format!("opening {}", file.display()))?
        .take(MAX_BUNDLE_BYTES)
        .read_to_end(&mut bytes)
        .with_context(|| format!("reading {}", file.display()))?;
    if bytes.get(257..262) == Some(b"ustar") {
        return verify_bundle_file(file, &bytes, &verifier);
    }
    if bytes.first() == Some(&b'{') {
        if let Some(doc) = erasure_certificate(&bytes) {
            return verify_certificate_file(file, &doc, vkey);
        }
        return verify_sample_file(file, &bytes, &verifier, args.seed.as_deref());
    }
    if bytes.len() > 2 << 20 {
        bail!(
            "{} is not a bundle or a sample, and too large for a proof or checkpoint",
            file.display()
        );
    }
    let text = String::from_utf8(bytes)
        .with_context(|| format!("{} is not UTF-8 text", file.display()))?;
    let fail = |e: &dyn std::fmt::Display| VerificationFailed(format!("{}: {e}", file.display()));
    if text.starts_with("c2sp.org/tlog-proof@") {
        let proof = TlogProof::parse(&text).map_err(|e| fail(&e))?;
        let leaf = match (&args.entry, &args.leaf_hash) {
            (Some(entry), _) => leaf_hash(
                &std::fs::read(entry).with_context(|| format!("reading {}", entry.display()))?,
            ),
            (None, Some(h)) => hex::decode(h)
                .ok()
                .and_then(|b| <[u8; 32]>::try_from(b).ok())
                .context("--leaf-hash must be 64 hex digits")?,
            (None, None) => bail!(
                "a tlog-proof is checked against an entry: give --entry FILE or --leaf-hash HEX"
            ),
        };
        let checkpoint = proof.verify(&verifier, &leaf).map_err(|e| fail(&e))?;
        println!(
            "ok: entry {} is in the log `{}` at size {} (root {})",
            proof.index,
            checkpoint.origin,
            checkpoint.size,
            B64.encode(checkpoint.root)
        );
    } else {
        let checkpoint = verifier.verify_checkpoint(&text).map_err(|e| fail(&e))?;
        println!(
            "ok: checkpoint of `{}` at size {} (root {}) is signed by {}",
            checkpoint.origin,
            checkpoint.size,
            B64.encode(checkpoint.root),
            vkey.split('+').take(2).collect::<Vec<_>>().join("+")
        );
    }
    Ok(())
}

/// The document, when `bytes` is an erasure certificate (`evident dsr certificate`).
fn erasure_certificate(bytes: &[u8]) -> Option<Value> {
    let doc: Value = serde_json::from_slice(bytes).ok()?;
    let format = doc.pointer("/certificate/format")?.as_str()?;
    (format == evident::privacy::dsr::certificate::FORMAT).then_some(doc)
}

/// An erasure certificate: its anchor entry proven in the log the key signs, and the
/// certificate unchanged since that entry logged its hash.
fn verify_certificate_file(file: &Path, doc: &Value, vkey: &str) -> Result<()> {
    match evident::privacy::dsr::certificate::verify(doc, vkey) {
        Ok(c) => {
            println!(
                "ok: erasure certificate of request `{}`, logged at index {}, proven against the signed checkpoint of size {}",
                c.request, c.index, c.checkpoint_size
            );
            Ok(())
        }
        Err(e) => Err(VerificationFailed(format!("{}: {e}", file.display())).into()),
    }
}

/// A period bundle: every fault and finding printed, exit 1 when there is any.
fn verify_bundle_file(file: &Path, bytes: &[u8], verifier: &NoteVerifier) -> Result<()> {
    let verdict = verify_bundle(bytes, verifier).with_context(|| file.display().to_string())?;
    for fault in &verdict.faults {
        println!("FAIL {fault}");
    }
    for finding in &verdict.findings {
        println!("FAIL {finding}");
    }
    let Some(m) = &verdict.manifest else {
        return Err(
            VerificationFailed(format!("{}: the manifest is damaged", file.display())).into(),
        );
    };
    let summary = format!(
        "{} over {} … {}: {} members, {} events proven in `{}` at size {}",
        m.framework,
        m.from,
        m.to,
        m.members.len() + 1 + ANCHOR_MEMBERS.len(),
        verdict.proven,
        m.origin,
        m.end.size
    );
    if verdict.ok() {
        println!("ok: bundle {summary}; every automated control checked at its cadence, every failure resolved");
        Ok(())
    } else {
        Err(VerificationFailed(format!(
            "{}: {} integrity fault(s), {} finding(s) ({summary})",
            file.display(),
            verdict.faults.len(),
            verdict.findings.len()
        ))
        .into())
    }
}

/// A sample: re-derived from its seed, every proof checked.
fn verify_sample_file(
    file: &Path,
    bytes: &[u8],
    verifier: &NoteVerifier,
    seed: Option<&str>,
) -> Result<()> {
    let sample = read_sample(bytes).with_context(|| file.display().to_string())?;
    let faults = verify_sample(&sample, verifier, seed);
    for fault in &faults {
        println!("FAIL {fault}");
    }
    if faults.is_empty() {
        println!(
            "ok: sample of {} over {} … {}: {} of {} event(s) re-derived from seed `{}`, all in `{}` at size {}",
            sample.control,
            sample.from,
            sample.to,
            sample.sample.len(),
            sample.population_count,
            sample.seed,
            sample.origin,
            sample.end.size
        );
        Ok(())
    } else {
        Err(VerificationFailed(format!("{}: {} fault(s)", file.display(), faults.len())).into())
    }
}
