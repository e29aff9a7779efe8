//! One function per verb: parse what the user gave, call the engine, print the result.

use anyhow::Result;

use crate::args::{Cli, Command};

pub fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Init(args) => crate::verbs::init::run(args),
        Command::Serve(args) => crate::verbs::serve::run(args),
        Command::Policy(cmd) => crate::verbs::policy::run(cmd),
        Command::Access(cmd) => crate::verbs::access::run(cmd),
        Command::Log(cmd) => crate::verbs::log::run(cmd),
        Command::Apikey(cmd) => crate::verbs::apikey::run(cmd),
        Command::Verify(args) => crate::verbs::verify::run(&args),
        Command::Demo(args) => crate::verbs::demo::run(args),
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
        Command::Bench(cmd) => crate::verbs::bench::run(cmd),
    }
}
