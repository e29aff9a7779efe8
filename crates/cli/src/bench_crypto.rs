//! `evident bench crypto`: AES-256-GCM throughput of the engine next to
//! `openssl speed -evp aes-256-gcm` measured in the same run, and keyring encrypt/decrypt
//! calls per second for 1 KiB payloads. See docs/performance.md.

use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use evident::crypto::local::LocalProvider;
use evident::crypto::{open, random_key, seal};
use evident::Engine;

const BLOCK: usize = 16 * 1024;

/// OpenSSL's AES-256-GCM speed on 16 KiB blocks, one core, in MB/s.
fn openssl_speed() -> Result<f64> {
    let out = Command::new("openssl")
        .args([
            "speed",
            "-evp",
            "aes-256-gcm",
            "-seconds",
            "2",
            "-bytes",
            &BLOCK.to_string(),
        ])
        .output()
        .context("running `openssl speed` (is openssl installed?)")?;
    let text = String::from_utf8_lossy(&out.stdout);
    // The last line: `AES-256-GCM  <k bytes per second>k`.
    let line = text
        .lines()
        .rev()
        .find(|l| l.to_ascii_lowercase().starts_with("aes-256-gcm"))
        .context("no AES-256-GCM line in `openssl speed` output")?;
    let kbytes: f64 = line
        .split_whitespace()
        .last()
        .and_then(|v| v.trim_end_matches('k').parse().ok())
        .context("unreadable `openssl speed` figure")?;
    Ok(kbytes * 1000.0 / 1e6)
}

fn ours_mb_s() -> Result<f64> {
    let key = random_key()?;
    let data = vec![0x5au8; BLOCK];
    let mut best = 0.0f64;
    for _ in 0..3 {
        let started = Instant::now();
        let mut bytes = 0usize;
        while started.elapsed() < Duration::from_millis(700) {
            for _ in 0..64 {
                let sealed = seal(key.as_ref(), b"bench", &data)?;
                bytes += data.len();
                std::hint::black_box(sealed);
            }
        }
        best = best.max(bytes as f64 / started.elapsed().as_secs_f64() / 1e6);
    }
    // Opening must work on what was sealed: the figure is of real AEAD, not a no-op.
    let sealed = seal(key.as_ref(), b"bench", &data)?;
    anyhow::ensure!(
        open(key.as_ref(), b"bench", &sealed)?.as_slice() == data.as_slice(),
        "round trip failed"
    );
    Ok(best)
}

/// Runs the benchmark and prints its figures.
pub fn run() -> Result<()> {
    let ours = ours_mb_s()?;
    let peer = openssl_speed();
    match &peer {
        Ok(openssl) => println!(
            "AES-256-GCM, 16 KiB messages, one core: evident (ring) {ours:.0} MB/s, openssl speed {openssl:.0} MB/s = {:.0} % (target ≥ 70 %)",
            100.0 * ours / openssl
        ),
        Err(e) => println!("AES-256-GCM, 16 KiB messages, one core: evident (ring) {ours:.0} MB/s; openssl not measured: {e:#}"),
    }

    let scratch = std::env::temp_dir().join(format!("evident-bench-crypto-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&scratch);
    let engine = Engine::open(&scratch, true)?;
    engine.set_key_provider(Arc::new(LocalProvider::with_passphrase(
        &scratch,
        b"benchmark passphrase",
        true,
    )?));
    let keys = engine.keyring(false)?;
    keys.create("bench", "bench")?;
    let payload = vec![0x42u8; 1024];
    let mut ciphertexts = Vec::with_capacity(100_000);
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(1) {
        ciphertexts.push(keys.encrypt("bench", &payload, b"tenant=bench")?);
    }
    let enc_rate = ciphertexts.len() as f64 / started.elapsed().as_secs_f64();
    let started = Instant::now();
    let mut lat = Vec::with_capacity(ciphertexts.len());
    for c in &ciphertexts {
        let t = Instant::now();
        std::hint::black_box(keys.decrypt(c, b"tenant=bench")?);
        lat.push(t.elapsed());
    }
    let dec_rate = ciphertexts.len() as f64 / started.elapsed().as_secs_f64();
    lat.sort();
    let p99 = lat[(lat.len() - 1) * 99 / 100];
    println!(
        "keyring, 1 KiB payloads, in process, one thread: encrypt {enc_rate:.0} calls/s, decrypt {dec_rate:.0} calls/s (p99 {:.1} µs)",
        p99.as_secs_f64() * 1e6
    );
    drop(keys);
    engine.shutdown();
    drop(engine);
    let _ = std::fs::remove_dir_all(&scratch);
    Ok(())
}
