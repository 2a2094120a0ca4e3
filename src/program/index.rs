//! Per-field indexes: from a value the user has to the predicates it makes
//! true, without looking at predicates it cannot satisfy.

use super::table::{PredList, StrTable, TableBuilder};
use super::{PredSet, Scratch};
use crate::error::ErrorKind;
use crate::ir::PredId;
use crate::matcher::{Field, Matcher, double_equals, fold_case};
use crate::pattern::{Pattern, Shape};
use crate::user::Meta;
use aho_corasick::{AhoCorasick, MatchKind};
use rustc_hash::FxHashMap;
use smallvec::SmallVec;

#[inline]
fn set_all(truth: &mut PredSet, preds: &[PredId]) {
    for &p in preds {
        truth.insert(p);
    }
}

/// Whether `s` may differ from its case-folded form: it has an ASCII
/// upper-case letter or a non-ASCII byte. Most group names are lower-case
/// ASCII, so this runs on every group; it looks at eight bytes at a time.
#[inline]
fn needs_folding(s: &str) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let mut chunks = s.as_bytes().chunks_exact(8);
    for chunk in &mut chunks {
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(chunk);
        let w = u64::from_le_bytes(bytes);
        // For an ASCII byte `b`, `b + (0x80 - x)` sets the byte's high bit
        // exactly when `b >= x`, and cannot carry into the next byte; a
        // non-ASCII byte is caught by `| w` whatever the carries do.
        let at_least_a = w.wrapping_add(ONES * u64::from(0x80 - b'A'));
        let above_z = w.wrapping_add(ONES * u64::from(0x80 - b'Z' - 1));
        if ((at_least_a & !above_z) | w) & HIGH != 0 {
            return true;
        }
    }
    chunks.remainder().iter().any(|b| !b.is_ascii() || b.is_ascii_uppercase())
}

/// Beyond 2^53 several 64-bit integers convert to one double.
const EXACT_DOUBLE: f64 = 9_007_199_254_740_992.0;

/// The indexes of one model field.
#[derive(Debug)]
pub(super) struct FieldIndex {
    pub(super) field: Field,
    /// Generic fields: literal strings, exact. DN fields: literals by their
    /// case-folded text (spec §3.4 literal step 1).
    pub(super) exact: StrTable,
    /// DN fields: literals that are DNs, by normalized form (step 3).
    pub(super) normalized: StrTable,
    /// DN fields: literals that are not DNs, by case-folded text, looked up
    /// with the user's folded normalized DN (step 4).
    pub(super) normalized_folded: StrTable,
    /// DN fields: `*,T` patterns by normalized `T` (step 5), and those whose
    /// `T` normalizes to the empty DN (any non-empty DN is below it).
    pub(super) subtree: StrTable,
    pub(super) subtree_any: PredList,
    pub(super) ints: FxHashMap<i64, PredList>,
    pub(super) bools: [PredList; 2],
    pub(super) patterns: PatternIndex,
    /// Whether any table looks at a value's normalized DN, which only then
    /// is worth computing.
    pub(super) reads_normalized_dn: bool,
    /// Whether [`match_folded`](Self::match_folded) is all a DN value needs.
    pub(super) only_folded: bool,
}

/// A [`FieldIndex`] while predicates are added.
#[derive(Debug)]
pub(super) struct FieldBuilder {
    pub(super) field: Field,
    exact: TableBuilder,
    normalized: TableBuilder,
    normalized_folded: TableBuilder,
    subtree: TableBuilder,
    subtree_any: PredList,
    ints: FxHashMap<i64, PredList>,
    bools: [PredList; 2],
    patterns: PatternBuilder,
}

/// Wildcards and regexes of one field.
#[derive(Debug, Default)]
pub(super) struct PatternIndex {
    /// Patterns that match every string.
    pub(super) any: PredList,
    /// `lit*` by the byte length of `lit`, then by `lit`.
    pub(super) prefix: Vec<(usize, StrTable)>,
    /// `*lit` likewise.
    pub(super) suffix: Vec<(usize, StrTable)>,
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

#[derive(Debug, Default)]
struct PatternBuilder {
    any: PredList,
    prefix: Vec<(usize, TableBuilder)>,
    suffix: Vec<(usize, TableBuilder)>,
    general: Vec<(PredId, Pattern)>,
}

const TOO_LARGE: ErrorKind = ErrorKind::ProgramTooLarge("4 GiB of literal keys");

fn finish_table(b: TableBuilder) -> Result<StrTable, ErrorKind> {
    b.finish().ok_or(TOO_LARGE)
}

impl FieldBuilder {
    pub(super) fn new(field: Field) -> Self {
        Self {
            field,
            exact: TableBuilder::default(),
            normalized: TableBuilder::default(),
            normalized_folded: TableBuilder::default(),
            subtree: TableBuilder::default(),
            subtree_any: PredList::new(),
            ints: FxHashMap::default(),
            bools: Default::default(),
            patterns: PatternBuilder::default(),
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
                self.exact.add(&folded, p);
                match normalized {
                    Some(n) => self.normalized.add(n, p),
                    // A normalized DN other than the empty one has an `=`: a
                    // literal without one can only meet the user's DN in the
                    // `exact` table, and leaving it out here spares most users
                    // normalizing their groups.
                    None if folded.is_empty() || folded.contains('=') => self.normalized_folded.add(&folded, p),
                    None => {}
                }
            }
            Matcher::Literal { text, .. } => self.exact.add(text, p),
            Matcher::Pattern(pm) => {
                if let Some(Some(base)) = &pm.subtree {
                    if base.is_empty() {
                        self.subtree_any.push(p);
                    } else {
                        self.subtree.add(base, p);
                    }
                }
                self.patterns.add(p, &pm.pattern);
            }
        }
    }

    pub(super) fn finish(self) -> Result<FieldIndex, ErrorKind> {
        let patterns = self.patterns.finish()?;
        let reads_normalized_dn = !(self.normalized.is_empty()
            && self.normalized_folded.is_empty()
            && self.subtree.is_empty()
            && self.subtree_any.is_empty()
            && patterns.is_empty());
        Ok(FieldIndex {
            field: self.field,
            exact: finish_table(self.exact)?,
            normalized: finish_table(self.normalized)?,
            normalized_folded: finish_table(self.normalized_folded)?,
            subtree: finish_table(self.subtree)?,
            subtree_any: self.subtree_any,
            ints: self.ints,
            bools: self.bools,
            only_folded: !reads_normalized_dn && patterns.is_empty(),
            patterns,
            reads_normalized_dn,
        })
    }
}

impl FieldIndex {
    /// A string value of a generic field (`username`, `realm.name`, metadata).
    pub(super) fn match_str(&self, s: &str, scratch: &mut Scratch) {
        if !self.exact.is_empty() {
            set_all(&mut scratch.truth, self.exact.get(s));
        }
        self.patterns.match_str(s, &mut scratch.truth);
    }

    /// A metadata value (spec §2.3). `null` is handled by the null checks.
    pub(super) fn match_meta(&self, value: &Meta, scratch: &mut Scratch) {
        match value {
            Meta::Null | Meta::Big(_) => {}
            Meta::Bool(b) => set_all(&mut scratch.truth, &self.bools[usize::from(*b)]),
            Meta::Int(i) => set_all(&mut scratch.truth, self.ints.get(i).map_or(&[], |l| l.as_slice())),
            Meta::Float(f) => {
                if f.fract() != 0.0 || f.is_nan() {
                    // A rule number is an integer: a fraction or NaN never equals it.
                } else if f.abs() < EXACT_DOUBLE {
                    if *f != 0.0 || f.is_sign_positive() {
                        set_all(&mut scratch.truth, self.ints.get(&(*f as i64)).map_or(&[], |l| l.as_slice()));
                    }
                } else {
                    for (i, preds) in &self.ints {
                        if double_equals(*f, *i) {
                            set_all(&mut scratch.truth, preds);
                        }
                    }
                }
            }
            Meta::Str(s) => self.match_str(s, scratch),
            Meta::List(_) => {
                for item in value.items() {
                    self.match_meta(&item, scratch);
                }
            }
        }
    }

    /// The literals of a DN-aware field that equal `raw` ignoring case: all
    /// the work most group values need, kept small enough to inline.
    #[inline]
    pub(super) fn match_folded(&self, raw: &str, scratch: &mut Scratch) {
        if self.exact.is_empty() {
            return;
        }
        // Most group names are lower-case ASCII already: their folded form
        // is themselves.
        let key = if needs_folding(raw) {
            let folded = &mut scratch.buffers[0];
            fold_case(raw, folded);
            folded.as_str()
        } else {
            raw
        };
        set_all(&mut scratch.truth, self.exact.get(key));
    }

    /// One `dn` or group value, with the DN-aware predicate (spec §3.4).
    /// `normalized` is its normalized DN; the caller computes it only when
    /// [`reads_normalized_dn`](Self::reads_normalized_dn).
    pub(super) fn match_dn(&self, raw: &str, normalized: Option<&str>, scratch: &mut Scratch) {
        // Literals: equal ignoring case, or equal normalized DNs.
        self.match_folded(raw, scratch);
        if self.only_folded {
            return;
        }
        let Scratch { truth, buffers, .. } = scratch;
        let [folded, lower, upper] = buffers;
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
                set_all(truth, &self.subtree_any);
            }
        }
    }

    /// About how many bytes the indexes occupy (see `Program::memory_bytes`).
    pub(super) fn memory_bytes(&self) -> usize {
        use std::mem::size_of;
        let mut bytes = self.exact.memory_bytes() + self.normalized.memory_bytes();
        bytes += self.normalized_folded.memory_bytes() + self.subtree.memory_bytes();
        bytes += self.ints.capacity() * (size_of::<(i64, PredList)>() + 1);
        let p = &self.patterns;
        bytes += p.prefix.iter().chain(&p.suffix).map(|(_, t)| t.memory_bytes()).sum::<usize>();
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

impl PatternBuilder {
    fn add(&mut self, p: PredId, pattern: &Pattern) {
        match pattern.shape() {
            Shape::Any => self.any.push(p),
            Shape::Prefix(lit) => add_by_length(&mut self.prefix, lit, p),
            Shape::Suffix(lit) => add_by_length(&mut self.suffix, lit, p),
            Shape::Other { .. } => self.general.push((p, pattern.clone())),
        }
    }

    fn finish(self) -> Result<PatternIndex, ErrorKind> {
        let tables = |list: Vec<(usize, TableBuilder)>| -> Result<Vec<(usize, StrTable)>, ErrorKind> {
            list.into_iter().map(|(len, b)| Ok((len, finish_table(b)?))).collect()
        };
        let mut out = PatternIndex {
            any: self.any,
            prefix: tables(self.prefix)?,
            suffix: tables(self.suffix)?,
            general: self.general,
            ..PatternIndex::default()
        };
        let mut literals: Vec<&str> = Vec::new();
        let mut literal_ids: FxHashMap<&str, usize> = FxHashMap::default();
        let mut owners: Vec<SmallVec<[u32; 1]>> = Vec::new();
        for (i, (_, pattern)) in out.general.iter().enumerate() {
            match pattern.shape() {
                Shape::Other { required: Some(lit) } if !lit.is_empty() => {
                    let lit = prefilter_literal(lit);
                    let next = literals.len();
                    let id = *literal_ids.entry(lit).or_insert(next);
                    if id == next {
                        literals.push(lit);
                        owners.push(SmallVec::new());
                    }
                    owners[id].push(i as u32);
                }
                _ => out.unfiltered.push(i as u32),
            }
        }
        if !literals.is_empty() {
            let ac = AhoCorasick::builder()
                .match_kind(MatchKind::Standard)
                .build(&literals)
                .map_err(|_| ErrorKind::ProgramTooLarge("the size limit of a literal prefilter"))?;
            out.prefilter = Some(ac);
            out.owners = owners;
        }
        Ok(out)
    }
}

/// The longest prefilter literal, in bytes. Any piece of a required literal
/// is required too, and the automaton over long self-overlapping literals
/// (`/aaaa…/`) takes time quadratic in their length to build.
const MAX_PREFILTER_LITERAL: usize = 64;

/// `literal` cut to at most [`MAX_PREFILTER_LITERAL`] bytes on a character
/// boundary.
fn prefilter_literal(literal: &str) -> &str {
    let mut end = literal.len().min(MAX_PREFILTER_LITERAL);
    while !literal.is_char_boundary(end) {
        end -= 1;
    }
    &literal[..end]
}

impl PatternIndex {
    fn is_empty(&self) -> bool {
        self.any.is_empty() && self.prefix.is_empty() && self.suffix.is_empty() && self.general.is_empty()
    }

    fn match_str(&self, s: &str, truth: &mut PredSet) {
        set_all(truth, &self.any);
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

fn add_by_length(tables: &mut Vec<(usize, TableBuilder)>, lit: &str, p: PredId) {
    match tables.iter_mut().find(|(len, _)| *len == lit.len()) {
        Some((_, table)) => table.add(lit, p),
        None => {
            let mut table = TableBuilder::default();
            table.add(lit, p);
            tables.push((lit.len(), table));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefilter_literals_are_cut_on_a_character_boundary() {
        assert_eq!(prefilter_literal("abc"), "abc");
        let long = "é".repeat(40); // 80 bytes
        let cut = prefilter_literal(&long);
        assert_eq!(cut.len(), 64);
        assert!(long.starts_with(cut));
        let odd = format!("a{}", "é".repeat(40));
        assert_eq!(prefilter_literal(&odd).len(), 63);
    }
    use proptest::prelude::*;

    proptest! {
        /// The word-at-a-time test agrees with the byte loop it replaces.
        #[test]
        fn needs_folding_is_the_byte_test(s in "(?s).{0,40}") {
            let slow = s.bytes().any(|b| !b.is_ascii() || b.is_ascii_uppercase());
            prop_assert_eq!(needs_folding(&s), slow);
        }

        #[test]
        fn needs_folding_on_ascii(s in "[ -~]{0,40}") {
            let slow = s.bytes().any(|b| b.is_ascii_uppercase());
            prop_assert_eq!(needs_folding(&s), slow);
        }
    }
}
