//! The program as readable text (`rolemap disasm`): fields, predicates,
//! indexes, anchors and the bytecode of every mapping.

use super::codegen::Op;
use super::{MappingId, Program};
use crate::ir::PredId;
use crate::matcher::Matcher;
use std::fmt::{self, Write};

impl fmt::Display for Program {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "; {} mappings, {} fields, {} predicates, {} roles, {} instructions",
            self.mappings.len(),
            self.fields.len(),
            self.predicates.len(),
            self.role_names.len(),
            self.code.len()
        )?;
        writeln!(f, "\nfields:")?;
        for (i, field) in self.fields.iter().enumerate() {
            let kind = if field.field.is_dn_aware() { "dn-aware" } else { "generic" };
            writeln!(f, "  f{i} {} ({kind}): {}", field.field, field.summary())?;
        }
        writeln!(f, "\npredicates:")?;
        for (i, (field, matcher)) in self.predicates.iter().enumerate() {
            let kind = match matcher {
                Matcher::Null => "absent or null",
                Matcher::Bool(_) => "boolean",
                Matcher::Int(_) => "integer",
                Matcher::Literal { .. } => "literal",
                Matcher::Pattern(p) if p.pattern.is_regex() => "regex",
                Matcher::Pattern(_) => "wildcard",
            };
            let anchored = self.posting_ranges.get(i).map_or(0, |r| r.len());
            let op = if matches!(matcher, Matcher::Pattern(_)) { "matches" } else { "==" };
            writeln!(
                f,
                "  {} f{field} {} {op} {matcher}  ; {kind}, anchors {anchored} mapping(s)",
                PredId(i as u32),
                self.fields[*field].field
            )?;
        }
        writeln!(f, "\nmappings:")?;
        for (i, entry) in self.mappings.iter().enumerate() {
            let roles: Vec<&str> = self.mapping_roles[entry.roles.start as usize..entry.roles.end as usize]
                .iter()
                .map(|r| &*self.role_names[r.0 as usize])
                .collect();
            writeln!(f, "  m{i} {}", serde_json::Value::String(entry.name.to_string()))?;
            if !roles.is_empty() {
                writeln!(f, "    roles: {}", roles.join(", "))?;
            }
            for t in &entry.templates {
                writeln!(f, "    template: {}", t.describe())?;
            }
            match &entry.anchors {
                Some(preds) => {
                    let list: Vec<String> = preds.iter().map(PredId::to_string).collect();
                    writeln!(f, "    anchors: {}", list.join(" "))?;
                }
                None => writeln!(f, "    anchors: none (verified for every user)")?,
            }
            let code = &self.code[entry.code.start as usize..entry.code.end as usize];
            if code.is_empty() {
                writeln!(f, "    (always true)")?;
            }
            for (pc, inst) in code.iter().enumerate() {
                let mut line = String::new();
                let _ = match inst.op() {
                    Op::Test => write!(line, "test {}", PredId(inst.arg())),
                    Op::TestNot => write!(line, "test-not {}", PredId(inst.arg())),
                    Op::JumpIfFalse => write!(line, "jump-if-false {:04}", pc + inst.arg() as usize),
                    Op::JumpIfTrue => write!(line, "jump-if-true {:04}", pc + inst.arg() as usize),
                    Op::Not => write!(line, "not"),
                    Op::Require => write!(line, "require {}", PredId(inst.arg())),
                    Op::Forbid => write!(line, "forbid {}", PredId(inst.arg())),
                    Op::Check => write!(line, "check"),
                };
                writeln!(f, "    {pc:04} {line}")?;
            }
        }
        if !self.always.is_empty() {
            let list: Vec<String> = self.always.iter().map(|MappingId(m)| format!("m{m}")).collect();
            writeln!(f, "\nverified for every user: {}", list.join(" "))?;
        }
        if !self.inert.is_empty() {
            writeln!(f, "\nleft out:")?;
            for (name, why) in &self.inert {
                writeln!(f, "  {}: {why}", serde_json::Value::String(name.to_string()))?;
            }
        }
        Ok(())
    }
}
