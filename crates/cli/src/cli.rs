//! The top of the command line: the global flags and one variant per verb. Each verb's
//! arguments, and its help, live in its own module under `verbs/`: the help is the doc
//! comment on the verb's argument type. The variants here carry none on purpose, since clap
//! would show a variant's doc comment instead of the type's.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::verbs::detect::{hook, lsp, redact, scan};
use crate::verbs::{
    access, anonymity, apikey, backup, bench, consent, controls, demo, dsr, evidence, init, keys,
    log, policy, policy_doc, privacy, pseudonymize, serve, tokens, verify,
};
use crate::verbs::{incident, risk};

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
    /// `operator`, `rules` (a list of rule files), `fingerprint_key_file`, `tls_cert`, `tls_key`,
    /// `tls_client_ca`, `max_connections`, `header_timeout`, `body_timeout`, `body_memory_mib`,
    /// and a `[keys]` table (`provider`, `pkcs11_module`, `pkcs11_token`,
    /// `pkcs11_pin_file`, `pkcs11_key`, `kms_key_id`, `kms_region`, `kms_endpoint`).
    /// Flags win over environment variables, which win over the file.
    #[arg(long, global = true, env = "EVIDENT_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Who is running this command, as recorded in the ledger (default: $USER, $LOGNAME, or
    /// the account of the process's user id). Privileged verbs (key destroy and disable,
    /// policy apply and rollback, log erase, apikey create and revoke, restore, controls import,
    /// policy-doc publish, privacy map apply, privacy ropa --publish, privacy hold place and lift) refuse to run when no
    /// name can be established.
    #[arg(long, global = true, env = "EVIDENT_OPERATOR", value_name = "NAME")]
    pub operator: Option<String>,
    /// DANGER: let privileged verbs run with no established operator identity; the ledger then
    /// records only the numeric user id.
    #[arg(long, global = true)]
    pub danger_anonymous_operator: bool,
    #[command(subcommand)]
    pub command: Command,
}

// The verbs, in the order `evident --help` lists them. (A `///` here would be help text too.)
#[derive(Debug, Subcommand)]
pub enum Command {
    Init(init::InitArgs),
    Serve(serve::ServeArgs),
    #[command(subcommand)]
    Log(log::LogCommand),
    #[command(subcommand)]
    Apikey(apikey::ApikeyCommand),
    Verify(verify::VerifyArgs),
    Demo(demo::DemoArgs),
    #[command(subcommand)]
    Keys(keys::KeysCommand),
    Encrypt(keys::EncryptArgs),
    Decrypt(keys::DecryptArgs),
    Tokenize(tokens::TokenizeArgs),
    Detokenize(tokens::DetokenizeArgs),
    Backup(backup::BackupArgs),
    Restore(backup::RestoreArgs),
    Scan(scan::ScanArgs),
    Redact(redact::RedactArgs),
    #[command(subcommand)]
    Hook(hook::HookCommand),
    Lsp(lsp::LspArgs),
    #[command(subcommand)]
    Policy(policy::PolicyCommand),
    #[command(subcommand)]
    PolicyDoc(policy_doc::PolicyDocCommand),
    #[command(subcommand)]
    Access(access::AccessCommand),
    #[command(subcommand)]
    Controls(controls::ControlsCommand),
    #[command(subcommand)]
    Evidence(evidence::EvidenceCommand),
    #[command(subcommand)]
    Anonymity(anonymity::AnonymityCommand),
    Pseudonymize(pseudonymize::PseudonymizeArgs),
    #[command(subcommand)]
    Privacy(privacy::PrivacyCommand),
    #[command(subcommand)]
    Consent(consent::ConsentCommand),
    #[command(subcommand)]
    Risk(risk::RiskCommand),
    #[command(subcommand)]
    Incident(incident::IncidentCommand),
    #[command(subcommand)]
    Dsr(dsr::DsrCommand),
    #[command(subcommand)]
    Bench(bench::BenchCommand),
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    /// Every subcommand's arguments are consistent (clap checks this lazily, per command,
    /// at run time; here all of them are checked at once).
    #[test]
    fn the_command_line_is_consistent() {
        crate::cli::Cli::command().debug_assert();
    }
}
