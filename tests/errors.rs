//! Load errors, pinned to their exact text: what is wrong and where.

use rolemap::{Options, RuleSet};

/// The first error of loading `document`, as displayed.
fn first_error(document: &str) -> String {
    match RuleSet::from_json(document, "m", &Options::default()) {
        Ok(_) => panic!("expected an error for {document}"),
        Err(errors) => errors.first().to_string(),
    }
}

/// A document with one mapping `m` whose rule is `rule`.
fn with_rule(rule: &str) -> String {
    format!(r#"{{"m": {{"enabled": true, "roles": ["r"], "rules": {rule}}}}}"#)
}

#[test]
fn rule_structure_errors() {
    let cases = [
        (
            r#"{"foo": []}"#,
            "role mapping `m`: unknown rule `foo`; a rule is one of `all`, `any`, `field`, `except` at `/m/rules/foo`",
        ),
        (
            r#"{"ANY": []}"#,
            "role mapping `m`: unknown rule `ANY`; a rule is one of `all`, `any`, `field`, `except` at `/m/rules/ANY`",
        ),
        ("{}", "role mapping `m`: empty rule object; a rule is one of `all`, `any`, `field`, `except` at `/m/rules`"),
        (
            r#"{"field": {"username": "a"}, "any": []}"#,
            "role mapping `m`: rule object has more than one key (`field` and `any`) at `/m/rules`",
        ),
        (
            r#"{"any": [{"except": {"field": {"username": "a"}}}]}"#,
            "role mapping `m`: `except` is only allowed as an element of an `all` array, not inside `any` at `/m/rules/any/0/except`",
        ),
        (
            r#"{"except": {"field": {"username": "a"}}}"#,
            "role mapping `m`: `except` is only allowed as an element of an `all` array, not at the top of `rules` at `/m/rules/except`",
        ),
        (
            r#"{"all": [{"except": {"except": {"field": {"username": "a"}}}}]}"#,
            "role mapping `m`: `except` is only allowed as an element of an `all` array, not directly inside `except` at `/m/rules/all/0/except/except`",
        ),
        (
            r#"{"all": [{"except": [{"field": {"username": "a"}}]}]}"#,
            "role mapping `m`: `except` must be a rule object, found an array at `/m/rules/all/0/except`",
        ),
        (
            r#"{"any": {"field": {"username": "a"}}}"#,
            "role mapping `m`: `any` must be an array of rules, found an object at `/m/rules/any`",
        ),
        (r#"{"all": "x"}"#, "role mapping `m`: `all` must be an array of rules, found a string at `/m/rules/all`"),
        (r#"{"any": ["x"]}"#, "role mapping `m`: `any` must be a rule object, found a string at `/m/rules/any/0`"),
        (r#"[]"#, "role mapping `m`: `rules` must be a rule object, found an array at `/m/rules`"),
        (
            r#"{"field": "username"}"#,
            "role mapping `m`: `field` must be an object such as {\"username\": \"...\"}, found a string at `/m/rules/field`",
        ),
        (r#"{"field": {}}"#, "role mapping `m`: `field` needs exactly one field name, found none at `/m/rules/field`"),
        (
            r#"{"field": {"username": "a", "dn": "b"}}"#,
            "role mapping `m`: `field` needs exactly one field name, found `username` and `dn` at `/m/rules/field`",
        ),
        (
            r#"{"field": {"username": {"a": 1}}}"#,
            "role mapping `m`: a field value must be a string, number, boolean or null, found an object at `/m/rules/field/username`",
        ),
        (
            r#"{"field": {"groups": ["a", ["b"]]}}"#,
            "role mapping `m`: a field value must be a string, number, boolean or null, found an array at `/m/rules/field/groups/1`",
        ),
    ];
    for (rule, expected) in cases {
        assert_eq!(first_error(&with_rule(rule)), expected, "rule {rule}");
    }
}

#[test]
fn value_errors() {
    let cases = [
        (
            r#"{"field": {"username": []}}"#,
            "role mapping `m`: field `username` has an empty list of values at `/m/rules/field/username`",
        ),
        (r#"{"field": {"": "a"}}"#, "role mapping `m`: the field name is empty at `/m/rules/field/`"),
        (
            r#"{"field": {"metadata.n": 99999999999999999999}}"#,
            "role mapping `m`: number `1e+20` is out of the signed 64-bit range at `/m/rules/field/metadata.n`",
        ),
        (
            r#"{"any": [{"field": {"metadata.n": [1, 9223372036854775808]}}]}"#,
            "role mapping `m`: number `9223372036854775808` is out of the signed 64-bit range at `/m/rules/any/0/field/metadata.n/1`",
        ),
    ];
    for (rule, expected) in cases {
        assert_eq!(first_error(&with_rule(rule)), expected, "rule {rule}");
    }
}

#[test]
fn pattern_errors_name_the_pattern_and_its_place() {
    for (rule, pointer, pattern) in [
        (r#"{"field": {"username": "/[a-/"}}"#, "`/m/rules/field/username`", "/[a-/"),
        (r#"{"field": {"groups": ["ok", "/home/*"]}}"#, "`/m/rules/field/groups/1`", "/home/*"),
        (r#"{"field": {"username": "/a&/"}}"#, "`/m/rules/field/username`", "/a&/"),
    ] {
        let message = first_error(&with_rule(rule));
        assert!(message.starts_with(&format!("role mapping `m`: invalid pattern `{pattern}`: ")), "{message}");
        assert!(message.ends_with(&format!(" at {pointer}")), "{message}");
    }
}

#[test]
fn document_errors() {
    let cases = [
        (r#"{"m": {"roles": ["r"], "rules": {"all": []}}}"#, "role mapping `m`: missing key `enabled` at `/m`"),
        (r#"{"m": {"enabled": true, "roles": ["r"]}}"#, "role mapping `m`: missing key `rules` at `/m`"),
        (
            r#"{"m": {"enabled": true, "rules": {"all": []}}}"#,
            "role mapping `m`: the mapping grants nothing: `roles` and `role_templates` are both missing or empty at `/m`",
        ),
        (
            r#"{"m": {"enabled": true, "roles": [], "rules": {"all": []}}}"#,
            "role mapping `m`: the mapping grants nothing: `roles` and `role_templates` are both missing or empty at `/m`",
        ),
        (
            r#"{"m": {"enabled": true, "roles": ["r"], "role_templates": [{"template": {"source": "x"}}], "rules": {"all": []}}}"#,
            "role mapping `m`: a mapping cannot have both `roles` and `role_templates` at `/m`",
        ),
        (
            r#"{"m": {"enabled": true, "roles": ["r"], "rules": {"all": []}, "metadata": {"_x": 1}}}"#,
            "role mapping `m`: metadata key `_x` starts with `_`, which is reserved at `/m/metadata/_x`",
        ),
        (
            r#"{"m": {"enabled": 1, "roles": ["r"], "rules": {"all": []}}}"#,
            "role mapping `m`: `enabled` must be a boolean, found a number at `/m/enabled`",
        ),
        (
            r#"{"m": {"enabled": true, "disabled": true, "roles": ["r"], "rules": {"all": []}}}"#,
            "role mapping `m`: unknown key `disabled` at `/m/disabled`",
        ),
        (
            r#"{"m": {"enabled": true, "roles": ["r", null], "rules": {"all": []}}}"#,
            "role mapping `m`: `roles` must be an array of strings, found null at `/m/roles/1`",
        ),
        (
            r#"{"m": {"enabled": true, "role_templates": [{"template": {"source": "x"}, "format": "yaml"}], "rules": {"all": []}}}"#,
            "role mapping `m`: invalid template format `yaml`, expected `string` or `json` at `/m/role_templates/0/format`",
        ),
        (
            r#"{"m": {"enabled": true, "role_templates": [{"template": {"id": "stored-1"}}], "rules": {"all": []}}}"#,
            "role mapping `m`: role template refers to the stored script `stored-1`, and stored scripts cannot be resolved outside Elasticsearch at `/m/role_templates/0/template`",
        ),
        (
            r#"{"m": {"enabled": true, "role_templates": [{"template": "heroes"}], "rules": {"all": []}}}"#,
            "role mapping `m`: invalid role template: the template string `heroes` is not a JSON script object such as {\"source\": \"...\"} at `/m/role_templates/0/template`",
        ),
        (r#"{"m": {"enabled": true, "enabled": false}}"#, "duplicate key `enabled` at line 1, column 33"),
        (r#"{"m": "#, "invalid JSON: EOF while parsing a value at line 1, column 6"),
        (
            r#"[1]"#,
            "expected a role mapping (an object with `rules`) or a map of mapping names to mappings at the document root",
        ),
    ];
    for (document, expected) in cases {
        assert_eq!(first_error(document), expected, "document {document}");
    }
}

#[test]
fn every_error_of_a_document_is_reported() {
    let document = r#"{"a": {"enabled": true, "roles": ["r"], "rules": {"foo": 1}},
        "b": {"enabled": true, "roles": ["r"], "rules": {"all": []}},
        "c": {"roles": ["r"], "rules": {"field": {"username": []}}}}"#;
    let errors = RuleSet::from_json(document, "m", &Options::default()).unwrap_err();
    let messages: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert_eq!(
        messages,
        [
            "role mapping `a`: unknown rule `foo`; a rule is one of `all`, `any`, `field`, `except` at `/a/rules/foo`",
            "role mapping `c`: missing key `enabled` at `/c`",
        ]
    );
}

#[test]
fn nesting_is_limited() {
    let mut rule = r#"{"field": {"username": "a"}}"#.to_owned();
    for _ in 0..60 {
        rule = format!(r#"{{"any": [{rule}]}}"#);
    }
    let message = first_error(&with_rule(&rule));
    assert!(
        message.starts_with("role mapping `m`: rules are nested deeper than the limit of 50 at `/m/rules/any/0"),
        "{message}"
    );
    // Far past serde_json's own limit: an error, not a stack overflow.
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    assert!(first_error(&deep).starts_with("invalid JSON: recursion limit exceeded"));
}
