//! The normalized rule form the program is generated from.
//!
//! An [`Expr`] is built only through its simplifying constructors, so no
//! unnormalized value exists: nested `all`/`any` are flattened, constants
//! folded (`{"all": []}` is true, `{"any": []}` false), double negations
//! removed and duplicate children dropped.

use rustc_hash::{FxBuildHasher, FxHashMap};
use smallvec::SmallVec;
use std::fmt;
use std::hash::BuildHasher;

/// A predicate: one rule value tested against one model field, interned
/// program-wide.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct PredId(pub(crate) u32);

impl PredId {
    pub(crate) fn index(self) -> usize {
        self.0 as usize
    }
}

impl fmt::Display for PredId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "p{}", self.0)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Expr {
    Const(bool),
    Pred(PredId),
    Not(Box<Expr>),
    /// At least two children, none constant, none an `All`.
    All(Vec<Expr>),
    /// At least two children, none constant, none an `Any`.
    Any(Vec<Expr>),
}

impl Expr {
    /// `p` when this is `not p`.
    pub(crate) fn negated_pred(&self) -> Option<PredId> {
        match self {
            Expr::Not(inner) => match **inner {
                Expr::Pred(p) => Some(p),
                _ => None,
            },
            _ => None,
        }
    }

    pub(crate) fn not(e: Expr) -> Expr {
        match e {
            Expr::Const(b) => Expr::Const(!b),
            Expr::Not(inner) => *inner,
            e => Expr::Not(Box::new(e)),
        }
    }

    pub(crate) fn all(children: impl IntoIterator<Item = Expr>) -> Expr {
        Self::junction(children, true)
    }

    pub(crate) fn any(children: impl IntoIterator<Item = Expr>) -> Expr {
        Self::junction(children, false)
    }

    /// `all` when `conjunction`, else `any`: the neutral constant is dropped,
    /// the absorbing one wins, same-kind children are spliced in.
    fn junction(children: impl IntoIterator<Item = Expr>, conjunction: bool) -> Expr {
        let mut out = Junction::default();
        for child in children {
            match child {
                Expr::Const(b) if b == conjunction => {}
                Expr::Const(b) => return Expr::Const(b),
                Expr::All(cs) if conjunction => cs.into_iter().for_each(|c| out.push(c)),
                Expr::Any(cs) if !conjunction => cs.into_iter().for_each(|c| out.push(c)),
                other => out.push(other),
            }
        }
        let mut out = out.children;
        match out.len() {
            0 => Expr::Const(conjunction),
            1 => out.pop().unwrap_or(Expr::Const(conjunction)),
            _ if conjunction => Expr::All(out.into_vec()),
            _ => Expr::Any(out.into_vec()),
        }
    }
}

/// The children of a junction being built, without duplicates. Most
/// junctions end with one child (a field rule with one value), so the first
/// few are kept inline and only a real junction allocates.
#[derive(Default)]
struct Junction {
    children: SmallVec<[Expr; 4]>,
    /// Children by hash, once there are more than a few, so that dropping
    /// duplicates stays linear for a field rule with thousands of values.
    seen: Option<FxHashMap<u64, SmallVec<[usize; 1]>>>,
}

impl Junction {
    /// Children compared one by one below this many.
    const LINEAR: usize = 8;

    fn push(&mut self, c: Expr) {
        if self.seen.is_none() && self.children.len() >= Self::LINEAR {
            let mut seen: FxHashMap<u64, SmallVec<[usize; 1]>> = FxHashMap::default();
            for (i, child) in self.children.iter().enumerate() {
                seen.entry(FxBuildHasher.hash_one(child)).or_default().push(i);
            }
            self.seen = Some(seen);
        }
        match &mut self.seen {
            None => {
                if !self.children.contains(&c) {
                    self.children.push(c);
                }
            }
            Some(seen) => {
                let same_hash = seen.entry(FxBuildHasher.hash_one(&c)).or_default();
                if !same_hash.iter().any(|&i| self.children[i] == c) {
                    same_hash.push(self.children.len());
                    self.children.push(c);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(i: u32) -> Expr {
        Expr::Pred(PredId(i))
    }

    #[test]
    fn constructors_normalize() {
        assert_eq!(Expr::all([]), Expr::Const(true));
        assert_eq!(Expr::any([]), Expr::Const(false));
        assert_eq!(Expr::all([p(1), Expr::Const(true)]), p(1));
        assert_eq!(Expr::all([p(1), Expr::Const(false)]), Expr::Const(false));
        assert_eq!(Expr::any([p(1), Expr::Const(true)]), Expr::Const(true));
        assert_eq!(Expr::not(Expr::not(p(1))), p(1));
        assert_eq!(Expr::all([p(1), Expr::all([p(2), p(1)])]), Expr::All(vec![p(1), p(2)]));
        assert_eq!(Expr::any([p(1), Expr::all([p(2), p(3)])]), Expr::Any(vec![p(1), Expr::All(vec![p(2), p(3)])]));
    }
}
