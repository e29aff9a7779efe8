//! The record of processing activities (GDPR Art. 30(1)), generated rather than kept by
//! hand: one activity per purpose the data map declares, with its lawful bases, categories
//! of data subjects and of personal data (special categories of Art. 9 and 10 marked), the
//! systems and tables that hold it, recipients, transfers to other countries and their
//! safeguards, and retention periods; the consent purposes the ledger has seen; and the
//! security measures (Art. 32) as the controls part checks them live.
//!
//! [`build`] is a pure function of its inputs, so the same map, consent purposes and control
//! standings give the same record, and the record's digest ([`Record::digest`]) is what a
//! published version puts in the ledger ([`published_event`]). What the record cannot say
//! because the map does not declare it is listed in [`Record::gaps`] rather than left blank.
//! [`render`] writes it as HTML, CSV or JSON.

pub mod render;

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};

use evident_core::event::{system_event, ActorType, AuditEvent, Severity};
use evident_core::log::Log;
use evident_core::Result;

use crate::datamap::{Controller, DataMap, LawfulBasis, Transfer};
use crate::events::{self, all_events};

/// The ledger action of a published version.
pub const PUBLISHED: &str = "evident.privacy.ropa.published";
/// The record's format version.
pub const FORMAT: u32 = 1;

/// The whole record.
#[derive(Debug, Clone, Serialize)]
pub struct Record {
    /// the record's format (1)
    pub format: u32,
    /// when it was generated, RFC 3339 (left out of the digest)
    pub generated_at: String,
    /// `sha256:` of the data map it was generated from
    pub map_hash: String,
    /// Art. 30(1)(a)
    pub controller: Option<Controller>,
    /// one per purpose, in the order the map first names them
    pub activities: Vec<Activity>,
    /// the purposes consent has been recorded for
    pub consent_purposes: Vec<ConsentPurpose>,
    /// Art. 30(1)(g) and Art. 32: the controls that bear on the security of processing
    pub security_measures: Vec<Measure>,
    /// what the record cannot state because the map does not declare it
    pub gaps: Vec<String>,
}

/// One processing activity: everything processed for one purpose.
#[derive(Debug, Clone, Serialize)]
pub struct Activity {
    /// Art. 30(1)(b): the purpose, as the map writes it
    pub purpose: String,
    /// the lawful bases of its tables, e.g. `contract (Art. 6(1)(b))`
    pub lawful_bases: Vec<String>,
    /// Art. 30(1)(c): categories of data subjects (fideslang)
    pub data_subjects: Vec<String>,
    /// Art. 30(1)(c): categories of personal data (fideslang)
    pub data_categories: Vec<String>,
    /// those of Art. 9 (special categories) or Art. 10 (criminal convictions)
    pub special_categories: Vec<String>,
    /// where it is held: `system.table`
    pub tables: Vec<String>,
    /// Art. 30(1)(d)
    pub recipients: Vec<String>,
    /// Art. 30(1)(e)
    pub transfers: Vec<Transfer>,
    /// Art. 30(1)(f), per table
    pub retention: Vec<RetentionLimit>,
}

/// How long one table's rows are kept.
#[derive(Debug, Clone, Serialize)]
pub struct RetentionLimit {
    /// `system.table`
    pub table: String,
    /// e.g. `10y`
    pub period: String,
    /// the column the period runs from, if declared
    pub from: Option<String>,
}

/// A purpose consent was recorded for, with how often it changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConsentPurpose {
    /// the purpose, as consent records name it
    pub purpose: String,
    /// grants recorded
    pub grants: u64,
    /// withdrawals and opt-outs recorded
    pub withdrawals: u64,
    /// whether a table of the map names this purpose
    pub in_map: bool,
}

/// One control's live standing, as the controls part reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Measure {
    /// the control's id
    pub control: String,
    /// its title
    pub title: String,
    /// its last result (`pass`, `fail`, …, or `never checked`)
    pub result: String,
    /// when it was last checked, RFC 3339
    pub checked: Option<String>,
}

/// Fideslang categories that are special categories (GDPR Art. 9) or criminal data (Art. 10).
fn is_special(category: &str) -> bool {
    const SPECIAL: [&str; 8] = [
        "user.health_and_medical",
        "user.biometric",
        "user.authorization.biometric",
        "user.demographic.political_opinion",
        "user.demographic.race_ethnicity",
        "user.demographic.religious_belief",
        "user.demographic.sexual_orientation",
        "user.criminal_history",
    ];
    SPECIAL
        .iter()
        .any(|s| category == *s || category.strip_prefix(s).is_some_and(|r| r.starts_with('.')))
}

fn basis_text(basis: LawfulBasis) -> String {
    let article = LawfulBasis::ALL
        .iter()
        .find(|(b, _, _)| *b == basis)
        .map_or("", |(_, _, a)| a);
    format!("{} (Art. {article})", basis.name())
}

/// A purpose as consent records name it: the map's free text lowercased, every run of other
/// characters than letters and digits one `_` (`Treatment of the patient` →
/// `treatment_of_the_patient`), so a consent purpose and a map purpose can be matched.
pub fn purpose_key(text: &str) -> String {
    let mut key = String::with_capacity(text.len());
    for ch in text.chars() {
        if ch.is_alphanumeric() {
            key.extend(ch.to_lowercase());
        } else if !key.is_empty() && !key.ends_with('_') {
            key.push('_');
        }
    }
    while key.ends_with('_') {
        key.pop();
    }
    key
}

/// Builds the record from the map, the consent purposes seen and the controls' standings.
pub fn build(
    map: &DataMap,
    consent: &[ConsentPurpose],
    measures: &[Measure],
    generated_at: &str,
) -> Record {
    let mut order: Vec<String> = Vec::new();
    let mut by_purpose: BTreeMap<String, Acc> = BTreeMap::new();
    let mut gaps = Vec::new();
    if map.controller.is_none() {
        gaps.push(
            "the controller's name and contact (Art. 30(1)(a)): add `[controller]` to the data map"
                .to_owned(),
        );
    }
    for system in &map.systems {
        for table in &system.tables {
            let name = format!("{}.{}", system.name, table.name);
            if !by_purpose.contains_key(&table.purpose) {
                order.push(table.purpose.clone());
            }
            let acc = by_purpose.entry(table.purpose.clone()).or_default();
            acc.bases.insert(basis_text(table.lawful_basis));
            if table.subjects.is_empty() {
                gaps.push(format!(
                    "the categories of data subjects of `{name}` (Art. 30(1)(c)): add `subjects` to the table or its system"
                ));
            }
            acc.subjects.extend(table.subjects.iter().cloned());
            for field in &table.fields {
                acc.categories.extend(field.categories.iter().cloned());
            }
            acc.systems.insert(system.name.clone());
            acc.recipients.extend(system.recipients.iter().cloned());
            for t in &system.transfers {
                if !acc.transfers.contains(t) {
                    acc.transfers.push(t.clone());
                }
            }
            acc.retention.push(RetentionLimit {
                table: name.clone(),
                period: table.retention.to_string(),
                from: table.retention_from.clone(),
            });
            acc.tables.push(name);
        }
    }
    let purposes: BTreeSet<String> = by_purpose.keys().map(|p| purpose_key(p)).collect();
    let consent_purposes: Vec<ConsentPurpose> = consent
        .iter()
        .map(|c| ConsentPurpose {
            in_map: purposes.contains(&purpose_key(&c.purpose)),
            ..c.clone()
        })
        .collect();
    for c in consent_purposes.iter().filter(|c| !c.in_map) {
        gaps.push(format!(
            "consent is recorded for purpose `{}`, which no table of the data map names",
            c.purpose
        ));
    }
    if measures.is_empty() {
        gaps.push(
            "no security measures (Art. 32): no control of the catalog maps to GDPR Art.32"
                .to_owned(),
        );
    }
    let activities = order
        .into_iter()
        .map(|purpose| {
            let acc = by_purpose.remove(&purpose).unwrap_or_default();
            let categories: Vec<String> = acc.categories.into_iter().collect();
            Activity {
                special_categories: categories
                    .iter()
                    .filter(|c| is_special(c))
                    .cloned()
                    .collect(),
                data_categories: categories,
                lawful_bases: acc.bases.into_iter().collect(),
                data_subjects: acc.subjects.into_iter().collect(),
                tables: acc.tables,
                recipients: acc.recipients.into_iter().collect(),
                transfers: acc.transfers,
                retention: acc.retention,
                purpose,
            }
        })
        .collect();
    Record {
        format: FORMAT,
        generated_at: generated_at.to_owned(),
        map_hash: map.hash.clone(),
        controller: map.controller.clone(),
        activities,
        consent_purposes,
        security_measures: measures.to_vec(),
        gaps,
    }
}

/// What one purpose gathers while the map is read.
#[derive(Default)]
struct Acc {
    bases: BTreeSet<String>,
    subjects: BTreeSet<String>,
    categories: BTreeSet<String>,
    systems: BTreeSet<String>,
    tables: Vec<String>,
    recipients: BTreeSet<String>,
    transfers: Vec<Transfer>,
    retention: Vec<RetentionLimit>,
}

impl Record {
    /// `sha256:<hex>` of the record's canonical JSON without `generated_at`: two records of
    /// the same content have the same digest whenever they were generated.
    pub fn digest(&self) -> String {
        let mut value = serde_json::to_value(self).unwrap_or_default();
        if let Some(object) = value.as_object_mut() {
            object.remove("generated_at");
        }
        // serde_json's maps are sorted (no `preserve_order`), so this text is canonical.
        let text = value.to_string();
        format!("sha256:{}", hex::encode(Sha256::digest(text.as_bytes())))
    }
}

/// The ledger event of publishing `record` as `version`, by `actor`.
pub fn published_event(record: &Record, version: u64, actor: &str) -> AuditEvent {
    let mut event = system_event(
        PUBLISHED,
        "ropa",
        Some(&version.to_string()),
        json!({
            "version": version,
            "digest": record.digest(),
            "map_hash": record.map_hash,
            "activities": record.activities.len(),
            "gaps": record.gaps.len(),
            "published_by": actor,
        }),
    );
    event.actor.id = actor.to_owned();
    event.actor.kind = ActorType::User;
    event.severity = Some(Severity::Info);
    event
}

/// A published version as the ledger holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Publication {
    /// 1, 2, …
    pub version: u64,
    /// the record's digest
    pub digest: String,
    /// the data map's hash
    pub map_hash: String,
    /// who published it
    pub published_by: String,
    /// when, RFC 3339 (the ledger's receipt time)
    pub published_at: String,
    /// its ledger index
    pub index: u64,
}

/// Every published version, oldest first, read from the ledger.
pub fn publications(log: &Log<'_>) -> Result<Vec<Publication>> {
    let mut out = Vec::new();
    for record in all_events(log, |q| q.action = Some(PUBLISHED.into()))? {
        let text = |p: &str| events::text(&record, p);
        out.push(Publication {
            version: record
                .entry
                .pointer("/metadata/version")
                .and_then(serde_json::Value::as_u64)
                .unwrap_or_default(),
            digest: text("/metadata/digest"),
            map_hash: text("/metadata/map_hash"),
            published_by: text("/metadata/published_by"),
            published_at: text("/received_at"),
            index: record.index,
        });
    }
    Ok(out)
}

/// The purposes consent was recorded for, with counts of grants and withdrawals, read from
/// the ledger's consent events (the purpose is each event's resource id).
pub fn consent_purposes(log: &Log<'_>) -> Result<Vec<ConsentPurpose>> {
    let mut counts: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    for record in all_events(log, |q| q.resource_type = Some("consent".into()))? {
        let Some(purpose) = record
            .entry
            .pointer("/resource/id")
            .and_then(|v| v.as_str())
        else {
            continue;
        };
        let action = record
            .entry
            .pointer("/action")
            .and_then(|v| v.as_str())
            .unwrap_or("");
        let entry = counts.entry(purpose.to_owned()).or_default();
        if action == "evident.consent.granted" {
            entry.0 += 1;
        } else if action == "evident.consent.withdrawn" {
            entry.1 += 1;
        }
    }
    Ok(counts
        .into_iter()
        .map(|(purpose, (grants, withdrawals))| ConsentPurpose {
            purpose,
            grants,
            withdrawals,
            in_map: false,
        })
        .collect())
}

#[cfg(test)]
mod tests;
