//! Bytecode: IR to instructions, and the machine that runs them.
//!
//! One accumulator, no stack. `all` and `any` become short-circuit jumps to
//! their end, where the accumulator already holds the value that made them
//! jump. Every jump goes forward, so a mapping's code always terminates.
//!
//! The children of a mapping's top-level `all` (the usual shape: a group, a
//! realm, an `except`) need no jumps: each either holds or fails the whole
//! mapping, so they become `require`, `forbid` and `check`, which stop the
//! mapping at the first child that fails.

use crate::ir::Expr;
use std::fmt;

const OP_SHIFT: u32 = 29;
const ARG_MASK: u32 = (1 << OP_SHIFT) - 1;

/// One instruction: a 3-bit opcode and a 29-bit operand in one word.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) struct Inst(u32);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Op {
    /// `acc = predicate is true`.
    Test,
    /// `acc = predicate is false`.
    TestNot,
    /// If `acc` is false, jump forward by the operand.
    JumpIfFalse,
    /// If `acc` is true, jump forward by the operand.
    JumpIfTrue,
    /// `acc = !acc`.
    Not,
    /// If the predicate is false, the mapping does not match: stop.
    Require,
    /// If the predicate is true, the mapping does not match: stop.
    Forbid,
    /// If `acc` is false, the mapping does not match: stop.
    Check,
}

impl Inst {
    fn new(op: Op, arg: u32) -> Inst {
        let code = match op {
            Op::Test => 0,
            Op::TestNot => 1,
            Op::JumpIfFalse => 2,
            Op::JumpIfTrue => 3,
            Op::Not => 4,
            Op::Require => 5,
            Op::Forbid => 6,
            Op::Check => 7,
        };
        Inst(code << OP_SHIFT | (arg & ARG_MASK))
    }

    pub(super) fn op(self) -> Op {
        match self.0 >> OP_SHIFT {
            0 => Op::Test,
            1 => Op::TestNot,
            2 => Op::JumpIfFalse,
            3 => Op::JumpIfTrue,
            4 => Op::Not,
            5 => Op::Require,
            6 => Op::Forbid,
            _ => Op::Check,
        }
    }

    pub(super) fn arg(self) -> u32 {
        self.0 & ARG_MASK
    }
}

impl fmt::Debug for Inst {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}({})", self.op(), self.arg())
    }
}

/// Appends the code of a mapping's rule to `code`: a top-level `all` as a
/// sequence of conditions that each stop the mapping when they fail.
pub(super) fn generate_mapping(expr: &Expr, code: &mut Vec<Inst>) {
    let Expr::All(children) = expr else {
        return generate(expr, code);
    };
    for child in children {
        match (child, child.negated_pred()) {
            (Expr::Pred(p), _) => code.push(Inst::new(Op::Require, p.0)),
            (_, Some(p)) => code.push(Inst::new(Op::Forbid, p.0)),
            (other, None) => {
                generate(other, code);
                code.push(Inst::new(Op::Check, 0));
            }
        }
    }
}

/// Appends the code of `expr` to `code`. An empty sequence means `true`.
/// Predicate ids fit the operand (checked by the compiler); so do jump
/// offsets, which are bounded by one mapping's code length.
pub(super) fn generate(expr: &Expr, code: &mut Vec<Inst>) {
    match expr {
        Expr::Const(_) => {} // only `true` reaches here: `false` mappings are dropped
        Expr::Pred(p) => code.push(Inst::new(Op::Test, p.0)),
        Expr::Not(inner) => match &**inner {
            Expr::Pred(p) => code.push(Inst::new(Op::TestNot, p.0)),
            other => {
                generate(other, code);
                code.push(Inst::new(Op::Not, 0));
            }
        },
        Expr::All(children) => junction(children, Op::JumpIfFalse, code),
        Expr::Any(children) => junction(children, Op::JumpIfTrue, code),
    }
}

fn junction(children: &[Expr], jump: Op, code: &mut Vec<Inst>) {
    let mut patches = Vec::with_capacity(children.len());
    for (i, child) in children.iter().enumerate() {
        generate(child, code);
        if i + 1 < children.len() {
            patches.push(code.len());
            code.push(Inst::new(jump, 0));
        }
    }
    let end = code.len();
    for at in patches {
        code[at] = Inst::new(jump, (end - at) as u32);
    }
}

/// Runs one mapping's code against the true-predicate bits.
#[inline]
pub(super) fn run(code: &[Inst], bits: &[u64]) -> bool {
    let test = |p: u32| bits.get(p as usize / 64).is_some_and(|w| w >> (p % 64) & 1 == 1);
    let mut acc = true;
    let mut pc = 0usize;
    while let Some(&inst) = code.get(pc) {
        let arg = inst.arg();
        pc += match inst.op() {
            Op::Test => {
                acc = test(arg);
                1
            }
            Op::TestNot => {
                acc = !test(arg);
                1
            }
            Op::JumpIfFalse if !acc => arg as usize,
            Op::JumpIfTrue if acc => arg as usize,
            Op::JumpIfFalse | Op::JumpIfTrue => 1,
            Op::Not => {
                acc = !acc;
                1
            }
            Op::Require => {
                if !test(arg) {
                    return false;
                }
                acc = true;
                1
            }
            Op::Forbid => {
                if test(arg) {
                    return false;
                }
                acc = true;
                1
            }
            Op::Check => {
                if !acc {
                    return false;
                }
                1
            }
        };
    }
    acc
}

/// The invariants `run` relies on for termination: every jump moves forward
/// and lands inside the code or just past its end.
#[cfg(test)]
pub(super) fn verify(code: &[Inst]) -> Result<(), String> {
    for (pc, inst) in code.iter().enumerate() {
        if matches!(inst.op(), Op::JumpIfFalse | Op::JumpIfTrue) {
            let target = pc + inst.arg() as usize;
            if inst.arg() == 0 || target > code.len() {
                return Err(format!("bad jump at {pc}: {inst:?}"));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::PredId;

    fn p(i: u32) -> Expr {
        Expr::Pred(PredId(i))
    }

    fn eval(expr: &Expr, truth: u64) -> bool {
        let mut code = Vec::new();
        generate(expr, &mut code);
        verify(&code).unwrap();
        let mut top = Vec::new();
        generate_mapping(expr, &mut top);
        verify(&top).unwrap();
        let result = run(&code, &[truth]);
        assert_eq!(run(&top, &[truth]), result, "{top:?}");
        result
    }

    #[test]
    fn code_agrees_with_the_tree() {
        // all[p0, any[p1, not all[p2, p3]], not p4]
        let expr = Expr::all([p(0), Expr::any([p(1), Expr::not(Expr::all([p(2), p(3)]))]), Expr::not(p(4))]);
        let tree = |t: u64| {
            let b = |i: u32| t >> i & 1 == 1;
            b(0) && (b(1) || !(b(2) && b(3))) && !b(4)
        };
        for truth in 0..32u64 {
            assert_eq!(eval(&expr, truth), tree(truth), "truth {truth:05b}");
        }
    }

    #[test]
    fn top_level_conditions_agree_with_the_tree() {
        // all[p0, not p1, any[p2, p3], not any[p4, p0]]
        let expr = Expr::all([p(0), Expr::not(p(1)), Expr::any([p(2), p(3)]), Expr::not(Expr::any([p(4), p(5)]))]);
        let tree = |t: u64| {
            let b = |i: u32| t >> i & 1 == 1;
            b(0) && !b(1) && (b(2) || b(3)) && !(b(4) || b(5))
        };
        for truth in 0..64u64 {
            assert_eq!(eval(&expr, truth), tree(truth), "truth {truth:06b}");
        }
    }

    #[test]
    fn empty_code_is_true() {
        assert!(run(&[], &[]));
    }
}
