//! Scoring predictions against the planted labels, per entity, and the quality targets.

use std::collections::BTreeMap;

use super::Label;
use crate::Entity;

/// The quality targets of the detect issue: `(entity, minimum precision, minimum recall)`;
/// a precision of 0 means only recall is targeted.
pub const TARGETS: &[(Entity, f64, f64)] = &[
    (Entity::Card, 0.98, 0.99),
    (Entity::Ssn, 0.98, 0.99),
    (Entity::Iban, 0.98, 0.99),
    (Entity::Email, 0.98, 0.99),
    (Entity::Phone, 0.95, 0.95),
    (Entity::Secret, 0.0, 0.95),
];

/// The target for every national, health-plan and financial identifier the corpus plants
/// that [`TARGETS`] does not name: `(minimum precision, minimum recall)`.
pub const IDENTIFIER_TARGET: (f64, f64) = (0.95, 0.95);

/// The target of `entity`, if it has one: its [`TARGETS`] row, else [`IDENTIFIER_TARGET`] for
/// identifiers.
pub fn target(entity: Entity) -> Option<(f64, f64)> {
    TARGETS
        .iter()
        .find(|(e, _, _)| *e == entity)
        .map(|&(_, p, r)| (p, r))
        .or_else(|| entity.is_identifier().then_some(IDENTIFIER_TARGET))
}

/// Precision and recall counts for one entity.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Score {
    /// planted values
    pub labels: usize,
    /// planted values some prediction overlaps
    pub found: usize,
    /// predictions of this entity
    pub predictions: usize,
    /// predictions that overlap a planted value of this entity
    pub correct: usize,
}

impl Score {
    /// correct / predictions (1 when nothing was predicted)
    pub fn precision(&self) -> f64 {
        if self.predictions == 0 {
            1.0
        } else {
            self.correct as f64 / self.predictions as f64
        }
    }

    /// found / labels (1 when nothing was planted)
    pub fn recall(&self) -> f64 {
        if self.labels == 0 {
            1.0
        } else {
            self.found as f64 / self.labels as f64
        }
    }
}

/// A predicted span, from any tool.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Prediction {
    /// file name within the corpus
    pub file: String,
    /// what the tool says it is
    pub entity: Entity,
    /// byte offset
    pub start: usize,
    /// byte offset just past it
    pub end: usize,
}

/// `(start, end, found)` of one label.
type LabelSpan = (usize, usize, bool);

/// Scores predictions against labels per entity: a prediction is correct when it overlaps a
/// label of the same entity in the same file; a label is found when a prediction overlaps it.
/// Only entities that have labels are scored.
pub fn score(labels: &[Label], predictions: &[Prediction]) -> BTreeMap<Entity, Score> {
    let mut by_key: BTreeMap<(&str, Entity), Vec<LabelSpan>> = BTreeMap::new();
    for l in labels {
        by_key
            .entry((l.file.as_str(), l.entity))
            .or_default()
            .push((l.start, l.end, false));
    }
    for spans in by_key.values_mut() {
        spans.sort_unstable();
    }
    let mut scores: BTreeMap<Entity, Score> = BTreeMap::new();
    for l in labels {
        scores.entry(l.entity).or_default().labels += 1;
    }
    for p in predictions {
        let Some(score) = scores.get_mut(&p.entity) else {
            continue;
        };
        score.predictions += 1;
        let Some(spans) = by_key.get_mut(&(p.file.as_str(), p.entity)) else {
            continue;
        };
        let first = spans.partition_point(|s| s.1 <= p.start);
        let mut hit = false;
        for span in spans[first..].iter_mut().take_while(|s| s.0 < p.end) {
            span.2 = true;
            hit = true;
        }
        if hit {
            score.correct += 1;
        }
    }
    for ((_, entity), spans) in &by_key {
        if let Some(score) = scores.get_mut(entity) {
            score.found += spans.iter().filter(|s| s.2).count();
        }
    }
    scores
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scoring_counts_overlaps() {
        let labels = vec![
            Label {
                file: "f".into(),
                entity: Entity::Card,
                start: 0,
                end: 10,
            },
            Label {
                file: "f".into(),
                entity: Entity::Card,
                start: 20,
                end: 30,
            },
        ];
        let predictions = vec![
            Prediction {
                file: "f".into(),
                entity: Entity::Card,
                start: 2,
                end: 8,
            },
            Prediction {
                file: "f".into(),
                entity: Entity::Card,
                start: 40,
                end: 50,
            },
            Prediction {
                file: "g".into(),
                entity: Entity::Card,
                start: 0,
                end: 10,
            },
        ];
        let s = score(&labels, &predictions)[&Entity::Card];
        assert_eq!(
            s,
            Score {
                labels: 2,
                found: 1,
                predictions: 3,
                correct: 1
            }
        );
    }
}
