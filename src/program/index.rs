//! Per-field indexes: from a value the user has to the predicates it makes
//! true, without looking at predicates it cannot satisfy.

use super::{PredSet, Scratch};
use crate::error::ErrorKind;
use crate::ir::PredId;
use crate::matcher::{Field, Matcher, double_equals, fold_case};
use crate::pattern::{Pattern, Shape};
use crate::user::{DnValue, Meta};
use aho_corasick::{AhoCorasick, MatchKind};
use rustc_hash::FxHashMap;
use smallvec::SmallVec;

type PredList = SmallVec<[PredId; 1]>;
type Table = FxHashMap<Box<str>, PredList>;

fn add(table: &mut Table, key: &str, p: PredId) {
    table.entry(key.into()).or_default().push(p);
}

fn set_all(truth: &mut PredSet, preds: Option<&PredList>) {
    for &p in preds.into_iter().flatten() {
        truth.insert(p);
    }
}

/// Beyond 2^53 several 64-bit integers convert to one double.
const EXACT_DOUBLE: f64 = 9_007_199_254_740_992.0;

/// The indexes of one model field.
#[derive(Debug)]
pub(super) struct FieldIndex {
    pub(super) field: Field,
    /// Generic fields: literal strings, exact. DN fields: literals by their
    /// case-folded text (spec §3.4 literal step 1).
    pub(super) exact: Table,
    /// DN fields: literals that are DNs, by normalized form (step 3).
    pub(super) normalized: Table,
    /// DN fields: literals that are not DNs, by case-folded text, looked up
    /// with the user's folded normalized DN (step 4).
    pub(super) normalized_folded: Table,
    /// DN fields: `*,T` patterns by normalized `T` (step 5), and those whose
    /// `T` normalizes to the empty DN (any non-empty DN is below it).
    pub(super) subtree: Table,
    pub(super) subtree_any: PredList,
    pub(super) ints: FxHashMap<i64, PredList>,
    pub(super) bools: [PredList; 2],
    pub(super) patterns: PatternIndex,
    /// Whether any table looks at a value's normalized DN, which only then
    /// is worth computing (set by `finish`).
    reads_normalized_dn: bool,
}

/// Wildcards and regexes of one field.
#[derive(Debug, Default)]
pub(super) struct PatternIndex {
    /// Patterns that match every string.
    pub(super) any: PredList,
    /// `lit*` by the byte length of `lit`, then by `lit`.
    pub(super) prefix: Vec<(usize, Table)>,
    /// `*lit` likewise.
    pub(super) suffix: Vec<(usize, Table)>,
    /// Everything else, verified with its automaton.
    pub(super) general: Vec<(PredId, Pattern)>,
    /// A multi-literal search over a literal each general pattern requires;
    /// only patterns whose literal occurs are verified.
    prefilter: Option<AhoCorasick>,
    /// By prefilter literal: the general patterns that require it.
    owners: Vec<SmallVec<[u32; 1]>>,
    /// General patterns with no required literal: always verified.
    pub(super) unfiltered: Vec<u32>,
}

impl FieldIndex {
    pub(super) fn new(field: Field) -> Self {
        Self {
            field,
            exact: Table::default(),
            normalized: Table::default(),
            normalized_folded: Table::default(),
            subtree: Table::default(),
            subtree_any: PredList::new(),
            ints: FxHashMap::default(),
            bools: Default::default(),
            patterns: PatternIndex::default(),
            reads_normalized_dn: false,
        }
    }

    /// Indexes one non-null predicate of this field.
    pub(super) fn add(&mut self, p: PredId, matcher: &Matcher) {
        let dn_aware = self.field.is_dn_aware();
        match matcher {
            Matcher::Null => {}
            Matcher::Bool(b) => self.bools[usize::from(*b)].push(p),
            Matcher::Int(i) => self.ints.entry(*i).or_default().push(p),
            Matcher::Literal { text, normalized } if dn_aware => {
                let mut folded = String::new();
                fold_case(text, &mut folded);
                add(&mut self.exact, &folded, p);
                match normalized {
                    Some(n) => add(&mut self.normalized, n, p),
                    None => add(&mut self.normalized_folded, &folded, p),
                }
            }
            Matcher::Literal { text, .. } => add(&mut self.exact, text, p),
            Matcher::Pattern(pm) => {
                if let Some(Some(base)) = &pm.subtree {
                    if base.is_empty() {
                        self.subtree_any.push(p);
                    } else {
                        add(&mut self.subtree, base, p);
                    }
                }
                self.patterns.add(p, &pm.pattern);
            }
        }
    }

    pub(super) fn finish(&mut self) -> Result<(), ErrorKind> {
        self.reads_normalized_dn = !(self.normalized.is_empty()
            && self.normalized_folded.is_empty()
            && self.subtree.is_empty()
            && self.subtree_any.is_empty()
            && self.patterns.is_empty());
        self.patterns.finish()
    }

    /// A string value of a generic field (`username`, `realm.name`, metadata).
    pub(super) fn match_str(&self, s: &str, scratch: &mut Scratch) {
        set_all(&mut scratch.truth, self.exact.get(s));
        self.patterns.match_str(s, &mut scratch.truth);
    }

    /// A metadata value (spec §2.3). `null` is handled by the null checks.
    pub(super) fn match_meta(&self, value: &Meta, scratch: &mut Scratch) {
        match value {
            Meta::Null | Meta::Big(_) => {}
            Meta::Bool(b) => set_all(&mut scratch.truth, Some(&self.bools[usize::from(*b)])),
            Meta::Int(i) => set_all(&mut scratch.truth, self.ints.get(i)),
            Meta::Float(f) => {
                if f.fract() != 0.0 || f.is_nan() {
                    // A rule number is an integer: a fraction or NaN never equals it.
                } else if f.abs() < EXACT_DOUBLE {
                    if *f != 0.0 || f.is_sign_positive() {
                        set_all(&mut scratch.truth, self.ints.get(&(*f as i64)));
                    }
                } else {
                    for (i, preds) in &self.ints {
                        if double_equals(*f, *i) {
                            set_all(&mut scratch.truth, Some(preds));
                        }
                    }
                }
            }
            Meta::Str(s) => self.match_str(s, scratch),
            Meta::List(items) => {
                for item in items {
                    self.match_meta(item, scratch);
                }
            }
        }
    }

    /// One `dn` or group value, with the DN-aware predicate (spec §3.4).
    pub(super) fn match_dn(&self, value: &DnValue, scratch: &mut Scratch) {
        let Scratch { truth, buffers, .. } = scratch;
        let [folded, lower, upper] = buffers;
        let raw = value.raw;
        let normalized = if self.reads_normalized_dn { value.normalized() } else { None };
        // Literals: equal ignoring case, or equal normalized DNs.
        if !self.exact.is_empty() {
            // Most group names are lower-case ASCII already: their folded
            // form is themselves.
            let key = if raw.bytes().all(|b| b.is_ascii() && !b.is_ascii_uppercase()) {
                raw
            } else {
                fold_case(raw, folded);
                folded.as_str()
            };
            set_all(truth, self.exact.get(key));
        }
        if let Some(n) = normalized {
            set_all(truth, self.normalized.get(n));
            if !self.normalized_folded.is_empty() {
                fold_case(n, folded);
                set_all(truth, self.normalized_folded.get(folded.as_str()));
            }
        }
        // Patterns: on the value, its normalized DN, its lower and upper case.
        if !self.patterns.is_empty() {
            self.patterns.match_str(raw, truth);
            if let Some(n) = normalized {
                self.patterns.match_str(n, truth);
            }
            // Java's `toLowerCase(Locale.ROOT)` / `toUpperCase`: full case
            // mappings, which `str::to_lowercase` also applies.
            if raw.is_ascii() {
                lower.clear();
                lower.push_str(raw);
                lower.make_ascii_lowercase();
                upper.clear();
                upper.push_str(raw);
                upper.make_ascii_uppercase();
            } else {
                *lower = raw.to_lowercase();
                *upper = raw.to_uppercase();
            }
            self.patterns.match_str(lower, truth);
            self.patterns.match_str(upper, truth);
        }
        // Strict subtree patterns, by every suffix of the normalized DN that
        // follows a comma (a string test, as Elasticsearch's).
        if let Some(n) = normalized {
            if !self.subtree.is_empty() {
                for (i, _) in n.match_indices(',') {
                    set_all(truth, self.subtree.get(&n[i + 1..]));
                }
            }
            if !n.is_empty() {
                set_all(truth, Some(&self.subtree_any));
            }
        }
    }

    /// About how many bytes the indexes occupy (see `Program::memory_bytes`).
    pub(super) fn memory_bytes(&self) -> usize {
        use std::mem::size_of;
        let entry = size_of::<(Box<str>, PredList)>() + 1;
        let table = |t: &Table| t.capacity() * entry + t.keys().map(|k| k.len()).sum::<usize>();
        let mut bytes = table(&self.exact) + table(&self.normalized) + table(&self.normalized_folded);
        bytes += table(&self.subtree) + self.ints.capacity() * (size_of::<(i64, PredList)>() + 1);
        let p = &self.patterns;
        bytes += p.prefix.iter().chain(&p.suffix).map(|(_, t)| table(t)).sum::<usize>();
        bytes += p
            .general
            .iter()
            .map(|(_, pattern)| size_of::<(PredId, Pattern)>() + 4 * pattern.source().len())
            .sum::<usize>();
        bytes += p.prefilter.as_ref().map_or(0, AhoCorasick::memory_usage);
        bytes + std::mem::size_of_val(p.unfiltered.as_slice())
    }

    /// Counts for the listing: (exact, normalized, subtree, prefix, suffix, general, prefiltered).
    pub(super) fn summary(&self) -> String {
        let mut parts = Vec::new();
        let mut part = |name: &str, n: usize| {
            if n > 0 {
                parts.push(format!("{name} {n}"));
            }
        };
        let dn = self.field.is_dn_aware();
        part(if dn { "literal (case-folded)" } else { "exact" }, self.exact.len());
        part("normalized dn", self.normalized.len());
        part("non-dn literal (vs normalized dn)", self.normalized_folded.len());
        part("subtree", self.subtree.len() + usize::from(!self.subtree_any.is_empty()));
        part("integer", self.ints.len());
        part("boolean", self.bools.iter().filter(|b| !b.is_empty()).count());
        part("match-all pattern", self.patterns.any.len());
        part("prefix", self.patterns.prefix.iter().map(|(_, t)| t.len()).sum());
        part("suffix", self.patterns.suffix.iter().map(|(_, t)| t.len()).sum());
        part("prefiltered pattern", self.patterns.general.len() - self.patterns.unfiltered.len());
        part("always-verified pattern", self.patterns.unfiltered.len());
        if parts.is_empty() { "null tests only".into() } else { parts.join(", ") }
    }
}

impl PatternIndex {
    fn is_empty(&self) -> bool {
        self.any.is_empty() && self.prefix.is_empty() && self.suffix.is_empty() && self.general.is_empty()
    }

    fn add(&mut self, p: PredId, pattern: &Pattern) {
        match pattern.shape() {
            Shape::Any => self.any.push(p),
            Shape::Prefix(lit) => add_by_length(&mut self.prefix, lit, p),
            Shape::Suffix(lit) => add_by_length(&mut self.suffix, lit, p),
            Shape::Other { .. } => self.general.push((p, pattern.clone())),
        }
    }

    fn finish(&mut self) -> Result<(), ErrorKind> {
        let mut literals: Vec<&str> = Vec::new();
        let mut literal_ids: FxHashMap<&str, usize> = FxHashMap::default();
        let mut owners: Vec<SmallVec<[u32; 1]>> = Vec::new();
        for (i, (_, pattern)) in self.general.iter().enumerate() {
            match pattern.shape() {
                Shape::Other { required: Some(lit) } if !lit.is_empty() => {
                    let next = literals.len();
                    let id = *literal_ids.entry(lit).or_insert(next);
                    if id == next {
                        literals.push(lit);
                        owners.push(SmallVec::new());
                    }
                    owners[id].push(i as u32);
                }
                _ => self.unfiltered.push(i as u32),
            }
        }
        if !literals.is_empty() {
            let ac = AhoCorasick::builder()
                .match_kind(MatchKind::Standard)
                .build(&literals)
                .map_err(|_| ErrorKind::ProgramTooLarge("the size limit of a literal prefilter"))?;
            self.prefilter = Some(ac);
            self.owners = owners;
        }
        Ok(())
    }

    fn match_str(&self, s: &str, truth: &mut PredSet) {
        set_all(truth, Some(&self.any));
        for (len, table) in &self.prefix {
            if let Some(head) = s.get(..*len) {
                set_all(truth, table.get(head));
            }
        }
        for (len, table) in &self.suffix {
            if let Some(tail) = s.len().checked_sub(*len).and_then(|start| s.get(start..)) {
                set_all(truth, table.get(tail));
            }
        }
        for &i in &self.unfiltered {
            self.verify(i, s, truth);
        }
        if let Some(ac) = &self.prefilter {
            for m in ac.find_overlapping_iter(s) {
                for &i in &self.owners[m.pattern().as_usize()] {
                    self.verify(i, s, truth);
                }
            }
        }
    }

    fn verify(&self, i: u32, s: &str, truth: &mut PredSet) {
        if let Some((p, pattern)) = self.general.get(i as usize)
            && !truth.contains(*p)
            && pattern.is_match(s)
        {
            truth.insert(*p);
        }
    }
}

fn add_by_length(tables: &mut Vec<(usize, Table)>, lit: &str, p: PredId) {
    match tables.iter_mut().find(|(len, _)| *len == lit.len()) {
        Some((_, table)) => add(table, lit, p),
        None => {
            let mut table = Table::default();
            add(&mut table, lit, p);
            tables.push((lit.len(), table));
        }
    }
}
