//! `evident hook install|uninstall`: the git pre-commit hook that runs `evident scan --staged`.

use anyhow::{bail, Context, Result};
use clap::Subcommand;

use crate::verbs::detect::git;

/// Manage the git pre-commit hook that runs `evident scan --staged`.
#[derive(Debug, Subcommand)]
pub enum HookCommand {
    /// Install a pre-commit hook in this git repository that runs `evident scan --staged`
    /// and blocks the commit when it finds something.
    Install {
        /// Replace an existing pre-commit hook that Evident did not write.
        #[arg(long)]
        force: bool,
    },
    /// Remove the pre-commit hook Evident installed.
    Uninstall,
}

/// Marks a hook as Evident's, so `install` may replace it and `uninstall` may remove it.
const HOOK_MARKER: &str = "# installed by `evident hook install`";

/// Installs or removes the hook.
pub fn run(cmd: HookCommand) -> Result<()> {
    let path = git::pre_commit_hook()?;
    match cmd {
        HookCommand::Install { force } => {
            if let Ok(existing) = std::fs::read_to_string(&path) {
                if !existing.contains(HOOK_MARKER) && !force {
                    bail!(
                        "{} already exists and was not written by Evident; add `evident scan --staged` \
                         to it yourself, or pass --force to replace it",
                        path.display()
                    );
                }
            }
            let exe = std::env::current_exe().context("finding the evident binary")?;
            let script = format!(
                "#!/bin/sh\n{HOOK_MARKER}\n# Blocks a commit whose staged files hold card numbers, PHI or secrets.\n\
                 # Accept known findings with a baseline: evident scan --staged --baseline FILE\n\
                 # Skip once (think twice): git commit --no-verify\n\
                 exec '{}' scan --staged \"$@\"\n",
                exe.display().to_string().replace('\'', "'\\''")
            );
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("creating {}", dir.display()))?;
            }
            std::fs::write(&path, script).with_context(|| format!("writing {}", path.display()))?;
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))?;
            println!("installed {}", path.display());
        }
        HookCommand::Uninstall => match std::fs::read_to_string(&path) {
            Ok(existing) if existing.contains(HOOK_MARKER) => {
                std::fs::remove_file(&path)
                    .with_context(|| format!("removing {}", path.display()))?;
                println!("removed {}", path.display());
            }
            Ok(_) => bail!("{} was not written by Evident; leaving it", path.display()),
            Err(_) => println!("no pre-commit hook to remove"),
        },
    }
    Ok(())
}
