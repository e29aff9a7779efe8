//! `evident tokenize` and `evident detokenize`: card numbers to tokens and back, line by line
//! over stdin and stdout, through the data directory's vault.

use std::io::{BufRead, Read, Write};

use anyhow::{bail, Context, Result};
use clap::Args;
use evident::crypto::tokens::{Keep, Pan, Requester, Reveal, TokenFormat};

use crate::caller;
use crate::data_dir::{open, DataDir};
use crate::verdict::VerificationFailed;

/// Turn card numbers (one per line on stdin) into tokens, one per line on stdout.
///
/// A token has the card's length, keeps at most its first 6 and last 4 digits, and never
/// passes the Luhn check, so nothing mistakes it for a card. `random` tokens keep the card
/// number sealed in the vault; `ff1` tokens are NIST SP 800-38G FF1 encryptions and store
/// none. The same card always gets the same token. A token that would replace fewer than
/// 6 digits (a domain under 10^6) is refused: keeping 6 + 4 needs a 16–19-digit card;
/// keep `last4` for 15-digit ones. Lines carrying track data are refused (rule
/// pci.sad.track).
/// Card numbers are read from stdin, never arguments, so they stay out of `ps` and history.
///
/// Examples:
///   printf '%s\n' 4111111111111111 | evident tokenize
///   evident tokenize --format ff1 --keep last4 --json < cards.txt
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct TokenizeArgs {
    #[command(flatten)]
    pub dir: DataDir,
    /// random (vault keeps the sealed card) or ff1 (format-preserving encryption).
    #[arg(long, default_value = "random", value_parser = ["random", "ff1"])]
    pub format: String,
    /// Digits kept in clear: first6-last4, last4 or none [default: last4 for random,
    /// first6-last4 for ff1].
    #[arg(long, value_parser = ["first6-last4", "last4", "none"])]
    pub keep: Option<String>,
    /// One JSON object per line (token, format, keep, masked, created) instead of the bare
    /// token.
    #[arg(long)]
    pub json: bool,
}

/// Reveal what card tokens stand for, after an allow from the access policy.
///
/// Each token (arguments, else one per line on stdin) is an access decision (subject
/// `User::"$USER"`, action `detokenize`, resource `CardToken::"TOKEN"`, context.reveal
/// `full` or `masked`) recorded in the ledger before anything is shown. Exit 1 if any
/// is denied or unknown; the others are still printed.
///
/// Examples:
///   evident detokenize --access-context '{"purpose_of_use": "refund"}' 4111119876541118
///   evident detokenize --masked < tokens.txt
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct DetokenizeArgs {
    #[command(flatten)]
    pub dir: DataDir,
    /// Show only the first 6 and last 4 digits.
    #[arg(long)]
    pub masked: bool,
    /// The access-policy context as JSON, e.g. '{"purpose_of_use": "refund"}'.
    #[arg(long, value_name = "JSON")]
    pub access_context: Option<String>,
    /// Tokens to reveal; read from stdin when none are given.
    pub tokens: Vec<String>,
}

/// A line longer than this is not a card number or token (and is not read further).
const MAX_LINE: usize = 256;

/// Non-empty lines of stdin, each at most [`MAX_LINE`] bytes, with their line numbers.
fn stdin_lines(mut each: impl FnMut(usize, &str) -> Result<()>) -> Result<()> {
    let stdin = std::io::stdin();
    let mut reader = stdin.lock();
    let mut line = Vec::new();
    let mut number = 0;
    loop {
        line.clear();
        let read = (&mut reader)
            .take(MAX_LINE as u64 + 1)
            .read_until(b'\n', &mut line)
            .context("reading stdin")?;
        if read == 0 {
            return Ok(());
        }
        number += 1;
        if line.len() > MAX_LINE && !line.ends_with(b"\n") {
            bail!("stdin line {number}: longer than {MAX_LINE} bytes; give one value per line");
        }
        let text = std::str::from_utf8(&line)
            .with_context(|| format!("stdin line {number} is not UTF-8"))?
            .trim();
        if !text.is_empty() {
            each(number, text)?;
        }
        // Card numbers pass through this buffer: wipe it.
        zeroize::Zeroize::zeroize(&mut line);
    }
}

/// Prints a token for each card number on stdin.
pub fn tokenize(args: TokenizeArgs) -> Result<()> {
    let TokenizeArgs {
        dir,
        format,
        keep,
        json,
    } = args;
    let format = TokenFormat::parse(&format)?;
    let keep = keep.as_deref().map(Keep::parse).transpose()?;
    let engine = open(&dir.data_dir)?;
    // The first card makes the vault (and the root key, under the passphrase).
    let vault = engine.token_vault(true)?;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    stdin_lines(|number, text| {
        let pan = Pan::parse(text).with_context(|| format!("stdin line {number}"))?;
        let made = vault
            .tokenize(&pan, format, keep)
            .with_context(|| format!("stdin line {number}"))?;
        if json {
            serde_json::to_writer(&mut out, &made)?;
            out.write_all(b"\n")?;
        } else {
            writeln!(out, "{}", made.token)?;
        }
        Ok(())
    })?;
    out.flush()?;
    Ok(())
}

/// Prints what each token (arguments, else stdin lines) stands for, where the policy allows.
pub fn detokenize(args: DetokenizeArgs) -> Result<()> {
    let DetokenizeArgs {
        dir,
        masked,
        access_context,
        tokens,
    } = args;
    let context = caller::access_context(access_context.as_deref())?;
    let engine = open(&dir.data_dir)?;
    let vault = engine.token_vault(false)?;
    let caller = caller::access_caller();
    let requester = Requester {
        subject_type: "User".into(),
        subject_id: caller.id.clone(),
        caller,
        context,
        request_id: None,
    };
    let reveal = if masked { Reveal::Masked } else { Reveal::Full };
    let mut out = std::io::stdout().lock();
    let mut refused = 0usize;
    let mut one = |token: &str| -> Result<()> {
        match vault.detokenize(token, reveal, &requester) {
            Ok(value) => writeln!(out, "{}", value.as_str())?,
            Err(
                e @ (evident::Error::Denied(_)
                | evident::Error::NotFound(_)
                | evident::Error::BadRequest(_)),
            ) => {
                refused += 1;
                eprintln!("error: {e}");
            }
            Err(e) => return Err(e.into()),
        }
        Ok(())
    };
    if tokens.is_empty() {
        stdin_lines(|_, text| one(text))?;
    } else {
        for token in &tokens {
            one(token)?;
        }
    }
    if refused > 0 {
        return Err(VerificationFailed(format!(
            "{refused} token(s) not revealed (each decision is in the ledger)"
        ))
        .into());
    }
    Ok(())
}
