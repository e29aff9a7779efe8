//! `evident apikey …`: the API keys services call the HTTP API with. Creating and revoking one
//! is a ledger event; the secret is shown once.

use anyhow::Result;
use clap::{Subcommand, ValueEnum};
use evident::Role;

use crate::caller;
use crate::data_dir::{open, DataDir};

/// Manage API keys for services calling the HTTP API.
#[derive(Debug, Subcommand)]
pub enum ApikeyCommand {
    /// Create a key and print it once. Its creation is a ledger event.
    Create {
        #[command(flatten)]
        dir: DataDir,
        /// admin (everything), writer (append and read), reader (read) or auditor (read the
        /// evidence only: control status, history, coverage and catalog, checkpoints and
        /// proofs; no events, no appends, no administration).
        #[arg(long, value_enum)]
        role: RoleArg,
        /// A label, e.g. the service that will use it.
        #[arg(long)]
        label: Option<String>,
    },
    /// List keys (never their secrets).
    List {
        #[command(flatten)]
        dir: DataDir,
    },
    /// Revoke a key by id. Its revocation is a ledger event.
    Revoke {
        #[command(flatten)]
        dir: DataDir,
        /// The key id (the part after `evk_`, before the second `_`).
        id: String,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum RoleArg {
    Admin,
    Writer,
    Reader,
    Auditor,
}

/// Runs one `apikey` subcommand.
pub fn run(cmd: ApikeyCommand) -> Result<()> {
    match cmd {
        ApikeyCommand::Create { dir, role, label } => {
            let engine = open(&dir.data_dir)?;
            let role = match role {
                RoleArg::Admin => Role::Admin,
                RoleArg::Writer => Role::Writer,
                RoleArg::Reader => Role::Reader,
                RoleArg::Auditor => Role::Auditor,
            };
            let actor = caller::privileged_actor("creating an API key")?;
            let key = engine.create_api_key(role, label.as_deref(), &actor)?;
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
            let actor = caller::privileged_actor("revoking an API key")?;
            engine.revoke_api_key(&id, &actor)?;
            println!("revoked {id}");
            Ok(())
        }
    }
}
