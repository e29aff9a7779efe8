//! The compiled detector: one pass of one multi-pattern automaton (`regex-automata`) that
//! holds both the rules that always run and every rule keyword (the keyword prefilter), then
//! validators, entropy, allowlists and context scoring.
//!
//! Rules without keywords run everywhere. Rules with keywords only run in a window around a
//! keyword hit (the keyword's line, ±256/512 bytes, or `window` bytes further for multi-line
//! values such as private keys), which keeps dozens of secret formats cheap on text that
//! mentions none of them. Keywords live in the same automaton as the always-on rules because
//! a DFA pass is bound by one dependent table load per byte: a separate keyword pass (we
//! measured Aho-Corasick over the built-in keywords) costs as much as the main pass and halved
//! throughput. Aho-Corasick still finds context words around candidates.

use std::collections::BTreeMap;
use std::sync::Arc;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind as AcMatchKind};
use regex_automata::hybrid::dfa::Config as LazyConfig;
use regex_automata::hybrid::regex::Builder as LazyBuilder;
use regex_automata::util::pool::Pool;
use regex_automata::util::primitives::NonMaxUsize;
use regex_automata::{meta, Anchored, Input, MatchKind, PatternSet};

mod allowlist;
mod combined;
mod overlaps;
mod pattern_syntax;

use allowlist::Allowlist;
use combined::{CachePool, Combined};
use overlaps::resolve_overlaps;
pub use overlaps::RawFinding;
pub(crate) use pattern_syntax::capture_groups;
use pattern_syntax::{compile_one, regex_syntax_escape, spellings, syntax_config};

use crate::error::{Error, Result};
use crate::rules::{Rule, RuleSet};
use crate::validate::entropy;
use crate::Entity;

/// How far around a keyword hit a keyword-gated rule looks, within the keyword's line.
const WINDOW_BEFORE: usize = 128;
const WINDOW_AFTER: usize = 256;
/// How far a window may grow past its end to reach the end of a token.
const MAX_MATCH_PAST_WINDOW: usize = 16 << 10;
/// How far before a match context words are looked for.
const CONTEXT_BEFORE: usize = 48;
/// How many shorter matches a failed checked number is tried as (a card has at most five
/// groups, an IBAN nine).
const MAX_SHORTER_TRIES: usize = 10;
/// The lazy DFA's cache per thread; the combined automaton has many states.
const DFA_CACHE_BYTES: usize = 16 << 20;

#[derive(Debug, Clone, Copy)]
enum Pattern {
    /// an always-on rule, by index into `rules`
    Rule(usize),
    /// a keyword, by index into `keyword_rules`
    Keyword(usize),
}

/// A rule ready to run.
pub struct CompiledRule {
    /// the rule as written
    pub spec: Rule,
    regex: meta::Regex,
    allow: Allowlist,
    /// no value of this rule starts right after a digit (see [`refuses_after_digit`])
    refuses_after_digit: bool,
}

/// Whether `rule` never reports a value that starts right after a digit: its value is its
/// whole match and its validator refuses a value that touches a digit, as part of a longer
/// number (`is_fragment` in the validators; a test below holds the two together).
fn refuses_after_digit(rule: &Rule) -> bool {
    use crate::validate::Validator;
    rule.group == 0
        && matches!(
            rule.validator,
            Validator::Card | Validator::Ssn | Validator::Itin
        )
}

/// Buffers one scan reuses from candidate to candidate.
struct Scratch {
    /// which patterns of the all-matches automaton match at one place
    matching: PatternSet,
    /// the capture slots of one rule's search
    slots: Vec<Option<NonMaxUsize>>,
}

/// Every rule of a [`RuleSet`], compiled. Cheap to share between threads.
pub struct Detector {
    rules: Vec<CompiledRule>,
    combined: Option<Combined>,
    /// when no rule runs everywhere: the keyword prefilter on its own, by Aho-Corasick
    keyword_only: Option<AhoCorasick>,
    /// the same patterns with every match reported: which ones match at a given start
    at: Option<meta::Regex>,
    /// byte length of each keyword
    keyword_len: Vec<usize>,
    /// what each pattern of `combined` is
    patterns: Vec<Pattern>,
    /// rules gated by each keyword
    keyword_rules: Vec<Vec<usize>>,
    context_words: Option<AhoCorasick>,
    /// rules each context word raises
    context_rules: Vec<Vec<usize>>,
    allow: Allowlist,
}

impl Detector {
    fn score(&self, rule: usize, hay: &[u8], match_start: usize) -> f32 {
        let base = self.rules[rule].spec.confidence.base_score();
        let Some(words) = &self.context_words else {
            return base;
        };
        if self.rules[rule].spec.context.is_empty() {
            return base;
        }
        let before = &hay[match_start.saturating_sub(CONTEXT_BEFORE)..match_start];
        let has_context = words
            .find_overlapping_iter(before)
            .any(|m| self.context_rules[m.pattern().as_usize()].contains(&rule));
        if has_context {
            (base + 0.25).min(1.0)
        } else {
            base
        }
    }
}

impl Detector {
    /// Compiles every enabled rule; a rule that does not compile is an error naming it.
    pub fn new(set: &RuleSet) -> Result<Detector> {
        Self::build(set, false)
    }

    /// `force_automaton` keeps keywords in the regex automaton even when no rule runs
    /// everywhere (tests compare both paths).
    pub(crate) fn build(set: &RuleSet, force_automaton: bool) -> Result<Detector> {
        set.check_scope()?;
        let mut rules = Vec::new();
        for spec in set.rules.iter().filter(|r| set.runs(r)) {
            let regex = compile_one(&spec.regex).map_err(|message| Error::Rule {
                id: spec.id.clone(),
                message,
            })?;
            let groups = regex
                .group_info()
                .group_len(regex_automata::PatternID::ZERO);
            if spec.group >= groups {
                return Err(Error::Rule {
                    id: spec.id.clone(),
                    message: format!(
                        "group {} does not exist; the regex has {} capture group(s)",
                        spec.group,
                        groups - 1
                    ),
                });
            }
            if spec.keywords.iter().any(String::is_empty) {
                return Err(Error::Rule {
                    id: spec.id.clone(),
                    message: "keywords must not be empty strings".into(),
                });
            }
            rules.push(CompiledRule {
                allow: Allowlist::compile(&spec.allowlist, &spec.id)?,
                refuses_after_digit: refuses_after_digit(spec),
                spec: spec.clone(),
                regex,
            });
        }

        let mut keyword_index: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for (i, rule) in rules.iter().enumerate() {
            let words: Vec<String> = rule
                .spec
                .keywords
                .iter()
                .flat_map(|k| spellings(k))
                .collect();
            // A keyword that starts with another of the same rule adds nothing but states to
            // the automaton: the shorter one opens the same window.
            for keyword in words
                .iter()
                .filter(|w| !words.iter().any(|v| v != *w && w.starts_with(v.as_str())))
            {
                let entry = keyword_index.entry(keyword.clone()).or_default();
                if !entry.contains(&i) {
                    entry.push(i);
                }
            }
        }
        // Longer keywords first, so where two start at one place the more specific one wins.
        let mut keywords: Vec<(String, Vec<usize>)> = keyword_index.into_iter().collect();
        // The automaton reports one keyword where several start or overlap (`license` hides
        // `licen`, `callback` hides `call`): a hit of a keyword stands for every keyword
        // inside it too.
        let inner: Vec<Vec<usize>> = keywords
            .iter()
            .map(|(outer, _)| {
                keywords
                    .iter()
                    .filter(|(word, _)| word != outer && outer.contains(word.as_str()))
                    .flat_map(|(_, rules)| rules.iter().copied())
                    .collect()
            })
            .collect();
        for ((_, rules), more) in keywords.iter_mut().zip(inner) {
            for rule in more {
                if !rules.contains(&rule) {
                    rules.push(rule);
                }
            }
        }
        keywords.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.0.cmp(&b.0)));

        let mut sources: Vec<String> = Vec::new();
        let mut patterns = Vec::new();
        for (i, rule) in rules
            .iter()
            .enumerate()
            .filter(|(_, r)| r.spec.keywords.is_empty())
        {
            sources.push(rule.spec.regex.clone());
            patterns.push(Pattern::Rule(i));
        }
        for (k, (word, _)) in keywords.iter().enumerate() {
            sources.push(format!("(?i:{})", regex_syntax_escape(word)));
            patterns.push(Pattern::Keyword(k));
        }
        let build = |kind: MatchKind| {
            meta::Builder::new()
                .syntax(syntax_config())
                .configure(
                    meta::Config::new()
                        .match_kind(kind)
                        .utf8_empty(false)
                        .hybrid_cache_capacity(DFA_CACHE_BYTES),
                )
                .build_many(&sources)
                .map_err(|e| Error::Rule {
                    id: "(combined automaton)".into(),
                    message: e.to_string(),
                })
        };
        let always_on = patterns.iter().any(|p| matches!(p, Pattern::Rule(_)));
        // With no always-on rule (a gitleaks-only or secrets-only set) there is no automaton
        // pass to share: the keywords are found by Aho-Corasick, whose prefilters skip text
        // that holds none of them.
        let keyword_only = if !always_on && !keywords.is_empty() && !force_automaton {
            let words: Vec<&String> = keywords.iter().map(|(w, _)| w).collect();
            Some(
                AhoCorasickBuilder::new()
                    .ascii_case_insensitive(true)
                    .match_kind(AcMatchKind::Standard)
                    .build(&words)
                    .map_err(|e| Error::Rule {
                        id: "(keywords)".into(),
                        message: e.to_string(),
                    })?,
            )
        } else {
            None
        };
        let (combined, at) = if sources.is_empty() || keyword_only.is_some() {
            (None, None)
        } else {
            let lazy = LazyBuilder::new()
                .syntax(syntax_config())
                .dfa(
                    LazyConfig::new()
                        .match_kind(MatchKind::LeftmostFirst)
                        .cache_capacity(DFA_CACHE_BYTES),
                )
                .build_many(&sources)
                .map_err(|e| Error::Rule {
                    id: "(combined automaton)".into(),
                    message: e.to_string(),
                })?;
            let lazy = Arc::new(lazy);
            let for_caches = Arc::clone(&lazy);
            let caches: CachePool = Pool::new(Box::new(move || for_caches.create_cache()));
            (
                Some(Combined {
                    lazy,
                    caches,
                    fallback: build(MatchKind::LeftmostFirst)?,
                }),
                Some(build(MatchKind::All)?),
            )
        };

        let mut context_index: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for (i, rule) in rules.iter().enumerate() {
            for word in &rule.spec.context {
                context_index
                    .entry(word.to_ascii_lowercase())
                    .or_default()
                    .push(i);
            }
        }
        let (context_words, context_rules) = if context_index.is_empty() {
            (None, Vec::new())
        } else {
            let words: Vec<&String> = context_index.keys().collect();
            let ac = AhoCorasickBuilder::new()
                .ascii_case_insensitive(true)
                .match_kind(AcMatchKind::Standard)
                .build(&words)
                .map_err(|e| Error::Rule {
                    id: "(context words)".into(),
                    message: e.to_string(),
                })?;
            (Some(ac), context_index.into_values().collect())
        };

        Ok(Detector {
            allow: Allowlist::compile(&set.allowlist, "(global allowlist)")?,
            rules,
            combined,
            keyword_only,
            at,
            keyword_len: keywords.iter().map(|(w, _)| w.len()).collect(),
            patterns,
            keyword_rules: keywords.into_iter().map(|(_, rules)| rules).collect(),
            context_words,
            context_rules,
        })
    }

    /// Evident's built-in rules, compiled.
    pub fn builtin() -> Result<Detector> {
        Detector::new(&RuleSet::builtin()?)
    }

    /// The compiled rules; [`RawFinding::rule`] indexes this.
    pub fn rules(&self) -> &[CompiledRule] {
        &self.rules
    }

    /// The entity a rule finds.
    pub fn entity(&self, rule: usize) -> Entity {
        self.rules[rule].spec.entity
    }

    /// Whether the global allowlist skips this whole file.
    pub fn path_ignored(&self, path: &str) -> bool {
        self.allow.allows_path(path)
    }

    /// Drops findings whose rule allowlists `path`.
    pub fn filter_path(&self, path: &str, findings: &mut Vec<RawFinding>) {
        findings.retain(|f| !self.rules[f.rule].allow.allows_path(path));
    }

    /// Every finding in `hay`, sorted by start, with no two overlapping (where two would,
    /// one that holds the other wins, else the earlier rule in the set).
    pub fn find(&self, hay: &[u8]) -> Vec<RawFinding> {
        self.find_among(hay, None)
    }

    /// [`Detector::find`] over the findings of these entities only (all with `None`).
    ///
    /// Overlaps are settled among the wanted entities alone: a redactor that masks cards
    /// but not emails must still mask the card in `4111111111111111@example.com`, which the
    /// email would win over everything.
    pub fn find_among(&self, hay: &[u8], entities: Option<&[Entity]>) -> Vec<RawFinding> {
        let mut found = Vec::new();
        let mut hits = Vec::new();
        let mut scratch = Scratch {
            matching: PatternSet::new(self.patterns.len()),
            slots: Vec::new(),
        };
        match &self.keyword_only {
            Some(ac) => hits.extend(
                ac.find_overlapping_iter(hay)
                    .map(|m| (m.pattern().as_usize(), m.start(), m.end())),
            ),
            None => self.find_combined(hay, &mut found, &mut hits, &mut scratch),
        }
        self.find_keyword_gated(hay, &hits, &mut found, &mut scratch);
        if let Some(entities) = entities {
            found.retain(|f| entities.contains(&self.rules[f.rule].spec.entity));
        }
        resolve_overlaps(found, |rule| self.rules[rule].spec.entity)
    }

    /// The one pass: always-on rules are confirmed as they match, keyword hits are collected.
    fn find_combined(
        &self,
        hay: &[u8],
        found: &mut Vec<RawFinding>,
        hits: &mut Vec<(usize, usize, usize)>,
        scratch: &mut Scratch,
    ) {
        let Some(combined) = &self.combined else {
            return;
        };
        let keyword_len = |pattern: usize| match self.patterns[pattern] {
            Pattern::Keyword(k) => Some(self.keyword_len[k]),
            Pattern::Rule(_) => None,
        };
        let mut pos = 0;
        while pos < hay.len() {
            let Some(m) = combined.search(hay, pos, keyword_len) else {
                break;
            };
            let first = m.pattern().as_usize();
            let rule = match self.patterns[first] {
                Pattern::Keyword(k) => {
                    hits.push((k, m.start(), m.end()));
                    // Keywords overlap (`call` in `medicalLicense` hides `licen`), and so
                    // may a rule's match: go on from the next byte, not past the keyword.
                    pos = m.start() + 1;
                    continue;
                }
                Pattern::Rule(rule) => rule,
            };
            let mut next = self.confirm_or_shorter(rule, hay, m.start(), m.end(), scratch);
            if next.is_none() {
                // A candidate that fails its checks may still be a valid match of a later rule
                // starting at the same place (an ITIN shaped like an SSN), or a keyword: one
                // anchored pass says which patterns match there at all.
                next = self.retry_at(hay, m.start(), first, hits, scratch);
            }
            pos = match next {
                Some((f, end)) => {
                    found.push(f);
                    self.resume_after(hay, &f, end).max(m.start() + 1)
                }
                None if self.rules[rule].refuses_after_digit => {
                    self.skip_inside_number(hay, m.start() + 1, first, scratch)
                }
                None => m.start() + 1,
            };
        }
    }

    /// Where the pass goes on after a candidate of a rule that refuses values inside a
    /// longer number failed, and nothing else matched at its start. In a long digit run
    /// (an order id, a timestamp) the rule matches again one digit later, and fails again:
    /// a run of 16 digits made five candidates, each a search, a check and a retry. Places
    /// in the run where that rule alone matches are passed over with one anchored pass each;
    /// the first place where another pattern (or a keyword) matches, or none does, or the
    /// run ends, is where the search goes on, as it would have.
    fn skip_inside_number(
        &self,
        hay: &[u8],
        mut pos: usize,
        failed: usize,
        scratch: &mut Scratch,
    ) -> usize {
        let Some(at) = &self.at else {
            return pos;
        };
        while pos < hay.len() && hay[pos - 1].is_ascii_digit() {
            scratch.matching.clear();
            let anchored = Input::new(hay).span(pos..hay.len()).anchored(Anchored::Yes);
            at.which_overlapping_matches(&anchored, &mut scratch.matching);
            let only_the_failed = scratch.matching.len() == 1
                && scratch
                    .matching
                    .contains(regex_automata::PatternID::new_unchecked(failed));
            if !only_the_failed {
                break;
            }
            pos += 1;
        }
        pos
    }

    /// Where the pass goes on after a finding that ends its match at `end`. After a checked
    /// number written in groups, another may start inside it: in `444 02 6011 5890 7451
    /// 6895 5` the SSN-shaped `444 02 6011` comes first, and the card behind it must still
    /// be a candidate (overlaps are settled afterwards, so both reach the redactor's choice).
    fn resume_after(&self, hay: &[u8], finding: &RawFinding, end: usize) -> usize {
        // Only numbers written in digit groups (cards, SSNs, phones) hide another inside
        // them; resuming inside an IBAN would let a card straddle its tail and what follows.
        use crate::validate::Validator;
        let grouped_digits = matches!(
            self.rules[finding.rule].spec.validator,
            Validator::Card
                | Validator::Luhn
                | Validator::Ssn
                | Validator::Itin
                | Validator::Nanp
                | Validator::E164
                | Validator::IntlPhone
                | Validator::NationalPhone
        );
        if !grouped_digits {
            return end;
        }
        (finding.start + 1..finding.end)
            .find(|&i| !hay[i - 1].is_ascii_alphanumeric() && hay[i].is_ascii_alphanumeric())
            .unwrap_or(end)
    }

    fn retry_at(
        &self,
        hay: &[u8],
        start: usize,
        failed: usize,
        hits: &mut Vec<(usize, usize, usize)>,
        scratch: &mut Scratch,
    ) -> Option<(RawFinding, usize)> {
        let at = self.at.as_ref()?;
        let anchored = Input::new(hay)
            .span(start..hay.len())
            .anchored(Anchored::Yes);
        scratch.matching.clear();
        at.which_overlapping_matches(&anchored, &mut scratch.matching);
        if scratch.matching.len() <= 1 {
            return None;
        }
        let matching: Vec<usize> = scratch
            .matching
            .iter()
            .map(|p| p.as_usize())
            .filter(|&p| p > failed)
            .collect();
        for pattern in matching {
            match self.patterns[pattern] {
                Pattern::Rule(rule) => {
                    if let Some(m) = self.rules[rule].regex.search(&anchored) {
                        if let Some(found) =
                            self.confirm_or_shorter(rule, hay, m.start(), m.end(), scratch)
                        {
                            return Some(found);
                        }
                    }
                }
                Pattern::Keyword(k) => hits.push((k, start, start + self.keyword_len[k])),
            }
        }
        None
    }

    fn find_keyword_gated(
        &self,
        hay: &[u8],
        hits: &[(usize, usize, usize)],
        found: &mut Vec<RawFinding>,
        scratch: &mut Scratch,
    ) {
        if hits.is_empty() {
            return;
        }
        // One open window per rule, merged while hits overlap it.
        let mut open: Vec<Option<(usize, usize)>> = vec![None; self.rules.len()];
        let mut windows: Vec<(usize, usize, usize)> = Vec::new();
        for &(keyword, hit_start, hit_end) in hits {
            for &rule in &self.keyword_rules[keyword] {
                let before = self.rules[rule].spec.reach_before.unwrap_or(WINDOW_BEFORE);
                let lo_limit = hit_start.saturating_sub(before);
                let lo = memchr::memrchr(b'\n', &hay[lo_limit..hit_start])
                    .map_or(lo_limit, |i| lo_limit + i + 1);
                let extra = self.rules[rule].spec.window;
                let hi = if extra > 0 {
                    (hit_end + extra).min(hay.len())
                } else {
                    let after = self.rules[rule].spec.reach_after.unwrap_or(WINDOW_AFTER);
                    let hi_limit = (hit_end + after).min(hay.len());
                    memchr::memchr(b'\n', &hay[hit_end..hi_limit])
                        .map_or(hi_limit, |i| hit_end + i + 1)
                };
                // Never cut a token: a window ends at whitespace, so a long key is found (and
                // redacted) whole or not at all.
                let hi = if hi < hay.len() && !hay[hi - 1].is_ascii_whitespace() {
                    let limit = (hi + MAX_MATCH_PAST_WINDOW).min(hay.len());
                    hay[hi..limit]
                        .iter()
                        .position(u8::is_ascii_whitespace)
                        .map_or(limit, |i| hi + i + 1)
                } else {
                    hi
                };
                match &mut open[rule] {
                    Some((_, end)) if lo <= *end => *end = (*end).max(hi),
                    slot => {
                        if let Some((s, e)) = slot.take() {
                            windows.push((rule, s, e));
                        }
                        *slot = Some((lo, hi));
                    }
                }
            }
        }
        windows.extend(
            open.iter()
                .enumerate()
                .filter_map(|(rule, w)| w.map(|(s, e)| (rule, s, e))),
        );
        for (rule, lo, hi) in windows {
            let mut pos = lo;
            while pos < hi {
                let input = Input::new(hay).span(pos..hi);
                let Some(m) = self.rules[rule].regex.search(&input) else {
                    break;
                };
                pos = match self.confirm_or_shorter(rule, hay, m.start(), m.end(), scratch) {
                    Some((f, end)) => {
                        found.push(f);
                        end.max(m.start() + 1)
                    }
                    // Near a keyword, a failed candidate is a token that is not a secret; a
                    // match starting inside it would be a piece of the same token.
                    None => (m.start() + 1).max(m.end().saturating_sub(1)),
                };
            }
        }
    }

    /// [`Self::confirm`], and where a checked number fails, the shorter matches of the same
    /// rule from the same start that end where a token ends inside the candidate, longest
    /// first. Optional trailing groups let a candidate run on into what follows the value (an
    /// expiry date, a CVV, another number): `4539 1488 0343 6467 12/29` first matches as 18
    /// digits, which fail, while the 16 before them are a card.
    fn confirm_or_shorter(
        &self,
        rule: usize,
        hay: &[u8],
        start: usize,
        end: usize,
        scratch: &mut Scratch,
    ) -> Option<(RawFinding, usize)> {
        if let Some(found) = self.confirm(rule, hay, start, end, scratch) {
            return Some(found);
        }
        let compiled = &self.rules[rule];
        if !compiled.spec.validator.shorter_may_pass() {
            return None;
        }
        let mut limit = end;
        for _ in 0..MAX_SHORTER_TRIES {
            // The last token end before `limit`: an alphanumeric byte followed by one that is not.
            let token_end = (start + 1..limit)
                .rev()
                .find(|&i| hay[i - 1].is_ascii_alphanumeric() && !hay[i].is_ascii_alphanumeric())?;
            let input = Input::new(hay)
                .span(start..token_end)
                .anchored(Anchored::Yes);
            limit = match compiled.regex.search(&input) {
                Some(m) => {
                    if let Some(found) = self.confirm(rule, hay, m.start(), m.end(), scratch) {
                        return Some(found);
                    }
                    m.end().min(token_end)
                }
                None => token_end,
            };
        }
        None
    }

    /// Applies every check to a match of `rule` at `start..end`; answers the finding and the
    /// end of the whole match.
    fn confirm(
        &self,
        rule: usize,
        hay: &[u8],
        start: usize,
        end: usize,
        scratch: &mut Scratch,
    ) -> Option<(RawFinding, usize)> {
        let compiled = &self.rules[rule];
        let spec = &compiled.spec;
        let value = if spec.group == 0 {
            (start, end)
        } else if !spec.validator.could_hold(&hay[start..end]) {
            // The value is part of the match: if the whole match cannot pass, skip the
            // capturing search (the costly part of rejecting, e.g., a UUID near "key").
            return None;
        } else {
            // Only rules that name a group pay for a capturing search, over the match alone.
            let slots = &mut scratch.slots;
            slots.clear();
            slots.resize(2 * (spec.group + 1), None);
            let input = Input::new(hay).span(start..end).anchored(Anchored::Yes);
            compiled.regex.search_slots(&input, slots)?;
            (
                slots[2 * spec.group]?.get(),
                slots[2 * spec.group + 1]?.get(),
            )
        };
        if value.0 == value.1 || !spec.validator.check(hay, value.0, value.1) {
            return None;
        }
        if let Some(min) = spec.entropy {
            if entropy(&hay[value.0..value.1]) < min {
                return None;
            }
        }
        if compiled.allow.allows(hay, value, (start, end))
            || self.allow.allows(hay, value, (start, end))
        {
            return None;
        }
        Some((
            RawFinding {
                rule,
                start: value.0,
                end: value.1,
                score: self.score(rule, hay, start),
            },
            end,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lazy_dfa_pass_finds_what_the_meta_regex_finds() {
        let detector = Detector::builtin().unwrap();
        let combined = detector.combined.as_ref().unwrap();
        let keyword_len = |pattern: usize| match detector.patterns[pattern] {
            Pattern::Keyword(k) => Some(detector.keyword_len[k]),
            Pattern::Rule(_) => None,
        };
        let mut text = Vec::new();
        for rule in &RuleSet::builtin().unwrap().rules {
            for sample in rule.samples.positive.iter().chain(&rule.samples.negative) {
                text.extend_from_slice(sample.as_bytes());
                text.extend_from_slice(b" | ");
                text.extend_from_slice(sample.to_ascii_uppercase().as_bytes());
                text.push(b'\n');
            }
        }
        let mut compared = 0;
        for pos in 0..text.len() {
            let ours = combined.search(&text, pos, keyword_len);
            let meta = combined
                .fallback
                .search(&Input::new(&text).span(pos..text.len()));
            assert_eq!(ours, meta, "from {pos}");
            compared += usize::from(ours.is_some());
        }
        assert!(compared > 1000, "{compared}");
    }

    #[test]
    fn the_detector_can_be_shared_between_threads_and_across_unwinding() {
        fn shareable<T: Send + Sync + std::panic::UnwindSafe + std::panic::RefUnwindSafe>(
            _: &T,
        ) -> bool {
            true
        }
        assert!(shareable(&Detector::builtin().unwrap()));
    }

    #[test]
    fn rules_said_to_refuse_values_after_a_digit_do() {
        let set = RuleSet::builtin().unwrap();
        let detector = Detector::new(&set).unwrap();
        let mut checked = 0;
        for (i, compiled) in detector.rules().iter().enumerate() {
            if !compiled.refuses_after_digit {
                continue;
            }
            for sample in &compiled.spec.samples.positive {
                let found = detector.find(sample.as_bytes());
                let Some(f) = found.iter().find(|f| f.rule == i) else {
                    continue;
                };
                let value = &sample.as_bytes()[f.start..f.end];
                let mut glued = b"7".to_vec();
                glued.extend_from_slice(value);
                assert!(
                    !compiled.spec.validator.check(&glued, 1, glued.len()),
                    "{}: {:?} after a digit passes",
                    compiled.spec.id,
                    String::from_utf8_lossy(&glued)
                );
                checked += 1;
            }
        }
        assert!(checked >= 3, "{checked}");
    }

    #[test]
    fn long_digit_runs_hide_no_value_and_keep_the_ones_after_them() {
        let detector = Detector::builtin().unwrap();
        let text = b"order 45185300704269571234 ssn 536-22-1234 card 4111111111111111\n";
        let found: Vec<&str> = detector
            .find(text)
            .iter()
            .map(|f| std::str::from_utf8(&text[f.start..f.end]).unwrap())
            .collect();
        assert_eq!(found, ["536-22-1234", "4111111111111111"]);
    }

    #[test]
    fn keyword_only_sets_find_the_same_by_either_engine() {
        let mut set = RuleSet::builtin().unwrap();
        set.rules.retain(|r| !r.keywords.is_empty());
        let by_ac = Detector::build(&set, false).unwrap();
        let by_dfa = Detector::build(&set, true).unwrap();
        assert!(by_ac.keyword_only.is_some() && by_dfa.keyword_only.is_none());
        let mut text = Vec::new();
        for rule in &set.rules {
            for sample in rule.samples.positive.iter().chain(&rule.samples.negative) {
                text.extend_from_slice(sample.as_bytes());
                text.extend_from_slice(b"\nfiller line with nothing in it\n");
            }
        }
        let a = by_ac.find(&text);
        assert!(a.len() > 30, "{}", a.len());
        assert_eq!(a, by_dfa.find(&text));
    }
}
