//! The library API on whole scenarios from the spec.

use crate::common::{Outcome, resolve_both};
use rolemap::{Model, Options, Program, Resolution, RuleSet, Scratch, User, Validation};
use serde_json::json;

fn resolved(roles: &[&str], mappings: &[&str]) -> Outcome {
    Outcome::Resolved(Resolution {
        roles: roles.iter().map(|s| s.to_string()).collect(),
        mappings: mappings.iter().map(|s| s.to_string()).collect(),
    })
}

#[test]
fn program_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Program>();
    assert_send_sync::<RuleSet>();
}

/// Spec §8.1 (NativeRoleMappingStoreTests.testResolveRoles), with the DN
/// spelled in each of the ways the test randomizes it.
#[test]
fn native_role_mapping_store_resolve_roles() {
    let mappings = json!({
        "dept_h": {"enabled": true, "roles": ["dept_h", "defence"],
            "rules": {"field": {"dn": "*,ou=dept_h,o=forces,dc=gc,dc=ca"}}},
        "admin": {"enabled": true, "roles": ["admin"],
            "rules": {"field": {"groups": "cn=esadmin,ou=groups,ou=dept_h,o=forces,dc=gc,dc=ca"}}},
        "flight": {"enabled": true, "role_templates": [{"template": {"source": "{{metadata.extra_group}}"}}],
            "rules": {"field": {"groups": [
                "cn=alphaflight,ou=groups,ou=dept_h,o=forces,dc=gc,dc=ca",
                "cn=betaflight,ou=groups,ou=dept_h,o=forces,dc=gc,dc=ca",
                "cn=gammaflight,ou=groups,ou=dept_h,o=forces,dc=gc,dc=ca"]}}},
        "mutants": {"enabled": false, "roles": ["mutants"],
            "rules": {"field": {"groups": "cn=mutants,ou=groups,ou=dept_h,o=forces,dc=gc,dc=ca"}}}
    })
    .to_string();
    for dn in [
        "cn=walter.langowski,ou=people,ou=dept_h,o=forces,dc=gc,dc=ca",
        "CN=WALTER.LANGOWSKI,OU=PEOPLE,OU=DEPT_H,O=FORCES,DC=GC,DC=CA",
        "CN=walter.langowski,OU=people,OU=dept_h,O=forces,DC=gc,DC=ca",
        "cn=walter.langowski, ou=people, ou=dept_h, o=forces, dc=gc, dc=ca",
    ] {
        let mut user = User::new("sasquatch", "ldap1");
        user.dn = Some(dn.into());
        user.groups = vec![
            "cn=alphaflight,ou=groups,ou=dept_h,o=forces,dc=gc,dc=ca".into(),
            "cn=mutants,ou=groups,ou=dept_h,o=forces,dc=gc,dc=ca".into(),
        ];
        user.metadata.insert("extra_group".into(), "flight".into());
        assert_eq!(
            resolve_both(&mappings, &user, &Options::default()),
            resolved(&["defence", "dept_h", "flight"], &["dept_h", "flight"]),
            "dn {dn}"
        );
    }
}

/// Spec §8.2 (TemplateRoleNameTests.testEvaluateRoles).
#[test]
fn templates_render_roles() {
    let mappings = json!({
        "fixed": {"enabled": true, "role_templates": [{"template": {"source": "heroes"}, "format": "string"}],
            "rules": {"all": []}},
        "user": {"enabled": true, "role_templates": [{"template": "{\"source\":\"_user_{{username}}\"}"}],
            "rules": {"all": []}},
        "groups": {"enabled": true, "role_templates": [{"template": {"source": "{{#tojson}}groups{{/tojson}}"}, "format": "JSON"}],
            "rules": {"all": []}}
    })
    .to_string();
    let mut user = User::new("hulk", "r");
    user.groups = vec!["avengers".into(), "defenders".into(), "panthenon".into()];
    assert_eq!(
        resolve_both(&mappings, &user, &Options::default()),
        resolved(&["_user_hulk", "avengers", "defenders", "heroes", "panthenon"], &["fixed", "groups", "user"])
    );
}

#[test]
fn template_failures_fail_the_resolution() {
    // A json template whose output is not a role or a list of roles.
    let mappings = json!({
        "bad": {"enabled": true, "role_templates": [{"template": {"source": "{{metadata.n}}"}, "format": "json"}],
            "rules": {"field": {"username": "a"}}}
    })
    .to_string();
    let mut user = User::new("a", "r");
    user.metadata.insert("n".into(), 42.into());
    assert_eq!(resolve_both(&mappings, &user, &Options::default()), Outcome::Failed);
    // The same mapping does not fail users it does not match.
    assert_eq!(resolve_both(&mappings, &User::new("b", "r"), &Options::default()), resolved(&[], &[]));
}

#[test]
fn stored_documents_skip_bad_mappings_and_keep_both_grants() {
    let mappings = json!({
        "both": {"enabled": true, "roles": ["fixed"], "role_templates": [{"template": {"source": "t_{{username}}"}}],
            "rules": {"all": []}, "metadata": {"_reserved": true}},
        "broken": {"enabled": true, "roles": ["x"], "rules": {"field": {"username": "/[/"}}},
        "stored-script": {"enabled": true, "role_templates": [{"template": {"id": "s1"}}],
            "rules": {"field": {"username": "b"}}}
    })
    .to_string();
    let mut options = Options::default();
    options.validation = Validation::Stored;
    let rules = RuleSet::from_json(&mappings, "m", &options).unwrap();
    assert_eq!(rules.names().collect::<Vec<_>>(), ["both", "stored-script"]);
    assert_eq!(rules.skipped().len(), 1);
    assert_eq!(rules.skipped()[0].mapping(), Some("broken"));
    assert_eq!(resolve_both(&mappings, &User::new("a", "r"), &options), resolved(&["fixed", "t_a"], &["both"]));
    // A template Elasticsearch cannot run fails the users its mapping matches.
    assert_eq!(resolve_both(&mappings, &User::new("b", "r"), &options), Outcome::Failed);
    // The API checks refuse the same document.
    assert!(RuleSet::from_json(&mappings, "m", &Options::default()).is_err());
}

#[test]
fn a_single_body_takes_the_given_name() {
    let body = r#"{"enabled": true, "roles": ["r"], "rules": {"field": {"username": "*"}}}"#;
    let rules = RuleSet::from_json(body, "from-file", &Options::default()).unwrap();
    assert_eq!(rules.names().collect::<Vec<_>>(), ["from-file"]);
    // The response shape, even with a mapping named like a body key.
    let response = json!({"rules": {"enabled": true, "roles": ["r"], "rules": {"all": []}}}).to_string();
    let rules = RuleSet::from_json(&response, "from-file", &Options::default()).unwrap();
    assert_eq!(rules.names().collect::<Vec<_>>(), ["rules"]);
}

#[test]
fn operator_mappings_keep_their_read_only_flag() {
    let response = json!({
        "everyone-read-only-operator-mapping": {"enabled": true, "roles": ["r"], "rules": {"all": []},
            "metadata": {"_read_only": true}}
    })
    .to_string();
    assert!(RuleSet::from_json(&response, "m", &Options::default()).is_ok());
}

#[test]
fn groups_and_dn_are_case_insensitive_as_in_elasticsearch() {
    let mappings = json!({
        "literal": {"enabled": true, "roles": ["literal"], "rules": {"field": {"groups": "admins"}}},
        "lower-pattern": {"enabled": true, "roles": ["lower-pattern"], "rules": {"field": {"groups": "admin*"}}},
        "mixed-pattern": {"enabled": true, "roles": ["mixed-pattern"], "rules": {"field": {"groups": "Admin*"}}},
        "subtree": {"enabled": true, "roles": ["subtree"], "rules": {"field": {"dn": "*,Dc=Example,Dc=Com"}}},
        "username": {"enabled": true, "roles": ["username"], "rules": {"field": {"username": "BOB"}}}
    })
    .to_string();
    let mut user = User::new("bob", "r");
    user.groups = vec!["ADMINS".into()];
    user.dn = Some("CN=Bob, DC=Example, DC=COM".into());
    assert_eq!(
        resolve_both(&mappings, &user, &Options::default()),
        resolved(&["literal", "lower-pattern", "subtree"], &["literal", "lower-pattern", "subtree"])
    );
}

#[test]
fn numbers_follow_java_semantics() {
    let mappings = json!({
        "one": {"enabled": true, "roles": ["one"], "rules": {"field": {"metadata.level": 1}}},
        "zero": {"enabled": true, "roles": ["zero"], "rules": {"field": {"metadata.level": 0.9}}}
    })
    .to_string();
    let with_level = |level: serde_json::Value| {
        let mut user = User::new("u", "r");
        user.metadata.insert("level".into(), level);
        resolve_both(&mappings, &user, &Options::default())
    };
    assert_eq!(with_level(json!(1)), resolved(&["one"], &["one"]));
    assert_eq!(with_level(json!(1.0)), resolved(&["one"], &["one"]));
    assert_eq!(with_level(json!(1.5)), resolved(&[], &[]));
    assert_eq!(with_level(json!(0)), resolved(&["zero"], &["zero"]));
    // Java's Double.compare tells -0.0 from 0.0.
    assert_eq!(with_level(json!(-0.0)), resolved(&[], &[]));
    assert_eq!(with_level(json!([5, 1])), resolved(&["one"], &["one"]));
    assert_eq!(with_level(json!("1")), resolved(&[], &[]));
}

#[test]
fn scratch_is_reused_across_users_and_programs() {
    let small = Program::from_json(r#"{"a": {"enabled": true, "roles": ["a"], "rules": {"field": {"groups": "g1"}}}}"#)
        .unwrap();
    let large = Program::from_json(
        &json!({
            "x": {"enabled": true, "roles": ["x"], "rules": {"field": {"groups": ["g1", "g2", "g3"]}}},
            "y": {"enabled": true, "roles": ["y"], "rules": {"all": [{"field": {"groups": "g2"}}, {"except": {"field": {"username": "z"}}}]}}
        })
        .to_string(),
    )
    .unwrap();
    let mut scratch = Scratch::default();
    let mut user = User::new("u", "r");
    for (groups, small_roles, large_roles) in
        [(vec!["g1"], vec!["a"], vec!["x"]), (vec!["g2"], vec![], vec!["x", "y"]), (vec![], vec![], vec![])]
    {
        user.groups = groups.into_iter().map(String::from).collect();
        let model = Model::new(&user).unwrap();
        let roles = small.evaluate(&model, &mut scratch).unwrap().to_resolution().roles;
        assert_eq!(roles, small_roles);
        let roles = large.evaluate(&model, &mut scratch).unwrap().to_resolution().roles;
        assert_eq!(roles, large_roles);
    }
}

#[test]
fn role_names_may_be_written_as_numbers_or_booleans() {
    // Elasticsearch reads each element of `roles` as text.
    let mappings = json!({"m": {"enabled": true, "roles": ["a", 7, true], "rules": {"all": []}}}).to_string();
    assert_eq!(
        resolve_both(&mappings, &User::new("u", "r"), &Options::default()),
        resolved(&["7", "a", "true"], &["m"])
    );
    let null_role = json!({"m": {"enabled": true, "roles": ["a", null], "rules": {"all": []}}}).to_string();
    assert!(RuleSet::from_json(&null_role, "m", &Options::default()).is_err());
}

#[test]
fn integers_past_64_bits_fail_only_where_an_integer_rule_tests_them() {
    let mut user = User::new("u", "r");
    user.metadata.insert("big".into(), json!(9_223_372_036_854_775_808u64));
    user.metadata.insert("list".into(), json!(["x", 18_446_744_073_709_551_615u64]));
    let strings = json!({"m": {"enabled": true, "roles": ["a"],
        "rules": {"all": [{"field": {"metadata.big": "x"}}, {"field": {"metadata.other": 1}}]}}})
    .to_string();
    assert_eq!(resolve_both(&strings, &user, &Options::default()), resolved(&[], &[]));
    let integer = json!({"m": {"enabled": true, "roles": ["a"], "rules": {"field": {"username": "u"}}},
        "n": {"enabled": true, "roles": ["b"], "rules": {"field": {"metadata.list": 3}}}})
    .to_string();
    assert_eq!(resolve_both(&integer, &user, &Options::default()), Outcome::Failed);
    // A disabled mapping is never evaluated, so it cannot fail anything.
    let disabled = json!({"m": {"enabled": true, "roles": ["a"], "rules": {"field": {"username": "u"}}},
        "n": {"enabled": false, "roles": ["b"], "rules": {"field": {"metadata.big": 3}}}})
    .to_string();
    assert_eq!(resolve_both(&disabled, &user, &Options::default()), resolved(&["a"], &["m"]));
}

/// Elasticsearch copies an object `source` to JSON text as it reads it,
/// and that text is the template: its members keep the order they were
/// written in, whichever way the script is written.
#[test]
fn object_sources_keep_their_members_in_the_order_written() {
    let object = r#"{"m": {"enabled": true, "rules": {"all": []}, "role_templates": [
        {"template": {"source": {"zone": "{{username}}", "app": "kibana", "b": [2, 1]}}}]}}"#;
    let string = r#"{"m": {"enabled": true, "rules": {"all": []}, "role_templates": [
        {"template": "{\"source\": {\"zone\": \"{{username}}\", \"app\": \"kibana\", \"b\": [2, 1]}}"}]}}"#;
    let expected = resolved(&[r#"{"zone":"u","app":"kibana","b":[2,1]}"#], &["m"]);
    let user = User::new("u", "r");
    for document in [object, string] {
        assert_eq!(resolve_both(document, &user, &Options::default()), expected, "{document}");
    }
    let text = r#"mapping "m" { role_templates: script {"source": {"zone": "{{username}}", "app": "kibana", "b": [2, 1]}} rules: all {} }"#;
    let program = Program::compile(&RuleSet::from_text(text, "m", &Options::default()).unwrap()).unwrap();
    let resolution = program.resolve(&Model::new(&user).unwrap()).unwrap();
    assert_eq!(resolution.roles, [r#"{"zone":"u","app":"kibana","b":[2,1]}"#]);
}

#[test]
fn scripts_run_as_mustache_whatever_their_lang_and_options() {
    let mappings = json!({"m": {"enabled": true, "rules": {"all": []}, "role_templates": [
        {"template": {"source": "x_{{username}}", "lang": "painless", "options": {"unknown": "y"}}}]}})
    .to_string();
    assert_eq!(resolve_both(&mappings, &User::new("u", "r"), &Options::default()), resolved(&["x_u"], &["m"]));
    let bad_type = json!({"m": {"enabled": true, "rules": {"all": []}, "role_templates": [
        {"template": {"source": "x", "options": {"content_type": "text/html"}}}]}})
    .to_string();
    assert!(RuleSet::from_json(&bad_type, "m", &Options::default()).is_err());
}

#[test]
fn stored_templates_that_do_not_parse_fail_the_users_they_match() {
    let mappings = json!({
        "heroes": {"enabled": true, "role_templates": [{"template": "heroes"}], "rules": {"field": {"username": "bob"}}},
        "unknown-key": {"enabled": true, "role_templates": [{"template": {"source": "x", "sauce": 1}}],
            "rules": {"field": {"username": "eve"}}},
        "plain": {"enabled": true, "roles": ["x"], "rules": {"all": []}}
    })
    .to_string();
    let mut options = Options::default();
    options.validation = Validation::Stored;
    let rules = RuleSet::from_json(&mappings, "m", &options).unwrap();
    assert_eq!(rules.len(), 3);
    assert!(rules.skipped().is_empty());
    assert_eq!(resolve_both(&mappings, &User::new("ann", "r"), &options), resolved(&["x"], &["plain"]));
    assert_eq!(resolve_both(&mappings, &User::new("bob", "r"), &options), Outcome::Failed);
    assert_eq!(resolve_both(&mappings, &User::new("eve", "r"), &options), Outcome::Failed);
}

#[test]
fn stored_document_keys_are_checked() {
    let mappings = json!({"m": {"enabled": true, "roles": ["x"], "rules": {"all": []}, "type": 5}}).to_string();
    assert!(RuleSet::from_json(&mappings, "m", &Options::default()).is_err());
    let mappings = json!({"m": {"enabled": true, "roles": ["x"], "rules": {"all": []}, "doc_type": "role-mapping"}});
    assert!(RuleSet::from_json(&mappings.to_string(), "m", &Options::default()).is_ok());
}

#[test]
fn groups_compare_with_java_equals_ignore_case() {
    let mappings =
        json!({"m": {"enabled": true, "roles": ["x"], "rules": {"field": {"groups": "istanbul"}}}}).to_string();
    let mut user = User::new("u", "r");
    user.groups = vec!["İstanbul".into()];
    assert_eq!(resolve_both(&mappings, &user, &Options::default()), resolved(&["x"], &["m"]));
}
