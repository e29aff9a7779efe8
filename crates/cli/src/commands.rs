//! One function per verb: parse what the user gave, call the engine, print the result.

use anyhow::Result;

use crate::args::{BenchCommand, Cli, Command};

pub fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Init(args) => crate::verbs::init::run(args),
        Command::Serve(args) => crate::verbs::serve::run(args),
        Command::Policy(cmd) => crate::verbs::policy::run(cmd),
        Command::Access(cmd) => crate::verbs::access::run(cmd),
        Command::Log(cmd) => crate::verbs::log::run(cmd),
        Command::Apikey(cmd) => crate::verbs::apikey::run(cmd),
        Command::Verify(args) => crate::verbs::verify::run(&args),
        Command::Demo { data_dir, events } => crate::demo::run(data_dir, events),
        Command::Keys(cmd) => crate::verbs::keys::run(cmd),
        Command::Backup(args) => crate::verbs::backup::backup(args),
        Command::Restore(args) => crate::verbs::backup::restore(&args),
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
