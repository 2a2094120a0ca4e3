//! Deterministic automata over Unicode code points, for the two Lucene operators that
//! `regex_automata` has no counterpart for: intersection `a&b` and complement `~a`.
//!
//! regex-automata compiles the rest of the dialect, but offers no way to intersect or
//! complement its automata, so a regular expression that uses either operator is built here
//! instead, the way Lucene builds every regular expression (`RegExp.toAutomatonInternal`): each
//! operand of `&` or `~` becomes a minimal DFA, an intersection is the product of two DFAs, a
//! complement completes a DFA and flips which states accept, and whatever surrounds them is a
//! Thompson NFA (with those DFAs embedded) turned into a DFA by subset construction, then
//! minimized (Hopcroft).
//!
//! Lucene's automata read code points, and so do these: `.` is any code point, `[^…]` any code
//! point outside the class, `~x` every string of code points that `x` does not match. To keep
//! tables small, code points are grouped into classes that no range of the pattern splits
//! ([`Alphabet`]), and a DFA is a dense table of states × classes. State 0 of every DFA is the
//! dead state (it rejects and only leads to itself), so matching stops as soon as it is reached.
//!
//! Every construction is bounded by [`MAX_DFA_STATES`] and the [`Budget`]: a hostile pattern
//! fails with [`TooLarge`] after bounded time and memory instead of exhausting either.

use regex_syntax::hir::{Class, Hir, HirKind};
use rustc_hash::FxHashMap;
use smallvec::SmallVec;

use super::MAX_DFA_STATES;

/// The largest code point, as in Lucene (`Character.MAX_CODE_POINT`).
const MAX_CODE_POINT: u32 = 0x10_FFFF;

/// Cells (states × character classes) one DFA table may hold: 64 per state of
/// [`MAX_DFA_STATES`], 2.5 MiB. A pattern with a very wide alphabet gets fewer states.
const MAX_TABLE_CELLS: usize = 64 * MAX_DFA_STATES;

/// NFA states one construction may hold: ten per state of [`MAX_DFA_STATES`], several times
/// what `a{9999}` written out in full takes.
const MAX_NFA_STATES: usize = 10 * MAX_DFA_STATES;

/// Units of work (NFA states and edges created and visited, subset elements hashed and
/// sorted, table cells written, states examined while minimizing) one pattern may spend over
/// all its constructions: 1 024 per state of [`MAX_DFA_STATES`], which the worst patterns
/// found take about a second to spend in a debug build. Lucene likewise bounds determinization by effort (10 × its work limit in subset
/// elements, per determinization), not only by size; this is looser so that the state budget
/// is what refuses the patterns Lucene accepts (`~(.*a.{12})`, 8 192 states).
const MAX_WORK: u64 = 1024 * MAX_DFA_STATES as u64;

/// Why an automaton could not be built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum BuildError {
    /// Over [`MAX_DFA_STATES`] or the limits derived from it.
    TooLarge,
    /// The expression tree held something the translation does not expect (a bug).
    Unexpected(&'static str),
}

use BuildError::TooLarge;

type Result<T> = std::result::Result<T, BuildError>;

/// The work spent so far on one pattern's automata, and how many states one of them may have.
#[derive(Debug)]
pub(super) struct Budget {
    work: u64,
    max_states: usize,
}

impl Default for Budget {
    fn default() -> Self {
        Self { work: 0, max_states: MAX_DFA_STATES }
    }
}

impl Budget {
    /// A budget whose automata may have up to `max_states` states (and the table cells and
    /// work that scale with it), instead of [`MAX_DFA_STATES`].
    pub(super) fn with_states(max_states: usize) -> Self {
        Self { work: 0, max_states }
    }

    fn spend(&mut self, units: usize) -> Result<()> {
        self.work = self.work.saturating_add(units as u64);
        let max = MAX_WORK / MAX_DFA_STATES as u64 * self.max_states as u64;
        if self.work > max { Err(TooLarge) } else { Ok(()) }
    }
}

/// Checks a DFA's size as it grows: `live` states besides the dead one, `classes` columns.
fn check_size(live: usize, classes: usize, max_states: usize) -> Result<()> {
    let max_cells = MAX_TABLE_CELLS / MAX_DFA_STATES * max_states;
    if live > max_states || (live + 1).saturating_mul(classes) > max_cells {
        return Err(TooLarge);
    }
    Ok(())
}

/// Code points split into classes that no range of one pattern separates, so that a DFA's row
/// needs one column per class rather than one per code point.
#[derive(Debug, Clone)]
pub(super) struct Alphabet {
    /// The first code point of each class, ascending; the first is 0.
    starts: Box<[u32]>,
    /// The class of each ASCII character, the common case when matching.
    ascii: Box<[u32; 128]>,
}

/// The points where the ranges of a pattern start and stop, collected before its automata are
/// built.
#[derive(Debug, Default)]
pub(super) struct Cuts(Vec<u32>);

impl Cuts {
    /// Records the range `lo..=hi` of code points.
    pub(super) fn range(&mut self, lo: char, hi: char) {
        self.0.push(u32::from(lo));
        if u32::from(hi) < MAX_CODE_POINT {
            self.0.push(u32::from(hi) + 1);
        }
    }
}

impl Alphabet {
    pub(super) fn new(cuts: Cuts) -> Self {
        let mut starts = cuts.0;
        starts.push(0);
        starts.sort_unstable();
        starts.dedup();
        let mut ascii = Box::new([0u32; 128]);
        for (cp, class) in (0u32..).zip(ascii.iter_mut()) {
            *class = class_in(&starts, cp);
        }
        Self { starts: starts.into_boxed_slice(), ascii }
    }

    /// The number of classes.
    pub(super) fn len(&self) -> usize {
        self.starts.len()
    }

    fn class_of(&self, cp: u32) -> u32 {
        match self.ascii.get(cp as usize) {
            Some(&class) => class,
            None => class_in(&self.starts, cp),
        }
    }

    /// The classes that make up `lo..=hi`, whose ends are cut points of this alphabet.
    fn span(&self, lo: u32, hi: u32) -> (u32, u32) {
        (self.class_of(lo), self.class_of(hi))
    }
}

fn class_in(starts: &[u32], cp: u32) -> u32 {
    starts.partition_point(|&s| s <= cp).saturating_sub(1) as u32
}

/// A deterministic automaton: a dense table with a row per state and a column per class of
/// its [`Alphabet`]. Row 0 is the dead state.
#[derive(Debug, Clone)]
pub(super) struct Dfa {
    classes: usize,
    table: Vec<u32>,
    accept: Vec<bool>,
    start: u32,
}

impl Dfa {
    /// The number of states, the dead one included.
    fn len(&self) -> usize {
        self.accept.len()
    }

    fn row(&self, state: u32) -> &[u32] {
        let at = state as usize * self.classes;
        self.table.get(at..at + self.classes).unwrap_or(&[])
    }

    fn next(&self, state: u32, class: u32) -> u32 {
        self.table.get(state as usize * self.classes + class as usize).copied().unwrap_or(0)
    }

    fn accepts(&self, state: u32) -> bool {
        self.accept.get(state as usize).copied().unwrap_or(false)
    }

    /// States besides the dead one.
    pub(super) fn live_states(&self) -> usize {
        self.len() - 1
    }
}

/// A finished automaton: its alphabet and its minimal DFA.
#[derive(Debug, Clone)]
pub(super) struct Automaton {
    alphabet: Alphabet,
    dfa: Dfa,
}

impl Automaton {
    pub(super) fn new(alphabet: Alphabet, dfa: Dfa) -> Self {
        Self { alphabet, dfa }
    }

    /// Whether the whole of `input` is in the language: per code point, one class lookup (a
    /// table for ASCII, a binary search otherwise) and one table step; no allocation.
    pub(super) fn is_match(&self, input: &str) -> bool {
        let mut state = self.dfa.start;
        for c in input.chars() {
            if state == 0 {
                return false;
            }
            state = self.dfa.next(state, self.alphabet.class_of(u32::from(c)));
        }
        self.dfa.accepts(state)
    }

    /// Whether every string is in the language: no state reachable from the start rejects.
    pub(super) fn is_universal(&self) -> bool {
        let mut seen = vec![false; self.dfa.len()];
        let mut stack = vec![self.dfa.start];
        while let Some(state) = stack.pop() {
            if !self.dfa.accepts(state) {
                return false;
            }
            for &next in self.dfa.row(state) {
                if let Some(slot) = seen.get_mut(next as usize).filter(|s| !**s) {
                    *slot = true;
                    stack.push(next);
                }
            }
        }
        true
    }

    /// The states of the minimal DFA, the dead state aside.
    #[cfg(test)]
    pub(super) fn live_states(&self) -> usize {
        self.dfa.live_states()
    }
}

/// A transition on the classes `lo..=hi`.
#[derive(Debug, Clone, Copy)]
struct Edge {
    lo: u32,
    hi: u32,
    to: u32,
}

#[derive(Debug, Clone, Default)]
struct NState {
    eps: SmallVec<[u32; 2]>,
    edges: SmallVec<[Edge; 1]>,
}

/// A piece of a Thompson NFA: its entry and exit states, and the states `first..last` it owns
/// (all created while it was built, so that it can be copied).
///
/// Combinators add transitions out of a piece only at its exit (reaching it means a whole match
/// of the piece) and into it only at its entry, and loop only through fresh states, which keeps
/// every combination sound without the usual care about loops through shared states.
#[derive(Debug, Clone, Copy)]
pub(super) struct Frag {
    start: u32,
    end: u32,
    first: u32,
    last: u32,
}

/// A Thompson NFA over the classes of an [`Alphabet`].
#[derive(Debug, Default)]
pub(super) struct Nfa {
    states: Vec<NState>,
}

impl Nfa {
    fn len(&self) -> u32 {
        self.states.len() as u32
    }

    fn add(&mut self, budget: &mut Budget) -> Result<u32> {
        if self.states.len() >= MAX_NFA_STATES {
            return Err(TooLarge);
        }
        budget.spend(1)?;
        self.states.push(NState::default());
        Ok(self.len() - 1)
    }

    fn eps(&mut self, from: u32, to: u32) {
        if let Some(s) = self.states.get_mut(from as usize) {
            s.eps.push(to);
        }
    }

    fn edge(&mut self, from: u32, edge: Edge) {
        if let Some(s) = self.states.get_mut(from as usize) {
            s.edges.push(edge);
        }
    }

    /// The empty string.
    pub(super) fn empty_string(&mut self, budget: &mut Budget) -> Result<Frag> {
        let s = self.add(budget)?;
        Ok(Frag { start: s, end: s, first: s, last: s + 1 })
    }

    /// One code point out of the class ranges `spans`; nothing at all when `spans` is empty.
    fn classes(&mut self, spans: impl IntoIterator<Item = (u32, u32)>, budget: &mut Budget) -> Result<Frag> {
        let (s, e) = (self.add(budget)?, self.add(budget)?);
        let mut count = 0;
        for (lo, hi) in spans {
            self.edge(s, Edge { lo, hi, to: e });
            count += 1;
        }
        budget.spend(count)?;
        Ok(Frag { start: s, end: e, first: s, last: e + 1 })
    }

    /// The code points of `text`, in order.
    fn string(&mut self, text: &str, alphabet: &Alphabet, budget: &mut Budget) -> Result<Frag> {
        let first = self.add(budget)?;
        let mut end = first;
        for c in text.chars() {
            let next = self.add(budget)?;
            let class = alphabet.class_of(u32::from(c));
            self.edge(end, Edge { lo: class, hi: class, to: next });
            end = next;
        }
        Ok(Frag { start: first, end, first, last: self.len() })
    }

    /// The pieces one after another; they must have been built one after another.
    pub(super) fn concat(&mut self, parts: Vec<Frag>, budget: &mut Budget) -> Result<Frag> {
        let (Some(head), Some(tail)) = (parts.first().copied(), parts.last().copied()) else {
            return self.empty_string(budget);
        };
        for pair in parts.windows(2) {
            if let [a, b] = pair {
                self.eps(a.end, b.start);
            }
        }
        Ok(Frag { start: head.start, end: tail.end, first: head.first, last: self.len() })
    }

    /// Any one of the pieces; they must have been built one after another.
    pub(super) fn union(&mut self, parts: Vec<Frag>, budget: &mut Budget) -> Result<Frag> {
        let first = parts.first().map_or(self.len(), |f| f.first);
        let (s, e) = (self.add(budget)?, self.add(budget)?);
        for part in &parts {
            self.eps(s, part.start);
            self.eps(part.end, e);
        }
        Ok(Frag { start: s, end: e, first, last: self.len() })
    }

    /// A copy of `frag`, which must not be linked to anything yet.
    fn copy(&mut self, frag: Frag, budget: &mut Budget) -> Result<Frag> {
        let (first, last) = (frag.first, frag.last);
        let size = (last - first) as usize;
        if self.states.len() + size > MAX_NFA_STATES {
            return Err(TooLarge);
        }
        let edges: usize =
            self.states.get(first as usize..last as usize).unwrap_or(&[]).iter().map(|s| s.edges.len()).sum();
        budget.spend(size + edges)?;
        let offset = self.len() - first;
        let shift = |t: u32| if (first..last).contains(&t) { t + offset } else { t };
        for i in first..last {
            let mut state = self.states.get(i as usize).cloned().unwrap_or_default();
            for t in &mut state.eps {
                *t = shift(*t);
            }
            for edge in &mut state.edges {
                edge.to = shift(edge.to);
            }
            self.states.push(state);
        }
        Ok(Frag { start: frag.start + offset, end: frag.end + offset, first: first + offset, last: last + offset })
    }

    /// `frag{min,max}` (`max` `None` for no bound), as Lucene's `Operations.repeat`: the empty
    /// language when `min > max`. Copies are chained so that `x{0,n}` nests as `(x(x…)?)?`,
    /// which keeps the subsets of the determinization small.
    pub(super) fn repeat(&mut self, frag: Frag, min: u32, max: Option<u32>, budget: &mut Budget) -> Result<Frag> {
        let first = frag.first;
        if max.is_some_and(|max| min > max) {
            let none = self.classes([], budget)?;
            return Ok(Frag { first, ..none });
        }
        let copies = match max {
            Some(max) => max as usize,
            None => min as usize + 1,
        };
        if copies == 0 {
            let empty = self.empty_string(budget)?;
            return Ok(Frag { first, ..empty });
        }
        let mut pieces = Vec::with_capacity(copies);
        pieces.push(frag);
        while pieces.len() < copies {
            pieces.push(self.copy(frag, budget)?);
        }
        let entry = self.add(budget)?;
        let mut tail = entry;
        let (required, optional) = pieces.split_at(min as usize);
        for piece in required {
            self.eps(tail, piece.start);
            tail = piece.end;
        }
        match max {
            None => {
                // A hub to loop through: `x*` after the required copies.
                let hub = self.add(budget)?;
                self.eps(tail, hub);
                for piece in optional {
                    self.eps(hub, piece.start);
                    self.eps(piece.end, hub);
                }
                tail = hub;
            }
            Some(_) => {
                let exit = self.add(budget)?;
                for piece in optional {
                    self.eps(tail, exit);
                    self.eps(tail, piece.start);
                    tail = piece.end;
                }
                self.eps(tail, exit);
                tail = exit;
            }
        }
        Ok(Frag { start: entry, end: tail, first, last: self.len() })
    }

    /// A DFA as a piece of this NFA (the dead state left out).
    pub(super) fn embed(&mut self, dfa: &Dfa, budget: &mut Budget) -> Result<Frag> {
        let live = dfa.live_states();
        if self.states.len() + live + 2 > MAX_NFA_STATES {
            return Err(TooLarge);
        }
        budget.spend(live.saturating_mul(dfa.classes))?;
        let entry = self.add(budget)?;
        let base = self.len();
        let at = |state: u32| base + state - 1;
        for _ in 0..live {
            self.add(budget)?;
        }
        let exit = self.add(budget)?;
        if dfa.start != 0 {
            self.eps(entry, at(dfa.start));
        }
        for state in 1..dfa.len() as u32 {
            if dfa.accepts(state) {
                self.eps(at(state), exit);
            }
            // One edge per run of classes that lead to the same live state.
            let row = dfa.row(state);
            let mut lo = 0;
            while lo < row.len() {
                let to = row.get(lo).copied().unwrap_or(0);
                let mut hi = lo;
                while row.get(hi + 1) == Some(&to) {
                    hi += 1;
                }
                if to != 0 {
                    self.edge(at(state), Edge { lo: lo as u32, hi: hi as u32, to: at(to) });
                }
                lo = hi + 1;
            }
        }
        Ok(Frag { start: entry, end: exit, first: entry, last: self.len() })
    }

    /// Translates a `regex_syntax` expression, as built for the parts of a pattern without `&`
    /// or `~`. Recursion follows the expression, whose depth the parser bounds.
    pub(super) fn hir(&mut self, hir: &Hir, alphabet: &Alphabet, budget: &mut Budget) -> Result<Frag> {
        match hir.kind() {
            HirKind::Empty => self.empty_string(budget),
            HirKind::Literal(lit) => {
                let text = std::str::from_utf8(&lit.0).map_err(|_| BuildError::Unexpected("a non-UTF-8 literal"))?;
                self.string(text, alphabet, budget)
            }
            HirKind::Class(Class::Unicode(class)) => {
                let spans: Vec<_> =
                    class.ranges().iter().map(|r| alphabet.span(u32::from(r.start()), u32::from(r.end()))).collect();
                self.classes(spans, budget)
            }
            HirKind::Class(Class::Bytes(class)) => {
                // Only ASCII byte classes can come out of `Hir`'s smart constructors here.
                if !class.is_ascii() {
                    return Err(BuildError::Unexpected("a non-ASCII byte class"));
                }
                let spans: Vec<_> =
                    class.ranges().iter().map(|r| alphabet.span(u32::from(r.start()), u32::from(r.end()))).collect();
                self.classes(spans, budget)
            }
            HirKind::Look(_) => Err(BuildError::Unexpected("a look-around assertion")),
            HirKind::Repetition(rep) => {
                let frag = self.hir(&rep.sub, alphabet, budget)?;
                self.repeat(frag, rep.min, rep.max, budget)
            }
            HirKind::Capture(cap) => self.hir(&cap.sub, alphabet, budget),
            HirKind::Concat(subs) => {
                let parts = subs.iter().map(|h| self.hir(h, alphabet, budget)).collect::<Result<Vec<_>>>()?;
                self.concat(parts, budget)
            }
            HirKind::Alternation(subs) => {
                let parts = subs.iter().map(|h| self.hir(h, alphabet, budget)).collect::<Result<Vec<_>>>()?;
                self.union(parts, budget)
            }
        }
    }
}

/// Subset construction: the DFA of the piece `frag` of `nfa`.
pub(super) fn determinize(nfa: &Nfa, frag: Frag, classes: usize, budget: &mut Budget) -> Result<Dfa> {
    let accept_state = frag.end;
    let mut closure = Closure { stamp: vec![0; nfa.states.len()], generation: 0, stack: Vec::new() };
    let mut ids: FxHashMap<Box<[u32]>, u32> = FxHashMap::default();
    let mut sets: Vec<Box<[u32]>> = vec![Box::default()];
    ids.insert(Box::default(), 0);
    let mut dfa = Dfa { classes, table: vec![0; classes], accept: vec![false], start: 0 };

    let mut intern = |set: Vec<u32>, sets: &mut Vec<Box<[u32]>>, budget: &mut Budget| -> Result<u32> {
        // Hashing the subset costs its length, found or not.
        budget.spend(set.len())?;
        if let Some(&id) = ids.get(set.as_slice()) {
            return Ok(id);
        }
        let id = sets.len() as u32;
        check_size(sets.len(), classes, budget.max_states)?;
        let set: Box<[u32]> = set.into_boxed_slice();
        ids.insert(set.clone(), id);
        sets.push(set);
        Ok(id)
    };

    let start = closure.of(nfa, &[frag.start], accept_state, budget)?;
    dfa.start = intern(start, &mut sets, budget)?;
    let mut events: Vec<(u32, bool, u32)> = Vec::new();
    // The targets of the edges that cover the current class, with how many edges do.
    let mut active = Active { list: Vec::new(), count: vec![0; nfa.states.len()], slot: vec![0; nfa.states.len()] };
    let mut next = 1;
    while let Some(set) = sets.get(next).cloned() {
        next += 1;
        events.clear();
        for &s in set.iter() {
            for edge in nfa.states.get(s as usize).map(|s| &s.edges[..]).unwrap_or(&[]) {
                events.push((edge.lo, true, edge.to));
                events.push((edge.hi + 1, false, edge.to));
            }
        }
        budget.spend(8 * events.len() + classes)?;
        events.sort_unstable();
        let mut row = vec![0u32; classes];
        let mut i = 0;
        while i < events.len() {
            let pos = events.get(i).map_or(0, |e| e.0);
            while let Some(&(_, add, to)) = events.get(i).filter(|e| e.0 == pos) {
                if add {
                    active.add(to);
                } else {
                    active.remove(to);
                }
                i += 1;
            }
            let until = events.get(i).map_or(classes, |e| e.0 as usize).min(classes);
            if !active.list.is_empty() && (pos as usize) < until {
                let target = closure.of(nfa, &active.list, accept_state, budget)?;
                let id = intern(target, &mut sets, budget)?;
                for cell in row.iter_mut().take(until).skip(pos as usize) {
                    *cell = id;
                }
            }
        }
        dfa.table.extend_from_slice(&row);
        dfa.accept.push(set.binary_search(&accept_state).is_ok());
    }
    Ok(dfa)
}

/// A multiset of NFA states with constant-time updates; `list` holds each member once.
struct Active {
    list: Vec<u32>,
    count: Vec<u32>,
    /// Where each member sits in `list`.
    slot: Vec<u32>,
}

impl Active {
    fn add(&mut self, s: u32) {
        let Some(count) = self.count.get_mut(s as usize) else { return };
        *count += 1;
        if *count == 1 {
            if let Some(slot) = self.slot.get_mut(s as usize) {
                *slot = self.list.len() as u32;
            }
            self.list.push(s);
        }
    }

    fn remove(&mut self, s: u32) {
        let Some(count) = self.count.get_mut(s as usize) else { return };
        *count = count.saturating_sub(1);
        if *count == 0 {
            let at = self.slot.get(s as usize).copied().unwrap_or(0) as usize;
            if self.list.get(at) == Some(&s) {
                self.list.swap_remove(at);
                if let Some(&moved) = self.list.get(at)
                    && let Some(slot) = self.slot.get_mut(moved as usize)
                {
                    *slot = at as u32;
                }
            }
        }
    }
}

/// The epsilon closure of sets of NFA states, keeping the states that matter to a DFA state:
/// those with transitions, and the accepting one.
struct Closure {
    stamp: Vec<u32>,
    generation: u32,
    stack: Vec<u32>,
}

impl Closure {
    fn of(&mut self, nfa: &Nfa, seeds: &[u32], accept: u32, budget: &mut Budget) -> Result<Vec<u32>> {
        self.generation += 1;
        let generation = self.generation;
        let mut out = Vec::new();
        self.stack.clear();
        self.stack.extend_from_slice(seeds);
        let mut visited = seeds.len();
        while let Some(s) = self.stack.pop() {
            let Some(stamp) = self.stamp.get_mut(s as usize) else { continue };
            if *stamp == generation {
                continue;
            }
            *stamp = generation;
            let Some(state) = nfa.states.get(s as usize) else { continue };
            if !state.edges.is_empty() || s == accept {
                out.push(s);
            }
            visited += 1 + state.eps.len();
            self.stack.extend_from_slice(&state.eps);
        }
        // Sorting costs about log n per element; 8 stands in for it.
        budget.spend(visited + 8 * out.len())?;
        out.sort_unstable();
        Ok(out)
    }
}

/// The product automaton: strings both `a` and `b` accept.
pub(super) fn intersect(a: &Dfa, b: &Dfa, budget: &mut Budget) -> Result<Dfa> {
    let classes = a.classes;
    if b.classes != classes {
        return Err(BuildError::Unexpected("automata over different alphabets"));
    }
    let mut ids: FxHashMap<(u32, u32), u32> = FxHashMap::default();
    let mut pairs: Vec<(u32, u32)> = vec![(0, 0)];
    let max_states = budget.max_states;
    let mut intern = |pair: (u32, u32), pairs: &mut Vec<(u32, u32)>| -> Result<u32> {
        if pair.0 == 0 || pair.1 == 0 {
            return Ok(0);
        }
        if let Some(&id) = ids.get(&pair) {
            return Ok(id);
        }
        check_size(pairs.len(), classes, max_states)?;
        let id = pairs.len() as u32;
        ids.insert(pair, id);
        pairs.push(pair);
        Ok(id)
    };
    let start = intern((a.start, b.start), &mut pairs)?;
    let mut dfa = Dfa { classes, table: vec![0; classes], accept: vec![false], start };
    let mut next = 1;
    while let Some(&(x, y)) = pairs.get(next) {
        next += 1;
        budget.spend(classes)?;
        for class in 0..classes as u32 {
            let id = intern((a.next(x, class), b.next(y, class)), &mut pairs)?;
            dfa.table.push(id);
        }
        dfa.accept.push(a.accepts(x) && b.accepts(y));
    }
    Ok(dfa)
}

/// The complement: every string `a` rejects. `a`'s dead state becomes an accepting sink, and a
/// fresh dead state takes row 0.
pub(super) fn complement(a: &Dfa, budget: &mut Budget) -> Result<Dfa> {
    check_size(a.len(), a.classes, budget.max_states)?;
    budget.spend(a.len().saturating_mul(a.classes))?;
    let mut table = vec![0; a.classes];
    table.extend(a.table.iter().map(|&t| t + 1));
    let mut accept = vec![false];
    accept.extend(a.accept.iter().map(|&acc| !acc));
    Ok(Dfa { classes: a.classes, table, accept, start: a.start + 1 })
}

/// The DFA of every string: one accepting state that loops on everything.
pub(super) fn universal(classes: usize) -> Dfa {
    let mut table = vec![0; classes];
    table.extend(std::iter::repeat_n(1, classes));
    Dfa { classes, table, accept: vec![false, true], start: 1 }
}

/// The minimal DFA of the same language (Hopcroft's partition refinement), its states
/// numbered from the start in breadth-first order and all dead states merged into row 0.
pub(super) fn minimize(a: &Dfa, budget: &mut Budget) -> Result<Dfa> {
    let classes = a.classes;
    // Reachable states, compactly numbered; the dead state stays 0.
    let mut index = vec![u32::MAX; a.len()];
    let mut order: Vec<u32> = Vec::new();
    for root in [0, a.start] {
        if let Some(slot) = index.get_mut(root as usize).filter(|i| **i == u32::MAX) {
            *slot = order.len() as u32;
            order.push(root);
        }
    }
    let mut i = 0;
    while let Some(&s) = order.get(i) {
        i += 1;
        for &t in a.row(s) {
            if let Some(slot) = index.get_mut(t as usize).filter(|i| **i == u32::MAX) {
                *slot = order.len() as u32;
                order.push(t);
            }
        }
    }
    let n = order.len();
    let cells = n.saturating_mul(classes);
    budget.spend(cells.saturating_mul(3))?;
    let at = |v: &[u32], i: usize| v.get(i).copied().unwrap_or(0) as usize;
    let delta: Vec<u32> = order.iter().flat_map(|&s| a.row(s).iter().map(|&t| at(&index, t as usize) as u32)).collect();

    // Predecessors by (class, target), in compressed rows.
    let mut inv_start = vec![0u32; cells + 1];
    for s in 0..n {
        for c in 0..classes {
            let key = c * n + at(&delta, s * classes + c);
            if let Some(count) = inv_start.get_mut(key + 1) {
                *count += 1;
            }
        }
    }
    for k in 1..inv_start.len() {
        inv_start[k] += inv_start[k - 1];
    }
    let mut fill = inv_start.clone();
    let mut inv = vec![0u32; cells];
    for s in 0..n {
        for c in 0..classes {
            let key = c * n + at(&delta, s * classes + c);
            if let Some(slot) = fill.get_mut(key) {
                if let Some(cell) = inv.get_mut(*slot as usize) {
                    *cell = s as u32;
                }
                *slot += 1;
            }
        }
    }

    // The partition: `elems` grouped by block, each block a range of it.
    let accepting = |s: usize| a.accepts(order.get(s).copied().unwrap_or(0));
    let mut elems: Vec<u32> = (0..n as u32).filter(|&s| accepting(s as usize)).collect();
    let split_at = elems.len();
    elems.extend((0..n as u32).filter(|&s| !accepting(s as usize)));
    let mut pos = vec![0u32; n];
    for (p, &s) in elems.iter().enumerate() {
        pos[s as usize] = p as u32;
    }
    let mut blocks: Vec<(u32, u32)> = Vec::new();
    let mut block_of = vec![0u32; n];
    let mut work: Vec<(u32, u32)> = Vec::new();
    let mut in_work: Vec<bool> = Vec::new();
    if split_at == 0 || split_at == n {
        blocks.push((0, n as u32));
        in_work.resize(classes, false);
    } else {
        blocks.push((0, split_at as u32));
        blocks.push((split_at as u32, n as u32));
        for &s in &elems[split_at..] {
            block_of[s as usize] = 1;
        }
        in_work.resize(2 * classes, false);
        let smaller = if split_at <= n - split_at { 0 } else { 1 };
        for c in 0..classes as u32 {
            work.push((smaller, c));
            in_work[smaller as usize * classes + c as usize] = true;
        }
    }
    let mut marked = vec![0u32; n];
    let mut touched: Vec<u32> = Vec::new();
    let mut splitter: Vec<u32> = Vec::new();
    while let Some((b, c)) = work.pop() {
        if let Some(flag) = in_work.get_mut(b as usize * classes + c as usize) {
            *flag = false;
        }
        let Some(&(from, to)) = blocks.get(b as usize) else { continue };
        splitter.clear();
        splitter.extend_from_slice(elems.get(from as usize..to as usize).unwrap_or(&[]));
        let mut visited = splitter.len();
        for &t in &splitter {
            let key = c as usize * n + t as usize;
            let (lo, hi) = (at(&inv_start, key), at(&inv_start, key + 1));
            visited += hi - lo;
            for &p in inv.get(lo..hi).unwrap_or(&[]) {
                let bp = block_of[p as usize] as usize;
                let (start, _) = blocks[bp];
                let mark_end = start + marked[bp];
                let pp = pos[p as usize];
                if pp >= mark_end {
                    // Move `p` into the marked front of its block.
                    let other = elems[mark_end as usize];
                    elems.swap(mark_end as usize, pp as usize);
                    pos[p as usize] = mark_end;
                    pos[other as usize] = pp;
                    if marked[bp] == 0 {
                        touched.push(bp as u32);
                    }
                    marked[bp] += 1;
                }
            }
        }
        budget.spend(visited)?;
        for y in touched.drain(..) {
            let y = y as usize;
            let count = std::mem::take(&mut marked[y]);
            let (start, end) = blocks[y];
            if count == end - start {
                continue;
            }
            let z = blocks.len();
            blocks.push((start, start + count));
            blocks[y] = (start + count, end);
            for &s in &elems[start as usize..(start + count) as usize] {
                block_of[s as usize] = z as u32;
            }
            in_work.resize((z + 1) * classes, false);
            let smaller = if count <= end - start - count { z } else { y };
            for d in 0..classes {
                let pick = if in_work[y * classes + d] { z } else { smaller };
                if !in_work[pick * classes + d] {
                    in_work[pick * classes + d] = true;
                    work.push((pick as u32, d as u32));
                }
            }
            budget.spend(classes)?;
        }
    }

    // Number the blocks: the dead one 0, then breadth-first from the start.
    let mut id = vec![u32::MAX; blocks.len()];
    let dead_block = block_of[0] as usize;
    id[dead_block] = 0;
    let mut reps: Vec<u32> = vec![0];
    let start_block = block_of[at(&index, a.start as usize)] as usize;
    if id[start_block] == u32::MAX {
        id[start_block] = 1;
        reps.push(elems[blocks[start_block].0 as usize]);
    }
    let mut table = Vec::new();
    let mut accept = Vec::new();
    let mut i = 0;
    while let Some(&rep) = reps.get(i) {
        i += 1;
        for c in 0..classes {
            let t = at(&delta, rep as usize * classes + c);
            let tb = block_of[t] as usize;
            if id[tb] == u32::MAX {
                id[tb] = reps.len() as u32;
                reps.push(elems[blocks[tb].0 as usize]);
            }
            table.push(id[tb]);
        }
        accept.push(accepting(rep as usize));
    }
    Ok(Dfa { classes, table, accept, start: id[start_block] })
}
