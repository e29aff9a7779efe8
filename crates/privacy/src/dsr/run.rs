//! Running an approved request: every system of the data map in turn, each in its own
//! transaction, its outcome logged (`privacy.dsr.system_done` or `privacy.dsr.system_failed`,
//! never done when it failed); for an erasure, once every application system is done, the
//! engine's own ledger (the existing subject erasure: personal fields destroyed, proofs still
//! verify); `privacy.dsr.completed` only when every system is done. A run after a failure
//! resumes: systems already done are not run again.

use std::fs::OpenOptions;

use serde::Serialize;
use serde_json::{json, Value};

use evident_core::event::{system_event, ActorType};

use crate::datamap::DataMap;
use crate::{Error, Result};

use super::connector::{erase, export};
use super::export::SystemExport;
use super::keys::ErasureKeys;
use super::rectify::rectify;
use super::request::{action, Kind, Request, State, RESOURCE_TYPE};
use super::service::{state_name, Dsr};

/// The engine's own ledger, as a system of a request.
pub const LEDGER_SYSTEM: &str = "evident";

/// One system's result in a run.
#[derive(Debug, Clone, Serialize)]
pub struct SystemRun {
    /// the system
    pub system: String,
    /// `done`, `failed`, `skipped` (done by an earlier run) or `dry_run`
    pub status: &'static str,
    /// what it found and did
    pub detail: Value,
    /// why it failed
    pub error: Option<String>,
}

/// A run's result.
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    /// the request after the run
    pub request: Request,
    /// per system
    pub systems: Vec<SystemRun>,
    /// for access and portability: the subject's data
    #[serde(skip)]
    pub export: Vec<SystemExport>,
}

/// How a run goes.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// compute and report, write nothing, log nothing
    pub dry_run: bool,
    /// for rectification: `table.column` → new value, exactly the fields the request names
    pub set: Vec<(String, String)>,
}

/// Held while a subject's request runs: an exclusive advisory lock on the subject's lock
/// file, which the kernel releases when the file is closed — when the run ends, and just as
/// well when its process is killed (kill -9), so a crashed run never blocks the resume. The
/// file stays: removing it could let two runs lock two different files of one name.
struct RunLock(#[allow(dead_code, reason = "held for its lock")] std::fs::File);

impl Dsr<'_> {
    fn lock(&self, r: &Request) -> Result<RunLock> {
        let io = |source| Error::Io {
            file: self.running.clone(),
            source,
        };
        std::fs::create_dir_all(&self.running).map_err(io)?;
        let path = self.running.join(&r.subject_key);
        let file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io)?;
        match file.try_lock() {
            Ok(()) => Ok(RunLock(file)),
            Err(std::fs::TryLockError::WouldBlock) => {
                Err(Error::Engine(evident_core::Error::Conflict(format!(
                "another request for the same subject is executing; run `{}` again when it ends",
                r.id
            ))))
            }
            Err(std::fs::TryLockError::Error(e)) => Err(io(e)),
        }
    }

    /// Runs request `id` over `map` (a dry run writes nothing and logs nothing).
    pub fn run(
        &self,
        id: &str,
        map: &DataMap,
        keys: &dyn ErasureKeys,
        options: &RunOptions,
        actor: &str,
    ) -> Result<RunReport> {
        let dry_run = options.dry_run;
        let r = self.get(id)?;
        let changes = &options.set;
        if r.kind == Kind::Rectification {
            let mut given: Vec<&str> = changes.iter().map(|c| c.0.as_str()).collect();
            let mut asked: Vec<&str> = r.fields.iter().map(String::as_str).collect();
            given.sort_unstable();
            asked.sort_unstable();
            if given != asked {
                return Err(Error::BadRequest(format!(
                    "request `{id}` sets {}; give exactly those fields' values",
                    asked.join(", ")
                )));
            }
        } else if !changes.is_empty() {
            return Err(Error::BadRequest(
                "only a rectification takes values to set".into(),
            ));
        }
        let allowed: &[State] = if dry_run {
            &[
                State::IdentityVerified,
                State::Approved,
                State::Executing,
                State::Failed,
            ]
        } else {
            &[State::Approved, State::Executing, State::Failed]
        };
        if !allowed.contains(&r.state) {
            return Err(Error::BadRequest(format!(
                "request `{id}` is {}; it runs once approved",
                state_name(r.state)
            )));
        }
        let _lock = self.lock(&r)?;
        let subject = self.subject(&r)?;
        if !dry_run {
            self.event(
                id,
                action::EXECUTING,
                actor,
                json!({"systems": map.systems.iter().map(|s| &s.name).collect::<Vec<_>>()}),
            )?;
        }
        let mut systems = Vec::new();
        let mut exports = Vec::new();
        for system in &map.systems {
            if r.systems
                .get(&system.name)
                .is_some_and(|o| o.status == "done")
            {
                systems.push(SystemRun {
                    system: system.name.clone(),
                    status: "skipped",
                    detail: Value::Null,
                    error: None,
                });
                continue;
            }
            let outcome: Result<Value> = match r.kind {
                Kind::Erasure => erase(system, &subject, keys, dry_run).and_then(|e| {
                    if e.verification.as_ref().is_some_and(|v| !v.clean) {
                        return Err(Error::Database {
                            system: system.name.clone(),
                            message: format!(
                                "verification found personal values left: {}",
                                e.verification
                                    .as_ref()
                                    .map(|v| v.remaining.join(", "))
                                    .unwrap_or_default()
                            ),
                        });
                    }
                    Ok(serde_json::to_value(&e).unwrap_or(Value::Null))
                }),
                Kind::Access | Kind::Portability => export(system, &subject).map(|tables| {
                    let counts: Vec<Value> = tables
                        .iter()
                        .map(|t| json!({"table": t.table, "rows": t.rows.len()}))
                        .collect();
                    exports.push(SystemExport {
                        system: system.name.clone(),
                        tables,
                    });
                    json!({"tables": counts})
                }),
                Kind::Rectification if dry_run => {
                    Ok(json!({"changes": changes.iter().map(|c| &c.0).collect::<Vec<_>>()}))
                }
                Kind::Rectification => {
                    rectify(system, &subject, changes).map(|d| json!({"rectified": d}))
                }
                Kind::Restriction => Ok(json!({"restricted": true})),
            };
            let run = match outcome {
                Ok(detail) => SystemRun {
                    system: system.name.clone(),
                    status: if dry_run { "dry_run" } else { "done" },
                    detail,
                    error: None,
                },
                Err(e) => SystemRun {
                    system: system.name.clone(),
                    status: "failed",
                    detail: Value::Null,
                    error: Some(e.to_string()),
                },
            };
            if !dry_run {
                self.record(id, &run, actor)?;
            }
            systems.push(run);
        }
        let all_done = systems
            .iter()
            .all(|s| matches!(s.status, "done" | "skipped"));
        if !dry_run && all_done {
            match r.kind {
                Kind::Erasure => {
                    let privacy = crate::Privacy::new(self.host);
                    let run = match privacy.erase_subject(&subject, actor) {
                        Ok(report) => SystemRun {
                            system: LEDGER_SYSTEM.into(),
                            status: "done",
                            detail: json!({"values_destroyed": report.removed, "key_versions_destroyed": report.keys_destroyed, "erasure_index": report.receipt.index}),
                            error: None,
                        },
                        Err(e) => SystemRun {
                            system: LEDGER_SYSTEM.into(),
                            status: "failed",
                            detail: Value::Null,
                            error: Some(e.to_string()),
                        },
                    };
                    self.record(id, &run, actor)?;
                    systems.push(run);
                }
                Kind::Restriction => {
                    self.event(
                        id,
                        action::RESTRICTED,
                        actor,
                        json!({"subject_key": r.subject_key}),
                    )?;
                }
                _ => {}
            }
            if systems
                .iter()
                .all(|s| matches!(s.status, "done" | "skipped"))
            {
                self.event(
                    id,
                    action::COMPLETED,
                    actor,
                    json!({"systems": systems.len()}),
                )?;
            }
        }
        Ok(RunReport {
            request: self.get(id)?,
            systems,
            export: exports,
        })
    }

    fn record(&self, id: &str, run: &SystemRun, actor: &str) -> Result<u64> {
        if run.status == "failed" {
            self.event(
                id,
                action::SYSTEM_FAILED,
                actor,
                json!({"system": run.system, "error": run.error}),
            )
        } else {
            self.event(
                id,
                action::SYSTEM_DONE,
                actor,
                json!({"system": run.system, "detail": run.detail}),
            )
        }
    }

    fn event(&self, id: &str, act: &str, actor: &str, meta: Value) -> Result<u64> {
        let mut event = system_event(act, RESOURCE_TYPE, Some(id), meta);
        event.actor.id = actor.to_owned();
        event.actor.kind = ActorType::User;
        self.append(event)
    }

    /// Whether a completed restriction request holds for `subject`.
    pub fn is_restricted(&self, subject: &str) -> Result<bool> {
        let key = self.host.redaction().subject_key_name(subject);
        Ok(self.list()?.iter().any(|r| {
            r.kind == Kind::Restriction && r.state == State::Completed && r.subject_key == key
        }))
    }
}
