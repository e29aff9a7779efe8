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
    http(Arc::new(engine))?;
    let _ = std::fs::remove_dir_all(&scratch);
    Ok(())
}

/// Encrypt and decrypt calls over HTTP from keep-alive clients on the same two cores.
fn http(engine: Arc<Engine>) -> Result<()> {
    use base64::Engine as _;
    let writer = engine.create_api_key(evident::Role::Writer, Some("bench"), "bench")?;
    let server = evident_server::LoopbackServer::start(engine.clone())?;
    let auth = format!("Bearer {}", writer.token.as_str());
    let plaintext = base64::engine::general_purpose::STANDARD.encode(vec![0x42u8; 1024]);
    let body = serde_json::json!({"plaintext": plaintext, "context": "tenant=bench"}).to_string();
    let clients = 8;
    for (label, path) in [
        ("encrypt", "/v1/keys/bench/encrypt"),
        ("decrypt", "/v1/decrypt"),
    ] {
        let url = format!("{}{path}", server.base);
        let request_body = if label == "decrypt" {
            let agent = ureq::Agent::new_with_defaults();
            let reply: serde_json::Value = agent
                .post(format!("{}/v1/keys/bench/encrypt", server.base))
                .header("Authorization", &auth)
                .content_type("application/json")
                .send(&body)?
                .body_mut()
                .read_json()?;
            serde_json::json!({"ciphertext": reply["ciphertext"], "context": "tenant=bench"})
                .to_string()
        } else {
            body.clone()
        };
        let started = Instant::now();
        let handles: Vec<_> = (0..clients)
            .map(|_| {
                let (url, auth, request_body) = (url.clone(), auth.clone(), request_body.clone());
                std::thread::spawn(move || -> Result<Vec<Duration>> {
                    let agent = ureq::Agent::new_with_defaults();
                    let mut lat = Vec::new();
                    let until = Instant::now() + Duration::from_secs(2);
                    while Instant::now() < until {
                        let t = Instant::now();
                        agent
                            .post(&url)
                            .header("Authorization", &auth)
                            .content_type("application/json")
                            .send(&request_body)
                            .context("HTTP crypto call")?
                            .body_mut()
                            .read_to_string()?;
                        lat.push(t.elapsed());
                    }
                    Ok(lat)
                })
            })
            .collect();
        let mut lat = Vec::new();
        for h in handles {
            lat.extend(h.join().map_err(|_| anyhow::anyhow!("client panicked"))??);
        }
        let secs = started.elapsed().as_secs_f64();
        lat.sort();
        let p99 = lat[(lat.len() - 1) * 99 / 100];
        println!(
            "HTTP {label}, 1 KiB payloads, {clients} keep-alive clients on the same 2 cores: {:.0} calls/s (target ≥ 20,000), p99 {:.2} ms",
            lat.len() as f64 / secs,
            p99.as_secs_f64() * 1e3
        );
    }
    server.stop()?;
    engine.shutdown();
    Ok(())
}
