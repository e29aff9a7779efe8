//! One function per verb: parse what the user gave, call the engine, print the result.

use std::path::Path;

use anyhow::{bail, Context, Result};
use evident::Role;

use crate::args::{ApikeyCommand, BackupCommand, BenchCommand, Cli, Command, RoleArg};
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
        Command::Log(cmd) => crate::verbs::log::run(cmd),
        Command::Apikey(cmd) => apikey(cmd),
        Command::Verify(args) => crate::verbs::verify::run(&args),
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
