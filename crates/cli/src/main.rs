//! `evident`: the one binary. `main` turns `run(parse())` into an exit code in one place;
//! `run` hands each verb to its module under `verbs/`; every capability lives in the library
//! crates.

mod bench_detect;
mod caller;
mod cli;
mod config;
mod data_dir;
mod logging;
mod packs;
mod time_arg;
mod tls;
mod verbs;
mod verdict;

use std::process::ExitCode;

use anyhow::Result;
use clap::Parser;

use crate::cli::{Cli, Command};
use crate::verbs::detect::{hook, lsp, redact, scan};
use crate::verbs::{
    access, anonymity, apikey, backup, bench, consent, controls, demo, dsr, evidence, init, keys,
    log, policy, policy_doc, privacy, pseudonymize, serve, tokens, verify,
};
use crate::verdict::{FindingsReported, VerificationFailed};

// The server's per-request allocations (HTTP, JSON, the decision, the audit event) ran into
// glibc malloc's locks and consolidation under load; mimalloc's thread-local heaps do not.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Exit code for a check that ran and found something wrong (see [`verdict`]).
const EXIT_FOUND: u8 = 1;
/// Exit code for every other error (bad usage, bad input, I/O).
const EXIT_ERROR: u8 = 2;

fn main() -> ExitCode {
    let cli = match parse() {
        Ok(cli) => cli,
        Err(err) => {
            eprintln!("error: {err:#}");
            return ExitCode::from(EXIT_ERROR);
        }
    };
    logging::init(cli.quiet);
    let operator = caller::Settings {
        explicit: cli.operator.clone(),
        allow_anonymous: cli.danger_anonymous_operator,
    };
    if let Err(err) = caller::configure(operator) {
        return report(&err);
    }
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => report(&err),
    }
}

/// The command line. The configuration file is read first: its values become defaults of
/// the environment variables clap falls back to, so a flag wins over the environment, which
/// wins over the file. (Usage errors and `--help` exit inside clap, with its own codes.)
fn parse() -> Result<Cli> {
    config::load_into_env()?;
    Ok(Cli::parse())
}

/// Runs the verb the command line names.
fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Init(args) => init::run(args),
        Command::Serve(args) => serve::run(args),
        Command::Log(cmd) => log::run(cmd),
        Command::Apikey(cmd) => apikey::run(cmd),
        Command::Verify(args) => verify::run(args),
        Command::Demo(args) => demo::run(args),
        Command::Keys(cmd) => keys::run(cmd),
        Command::Encrypt(args) => keys::encrypt(args),
        Command::Decrypt(args) => keys::decrypt(args),
        Command::Tokenize(args) => tokens::tokenize(args),
        Command::Detokenize(args) => tokens::detokenize(args),
        Command::Backup(args) => backup::backup(args),
        Command::Restore(args) => backup::restore(args),
        Command::Scan(args) => scan::run(args, cli.quiet),
        Command::Redact(args) => redact::run(args),
        Command::Hook(cmd) => hook::run(cmd),
        Command::Lsp(args) => lsp::run(args),
        Command::Policy(cmd) => policy::run(cmd),
        Command::PolicyDoc(cmd) => policy_doc::run(cmd),
        Command::Access(cmd) => access::run(cmd),
        Command::Controls(cmd) => controls::run(cmd),
        Command::Evidence(cmd) => evidence::run(cmd),
        Command::Anonymity(cmd) => anonymity::run(cmd),
        Command::Privacy(cmd) => privacy::run(cmd),
        Command::Pseudonymize(args) => pseudonymize::run(args, cli.quiet),
        Command::Consent(cmd) => consent::run(cmd),
        Command::Risk(cmd) => crate::verbs::risk::run(cmd),
        Command::Incident(cmd) => crate::verbs::incident::run(cmd),
        Command::Dsr(cmd) => dsr::run(cmd),
        Command::Retention(cmd) => crate::verbs::retention::run(cmd),
        Command::Bench(cmd) => bench::run(cmd),
    }
}

/// Prints a verb's error (redacted, as log lines are) and answers the exit code it means.
fn report(err: &anyhow::Error) -> ExitCode {
    // A reader that stopped reading (`evident log tail | head`) is not a failure.
    if err
        .downcast_ref::<std::io::Error>()
        .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    {
        return ExitCode::SUCCESS;
    }
    if err.downcast_ref::<FindingsReported>().is_some() {
        // The findings themselves were the output; this is only the exit status.
        return ExitCode::from(EXIT_FOUND);
    }
    eprintln!("error: {}", logging::redact_message(&format!("{err:#}")));
    if err.downcast_ref::<VerificationFailed>().is_some() {
        ExitCode::from(EXIT_FOUND)
    } else {
        ExitCode::from(EXIT_ERROR)
    }
}
