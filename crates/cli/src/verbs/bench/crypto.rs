//! `evident bench crypto`: AES-256-GCM throughput of the engine next to
//! `openssl speed -evp aes-256-gcm` measured in the same run, and keyring encrypt/decrypt
//! calls per second for 1 KiB payloads, and card tokenize / detokenize calls per second next
//! to what bounds them (FF1 alone, the disk's durable-write rate, a one-event ledger append).
//! See docs/performance.md.

use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use evident::crypto::local::LocalProvider;
use evident::crypto::{open, random_key, seal};
use evident::Engine;

use crate::packs;
use crate::verbs::bench::measure::RawClient;

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
    tokens(&engine, &scratch)?;
    // The token phase appended ledger events; let the indexer and the WAL checkpoint finish
    // them so that the HTTP phase does not share the cores with that background work.
    engine.index_now()?;
    std::thread::sleep(Duration::from_millis(500));
    http(Arc::new(engine))?;
    let _ = std::fs::remove_dir_all(&scratch);
    Ok(())
}

/// Luhn-valid card numbers of `len` digits, all different.
fn cards(len: usize, count: usize) -> Vec<String> {
    (0..count as u64)
        .map(|i| {
            let payload = format!("4{:0width$}", i * 7919 + 12345, width = len - 2);
            (0..10)
                .map(|d| format!("{payload}{d}"))
                .find(|c| {
                    evident_detect::validate::luhn(&evident_detect::validate::digits(c.as_bytes()))
                })
                .unwrap_or_default()
        })
        .collect()
}

/// Calls per second of `f` over about a second, at most `max` calls.
fn rate(max: usize, mut f: impl FnMut(usize) -> Result<()>) -> Result<(f64, usize)> {
    let started = Instant::now();
    let mut n = 0;
    while n < max && started.elapsed() < Duration::from_secs(1) {
        f(n)?;
        n += 1;
    }
    Ok((n as f64 / started.elapsed().as_secs_f64(), n))
}

/// Durable writes per second of this disk: 64 bytes appended and `fdatasync`ed each, the bound
/// of any store that commits one card at a time.
fn durable_writes_per_s(dir: &std::path::Path) -> Result<f64> {
    use std::io::Write;
    let path = dir.join("fsync-probe");
    let mut file = std::fs::File::create(&path)?;
    let (per_s, _) = rate(usize::MAX, |_| {
        file.write_all(&[0u8; 64])?;
        file.sync_data()?;
        Ok(())
    })?;
    let _ = std::fs::remove_file(path);
    Ok(per_s)
}

/// Tokenize and detokenize, in process, one thread.
fn tokens(engine: &Engine, scratch: &std::path::Path) -> Result<()> {
    use evident::crypto::tokens::{Keep, Pan, Requester, Reveal, TokenFormat};
    let mut pack = packs::default_pack();
    let entities = pack.0.get("entities.json").cloned().unwrap_or_default();
    let mut entities: Vec<serde_json::Value> = serde_json::from_str(&entities)?;
    entities.push(
        serde_json::json!({"uid": {"type": "User", "id": "bench"}, "attrs": {},
        "parents": [{"type": "Role", "id": "editor"}]}),
    );
    pack.0.insert(
        "entities.json".into(),
        serde_json::Value::Array(entities).to_string(),
    );
    engine.access().apply(pack, "bench")?;
    let vault = engine.token_vault(false)?;
    let sixteen: Vec<Pan> = cards(16, 20_000)
        .iter()
        .map(|c| Pan::parse(c))
        .collect::<Result<_, _>>()?;
    let nineteen: Vec<Pan> = cards(19, 20_000)
        .iter()
        .map(|c| Pan::parse(c))
        .collect::<Result<_, _>>()?;

    let mut random_tokens = Vec::new();
    let (new_random, made) = rate(sixteen.len(), |i| {
        random_tokens.push(
            vault
                .tokenize(&sixteen[i], TokenFormat::Random, None)?
                .token,
        );
        Ok(())
    })?;
    let (again, _) = rate(made, |i| {
        std::hint::black_box(vault.tokenize(&sixteen[i], TokenFormat::Random, None)?);
        Ok(())
    })?;
    let batch: Vec<Pan> = cards(15, 10_000)
        .iter()
        .map(|c| Pan::parse(c))
        .collect::<Result<_, _>>()?;
    let (batches, _) = rate(batch.len() / 1000, |i| {
        vault.tokenize_many(&batch[i * 1000..(i + 1) * 1000], TokenFormat::Random, None)?;
        Ok(())
    })?;
    let mut ff1_tokens = Vec::new();
    let (new_ff1, _) = rate(nineteen.len(), |i| {
        ff1_tokens.push(
            vault
                .tokenize(&nineteen[i], TokenFormat::Ff1, Some(Keep::First6Last4))?
                .token,
        );
        Ok(())
    })?;
    // FF1 alone on the same 8 hidden digits: the cipher's share of a token.
    let ff1 = fpe::ff1::FF1::<aes::Aes256>::new(&[7u8; 32], 10)
        .map_err(|_| anyhow::anyhow!("FF1 radix"))?;
    let digits: Vec<u16> = (0..8).collect();
    let (raw_ff1, _) = rate(usize::MAX, |_| {
        let out = ff1
            .encrypt(
                b"evident-pan|first6-last4|411111|1111",
                &fpe::ff1::FlexibleNumeralString::from(digits.clone()),
            )
            .map_err(|e| anyhow::anyhow!("FF1: {e:?}"))?;
        std::hint::black_box(out);
        Ok(())
    })?;
    let (open_random, _) = rate(random_tokens.len(), |i| {
        std::hint::black_box(vault.open_token(&random_tokens[i])?);
        Ok(())
    })?;
    let (open_ff1, _) = rate(ff1_tokens.len(), |i| {
        std::hint::black_box(vault.open_token(&ff1_tokens[i])?);
        Ok(())
    })?;
    let requester = Requester {
        caller: evident::access::Caller {
            method: "cli".into(),
            id: "bench".into(),
        },
        subject_type: "User".into(),
        subject_id: "bench".into(),
        context: serde_json::json!({"purpose_of_use": "refund"})
            .as_object()
            .cloned(),
        request_id: None,
    };
    let (detokenize, _) = rate(random_tokens.len(), |i| {
        std::hint::black_box(vault.detokenize(&random_tokens[i], Reveal::Full, &requester)?);
        Ok(())
    })?;
    let (append_one, _) = rate(usize::MAX, |i| {
        let event = evident::event::system_event(
            "bench.probe",
            "bench",
            Some(&i.to_string()),
            serde_json::json!({}),
        );
        engine.append_blocking(vec![event])?;
        Ok(())
    })?;
    let fsyncs = durable_writes_per_s(scratch)?;
    println!("card tokens, in process, one thread:");
    println!(
        "  tokenize a new card, random (one durable vault row each): {new_random:.0} calls/s; this disk's durable writes: {fsyncs:.0}/s"
    );
    println!(
        "  tokenize a new card, FF1 keeping 6 + 4 (19 digits): {new_ff1:.0} calls/s; FF1 alone on its 8 digits: {raw_ff1:.0} calls/s"
    );
    println!(
        "  tokenize new cards in batches of 1,000 (one durable commit each): {:.0} cards/s",
        batches * 1000.0
    );
    println!("  tokenize a card that has a token (lookup): {again:.0} calls/s");
    println!(
        "  open a token, vault only: random {open_random:.0} calls/s, FF1 {open_ff1:.0} calls/s"
    );
    println!(
        "  detokenize with a logged access decision: {detokenize:.0} calls/s; one-event ledger append alone: {append_one:.0} calls/s"
    );
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
    let addr = server.base.trim_start_matches("http://").to_string();
    let request = |path: &str, body: &str| -> Vec<u8> {
        format!(
            "POST {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: {auth}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .into_bytes()
    };
    let sealed: serde_json::Value = {
        let mut client = RawClient::connect(&addr)?;
        serde_json::from_slice(client.call(&request("/v1/keys/bench/encrypt", &body))?)?
    };
    let decrypt_body =
        serde_json::json!({"ciphertext": sealed["ciphertext"], "context": "tenant=bench"})
            .to_string();
    for (label, raw) in [
        ("encrypt", request("/v1/keys/bench/encrypt", &body)),
        ("decrypt", request("/v1/decrypt", &decrypt_body)),
    ] {
        let raw = Arc::new(raw);
        let started = Instant::now();
        let handles: Vec<_> = (0..clients)
            .map(|_| {
                let (addr, raw) = (addr.clone(), raw.clone());
                std::thread::spawn(move || -> Result<Vec<Duration>> {
                    let mut client = RawClient::connect(&addr)?;
                    let mut lat = Vec::new();
                    let until = Instant::now() + Duration::from_secs(2);
                    while Instant::now() < until {
                        let t = Instant::now();
                        let reply = client.call(&raw).context("HTTP crypto call")?;
                        std::hint::black_box(reply);
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
            "HTTP {label}, 1 KiB payloads, {clients} keep-alive clients (minimal HTTP/1.1, as wrk) on the same 2 cores: {:.0} calls/s (target ≥ 20,000), p99 {:.2} ms",
            lat.len() as f64 / secs,
            p99.as_secs_f64() * 1e3
        );
    }
    server.stop()?;
    engine.shutdown();
    Ok(())
}
