//! The command line: every verb, flag and environment variable, with help that teaches.

use std::path::PathBuf;

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
    Demo(crate::verbs::demo::DemoArgs),
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
    #[command(subcommand)]
    Bench(crate::verbs::bench::BenchCommand),
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
