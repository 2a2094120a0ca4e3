//! Every vector of `../shared/conformance/role-mapping.jsonl`, through the
//! library (both engines) and through the `rolemap` binary.

use crate::common::{Outcome, resolve_both, vectors};
use rolemap::{Options, User};
use serde_json::{Value, json};
use std::process::Command;

fn mapping_document(rule: &Value) -> String {
    json!({"m": {"enabled": true, "roles": ["hit"], "rules": rule}}).to_string()
}

#[test]
fn role_mapping_vectors_through_the_library() {
    let cases = vectors("role-mapping.jsonl");
    assert!(cases.len() >= 100, "the vector file looks truncated");
    let mut failures = Vec::new();
    for (line, case) in cases.iter().enumerate() {
        let mappings = mapping_document(&case["rule"]);
        let user = User::from_value(&case["user"]).unwrap();
        let outcome = resolve_both(&mappings, &user, &Options::default());
        let ok = match (&case["expect"], &outcome) {
            (Value::Bool(true), Outcome::Resolved(r)) => r.roles == ["hit"] && r.mappings == ["m"],
            (Value::Bool(false), Outcome::Resolved(r)) => r.roles.is_empty() && r.mappings.is_empty(),
            (Value::String(s), Outcome::Invalid | Outcome::Failed) => s == "error",
            _ => false,
        };
        if !ok {
            failures.push(format!("line {}: expected {}, got {outcome:?}: {case}", line + 1, case["expect"]));
        }
    }
    assert!(failures.is_empty(), "{} vectors failed:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn role_mapping_vectors_through_the_binary() {
    let dir = std::env::temp_dir().join(format!("rolemap-conformance-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut failures = Vec::new();
    for (line, case) in vectors("role-mapping.jsonl").iter().enumerate() {
        let mappings = dir.join("mappings.json");
        let user = dir.join("user.json");
        std::fs::write(&mappings, mapping_document(&case["rule"])).unwrap();
        std::fs::write(&user, case["user"].to_string()).unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_rolemap"))
            .args(["eval", "--mappings"])
            .arg(&mappings)
            .arg("--user")
            .arg(&user)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let ok = match &case["expect"] {
            Value::Bool(true) => {
                out.status.code() == Some(0) && stdout.trim() == r#"{"roles":["hit"],"mappings":["m"]}"#
            }
            Value::Bool(false) => out.status.code() == Some(0) && stdout.trim() == r#"{"roles":[],"mappings":[]}"#,
            _ => out.status.code().is_some_and(|c| c != 0) && stdout.is_empty() && !out.stderr.is_empty(),
        };
        if !ok {
            failures.push(format!(
                "line {}: expected {}, got exit {:?} stdout {stdout:?} stderr {:?}",
                line + 1,
                case["expect"],
                out.status.code(),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
    }
    std::fs::remove_dir_all(&dir).ok();
    assert!(failures.is_empty(), "{} vectors failed:\n{}", failures.len(), failures.join("\n"));
}
