//! Who a verb acts as, and in what context: the operator the command line records in the
//! ledger (HIPAA 164.312(a)(2)(i), SOC 2 CC6.1: every action has a unique, real actor), and
//! the access-policy context `--access-context` gives a decision.
//!
//! The operator is, first to last: `--operator` (or `EVIDENT_OPERATOR`, or `operator` in the
//! configuration file); `$USER`, then `$LOGNAME`; the operating-system account of the
//! process's user id (from `/etc/passwd`, as in containers, cron and CI where the
//! environment names nobody). When none of these names someone, ordinary verbs record the
//! bare user id (`cli:uid:1000680000`), and privileged verbs — destroying or disabling a
//! key, applying or rolling back a policy, erasing a person, creating or revoking an API key,
//! restoring a backup — are refused unless `--danger-anonymous-operator` is given.

use std::sync::OnceLock;

use anyhow::{bail, Context, Result};
use serde_json::{Map, Value};

/// The operator settings from the command line, set once by `main` after parsing.
static SETTINGS: OnceLock<Settings> = OnceLock::new();

/// What the global flags say about the operator.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// `--operator` / `EVIDENT_OPERATOR`
    pub explicit: Option<String>,
    /// `--danger-anonymous-operator`
    pub allow_anonymous: bool,
}

/// Records the global flags; the first call wins (there is one command line per process).
pub fn configure(settings: Settings) -> Result<()> {
    if let Some(name) = &settings.explicit {
        check_name(name)?;
    }
    let _ = SETTINGS.set(settings);
    Ok(())
}

/// Who the operator is, and how that was established.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operator {
    /// a name from the flag, the environment or the account database
    Named(String),
    /// only the numeric user id is known
    Uid(u32),
    /// nothing at all is known (no `/proc`)
    Unknown,
}

impl Operator {
    /// The actor string recorded in ledger events: `cli:<name>`.
    pub fn actor(&self) -> String {
        match self {
            Operator::Named(name) => format!("cli:{name}"),
            Operator::Uid(uid) => format!("cli:uid:{uid}"),
            Operator::Unknown => "cli:unknown".into(),
        }
    }
}

/// A name an operator may be recorded under: 1–128 printable characters, no spaces.
fn check_name(name: &str) -> Result<()> {
    if name.is_empty()
        || name.chars().count() > 128
        || name.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        bail!("--operator must be 1–128 printable characters without spaces");
    }
    Ok(())
}

/// `name`, trimmed, if it may be recorded as an operator.
fn usable_name(name: Option<&str>) -> Option<&str> {
    name.map(str::trim).filter(|n| check_name(n).is_ok())
}

/// The operator from what is known: an explicit name, the environment's user, the user id
/// and the account database's text. Pure, so every path is tested without changing users.
pub fn resolve(
    explicit: Option<&str>,
    env_user: Option<&str>,
    uid: Option<u32>,
    passwd: Option<&str>,
) -> Operator {
    if let Some(name) = usable_name(explicit).or_else(|| usable_name(env_user)) {
        return Operator::Named(name.to_owned());
    }
    let Some(uid) = uid else {
        return Operator::Unknown;
    };
    let account = passwd.and_then(|text| {
        text.lines().find_map(|line| {
            let mut fields = line.split(':');
            let name = fields.next()?;
            let id: u32 = fields.nth(1)?.parse().ok()?;
            (id == uid && check_name(name).is_ok()).then(|| name.to_owned())
        })
    });
    match account {
        Some(name) => Operator::Named(name),
        None => Operator::Uid(uid),
    }
}

/// The effective user id of this process, from `/proc/self/status` (Linux).
fn effective_uid() -> Option<u32> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("Uid:"))?;
    line.split_whitespace().nth(2)?.parse().ok()
}

/// The operator of this process.
pub fn operator() -> Operator {
    let settings = SETTINGS.get().cloned().unwrap_or_default();
    let env_user = ["USER", "LOGNAME"]
        .iter()
        .find_map(|var| std::env::var(var).ok().filter(|v| !v.trim().is_empty()));
    resolve(
        settings.explicit.as_deref(),
        env_user.as_deref(),
        effective_uid(),
        std::fs::read_to_string("/etc/passwd").ok().as_deref(),
    )
}

/// The actor of the ledger events an ordinary verb causes.
pub fn actor() -> String {
    operator().actor()
}

/// The actor of a privileged verb (`what` says what it does, for the refusal): refused when
/// no name for the operator can be established, unless `--danger-anonymous-operator`.
pub fn privileged_actor(what: &str) -> Result<String> {
    let operator = operator();
    if matches!(operator, Operator::Named(_)) {
        return Ok(operator.actor());
    }
    let allow = SETTINGS.get().is_some_and(|s| s.allow_anonymous);
    if !allow {
        bail!(
            "refusing {what}: no operator identity could be established (no --operator, \
             EVIDENT_OPERATOR, $USER or $LOGNAME, and the user id has no account name); name \
             the operator with --operator NAME, or accept an anonymous record with \
             --danger-anonymous-operator"
        );
    }
    tracing::warn!(
        actor = %operator.actor(),
        "acting with no established operator identity (--danger-anonymous-operator)"
    );
    Ok(operator.actor())
}

/// The access part's caller for decisions the command line asks for.
pub fn access_caller() -> evident::access::Caller {
    let id = match operator() {
        Operator::Named(name) => name,
        other => other.actor().trim_start_matches("cli:").to_owned(),
    };
    evident::access::Caller {
        method: "cli".into(),
        id,
    }
}

/// Parses `--access-context`: a JSON object, or nothing.
pub fn access_context(text: Option<&str>) -> Result<Option<Map<String, Value>>> {
    text.map(serde_json::from_str)
        .transpose()
        .context("--access-context must be a JSON object")
}

#[cfg(test)]
mod tests {
    use super::*;

    const PASSWD: &str = "root:x:0:0:root:/root:/bin/bash\n\
                          daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n\
                          broken line\n\
                          ci:x:1001:1001::/home/ci:/bin/sh\n";

    #[test]
    fn the_flag_wins_then_the_environment_then_the_account() {
        assert_eq!(
            resolve(Some("alice"), Some("bob"), Some(1001), Some(PASSWD)),
            Operator::Named("alice".into())
        );
        assert_eq!(
            resolve(None, Some("bob"), Some(1001), Some(PASSWD)),
            Operator::Named("bob".into())
        );
        assert_eq!(
            resolve(None, None, Some(1001), Some(PASSWD)),
            Operator::Named("ci".into()),
            "no $USER (containers, cron, CI): the account of the user id"
        );
        assert_eq!(
            resolve(None, None, Some(0), Some(PASSWD)),
            Operator::Named("root".into())
        );
    }

    #[test]
    fn an_unnamed_user_id_is_recorded_as_such_never_as_unknown() {
        assert_eq!(
            resolve(None, None, Some(1_000_680_000), Some(PASSWD)),
            Operator::Uid(1_000_680_000)
        );
        assert_eq!(Operator::Uid(7).actor(), "cli:uid:7");
        assert_eq!(resolve(None, None, Some(1001), None), Operator::Uid(1001));
        assert_eq!(resolve(None, None, None, Some(PASSWD)), Operator::Unknown);
    }

    #[test]
    fn blank_or_hostile_names_are_not_identities() {
        assert_eq!(
            resolve(Some(""), Some("  "), Some(1001), Some(PASSWD)),
            Operator::Named("ci".into())
        );
        assert_eq!(
            resolve(None, Some("a b\n"), Some(5), Some(PASSWD)),
            Operator::Uid(5)
        );
        assert!(check_name("x".repeat(129).as_str()).is_err());
        assert!(check_name("ops\u{7}").is_err());
        assert!(check_name("jane.doe@example.com").is_ok());
    }
}
