//! The fuzz targets' committed inputs, replayed on the stable toolchain
//! as unit tests:
//! every file of `fuzz/seeds/<target>/` and `fuzz/regressions/<target>/`
//! through `rolemap::fuzzing::<target>`, which panics when its property is
//! violated. The named tests below pin each bug the fuzzers found.

use crate::fuzzing::{self, TARGETS};
use std::path::{Path, PathBuf};

fn fuzz_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fuzz")
}

/// The files of `fuzz/<kind>/<target>/`, sorted; none when the folder is absent.
fn inputs(kind: &str, target: &str) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(fuzz_dir().join(kind).join(target)) else { return Vec::new() };
    let mut files: Vec<PathBuf> = entries.map(|e| e.unwrap().path()).filter(|p| p.is_file()).collect();
    files.sort();
    files
}

fn replay(path: &Path, target: &str) {
    let data = std::fs::read(path).unwrap();
    // A panic names the property; say which file broke it.
    let outcome = std::panic::catch_unwind(|| fuzzing::run(target, &data));
    match outcome {
        Ok(known) => assert!(known, "unknown target {target}"),
        Err(_) => panic!("{target}: {} violates the property", path.display()),
    }
}

#[test]
fn seeds_replay() {
    let mut count = 0;
    for target in TARGETS {
        let seeds = inputs("seeds", target);
        assert!(!seeds.is_empty(), "fuzz/seeds/{target}/ has no seeds");
        for path in &seeds {
            replay(path, target);
        }
        count += seeds.len();
    }
    assert!(count >= 8);
}

#[test]
fn regressions_replay() {
    for target in TARGETS {
        for path in inputs("regressions", target) {
            replay(&path, target);
        }
    }
}

#[test]
fn every_folder_is_a_target() {
    for kind in ["seeds", "regressions", "dict"] {
        let Ok(entries) = std::fs::read_dir(fuzz_dir().join(kind)) else { continue };
        for entry in entries {
            let path = entry.unwrap().path();
            let name = path.file_stem().unwrap().to_string_lossy().into_owned();
            assert!(TARGETS.contains(&name.as_str()), "fuzz/{kind}/{name} names no target");
        }
    }
    let manifest = std::fs::read_to_string(fuzz_dir().join("Cargo.toml")).unwrap();
    for target in TARGETS {
        assert!(manifest.contains(&format!("name = \"{target}\"")), "fuzz/Cargo.toml lacks {target}");
        assert!(fuzz_dir().join(format!("fuzz_targets/{target}.rs")).is_file(), "no fuzz_targets/{target}.rs");
    }
}

/// `token_validate` only means something if good tokens get through: the
/// fixtures' valid tokens are accepted (and so re-verified by the target),
/// their forgeries are not.
#[test]
fn token_seeds_reach_acceptance() {
    let seeds = inputs("seeds", "token_validate");
    let accepted: Vec<String> = seeds
        .iter()
        .filter(|path| fuzzing::token_accepted(&std::fs::read(path).unwrap()))
        .map(|path| path.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    for alg in ["HS256", "HS384", "HS512", "RS256", "PS384", "ES256", "ES512", "HS256_with_client_secret"] {
        assert!(accepted.iter().any(|name| name == alg), "{alg} is not accepted: {accepted:?}");
    }
    assert!(accepted.iter().all(|name| !name.starts_with("neg_")), "a forgery is accepted: {accepted:?}");
}
