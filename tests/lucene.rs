//! Lucene's regular-expression dialect end to end, as a role-mapping value through both
//! engines (the program and the reference interpreter): every operator and its precedence,
//! the email-shaped traps of the spec (§2.4) with Elasticsearch's answers, the state budget,
//! the per-field prefilter with `&`, DN-aware fields, and the JWT realm's
//! `allowed_subject_patterns`.

use crate::common::{Outcome, resolve_both};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rolemap::jwt::{Realms, settings};
use rolemap::{Options, Program, RuleSet, User};
use serde_json::{Value, json};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

/// A document with one mapping `m` that grants `hit` when `rule` matches.
fn document(rule: Value) -> String {
    json!({"m": {"enabled": true, "roles": ["hit"], "rules": rule}}).to_string()
}

/// Whether `pattern` as the `username` rule value matches `input`; both engines must agree.
fn matches(pattern: &str, input: &str) -> bool {
    let doc = document(json!({"field": {"username": pattern}}));
    match resolve_both(&doc, &User::new(input, "realm1"), &Options::default()) {
        Outcome::Resolved(r) => !r.roles.is_empty(),
        other => panic!("`{pattern}` on `{input}`: {other:?}"),
    }
}

/// The first load error of `pattern` as the `username` rule value.
fn load_error(pattern: &str) -> String {
    match RuleSet::from_json(&document(json!({"field": {"username": pattern}})), "m", &Options::default()) {
        Ok(_) => panic!("`{pattern}` should not load"),
        Err(errors) => errors.first().to_string(),
    }
}

/// Checks each (regex body, inputs that match, inputs that do not).
fn check(cases: &[(&str, &[&str], &[&str])]) {
    for &(body, yes, no) in cases {
        let pattern = format!("/{body}/");
        for input in yes {
            assert!(matches(&pattern, input), "`{pattern}` should match `{input}`");
        }
        for input in no {
            assert!(!matches(&pattern, input), "`{pattern}` should not match `{input}`");
        }
    }
}

#[test]
fn intersection_and_complement() {
    check(&[
        // `&`: strings both sides match; two different strings share none.
        ("a&b", &[], &["a", "b", "ab", "a&b", ""]),
        (".*a.*&.*b.*", &["ab", "ba", "xaybz"], &["a", "b", ""]),
        ("(a|b)*&~(.*aa.*)", &["", "b", "abab"], &["aa", "baab", "c"]),
        (".+&~(.*[0-9].*)", &["abc", "é"], &["", "a1", "9"]),
        // `~`: every string of code points the operand misses, the empty one included.
        ("~a", &["", "b", "aa", "😀", "\n"], &["a"]),
        ("~#", &["", "anything"], &[]),
        ("~@", &[], &["", "a"]),
        ("~()", &["a", " "], &[""]),
        ("~(a&b)", &["", "a", "ab"], &[]),
        // `[^…]` is one code point outside the class; `~[…]` is any string but one of them.
        ("[^a]", &["b", "😀", "\n"], &["a", "", "bb"]),
        ("~[a]", &["", "b", "bb", "aa"], &["a"]),
        // complement of the complement
        ("~~a", &["a"], &["", "b", "aa"]),
        ("~(~(a|b))", &["a", "b"], &["", "ab"]),
    ]);
}

#[test]
fn precedence_as_lucene_9() {
    check(&[
        // union is loosest, then intersection: a|(b&c), (a&b)|c
        ("a|b&c", &["a"], &["b", "c"]),
        ("a&b|c", &["c"], &["a", "b"]),
        ("a|b&.|c", &["a", "b", "c"], &["d"]),
        // intersection is looser than concatenation: (ab)&(a.)
        ("ab&a.", &["ab"], &["a", "ac", "aba"]),
        ("a.&.b", &["ab"], &["aa", "bb"]),
        // `~` is tighter than the postfix operators: `~a*` is (~a)*, which still misses `a`
        ("~a*", &["", "b", "aa", "ab", "aaa"], &["a"]),
        ("~(a*)", &["b", "ab"], &["", "a", "aa"]),
        // (~a){2}: `a` cannot be split into two parts that are both not `a`
        ("~a{2}", &["", "aa", "b", "ba"], &["a"]),
        ("~a+", &["", "aa"], &["a"]),
        // and tighter than concatenation: x(~a)y
        ("x~ay", &["xy", "xby", "xaay"], &["xay"]),
        ("~a|b", &["", "b", "aa"], &["a"]),
        ("~ab", &["b", "aab", "xb"], &["ab", "a", ""]),
    ]);
}

#[test]
fn operator_characters_as_lucene_reads_them() {
    check(&[
        // an `&` where an expression starts is a literal: a ∩ "&b", nothing
        ("a&&b", &[], &["a", "&b", "a&&b"]),
        ("&a", &["&a"], &["a"]),
        ("a|&", &["a", "&"], &["a&"]),
        ("(&)", &["&"], &[""]),
        // before `)` the operand is the `)` itself: a ∩ ")", and a(~")")
        ("a&)", &[], &["a", ")"]),
        ("a~)", &["a", "ab", "a))"], &["a)"]),
        // inside classes and quotes, and escaped, they are characters; Lucene 9 has no `&&`
        // class intersection
        ("[&~]", &["&", "~"], &["&~", ""]),
        ("[a&&b]", &["a", "&", "b"], &["ab"]),
        ("\"a&b~\"", &["a&b~"], &["a"]),
        ("a\\&b\\~", &["a&b~"], &["a"]),
    ]);
    // With nothing after them they are errors (Lucene: "unexpected end-of-string").
    for bad in ["/a&/", "/&&/", "/~/", "/a~/", "/a|~/"] {
        assert!(load_error(bad).contains("the regular expression ends too early"), "{bad}");
    }
    assert!(load_error("/(a&)/").contains("expected `)` before the end"));
}

#[test]
fn the_rest_of_the_dialect() {
    check(&[
        // `/…/` is matched against the whole value
        ("abc", &["abc"], &["xabc", "abcx"]),
        // the empty pattern `//` is the empty string; `()` too
        ("", &[""], &["a"]),
        ("()", &[""], &["()"]),
        ("a()b", &["ab"], &["a()b"]),
        // `#` is the empty language, `@` any string, `.` one code point
        ("#", &[], &["", "#"]),
        ("a|#", &["a"], &["#"]),
        ("@", &["", "x", "a\nb"], &[]),
        (".", &["a", "😀", "\n"], &["", "ab"]),
        // quoting makes everything literal
        ("\"a.b\"", &["a.b"], &["axb"]),
        ("\"@#<1-2>\"", &["@#<1-2>"], &["x"]),
        // escapes: any character, `\\` a backslash
        ("\\.\\@\\#\\\\", &[".@#\\"], &["x@#\\"]),
        // classes, ranges, negation
        ("[a-c]+", &["abcab"], &["abd", ""]),
        ("[^a-c]", &["d", "😀"], &["b", ""]),
        ("[]]", &["]"], &["["]),
        // `\d \w \s` are ASCII only
        ("\\d+", &["0123456789"], &["٣", ""]),
        ("\\w+", &["a_Z9"], &["é", "-"]),
        ("\\s", &[" ", "\t", "\n", "\r"], &["\u{a0}", "\u{b}"]),
        ("[^\\d]", &["a"], &["1"]),
        // intervals: different widths take any leading zeros, equal widths are fixed
        ("user<1-12>", &["user1", "user012", "user12"], &["user13", "user0", "user"]),
        ("<01-12>", &["07", "12"], &["7", "13"]),
        ("<1-9>", &["7"], &["07"]),
        ("<12-1>", &["7"], &["0"]),
        // postfix repetition; Lucene 9 reads `{3,2}` as the empty language
        ("ab*", &["a", "abb"], &["abab"]),
        ("(ab){2,3}", &["abab", "ababab"], &["ab"]),
        ("a{3,2}", &[], &["aa", "aaa"]),
        // a leading operator character is a literal; `^` and `$` are not anchors
        ("*a", &["*a"], &["a"]),
        ("^a$", &["^a$"], &["a"]),
    ]);
}

/// Spec §2.4: `@` is any string, `.` any character, `&` intersection, `~` complement, `#` the
/// empty language and `<…>` an interval or named automaton, so unescaped email addresses
/// mean something else. The answers are what Lucene's automata accept.
#[test]
fn email_shaped_traps() {
    check(&[
        // `@` is any string: the address without its `@`, or with anything in its place
        (
            ".*@example\\.com",
            &["bob@example.com", "bobexample.com", "example.com", "x@evil.org/example.com"],
            &["bob@example.org"],
        ),
        // escaped, as Elasticsearch's own tests write it
        (".*\\@avengers\\.(net|org)", &["romanov@avengers.org", "warmachine@avengers.net"], &["romanovavengers.org"]),
        // `.` and `@` unescaped in a literal-looking address
        (
            "john.doe@example.com",
            &["john.doe@example.com", "johnXdoe--anything--exampleYcom"],
            &["john.doe@example.org"],
        ),
        // `&` in a local part intersects "tom" with "jerry@…": nothing matches
        ("tom&jerry\\@example\\.com", &[], &["tom&jerry@example.com", "tom", "jerry@example.com"]),
        // `~` complements one character: bob(~s)mith…, so the real address does not match
        ("bob~smith\\@example\\.com", &["bob~smith@example.com", "bobmith@example.com"], &["bobsmith@example.com"]),
        // `#` is the empty language: nothing matches, not even the text itself
        ("bob#1\\@example\\.com", &[], &["bob#1@example.com"]),
        // an exclusion written with `~` and `&`, escaped and not
        (".*\\@example\\.com&~(admin\\@.*)", &["bob@example.com"], &["admin@example.com", "bobexample.com"]),
        ("[a-z]+@example\\.com&~(admin@.*)", &["bob@example.com", "bobexample.com"], &["admin@example.com"]),
    ]);
    // `<…>` without `-` names an automaton, and Elasticsearch defines none.
    assert!(load_error("/\"Bob\" <bob\\@example\\.com>/").contains("unknown named automaton `<bob\\@example\\.com>`"));
}

#[test]
fn state_budget() {
    // a{9998} has 9 999 states and its complement one more, the sink for longer strings:
    // exactly the budget. One more `a` is over it.
    assert!(matches("/~(a{9998})/", "b"));
    assert!(!matches("/~(a{9998})/", &"a".repeat(9998)));
    assert!(matches("/~(a{9998})/", &"a".repeat(9999)));
    assert_eq!(
        load_error("/~(a{9999})/"),
        "role mapping `m`: invalid pattern `/~(a{9999})/`: the regular expression needs an automaton of more than \
         10000 states at `/m/rules/field/username`"
    );
    // 2^13 states fit, the exponential blow-up past that does not, however it is nested.
    assert!(matches("/~(.*a.{12})/", "a"));
    for hostile in ["/~(.*a.{20})/", "/~(~(.*a.{20}))/", "/(.*a.{20})&~(.*b.{20})/"] {
        assert!(load_error(hostile).contains("automaton of more than 10000 states"), "{hostile}");
    }
}

/// Elasticsearch determinizes every regex under its work limit, with or without `&` and `~`,
/// and refuses the ones that blow up: Lucene's `testDeterminizeTooManyStates` expects
/// `[ac]*a[ac]{50,200}` to be too complex. So is `.*a.{20}`, while the usual shapes pass.
#[test]
fn every_regex_is_held_to_the_budget() {
    for hostile in ["/[ac]*a[ac]{50,200}/", "/.*a.{20}/", "/(a|b)*a(a|b){30}/"] {
        let error = load_error(hostile);
        assert!(error.contains("automaton of more than 100000 states"), "{hostile}: {error}");
    }
    // Linear patterns as long as the repetition limit allows pass, as in Lucene.
    assert!(matches("/a{10000}/", &"a".repeat(10_000)));
    assert!(matches("/.*a.{12}/", &format!("a{}", "b".repeat(12))));
    assert!(matches("/[a-z0-9._%+-]+\\@[a-z0-9.-]+\\.[a-z]{2,}/", "jdoe@example.com"));
    assert!(matches("/[\\w]{0,9000}/", "abc"));
}

/// Patterns with `&` are indexed by a literal every operand requires, so the prefilter must
/// still find them; the program and the reference interpreter must agree on every user.
#[test]
fn prefilter_finds_patterns_with_intersection() {
    let doc = json!({
        "admins": {"enabled": true, "roles": ["admin"],
                   "rules": {"field": {"username": "/.*admin.*&~(.*test.*)/"}}},
        "corp": {"enabled": true, "roles": ["corp"],
                 "rules": {"field": {"username": "/.*\\@corp\\.com&~(bot.*)/"}}},
        "not_x": {"enabled": true, "roles": ["not_x"],
                  "rules": {"field": {"username": "/~(x.*)&.*y/"}}},
        "groups": {"enabled": true, "roles": ["ops"],
                   "rules": {"field": {"groups": "/cn=ops.*&~(.*,ou=old,.*)/"}}},
        "plain": {"enabled": true, "roles": ["plain"], "rules": {"field": {"username": "alice*"}}}
    })
    .to_string();
    let rules = RuleSet::from_json(&doc, "m", &Options::default()).unwrap();
    let listing = Program::compile(&rules).unwrap().to_string();
    // Each `&` pattern has a required literal (`admin`, `@corp.com`, `y`, `cn=ops`).
    assert!(listing.contains("f0 username (generic): prefix 1, prefiltered pattern 3"), "{listing}");
    assert!(listing.contains("f1 groups (dn-aware): prefiltered pattern 1"), "{listing}");
    let cases: &[(&str, &[&str], &[&str])] = &[
        ("superadmin", &[], &["admin"]),
        ("admin-test", &[], &[]),
        ("alice@corp.com", &[], &["corp", "plain"]),
        ("bot7@corp.com", &[], &[]),
        ("zzy", &[], &["not_x"]),
        ("xy", &[], &[]),
        ("adminy", &[], &["admin", "not_x"]),
        ("carol", &["cn=ops,ou=people,dc=x"], &["ops"]),
        ("dave", &["CN=Ops, OU=People, DC=X"], &["ops"]),
        ("erin", &["cn=ops,ou=old,dc=x"], &[]),
    ];
    for &(username, groups, want) in cases {
        let mut user = User::new(username, "realm1");
        user.groups = groups.iter().map(|g| (*g).to_owned()).collect();
        let Outcome::Resolved(resolution) = resolve_both(&doc, &user, &Options::default()) else {
            panic!("{username} should resolve");
        };
        let mut roles = resolution.roles.clone();
        roles.sort();
        assert_eq!(roles, want, "{username} {groups:?}");
    }
}

const HS_KEY: &str = "a-test-hmac-key-that-is-long-enough-for-hs256";

/// The stage at which an HS256 ID token with subject `sub` stops, or `ok` and the principal.
fn subject_outcome(realms: &Realms, sub: &str) -> String {
    let claims = json!({"iss": "iss", "aud": "aud", "sub": sub, "iat": 1_700_000_000, "exp": 1_700_000_600});
    let key = EncodingKey::from_secret(HS_KEY.as_bytes()).unwrap();
    let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &key).unwrap();
    let bearer = format!("Bearer {token}");
    match realms.authenticate([("Authorization", bearer.as_str())], UNIX_EPOCH + Duration::from_secs(1_700_000_100)) {
        Ok(user) => format!("ok {}", user.principal),
        Err(rejection) => rejection.stage().as_str().to_owned(),
    }
}

/// `allowed_subject_patterns` compile through the same engine, `&` and `~` included.
#[test]
fn realm_subject_patterns_with_intersection_and_complement() {
    let flat = json!({
        "allowed_issuer": "iss", "allowed_audiences": ["aud"], "allowed_signature_algorithms": ["HS256"],
        "hmac_key": HS_KEY, "claims.principal": "sub", "client_authentication.type": "none",
        "allowed_subject_patterns": ["/.*\\@corp\\.com&~(bot.*)/", "/~(.*[^a-z].*)&.{3}/"]
    });
    let settings = settings::from_flat("hs", flat.as_object().unwrap(), Path::new(".")).unwrap();
    let realms = Realms::new(&[settings], Arc::new(Program::from_json("{}").unwrap())).unwrap();
    assert_eq!(subject_outcome(&realms, "alice@corp.com"), "ok alice@corp.com");
    assert_eq!(subject_outcome(&realms, "bot1@corp.com"), "sub");
    assert_eq!(subject_outcome(&realms, "bob"), "ok bob");
    assert_eq!(subject_outcome(&realms, "bo1"), "sub");
    assert_eq!(subject_outcome(&realms, "bobby"), "sub");
    // A pattern over the budget makes the realm's settings invalid, as any bad pattern does.
    let mut flat = flat;
    flat["allowed_subject_patterns"] = json!(["/~(.*a.{20})/"]);
    let errors = settings::from_flat("hs", flat.as_object().unwrap(), Path::new(".")).unwrap_err();
    assert!(format!("{errors:?}").contains("automaton of more than 10000 states"), "{errors:?}");
}
