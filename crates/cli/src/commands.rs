//! One function per verb: parse what the user gave, call the engine, print the result.

use std::path::Path;

use anyhow::{Context, Result};
use evident::Role;

use crate::args::{ApikeyCommand, BackupCommand, BenchCommand, Cli, Command, RoleArg};
use crate::caller;
use crate::data_dir::open;
use crate::verdict::VerificationFailed;

pub fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Init(args) => crate::verbs::init::run(args),
        Command::Serve(args) => crate::verbs::serve::run(args),
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
