//! The text form: round trips with JSON, both forms resolving every user
//! alike, the conformance vectors written as text, pinned error messages,
//! nesting limits, comments kept by the formatter, and the `fmt` and
//! `convert` commands.

use crate::cli::{rolemap, stderr, stdout, temp_file};
use crate::common::vectors;
use crate::differential;
use proptest::prelude::*;
use rolemap::ast::MappingSet;
use rolemap::{Model, Options, Program, RuleSet, User, Validation, parse, text};
use serde_json::{Map, Value, json};

/// Stored-document validation: every shape the generators make parses.
fn stored() -> Options {
    let mut options = Options::default();
    options.validation = Validation::Stored;
    options
}

fn from_json(json: &str) -> MappingSet {
    let (set, skipped) = parse::parse_json(json, "m", &stored()).unwrap();
    assert!(skipped.is_empty(), "{skipped:?}");
    set
}

fn from_text(text: &str) -> MappingSet {
    let (set, skipped) = text::parse(text, "m", &stored()).unwrap_or_else(|e| panic!("{}\n{text}", e.render(text)));
    assert!(skipped.is_empty(), "{skipped:?}");
    set
}

// ---------------------------------------------------------------------------
// Generators: every construct, and strings that stress quoting.

fn tricky_string() -> impl Strategy<Value = String> {
    let pieces = prop::sample::select(vec![
        "a",
        "Z",
        "/",
        "\\",
        "\"",
        "#",
        "*",
        "?",
        " ",
        "\n",
        "\t",
        "\u{1}",
        "\u{7f}",
        "é",
        "{{username}}",
        "}",
        "]",
        "//",
        "\\/",
        "x.y",
        "all",
        "except",
    ]);
    prop::collection::vec(pieces, 0..5).prop_map(|pieces| pieces.concat())
}

fn any_string() -> BoxedStrategy<String> {
    prop_oneof![
        3 => tricky_string(),
        2 => tricky_string().prop_map(|s| format!("/{s}/")),
        1 => ".{0,6}",
    ]
    .boxed()
}

fn field_name() -> BoxedStrategy<String> {
    prop_oneof![
        prop::sample::select(vec![
            "username",
            "realm.name",
            "groups",
            "dn",
            "metadata.a-b_c.1",
            "all",
            "any.x",
            "except",
            "allx",
            "a..b",
            "metadata.some key",
            "",
        ])
        .prop_map(str::to_owned),
        any_string(),
    ]
    .boxed()
}

fn scalar() -> BoxedStrategy<Value> {
    prop_oneof![
        3 => any_string().prop_map(Value::from),
        1 => Just(Value::Null),
        1 => any::<bool>().prop_map(Value::from),
        1 => any::<i64>().prop_map(Value::from),
        1 => any::<u64>().prop_map(Value::from),
        1 => any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(Value::from),
        1 => prop::sample::select(vec![-0.0, 0.1, 1.0, 1e300, 5e-324, -2.5e-8]).prop_map(Value::from),
    ]
    .boxed()
}

fn json_value() -> BoxedStrategy<Value> {
    scalar()
        .prop_recursive(2, 8, 3, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..3).prop_map(Value::Array),
                prop::collection::vec((any_string(), inner), 0..3)
                    .prop_map(|kv| Value::Object(kv.into_iter().collect())),
            ]
        })
        .boxed()
}

fn json_object() -> impl Strategy<Value = Map<String, Value>> {
    prop::collection::vec((any_string(), json_value()), 0..3).prop_map(|kv| kv.into_iter().collect())
}

fn rule() -> impl Strategy<Value = Value> {
    let field =
        (field_name(), prop::collection::vec(scalar(), 0..4), any::<bool>()).prop_map(|(name, mut values, scalar)| {
            let value = if values.len() == 1 && scalar { values.remove(0) } else { Value::Array(values) };
            json!({"field": {name: value}})
        });
    crate::differential::rule_tree(field)
}

fn template() -> impl Strategy<Value = Value> {
    let options = prop::collection::vec(
        (
            prop::sample::select(vec!["content_type", "x"]),
            prop::sample::select(vec!["application/json", "text/plain", ""]),
        ),
        0..2,
    )
    .prop_map(|kv| kv.into_iter().map(|(k, v)| (k.to_owned(), Value::from(v))).collect::<Map<_, _>>());
    let inline = (any_string(), json_object(), options).prop_map(|(source, params, options)| {
        let mut script = Map::new();
        script.insert("source".into(), source.into());
        if !params.is_empty() {
            script.insert("params".into(), params.into());
        }
        if !options.is_empty() {
            script.insert("options".into(), options.into());
        }
        Value::Object(script)
    });
    let script = prop_oneof![
        4 => inline,
        1 => any_string().prop_map(|id| json!({"id": id})),
        // Scripts that do not parse, kept as written by stored validation.
        1 => prop::sample::select(vec![
            json!("heroes"),
            json!(1),
            json!({"source": 1}),
            json!({"source": "a", "id": "b"}),
            json!({"source": "x", "options": {"content_type": 2}}),
            json!({"source": "x", "lang": "painless", "extra": [1, {"a": null}]}),
            // A string holding a script object is a valid script.
            json!("{\"source\": \"{{username}}\"}"),
        ]),
    ];
    (script, prop::option::of(prop::sample::select(vec!["string", "json", "JSON"]))).prop_map(|(script, format)| {
        let mut template = json!({"template": script});
        if let (Some(format), Some(object)) = (format, template.as_object_mut()) {
            object.insert("format".into(), format.into());
        }
        template
    })
}

fn body() -> impl Strategy<Value = Value> {
    (
        any::<bool>(),
        prop::option::of(prop::collection::vec(any_string(), 0..3)),
        prop::option::of(prop::collection::vec(template(), 0..3)),
        rule(),
        prop::option::of(json_object()),
    )
        .prop_filter("a mapping has roles or templates", |(_, roles, templates, ..)| {
            roles.is_some() || templates.is_some()
        })
        .prop_map(|(enabled, roles, templates, rules, metadata)| {
            let mut body = Map::new();
            body.insert("enabled".into(), enabled.into());
            if let Some(roles) = roles {
                body.insert("roles".into(), roles.into());
            }
            if let Some(templates) = templates {
                body.insert("role_templates".into(), templates.into());
            }
            body.insert("rules".into(), rules);
            if let Some(metadata) = metadata {
                body.insert("metadata".into(), metadata.into());
            }
            Value::Object(body)
        })
}

fn document() -> impl Strategy<Value = String> {
    prop::collection::vec((any_string(), body()), 1..4)
        .prop_map(|mappings| Value::Object(mappings.into_iter().collect()).to_string())
}

// ---------------------------------------------------------------------------
// Round trips.

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    /// JSON → text → JSON keeps every mapping, the printer is a fixed point,
    /// and the JSON output reads back to the same mappings.
    #[test]
    fn json_to_text_to_json(json in document()) {
        let set = from_json(&json);
        let printed = text::print(&set);
        let reparsed = from_text(&printed);
        prop_assert_eq!(&reparsed, &set, "printed:\n{}", printed);
        prop_assert_eq!(text::print(&reparsed), printed);
        let back = from_json(&serde_json::to_string(&set).unwrap());
        prop_assert_eq!(back, set);
    }

    /// Compiling the JSON and its text form gives programs that resolve
    /// every user alike.
    #[test]
    fn both_forms_resolve_every_user_alike(
        mappings in prop::collection::vec(differential::mapping(), 1..6),
        users in prop::collection::vec(differential::user(), 1..5),
    ) {
        let document: Map<String, Value> =
            mappings.into_iter().enumerate().map(|(i, m)| (format!("m{i}"), m)).collect();
        let json = Value::Object(document).to_string();
        let printed = text::print(&from_json(&json));
        let json_program = Program::compile(&RuleSet::from_json(&json, "m", &stored()).unwrap()).unwrap();
        let text_program = Program::compile(&RuleSet::from_text(&printed, "m", &stored()).unwrap()).unwrap();
        for user in &users {
            let Ok(model) = Model::new(user) else { continue };
            prop_assert_eq!(
                json_program.resolve(&model).map_err(|e| e.to_string()),
                text_program.resolve(&model).map_err(|e| e.to_string()),
                "text:\n{}", printed
            );
        }
    }

    /// Comments anywhere between lines or at their ends survive formatting,
    /// once each, and formatting twice changes nothing more.
    #[test]
    fn formatting_keeps_comments(
        mappings in prop::collection::vec(differential::mapping(), 1..4),
        places in prop::collection::vec((any::<prop::sample::Index>(), any::<bool>()), 0..8),
    ) {
        let document: Map<String, Value> =
            mappings.into_iter().enumerate().map(|(i, m)| (format!("m{i}"), m)).collect();
        let printed = text::print(&from_json(&Value::Object(document).to_string()));
        let mut lines: Vec<String> = printed.lines().map(str::to_owned).collect();
        for (n, (place, trailing)) in places.iter().enumerate() {
            let i = place.index(lines.len());
            if *trailing {
                lines[i].push_str(&format!(" # note {n}."));
            } else {
                lines.insert(i, format!("# note {n}."));
            }
        }
        let commented = lines.join("\n");
        let formatted = text::format(&commented, "m", &stored()).unwrap();
        prop_assert_eq!(from_text(&formatted), from_text(&printed));
        for n in 0..places.len() {
            prop_assert_eq!(formatted.matches(&format!("# note {n}.")).count(), 1, "{}", formatted);
        }
        prop_assert_eq!(text::format(&formatted, "m", &stored()).unwrap(), formatted.clone());
    }

    /// No input makes the reader panic.
    #[test]
    fn any_text_is_read_without_panicking(
        pieces in prop::collection::vec(prop::sample::select(vec![
            "mapping", "\"m\"", "{", "}", "[", "]", "roles:", "role_templates:", "rules:", "metadata:",
            "enabled:", "all", "any", "except", "x", "==", "\"v\"", "/r/", "/", "\"", "1", "-1e9", ",", ";",
            "json", "stored", "script", "params", "options", "#", "\n", " ", "\\", "true", "null", "{\"a\":",
        ]), 0..40),
    ) {
        let source = pieces.concat();
        for options in [Options::default(), stored()] {
            let _ = RuleSet::from_text(&source, "m", &options);
            let _ = text::format(&source, "m", &options);
        }
    }
}

#[test]
fn the_example_file_is_the_json_example() {
    let dir = env!("CARGO_MANIFEST_DIR");
    let json = std::fs::read_to_string(format!("{dir}/examples/mappings.json")).unwrap();
    let text = std::fs::read_to_string(format!("{dir}/examples/mappings.rolemap")).unwrap();
    assert_eq!(from_text(&text), from_json(&json));
    assert_eq!(text::format(&text, "m", &Options::default()).unwrap(), text, "the example is formatted");
}

/// Every vector's rule, written as text, resolves the vector's user as the
/// JSON does, and a rule JSON rejects is rejected with the same messages.
#[test]
fn conformance_vectors_in_text() {
    let mut converted = 0;
    for (line, case) in vectors("role-mapping.jsonl").iter().enumerate() {
        let json = json!({"m": {"enabled": true, "roles": ["hit"], "rules": case["rule"]}}).to_string();
        let Ok((set, _)) = parse::parse_json(&json, "m", &Options::default()) else {
            // A shape the text form cannot write (an `any` that is an object, ...).
            assert_eq!(case["expect"], "error", "line {}", line + 1);
            continue;
        };
        converted += 1;
        let printed = text::print(&set);
        let (reparsed, _) = text::parse(&printed, "m", &Options::default()).unwrap();
        assert_eq!(reparsed, set, "line {}", line + 1);
        match (
            RuleSet::from_json(&json, "m", &Options::default()),
            RuleSet::from_text(&printed, "m", &Options::default()),
        ) {
            (Ok(json_rules), Ok(text_rules)) => {
                let user = User::from_value(&case["user"]).unwrap();
                let outcome = |rules: &RuleSet| match Model::new(&user) {
                    Ok(model) => Program::compile(rules).unwrap().resolve(&model).map_err(|e| e.to_string()),
                    Err(e) => Err(e.to_string()),
                };
                let expected = outcome(&json_rules);
                assert_eq!(outcome(&text_rules), expected, "line {}: {printed}", line + 1);
                let matched = match &case["expect"] {
                    Value::Bool(true) => expected.as_ref().is_ok_and(|r| r.roles == ["hit"]),
                    Value::Bool(false) => expected.as_ref().is_ok_and(|r| r.roles.is_empty()),
                    _ => expected.is_err(),
                };
                assert!(matched, "line {}: {case}", line + 1);
            }
            (Err(json_errors), Err(text_errors)) => {
                let kinds = comparable_kinds;
                assert_eq!(kinds(&text_errors), kinds(&json_errors), "line {}", line + 1);
                assert_eq!(case["expect"], "error", "line {}", line + 1);
            }
            (json_result, text_result) => {
                panic!("line {}: JSON gave {:?}, text gave {:?}", line + 1, json_result.err(), text_result.err())
            }
        }
    }
    assert!(converted >= 100, "only {converted} vectors converted");
}

// ---------------------------------------------------------------------------
// Errors, pinned: what is wrong and where.

/// The kinds of `errors`, to compare the two forms: the text form gives the
/// place of a pattern error as a column rather than as an offset.
fn comparable_kinds(errors: &rolemap::Errors) -> Vec<rolemap::ErrorKind> {
    errors
        .iter()
        .map(|e| match e.kind() {
            rolemap::ErrorKind::Pattern { pattern, message } => {
                let message = message.split(", at position").next().unwrap_or(message);
                rolemap::ErrorKind::Pattern { pattern: pattern.clone(), message: message.to_owned() }
            }
            kind => kind.clone(),
        })
        .collect()
}

/// The first error of reading `text`, as displayed.
fn first_error(text: &str) -> String {
    match RuleSet::from_text(text, "m", &Options::default()) {
        Ok(_) => panic!("expected an error for {text}"),
        Err(errors) => errors.first().to_string(),
    }
}

/// A mapping `m` granting `r` whose rule is `rule`, on line 3.
fn with_rule(rule: &str) -> String {
    format!("mapping \"m\" {{\n  roles: \"r\"\n  rules: {rule}\n}}\n")
}

#[test]
fn syntax_errors() {
    let cases = [
        ("mapping admins {}", "expected a string or `{`, found `admins` at line 1, column 9"),
        (
            "mapping \"m\" {\n  roles: \"r\"\n",
            "expected `enabled`, `roles`, `role_templates`, `metadata`, `rules`, `}`, `,` or `;`, found the end of the file at line 3, column 1",
        ),
        (
            "mapping \"m\" {\n  rolse: \"r\"\n}",
            "expected `enabled`, `roles`, `role_templates`, `metadata`, `rules` or `}`, found `rolse` at line 2, column 3",
        ),
        ("mapping \"m\" {\n  roles = \"r\"\n}", "expected `:`, found `=` at line 2, column 9"),
        ("mapping \"m\" {\n  roles: superuser\n}", "expected a string or `[`, found `superuser` at line 2, column 10"),
        (
            "mapping \"m\" {\n  roles: \"a\" \"b\"\n}",
            "expected `enabled`, `roles`, `role_templates`, `metadata`, `rules`, `}`, `,` or `;`, found `\"b\"` at line 2, column 14",
        ),
        ("mapping \"m\" {\n  enabled: yes\n}", "expected `true` or `false`, found `yes` at line 2, column 12"),
        (
            "mapping \"m\" {\n  role_templates: yaml \"x\"\n}",
            "expected a role template or `[`, found `yaml` at line 2, column 19",
        ),
        ("mapping \"m\" {\n  role_templates: stored x\n}", "expected a string, found `x` at line 2, column 26"),
        (
            "mapping \"m\" {\n  role_templates: \"x\" params [1]\n}",
            "expected a JSON object, found `[` at line 2, column 30",
        ),
        ("mapping \"m\" {\n  metadata: [1]\n}", "expected a JSON object, found `[` at line 2, column 13"),
        (
            "mapping \"m\" {\n  metadata: {\"a\": }\n}",
            "invalid JSON in `metadata`: expected a value at line 2, column 19",
        ),
        // The word that is not `true`, `false` or `null`, not the next line.
        (
            "mapping \"m\" {\n  roles: \"r\"\n  rules: all {}\n  metadata: {\n    \"a\": 1,\n    \"b\": tru\n  }\n}\n",
            "invalid JSON in `metadata`: expected `true`, `false` or `null` at line 6, column 10",
        ),
        (
            "mapping \"m\" {\n  role_templates: \"x\" params {\"a\": nul}\n}",
            "invalid JSON in `params`: expected `true`, `false` or `null` at line 2, column 36",
        ),
        (
            "mapping \"m\" {\n  metadata: {\"a\": 1 # one\n}\n}",
            "a `#` comment cannot go inside JSON at line 2, column 21",
        ),
        ("mapping \"m\" {\n  metadata: {\"a\": [1}\n}", "`}` does not close the `[` before it at line 2, column 21"),
        (
            "mapping \"m\" {\n  metadata: {\"a\": \"x\n}",
            "the string `\"x` is not closed on its line at line 2, column 19",
        ),
        ("mapping \"m\" {\n  metadata: {\"a\": 1", "the `{` is never closed at line 2, column 13"),
        (
            "mapping \"m\" {\n  role_templates: \"x\" params {\"a\": 1/2}\n}",
            "`/` cannot stand outside a string in JSON at line 2, column 37",
        ),
        ("mapping \"m\" {\n  metadata: {\"a\": 1, \"a\": 2}\n}", "duplicate key `a` at line 2, column 24"),
        ("mapping \"m\" {\n  roles: \"r\"\n  roles: \"s\"\n}", "duplicate key `roles` at line 3, column 3"),
        (&with_rule("all [x == 1]"), "expected `{`, found `[` at line 3, column 14"),
        // The last `}` is indented as the mapping is: the `all {` is the one left open.
        (&with_rule("all { x == 1"), "the `all {` is never closed at line 3, column 10"),
        (
            "mapping \"m\" {\n  roles: \"r\"\n  rules: all {\n    any { x == 1\n  }\n}\n",
            "the `any {` is never closed at line 4, column 5",
        ),
        ("mapping \"m\" {\n  roles: \"r\"\n  rules: all {\n", "the `all {` is never closed at line 3, column 10"),
        (&with_rule("realm.name = \"jwt1\""), "expected `==`, found `=` at line 3, column 21"),
        (
            &with_rule("realm.name == "),
            "expected a value (a string, `/regex/`, number, `true`, `false` or `null`) or `[`, found `}` at line 4, column 1",
        ),
        (&with_rule("username == \"abc"), "the string `\"abc` is not closed on its line at line 3, column 22"),
        (
            &with_rule("username == /abc"),
            "the regular expression `/abc` is not closed on its line at line 3, column 22",
        ),
        (&with_rule("username == \"a\\q\""), "invalid string: invalid escape at line 3, column 25"),
        (&with_rule("metadata.n == 1e400"), "number `1e400` is out of range at line 3, column 24"),
        (
            &with_rule("groups == [\"a\", [\"b\"]]"),
            "expected a value (a string, `/regex/`, number, `true`, `false` or `null`), found `[` at line 3, column 26",
        ),
        (
            &with_rule("groups == {\"a\": 1}"),
            "expected a value (a string, `/regex/`, number, `true`, `false` or `null`) or `[`, found `{` at line 3, column 20",
        ),
        (
            &with_rule("metadata.n == 01"),
            "expected a value (a string, `/regex/`, number, `true`, `false` or `null`) or `[`, found `01` at line 3, column 24",
        ),
        (&with_rule("except == 1"), "expected a field test, `all`, `any` or `except`, found `==` at line 3, column 17"),
        (&with_rule("all == 1"), "expected `{`, found `==` at line 3, column 14"),
        (
            "mapping \"m\" { roles: \"r\" rules: all {} }\nmapping \"m\" { roles: \"r\" rules: all {} }",
            "duplicate role mapping name `m` at line 2, column 1",
        ),
        (
            "mapping \"m\" { roles: \"r\" rules: all {} } foo",
            "expected `mapping` or the end of the file, found `foo` at line 1, column 42",
        ),
        (
            "mappings \"m\" {\n  roles: \"r\"\n  rules: all {}\n}\n",
            "expected `mapping` or the end of the file, found `mappings` at line 1, column 1",
        ),
        (
            "mapping \"a\" { roles: \"r\" rules: all {} }\nmappings \"m\" {}",
            "expected `mapping` or the end of the file, found `mappings` at line 2, column 1",
        ),
    ];
    let failures: Vec<String> = cases
        .iter()
        .filter(|(text, expected)| first_error(text) != *expected)
        .map(|(text, expected)| format!("{text:?}\n  expected {expected}\n  got      {}", first_error(text)))
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The checks after parsing are the JSON front end's, with lines and columns.
#[test]
fn checks_shared_with_json() {
    let cases = [
        (
            with_rule("any { except username == \"a\" }"),
            "role mapping `m`: `except` is only allowed as an element of an `all` array, not inside `any` at line 3, column 16",
        ),
        (
            with_rule("except username == \"a\""),
            "role mapping `m`: `except` is only allowed as an element of an `all` array, not at the top of `rules` at line 3, column 10",
        ),
        (
            with_rule("all { except except username == \"a\" }"),
            "role mapping `m`: `except` is only allowed as an element of an `all` array, not directly inside `except` at line 3, column 23",
        ),
        (
            with_rule("username == []"),
            "role mapping `m`: field `username` has an empty list of values at line 3, column 10",
        ),
        (with_rule("\"\" == \"a\""), "role mapping `m`: the field name is empty at line 3, column 10"),
        (
            with_rule("metadata.n == 99999999999999999999"),
            "role mapping `m`: number `1e+20` is out of the signed 64-bit range at line 3, column 24",
        ),
        (
            with_rule("metadata.n == [1, 9223372036854775808]"),
            "role mapping `m`: number `9223372036854775808` is out of the signed 64-bit range at line 3, column 28",
        ),
        (
            "mapping \"m\" {\n  rules: all {}\n}".to_owned(),
            "role mapping `m`: the mapping grants nothing: `roles` and `role_templates` are both missing or empty at line 1, column 1",
        ),
        (
            "mapping \"m\" {\n  roles: []\n  rules: all {}\n}".to_owned(),
            "role mapping `m`: the mapping grants nothing: `roles` and `role_templates` are both missing or empty at line 1, column 1",
        ),
        ("mapping \"m\" {\n  roles: \"r\"\n}".to_owned(), "role mapping `m`: missing key `rules` at line 1, column 1"),
        (
            "mapping \"m\" {\n  roles: \"r\"\n  role_templates: \"x\"\n  rules: all {}\n}".to_owned(),
            "role mapping `m`: a mapping cannot have both `roles` and `role_templates` at line 1, column 1",
        ),
        (
            "mapping \"m\" {\n  roles: \"r\"\n  rules: all {}\n  metadata: {\"_x\": 1}\n}".to_owned(),
            "role mapping `m`: metadata key `_x` starts with `_`, which is reserved at line 4, column 14",
        ),
        // At the key, on its own line.
        (
            "mapping \"m\" {\n  roles: \"r\"\n  rules: all {}\n  metadata: {\n    \"a\": {\"_inner\": 1},\n    \"_bad\": 2}\n}".to_owned(),
            "role mapping `m`: metadata key `_bad` starts with `_`, which is reserved at line 6, column 5",
        ),
        (
            "mapping \"m\" {\n  role_templates: \"{{#x}}\"\n  rules: all {}\n}".to_owned(),
            "role mapping `m`: invalid role template: unclosed section `x` opened at 1:1 at line 2, column 19",
        ),
        (
            "mapping \"m\" {\n  role_templates: json stored \"s1\"\n  rules: all {}\n}".to_owned(),
            "role mapping `m`: role template refers to the stored script `s1`, and stored scripts cannot be resolved outside Elasticsearch at line 2, column 19",
        ),
        (
            "mapping \"m\" {\n  role_templates: \"x\" options {\"content_type\": 1}\n  rules: all {}\n}".to_owned(),
            "role mapping `m`: `content_type` must be a string, found a number at line 2, column 48",
        ),
        (
            "mapping \"m\" {\n  role_templates: \"x\" options {\"content_type\": \"text/yaml\"}\n  rules: all {}\n}"
                .to_owned(),
            "role mapping `m`: invalid role template: unsupported `content_type` option `text/yaml` at line 2, column 48",
        ),
        (
            "mapping \"m\" {\n  role_templates: script \"heroes\"\n  rules: all {}\n}".to_owned(),
            "role mapping `m`: invalid role template: the template string `heroes` is not a JSON script object such as {\"source\": \"...\"} at line 2, column 19",
        ),
    ];
    for (text, expected) in &cases {
        assert_eq!(first_error(text), *expected, "text {text}");
    }
    for (rule, pattern, column) in [
        ("username == /[a-/", "/[a-/", 26),
        ("groups == [\"ok\", \"/home/*\"]", "/home/*", 27),
        ("username == /a&/", "/a&/", 25),
    ] {
        let message = first_error(&with_rule(rule));
        assert!(message.starts_with(&format!("role mapping `m`: invalid pattern `{pattern}`: ")), "{message}");
        assert!(message.ends_with(&format!(" at line 3, column {column}")), "{message}");
    }
    // A pattern error at a character is reported at its column, in a
    // `/.../` literal as in a string with escapes, and not by its offset.
    for (rule, column) in [("x == /[a-/", 19), ("x == \"/\\u00e9\\t[a-/\"", 28), ("x == [\"ok\", /a{2x}/]", 26)] {
        let message = first_error(&with_rule(rule));
        assert!(!message.contains("at position"), "{message}");
        assert!(message.ends_with(&format!(" at line 3, column {column}")), "{message}");
    }
    assert_eq!(
        first_error(&with_rule("x == /[a-/")),
        "role mapping `m`: invalid pattern `/[a-/`: the regular expression ends too early at line 3, column 19"
    );
    // The JSON form keeps the offset.
    let json = r#"{"m": {"enabled": true, "roles": ["r"], "rules": {"field": {"x": "/[a-/"}}}}"#;
    assert_eq!(
        RuleSet::from_json(json, "m", &Options::default()).unwrap_err().first().to_string(),
        "role mapping `m`: invalid pattern `/[a-/`: the regular expression ends too early, at position 4 at `/m/rules/field/x`"
    );
}

/// The same mistakes in both forms give the same errors, whatever the place.
#[test]
fn both_forms_report_the_same_kinds() {
    for (json_rule, text_rule) in [
        (r#"{"any": [{"except": {"field": {"username": "a"}}}]}"#, "any { except username == \"a\" }"),
        (r#"{"field": {"username": []}}"#, "username == []"),
        (r#"{"all": [{"field": {"": 1}}, {"field": {"groups": "/[/"}}]}"#, "all { \"\" == 1 groups == /[/ }"),
    ] {
        let json = format!(r#"{{"m": {{"enabled": true, "roles": ["r"], "rules": {json_rule}}}}}"#);
        let json_errors = RuleSet::from_json(&json, "m", &Options::default()).unwrap_err();
        let text_errors = RuleSet::from_text(&with_rule(text_rule), "m", &Options::default()).unwrap_err();
        let kinds = comparable_kinds;
        assert_eq!(kinds(&text_errors), kinds(&json_errors), "{text_rule}");
    }
}

#[test]
fn stored_validation_skips_a_bad_mapping_and_keeps_the_others() {
    let source = "mapping \"bad\" {\n  roles: \"r\"\n  rules: any { except x == 1 }\n}\nmapping \"good\" {\n  roles: \"r\"\n  rules: all {}\n}\n";
    let rules = RuleSet::from_text(source, "m", &stored()).unwrap();
    assert_eq!(rules.names().collect::<Vec<_>>(), ["good"]);
    assert_eq!(
        rules.skipped().iter().map(ToString::to_string).collect::<Vec<_>>(),
        [
            "role mapping `bad`: `except` is only allowed as an element of an `all` array, not inside `any` at line 3, column 16"
        ]
    );
    // A syntax error still rejects the whole file.
    assert!(RuleSet::from_text(&format!("{source}mapping"), "m", &stored()).is_err());
}

#[test]
fn an_unnamed_mapping_takes_the_given_name() {
    let rules = RuleSet::from_text("mapping { roles: \"r\" rules: all {} }", "admins", &Options::default()).unwrap();
    assert_eq!(rules.names().collect::<Vec<_>>(), ["admins"]);
}

#[test]
fn errors_render_with_their_line() {
    let source = "mapping \"m\" {\n\troles: \"r\"\n\trules: any { except x == 1 }\n}\n";
    let errors = RuleSet::from_text(source, "m", &Options::default()).unwrap_err();
    assert_eq!(
        errors.render(source),
        "role mapping `m`: `except` is only allowed as an element of an `all` array, not inside `any` at line 3, column 15\n  \
         3 | \trules: any { except x == 1 }\n    | \t             ^"
    );
}

#[test]
fn stored_validation_points_skipped_errors_at_their_place() {
    let source = "mapping \"bad\" {\n  roles: \"r\"\n  rules: x == /[a-/\n}\nmapping \"good\" {\n  roles: \"r\"\n  rules: all {}\n}\n";
    let rules = RuleSet::from_text(source, "m", &stored()).unwrap();
    assert_eq!(
        rules.skipped().iter().map(ToString::to_string).collect::<Vec<_>>(),
        ["role mapping `bad`: invalid pattern `/[a-/`: the regular expression ends too early at line 3, column 19"]
    );
}

/// A long line is shown in part, around the column, with the caret under
/// the character at the column.
#[test]
fn long_lines_render_around_their_column() {
    let caret_char = |rendered: &str| {
        let lines: Vec<&str> = rendered.lines().collect();
        let (shown, caret) = (lines[lines.len() - 2], lines[lines.len() - 1]);
        let column = caret.chars().count() - 1;
        shown.chars().nth(column)
    };
    let n = 100_000;
    let source = format!("mapping \"m\" {{ roles: \"r\" rules: {}x == 1{} }}", "all { ".repeat(n), " }".repeat(n));
    let errors = RuleSet::from_text(&source, "m", &Options::default()).unwrap_err();
    let rendered = errors.render(&source);
    let column = 32 + 50 * 6 + 1;
    assert!(
        rendered.starts_with(&format!("rules are nested deeper than the limit of 50 at line 1, column {column}\n"))
    );
    assert!(rendered.len() < 500, "{rendered}");
    assert!(rendered.contains(" | …") && rendered.contains("…\n"), "{rendered}");
    assert_eq!(caret_char(&rendered), Some('a'), "{rendered}");

    // A pattern too long to compile: its line is cut, not echoed whole.
    let source = with_rule(&format!("x == /{}/ # end", "a".repeat(5000)));
    let errors = RuleSet::from_text(&source, "m", &Options::default()).unwrap_err();
    let rendered = errors.render(&source);
    let shown = rendered.lines().nth(1).unwrap();
    assert_eq!(shown, format!("  3 |   rules: x == /{}…", "a".repeat(120 - 15)));
    assert_eq!(caret_char(&rendered), Some('/'), "{rendered}");

    // An error at the end of a long line.
    let source = format!("mapping \"m\" {{\n  roles: \"r\"\n  rules: username == \"{}", "a".repeat(300));
    let errors = RuleSet::from_text(&source, "m", &Options::default()).unwrap_err();
    let rendered = errors.render(&source);
    assert!(rendered.lines().nth(1).unwrap().starts_with("  3 |   rules: username == \"aaa"), "{rendered}");
    assert_eq!(rendered.lines().nth(2).unwrap(), format!("    |{}^", " ".repeat(22)));
}

// ---------------------------------------------------------------------------
// Limits.

/// Runs `f` on a thread with a 2 MiB stack, the default for spawned threads.
fn on_small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new().stack_size(2 << 20).spawn(f).unwrap().join().unwrap()
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    let head = "mapping \"m\" { roles: \"r\" rules: ";
    let n = 100_000;
    let cases = [
        (
            format!("{head}{}x == 1{}", "all { ".repeat(n), " }".repeat(n)),
            format!("rules are nested deeper than the limit of 50 at line 1, column {}", head.len() + 50 * 6 + 1),
        ),
        // Unclosed.
        (
            format!("{head}{}", "any {".repeat(n)),
            format!("rules are nested deeper than the limit of 50 at line 1, column {}", head.len() + 50 * 5 + 1),
        ),
        (
            format!("mapping \"m\" {{ metadata: {}", "{\"a\": [".repeat(n)),
            "brackets are nested deeper than the limit of 132 at line 1, column 486".to_owned(),
        ),
        ("[".repeat(n), "brackets are nested deeper than the limit of 132 at line 1, column 133".to_owned()),
        // No brackets at all: an `except` directly inside `except` is refused at once.
        (
            format!("{head}all {{ {}x == 1 }} }}", "except ".repeat(n)),
            format!(
                "role mapping `m`: `except` is only allowed as an element of an `all` array, not directly inside `except` at line 1, column {}",
                head.len() + 6 + 7 + 1
            ),
        ),
    ];
    for (source, expected) in cases {
        let message = on_small_stack(move || first_error(&source));
        assert_eq!(message, expected);
    }
}

#[test]
fn rule_depth_is_limited_as_in_json() {
    let nested = |depth: usize| format!("{}username == \"a\"{}", "any { ".repeat(depth - 1), " }".repeat(depth - 1));
    assert!(RuleSet::from_text(&with_rule(&nested(50)), "m", &Options::default()).is_ok());
    let message = first_error(&with_rule(&nested(51)));
    assert_eq!(
        message,
        format!("role mapping `m`: rules are nested deeper than the limit of 50 at line 3, column {}", 10 + 50 * 6)
    );
    let mut options = Options::default();
    options.max_depth = 60;
    assert!(RuleSet::from_text(&with_rule(&nested(60)), "m", &options).is_ok());
    // Metadata as deep as the JSON reader goes is read; deeper is refused.
    let metadata = |depth: usize| {
        format!(
            "mapping \"m\" {{ roles: \"r\" rules: all {{}} metadata: {}1{} }}",
            "{\"a\": ".repeat(depth),
            "}".repeat(depth)
        )
    };
    assert!(RuleSet::from_text(&metadata(127), "m", &Options::default()).is_ok());
    assert!(first_error(&metadata(130)).starts_with("invalid JSON in `metadata`: recursion limit exceeded"));
}

// ---------------------------------------------------------------------------
// The commands.

const MESSY: &str = "# admins\nmapping \"a\"{rules:all{groups==[\"admins\",\n\"ops\"] # LDAP groups\n}roles:[\"superuser\"];enabled:true}\n";
const TIDY: &str = "# admins\nmapping \"a\" {\n  roles: \"superuser\"\n  rules: all {\n    groups == [\"admins\", \"ops\"]  # LDAP groups\n  }\n}\n";

#[test]
fn fmt_rewrites_and_checks() {
    let path = temp_file("messy.rolemap", MESSY);
    let file = path.to_str().unwrap();
    let out = rolemap(&["fmt", "--check", file], None);
    assert_eq!((out.status.code(), stdout(&out)), (Some(1), format!("{file}\n")));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), MESSY, "--check changes nothing");
    let out = rolemap(&["fmt", file], None);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), TIDY);
    let out = rolemap(&["fmt", "--check", file, "examples/mappings.rolemap"], None);
    assert_eq!((out.status.code(), stdout(&out)), (Some(0), String::new()));
}

#[test]
fn fmt_refuses_what_it_cannot_read() {
    let bad = temp_file("bad.rolemap", "mapping \"m\" {\n  roles: \"r\"\n  rules: all { x = 1 }\n}\n");
    let out = rolemap(&["fmt", bad.to_str().unwrap(), "examples/mappings.json"], None);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        format!(
            "{}: error: expected `==`, found `=` at line 3, column 18\n  3 |   rules: all {{ x = 1 }}\n    |                  ^\n\
             examples/mappings.json: error: not a `.rolemap` file\n",
            bad.display()
        )
    );
}

#[test]
fn convert_goes_both_ways() {
    let out = rolemap(&["convert", "--to", "json", "examples/mappings.rolemap"], None);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let json = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/mappings.json")).unwrap();
    assert_eq!(from_json(&stdout(&out)), from_json(&json));
    assert!(
        stdout(&out).starts_with("{\n  \"jwt1_admins\": {\n    \"enabled\": true,\n    \"roles\": ["),
        "{}",
        stdout(&out)
    );

    let out = rolemap(&["convert", "--to", "text", "examples/mappings.json"], None);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(from_text(&stdout(&out)), from_json(&json));

    // Mappings stay in document order, not sorted by name.
    let two = "mapping \"zeta\" { roles: \"z\" rules: all {} }\nmapping \"alpha\" { roles: \"a\" rules: all {} }\n";
    let two = temp_file("order.rolemap", two);
    let out = rolemap(&["convert", "--to", "json", two.to_str().unwrap()], None);
    let names: Vec<String> = stdout(&out).lines().filter(|l| l.starts_with("  \"")).map(str::to_owned).collect();
    assert_eq!(names, ["  \"zeta\": {", "  \"alpha\": {"], "{}", stdout(&out));

    // Text to text formats, keeping comments; JSON from standard input.
    let messy = temp_file("convert.rolemap", MESSY);
    let out = rolemap(&["convert", "--to", "text", messy.to_str().unwrap()], None);
    assert_eq!(stdout(&out), TIDY);
    let out =
        rolemap(&["convert", "--to", "text", "-"], Some(r#"{"enabled": true, "roles": "r", "rules": {"all": []}}"#));
    assert_eq!(stdout(&out), "mapping \"-\" {\n  roles: \"r\"\n  rules: all {}\n}\n");

    // A template that does not parse converts only as a stored document, kept as written.
    let stored = r#"{"m": {"enabled": true, "role_templates": [{"template": "heroes"}], "rules": {"all": []}}}"#;
    let out = rolemap(&["convert", "--to", "text", "-"], Some(stored));
    assert_eq!(out.status.code(), Some(2));
    let out = rolemap(&["convert", "--stored", "--to", "text", "-"], Some(stored));
    assert_eq!(stdout(&out), "mapping \"m\" {\n  role_templates: script \"heroes\"\n  rules: all {}\n}\n");
    let text = temp_file("stored.rolemap", &stdout(&out));
    let out = rolemap(&["convert", "--stored", "--to", "json", text.to_str().unwrap()], None);
    assert_eq!(from_json(&stdout(&out)), from_json(stored));
}

#[test]
fn the_text_form_is_read_from_standard_input_with_syntax_text() {
    let source = "mapping \"admins\" {\n  roles: \"superuser\"\n  rules: groups == \"elasticadmins\"\n}\n";
    let out = rolemap(&["check", "--syntax", "text", "-"], Some(source));
    assert_eq!((out.status.code(), stdout(&out)), (Some(0), "-: ok, 1 mappings (1 active)\n".to_owned()));
    // Without it, standard input is JSON, as before.
    let out = rolemap(&["check", "-"], Some(source));
    assert_eq!(out.status.code(), Some(2));
    assert!(stdout(&out).starts_with("-: error: invalid JSON"), "{}", stdout(&out));
    // Errors are rendered with their line.
    let out = rolemap(&["check", "--syntax", "text", "-"], Some("mapping \"m\" {\n  roles = \"r\"\n}\n"));
    assert_eq!(
        (out.status.code(), stdout(&out)),
        (
            Some(2),
            "-: error: expected `:`, found `=` at line 2, column 9\n  2 |   roles = \"r\"\n    |         ^\n"
                .to_owned()
        )
    );
    // `--syntax` also overrides the extension.
    let json = temp_file("json-syntax.rolemap", r#"{"m": {"enabled": true, "roles": ["r"], "rules": {"all": []}}}"#);
    let out = rolemap(&["check", "--syntax", "json", json.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));

    let out = rolemap(&["convert", "--syntax", "text", "--to", "json", "-"], Some(source));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(from_json(&stdout(&out)), from_text(source));
    let out = rolemap(&["eval", "--syntax", "text", "--mappings", "-", "--user", "examples/user.json"], Some(source));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = rolemap(&["disasm", "--syntax", "text", "--mappings", "-"], Some(source));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = rolemap(&["check", "--syntax", "yaml", "-"], Some(source));
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn every_command_reads_text_files() {
    let json = rolemap(&["eval", "--mappings", "examples/mappings.json", "--user", "examples/user.json"], None);
    let text = rolemap(&["eval", "--mappings", "examples/mappings.rolemap", "--user", "examples/user.json"], None);
    assert_eq!((text.status.code(), stdout(&text)), (Some(0), stdout(&json)));

    let out = rolemap(&["check", "examples/mappings.rolemap"], None);
    assert_eq!(stdout(&out), "examples/mappings.rolemap: ok, 5 mappings (4 active)\n");
    let bad = temp_file("check.rolemap", "mapping \"m\" {\n  roles: \"r\"\n  rules: any { except x == 1 }\n}\n");
    let out = rolemap(&["check", bad.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stdout(&out),
        format!(
            "{}: error: role mapping `m`: `except` is only allowed as an element of an `all` array, not inside `any` at line 3, column 16\n  \
             3 |   rules: any {{ except x == 1 }}\n    |                ^\n",
            bad.display()
        )
    );

    let out = rolemap(&["disasm", "--mappings", "examples/mappings.rolemap"], None);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let mappings =
        temp_file("auth.rolemap", "mapping \"admins\" { roles: \"superuser\" rules: groups == \"elasticadmins\" }");
    let out = rolemap(
        &[
            "auth",
            "--realms",
            "examples/jwt/realms.yml",
            "--secrets",
            "examples/jwt/secrets.yml",
            "--mappings",
            mappings.to_str().unwrap(),
            "--token-file",
            "examples/jwt/jwt1.token",
            "--client-secret",
            "client-shared-secret-string",
        ],
        None,
    );
    assert!(stdout(&out).contains("\"roles\":[\"superuser\"]"), "{} {}", stdout(&out), stderr(&out));
}
