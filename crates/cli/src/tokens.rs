//! `evident tokenize` and `evident detokenize`: card numbers to tokens and back, line by line
//! over stdin and stdout, through the data directory's vault.

use std::io::{BufRead, Read, Write};
use std::path::Path;

use anyhow::{bail, Context, Result};
use evident::crypto::tokens::{Keep, Pan, Requester, Reveal, TokenFormat};

use crate::caller;
use crate::data_dir::open;
use crate::verdict::VerificationFailed;

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

pub(crate) fn tokenize(dir: &Path, format: &str, keep: Option<&str>, json: bool) -> Result<()> {
    let format = TokenFormat::parse(format)?;
    let keep = keep.map(Keep::parse).transpose()?;
    let engine = open(dir)?;
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

pub(crate) fn detokenize(
    dir: &Path,
    masked: bool,
    access_context: Option<&str>,
    tokens: Vec<String>,
) -> Result<()> {
    let context = caller::access_context(access_context)?;
    let engine = open(dir)?;
    let vault = engine.token_vault(false)?;
    let caller = evident::access::Caller::cli();
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
