//! `detect.pre_commit`: every source repository the organisation lists runs Evident's scan
//! before each commit, so card numbers, PHI and secrets are refused before they enter history.
//!
//! For each repository the check finds its git directory (a `.git` directory, or a `.git`
//! file pointing at one, as worktrees and submodules have), the hooks directory in force
//! (`core.hooksPath` of the repository's config when set), and the `pre-commit` hook there. It
//! passes when the hook is an executable file that runs `evident scan --staged` — the hook
//! `evident hook install` writes, a hand-written one calling it, or the pre-commit framework's
//! hook with an `evident scan` entry in `.pre-commit-config.yaml`. It reads files only: no
//! git command runs, nothing in the repository changes.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::checks::context::{normalize, settings, CheckContext};
use crate::checks::def::CheckDef;
use crate::checks::outcome::Outcome;

#[derive(Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct Settings {
    /// the repositories' working trees (absolute, or relative to the data directory)
    repositories: Vec<String>,
}

/// The check.
pub const PRE_COMMIT: CheckDef = CheckDef {
    name: "detect.pre_commit",
    revision: 1,
    summary: "each listed source repository runs `evident scan --staged` before every commit",
    available: true,
    normalize: normalize::<Settings>,
    run,
};

/// What was found in one repository.
#[derive(Debug, PartialEq, Eq)]
enum Finding {
    /// the hook runs the scan, installed this way
    Scans(&'static str),
    /// no hook, or one that does not run the scan: why
    Missing(String),
    /// the repository could not be read: why
    Unreadable(String),
}

fn run(cx: &CheckContext<'_>, params: &Value) -> Outcome {
    let s = match settings::<Settings>(params) {
        Ok(s) => s,
        Err(o) => return *o,
    };
    if s.repositories.is_empty() {
        return Outcome::inconclusive(
            "no repositories are listed, so there is nothing to check; list your source \
             repositories in this control's `params.repositories` (a file in DIR/controls/)",
        );
    }
    let (mut hooked, mut missing, mut unreadable) = (Vec::new(), Vec::new(), Vec::new());
    for repo in &s.repositories {
        let path = resolve(cx.recorder.dir(), repo);
        match inspect(&path) {
            Finding::Scans(how) => hooked.push(json!({"repository": repo, "hook": how})),
            Finding::Missing(why) => missing.push(json!({"repository": repo, "problem": why})),
            Finding::Unreadable(why) => {
                unreadable.push(json!({"repository": repo, "problem": why}))
            }
        }
    }
    let outcome = if !missing.is_empty() {
        let names: Vec<&str> = missing
            .iter()
            .filter_map(|m| m["repository"].as_str())
            .collect();
        Outcome::fail(
            format!(
                "{} of {} repositories do not scan before a commit: {}",
                missing.len(),
                s.repositories.len(),
                names.join(", ")
            ),
            "run `evident hook install` in each of them (or add `evident scan --staged` to \
             their pre-commit hook)",
        )
    } else if !unreadable.is_empty() {
        Outcome::error(format!(
            "{} of {} repositories could not be read",
            unreadable.len(),
            s.repositories.len()
        ))
    } else {
        Outcome::pass(format!(
            "all {} repositories run `evident scan --staged` before every commit",
            hooked.len()
        ))
    };
    outcome
        .with("hooked", json!(hooked))
        .with("missing", json!(missing))
        .with("unreadable", json!(unreadable))
}

fn resolve(base: &Path, path: &str) -> PathBuf {
    let path = Path::new(path);
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        base.join(path)
    }
}

/// Looks at one working tree.
fn inspect(work_tree: &Path) -> Finding {
    if !work_tree.is_dir() {
        return Finding::Unreadable(format!("{} is not a directory", work_tree.display()));
    }
    let git_dir = match git_dir(work_tree) {
        Ok(d) => d,
        Err(why) => return Finding::Unreadable(why),
    };
    // A worktree's own git directory names the shared one, which holds config and hooks.
    let common = std::fs::read_to_string(git_dir.join("commondir"))
        .map(|c| resolve(&git_dir, c.trim()))
        .unwrap_or_else(|_| git_dir.clone());
    let config = std::fs::read_to_string(common.join("config")).unwrap_or_default();
    let hooks = match hooks_path(&config) {
        Some(p) => resolve(work_tree, &p),
        None => common.join("hooks"),
    };
    let hook = hooks.join("pre-commit");
    let text = match std::fs::read(&hook) {
        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Finding::Missing(format!("no pre-commit hook at {}", hook.display()))
        }
        Err(e) => return Finding::Unreadable(format!("{}: {e}", hook.display())),
    };
    if !executable(&hook) {
        return Finding::Missing(format!(
            "{} is not executable, so git skips it",
            hook.display()
        ));
    }
    if runs_scan(&text) {
        return Finding::Scans(if text.contains("installed by `evident hook install`") {
            "evident hook install"
        } else {
            "a hook that calls evident scan --staged"
        });
    }
    if text.contains("pre-commit") {
        let config =
            std::fs::read_to_string(work_tree.join(".pre-commit-config.yaml")).unwrap_or_default();
        if config.lines().any(|l| {
            !l.trim_start().starts_with('#') && l.contains("evident") && l.contains("scan")
        }) {
            return Finding::Scans("the pre-commit framework (.pre-commit-config.yaml)");
        }
        return Finding::Missing(
            "the pre-commit framework's hook is installed but .pre-commit-config.yaml has no \
             `evident scan` entry"
                .into(),
        );
    }
    Finding::Missing(format!(
        "{} does not run `evident scan --staged`",
        hook.display()
    ))
}

/// The git directory of a working tree.
fn git_dir(work_tree: &Path) -> Result<PathBuf, String> {
    let dot_git = work_tree.join(".git");
    if dot_git.is_dir() {
        return Ok(dot_git);
    }
    match std::fs::read_to_string(&dot_git) {
        Ok(text) => match text.trim().strip_prefix("gitdir:") {
            Some(dir) => Ok(resolve(work_tree, dir.trim())),
            None => Err(format!("{} is not a gitdir file", dot_git.display())),
        },
        Err(_) => Err(format!("{} is not a git working tree", work_tree.display())),
    }
}

/// `core.hooksPath` from a git config file, when set.
fn hooks_path(config: &str) -> Option<String> {
    let mut in_core = false;
    let mut found = None;
    for line in config.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_core = line
                .trim_start_matches('[')
                .trim_end_matches(']')
                .trim()
                .eq_ignore_ascii_case("core");
            continue;
        }
        if !in_core {
            continue;
        }
        if let Some((key, value)) = line.split_once('=') {
            if key.trim().eq_ignore_ascii_case("hookspath") {
                // The last value wins, as git reads it.
                found = Some(value.trim().trim_matches('"').to_string());
            }
        }
    }
    found.filter(|p| !p.is_empty())
}

/// Whether a hook script runs `evident scan --staged` on a line that is not a comment.
fn runs_scan(script: &str) -> bool {
    script.lines().any(|line| {
        let line = line.trim();
        !line.starts_with('#')
            && line.contains("evident")
            && line.contains(" scan")
            && line.contains("--staged")
    })
}

fn executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "a test fails by panicking")]

    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn repo() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join(".git/hooks")).unwrap();
        std::fs::write(dir.path().join(".git/config"), "[core]\n\tbare = false\n").unwrap();
        dir
    }

    fn hook(dir: &Path, text: &str, mode: u32) {
        let path = dir.join("pre-commit");
        std::fs::create_dir_all(dir).unwrap();
        std::fs::write(&path, text).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
    }

    const INSTALLED: &str = "#!/bin/sh\n# installed by `evident hook install`\nexec '/usr/bin/evident' scan --staged \"$@\"\n";

    #[test]
    fn the_installed_hook_passes_and_its_absence_fails() {
        let r = repo();
        assert!(matches!(inspect(r.path()), Finding::Missing(_)));
        hook(&r.path().join(".git/hooks"), INSTALLED, 0o755);
        assert_eq!(inspect(r.path()), Finding::Scans("evident hook install"));
    }

    #[test]
    fn a_hook_git_would_skip_or_that_does_not_scan_fails() {
        let r = repo();
        hook(&r.path().join(".git/hooks"), INSTALLED, 0o644);
        assert!(matches!(inspect(r.path()), Finding::Missing(w) if w.contains("not executable")));
        hook(
            &r.path().join(".git/hooks"),
            "#!/bin/sh\n# evident scan --staged (disabled)\nexit 0\n",
            0o755,
        );
        assert!(matches!(inspect(r.path()), Finding::Missing(_)));
    }

    #[test]
    fn core_hooks_path_is_where_git_looks() {
        let r = repo();
        // A hook in .git/hooks does not count when core.hooksPath points elsewhere.
        hook(&r.path().join(".git/hooks"), INSTALLED, 0o755);
        std::fs::write(
            r.path().join(".git/config"),
            "[core]\n\thooksPath = .githooks\n",
        )
        .unwrap();
        assert!(matches!(inspect(r.path()), Finding::Missing(_)));
        hook(
            &r.path().join(".githooks"),
            "#!/bin/sh\nevident scan --staged || exit 1\n",
            0o755,
        );
        assert_eq!(
            inspect(r.path()),
            Finding::Scans("a hook that calls evident scan --staged")
        );
    }

    #[test]
    fn worktrees_and_the_pre_commit_framework_are_understood() {
        let main = repo();
        let linked = tempfile::tempdir().unwrap();
        let own = main.path().join(".git/worktrees/linked");
        std::fs::create_dir_all(&own).unwrap();
        std::fs::write(own.join("commondir"), "../..\n").unwrap();
        std::fs::write(
            linked.path().join(".git"),
            format!("gitdir: {}\n", own.display()),
        )
        .unwrap();
        hook(
            &main.path().join(".git/hooks"),
            "#!/usr/bin/env bash\n# File generated by pre-commit: https://pre-commit.com\nexec pre-commit hook-impl\n",
            0o755,
        );
        assert!(
            matches!(inspect(linked.path()), Finding::Missing(w) if w.contains("no `evident scan`"))
        );
        std::fs::write(
            linked.path().join(".pre-commit-config.yaml"),
            "repos:\n- repo: local\n  hooks:\n  - id: evident\n    entry: evident scan --staged\n",
        )
        .unwrap();
        assert!(matches!(inspect(linked.path()), Finding::Scans(_)));
    }

    #[test]
    fn a_path_that_is_no_repository_is_unreadable() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(inspect(dir.path()), Finding::Unreadable(_)));
        assert!(matches!(
            inspect(&dir.path().join("nope")),
            Finding::Unreadable(_)
        ));
    }
}
