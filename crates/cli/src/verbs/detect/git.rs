//! What the detect verbs ask git: the staged files' content (`scan --staged`) and where the
//! pre-commit hook lives (`hook`).

use std::path::PathBuf;
use std::process::Command;

use anyhow::{bail, Context, Result};

/// Runs git and answers its stdout; a failure carries git's own message.
fn git(args: &[&str]) -> Result<Vec<u8>> {
    let output = Command::new("git")
        .args(args)
        .output()
        .context("running git (is it installed?)")?;
    if !output.status.success() {
        bail!(
            "git {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(output.stdout)
}

/// Staged files (added, copied, modified, renamed) with their staged content.
pub fn staged_files() -> Result<Vec<(String, Vec<u8>)>> {
    let top = String::from_utf8(git(&["rev-parse", "--show-toplevel"])?)
        .context("git printed a non-UTF-8 path")?;
    let top = top.trim_end();
    let names = git(&[
        "-C",
        top,
        "diff",
        "--cached",
        "--name-only",
        "-z",
        "--diff-filter=ACMR",
    ])?;
    let mut files = Vec::new();
    for name in names.split(|&b| b == 0).filter(|n| !n.is_empty()) {
        let name = String::from_utf8_lossy(name).into_owned();
        let content = git(&["-C", top, "show", &format!(":{name}")])?;
        files.push((name, content));
    }
    Ok(files)
}

/// Where this repository keeps its pre-commit hook (worktrees and `core.hooksPath` included).
pub fn pre_commit_hook() -> Result<PathBuf> {
    let hooks = String::from_utf8(git(&["rev-parse", "--git-path", "hooks"])?)
        .context("git printed a non-UTF-8 path")?;
    Ok(PathBuf::from(hooks.trim_end()).join("pre-commit"))
}
