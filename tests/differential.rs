//! The program against the reference interpreter on random mappings and
//! random users: every construct, every value kind, DN-aware and generic
//! fields. Values come from small pools so that rules do match.

use crate::common::{Outcome, resolve_both};
use proptest::prelude::*;
use rolemap::{Options, User, Validation};
use serde_json::{Map, Value, json};

const FIELDS: &[&str] = &[
    "username",
    "dn",
    "groups",
    "realm.name",
    "metadata.a",
    "metadata.n",
    "metadata.list",
    "metadata.missing",
    "email",
];

const STRINGS: &[&str] = &[
    // literals
    "alice",
    "bob@example.com",
    "Bob@Example.COM",
    "admins",
    "Admins",
    "cn=admins,dc=example,dc=com",
    "CN=Admins, DC=Example, DC=Com",
    "cn=bob,ou=people,dc=example,dc=com",
    "ou=people,dc=example,dc=com",
    "jwt1",
    "",
    "j?hn",
    "école",
    // wildcards
    "*",
    "a*",
    "*@example.com",
    "cn=*",
    "*,ou=people,dc=example,dc=com",
    "*,DC=Example,DC=Com",
    "*,",
    "Adm*",
    "adm?ns*",
    "\\*x*",
    "*b*",
    "*i?e",
    // regexes
    "/.*/",
    "/a.*/",
    "/[a-c]+/",
    "/cn=.*/",
    "/.*\\@example\\.com/",
    "//",
    "/ADMINS/",
    "/(ali|bo)[a-z]*(@.*)?/",
];

const USER_STRINGS: &[&str] = &[
    "alice",
    "bob@example.com",
    "Bob@Example.COM",
    "admins",
    "ADMINS",
    "cn=admins,dc=example,dc=com",
    "CN=Admins, DC=Example, DC=Com",
    "cn=bob,ou=people,dc=example,dc=com",
    "CN=Bob, OU=People, DC=Example, DC=Com",
    "ou=people,dc=example,dc=com",
    "jwt1",
    "",
    "j?hn",
    "john",
    "x*y",
    "École",
    "aaa",
];

fn rule_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        6 => prop::sample::select(STRINGS).prop_map(Value::from),
        1 => Just(Value::Null),
        1 => any::<bool>().prop_map(Value::from),
        1 => prop::sample::select(&[0i64, 1, -1, 42, 9_007_199_254_740_993][..]).prop_map(Value::from),
        1 => prop::sample::select(&[1.5f64, -0.5, 42.9][..]).prop_map(Value::from),
    ]
}

fn field_rule() -> impl Strategy<Value = Value> {
    (prop::sample::select(FIELDS), prop::collection::vec(rule_value(), 1..4)).prop_map(|(field, mut values)| {
        let value = if values.len() == 1 { values.remove(0) } else { Value::Array(values) };
        json!({"field": {field: value}})
    })
}

fn rule() -> impl Strategy<Value = Value> {
    rule_tree(field_rule())
}

/// Rules built of `any`, `all` and `except` over the field rules of `field`.
pub(crate) fn rule_tree(field: impl Strategy<Value = Value> + 'static) -> impl Strategy<Value = Value> {
    field.prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(|v| json!({"any": v})),
            prop::collection::vec((inner, any::<bool>()), 0..4).prop_map(|v| {
                let elements: Vec<Value> =
                    v.into_iter().map(|(r, except)| if except { json!({"except": r}) } else { r }).collect();
                json!({"all": elements})
            }),
        ]
    })
}

pub(crate) fn mapping() -> impl Strategy<Value = Value> {
    let grants = prop_oneof![
        4 => prop::collection::vec(prop::sample::select(&["r0", "r1", "r2", "r3"][..]), 1..3)
            .prop_map(|roles| json!({"roles": roles})),
        1 => prop::sample::select(vec![
            json!({"template": {"source": "u_{{username}}"}}),
            json!({"template": {"source": "{{#tojson}}groups{{/tojson}}"}, "format": "json"}),
            json!({"template": "{\"source\": \"{{metadata.a}}\"}"}),
        ])
        .prop_map(|t| json!({"role_templates": [t]})),
    ];
    (rule(), grants, prop::bool::weighted(0.85)).prop_map(|(rules, grants, enabled)| {
        let mut body = grants.as_object().cloned().unwrap_or_default();
        body.insert("rules".into(), rules);
        body.insert("enabled".into(), enabled.into());
        Value::Object(body)
    })
}

fn metadata_value() -> impl Strategy<Value = Value> {
    let scalar = prop_oneof![
        prop::sample::select(USER_STRINGS).prop_map(Value::from),
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        prop::sample::select(&[0i64, 1, 42, -1, 9_007_199_254_740_993][..]).prop_map(Value::from),
        prop::sample::select(&[0.0f64, -0.0, 1.0, 1.5, 42.0, 9_007_199_254_740_992.0][..]).prop_map(Value::from),
    ];
    scalar.prop_recursive(2, 8, 3, |inner| prop::collection::vec(inner, 0..3).prop_map(Value::Array))
}

pub(crate) fn user() -> impl Strategy<Value = User> {
    (
        prop::sample::select(USER_STRINGS),
        prop::option::of(prop::sample::select(USER_STRINGS)),
        prop::collection::vec(prop::sample::select(USER_STRINGS), 0..4),
        prop::sample::select(&["jwt1", "ldap1"][..]),
        prop::collection::vec((prop::sample::select(&["a", "n", "list"][..]), metadata_value()), 0..3),
    )
        .prop_map(|(username, dn, groups, realm, metadata)| {
            let mut user = User::new(username, realm);
            user.dn = dn.map(str::to_owned);
            user.groups = groups.into_iter().map(str::to_owned).collect();
            user.metadata = metadata.into_iter().map(|(k, v)| (k.to_owned(), v)).collect::<Map<_, _>>();
            user
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    #[test]
    fn program_agrees_with_reference(
        mappings in prop::collection::vec(mapping(), 1..6),
        users in prop::collection::vec(user(), 1..5),
    ) {
        let document: Map<String, Value> =
            mappings.into_iter().enumerate().map(|(i, m)| (format!("m{i}"), m)).collect();
        let text = Value::Object(document).to_string();
        let mut options = Options::default();
        // Stored-document checks accept every generated mapping shape.
        options.validation = Validation::Stored;
        for user in &users {
            let outcome = resolve_both(&text, user, &options);
            prop_assert_ne!(outcome, Outcome::Invalid);
        }
    }
}

/// Thousands of random mappings in one program, so that index tables,
/// postings and anchors are shared between many mappings, against many users.
#[test]
fn program_agrees_with_reference_on_a_large_set() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    use rolemap::{Model, Program, Reference, RuleSet};

    let mut runner = TestRunner::deterministic();
    let mut sample = |strategy: &dyn Fn() -> BoxedStrategy<Value>| strategy().new_tree(&mut runner).unwrap().current();
    let document: Map<String, Value> = (0..3000).map(|i| (format!("m{i}"), sample(&|| mapping().boxed()))).collect();
    let mut options = Options::default();
    options.validation = Validation::Stored;
    let rules = RuleSet::from_json(&Value::Object(document).to_string(), "m", &options).unwrap();
    assert!(rules.skipped().is_empty());
    let program = Program::compile(&rules).unwrap();
    let reference = Reference::new(&rules);
    let mut matched = 0;
    for _ in 0..300 {
        let user = user().new_tree(&mut runner).unwrap().current();
        let model = Model::new(&user).unwrap();
        let expected = reference.resolve(&model).map_err(|e| e.to_string());
        assert_eq!(program.resolve(&model).map_err(|e| e.to_string()), expected, "user {user:?}");
        let authenticated = crate::common::as_authenticated(&user);
        let realm_model = authenticated.model().unwrap();
        assert_eq!(program.resolve(&realm_model).map_err(|e| e.to_string()), expected, "realm's model of {user:?}");
        matched += expected.map_or(0, |r| r.mappings.len());
    }
    // The comparison means something only if users do match mappings.
    assert!(matched > 300, "only {matched} matches");
}
