//! Hostile input never panics: arbitrary text and arbitrary JSON through
//! every entry point that reads input.

use proptest::prelude::*;
use rolemap::jwt::{Realms, settings};
use rolemap::{Model, Options, Program, RuleSet, User, Validation};
use serde_json::{Value, json};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

/// Any JSON value, biased toward the keys and shapes of role mappings.
fn json_value() -> impl Strategy<Value = Value> {
    let key = prop::sample::select(vec![
        "rules",
        "all",
        "any",
        "field",
        "except",
        "enabled",
        "roles",
        "role_templates",
        "metadata",
        "template",
        "format",
        "source",
        "username",
        "groups",
        "dn",
        "realm.name",
        "metadata.x",
        "",
        "x",
    ]);
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(Value::from),
        prop::sample::select(vec!["*", "/a.*/", "/[/", "cn=a,dc=b", "{{username}}", "json", "x", ""])
            .prop_map(Value::from),
        ".{0,8}".prop_map(Value::from),
    ];
    leaf.prop_recursive(6, 48, 5, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((key.clone(), inner), 0..4)
                .prop_map(|kv| Value::Object(kv.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    #[test]
    fn mapping_documents_never_panic(doc in json_value(), text in ".{0,64}") {
        for options in [Options::default(), { let mut o = Options::default(); o.validation = Validation::Stored; o }] {
            for input in [doc.to_string(), json!({"m": doc}).to_string(), text.clone()] {
                if let Ok(rules) = RuleSet::from_json(&input, "m", &options) {
                    let program = Program::compile(&rules).unwrap();
                    let user = User::new("u", "r");
                    let model = Model::new(&user).unwrap();
                    let _ = program.resolve(&model);
                }
            }
        }
    }

    #[test]
    fn users_never_panic(doc in json_value(), text in ".{0,64}") {
        for input in [doc.to_string(), json!({"username": "u", "realm": {"name": "r"}, "metadata": {"k": doc}}).to_string(), text] {
            if let Ok(user) = User::from_json(&input) {
                let _ = Model::new(&user);
            }
        }
    }

    #[test]
    fn bearer_values_never_panic(parts in prop::collection::vec("[A-Za-z0-9_=+/.-]{0,40}", 0..5), json in json_value()) {
        let flat = json!({
            "allowed_issuer": "iss", "allowed_audiences": ["aud"], "allowed_signature_algorithms": ["HS256", "RS256"],
            "hmac_key": "a-test-hmac-key-that-is-long-enough-for-hs256", "claims.principal": "sub",
            "client_authentication.type": "none"
        });
        let settings = settings::from_flat("r", flat.as_object().unwrap(), Path::new(".")).unwrap();
        let realms = Realms::new(&[settings], Arc::new(Program::from_json("{}").unwrap())).unwrap();
        let encoded = |v: &Value| {
            use base64::Engine as _;
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
        };
        let crafted = format!("{}.{}.c2ln", encoded(&json!({"alg": "HS256"})), encoded(&json));
        for bearer in [parts.join("."), crafted] {
            let header = format!("Bearer {bearer}");
            let outcome = realms.authenticate([("Authorization", header.as_str())], UNIX_EPOCH + Duration::from_secs(1_700_000_000));
            // No token here carries a valid signature, so none may be accepted.
            prop_assert!(outcome.is_err());
        }
    }

    #[test]
    fn realm_settings_never_panic(text in "[a-z._: \\[\\]\n0-9-]{0,120}") {
        let _ = settings::parse_yaml(&text, None, Path::new("."));
        let _ = settings::parse_yaml(&format!("xpack.security.authc.realms.jwt.r:\n{text}"), Some(&text), Path::new("."));
    }
}
