//! `evident bench …`: how fast this machine runs each part, every figure printed next to its
//! target or the limit measured in the same run (see docs/performance.md). `bench detect`
//! lives in `src/bench_detect.rs`.

mod access;
mod controls;
mod crypto;
mod dsr;
mod dsr_fixture;
mod ledger;
mod measure;
mod pseudonymize;

use std::path::PathBuf;

use anyhow::Result;
use clap::builder::TypedValueParser as _;
use clap::Subcommand;

/// Measure performance (see docs/performance.md).
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
    /// The controls part on a year-sized log: by default 10 million events holding a year
    /// of hourly checks of 50 controls. Prints how long `controls status` takes (one stored
    /// row per control; target ≤ 100 ms), a status rebuild from the ledger, a quarter's
    /// history of one control, OSCAL assessment-results for a quarter, and a SOC 2 evidence
    /// bundle of the whole period built and verified offline (targets ≤ 60 s and ≤ 20 s),
    /// next to SHA-256 over the bundle's bytes in the same run.
    Controls {
        /// Directory for the benchmark's data, kept afterwards (default: a temporary
        /// directory, removed).
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
        /// Events in the log, check runs included.
        #[arg(long, default_value_t = 10_000_000, value_parser = clap::value_parser!(u64).range(1..))]
        events: u64,
        /// Controls checked hourly (the catalog's checked controls, then the benchmark's own).
        #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u16).range(1..=1000).map(usize::from))]
        controls: usize,
        /// Days of hourly checks.
        #[arg(long, default_value_t = 365, value_parser = clap::value_parser!(u64).range(1..=3650))]
        days: u64,
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
    /// Data-subject requests (issue 21) against PostgreSQL: a fresh schema with five related
    /// tables (patients → encounters → prescriptions, patients → invoices, patients →
    /// contacts; foreign keys, indexed identity and join columns) holding ROWS rows loaded with
    /// COPY, and a data map over it that uses every erasure strategy. Times Evident's access
    /// (find + export) and erasure (the strategies in one transaction, then the verification
    /// read) per subject — p50, p99 and CPU — and a bulk erasure in subjects/s, each next to
    /// the same statements issued bare in the same run: through `psql` (a process per
    /// request, like Evident's connection per request) and through one tokio-postgres
    /// connection with prepared statements (the tighter limit). Targets: p99 ≤ 250 ms per
    /// subject, ≥ 1,000 subjects/s in bulk. The schema is dropped at the end unless --keep.
    /// ROWS / 7 subjects must cover 4 × SUBJECTS + 5 × BULK (each series erases its own).
    ///
    /// Example (CI size, seconds): evident bench dsr --rows 20000 --subjects 50 --bulk 100
    Dsr {
        /// The PostgreSQL server (never printed; a password in it is passed to `psql` on its
        /// command line, so prefer a ~/.pgpass entry).
        #[arg(
            long,
            value_name = "URL",
            env = "EVIDENT_TEST_PG_URL",
            hide_env_values = true
        )]
        pg_url: Option<String>,
        /// Rows in all five tables (7 per subject: a patient, 2 encounters, 2 prescriptions,
        /// an invoice, a contact).
        #[arg(long, default_value_t = 1_000_000, value_parser = clap::value_parser!(u64).range(7..=1_000_000_000))]
        rows: u64,
        /// Subjects timed one at a time in each series (Evident, bare client, psql).
        #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u32).range(1..=100_000).map(|n| n as usize))]
        subjects: usize,
        /// Subjects erased for each bulk figure (Evident with a connection per request,
        /// Evident over one session one subject a transaction and 100 a transaction, the bare
        /// client both ways; each on subjects of its own) [default: 1,000, or as many as
        /// ROWS leaves after the per-subject series, at least 1].
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..=1_000_000).map(|n| n as usize))]
        bulk: Option<usize>,
        /// Keep the schema afterwards (its name is printed).
        #[arg(long)]
        keep: bool,
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
    /// Pseudonymization: a generated CSV (ROWS rows, two identifier columns) through
    /// `evident pseudonymize`'s own path on every core, in values/s, next to bare
    /// HMAC-SHA-256 over the same values in the same run (the limit); target ≥ 500,000
    /// values/s. Also FF1 format-preserving tokens per second on one thread.
    Pseudonymize {
        /// Directory for the CSV files and data directory, kept afterwards (default: a
        /// temporary directory, removed).
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
        /// Rows of the generated CSV.
        #[arg(long, default_value_t = 1_000_000, value_parser = clap::value_parser!(u64).range(1..))]
        rows: u64,
        /// Worker threads [default: the number of cores].
        #[arg(long, value_parser = clap::value_parser!(u16).range(1..=256).map(usize::from))]
        threads: Option<usize>,
    },
}

/// Runs one benchmark.
pub fn run(cmd: BenchCommand) -> Result<()> {
    match cmd {
        BenchCommand::Crypto => crypto::run(),
        BenchCommand::Controls {
            dir,
            events,
            controls,
            days,
        } => controls::run(
            dir,
            controls::Size {
                events,
                controls,
                days,
            },
        ),
        BenchCommand::Access {
            dir,
            rate,
            seconds,
            clients,
            http_only,
        } => access::run(dir, rate, seconds, clients, http_only),
        BenchCommand::Detect {
            dir,
            records,
            seed,
            tree,
            peers_python,
        } => crate::bench_detect::run(dir, records, seed, tree, peers_python),
        BenchCommand::Dsr {
            pg_url,
            rows,
            subjects,
            bulk,
            keep,
        } => dsr::run(
            pg_url,
            dsr::Size {
                rows,
                subjects,
                bulk,
            },
            keep,
        ),
        BenchCommand::Ledger {
            dir,
            events,
            proof_tree,
            skip_http,
        } => ledger::run(dir, events, proof_tree, skip_http),
        BenchCommand::Pseudonymize { dir, rows, threads } => pseudonymize::run(dir, rows, threads),
    }
}
