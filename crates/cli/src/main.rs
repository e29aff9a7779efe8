//! `evident`: the one binary. `main` turns `run` into an exit code in one place; every
//! capability lives in the library crates.

mod access;
mod args;
mod bench;
mod bench_access;
mod bench_crypto;
mod bench_detect;
mod commands;
mod config;
mod demo;
mod detect;
mod logging;
mod lsp;
mod packs;
mod tls;
mod tokens;

use std::process::ExitCode;

use clap::Parser;

// The server's per-request allocations (HTTP, JSON, the decision, the audit event) ran into
// glibc malloc's locks and consolidation under load; mimalloc's thread-local heaps do not.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Exit code for a verification that found the log or a proof bad.
const EXIT_VERIFY_FAILED: u8 = 1;
/// Exit code for every other error (bad usage, bad input, I/O).
const EXIT_ERROR: u8 = 2;

/// An error that means "checked, and it is not valid", as opposed to "could not check".
#[derive(Debug)]
struct VerificationFailed(String);

impl std::fmt::Display for VerificationFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for VerificationFailed {}

fn main() -> ExitCode {
    if let Err(err) = config::load_into_env() {
        eprintln!("error: {err:#}");
        return ExitCode::from(EXIT_ERROR);
    }
    let cli = args::Cli::parse();
    init_logging(cli.quiet);
    match commands::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            if err
                .downcast_ref::<std::io::Error>()
                .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
            {
                return ExitCode::SUCCESS;
            }
            if err.downcast_ref::<detect::FindingsReported>().is_some() {
                // The findings themselves were the output; this is only the exit status.
                return ExitCode::from(detect::EXIT_FINDINGS);
            }
            eprintln!("error: {}", logging::redact_message(&format!("{err:#}")));
            if err.downcast_ref::<VerificationFailed>().is_some() {
                ExitCode::from(EXIT_VERIFY_FAILED)
            } else {
                ExitCode::from(EXIT_ERROR)
            }
        }
    }
}

fn init_logging(quiet: bool) {
    let default = if quiet { "warn" } else { "info" };
    let filter = tracing_subscriber::EnvFilter::try_from_env("EVIDENT_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(logging::RedactingStderr::new())
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false)
        .init();
}
