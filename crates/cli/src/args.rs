//! The command line: every verb, flag and environment variable, with help that teaches.

use std::path::PathBuf;

use clap::builder::TypedValueParser as _;
use clap::{Parser, Subcommand};

/// Evident: a self-hosted compliance engine whose every control leaves evidence in one
/// tamper-evident Merkle log that auditors verify offline.
///
/// Start with `evident demo` to see the whole loop (serve, append, prove, verify), or
/// `evident init` then `evident serve` to run it for real.
#[derive(Debug, Parser)]
#[command(
    name = "evident",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    /// Only print warnings and errors (logs go to stderr; filter with EVIDENT_LOG=debug).
    #[arg(long, short, global = true)]
    pub quiet: bool,
    /// A TOML file with defaults: `data_dir`, `listen`, `danger_plaintext_network`, `log`,
    /// `rules` (a list of rule files), `fingerprint_key_file`, `tls_cert`, `tls_key`,
    /// `tls_client_ca`, and a `[keys]` table (`provider`, `pkcs11_module`, `pkcs11_token`,
    /// `pkcs11_pin_file`, `pkcs11_key`, `kms_key_id`, `kms_region`, `kms_endpoint`).
    /// Flags win over environment variables, which win over the file.
    #[arg(long, global = true, env = "EVIDENT_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    Init(crate::verbs::init::InitArgs),
    Serve(crate::verbs::serve::ServeArgs),
    #[command(subcommand)]
    Log(crate::verbs::log::LogCommand),
    #[command(subcommand)]
    Apikey(crate::verbs::apikey::ApikeyCommand),
    Verify(crate::verbs::verify::VerifyArgs),
    /// Run a self-contained demonstration: start a server on a free loopback port, create a
    /// key, append events over HTTP, fetch a proof and verify it offline, verify the log.
    Demo {
        /// Keep the demo's data here instead of a temporary directory.
        #[arg(long, value_name = "DIR")]
        data_dir: Option<PathBuf>,
        /// How many events to append.
        #[arg(long, default_value_t = 1000)]
        events: u64,
    },
    #[command(subcommand)]
    Keys(crate::verbs::keys::KeysCommand),
    Encrypt(crate::verbs::keys::EncryptArgs),
    Decrypt(crate::verbs::keys::DecryptArgs),
    Tokenize(crate::verbs::tokens::TokenizeArgs),
    Detokenize(crate::verbs::tokens::DetokenizeArgs),
    Backup(crate::verbs::backup::BackupArgs),
    Restore(crate::verbs::backup::RestoreArgs),
    Scan(crate::verbs::detect::scan::ScanArgs),
    Redact(crate::verbs::detect::redact::RedactArgs),
    #[command(subcommand)]
    Hook(crate::verbs::detect::hook::HookCommand),
    Lsp(crate::verbs::detect::lsp::LspArgs),
    #[command(subcommand)]
    Policy(crate::verbs::policy::PolicyCommand),
    #[command(subcommand)]
    Access(crate::verbs::access::AccessCommand),
    /// Measure performance (see docs/performance.md).
    #[command(subcommand)]
    Bench(BenchCommand),
}

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// AES-256-GCM speed next to `openssl speed` in the same run, and keyring calls/s.
    Crypto,
    /// Detector quality and speed: precision and recall per entity on a generated labelled
    /// corpus, and MB/s per core on mixed text and a source tree, next to Presidio and
    /// detect-secrets run on the same data when a Python with them is given.
    Detect {
        /// Where to write the corpus (default: a temporary directory).
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
        /// Corpus records (each a line, JSON object, CSV row, code line or sentence).
        #[arg(long, default_value_t = 40_000)]
        records: usize,
        /// Seed of the corpus generator.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// A source tree for the throughput run (default: the cargo registry sources).
        #[arg(long, value_name = "DIR")]
        tree: Option<PathBuf>,
        /// A Python with presidio-analyzer and detect-secrets installed, to score and time
        /// them on the same corpus (scripts/detect-peers.sh sets one up).
        #[arg(long, value_name = "PYTHON", env = "EVIDENT_PEERS_PYTHON")]
        peers_python: Option<PathBuf>,
    },
    /// Access decisions: bare Cedar `is_authorized` (the limit), Evident's decision core,
    /// decisions logged durably in process and over HTTP at a fixed rate, and batches of 100.
    /// It starts by measuring the host's own stalls (a thread per core spinning on the clock
    /// for 2 s; each gap over 1 ms is time the core ran nothing of ours): no latency figure
    /// of a few milliseconds can be better than that floor. Before the HTTP run it offers the
    /// same load to the HTTP floor, the same server stack answering a fixed decision with no
    /// authentication, decision or logging, so the endpoint's latency stands next to that of
    /// HTTP alone on these cores. On Linux it also prints the CPU each HTTP decision took,
    /// split between the server's workers, the ledger's sequencer and the load's clients.
    Access {
        /// Directory for the benchmark's data (default: a temporary directory, removed).
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
        /// Offered HTTP load, decisions per second (open loop: latency counts from the
        /// scheduled send time, so queueing is not hidden).
        #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
        rate: u64,
        /// Seconds of measured HTTP load, after one second at the same rate that is not
        /// counted (warm-up).
        #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=3600))]
        seconds: u64,
        /// HTTP client connections.
        #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u16).range(1..=4096).map(usize::from))]
        clients: usize,
        /// Only the HTTP run (after loading the pack).
        #[arg(long)]
        http_only: bool,
    },
    /// Ledger throughput and latency: library and HTTP appends, proof generation, verify
    /// speed next to this machine's SHA-256 speed.
    Ledger {
        /// Directory for the benchmark's logs, kept afterwards (default: a temporary directory,
        /// removed).
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
        /// Events for the append benchmarks.
        #[arg(long, default_value_t = 1_000_000)]
        events: u64,
        /// Tree size for the proof benchmark.
        #[arg(long, default_value_t = 1_000_000)]
        proof_tree: u64,
        /// Skip the HTTP benchmark.
        #[arg(long)]
        skip_http: bool,
    },
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    /// Every subcommand's arguments are consistent (clap checks this lazily, per command,
    /// at run time; here all of them are checked at once).
    #[test]
    fn the_command_line_is_consistent() {
        crate::args::Cli::command().debug_assert();
    }
}
