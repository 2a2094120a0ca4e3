//! The rows of the README's `## Limits` table, each at the limit (accepted,
//! and still working) and just past it (refused with an error that names the
//! limit), through the public API; and nesting far past every limit, on a
//! 2 MiB thread stack, refused without overflowing it.
//!
//! Two rows are not here: predicates per program (2^29, more than a test can
//! build) and the one-a-second bound on background JWK set reads (a matter
//! of timing, checked by the unit tests of `jwt::jwks`).

use crate::common::keys::hs256_raw;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rolemap::jwt::keys::{self, Algorithm, KeyErrorKind, MAX_JWK_SET_KEYS, MAX_JWK_SET_LEN};
use rolemap::jwt::settings::{self, MAX_YAML_DEPTH};
use rolemap::jwt::{MAX_TOKEN_LEN, Realms, Stage, Token};
use rolemap::template::{MAX_RENDERED_LEN, MAX_SECTION_DEPTH, MAX_TEMPLATE_LEN};
use rolemap::{Error, ErrorKind, MAX_META_DEPTH, Model, Options, Program, RuleSet, User};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

// ---------------------------------------------------------------------------
// Helpers.

/// Runs `f` on a thread with a 2 MiB stack, the default for spawned threads.
fn on_small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new().stack_size(2 << 20).spawn(f).unwrap().join().unwrap()
}

/// The deepest JSON nesting serde_json reads: its recursion limit is 128,
/// and the 128th nested container is the one refused.
const JSON_DEPTH: usize = 127;

/// `depth` nested arrays around `1`.
fn arrays(depth: usize) -> String {
    format!("{}1{}", "[".repeat(depth), "]".repeat(depth))
}

/// One mapping body granting `r` by `rule`, with more keys appended.
fn body(rule: &str, more: &str) -> String {
    format!(r#"{{"enabled": true, "roles": ["r"], "rules": {rule}{more}}}"#)
}

fn load(document: &str, options: &Options) -> Result<RuleSet, rolemap::Errors> {
    RuleSet::from_json(document, "m", options)
}

fn load_text(text: &str, options: &Options) -> Result<RuleSet, rolemap::Errors> {
    RuleSet::from_text(text, "m", options)
}

/// The only error of a document that must fail.
fn only_error(result: Result<RuleSet, rolemap::Errors>) -> Error {
    let Err(errors) = result else { panic!("the document must be refused") };
    assert_eq!(errors.len(), 1, "{errors}");
    errors.first().clone()
}

/// The roles `rules` grant `user`, through the compiled program.
fn roles(rules: &RuleSet, user: &User) -> Vec<String> {
    let program = Program::compile(rules).unwrap();
    program.resolve(&Model::new(user).unwrap()).unwrap().roles
}

fn user(name: &str) -> User {
    User::new(name, "jwt1")
}

/// `depth` nested rules: `depth - 1` `any` junctions around `username == "a"`.
fn nested_rules(depth: usize) -> String {
    let mut rule = r#"{"field": {"username": "a"}}"#.to_owned();
    for _ in 1..depth {
        rule = format!(r#"{{"any": [{rule}]}}"#);
    }
    rule
}

// ---------------------------------------------------------------------------
// Role mappings.

#[test]
fn rule_nesting() {
    let defaults = Options::default();
    assert_eq!(defaults.max_depth, 50);
    let at = load(&body(&nested_rules(50), ""), &defaults).unwrap();
    assert_eq!(roles(&at, &user("a")), ["r"]);
    let past = only_error(load(&body(&nested_rules(51), ""), &defaults));
    assert_eq!(past.kind(), &ErrorKind::TooDeep(50));
    assert_eq!(past.location().json_pointer(), format!("/rules{}", "/any/0".repeat(50)));
    assert!(
        past.to_string().starts_with("role mapping `m`: rules are nested deeper than the limit of 50 at `/rules/any/0")
    );

    // `except` counts as a level too.
    let with_except = |depth: usize| {
        let mut rule = r#"{"field": {"username": "b"}}"#.to_owned();
        for _ in 1..depth {
            rule = format!(r#"{{"all": [{{"field": {{"groups": "g"}}}}, {{"except": {rule}}}]}}"#);
        }
        rule
    };
    // all, except, all, except, ... : two levels a step, under an `any`.
    let at = format!(r#"{{"any": [{}]}}"#, with_except(25));
    let mut member = user("b");
    member.groups = vec!["g".into()];
    assert_eq!(roles(&load(&body(&at, ""), &defaults).unwrap(), &member), ["r"]);
    let past = format!(r#"{{"any": [{at}]}}"#);
    assert_eq!(only_error(load(&body(&past, ""), &defaults)).kind(), &ErrorKind::TooDeep(50));

    // The option moves the limit.
    let mut options = Options::default();
    options.max_depth = 3;
    assert!(load(&body(&nested_rules(3), ""), &options).is_ok());
    assert_eq!(only_error(load(&body(&nested_rules(4), ""), &options)).kind(), &ErrorKind::TooDeep(3));

    // The text form has the same limit, with a line and column.
    let text = |depth: usize| {
        format!(
            "mapping \"m\" {{\n  roles: \"r\"\n  rules: {}username == \"a\"{}\n}}\n",
            "any { ".repeat(depth - 1),
            " }".repeat(depth - 1)
        )
    };
    assert_eq!(roles(&load_text(&text(50), &defaults).unwrap(), &user("a")), ["r"]);
    let past = only_error(load_text(&text(51), &defaults));
    assert_eq!(past.kind(), &ErrorKind::TooDeep(50));
    assert_eq!(past.location().line_column(), Some((3, 10 + 50 * 6)));
}

#[test]
fn json_nesting_of_a_mapping_document() {
    // The document's object is one level, `metadata` another: the metadata
    // value may hold 125 more.
    let document = |depth: usize| {
        body(r#"{"field": {"username": "a"}}"#, &format!(r#", "metadata": {{"a": {}}}"#, arrays(depth - 2)))
    };
    let at = load(&document(JSON_DEPTH), &Options::default()).unwrap();
    assert_eq!(roles(&at, &user("a")), ["r"]);
    let past = only_error(load(&document(JSON_DEPTH + 1), &Options::default()));
    assert!(matches!(past.kind(), ErrorKind::Json(m) if m == "recursion limit exceeded"), "{past}");
    let column = document(JSON_DEPTH + 1).find(&"[".repeat(JSON_DEPTH - 1)).unwrap() + JSON_DEPTH - 1;
    assert_eq!(past.location().line_column(), Some((1, column)));
    assert!(past.to_string().starts_with("invalid JSON: recursion limit exceeded at line 1, column"), "{past}");
}

#[test]
fn json_nesting_of_a_user() {
    let user_json = |depth: usize| {
        format!(r#"{{"username": "u", "realm": {{"name": "r"}}, "metadata": {{"a": {}}}}}"#, arrays(depth - 2))
    };
    let at = User::from_json(&user_json(JSON_DEPTH)).unwrap();
    assert_eq!(at.username, "u");
    let past = User::from_json(&user_json(JSON_DEPTH + 1)).unwrap_err();
    assert!(past.to_string().contains("recursion limit exceeded"), "{past}");
}

#[test]
fn mappings_per_document() {
    assert_eq!(Options::default().max_mappings, 1_000_000);
    let mut options = Options::default();
    options.max_mappings = 3;
    let document = |n: usize| {
        let bodies: Vec<String> =
            (0..n).map(|i| format!(r#""m{i}": {}"#, body(r#"{"field": {"username": "a"}}"#, ""))).collect();
        format!("{{{}}}", bodies.join(", "))
    };
    let at = load(&document(3), &options).unwrap();
    assert_eq!(at.len(), 3);
    assert_eq!(Program::compile(&at).unwrap().resolve(&Model::new(&user("a")).unwrap()).unwrap().mappings.len(), 3);
    let past = only_error(load(&document(4), &options));
    assert_eq!(past.kind(), &ErrorKind::TooManyMappings(3));
    assert_eq!(past.to_string(), "more than 3 role mappings at the document root");

    // The text form.
    let text = |n: usize| -> String {
        (0..n).map(|i| format!("mapping \"m{i}\" {{ roles: \"r\" rules: username == \"a\" }}\n")).collect()
    };
    assert_eq!(load_text(&text(3), &options).unwrap().len(), 3);
    assert_eq!(only_error(load_text(&text(4), &options)).kind(), &ErrorKind::TooManyMappings(3));

    // A rule set built from parsed mappings.
    let (set, _) = rolemap::parse::parse_json(&document(4), "m", &Options::default()).unwrap();
    let mut four = Options::default();
    four.max_mappings = 4;
    assert_eq!(RuleSet::new(&set, &four).unwrap().len(), 4);
    assert_eq!(RuleSet::new(&set, &options).unwrap_err().first().kind(), &ErrorKind::TooManyMappings(3));
}

#[test]
fn values_per_field_rule() {
    assert_eq!(Options::default().max_values, 100_000);
    let rule = |n: usize| {
        let values: Vec<String> = (0..n).map(|i| format!("\"u{i}\"")).collect();
        format!(r#"{{"field": {{"username": [{}]}}}}"#, values.join(", "))
    };
    let mut options = Options::default();
    options.max_values = 4;
    let at = load(&body(&rule(4), ""), &options).unwrap();
    assert_eq!(roles(&at, &user("u3")), ["r"]);
    let past = only_error(load(&body(&rule(5), ""), &options));
    assert_eq!(past.kind(), &ErrorKind::TooManyValues("username".into(), 4));
    assert_eq!(past.location().json_pointer(), "/rules/field/username");
    assert_eq!(
        past.to_string(),
        "role mapping `m`: field `username` has more than 4 values at `/rules/field/username`"
    );

    // The text form, with its position.
    let text = |n: usize| {
        let values: Vec<String> = (0..n).map(|i| format!("\"u{i}\"")).collect();
        format!("mapping \"m\" {{\n  roles: \"r\"\n  rules: username == [{}]\n}}\n", values.join(", "))
    };
    assert_eq!(roles(&load_text(&text(4), &options).unwrap(), &user("u0")), ["r"]);
    let past = only_error(load_text(&text(5), &options));
    assert_eq!(past.kind(), &ErrorKind::TooManyValues("username".into(), 4));
    assert_eq!(past.location().line_column(), Some((3, 10)));
}

#[test]
fn list_nesting_in_user_metadata() {
    assert_eq!(MAX_META_DEPTH, 32);
    let with_lists = |depth: usize| {
        let mut user = user("u");
        user.metadata.insert("k".into(), serde_json::from_str(&arrays(depth)).unwrap());
        user
    };
    let document = body(r#"{"field": {"metadata.k": 1}}"#, "");
    let rules = load(&document, &Options::default()).unwrap();
    let at = with_lists(MAX_META_DEPTH);
    assert!(Model::new(&at).is_ok());
    // The model of a user at the limit is built and evaluated.
    let _ = Program::compile(&rules).unwrap().resolve(&Model::new(&at).unwrap()).unwrap();
    let past = with_lists(MAX_META_DEPTH + 1);
    let error = Model::new(&past).unwrap_err();
    assert_eq!(error.json_pointer(), format!("/metadata/k{}", "/0".repeat(MAX_META_DEPTH)));
    assert!(
        error.to_string().contains(&format!("lists are nested deeper than the limit of {MAX_META_DEPTH}")),
        "{error}"
    );
}

#[test]
fn bracket_nesting_in_the_text_form() {
    // 132 by default: the deepest rules (`max_depth`) or JSON (127) a
    // document can hold, plus the mapping's brace and a value list, fit.
    let open = |n: usize| "[".repeat(n);
    let at = only_error(load_text(&open(132), &Options::default()));
    assert!(!matches!(at.kind(), ErrorKind::NestingTooDeep(_)), "{at}");
    let past = only_error(load_text(&open(133), &Options::default()));
    assert_eq!(past.kind(), &ErrorKind::NestingTooDeep(132));
    assert_eq!(past.location().line_column(), Some((1, 133)));
    assert_eq!(past.to_string(), "brackets are nested deeper than the limit of 132 at line 1, column 133");

    // The deepest document of each kind is read: JSON metadata 127 deep in
    // all (128 brackets), and with `max_depth` 128 rules 128 deep with a
    // value list (130 brackets).
    let metadata = format!(
        "mapping \"m\" {{ roles: \"r\" rules: username == \"a\" metadata: {{\"a\": {}}} }}",
        arrays(JSON_DEPTH - 1)
    );
    assert_eq!(roles(&load_text(&metadata, &Options::default()).unwrap(), &user("a")), ["r"]);
    let mut options = Options::default();
    options.max_depth = 128;
    let rules = format!(
        "mapping \"m\" {{ roles: \"r\" rules: {}username == [\"a\", \"b\"]{} }}",
        "all { ".repeat(127),
        " }".repeat(127)
    );
    assert_eq!(roles(&load_text(&rules, &options).unwrap(), &user("b")), ["r"]);

    // `max_depth` past 128 raises it, up to 256.
    options.max_depth = 200;
    assert!(!matches!(only_error(load_text(&open(204), &options)).kind(), ErrorKind::NestingTooDeep(_)));
    assert_eq!(only_error(load_text(&open(205), &options)).kind(), &ErrorKind::NestingTooDeep(204));
    options.max_depth = 10_000;
    assert!(!matches!(only_error(load_text(&open(256), &options)).kind(), ErrorKind::NestingTooDeep(_)));
    assert_eq!(only_error(load_text(&open(257), &options)).kind(), &ErrorKind::NestingTooDeep(256));
}

// ---------------------------------------------------------------------------
// Patterns.

/// The only error of a rule on `username` with `value`, as an invalid pattern.
fn pattern_error(value: &str) -> String {
    let document = body(&json!({"field": {"username": value}}).to_string(), "");
    let error = only_error(load(&document, &Options::default()));
    assert_eq!(error.location().json_pointer(), "/rules/field/username");
    match error.kind() {
        ErrorKind::Pattern { message, .. } => message.clone(),
        other => panic!("not a pattern error: {other:?}"),
    }
}

/// Loads a rule on `username` with `value` and says whether `name` matches it.
fn pattern_matches(value: &str, name: &str) -> bool {
    pattern_matcher(value)(name)
}

/// Compiles a rule on `username` with `value` once, to test many names.
fn pattern_matcher(value: &str) -> impl Fn(&str) -> bool {
    let document = body(&json!({"field": {"username": value}}).to_string(), "");
    let rules = load(&document, &Options::default()).unwrap_or_else(|e| panic!("`{value}`: {e}"));
    let program = Program::compile(&rules).unwrap();
    move |name| !program.resolve(&Model::new(&user(name)).unwrap()).unwrap().roles.is_empty()
}

#[test]
fn pattern_length() {
    let wildcard = format!("{}*", "a".repeat(4095));
    assert!(pattern_matches(&wildcard, &"a".repeat(5000)));
    assert_eq!(pattern_error(&format!("a{wildcard}")), "the pattern is 4097 bytes long, over the limit of 4096");
    let regex = format!("/x{}/", "a".repeat(4093));
    assert!(pattern_matches(&regex, &regex[1..4095]));
    assert_eq!(pattern_error(&format!("/a{}", &regex[1..])), "the pattern is 4097 bytes long, over the limit of 4096");
    // A plain literal is no pattern, and only the document's own limits bound it.
    assert!(pattern_matches(&"a".repeat(10_000), &"a".repeat(10_000)));
}

#[test]
fn regex_nesting() {
    let nested = |depth: usize| format!("/{}a{}/", "(".repeat(depth), ")".repeat(depth));
    assert!(pattern_matches(&nested(64), "a"));
    assert!(pattern_error(&nested(65)).starts_with("the regular expression nests deeper than 64 levels"));
}

#[test]
fn regex_repetition() {
    let matches = pattern_matcher("/a{10000}/");
    assert!(matches(&"a".repeat(10_000)) && !matches(&"a".repeat(9_999)) && !matches(&"a".repeat(10_001)));
    assert!(
        pattern_error("/a{10001}/")
            .starts_with("the repetition `{10001}` is too large for its operand (limit 10000 automaton states)")
    );
}

#[test]
fn regex_automaton_size() {
    // No pattern sits exactly at 8 MiB; a large one under it is built, a
    // larger one refused.
    assert!(pattern_matches("/(a{100}){100}/", &"a".repeat(10_000)));
    assert_eq!(
        pattern_error("/((((.{100}){100}){100}){100})/"),
        format!("the regular expression is too large to compile (limit {} bytes)", 8 << 20)
    );
}

#[test]
fn dfa_states_with_intersection_or_complement() {
    // `a{9998}` has 9 999 states; its complement adds the sink: 10 000.
    let matches = pattern_matcher("/~(a{9998})/");
    assert!(matches(&"a".repeat(9_997)) && !matches(&"a".repeat(9_998)) && matches(&"a".repeat(9_999)));
    assert_eq!(pattern_error("/~(a{9999})/"), "the regular expression needs an automaton of more than 10000 states");
}

#[test]
fn dfa_states_of_other_regexes() {
    // The DFA may have 100 000 states, and the NFA it is determinized from
    // as many. A chain `a{n}` takes two NFA states a character, so the NFA
    // is what stops it, at 49 995 characters (a DFA of 49 996 states); the
    // error names the bound.
    let chain = |n: usize| {
        let pieces: Vec<String> =
            (0..n.div_ceil(10_000)).map(|i| format!("a{{{}}}", (n - i * 10_000).min(10_000))).collect();
        format!("/{}/", pieces.concat())
    };
    assert!(pattern_matches(&chain(49_995), &"a".repeat(49_995)));
    assert_eq!(pattern_error(&chain(49_996)), "the regular expression needs an automaton of more than 100000 states");
}

// ---------------------------------------------------------------------------
// Role templates.

fn template_body(script: Value) -> String {
    json!({"enabled": true, "rules": {"field": {"username": "*"}}, "role_templates": [{"template": script}]})
        .to_string()
}

fn template_error(script: Value) -> String {
    let error = only_error(load(&template_body(script), &Options::default()));
    match error.kind() {
        ErrorKind::Template(message) => message.clone(),
        other => panic!("not a template error: {other:?} ({error})"),
    }
}

#[test]
fn template_source_length() {
    assert_eq!(MAX_TEMPLATE_LEN, 64 * 1024);
    let source = "a".repeat(MAX_TEMPLATE_LEN);
    let rules = load(&template_body(json!({"source": source})), &Options::default()).unwrap();
    assert!(roles(&rules, &user("u")) == [source.as_str()], "the role is the whole source");
    let message = template_error(json!({"source": format!("{source}a")}));
    assert!(message.contains("template is 65537 bytes long, over the limit of 65536"), "{message}");
}

#[test]
fn template_section_depth() {
    assert_eq!(MAX_SECTION_DEPTH, 64);
    let nested = |depth: usize| format!("{}x{}", "{{#a}}".repeat(depth), "{{/a}}".repeat(depth));
    let rules = load(&template_body(json!({"source": nested(64), "params": {"a": true}})), &Options::default());
    assert_eq!(roles(&rules.unwrap(), &user("u")), ["x"]);
    let message = template_error(json!({"source": nested(65), "params": {"a": true}}));
    assert!(message.contains("sections nested deeper than 64"), "{message}");
}

#[test]
fn template_rendered_length() {
    assert_eq!(MAX_RENDERED_LEN, 1 << 20);
    let rules = load(&template_body(json!({"source": "{{username}}"})), &Options::default()).unwrap();
    let program = Program::compile(&rules).unwrap();
    let at = user(&"a".repeat(MAX_RENDERED_LEN));
    let granted = program.resolve(&Model::new(&at).unwrap()).unwrap().roles;
    assert!(granted.len() == 1 && granted[0] == at.username, "the role is the whole name");
    let past = user(&"a".repeat(MAX_RENDERED_LEN + 1));
    let error = program.resolve(&Model::new(&past).unwrap()).unwrap_err();
    assert_eq!(error.mapping(), "m");
    assert!(error.to_string().contains("rendered output longer than 1048576 bytes"), "{error}");
}

// ---------------------------------------------------------------------------
// The JWT realm.

const NOW: u64 = 1_800_000_000;
const HMAC: &str = "limits-tests-hmac-key-of-more-than-32-bytes";

struct Realm {
    realms: Realms,
    dir: PathBuf,
}

impl Drop for Realm {
    fn drop(&mut self) {
        std::fs::remove_dir_all(&self.dir).ok();
    }
}

fn temp_dir(what: &str) -> PathBuf {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("rolemap-limits-{what}-{}-{n}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn realm(extra: Value) -> Realm {
    let dir = temp_dir("realm");
    let mut flat = json!({
        "allowed_issuer": "iss", "allowed_audiences": ["aud"], "allowed_signature_algorithms": ["HS256"],
        "hmac_key": HMAC, "claims.principal": "sub", "claims.groups": "groups",
        "client_authentication.type": "none", "jwt.cache.ttl": "0s",
    });
    flat.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    let settings = settings::from_flat("jwt1", flat.as_object().unwrap(), &dir).unwrap();
    let program =
        Program::from_json(r#"{"m": {"enabled": true, "roles": ["r"], "rules": {"field": {"groups": "g"}}}}"#);
    let realms = Realms::new(&[settings], Arc::new(program.unwrap())).unwrap();
    Realm { realms, dir }
}

fn authenticate(realms: &Realms, token: &str) -> Result<Arc<rolemap::jwt::AuthenticatedUser>, rolemap::jwt::Rejection> {
    let bearer = format!("Bearer {token}");
    realms.authenticate([("Authorization", bearer.as_str())], UNIX_EPOCH + Duration::from_secs(NOW))
}

/// The claims of an honest token, with `extra` appended.
fn claims(extra: &str) -> String {
    format!(r#"{{"iss":"iss","aud":"aud","sub":"u","groups":["g"],"iat":{},"exp":{}{extra}}}"#, NOW - 10, NOW + 600)
}

/// An HS256 token exactly `len` bytes long, padded with a filler claim.
fn token_of_length(len: usize) -> String {
    let sign = |header: &str, n: usize| {
        hs256_raw(HMAC.as_bytes(), header, &claims(&format!(r#","filler":"{}""#, "x".repeat(n))))
    };
    // Base64 makes 4 characters of 3 bytes and cannot end a part at every
    // length, so a second header moves the total by a character.
    for header in [r#"{"alg":"HS256"}"#, r#"{"alg":"HS256","typ":"JWT"}"#] {
        let base = sign(header, 0).len();
        let guess = len.saturating_sub(base) * 3 / 4;
        for n in guess.saturating_sub(3)..guess + 3 {
            let token = sign(header, n);
            if token.len() == len {
                return token;
            }
        }
    }
    panic!("no token of length {len}")
}

#[test]
fn token_length() {
    assert_eq!(MAX_TOKEN_LEN, 16 * 1024);
    let r = realm(json!({}));
    let at = token_of_length(MAX_TOKEN_LEN);
    let accepted = authenticate(&r.realms, &at).unwrap();
    assert_eq!((accepted.principal.as_str(), accepted.roles.as_slice()), ("u", ["r".to_owned()].as_slice()));
    let past = token_of_length(MAX_TOKEN_LEN + 1);
    let refused = authenticate(&r.realms, &past).unwrap_err();
    assert_eq!(refused.stage(), Stage::NotHandled);
    assert!(refused.reason().contains("longer than the 16 KiB"), "{}", refused.reason());
    assert!(Token::parse(&at).is_ok());
    assert!(Token::parse(&past).unwrap_err().to_string().contains("16 KiB"));
}

#[test]
fn values_per_claim_are_bounded_by_the_token() {
    // No claim has its own limit: every value comes from a token of at most
    // 16 KiB. As many groups as fit are all read.
    let r = realm(json!({}));
    let with_groups = |n: usize| {
        let groups: Vec<String> =
            (0..n).map(|i| format!("\"{}\"", if i == n - 1 { "g".to_owned() } else { format!("{i}") })).collect();
        let claims = format!(
            r#"{{"iss":"iss","aud":"aud","sub":"u","iat":{},"exp":{},"groups":[{}]}}"#,
            NOW - 10,
            NOW + 600,
            groups.join(",")
        );
        hs256_raw(HMAC.as_bytes(), r#"{"alg":"HS256"}"#, &claims)
    };
    // The most groups that fit, by bisection.
    let (mut most, mut over) = (1, MAX_TOKEN_LEN);
    while most + 1 < over {
        let mid = (most + over) / 2;
        if with_groups(mid).len() <= MAX_TOKEN_LEN { most = mid } else { over = mid }
    }
    let accepted = authenticate(&r.realms, &with_groups(most)).unwrap();
    assert_eq!(accepted.groups.len(), most);
    assert!(most > 1_500, "{most}");
    assert_eq!(accepted.roles, ["r"]);
    assert_eq!(authenticate(&r.realms, &with_groups(most + 1)).unwrap_err().stage(), Stage::NotHandled);
}

#[test]
fn json_nesting_of_a_token() {
    let r = realm(json!({}));
    // The header object is one level, the member's arrays the rest.
    let header = |depth: usize| format!(r#"{{"alg":"HS256","x":{}}}"#, arrays(depth - 1));
    let at = hs256_raw(HMAC.as_bytes(), &header(JSON_DEPTH), &claims(""));
    assert_eq!(authenticate(&r.realms, &at).unwrap().roles, ["r"]);
    let past = hs256_raw(HMAC.as_bytes(), &header(JSON_DEPTH + 1), &claims(""));
    let refused = authenticate(&r.realms, &past).unwrap_err();
    assert_eq!(refused.stage(), Stage::NotHandled);
    assert_eq!(refused.reason(), "not a signed JWT: the JOSE header nests deeper than the JSON limit of 127 levels");

    let payload = |depth: usize| claims(&format!(r#","x":{}"#, arrays(depth - 1)));
    let at = hs256_raw(HMAC.as_bytes(), r#"{"alg":"HS256"}"#, &payload(JSON_DEPTH));
    assert_eq!(authenticate(&r.realms, &at).unwrap().roles, ["r"]);
    let past = hs256_raw(HMAC.as_bytes(), r#"{"alg":"HS256"}"#, &payload(JSON_DEPTH + 1));
    let refused = authenticate(&r.realms, &past).unwrap_err();
    assert_eq!(refused.stage(), Stage::NotHandled);
    assert_eq!(refused.reason(), "not a signed JWT: the payload nests deeper than the JSON limit of 127 levels");
}

/// An `oct` JWK of 32 bytes, `i` in each, with kid `k<i>`.
fn oct_key(i: u8) -> Value {
    json!({"kty": "oct", "kid": format!("k{i}"), "k": URL_SAFE_NO_PAD.encode([i; 32])})
}

#[test]
fn jwk_set_keys() {
    assert_eq!(MAX_JWK_SET_KEYS, 256);
    let set = |n: usize| json!({"keys": (0..n).map(|i| oct_key(i as u8)).collect::<Vec<_>>()}).to_string();
    let at = keys::parse_jwk_set(&set(MAX_JWK_SET_KEYS)).unwrap();
    assert_eq!(at.len(), MAX_JWK_SET_KEYS);
    // A token without `kid`, signed with the last key, verifies against all.
    let token = hs256_raw(&[255; 32], r#"{"alg":"HS256"}"#, "{}");
    let (input, signature) = token.rsplit_once('.').unwrap();
    let signature = URL_SAFE_NO_PAD.decode(signature).unwrap();
    assert!(keys::verify_signature(at.keys(), None, Algorithm::HS256, input.as_bytes(), &signature).is_ok());
    let past = keys::parse_jwk_set(&set(MAX_JWK_SET_KEYS + 1)).unwrap_err();
    assert_eq!(past.kind(), KeyErrorKind::TooManyKeys);
    assert_eq!(past.to_string(), "jwk set has 257 keys, more than the limit of 256");
}

#[test]
fn jwk_set_length() {
    assert_eq!(MAX_JWK_SET_LEN, 1 << 20);
    let set = |len: usize| {
        let head = format!(r#"{{"keys": [{}]"#, oct_key(7));
        format!("{head}{}}}", " ".repeat(len - head.len() - 1))
    };
    let at = set(MAX_JWK_SET_LEN);
    assert_eq!(at.len(), MAX_JWK_SET_LEN);
    assert_eq!(keys::parse_jwk_set(&at).unwrap().len(), 1);
    let past = keys::parse_jwk_set(&set(MAX_JWK_SET_LEN + 1)).unwrap_err();
    assert_eq!(past.kind(), KeyErrorKind::TooLarge);
    assert_eq!(past.to_string(), "jwk set is 1048577 bytes, more than the limit of 1048576");
}

#[test]
fn json_nesting_of_a_jwk_set() {
    // The set and a key are two levels; an unknown member holds the rest.
    let set = |depth: usize| {
        let mut key = oct_key(1);
        key["x"] = serde_json::from_str(&arrays(depth - 3)).unwrap();
        format!(r#"{{"keys": [{key}]}}"#)
    };
    assert_eq!(keys::parse_jwk_set(&set(JSON_DEPTH)).unwrap().len(), 1);
    let past = keys::parse_jwk_set(&set(JSON_DEPTH + 1)).unwrap_err();
    assert_eq!(past.kind(), KeyErrorKind::InvalidJson);
    assert!(
        past.to_string().starts_with("jwk set nests deeper than the json limit of 127 levels (line 1, column"),
        "{past}"
    );
}

#[test]
fn yaml_nesting_of_realm_settings() {
    assert_eq!(MAX_YAML_DEPTH, 64);
    // A realm, and beside it unrelated settings nested `depth` maps deep
    // (the top map included).
    let yaml = |depth: usize| {
        let deep: String = (1..depth).map(|i| format!("{}k{i}:\n", "  ".repeat(i - 1))).collect();
        format!(
            "xpack.security.authc.realms.jwt.jwt1:\n  order: 1\n  allowed_issuer: iss\n  allowed_audiences: aud\n  \
             client_authentication.type: none\n  pkc_jwkset_path: keys.json\n  claims.principal: sub\n{deep}{}v: 1\n",
            "  ".repeat(depth - 1)
        )
    };
    let dir = Path::new("/nonexistent");
    let at = settings::parse_yaml(&yaml(MAX_YAML_DEPTH), None, dir).unwrap();
    assert_eq!(at.realms.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(), ["jwt1"]);
    let past = settings::parse_yaml(&yaml(MAX_YAML_DEPTH + 1), None, dir).unwrap_err();
    let error = &past.0[0];
    assert_eq!(error.kind(), &settings::ErrorKind::TooDeep { max: 64 });
    // At the first key of the map past the limit.
    let line = 8 + MAX_YAML_DEPTH;
    assert_eq!(error.position(), Some(settings::Position { line, column: 2 * MAX_YAML_DEPTH + 2 }));
    assert!(error.to_string().starts_with("yaml nests deeper than 64 levels"), "{error}");
}

/// A realm read with no optional setting.
fn default_settings() -> settings::RealmSettings {
    let flat = json!({"allowed_issuer": "iss", "allowed_audiences": ["aud"], "hmac_key": HMAC,
        "allowed_signature_algorithms": ["HS256"], "claims.principal": "sub", "client_authentication.type": "none"});
    settings::from_flat("jwt1", flat.as_object().unwrap(), Path::new("/nonexistent")).unwrap()
}

#[test]
fn token_cache_size() {
    let defaults = default_settings().cache;
    assert_eq!((defaults.ttl, defaults.size), (Duration::from_secs(20 * 60), 100_000));
    // At most `jwt.cache.size` tokens are kept.
    let r = realm(json!({"jwt.cache.ttl": "20m", "jwt.cache.size": 2}));
    for sub in ["a", "b", "c"] {
        let claims = claims("").replace(r#""sub":"u""#, &format!(r#""sub":"{sub}""#));
        authenticate(&r.realms, &hs256_raw(HMAC.as_bytes(), r#"{"alg":"HS256"}"#, &claims)).unwrap();
        let entries = r.realms.realms()[0].cache_stats().unwrap().entries;
        assert!(entries <= 2, "{entries}");
    }
    assert_eq!(r.realms.realms()[0].cache_stats().unwrap().entries, 2);
}

#[test]
fn jwk_set_fetch_defaults() {
    let defaults = default_settings().http;
    assert_eq!(defaults.connect_timeout, Duration::from_secs(5));
    assert_eq!(defaults.connection_read_timeout, Duration::from_secs(5));
    assert_eq!(defaults.socket_timeout, Duration::from_secs(5));
}

/// A JWK set fetched over HTTPS is read up to `MAX_JWK_SET_LEN` bytes.
#[cfg(feature = "https")]
#[test]
fn jwk_set_fetch_length() {
    use crate::common::https::JwksServer;
    use crate::common::keys::EcKey;
    let key = EcKey::generate("ec");
    let server = JwksServer::start();
    let build = || {
        let flat = json!({
            "order": 1, "allowed_issuer": "iss", "allowed_audiences": ["aud"],
            "allowed_signature_algorithms": ["ES256"], "pkc_jwkset_path": server.url("jwks.json"),
            "claims.principal": "sub", "client_authentication.type": "none",
            "ssl.certificate_authorities": [server.ca_path().display().to_string()],
        });
        let dir = temp_dir("fetch");
        let settings = settings::from_flat("remote", flat.as_object().unwrap(), &dir).unwrap();
        let built = Realms::new(&[settings], Arc::new(Program::from_json("{}").unwrap()));
        std::fs::remove_dir_all(&dir).ok();
        built.map_err(|e| e.to_string())
    };
    let set = |len: usize| {
        let head = format!(r#"{{"keys": [{}]"#, key.jwk());
        format!("{head}{}}}", " ".repeat(len - head.len() - 1))
    };
    server.set_body(set(MAX_JWK_SET_LEN));
    let realms = build().unwrap();
    let token = key.sign(&serde_json::from_str::<Value>(&claims("")).unwrap());
    assert_eq!(authenticate(&realms, &token).unwrap().principal, "u");
    server.set_body(set(MAX_JWK_SET_LEN + 1));
    let error = build().unwrap_err();
    assert!(error.contains("more than the limit"), "{error}");
}

// ---------------------------------------------------------------------------
// Far past every limit, on a small stack.

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    const N: usize = 100_000;
    on_small_stack(|| {
        // A mapping document.
        let rules = format!(r#"{}{{"field": {{"username": "a"}}}}{}"#, r#"{"all":["#.repeat(N), "]}".repeat(N));
        let error = only_error(load(&body(&rules, ""), &Options::default()));
        assert!(matches!(error.kind(), ErrorKind::Json(m) if m == "recursion limit exceeded"), "{error}");
        // Its metadata.
        let metadata = body(r#"{"field": {"username": "a"}}"#, &format!(r#", "metadata": {{"a": {}}}"#, arrays(N)));
        assert!(matches!(only_error(load(&metadata, &Options::default())).kind(), ErrorKind::Json(_)));
        // Unclosed.
        assert!(matches!(only_error(load(&"[".repeat(N), &Options::default())).kind(), ErrorKind::Json(_)));
        // A user.
        let user = format!(r#"{{"username": "u", "realm": {{"name": "r"}}, "metadata": {{"a": {}}}}}"#, arrays(N));
        assert!(User::from_json(&user).unwrap_err().to_string().contains("recursion limit exceeded"));
        // The text form: rules, brackets, metadata.
        let text = format!("mapping \"m\" {{ roles: \"r\" rules: {}x == 1{} }}", "all { ".repeat(N), " }".repeat(N));
        assert_eq!(only_error(load_text(&text, &Options::default())).kind(), &ErrorKind::TooDeep(50));
        assert_eq!(only_error(load_text(&"[".repeat(N), &Options::default())).kind(), &ErrorKind::NestingTooDeep(132));
        let text = format!("mapping \"m\" {{ roles: \"r\" rules: all {{}} metadata: {} }}", "{\"a\": ".repeat(N));
        assert_eq!(only_error(load_text(&text, &Options::default())).kind(), &ErrorKind::NestingTooDeep(132));
        // A JWK set.
        let set = format!(r#"{{"keys": [{}]}}"#, arrays(N));
        let error = keys::parse_jwk_set(&set).unwrap_err();
        assert!(error.to_string().starts_with("jwk set nests deeper than the json limit"), "{error}");
        // Realm settings, in both flow styles.
        for yaml in
            [format!("a: {}{}\n", "[".repeat(N), "]".repeat(N)), format!("a: {}1{}\n", "{b: ".repeat(N), "}".repeat(N))]
        {
            let errors = settings::parse_yaml(&yaml, None, Path::new("/nonexistent")).unwrap_err();
            assert!(
                matches!(errors.0[0].kind(), settings::ErrorKind::TooDeep { .. } | settings::ErrorKind::Yaml { .. }),
                "{errors}"
            );
        }
        // A token holds at most 16 KiB: as deep as fits, in the header and the payload.
        let fits = (MAX_TOKEN_LEN * 3 / 4 - 200) / 2;
        let header = format!(r#"{{"alg":"HS256","x":{}}}"#, arrays(fits));
        let token = hs256_raw(HMAC.as_bytes(), &header, "{}");
        assert!(token.len() <= MAX_TOKEN_LEN);
        assert!(Token::parse(&token).unwrap_err().to_string().contains("JSON limit of 127 levels"));
        let token = hs256_raw(HMAC.as_bytes(), r#"{"alg":"HS256"}"#, &format!(r#"{{"x":{}}}"#, arrays(fits)));
        assert!(token.len() <= MAX_TOKEN_LEN);
        assert!(Token::parse(&token).unwrap_err().to_string().contains("JSON limit of 127 levels"));
        // A pattern holds at most 4 KiB, a template 64 KiB.
        let regex = format!("/{}a{}/", "(".repeat(2000), ")".repeat(2000));
        assert!(pattern_error(&regex).starts_with("the regular expression nests deeper than 64 levels"));
        let sections = format!("{}x", "{{#a}}".repeat(MAX_TEMPLATE_LEN / 6));
        assert!(template_error(json!({"source": sections})).contains("sections nested deeper than 64"));
    });
}
