//! Rule definitions: Evident's TOML rule format, the built-in rule file, and how rule sets
//! combine (a user rule with a built-in id replaces it).

use serde::Deserialize;

use crate::error::{Error, Result};
use crate::validate::Validator;
use crate::Entity;

/// The rule file Evident ships, compiled into the binary.
pub const BUILTIN_RULES: &str = include_str!("../rules/builtin.toml");

/// How sure a rule is when it matches; findings carry it as a score.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    /// structure and checksum make a false positive unlikely
    #[default]
    High,
    /// a plausible value; context words raise the score
    Medium,
    /// common shapes such as IP addresses
    Low,
}

impl Confidence {
    /// The base score of a finding before context is considered.
    pub fn base_score(self) -> f32 {
        match self {
            Confidence::High => 0.9,
            Confidence::Medium => 0.6,
            Confidence::Low => 0.4,
        }
    }
}

/// What an allowlist regex is matched against.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AllowTarget {
    /// the value (the rule's capture group)
    #[default]
    Value,
    /// the whole regex match
    Match,
    /// the line the match is on
    Line,
}

/// Values, paths and words that a rule (or the whole set) never reports.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AllowlistSpec {
    /// regexes; a finding whose target matches one is dropped
    #[serde(default)]
    pub regexes: Vec<String>,
    /// what `regexes` are matched against
    #[serde(default)]
    pub target: AllowTarget,
    /// case-insensitive words; a value containing one is dropped
    #[serde(default)]
    pub stopwords: Vec<String>,
    /// regexes over the file path; findings in a matching file are dropped
    #[serde(default)]
    pub paths: Vec<String>,
}

/// Examples the test suite runs for every rule.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Samples {
    /// each must produce a finding of this rule
    #[serde(default)]
    pub positive: Vec<String>,
    /// none may produce a finding of this rule
    #[serde(default)]
    pub negative: Vec<String>,
}

/// One detection rule as written in a rule file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// unique id, e.g. `card-number`; a later rule with the same id replaces an earlier one
    pub id: String,
    /// what the rule finds
    pub entity: Entity,
    /// one line for humans (SARIF rule descriptions, `--help` lists)
    #[serde(default)]
    pub description: String,
    /// the regular expression (ASCII `\d \w \s \b`, as in Go's RE2 and gitleaks)
    pub regex: String,
    /// the capture group that holds the value; 0 is the whole match
    #[serde(default)]
    pub group: usize,
    /// a structural check of the value
    #[serde(default)]
    pub validator: Validator,
    /// case-insensitive words; when given, the rule only runs near one of them
    #[serde(default)]
    pub keywords: Vec<String>,
    /// case-insensitive words that raise the score when found just before a match
    #[serde(default)]
    pub context: Vec<String>,
    /// minimum Shannon entropy of the value, in bits per byte
    #[serde(default)]
    pub entropy: Option<f64>,
    /// bytes after a keyword the rule may reach past the keyword's line (multi-line values)
    #[serde(default)]
    pub window: usize,
    /// how far before a keyword a match may start (default 128, within the keyword's line);
    /// 0 for rules whose match begins with the keyword, which keeps their windows small
    #[serde(default)]
    pub reach_before: Option<usize>,
    /// how far after a keyword a match may end (default 256, within the keyword's line): a
    /// value that must follow its label closely keeps other numbers on a long line out
    #[serde(default)]
    pub reach_after: Option<usize>,
    /// how sure a match is
    #[serde(default)]
    pub confidence: Confidence,
    /// what this rule never reports
    #[serde(default)]
    pub allowlist: AllowlistSpec,
    /// examples the test suite checks
    #[serde(default)]
    pub samples: Samples,
    /// a disabled rule is kept in the set but never runs
    #[serde(default)]
    pub disabled: bool,
    /// where the format is issued, as lowercase ISO 3166 country codes (`us`, `uk`, `in`);
    /// none for formats used everywhere (cards, emails, IBANs, secrets), which count as
    /// [`GLOBAL`]
    #[serde(default)]
    pub jurisdictions: Vec<String>,
}

/// The jurisdiction of rules that name none.
pub const GLOBAL: &str = "global";

/// Which rules of a set run, by jurisdiction and by entity: the `[scope]` table of a rule
/// file. A field left out leaves that choice to earlier files (all rules, by default).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scope {
    /// only rules of these jurisdictions run (`global` names the rules without one)
    pub jurisdictions: Option<Vec<String>>,
    /// rules of these jurisdictions do not run (a rule of several runs while one of its
    /// jurisdictions is neither excluded nor left out)
    pub exclude_jurisdictions: Option<Vec<String>>,
    /// only rules for these entities run
    pub entities: Option<Vec<Entity>>,
    /// rules for these entities do not run
    pub exclude_entities: Option<Vec<Entity>>,
}

impl Scope {
    /// Whether `rule` runs under this scope.
    pub fn admits(&self, rule: &Rule) -> bool {
        let global = [GLOBAL.to_owned()];
        let tags: &[String] = if rule.jurisdictions.is_empty() {
            &global
        } else {
            &rule.jurisdictions
        };
        let jurisdiction_ok = tags.iter().any(|tag| {
            self.jurisdictions
                .as_ref()
                .is_none_or(|only| only.contains(tag))
                && !self
                    .exclude_jurisdictions
                    .as_ref()
                    .is_some_and(|out| out.contains(tag))
        });
        let entity_ok = self
            .entities
            .as_ref()
            .is_none_or(|only| only.contains(&rule.entity))
            && !self
                .exclude_entities
                .as_ref()
                .is_some_and(|out| out.contains(&rule.entity));
        jurisdiction_ok && entity_ok
    }

    /// Fields `later` sets replace these.
    fn merge(&mut self, later: Scope) {
        if later.jurisdictions.is_some() {
            self.jurisdictions = later.jurisdictions;
        }
        if later.exclude_jurisdictions.is_some() {
            self.exclude_jurisdictions = later.exclude_jurisdictions;
        }
        if later.entities.is_some() {
            self.entities = later.entities;
        }
        if later.exclude_entities.is_some() {
            self.exclude_entities = later.exclude_entities;
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFileToml {
    version: Option<u32>,
    #[serde(default)]
    rule: Vec<Rule>,
    #[serde(default)]
    allowlist: AllowlistSpec,
    #[serde(default)]
    scope: Scope,
}

/// An ordered set of rules plus a global allowlist. Earlier rules win where findings overlap.
#[derive(Debug, Clone, Default)]
pub struct RuleSet {
    /// the rules, in priority order
    pub rules: Vec<Rule>,
    /// applies to every rule
    pub allowlist: AllowlistSpec,
    /// which rules run, by jurisdiction and entity
    pub scope: Scope,
}

impl RuleSet {
    /// Evident's built-in rules.
    pub fn builtin() -> Result<RuleSet> {
        RuleSet::from_toml(BUILTIN_RULES, "built-in")
    }

    /// Parses an Evident rule file. `origin` names it in errors.
    pub fn from_toml(text: &str, origin: &str) -> Result<RuleSet> {
        let file: RuleFileToml = toml::from_str(text).map_err(|e| Error::RuleFile {
            origin: origin.to_owned(),
            message: e.to_string(),
        })?;
        if let Some(version) = file.version {
            if version != 1 {
                return Err(Error::RuleFile {
                    origin: origin.to_owned(),
                    message: format!("version {version} is not supported (this build reads 1)"),
                });
            }
        }
        let set = RuleSet {
            rules: file.rule,
            allowlist: file.allowlist,
            scope: file.scope,
        };
        set.check_ids(origin)?;
        Ok(set)
    }

    /// Every jurisdiction the rules name, and [`GLOBAL`], sorted.
    pub fn jurisdictions(&self) -> Vec<String> {
        let mut all: Vec<String> = self
            .rules
            .iter()
            .flat_map(|r| r.jurisdictions.iter().cloned())
            .chain([GLOBAL.to_owned()])
            .collect();
        all.sort();
        all.dedup();
        all
    }

    /// Checks that the scope names only jurisdictions some rule has: a misspelt `uk` would
    /// otherwise switch nothing off, or everything.
    pub fn check_scope(&self) -> Result<()> {
        let known = self.jurisdictions();
        let named = [&self.scope.jurisdictions, &self.scope.exclude_jurisdictions];
        for name in named.into_iter().flatten().flatten() {
            if !known.contains(name) {
                return Err(Error::RuleFile {
                    origin: "[scope]".to_owned(),
                    message: format!(
                        "unknown jurisdiction `{name}` (the rules know: {})",
                        known.join(", ")
                    ),
                });
            }
        }
        Ok(())
    }

    /// Whether `rule` runs: enabled, and admitted by the scope.
    pub fn runs(&self, rule: &Rule) -> bool {
        !rule.disabled && self.scope.admits(rule)
    }

    fn check_ids(&self, origin: &str) -> Result<()> {
        let mut seen = std::collections::HashSet::new();
        for rule in &self.rules {
            if rule.id.is_empty()
                || !rule
                    .id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
            {
                return Err(Error::RuleFile {
                    origin: origin.to_owned(),
                    message: format!(
                        "rule id {:?} must be non-empty ASCII letters, digits, `-`, `_` or `.`",
                        rule.id
                    ),
                });
            }
            if let Some(bad) = rule
                .jurisdictions
                .iter()
                .find(|j| !(2..=8).contains(&j.len()) || !j.bytes().all(|b| b.is_ascii_lowercase()))
            {
                return Err(Error::RuleFile {
                    origin: origin.to_owned(),
                    message: format!(
                        "rule `{}`: jurisdiction {bad:?} must be a lowercase country code such as `us` or `uk`",
                        rule.id
                    ),
                });
            }
            if !seen.insert(rule.id.as_str()) {
                return Err(Error::RuleFile {
                    origin: origin.to_owned(),
                    message: format!("rule id `{}` appears twice", rule.id),
                });
            }
        }
        Ok(())
    }

    /// Adds `other`'s rules: one with an id already here replaces it in place, new ones go
    /// last; allowlists are combined.
    pub fn merge(&mut self, other: RuleSet) {
        for rule in other.rules {
            match self.rules.iter_mut().find(|r| r.id == rule.id) {
                Some(slot) => *slot = rule,
                None => self.rules.push(rule),
            }
        }
        self.scope.merge(other.scope);
        let allow = other.allowlist;
        self.allowlist.regexes.extend(allow.regexes);
        self.allowlist.stopwords.extend(allow.stopwords);
        self.allowlist.paths.extend(allow.paths);
    }

    /// Keeps only rules whose entity is in `entities`.
    pub fn retain_entities(&mut self, entities: &[Entity]) {
        self.rules.retain(|r| entities.contains(&r.entity));
    }

    /// Disables the named rules; answers the ids that were not found.
    pub fn disable(&mut self, ids: &[String]) -> Vec<String> {
        let mut unknown = Vec::new();
        for id in ids {
            match self.rules.iter_mut().find(|r| &r.id == id) {
                Some(rule) => rule.disabled = true,
                None => unknown.push(id.clone()),
            }
        }
        unknown
    }

    /// The rule with this id.
    pub fn get(&self, id: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.id == id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_rules_parse() {
        let set = RuleSet::builtin().unwrap();
        assert!(set.rules.len() > 30);
        for entity in Entity::ALL {
            assert!(
                set.rules.iter().any(|r| r.entity == entity),
                "no built-in rule for {entity}"
            );
        }
    }

    #[test]
    fn unknown_fields_and_versions_are_refused() {
        let err = RuleSet::from_toml("[[rule]]\nid='x'\nentity='card'\nregex='a'\nbogus=1\n", "t")
            .unwrap_err();
        assert!(err.to_string().contains("bogus"), "{err}");
        let err = RuleSet::from_toml("version = 2\n", "t").unwrap_err();
        assert!(err.to_string().contains("version 2"), "{err}");
        let err =
            RuleSet::from_toml("[[rule]]\nid='x'\nentity='pii'\nregex='a'\n", "t").unwrap_err();
        assert!(err.to_string().contains("pii"), "{err}");
        let twice = "[[rule]]\nid='x'\nentity='card'\nregex='a'\n[[rule]]\nid='x'\nentity='card'\nregex='b'\n";
        assert!(RuleSet::from_toml(twice, "t")
            .unwrap_err()
            .to_string()
            .contains("twice"));
    }

    #[test]
    fn scopes_select_by_jurisdiction_and_entity() {
        let mut set = RuleSet::builtin().unwrap();
        assert!(set
            .rules
            .iter()
            .any(|r| r.jurisdictions.contains(&"in".to_owned())));
        let user = RuleSet::from_toml(
            "[scope]\nexclude_jurisdictions = ['in']\nexclude_entities = ['crypto']\n",
            "user",
        )
        .unwrap();
        set.merge(user);
        set.check_scope().unwrap();
        for rule in &set.rules {
            let indian = rule.jurisdictions == ["in"];
            assert_eq!(
                set.runs(rule),
                !indian && rule.entity != Entity::Crypto,
                "{}",
                rule.id
            );
        }
        let us_only =
            RuleSet::from_toml("[scope]\njurisdictions = ['us', 'global']\n", "u").unwrap();
        set.merge(us_only);
        let running: Vec<&str> = set
            .rules
            .iter()
            .filter(|r| set.runs(r))
            .map(|r| r.id.as_str())
            .collect();
        assert!(running.contains(&"card-number") && running.contains(&"us-ssn"));
        assert!(!running.contains(&"uk-nhs") && !running.contains(&"in-aadhaar"));
    }

    #[test]
    fn unknown_scope_names_are_refused_clearly() {
        let mut set = RuleSet::builtin().unwrap();
        set.merge(RuleSet::from_toml("[scope]\njurisdictions = ['usa']\n", "u").unwrap());
        let err = set.check_scope().unwrap_err().to_string();
        assert!(
            err.contains("unknown jurisdiction `usa`") && err.contains("us,"),
            "{err}"
        );
        let err = RuleSet::from_toml("[scope]\nentities = ['aadhar']\n", "u")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("aadhar") && err.contains("in_aadhaar"),
            "{err}"
        );
        let err = RuleSet::from_toml("[scope]\ncountries = ['us']\n", "u")
            .unwrap_err()
            .to_string();
        assert!(err.contains("countries"), "{err}");
        let err = RuleSet::from_toml(
            "[[rule]]\nid='x'\nentity='card'\nregex='a'\njurisdictions=['US']\n",
            "u",
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("lowercase country code"), "{err}");
    }

    #[test]
    fn merging_replaces_by_id() {
        let mut set = RuleSet::builtin().unwrap();
        let before = set.rules.len();
        let custom = RuleSet::from_toml(
            "[[rule]]\nid='medical-record-number'\nentity='mrn'\nregex='MRN-(\\d{8})'\ngroup=1\n\
             [[rule]]\nid='acme-token'\nentity='secret'\nregex='acme_[a-z]{8}'\n",
            "user",
        )
        .unwrap();
        set.merge(custom);
        assert_eq!(set.rules.len(), before + 1);
        assert_eq!(
            set.get("medical-record-number").unwrap().regex,
            "MRN-(\\d{8})"
        );
        assert_eq!(set.rules.last().unwrap().id, "acme-token");
        assert_eq!(
            set.disable(&["acme-token".into(), "nope".into()]),
            vec!["nope".to_owned()]
        );
    }
}
