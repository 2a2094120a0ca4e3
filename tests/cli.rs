//! The `rolemap` command's contract: output shapes and exit codes.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

pub(crate) fn rolemap(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_rolemap"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    // The command may exit before reading its input (bad mappings): a
    // broken pipe here is not a failure.
    let _ = input.write_all(stdin.unwrap_or("").as_bytes());
    drop(input);
    child.wait_with_output().unwrap()
}

pub(crate) fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).unwrap()
}

pub(crate) fn stderr(out: &Output) -> String {
    String::from_utf8(out.stderr.clone()).unwrap()
}

/// A file in a fresh temporary folder.
pub(crate) fn temp_file(name: &str, content: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rolemap-cli-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, content).unwrap();
    path
}

const GOOD: &str = r#"{"m": {"enabled": true, "roles": ["r"], "rules": {"field": {"username": "a"}}}}"#;
const BAD: &str = r#"{"ok": {"enabled": true, "roles": ["r"], "rules": {"all": []}},
  "bad": {"enabled": true, "roles": ["r"], "rules": {"any": [{"except": {"all": []}}]}}}"#;

#[test]
fn eval_prints_sorted_roles_and_mappings() {
    let out = rolemap(&["eval", "--mappings", "examples/mappings.json", "--user", "examples/user.json"], None);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "{\"roles\":[\"kibana_user\",\"space_jdoe@example.com\",\"superuser\",\"user\"],\
         \"mappings\":[\"jwt1_admins\",\"jwt1_users\",\"per_user_space\"]}\n"
    );
}

#[test]
fn eval_reads_the_user_from_stdin() {
    let user = r#"{"username": "a", "realm": {"name": "r"}}"#;
    let mappings = temp_file("good.json", GOOD);
    let out = rolemap(&["eval", "--mappings", mappings.to_str().unwrap(), "--user", "-"], Some(user));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), "{\"roles\":[\"r\"],\"mappings\":[\"m\"]}\n");
}

#[test]
fn eval_exit_codes() {
    let mappings = temp_file("eval.json", GOOD);
    let mappings = mappings.to_str().unwrap();
    // A user Elasticsearch cannot build a model of: resolution fails, exit 1.
    let nested = r#"{"username": "a", "realm": {"name": "r"}, "metadata": {"x": {"y": 1}}}"#;
    let out = rolemap(&["eval", "--mappings", mappings, "--user", "-"], Some(nested));
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).is_empty());
    assert_eq!(
        stderr(&out),
        "role resolution failed: metadata values cannot be objects (Elasticsearch cannot build a role-mapping model of this user) at `/metadata/x`\n"
    );
    // Invalid mappings: exit 2, errors on stderr.
    let bad = temp_file("bad.json", BAD);
    let out = rolemap(&["eval", "--mappings", bad.to_str().unwrap(), "--user", "-"], Some(nested));
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("`except` is only allowed as an element of an `all` array"), "{}", stderr(&out));
    // An unreadable user document: exit 2.
    let out = rolemap(&["eval", "--mappings", mappings, "--user", "-"], Some("{"));
    assert_eq!(out.status.code(), Some(2));
    // Usage errors: exit 2.
    let out = rolemap(&["eval", "--mappings", mappings], None);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn check_summarizes_each_file() {
    let good = temp_file("check-good.json", GOOD);
    let bad = temp_file("check-bad.json", BAD);
    let out = rolemap(&["check", "examples/mappings.json", good.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        format!("examples/mappings.json: ok, 5 mappings (4 active)\n{}: ok, 1 mappings (1 active)\n", good.display())
    );
    let out = rolemap(&["check", good.to_str().unwrap(), bad.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stdout(&out),
        format!(
            "{}: ok, 1 mappings (1 active)\n{}: error: role mapping `bad`: `except` is only allowed as an element of an `all` array, not inside `any` at `/bad/rules/any/0/except`\n",
            good.display(),
            bad.display()
        )
    );
}

#[test]
fn check_stored_skips_bad_mappings() {
    let bad = temp_file("stored.json", BAD);
    let out = rolemap(&["check", "--stored", bad.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(stdout(&out), format!("{}: ok, 1 mappings (1 active), 1 skipped\n", bad.display()));
    assert!(stderr(&out).contains("skipped: role mapping `bad`"), "{}", stderr(&out));
}

#[test]
fn disasm_lists_the_program() {
    let out = rolemap(&["disasm", "--mappings", "examples/mappings.json"], None);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    for needle in [
        "fields:",
        "predicates:",
        "mappings:",
        "anchors:",
        "require",
        "forbid",
        "jump-if-true",
        "check",
        "\"retired_admins\": disabled",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in\n{text}");
    }
}

/// `rolemap ... | head`: a reader that stops early ends the command quietly,
/// with the status a shell gives a tool the pipe killed, not a panic.
#[test]
fn closed_stdout_is_not_a_panic() {
    use std::io::Read;
    let mappings: Vec<String> = (0..3000)
        .map(|i| {
            format!(r#""m{i}": {{"enabled": true, "roles": ["r{i}"], "rules": {{"field": {{"groups": "g{i}"}}}}}}"#)
        })
        .collect();
    let file = temp_file("many.json", &format!("{{{}}}", mappings.join(",")));
    let mut child = Command::new(env!("CARGO_BIN_EXE_rolemap"))
        .args(["disasm", "--mappings", file.to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 16];
    child.stdout.take().unwrap().read_exact(&mut first).unwrap();
    // The pipe is closed here, long before the listing (hundreds of KiB) is written.
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(141), "{}", stderr(&out));
    assert!(!stderr(&out).contains("panicked"), "{}", stderr(&out));
}
