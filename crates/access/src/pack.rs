//! Policy packs: a Cedar schema, policies, entity data and settings, compiled and checked
//! strictly against the schema, hashed, and compared with the version they replace.
//!
//! A pack is a directory holding `schema.cedarschema`, one or more `*.cedar` files,
//! optionally `entities.json` (Cedar entity JSON) and `pack.toml` (see [`PackSettings`]).
//! Other files (a README) are ignored. The pack's hash is SHA-256 over the RFC 8785 JSON of
//! its files by name, so the same files always hash the same wherever they are applied.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::str::FromStr;

use cedar_policy::{Entities, EntityUid, PolicyId, PolicySet, Schema, ValidationMode, Validator};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use evident_core::{Error, Result};

/// The schema file every pack holds.
pub const SCHEMA_FILE: &str = "schema.cedarschema";
/// The optional entity data file.
pub const ENTITIES_FILE: &str = "entities.json";
/// The optional settings file.
pub const SETTINGS_FILE: &str = "pack.toml";
/// The largest file a pack may hold.
pub const MAX_FILE_BYTES: usize = 8 << 20;
/// The largest pack, all files together.
pub const MAX_PACK_BYTES: usize = 32 << 20;
const MAX_FILES: usize = 256;

/// The files of a pack by name, as applied and as stored.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackFiles(pub BTreeMap<String, String>);

impl PackFiles {
    /// Reads a pack directory (not recursive).
    pub fn load_dir(dir: &Path) -> Result<Self> {
        let read = std::fs::read_dir(dir).map_err(Error::io(format!(
            "reading the policy pack {}",
            dir.display()
        )))?;
        let mut files = BTreeMap::new();
        let mut total = 0usize;
        for item in read {
            let item = item.map_err(Error::io(format!("reading {}", dir.display())))?;
            let name = item.file_name().to_string_lossy().into_owned();
            if !is_pack_file(&name) || !item.path().is_file() {
                continue;
            }
            let bytes = std::fs::read(item.path())
                .map_err(Error::io(format!("reading {}", item.path().display())))?;
            total += bytes.len();
            let text = String::from_utf8(bytes)
                .map_err(|_| Error::Policy(format!("{name}: not UTF-8 text")))?;
            files.insert(name, text);
        }
        let pack = Self(files);
        pack.check_shape()?;
        if total > MAX_PACK_BYTES {
            return Err(Error::Policy(format!(
                "the pack is {total} bytes; the limit is {MAX_PACK_BYTES}"
            )));
        }
        Ok(pack)
    }

    /// Checks names, counts and sizes; [`compile`] calls it too.
    pub fn check_shape(&self) -> Result<()> {
        if self.0.len() > MAX_FILES {
            return Err(Error::Policy(format!(
                "a pack holds at most {MAX_FILES} files, got {}",
                self.0.len()
            )));
        }
        let mut total = 0;
        for (name, text) in &self.0 {
            if !is_pack_file(name) || name.contains(['/', '\\']) || name.starts_with('.') {
                return Err(Error::Policy(format!(
                    "`{}` is not a pack file name (expected {SCHEMA_FILE}, NAME.cedar, {ENTITIES_FILE} or {SETTINGS_FILE})",
                    clip(name)
                )));
            }
            if text.len() > MAX_FILE_BYTES {
                return Err(Error::Policy(format!(
                    "{name} is {} bytes; the limit is {MAX_FILE_BYTES}",
                    text.len()
                )));
            }
            total += text.len();
        }
        if total > MAX_PACK_BYTES {
            return Err(Error::Policy(format!(
                "the pack is {total} bytes; the limit is {MAX_PACK_BYTES}"
            )));
        }
        if !self.0.contains_key(SCHEMA_FILE) {
            return Err(Error::Policy(format!(
                "the pack has no {SCHEMA_FILE}: policies are always validated against a schema"
            )));
        }
        if !self.0.keys().any(|n| n.ends_with(".cedar")) {
            return Err(Error::Policy("the pack has no *.cedar policy file".into()));
        }
        Ok(())
    }

    /// `sha256:<hex>` over the RFC 8785 JSON of the files.
    pub fn hash(&self) -> String {
        let json = serde_json::to_value(&self.0).unwrap_or(Value::Null);
        let digest = Sha256::digest(evident_core::canonical::to_vec(&json));
        format!("sha256:{}", hex::encode(digest))
    }
}

fn is_pack_file(name: &str) -> bool {
    name == SCHEMA_FILE
        || name == ENTITIES_FILE
        || name == SETTINGS_FILE
        || (name.ends_with(".cedar") && name.len() > ".cedar".len())
}

/// `pack.toml`: what Cedar itself cannot say.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackSettings {
    /// Resource types whose every instance is regulated data (PHI, cardholder data). An
    /// entity with the attribute `regulated == true` is regulated too. A decision about a
    /// regulated resource that the ledger cannot record is a deny.
    #[serde(default)]
    pub regulated_types: Vec<String>,
    /// Put the server's clock into `context.now` (seconds since the epoch), overriding any
    /// value the caller sent, so policies can bound the age of an authentication.
    #[serde(default)]
    pub inject_now: bool,
    /// How to tell a denied caller what stronger authentication would be enough.
    #[serde(default)]
    pub step_up: Option<StepUpSettings>,
    /// Emergency-access rules.
    #[serde(default)]
    pub break_glass: BreakGlassSettings,
    /// What an access review assumes.
    #[serde(default)]
    pub review: ReviewSettings,
    /// Put the data subject's consent into `context.consent` (see `docs/access.md`).
    #[serde(default)]
    pub consent: Option<ConsentSettings>,
}

/// `[consent]`: the purposes whose consent state a decision puts into its context, as
/// `context.consent.<purpose>` (`true` only while a grant is in force), read from the store
/// for the data subject the resource names in its property `subject_property`. What the
/// caller sent as `context.consent` is replaced, so a caller cannot assert consent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsentSettings {
    /// the purposes, each `[a-z][a-z0-9_]*`
    pub purposes: Vec<String>,
    /// the resource property naming the data subject
    #[serde(default = "default_subject_property")]
    pub subject_property: String,
}

fn default_subject_property() -> String {
    "data_subject".into()
}

/// Checks the `[consent]` settings: at least one purpose, each a Cedar identifier.
fn check_consent_settings(settings: &ConsentSettings) -> Result<()> {
    if settings.purposes.is_empty() {
        return Err(Error::Policy("[consent] purposes is empty".into()));
    }
    for p in &settings.purposes {
        let ok = p.starts_with(|c: char| c.is_ascii_lowercase())
            && p.len() <= 64
            && p.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !ok {
            return Err(Error::Policy(format!(
                "[consent] purpose `{}` is not 1 to 64 lowercase letters, digits or `_`",
                p.chars().take(40).collect::<String>()
            )));
        }
    }
    if settings.subject_property.is_empty() {
        return Err(Error::Policy("[consent] subject_property is empty".into()));
    }
    Ok(())
}

/// `[review]`: the context an access review evaluates ordinary requests under (a purpose of
/// use, say), so that grants that need one are not reported as absent.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReviewSettings {
    /// context for every review evaluation
    #[serde(default)]
    pub context: toml::Table,
}

/// Step-up hints: a denied request is evaluated again with `context` merged over its own;
/// if that is permitted the deny carries `acr_values` / `amr_values` (AuthZEN, OIDC).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepUpSettings {
    /// Context merged over the request's; the string `"$now"` becomes the current time.
    pub context: toml::Table,
    /// The OIDC `acr_values` to ask the identity provider for.
    #[serde(default)]
    pub acr_values: Option<String>,
    /// The authentication methods that would satisfy the policy.
    #[serde(default)]
    pub amr_values: Vec<String>,
}

/// Break-glass settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BreakGlassSettings {
    /// The context field holding the justification.
    #[serde(default = "default_justification_field")]
    pub justification_field: String,
    /// The shortest justification accepted.
    #[serde(default = "default_min_justification")]
    pub min_justification_chars: usize,
    /// The context by which a caller asks for emergency access (used by access reviews to
    /// find break-glass grants), e.g. `{ break_glass = true }`.
    #[serde(default)]
    pub request_context: toml::Table,
}

impl Default for BreakGlassSettings {
    fn default() -> Self {
        Self {
            justification_field: default_justification_field(),
            min_justification_chars: default_min_justification(),
            request_context: toml::Table::new(),
        }
    }
}

fn default_justification_field() -> String {
    "justification".into()
}

fn default_min_justification() -> usize {
    10
}

/// What Evident reads from a policy's annotations.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PolicyInfo {
    /// the file it came from
    pub file: String,
    /// `permit` or `forbid`
    pub effect: String,
    /// `@control("…")`, split on `;`
    pub controls: Vec<String>,
    /// `@break_glass`: a permit that is emergency access
    pub break_glass: bool,
    /// `@severity("…")`
    pub severity: Option<String>,
    /// the policy's source text
    pub text: String,
}

/// A pack compiled, validated and ready to decide.
#[derive(Debug)]
pub struct CompiledPack {
    /// the stored version number (0 before it is stored)
    pub version: u64,
    /// [`PackFiles::hash`]
    pub hash: String,
    /// the files
    pub files: PackFiles,
    /// the schema
    pub schema: Schema,
    /// the policies, by their ids
    pub policies: PolicySet,
    /// entity data, including the schema's action entities
    pub entities: Entities,
    /// `pack.toml`
    pub settings: PackSettings,
    /// annotations per policy id
    pub info: BTreeMap<String, PolicyInfo>,
    /// validator warnings (the pack was still accepted)
    pub warnings: Vec<String>,
    /// the schema's entity types by name, parsed once (Cedar's parser is not cheap)
    types: std::collections::HashMap<String, cedar_policy::EntityTypeName>,
    action_type: cedar_policy::EntityTypeName,
    /// `[step_up] context` as JSON, converted once
    pub(crate) step_up_context: Option<Value>,
    /// per action, only the policies whose action scope can match it: Cedar evaluates
    /// every policy's scope on every request, so a request skips the others up front (a
    /// policy whose action scope does not match is never satisfied and never errs, so the
    /// answer, its reasons and its errors are the same)
    by_action: std::collections::HashMap<EntityUid, PolicySet>,
}

impl CompiledPack {
    /// The uid of an AuthZEN subject or resource: its type must be declared in the schema.
    pub fn uid(&self, kind: &str, id: &str, what: &str) -> Result<EntityUid> {
        let ty = self.types.get(kind).ok_or_else(|| {
            Error::BadRequest(format!(
                "{what}.type `{}` is not an entity type of the policy schema",
                clip(kind)
            ))
        })?;
        Ok(EntityUid::from_type_name_and_id(
            ty.clone(),
            cedar_policy::EntityId::new(id),
        ))
    }

    /// The policies that can apply to `action` (all of them for an unknown action).
    pub fn policies_for(&self, action: &EntityUid) -> &PolicySet {
        self.by_action.get(action).unwrap_or(&self.policies)
    }

    /// `Action::"name"`.
    pub fn action(&self, name: &str) -> EntityUid {
        EntityUid::from_type_name_and_id(
            self.action_type.clone(),
            cedar_policy::EntityId::new(name),
        )
    }
}

/// Parses and strictly validates a pack; the error carries Cedar's diagnostics.
pub fn compile(files: PackFiles) -> Result<CompiledPack> {
    files.check_shape()?;
    let hash = files.hash();
    let schema_text = &files.0[SCHEMA_FILE];
    let (schema, schema_warnings) = Schema::from_cedarschema_str(schema_text)
        .map_err(|e| Error::Policy(render(SCHEMA_FILE, schema_text, &e)))?;
    let mut warnings: Vec<String> = schema_warnings
        .map(|w| format!("{SCHEMA_FILE}: {w}"))
        .collect();

    let mut policies = PolicySet::new();
    let mut info = BTreeMap::new();
    let mut problems = Vec::new();
    for (name, text) in files.0.iter().filter(|(n, _)| n.ends_with(".cedar")) {
        let parsed = match PolicySet::from_str(text) {
            Ok(p) => p,
            Err(e) => {
                problems.push(render(name, text, &e));
                continue;
            }
        };
        if parsed.templates().next().is_some() {
            problems.push(format!(
                "{name}: templates are not supported; write static policies"
            ));
        }
        let stem = name.trim_end_matches(".cedar");
        let mut ordered: Vec<_> = parsed.policies().collect();
        // Cedar numbers a file's policies policy0, policy1, …; keep file order for ids.
        ordered.sort_by_key(|p| {
            p.id()
                .to_string()
                .trim_start_matches("policy")
                .parse::<usize>()
                .unwrap_or(usize::MAX)
        });
        for (n, policy) in ordered.into_iter().enumerate() {
            let id = policy
                .annotation("id")
                .map(str::to_string)
                .unwrap_or_else(|| format!("{stem}.{n}"));
            if info.contains_key(&id) {
                problems.push(format!("{name}: the policy id `{id}` is used twice"));
                continue;
            }
            let renamed = policy.new_id(PolicyId::new(&id));
            let text = renamed.to_string();
            info.insert(
                id.clone(),
                PolicyInfo {
                    file: name.clone(),
                    effect: match renamed.effect() {
                        cedar_policy::Effect::Permit => "permit".into(),
                        cedar_policy::Effect::Forbid => "forbid".into(),
                    },
                    controls: renamed
                        .annotation("control")
                        .map(|c| {
                            c.split(';')
                                .map(|s| s.trim().to_string())
                                .filter(|s| !s.is_empty())
                                .collect()
                        })
                        .unwrap_or_default(),
                    break_glass: renamed.annotation("break_glass").is_some(),
                    severity: renamed.annotation("severity").map(str::to_string),
                    text,
                },
            );
            if let Err(e) = policies.add(renamed) {
                problems.push(format!("{name}: {e}"));
            }
        }
    }
    if !problems.is_empty() {
        return Err(Error::Policy(problems.join("\n")));
    }

    let validation = Validator::new(schema.clone()).validate(&policies, ValidationMode::Strict);
    if !validation.validation_passed() {
        let mut errors: Vec<(bool, String)> = validation
            .validation_errors()
            .map(|e| {
                let id = e.policy_id().to_string();
                let file = info.get(&id).map(|i| i.file.as_str()).unwrap_or("?");
                let text = with_help(e);
                // A wrong name makes Cedar doubt every later `has` guard in the same
                // condition; show the root causes first.
                let follow_on = text.contains("unable to guarantee safety");
                (follow_on, format!("{file}: policy `{id}`: {text}"))
            })
            .collect();
        errors.sort();
        errors.dedup();
        let errors: Vec<String> = errors.into_iter().map(|(_, e)| e).collect();
        return Err(Error::Policy(format!(
            "the policies do not validate against {SCHEMA_FILE} (strict mode):\n{}",
            errors.join("\n")
        )));
    }
    warnings.extend(
        validation
            .validation_warnings()
            .map(|w| format!("policy `{}`: {w}", w.policy_id())),
    );

    // With a schema, Cedar adds the schema's action entities to the parsed data itself.
    let entities_text = files.0.get(ENTITIES_FILE).map_or("[]", String::as_str);
    let entities = Entities::from_json_str(entities_text, Some(&schema))
        .map_err(|e| Error::Policy(format!("{ENTITIES_FILE}: {}", with_help(&e))))?;

    let settings: PackSettings = match files.0.get(SETTINGS_FILE) {
        Some(text) => {
            toml::from_str(text).map_err(|e| Error::Policy(format!("{SETTINGS_FILE}: {e}")))?
        }
        None => PackSettings::default(),
    };
    for ty in &settings.regulated_types {
        if !schema.entity_types().any(|t| t.to_string() == *ty) {
            return Err(Error::Policy(format!(
                "{SETTINGS_FILE}: regulated type `{}` is not declared in {SCHEMA_FILE}",
                clip(ty)
            )));
        }
    }

    if let Some(consent) = &settings.consent {
        check_consent_settings(consent)
            .map_err(|e| Error::Policy(format!("{SETTINGS_FILE}: {e}")))?;
    }

    let types = schema
        .entity_types()
        .map(|t| (t.to_string(), t.clone()))
        .collect();
    let action_type = cedar_policy::EntityTypeName::from_str("Action")
        .map_err(|e| Error::Policy(format!("the Action type: {e}")))?;
    let step_up_context = settings
        .step_up
        .as_ref()
        .map(|s| serde_json::to_value(&s.context).unwrap_or(Value::Null));
    let by_action = slice_by_action(&schema, &policies, &entities)?;
    Ok(CompiledPack {
        by_action,
        step_up_context,
        types,
        action_type,
        version: 0,
        hash,
        files,
        schema,
        policies,
        entities,
        settings,
        info,
        warnings,
    })
}

fn slice_by_action(
    schema: &Schema,
    policies: &PolicySet,
    entities: &Entities,
) -> Result<std::collections::HashMap<EntityUid, PolicySet>> {
    use cedar_policy::ActionConstraint;
    let mut out = std::collections::HashMap::new();
    for action in schema.actions() {
        let ancestors: Vec<&EntityUid> = entities
            .ancestors(action)
            .map(Iterator::collect)
            .unwrap_or_default();
        let mut set = PolicySet::new();
        for policy in policies.policies() {
            let applies = match policy.action_constraint() {
                ActionConstraint::Any => true,
                ActionConstraint::Eq(uid) => uid == *action,
                ActionConstraint::In(uids) => {
                    uids.iter().any(|u| u == action || ancestors.contains(&u))
                }
            };
            if applies {
                set.add(policy.clone())
                    .map_err(|e| Error::Policy(format!("slicing by action: {e}")))?;
            }
        }
        out.insert(action.clone(), set);
    }
    Ok(out)
}

/// A readable account of what a new version changes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PackDiff {
    /// policy ids only in the new version
    pub policies_added: Vec<String>,
    /// policy ids only in the old version
    pub policies_removed: Vec<String>,
    /// policy ids whose text changed
    pub policies_changed: Vec<String>,
    /// entity uids only in the new version
    pub entities_added: Vec<String>,
    /// entity uids only in the old version
    pub entities_removed: Vec<String>,
    /// entity uids whose attributes or parents changed
    pub entities_changed: Vec<String>,
    /// whether the schema text changed
    pub schema_changed: bool,
    /// whether `pack.toml` changed
    pub settings_changed: bool,
}

impl PackDiff {
    /// Compares two packs (`old` is `None` for the first version).
    pub fn between(old: Option<&CompiledPack>, new: &CompiledPack) -> Self {
        let empty = BTreeMap::new();
        let old_info = old.map(|o| &o.info).unwrap_or(&empty);
        let (policies_added, policies_removed, policies_changed) =
            compare(old_info, &new.info, |a, b| a.text == b.text);
        let old_entities = old.map(entity_map).unwrap_or_default();
        let new_entities = entity_map(new);
        let (entities_added, entities_removed, entities_changed) =
            compare(&old_entities, &new_entities, |a, b| a == b);
        let file =
            |p: Option<&CompiledPack>, name: &str| p.and_then(|p| p.files.0.get(name).cloned());
        Self {
            policies_added,
            policies_removed,
            policies_changed,
            entities_added,
            entities_removed,
            entities_changed,
            schema_changed: file(old, SCHEMA_FILE) != file(Some(new), SCHEMA_FILE),
            settings_changed: file(old, SETTINGS_FILE) != file(Some(new), SETTINGS_FILE),
        }
    }

    /// Whether nothing changed.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// One line per kind of change, e.g. `policies: +phi-read ~rbac.0`.
    pub fn summary(&self) -> String {
        let mut lines = Vec::new();
        let list = |sign: &str, items: &[String]| {
            items
                .iter()
                .map(|i| format!("{sign}{i}"))
                .collect::<Vec<_>>()
        };
        let mut policies = list("+", &self.policies_added);
        policies.extend(list("-", &self.policies_removed));
        policies.extend(list("~", &self.policies_changed));
        if !policies.is_empty() {
            lines.push(format!("policies: {}", policies.join(" ")));
        }
        let counts = [
            self.entities_added.len(),
            self.entities_removed.len(),
            self.entities_changed.len(),
        ];
        if counts.iter().any(|c| *c > 0) {
            lines.push(format!(
                "entities: +{} -{} ~{}",
                counts[0], counts[1], counts[2]
            ));
        }
        if self.schema_changed {
            lines.push("schema changed".into());
        }
        if self.settings_changed {
            lines.push("pack.toml changed".into());
        }
        if lines.is_empty() {
            lines.push("no change".into());
        }
        lines.join("\n")
    }
}

fn entity_map(pack: &CompiledPack) -> BTreeMap<String, String> {
    pack.entities
        .iter()
        .filter(|e| !e.uid().type_name().basename().eq("Action"))
        .map(|e| {
            let json = e.to_json_value().unwrap_or(Value::Null);
            (
                e.uid().to_string(),
                String::from_utf8_lossy(&evident_core::canonical::to_vec(&json)).into_owned(),
            )
        })
        .collect()
}

fn compare<V>(
    old: &BTreeMap<String, V>,
    new: &BTreeMap<String, V>,
    same: impl Fn(&V, &V) -> bool,
) -> (Vec<String>, Vec<String>, Vec<String>) {
    let old_keys: BTreeSet<_> = old.keys().collect();
    let new_keys: BTreeSet<_> = new.keys().collect();
    let added = new_keys
        .difference(&old_keys)
        .map(|k| k.to_string())
        .collect();
    let removed = old_keys
        .difference(&new_keys)
        .map(|k| k.to_string())
        .collect();
    let changed = old_keys
        .intersection(&new_keys)
        .filter(|k| !same(&old[**k], &new[**k]))
        .map(|k| k.to_string())
        .collect();
    (added, removed, changed)
}

/// Renders a diagnostic with its labels as `file:line:col` and the source line.
fn render(file: &str, source: &str, diag: &dyn miette::Diagnostic) -> String {
    let mut out = format!("{file}: {diag}");
    if let Some(labels) = diag.labels() {
        for label in labels {
            let (line, col) = line_col(source, label.offset());
            let text = source.lines().nth(line - 1).unwrap_or("");
            out.push_str(&format!(
                "\n  --> {file}:{line}:{col}\n   | {}",
                clip_line(text)
            ));
            if let Some(note) = label.label() {
                out.push_str(&format!("\n   = {note}"));
            }
        }
    }
    if let Some(related) = diag.related() {
        for r in related {
            out.push('\n');
            out.push_str(&render(file, source, r));
        }
    }
    if let Some(help) = diag.help() {
        out.push_str(&format!("\n   help: {help}"));
    }
    out
}

fn with_help(diag: &dyn miette::Diagnostic) -> String {
    match diag.help() {
        Some(help) => format!("{diag} (help: {help})"),
        None => diag.to_string(),
    }
}

fn line_col(source: &str, offset: usize) -> (usize, usize) {
    let before = source.get(..offset.min(source.len())).unwrap_or(source);
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

fn clip_line(text: &str) -> String {
    text.chars().take(160).collect()
}

fn clip(text: &str) -> String {
    let mut s: String = text.chars().take(64).collect();
    if s.len() < text.len() {
        s.push('…');
    }
    s
}
