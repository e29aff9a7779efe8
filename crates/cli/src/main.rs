//! `evident`: the one binary. `main` turns `run` into an exit code in one place; every
//! capability lives in the library crates.

mod args;
mod bench_detect;
mod caller;
mod commands;
mod config;
mod data_dir;
mod logging;
mod packs;
mod tls;
mod verbs;
mod verdict;

use std::process::ExitCode;

use clap::Parser;

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
    // The file's values become defaults of the environment variables clap reads, so it is
    // read before the command line is parsed (and before the log redactor is set up).
    if let Err(err) = config::load_into_env() {
        eprintln!("error: {err:#}");
        return ExitCode::from(EXIT_ERROR);
    }
    let cli = args::Cli::parse();
    logging::init(cli.quiet);
    match commands::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => report(&err),
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
