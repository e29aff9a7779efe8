//! One function per verb: parse what the user gave, call the engine, print the result.

use std::fs::File;
use std::io::{BufRead, BufReader, IsTerminal, Read, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use evident::store::{EventQuery, LogStore};
use evident::{AuditEvent, Role};
use evident_ledger::hash::leaf_hash;
use evident_ledger::note::NoteVerifier;
use evident_ledger::tlog_proof::TlogProof;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{json, Value};

use crate::args::{
    ApikeyCommand, BackupCommand, BenchCommand, Cli, Command, LogCommand, QueryFilter, RoleArg,
    VerifyArgs,
};
use crate::caller;
use crate::data_dir::{open, open_or_create};
use crate::verdict::VerificationFailed;

pub fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Init {
            dir,
            origin,
            tls,
            seal_keys,
            no_seal_keys,
        } => {
            let seal = seal_keys || (!no_seal_keys && root_key_configured());
            init(&dir.data_dir, origin.as_deref(), tls, seal)
        }
        Command::Serve {
            dir,
            listen,
            danger_plaintext_network,
            tls,
            oidc,
        } => serve(&dir.data_dir, listen, danger_plaintext_network, &tls, &oidc),
        Command::Policy(cmd) => crate::verbs::policy::run(cmd),
        Command::Access(cmd) => crate::verbs::access::run(cmd),
        Command::Log(cmd) => log(cmd),
        Command::Apikey(cmd) => apikey(cmd),
        Command::Verify(args) => verify_offline(&args),
        Command::Demo { data_dir, events } => crate::demo::run(data_dir, events),
        Command::Keys(cmd) => crate::verbs::keys::run(cmd),
        Command::Backup { test, dir, out } => backup(test, &dir.data_dir, out.as_deref()),
        Command::Restore { file, data_dir } => restore(&file, &data_dir),
        Command::Encrypt(args) => crate::verbs::keys::encrypt(args),
        Command::Decrypt(args) => crate::verbs::keys::decrypt(args),
        Command::Tokenize(args) => crate::verbs::tokens::tokenize(args),
        Command::Detokenize(args) => crate::verbs::tokens::detokenize(args),
        Command::Scan(args) => crate::verbs::detect::scan::run(args, cli.quiet),
        Command::Redact(args) => crate::verbs::detect::redact::run(args),
        Command::Hook(cmd) => crate::verbs::detect::hook::run(cmd),
        Command::Lsp(args) => crate::verbs::detect::lsp::run(&args),
        Command::Bench(BenchCommand::Crypto) => crate::bench_crypto::run(),
        Command::Bench(BenchCommand::Access {
            dir,
            rate,
            seconds,
            clients,
            http_only,
        }) => crate::bench_access::run(dir, rate, seconds, clients, http_only),
        Command::Bench(BenchCommand::Detect {
            dir,
            records,
            seed,
            tree,
            peers_python,
        }) => crate::bench_detect::run(dir, records, seed, tree, peers_python),
        Command::Bench(BenchCommand::Ledger {
            dir,
            events,
            proof_tree,
            skip_http,
        }) => crate::bench::ledger(dir, events, proof_tree, skip_http),
    }
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

fn display_list(items: &[&str]) -> String {
    items.join(", ")
}

fn bar(len: u64, unit: &str) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let style = ProgressStyle::with_template(&format!(
        "{{spinner}} [{{elapsed_precise}}] {{wide_bar}} {{pos}}/{{len}} {unit} ({{per_sec}}, eta {{eta}})"
    ))
    .unwrap_or_else(|_| ProgressStyle::default_bar());
    ProgressBar::new(len).with_style(style)
}

fn init(dir: &Path, origin: Option<&str>, tls: bool, seal_keys: bool) -> Result<()> {
    let report = evident::datadir::init(dir, origin)?;
    let engine = open(dir)?;
    if seal_keys {
        let sealed = engine.seal_own_keys(&caller::actor())?;
        if sealed.is_empty() {
            println!("keys already sealed with the root key");
        } else {
            println!("sealed with the root key: {}", display_list(&sealed));
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
        let (cert, key, created) = crate::tls::self_signed(dir)?;
        println!(
            "{} self-signed TLS certificate {} (key {}), for localhost, 127.0.0.1 and ::1",
            if created { "created" } else { "found" },
            cert.display(),
            key.display()
        );
    }
    Ok(())
}

fn serve(
    dir: &Path,
    listen: std::net::SocketAddr,
    danger_plaintext_network: bool,
    tls: &crate::args::TlsArgs,
    oidc: &crate::args::OidcArgs,
) -> Result<()> {
    let tls_files = crate::tls::files(dir, tls)?;
    if tls_files.is_none() && !listen.ip().is_loopback() && !danger_plaintext_network {
        bail!(
            "refusing to listen on {listen} without TLS: API keys and events would cross the network \
             in clear text. Listen on a loopback address behind a TLS proxy, or pass \
             --danger-plaintext-network if the network is trusted"
        );
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async move {
        let engine = std::sync::Arc::new(open_or_create(dir)?);
        let tls = match &tls_files {
            Some(files) => Some(
                evident_server::tls::ReloadingConfig::load(files.clone())
                    .context("setting up TLS")?,
            ),
            None => None,
        };
        let options = evident_server::ServerOptions {
            oidc: oidc.oidc_issuer.as_ref().map(|issuer| {
                let mut config = evident_server::oidc::OidcConfig::new(
                    issuer.clone(),
                    oidc.oidc_audience.clone().unwrap_or_default(),
                );
                config.jwks_url = oidc.oidc_jwks_url.clone();
                config.roles_claim = oidc.oidc_roles_claim.clone();
                config
            }),
            public_url: oidc.public_url.clone(),
            tls: tls.is_some(),
        };
        let state = evident_server::AppState::with_options(engine.clone(), options);
        if let Some(verifier) = state.oidc() {
            // Fetch the issuer's keys now so a wrong issuer or URL shows at startup.
            let verifier_issuer = verifier.config().issuer.clone();
            match tokio::task::block_in_place(|| verifier.refresh()) {
                Ok(n) => tracing::info!(issuer = %verifier_issuer, keys = n, "OIDC issuer keys loaded"),
                Err(e) => tracing::warn!(issuer = %verifier_issuer, error = %e, "OIDC keys not loaded yet; will retry on the first token"),
            }
        }
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| format!("listening on {listen}"))?;
        let local = listener.local_addr()?;
        if tls.is_none() && !local.ip().is_loopback() {
            tracing::warn!("serving plaintext HTTP on a non-loopback address ({local})");
        }
        tracing::info!(
            address = %local,
            origin = engine.origin(),
            size = engine.size(),
            vkey = %engine.verifier_key(),
            "evident is serving"
        );
        match tls {
            Some(tls) => {
                println!("listening on https://{local}");
                evident_server::serve_tls(state, listener, tls, shutdown_signal()).await?;
            }
            None => {
                println!("listening on http://{local}");
                evident_server::serve(state, listener, shutdown_signal()).await?;
            }
        }
        engine.shutdown();
        tracing::info!("stopped");
        Ok(())
    })
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}

fn log(cmd: LogCommand) -> Result<()> {
    match cmd {
        LogCommand::Append { dir, file, batch } => {
            append(&dir.data_dir, file.as_deref(), batch as usize)
        }
        LogCommand::Tail { dir, lines, follow } => tail(&dir.data_dir, lines, follow),
        LogCommand::Query { dir, filter } => query(&dir.data_dir, &filter),
        LogCommand::Show { dir, index, reveal } => {
            let engine = open(&dir.data_dir)?;
            let record = engine.event(index, reveal)?;
            let mut out = json!({"index": record.index, "leaf_hash": hex::encode(&record.leaf), "event": record.entry});
            if reveal {
                out["personal"] = record
                    .revealed
                    .iter()
                    .map(|p| json!({"path": p.path, "value": serde_json::from_str::<Value>(&p.value).unwrap_or(Value::Null), "salt": B64.encode(&p.salt), "subject": p.subject}))
                    .collect();
            }
            println!("{}", serde_json::to_string_pretty(&out)?);
            Ok(())
        }
        LogCommand::Verify { dir, vkey } => verify_log(&dir.data_dir, vkey.as_deref()),
        LogCommand::Prove {
            dir,
            index,
            out,
            entry_out,
        } => {
            let engine = open(&dir.data_dir)?;
            let proof = engine.tlog_proof(index)?;
            if let Some(path) = entry_out {
                let bytes = engine.entry_bytes(index)?;
                std::fs::write(&path, bytes)
                    .with_context(|| format!("writing {}", path.display()))?;
            }
            match out {
                Some(path) => std::fs::write(&path, proof.to_text())
                    .with_context(|| format!("writing {}", path.display()))?,
                None => print!("{}", proof.to_text()),
            }
            Ok(())
        }
        LogCommand::Vkey { dir } => {
            let signer = evident::datadir::load_signer(&dir.data_dir)?;
            println!("{}", signer.verifier().to_key_string());
            Ok(())
        }
        LogCommand::Checkpoint { dir } => {
            let engine = open(&dir.data_dir)?;
            match engine.checkpoint() {
                Some(c) => print!("{}", c.note),
                None => bail!("the log is empty: no checkpoint yet"),
            }
            Ok(())
        }
        LogCommand::Erase { dir, subject } => {
            let engine = open(&dir.data_dir)?;
            let report = engine.erase_subject(&subject, &caller::actor())?;
            println!(
                "destroyed {} personal values and {} versions of the subject's key of `{subject}`; erasure recorded as entry {}",
                report.removed, report.keys_destroyed, report.receipt.index
            );
            Ok(())
        }
    }
}

fn parse_line(line: &str, number: usize) -> Result<AuditEvent> {
    let value: Value =
        serde_json::from_str(line).with_context(|| format!("line {number}: malformed JSON"))?;
    let event = AuditEvent::from_json(value).with_context(|| format!("line {number}"))?;
    event.prepare(0).with_context(|| format!("line {number}"))?;
    Ok(event)
}

fn append(dir: &Path, file: Option<&Path>, batch: usize) -> Result<()> {
    let engine = open(dir)?;
    let started = Instant::now();
    let mut appended = 0u64;
    let mut last = None;
    let mut flush = |events: &mut Vec<AuditEvent>, appended: &mut u64| -> Result<()> {
        if events.is_empty() {
            return Ok(());
        }
        let receipt = engine.append_blocking(std::mem::take(events))?;
        *appended += receipt.receipts.len() as u64;
        last = Some(receipt.checkpoint);
        Ok(())
    };
    match file.filter(|f| f.as_os_str() != "-") {
        Some(path) => {
            let open_file =
                || File::open(path).with_context(|| format!("opening {}", path.display()));
            // First pass: validate everything, so a bad line stores nothing.
            let mut lines = 0u64;
            for (i, line) in BufReader::new(open_file()?).lines().enumerate() {
                let line = line.with_context(|| format!("reading line {}", i + 1))?;
                if !line.trim().is_empty() {
                    parse_line(&line, i + 1)?;
                    lines += 1;
                }
            }
            let progress = bar(lines, "events");
            let mut events = Vec::with_capacity(batch);
            for line in BufReader::new(open_file()?).lines() {
                let line = line?;
                if line.trim().is_empty() {
                    continue;
                }
                events.push(AuditEvent::from_json(serde_json::from_str(&line)?)?);
                if events.len() == batch {
                    flush(&mut events, &mut appended)?;
                    progress.set_position(appended);
                }
            }
            flush(&mut events, &mut appended)?;
            progress.finish_and_clear();
        }
        None => {
            let stdin = std::io::stdin();
            let mut events = Vec::with_capacity(batch);
            for (i, line) in stdin.lock().lines().enumerate() {
                let line = line.with_context(|| format!("reading line {}", i + 1))?;
                if line.trim().is_empty() {
                    continue;
                }
                match parse_line(&line, i + 1) {
                    Ok(event) => events.push(event),
                    Err(e) => {
                        flush(&mut events, &mut appended)?;
                        return Err(e.context(format!(
                            "stopped; {appended} events before this line were appended"
                        )));
                    }
                }
                if events.len() == batch {
                    flush(&mut events, &mut appended)?;
                }
            }
            flush(&mut events, &mut appended)?;
        }
    }
    let secs = started.elapsed().as_secs_f64();
    match last {
        Some(c) => eprintln!(
            "appended {appended} events in {secs:.2}s ({:.0}/s); log size {} (checkpoint signed)",
            appended as f64 / secs.max(1e-9),
            c.checkpoint.size
        ),
        None => eprintln!("no events in the input"),
    }
    Ok(())
}

fn print_record(out: &mut impl Write, record: &evident::EventRecord) -> Result<()> {
    let line = json!({"index": record.index, "leaf_hash": hex::encode(&record.leaf), "event": record.entry});
    writeln!(out, "{line}")?;
    Ok(())
}

fn tail(dir: &Path, lines: u32, follow: bool) -> Result<()> {
    let backend = evident::store::sqlite::SqliteBackend::open(&dir.join(evident::datadir::DB_FILE))
        .with_context(|| format!("opening the data directory `{}`", dir.display()))?;
    let store = backend.connect()?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut newest = store.query(&EventQuery {
        descending: true,
        limit: lines.clamp(1, 1000),
        ..Default::default()
    })?;
    newest.reverse();
    let mut last = None;
    for entry in &newest {
        print_stored(&mut out, entry)?;
        last = Some(entry.index);
    }
    out.flush()?;
    if !follow {
        return Ok(());
    }
    loop {
        // Entries are stored with the checkpoint that covers them, so whatever is visible is
        // durable and signed, whichever process appended it.
        let page = store.query(&EventQuery {
            cursor: last,
            limit: 1000,
            ..Default::default()
        })?;
        if page.is_empty() {
            std::thread::sleep(Duration::from_millis(500));
            continue;
        }
        for entry in &page {
            print_stored(&mut out, entry)?;
            last = Some(entry.index);
        }
        out.flush()?;
    }
}

fn print_stored(out: &mut impl Write, entry: &evident::store::StoredEntry) -> Result<()> {
    let event: Value = serde_json::from_slice(&entry.data)?;
    let line = json!({"index": entry.index, "leaf_hash": hex::encode(&entry.leaf), "event": event});
    writeln!(out, "{line}")?;
    Ok(())
}

fn query(dir: &Path, f: &QueryFilter) -> Result<()> {
    let engine = open(dir)?;
    let time = |t: &Option<String>| -> Result<Option<i64>> {
        t.as_deref()
            .map(evident::event::parse_time)
            .transpose()
            .map_err(Into::into)
    };
    let mut q = EventQuery {
        actor: f.actor.clone(),
        action: f.action.clone(),
        resource_type: f.resource_type.clone(),
        resource_id: f.resource_id.clone(),
        outcome: f.outcome.clone(),
        since_us: time(&f.since).context("--since")?,
        until_us: time(&f.until).context("--until")?,
        cursor: None,
        descending: f.newest_first,
        limit: 1000,
    };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut printed = 0u64;
    loop {
        let page = engine.query(&q)?;
        for record in &page.events {
            if f.limit != 0 && printed == f.limit {
                return Ok(());
            }
            print_record(&mut out, record)?;
            printed += 1;
        }
        match page.next_cursor {
            Some(c) => q.cursor = Some(c),
            None => return Ok(()),
        }
    }
}

fn verify_log(dir: &Path, vkey: Option<&str>) -> Result<()> {
    // Straight from storage, with no sequencer: verification must work on a damaged log,
    // which the engine refuses to open for appending.
    let db = evident::datadir::existing_db(dir)?;
    let verifier = match vkey {
        Some(vkey) => NoteVerifier::parse(vkey).context("--vkey")?,
        None => evident::datadir::load_signer(dir)?.verifier(),
    };
    let backend = evident::store::sqlite::SqliteBackend::open(&db)?;
    let size = backend.connect()?.size()?;
    let progress = bar(size, "entries");
    let started = Instant::now();
    let connect = || -> evident::Result<Box<dyn LogStore>> { Ok(Box::new(backend.connect()?)) };
    // Sealed personal values are checked when the root key opens; else counted, not checked.
    let seal = match evident::open_personal_seal(dir) {
        Ok(seal) => seal,
        Err(e) => {
            eprintln!("note: this directory's personal values are sealed and the root key did not open ({e}); they are counted, not checked");
            None
        }
    };
    let result = evident::verify_store_sealed(connect, &verifier, seal.as_ref(), &mut |n| {
        progress.set_position(n)
    });
    progress.finish_and_clear();
    match result {
        Ok(r) => {
            let secs = started.elapsed().as_secs_f64();
            println!(
                "ok: {} entries ({:.1} MB, {:.0} MB/s), {} signed checkpoints, {} personal values checked; root {}",
                r.entries,
                r.bytes as f64 / 1e6,
                r.bytes as f64 / 1e6 / secs.max(1e-9),
                r.checkpoints,
                r.personal,
                B64.encode(r.root)
            );
            if r.personal_sealed > 0 {
                println!(
                    "{} sealed personal values not checked (no root key)",
                    r.personal_sealed
                );
            }
            Ok(())
        }
        Err(evident::Error::Integrity(m)) => {
            Err(VerificationFailed(format!("log verification failed: {m}")).into())
        }
        Err(e) => Err(e.into()),
    }
}

fn verify_offline(args: &VerifyArgs) -> Result<()> {
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
    let mut text = String::new();
    File::open(file)
        .with_context(|| format!("opening {}", file.display()))?
        .take(2 << 20)
        .read_to_string(&mut text)
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

fn apikey(cmd: ApikeyCommand) -> Result<()> {
    match cmd {
        ApikeyCommand::Create { dir, role, label } => {
            let engine = open(&dir.data_dir)?;
            let role = match role {
                RoleArg::Admin => Role::Admin,
                RoleArg::Writer => Role::Writer,
                RoleArg::Reader => Role::Reader,
            };
            let key = engine.create_api_key(role, label.as_deref(), &caller::actor())?;
            eprintln!(
                "created {} key {} (shown once; store it as a secret):",
                role.as_str(),
                key.id
            );
            println!("{}", key.token.as_str());
            Ok(())
        }
        ApikeyCommand::List { dir } => {
            let engine = open(&dir.data_dir)?;
            for k in engine.api_keys()? {
                println!(
                    "{}\t{}\t{}\tcreated {}\t{}",
                    k.id,
                    k.role,
                    k.label.unwrap_or_default(),
                    evident::event::format_time(k.created_us),
                    k.revoked_us.map_or_else(
                        || "active".to_string(),
                        |t| format!("revoked {}", evident::event::format_time(t))
                    )
                );
            }
            Ok(())
        }
        ApikeyCommand::Revoke { dir, id } => {
            let engine = open(&dir.data_dir)?;
            engine.revoke_api_key(&id, &caller::actor())?;
            println!("revoked {id}");
            Ok(())
        }
    }
}

fn backup(test: Option<BackupCommand>, dir: &Path, out: Option<&Path>) -> Result<()> {
    let actor = caller::actor();
    match test {
        Some(BackupCommand::Test { dir, file }) => {
            let engine = open(&dir.data_dir)?;
            match evident::backup::test(&engine, &file, &actor) {
                Ok(report) => {
                    println!(
                        "backup {} restored and verified: {} entries, {} signed checkpoints, root {}; recorded in the ledger",
                        file.display(),
                        report.entries,
                        report.checkpoints,
                        report.root
                    );
                    Ok(())
                }
                Err(e) => Err(VerificationFailed(format!(
                    "backup {} failed its restore test (recorded in the ledger): {e}",
                    file.display()
                ))
                .into()),
            }
        }
        None => {
            let out = out.context("give --out FILE (or `evident backup test FILE`)")?;
            let engine = open(dir)?;
            let report = evident::backup::create(&engine, out, &actor)?;
            println!(
                "wrote {} ({} bytes, {} entries), sha256 {}",
                report.path.display(),
                report.bytes,
                report.entries,
                report.sha256
            );
            Ok(())
        }
    }
}

fn restore(file: &Path, dir: &Path) -> Result<()> {
    let report = evident::backup::restore(file, dir)
        .with_context(|| format!("restoring {} into {}", file.display(), dir.display()))?;
    println!(
        "restored `{}` into {}: {} entries, {} signed checkpoints verified, root {}",
        report.origin,
        report.dir.display(),
        report.entries,
        report.checkpoints,
        report.root
    );
    Ok(())
}
