//! Scanning files and directory trees in parallel, honouring `.gitignore`, `.ignore` and
//! git's exclude files, skipping `.git` itself.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::detector::Detector;
use crate::error::{Error, Result};
use crate::finding::{Finding, Fingerprinter};
use crate::stream::{Outcome, Scanner};

/// How a tree is walked.
#[derive(Debug, Clone)]
pub struct WalkOptions {
    /// scan hidden files and directories (`.env` files hold secrets; on by default)
    pub hidden: bool,
    /// honour `.gitignore`, `.ignore` and git excludes (on by default)
    pub ignore_files: bool,
    /// worker threads; 0 picks the number of CPUs
    pub threads: usize,
    /// skip files larger than this many bytes
    pub max_file_size: Option<u64>,
    /// drop findings scored below this
    pub min_score: f32,
}

impl Default for WalkOptions {
    fn default() -> Self {
        WalkOptions {
            hidden: true,
            ignore_files: true,
            threads: 0,
            max_file_size: None,
            min_score: 0.0,
        }
    }
}

/// One file's result.
#[derive(Debug)]
pub struct FileReport {
    /// the path as walked
    pub path: PathBuf,
    /// what happened, or why the file could not be read
    pub outcome: Result<Outcome>,
    /// findings in input order
    pub findings: Vec<Finding>,
}

/// Scans every file under `roots`, calling `report` once per file from worker threads.
pub fn scan_paths(
    detector: &Detector,
    fingerprints: &Fingerprinter,
    roots: &[PathBuf],
    options: &WalkOptions,
    report: &(dyn Fn(FileReport) + Sync),
) -> Result<()> {
    let Some((first, rest)) = roots.split_first() else {
        return Ok(());
    };
    for root in roots {
        if !root.exists() {
            return Err(Error::Io {
                context: format!("scanning {}", root.display()),
                cause: std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    "no such file or directory",
                ),
            });
        }
    }
    let mut builder = ignore::WalkBuilder::new(first);
    for root in rest {
        builder.add(root);
    }
    builder
        .hidden(!options.hidden)
        .git_ignore(options.ignore_files)
        .git_exclude(options.ignore_files)
        .git_global(options.ignore_files)
        .ignore(options.ignore_files)
        .parents(options.ignore_files)
        .require_git(false)
        .max_filesize(options.max_file_size)
        .threads(options.threads)
        .filter_entry(|entry| entry.file_name() != ".git");
    let walk_errors: Mutex<Vec<String>> = Mutex::new(Vec::new());
    builder.build_parallel().run(|| {
        let walk_errors = &walk_errors;
        Box::new(move |entry| {
            let entry = match entry {
                Ok(entry) => entry,
                Err(e) => {
                    if let Ok(mut errors) = walk_errors.lock() {
                        errors.push(e.to_string());
                    }
                    return ignore::WalkState::Continue;
                }
            };
            if entry.file_type().is_some_and(|t| t.is_file()) {
                report(scan_file(
                    detector,
                    fingerprints,
                    entry.path(),
                    options.min_score,
                ));
            }
            ignore::WalkState::Continue
        })
    });
    let errors = walk_errors.into_inner().unwrap_or_default();
    if let Some(first_error) = errors.first() {
        return Err(Error::Io {
            context: format!("walking the tree ({} error(s))", errors.len()),
            cause: std::io::Error::other(first_error.clone()),
        });
    }
    Ok(())
}

/// Scans one file.
pub fn scan_file(
    detector: &Detector,
    fingerprints: &Fingerprinter,
    path: &Path,
    min_score: f32,
) -> FileReport {
    let shown = path
        .strip_prefix(".")
        .unwrap_or(path)
        .to_string_lossy()
        .into_owned();
    let mut findings = Vec::new();
    let outcome = std::fs::File::open(path)
        .map_err(Error::io(format!("opening {shown}")))
        .and_then(|file| {
            Scanner::new(detector, fingerprints)
                .min_score(min_score)
                .scan_reader(file, &shown, &mut |f| findings.push(f))
        });
    FileReport {
        path: path.to_path_buf(),
        outcome,
        findings,
    }
}
