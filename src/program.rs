//! The compiled program: every enabled mapping in one immutable structure,
//! evaluated in time that grows with what the user has, not with how many
//! mappings there are.
//!
//! Evaluation runs in three steps (see `design/architecture.md`):
//! 1. **Predicates.** Each value the user has is looked up in the indexes of
//!    its field (hash tables of exact values, prefix and suffix tables and a
//!    literal prefilter for patterns, normalized-DN and subtree tables), which
//!    yields the set of true predicates. Only `null` tests, which are true when
//!    a field is *absent*, are checked one by one.
//! 2. **Candidates.** Every mapping has anchors, predicates of which at least
//!    one must be true for it to match; only mappings with a true anchor, and
//!    the few without anchors, are looked at.
//! 3. **Verification.** A candidate's bytecode, a short forward-jumping
//!    sequence over predicate bits, decides it. It cannot loop or fail.

mod codegen;
mod disasm;
mod index;
mod table;

use crate::error::{Error, ErrorKind, Errors, Location};
use crate::ir::{Expr, PredId};
use crate::matcher::{Field, Matcher};
use crate::reference::Resolution;
use crate::rules::{Cond, NumberGuard, ResolveError, RoleTemplate, RuleSet};
use crate::user::{Meta, Metadata, Model};
use codegen::Inst;
use index::{FieldBuilder, FieldIndex};
use rustc_hash::FxHashMap;
use smallvec::SmallVec;
use std::hash::BuildHasher;
use std::ops::Range;

/// A mapping's position in the program.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct MappingId(u32);

/// A role name's position in the program's role table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct RoleId(u32);

/// The prior cost of anchoring on a predicate most users satisfy.
const BROAD_PREDICATE_COST: u32 = 64;

/// The source of program ids (see [`ClaimSet`]).
static NEXT_PROGRAM_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Predicate ids and jump offsets share an instruction word with the opcode.
const MAX_PREDICATES: usize = 1 << 29;

/// All enabled role mappings compiled into one program.
///
/// A `Program` is immutable and `Send + Sync`: share it between threads and
/// give each thread its own [`Scratch`].
///
/// ```
/// use rolemap::{Model, Program, Scratch, User};
///
/// let program = Program::from_json(r#"{
///   "jwt1_admins": {"enabled": true, "roles": ["superuser"],
///     "rules": {"all": [{"field": {"realm.name": "jwt1"}}, {"field": {"groups": "elasticadmins"}}]}}
/// }"#).unwrap();
/// let mut user = User::new("jdoe", "jwt1");
/// user.groups = vec!["elasticadmins".into()];
/// let model = Model::new(&user).unwrap();
/// let mut scratch = Scratch::default();
/// let roles = program.evaluate(&model, &mut scratch).unwrap();
/// assert_eq!(roles.names().collect::<Vec<_>>(), ["superuser"]);
/// assert_eq!(roles.mapping_names().collect::<Vec<_>>(), ["jwt1_admins"]);
/// ```
#[derive(Debug)]
pub struct Program {
    /// Tells this program's claim sets from another's.
    id: u64,
    fields: Vec<FieldIndex>,
    username: Option<usize>,
    realm: Option<usize>,
    dn: Option<usize>,
    groups: Option<usize>,
    /// Metadata fields by key, sorted by key (merged with the model's
    /// sorted metadata).
    metadata: Vec<(Box<str>, usize)>,
    /// By `PredId`: the field (index into `fields`) and the rule value.
    predicates: Vec<(usize, Matcher)>,
    /// `null` tests: true when the field is absent, so no value can set them.
    null_checks: Vec<(PredId, NullCheck)>,
    code: Vec<Inst>,
    /// By `MappingId`, what evaluation needs ...
    hot: Vec<Hot>,
    /// ... and the rest.
    mappings: Vec<MappingEntry>,
    /// By `PredId`: the mappings it anchors, as ranges into `postings`.
    posting_ranges: Vec<Range<u32>>,
    postings: Vec<MappingId>,
    /// Mappings without anchors: verified for every user.
    always: Vec<MappingId>,
    role_names: Vec<Box<str>>,
    mapping_roles: Vec<RoleId>,
    /// Mappings that never apply, for the listing: (name, why).
    inert: Vec<(Box<str>, &'static str)>,
    numbers: NumberGuard,
}

/// What evaluating a candidate reads of its mapping, 16 bytes apiece and
/// apart from the rest of [`MappingEntry`], so that a candidate of a large
/// program costs a cache line here rather than several.
#[derive(Debug, Clone, Copy)]
struct Hot {
    code_start: u32,
    code_end: u32,
    roles_start: u32,
    /// The end of the roles; the top bit says the mapping has role templates.
    roles_end: u32,
}

const HAS_TEMPLATES: u32 = 1 << 31;

#[derive(Debug)]
struct MappingEntry {
    name: Box<str>,
    code: Range<u32>,
    roles: Range<u32>,
    templates: Vec<RoleTemplate>,
    anchors: Option<Vec<PredId>>,
}

#[derive(Debug, Clone)]
enum NullCheck {
    Dn,
    Metadata(Box<str>),
}

impl Program {
    /// Parses, checks and compiles a role-mapping JSON document with the
    /// default [`Options`](crate::Options).
    pub fn from_json(text: &str) -> Result<Program, Errors> {
        let options = crate::Options::default();
        let rules = RuleSet::from_json(text, "mapping", &options)?;
        Program::compile(&rules)
    }

    /// Tells this program from every other one built in the process.
    pub(crate) fn id(&self) -> u64 {
        self.id
    }

    /// Compiles checked mappings. Disabled mappings are left out.
    pub fn compile(rules: &RuleSet) -> Result<Program, Errors> {
        let mut c = Compiler::default();
        let mut exprs = Vec::new();
        for rule in &rules.rules {
            if !rule.enabled {
                c.inert.push((rule.name.clone(), "disabled"));
                continue;
            }
            let expr = c.lower(&rule.cond);
            if expr == Expr::Const(false) {
                c.inert.push((rule.name.clone(), "its rule can never match"));
                continue;
            }
            exprs.push((rule, expr));
        }
        if c.predicates.len() >= MAX_PREDICATES {
            return Err(Error::new(ErrorKind::ProgramTooLarge("2^29 predicates"), Location::root()).into());
        }
        // The cost of anchoring on a predicate: how many mappings use it, plus
        // a prior for predicates that most users satisfy (a realm name, a
        // `null` test, a pattern that matches every string).
        let mut usage: Vec<u32> = c
            .predicates
            .iter()
            .map(|(field, matcher)| {
                let broad = matches!(c.fields[*field], Field::Realm)
                    || matches!(matcher, Matcher::Null)
                    || matches!(matcher, Matcher::Pattern(p) if matches!(p.pattern.shape(), crate::pattern::Shape::Any));
                if broad { BROAD_PREDICATE_COST } else { 0 }
            })
            .collect();
        for (_, expr) in &exprs {
            let mut seen = Vec::new();
            collect_preds(expr, &mut seen);
            seen.sort_unstable();
            seen.dedup();
            for p in seen {
                usage[p.index()] += 1;
            }
        }
        let mut code = Vec::new();
        let mut mappings = Vec::with_capacity(exprs.len());
        let mut role_ids: FxHashMap<Box<str>, RoleId> = FxHashMap::default();
        let mut role_names = Vec::new();
        let mut mapping_roles = Vec::new();
        // By role id: the last mapping (plus one) that granted it, to drop
        // a role listed twice in one mapping.
        let mut granted_by: Vec<usize> = Vec::new();
        let mut anchored: Vec<(PredId, MappingId)> = Vec::new();
        let mut always = Vec::new();
        for (i, (rule, expr)) in exprs.iter().enumerate() {
            let id = MappingId(u32::try_from(i).map_err(|_| too_large("2^32 mappings"))?);
            let start = code.len();
            codegen::generate_mapping(expr, &mut code);
            let code_range = to_u32(start)?..to_u32(code.len())?;
            let roles_start = mapping_roles.len();
            for role in &rule.roles {
                let next = RoleId(to_u32(role_names.len())?);
                let role = *role_ids.entry(role.clone()).or_insert_with(|| {
                    role_names.push(role.clone());
                    granted_by.push(0);
                    next
                });
                if granted_by[role.0 as usize] != i + 1 {
                    granted_by[role.0 as usize] = i + 1;
                    mapping_roles.push(role);
                }
            }
            let anchors = anchors(expr, &usage);
            match &anchors {
                Some(preds) => anchored.extend(preds.iter().map(|&p| (p, id))),
                None => always.push(id),
            }
            mappings.push(MappingEntry {
                name: rule.name.clone(),
                code: code_range,
                roles: to_u32(roles_start)?..to_u32(mapping_roles.len())?,
                templates: rule.templates.clone(),
                anchors,
            });
        }
        anchored.sort_unstable();
        anchored.dedup();
        let mut posting_ranges = Vec::with_capacity(c.predicates.len());
        let mut postings = Vec::with_capacity(anchored.len());
        let mut next = anchored.iter().peekable();
        for p in 0..c.predicates.len() {
            let start = to_u32(postings.len())?;
            while let Some(&&(q, m)) = next.peek() {
                if q.index() != p {
                    break;
                }
                postings.push(m);
                next.next();
            }
            posting_ranges.push(start..to_u32(postings.len())?);
        }
        let mut fields: Vec<FieldBuilder> = c.fields.iter().map(|f| FieldBuilder::new(f.clone())).collect();
        let mut null_checks = Vec::new();
        for (p, (field, matcher)) in c.predicates.iter().enumerate() {
            let id = PredId(p as u32);
            if matches!(matcher, Matcher::Null) {
                // `null` on a field that can be absent: `dn` or metadata.
                let check = match &fields[*field].field {
                    Field::Metadata(key) => NullCheck::Metadata(key.clone()),
                    _ => NullCheck::Dn,
                };
                null_checks.push((id, check));
            } else {
                fields[*field].add(id, matcher);
            }
        }
        let fields = fields
            .into_iter()
            .map(FieldBuilder::finish)
            .collect::<Result<Vec<FieldIndex>, _>>()
            .map_err(|e| Errors::from(Error::new(e, Location::root())))?;
        let slot = |want: &Field| c.fields.iter().position(|f| f == want);
        let mut metadata: Vec<(Box<str>, usize)> = c
            .fields
            .iter()
            .enumerate()
            .filter_map(|(i, f)| match f {
                Field::Metadata(key) => Some((key.clone(), i)),
                _ => None,
            })
            .collect();
        metadata.sort_unstable();
        let mut hot = Vec::with_capacity(mappings.len());
        for m in &mappings {
            if m.roles.end >= HAS_TEMPLATES {
                return Err(too_large("2^31 role grants"));
            }
            let templates = if m.templates.is_empty() { 0 } else { HAS_TEMPLATES };
            hot.push(Hot {
                code_start: m.code.start,
                code_end: m.code.end,
                roles_start: m.roles.start,
                roles_end: m.roles.end | templates,
            });
        }
        Ok(Program {
            hot,
            id: NEXT_PROGRAM_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            username: slot(&Field::Username),
            realm: slot(&Field::Realm),
            dn: slot(&Field::Dn),
            groups: slot(&Field::Groups),
            metadata,
            fields,
            predicates: c.predicates,
            null_checks,
            code,
            mappings,
            posting_ranges,
            postings,
            always,
            role_names,
            mapping_roles,
            inert: c.inert,
            numbers: rules.numbers.clone(),
        })
    }

    /// How many mappings the program evaluates (enabled ones that can match).
    pub fn len(&self) -> usize {
        self.mappings.len()
    }

    /// Whether no mapping can ever match.
    pub fn is_empty(&self) -> bool {
        self.mappings.is_empty()
    }

    /// About how many bytes the program occupies: its tables, code and
    /// strings (compiled regular expressions counted by their source).
    pub fn memory_bytes(&self) -> usize {
        use std::mem::size_of;
        fn slice<T>(v: &[T]) -> usize {
            std::mem::size_of_val(v)
        }
        let strs = |names: &[Box<str>]| names.iter().map(|n| n.len()).sum::<usize>() + slice(names);
        let matcher_text = |m: &Matcher| match m {
            Matcher::Literal { text, normalized } => text.len() + normalized.as_ref().map_or(0, |n| n.len()),
            Matcher::Pattern(p) => size_of::<crate::matcher::PatternMatcher>() + 4 * p.pattern.source().len(),
            _ => 0,
        };
        let mut bytes = size_of::<Program>();
        bytes += self.fields.iter().map(FieldIndex::memory_bytes).sum::<usize>();
        bytes += slice(&self.predicates) + self.predicates.iter().map(|(_, m)| matcher_text(m)).sum::<usize>();
        bytes += slice(&self.null_checks) + slice(&self.code) + slice(&self.posting_ranges) + slice(&self.postings);
        bytes += slice(&self.always) + strs(&self.role_names) + slice(&self.mapping_roles) + slice(&self.hot);
        bytes += self
            .mappings
            .iter()
            .map(|m| size_of::<MappingEntry>() + m.name.len() + m.anchors.as_ref().map_or(0, |a| slice(a)))
            .sum::<usize>();
        bytes += self.metadata.iter().map(|(k, _)| k.len() + size_of::<(Box<str>, usize)>()).sum::<usize>();
        bytes
    }

    /// Resolves the roles of a user: [`flatten`](Program::flatten) and
    /// [`evaluate_claims`](Program::evaluate_claims) in one step, without
    /// building the claim set.
    ///
    /// Fails only as Elasticsearch does (spec §3.6): when a role template of
    /// a matching mapping does not render to role names, or when an integer
    /// rule meets a metadata integer past the 64-bit range. (A user whose
    /// model cannot be built fails earlier, in [`Model::new`].)
    pub fn evaluate<'p>(&'p self, model: &Model, scratch: &mut Scratch) -> Result<Roles<'p>, ResolveError> {
        self.check_numbers(model)?;
        scratch.prepare(self.predicates.len(), self.mappings.len(), self.role_names.len());
        self.find_predicates(model, scratch);
        self.decide(model, scratch)
    }

    /// The user as this program sees it: the predicates its values make
    /// true, found by looking each value up once in the program's indexes.
    /// Evaluating a claim set then only visits the mappings it can match.
    /// A service that sees the same user often (a token cache) can keep the
    /// claim set beside the user and skip this step.
    ///
    /// ```
    /// use rolemap::{Model, Program, Scratch, User};
    ///
    /// let program = Program::from_json(r#"{"admins": {"enabled": true, "roles": ["superuser"],
    ///     "rules": {"field": {"groups": "admins"}}}}"#).unwrap();
    /// let mut user = User::new("jdoe", "jwt1");
    /// user.groups = vec!["admins".into(), "staff".into()];
    /// let model = Model::new(&user).unwrap();
    /// let mut scratch = Scratch::default();
    /// let claims = program.flatten(&model, &mut scratch).unwrap();
    /// let roles = program.evaluate_claims(&claims, &mut scratch).unwrap();
    /// assert_eq!(roles.names().collect::<Vec<_>>(), ["superuser"]);
    /// ```
    pub fn flatten<'m, 'a>(
        &self,
        model: &'m Model<'a>,
        scratch: &mut Scratch,
    ) -> Result<ClaimSet<'m, 'a>, ResolveError> {
        self.check_numbers(model)?;
        scratch.prepare(self.predicates.len(), self.mappings.len(), self.role_names.len());
        self.find_predicates(model, scratch);
        let mut truth: SmallVec<[PredId; 32]> = SmallVec::from_slice(&scratch.truth.set);
        truth.sort_unstable();
        Ok(ClaimSet { program: self.id, model, truth })
    }

    /// Resolves the roles of a user flattened by [`flatten`](Program::flatten).
    ///
    /// Fails as [`evaluate`](Program::evaluate) does, and when the claim set
    /// was flattened against another program (its predicates would mean
    /// something else here).
    pub fn evaluate_claims<'p>(&'p self, claims: &ClaimSet, scratch: &mut Scratch) -> Result<Roles<'p>, ResolveError> {
        if claims.program != self.id {
            return Err(ResolveError {
                mapping: String::new(),
                message: "the claim set was flattened against another program".into(),
            });
        }
        scratch.prepare(self.predicates.len(), self.mappings.len(), self.role_names.len());
        for &p in &claims.truth {
            scratch.truth.insert(p);
        }
        self.decide(claims.model, scratch)
    }

    fn check_numbers(&self, model: &Model) -> Result<(), ResolveError> {
        if model.has_big_number { self.numbers.check(model) } else { Ok(()) }
    }

    /// Steps 2 and 3: the candidates of the true predicates, verified.
    fn decide<'p>(&'p self, model: &Model, scratch: &mut Scratch) -> Result<Roles<'p>, ResolveError> {
        // Candidates: mappings anchored on a true predicate, then the rest.
        let Scratch { truth, candidates, seen, generation, .. } = scratch;
        candidates.clear();
        for &p in &truth.set {
            let range = &self.posting_ranges[p.index()];
            for &m in &self.postings[range.start as usize..range.end as usize] {
                let mark = &mut seen[m.0 as usize];
                if *mark != *generation {
                    *mark = *generation;
                    candidates.push(m);
                }
            }
        }
        candidates.extend_from_slice(&self.always);
        candidates.sort_unstable();
        let mut roles = SmallVec::new();
        let mut mappings = SmallVec::new();
        let mut rendered = Vec::new();
        let mut scope = None;
        for &m in candidates.iter() {
            let hot = self.hot[m.0 as usize];
            let code = &self.code[hot.code_start as usize..hot.code_end as usize];
            if !codegen::run(code, &truth.bits) {
                continue;
            }
            mappings.push(m);
            let roles_end = hot.roles_end & !HAS_TEMPLATES;
            for &role in &self.mapping_roles[hot.roles_start as usize..roles_end as usize] {
                let mark = &mut scratch.role_seen[role.0 as usize];
                if *mark != scratch.generation {
                    *mark = scratch.generation;
                    roles.push(role);
                }
            }
            if hot.roles_end & HAS_TEMPLATES == 0 {
                continue;
            }
            let entry = &self.mappings[m.0 as usize];
            for template in &entry.templates {
                let scope = scope.get_or_insert_with(|| model.template_scope());
                let names = template
                    .roles(scope)
                    .map_err(|message| ResolveError { mapping: entry.name.to_string(), message })?;
                rendered.extend(names);
            }
        }
        Ok(Roles { program: self, roles, rendered, mappings })
    }

    /// [`evaluate`](Program::evaluate) with its own scratch, as a
    /// [`Resolution`]: convenient, not the fastest way.
    pub fn resolve(&self, model: &Model) -> Result<Resolution, ResolveError> {
        Ok(self.evaluate(model, &mut Scratch::default())?.to_resolution())
    }

    /// Step 1: the set of true predicates for this user.
    fn find_predicates(&self, model: &Model, scratch: &mut Scratch) {
        if let Some(f) = self.username {
            self.fields[f].match_str(model.username, scratch);
        }
        if let Some(f) = self.realm {
            self.fields[f].match_str(model.realm, scratch);
        }
        if let (Some(f), Some(dn)) = (self.dn, model.dn) {
            let field = &self.fields[f];
            let normalized = if field.reads_normalized_dn { model.dn_normalized() } else { None };
            field.match_dn(dn, normalized, scratch);
        }
        if let Some(f) = self.groups {
            let field = &self.fields[f];
            if field.reads_normalized_dn {
                for (group, normalized) in model.groups.iter().zip(model.groups_normalized()) {
                    field.match_dn(group, normalized.as_deref(), scratch);
                }
            } else if field.only_folded {
                for group in model.groups {
                    field.match_folded(group, scratch);
                }
            } else {
                for group in model.groups {
                    field.match_dn(group, None, scratch);
                }
            }
        }
        match &model.metadata {
            // Both lists are sorted by key: one merge finds the keys in both.
            Metadata::Sorted(entries) => {
                let (mut wanted, mut have) = (self.metadata.iter().peekable(), entries.iter().peekable());
                while let (Some((key, f)), Some((user_key, value))) = (wanted.peek(), have.peek()) {
                    match (**key).cmp(*user_key) {
                        std::cmp::Ordering::Less => {
                            wanted.next();
                        }
                        std::cmp::Ordering::Greater => {
                            have.next();
                        }
                        std::cmp::Ordering::Equal => {
                            self.fields[*f].match_meta(value, scratch);
                            wanted.next();
                            have.next();
                        }
                    }
                }
            }
            // A realm's few keys, unsorted: each looked up among the wanted ones.
            Metadata::Members(members) => {
                for (key, value) in members.iter() {
                    if let Ok(i) = self.metadata.binary_search_by(|(k, _)| (**k).cmp(key))
                        && let Some(value) = Meta::of(value)
                    {
                        self.fields[self.metadata[i].1].match_meta(&value, scratch);
                    }
                }
            }
        }
        for (p, check) in &self.null_checks {
            let absent_or_null = match check {
                NullCheck::Dn => model.dn.is_none(),
                NullCheck::Metadata(key) => model.metadata(key).is_none_or(|v| v.matches_null()),
            };
            if absent_or_null {
                scratch.truth.insert(*p);
            }
        }
    }
}

fn to_u32(n: usize) -> Result<u32, Errors> {
    u32::try_from(n).map_err(|_| too_large("2^32 instructions, roles or postings"))
}

fn too_large(what: &'static str) -> Errors {
    Error::new(ErrorKind::ProgramTooLarge(what), Location::root()).into()
}

#[derive(Default)]
struct Compiler {
    fields: Vec<Field>,
    field_ids: FxHashMap<Field, usize>,
    predicates: Vec<(usize, Matcher)>,
    /// `predicates` by field and [`MatcherKey`], to intern them.
    predicate_ids: hashbrown::HashTable<PredId>,
    inert: Vec<(Box<str>, &'static str)>,
}

/// What makes two rule values of one field the same predicate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum MatcherKey<'a> {
    Null,
    Bool(bool),
    Int(i64),
    Literal(&'a str),
    Pattern(&'a str),
}

impl<'a> MatcherKey<'a> {
    fn of(matcher: &'a Matcher) -> Self {
        match matcher {
            Matcher::Null => MatcherKey::Null,
            Matcher::Bool(b) => MatcherKey::Bool(*b),
            Matcher::Int(i) => MatcherKey::Int(*i),
            Matcher::Literal { text, .. } => MatcherKey::Literal(text),
            Matcher::Pattern(p) => MatcherKey::Pattern(p.pattern.source()),
        }
    }
}

impl Compiler {
    /// Lowers a checked rule to IR, interning predicates and folding what the
    /// model's shape decides on its own (spec §3.1): `username` and
    /// `realm.name` are always strings, `groups` always a set of strings, and
    /// names the model never defines match only `null`.
    fn lower(&mut self, cond: &Cond) -> Expr {
        match cond {
            Cond::Any(cs) => Expr::any(cs.iter().map(|c| self.lower(c))),
            Cond::All(cs) => Expr::all(cs.iter().map(|c| self.lower(c))),
            Cond::Not(c) => Expr::not(self.lower(c)),
            Cond::Field { field, matchers } => Expr::any(matchers.iter().map(|m| self.predicate(field, m))),
        }
    }

    fn predicate(&mut self, field: &Field, matcher: &Matcher) -> Expr {
        let scalar = matches!(matcher, Matcher::Null | Matcher::Bool(_) | Matcher::Int(_));
        match field {
            Field::Absent(_) => return Expr::Const(matcher.matches_absent()),
            Field::Username | Field::Realm if scalar => return Expr::Const(false),
            Field::Groups if scalar => return Expr::Const(false),
            Field::Dn if matches!(matcher, Matcher::Bool(_) | Matcher::Int(_)) => return Expr::Const(false),
            _ => {}
        }
        if let (Field::Username | Field::Realm, Matcher::Pattern(p)) = (field, matcher)
            && matches!(p.pattern.shape(), crate::pattern::Shape::Any)
        {
            return Expr::Const(true);
        }
        let f = match self.field_ids.get(field) {
            Some(&f) => f,
            None => {
                let f = self.fields.len();
                self.field_ids.insert(field.clone(), f);
                self.fields.push(field.clone());
                f
            }
        };
        // Interned without cloning the value unless it is new: most rule
        // values (a realm name, a shared group) recur across mappings.
        let predicates = &self.predicates;
        let hash = |f: usize, key: MatcherKey| rustc_hash::FxBuildHasher.hash_one((f, key));
        let key = MatcherKey::of(matcher);
        let found = self.predicate_ids.find(hash(f, key), |id| {
            let (g, m) = &predicates[id.index()];
            *g == f && MatcherKey::of(m) == key
        });
        if let Some(&id) = found {
            return Expr::Pred(id);
        }
        let id = PredId(self.predicates.len() as u32);
        self.predicates.push((f, matcher.clone()));
        let predicates = &self.predicates;
        self.predicate_ids.insert_unique(hash(f, key), id, |id| {
            let (g, m) = &predicates[id.index()];
            hash(*g, MatcherKey::of(m))
        });
        Expr::Pred(id)
    }
}

fn collect_preds(expr: &Expr, out: &mut Vec<PredId>) {
    match expr {
        Expr::Const(_) => {}
        Expr::Pred(p) => out.push(*p),
        Expr::Not(e) => collect_preds(e, out),
        Expr::All(es) | Expr::Any(es) => es.iter().for_each(|e| collect_preds(e, out)),
    }
}

/// Predicates at least one of which is true whenever `expr` is, or `None`
/// when there is no such set (a negation, or `true`). For `all`, the child
/// whose anchors are used by the fewest mappings is taken: a group that one
/// mapping tests beats the realm that every mapping tests.
fn anchors(expr: &Expr, usage: &[u32]) -> Option<Vec<PredId>> {
    match expr {
        Expr::Const(true) | Expr::Not(_) => None,
        Expr::Const(false) => Some(Vec::new()),
        Expr::Pred(p) => Some(vec![*p]),
        Expr::All(es) => es
            .iter()
            .filter_map(|e| anchors(e, usage))
            .min_by_key(|preds| preds.iter().map(|p| u64::from(usage[p.index()])).sum::<u64>()),
        Expr::Any(es) => {
            let mut all = Vec::new();
            for e in es {
                all.extend(anchors(e, usage)?);
            }
            all.sort_unstable();
            all.dedup();
            Some(all)
        }
    }
}

/// A user flattened against one program by [`Program::flatten`]: the
/// program's predicates that the user's values make true, and the model
/// (for role templates). Only the program that made it can evaluate it.
#[derive(Debug, Clone)]
pub struct ClaimSet<'m, 'a> {
    program: u64,
    model: &'m Model<'a>,
    /// Sorted.
    truth: SmallVec<[PredId; 32]>,
}

impl ClaimSet<'_, '_> {
    /// How many of the program's predicates the user satisfies.
    pub fn len(&self) -> usize {
        self.truth.len()
    }

    /// Whether the user satisfies none of the program's predicates.
    pub fn is_empty(&self) -> bool {
        self.truth.is_empty()
    }
}

/// The roles a program grants a user. Borrows the program for the names.
#[derive(Debug, Clone)]
pub struct Roles<'p> {
    program: &'p Program,
    /// Inline up to a few dozen: most users get that many roles or fewer,
    /// and then evaluation allocates nothing.
    roles: SmallVec<[RoleId; 24]>,
    rendered: Vec<String>,
    mappings: SmallVec<[MappingId; 24]>,
}

impl<'p> Roles<'p> {
    /// The granted role names: each fixed role once, then rendered template
    /// roles (which may repeat one of them). Use
    /// [`to_resolution`](Roles::to_resolution) for a sorted set.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.roles
            .iter()
            .map(|r| &*self.program.role_names[r.0 as usize])
            .chain(self.rendered.iter().map(String::as_str))
    }

    /// The names of the mappings that matched, in program order.
    pub fn mapping_names(&self) -> impl Iterator<Item = &'p str> + '_ {
        self.mappings.iter().map(|m| &*self.program.mappings[m.0 as usize].name)
    }

    /// Whether no role was granted.
    pub fn is_empty(&self) -> bool {
        self.roles.is_empty() && self.rendered.is_empty()
    }

    /// Role and mapping names, sorted and deduplicated.
    pub fn to_resolution(&self) -> Resolution {
        let mut roles: Vec<String> = self.names().map(str::to_owned).collect();
        roles.sort_unstable();
        roles.dedup();
        let mut mappings: Vec<String> = self.mapping_names().map(str::to_owned).collect();
        mappings.sort_unstable();
        Resolution { roles, mappings }
    }
}

/// Working memory for [`Program::evaluate`], owned by the caller and reused
/// across evaluations (one per thread), so that evaluation allocates only
/// its output once the scratch has grown to the program's size.
#[derive(Debug, Default)]
pub struct Scratch {
    truth: PredSet,
    candidates: Vec<MappingId>,
    seen: Vec<u32>,
    role_seen: Vec<u32>,
    generation: u32,
    /// Case-folded, lower-cased and upper-cased forms of DN values.
    buffers: [String; 3],
}

impl Scratch {
    fn prepare(&mut self, predicates: usize, mappings: usize, roles: usize) {
        self.truth.clear(predicates);
        if self.generation == u32::MAX {
            self.seen.iter_mut().for_each(|s| *s = 0);
            self.role_seen.iter_mut().for_each(|s| *s = 0);
            self.generation = 0;
        }
        self.generation += 1;
        if self.seen.len() < mappings {
            self.seen.resize(mappings, 0);
        }
        if self.role_seen.len() < roles {
            self.role_seen.resize(roles, 0);
        }
    }
}

/// The true predicates: a bitset, and the list of set bits so clearing
/// costs what was set, not the program's size.
#[derive(Debug, Default)]
struct PredSet {
    bits: Vec<u64>,
    set: Vec<PredId>,
}

impl PredSet {
    fn clear(&mut self, predicates: usize) {
        for p in self.set.drain(..) {
            if let Some(word) = self.bits.get_mut(p.index() / 64) {
                *word = 0;
            }
        }
        let words = predicates.div_ceil(64);
        if self.bits.len() < words {
            self.bits.resize(words, 0);
        }
    }

    fn insert(&mut self, p: PredId) {
        if let Some(word) = self.bits.get_mut(p.index() / 64) {
            let bit = 1u64 << (p.index() % 64);
            if *word & bit == 0 {
                *word |= bit;
                self.set.push(p);
            }
        }
    }

    fn contains(&self, p: PredId) -> bool {
        self.bits.get(p.index() / 64).is_some_and(|w| w >> (p.index() % 64) & 1 == 1)
    }
}
