//! The properties the fuzz targets of `fuzz/` check, one function per
//! target. **Not part of the API**: hidden from the documentation, with no
//! stability promise; it lives in the library so that the committed seeds and
//! regressions replay as ordinary tests on the stable toolchain
//! (`src/fuzzing/replay.rs`, unit tests), while `fuzz/fuzz_targets/<name>.rs` only calls
//! the function of the same name.
//!
//! Every function takes arbitrary bytes and panics only when its property is
//! violated (each `assert!` names the property); bad input is an ordinary
//! error and returns quietly.
#![allow(clippy::panic, reason = "a violated property fails the fuzz run by panicking")]

use crate::ast::MappingSet;
use crate::jwt::{Realms, settings};
use crate::pattern::{Pattern, Shape, lucene_verdicts};
use crate::template::{Escape, Format, Template, roles_from_rendered};
use crate::{Model, Options, Program, Reference, RuleSet, Scratch, User, Validation, dn, parse, text};
use base64::Engine as _;
use base64::engine::DecodePaddingMode;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, URL_SAFE_NO_PAD};
use serde_json::{Map, Value, json};
use std::path::Path;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, UNIX_EPOCH};

/// The names of the targets, as in `fuzz/Cargo.toml`, `fuzz/seeds/` and
/// `fuzz/regressions/`.
pub const TARGETS: [&str; 8] = [
    "mapping_json_parse",
    "text_parse",
    "text_roundtrip",
    "lucene_match",
    "dn_normalize",
    "template_render",
    "program_matches_reference",
    "token_validate",
];

/// Runs the target named `name` on `data`; `false` for an unknown name.
pub fn run(name: &str, data: &[u8]) -> bool {
    let target: fn(&[u8]) = match name {
        "mapping_json_parse" => mapping_json_parse,
        "text_parse" => text_parse,
        "text_roundtrip" => text_roundtrip,
        "lucene_match" => lucene_match,
        "dn_normalize" => dn_normalize,
        "template_render" => template_render,
        "program_matches_reference" => program_matches_reference,
        "token_validate" => token_validate,
        _ => return false,
    };
    target(data);
    true
}

fn options(validation: Validation) -> Options {
    Options { validation, ..Options::default() }
}

const VALIDATIONS: [Validation; 2] = [Validation::Request, Validation::Stored];

/// A mapping JSON document never panics the parser; one that parses prints
/// as JSON that parses back to the same mappings, and checked mappings
/// always compile.
pub fn mapping_json_parse(data: &[u8]) {
    let Ok(source) = std::str::from_utf8(data) else { return };
    for validation in VALIDATIONS {
        let options = options(validation);
        if let Ok((set, _)) = parse::parse_json(source, "m", &options) {
            let printed = serde_json::to_string(&set).unwrap_or_default();
            let again = parse::parse_json(&printed, "m", &options).map(|(set, _)| set);
            assert!(again.as_ref() == Ok(&set), "JSON printed from parsed mappings reads back the same\n{printed}");
        }
        if let Ok(rules) = RuleSet::from_json(source, "m", &options) {
            assert!(Program::compile(&rules).is_ok(), "checked mappings compile");
        }
    }
}

/// The text form never panics the reader, and what it accepts compiles.
pub fn text_parse(data: &[u8]) {
    let Ok(source) = std::str::from_utf8(data) else { return };
    for validation in VALIDATIONS {
        let options = options(validation);
        let _ = text::parse(source, "m", &options);
        let _ = text::format(source, "m", &options);
        if let Ok(rules) = RuleSet::from_text(source, "m", &options) {
            assert!(Program::compile(&rules).is_ok(), "checked mappings compile");
        }
    }
}

/// Mappings read from text (or JSON) print as canonical text that reads back
/// as the same mappings, printing is a fixed point, and `format` agrees with
/// `print` on a text without comments.
pub fn text_roundtrip(data: &[u8]) {
    let Ok(source) = std::str::from_utf8(data) else { return };
    let options = options(Validation::Stored);
    let sets = [text::parse(source, "m", &options), parse::parse_json(source, "m", &options)];
    for set in sets.into_iter().filter_map(Result::ok).map(|(set, _)| set) {
        check_text_roundtrip(&set, &options);
    }
}

fn check_text_roundtrip(set: &MappingSet, options: &Options) {
    let printed = text::print(set);
    let again = text::parse(&printed, "m", options).map(|(set, _)| set);
    match &again {
        Ok(again) => assert!(again == set, "printed text reads back as the same mappings\n{printed}"),
        Err(errors) => panic!("printed text reads back as the same mappings, not: {errors}\n{printed}"),
    }
    let formatted = text::format(&printed, "m", options);
    assert!(
        formatted.as_deref() == Ok(printed.as_str()),
        "canonical text is formatted as itself\n{printed}\n{formatted:?}"
    );
}

/// How many characters of each input the slow matcher gets: it is cubic.
const LUCENE_MAX_INPUT: usize = 8;

/// A Lucene regular expression (the first line) compiles without panicking
/// and, when it compiles, both engines agree with the slow matcher on the
/// inputs (the further lines, cut to 8 characters, and a few fixed ones); the
/// shape the indexes use holds for every input that matches.
pub fn lucene_match(data: &[u8]) {
    let Ok(source) = std::str::from_utf8(data) else { return };
    let mut lines = source.split('\n');
    let body = lines.next().unwrap_or_default();
    // The slow matcher is polynomial in the pattern too: keep it short.
    if body.len() > 256 {
        return;
    }
    let given = lines.take(8).map(|line| match line.char_indices().nth(LUCENE_MAX_INPUT) {
        Some((end, _)) => &line[..end],
        None => line,
    });
    let fixed = ["", "a", "b", "ab", "aa", "ba", "abc", "12", "a1", "\n", "é", "😀"];
    let inputs: Vec<&str> = given.chain(fixed).collect();
    let written = format!("/{body}/");
    let pattern = Pattern::parse(&written);
    let Some(verdicts) = lucene_verdicts(body, &inputs) else {
        assert!(pattern.is_err(), "`{written}` loads as a rule value only if it compiles");
        return;
    };
    let pattern = match pattern {
        Ok(Some(pattern)) => pattern,
        other => panic!("`{written}` compiles, so it loads as a rule value: {other:?}"),
    };
    for (input, verdict) in inputs.iter().zip(verdicts) {
        assert!(verdict.compiled == verdict.slow, "/{body}/ on {input:?}: engine {verdict:?}");
        assert!(verdict.own.is_none_or(|own| own == verdict.slow), "/{body}/ on {input:?}: own DFA {verdict:?}");
        assert!(pattern.is_match(input) == verdict.slow, "/{body}/ on {input:?}: rule value {verdict:?}");
        if verdict.slow {
            let shape = pattern.shape();
            let holds = match shape {
                Shape::Any | Shape::Other { required: None } => true,
                Shape::Prefix(prefix) => input.starts_with(prefix),
                Shape::Suffix(suffix) => input.ends_with(suffix),
                Shape::Other { required: Some(required) } => input.contains(required),
            };
            assert!(holds, "/{body}/ matches {input:?}, so its shape {shape:?} holds for it");
        }
    }
    if matches!(pattern.shape(), Shape::Any) {
        assert!(inputs.iter().all(|input| pattern.is_match(input)), "/{body}/ has shape Any, so matches all");
    }
}

/// A string parses as a DN or is refused without panicking; a DN's
/// normalized form is itself a DN, with the same normalized form, and
/// `normalize` says what `Dn::parse` does.
pub fn dn_normalize(data: &[u8]) {
    let Ok(source) = std::str::from_utf8(data) else { return };
    let parsed = dn::Dn::parse(source);
    let normalized = dn::normalize(source);
    match (&parsed, &normalized) {
        (Ok(parsed), Some(normalized)) => {
            assert!(&parsed.to_normalized_string() == normalized, "normalize agrees with Dn::parse on {source:?}");
            let again = dn::normalize(normalized);
            assert!(
                again.as_deref() == Some(normalized.as_str()),
                "normalizing {source:?} gives {normalized:?}, which normalizes to {again:?}"
            );
        }
        (Err(_), None) => {}
        _ => panic!("normalize and Dn::parse agree on whether {source:?} is a DN"),
    }
}

/// The scope of `template_render` when the input brings none: the model of a
/// user, as role templates see it.
fn template_scope() -> &'static Map<String, Value> {
    static SCOPE: OnceLock<Map<String, Value>> = OnceLock::new();
    SCOPE.get_or_init(|| {
        let scope = json!({
            "username": "jdoe", "dn": "cn=jdoe,ou=people,dc=example,dc=com",
            "groups": ["admins", "dev\"ops", null, "é"],
            "realm": {"name": "jwt1"},
            "metadata": {"a": 1, "b": [1, 2.5, true, null, {"x": "y"}], "c": "", "d": {"e": [[]]}},
            "realm.name": "dotted", "empty": [], "f": false, "n": null
        });
        scope.as_object().cloned().unwrap_or_default()
    })
}

/// A template (before a NUL byte; after it, an optional JSON object as the
/// scope) parses or is refused, and renders or fails, without panicking,
/// within the output limit, with every escaping; reading roles from the
/// output never panics either.
pub fn template_render(data: &[u8]) {
    let Ok(input) = std::str::from_utf8(data) else { return };
    let (source, scope) = match input.split_once('\0') {
        Some((source, scope)) => match serde_json::from_str::<Value>(scope) {
            Ok(Value::Object(scope)) => (source, scope),
            _ => return,
        },
        None => (input, template_scope().clone()),
    };
    for escape in [Escape::Json, Escape::None, Escape::Url] {
        let Ok(template) = Template::parse(source, escape) else { continue };
        let Ok(rendered) = template.render(&scope) else { continue };
        assert!(rendered.len() <= crate::template::MAX_RENDERED_LEN, "rendered output is within the limit");
        for format in [Format::String, Format::Json] {
            let _ = roles_from_rendered(rendered.clone(), format);
        }
    }
}

/// Users `program_matches_reference` always tries, beside the input's own.
fn fixed_users() -> &'static [User] {
    static USERS: OnceLock<Vec<User>> = OnceLock::new();
    USERS.get_or_init(|| {
        let mut admin = User::new("alice", "jwt1");
        admin.dn = Some("CN=Alice, OU=People, DC=Example, DC=Com".into());
        admin.groups = vec!["cn=admins,dc=example,dc=com".into(), "admins".into(), "École".into()];
        admin.metadata =
            json!({"a": "x", "n": 1.0, "list": [1, "two", null], "b": true}).as_object().cloned().unwrap_or_default();
        let mut bare = User::new("bob@example.com", "ldap1");
        bare.groups = vec![String::new()];
        vec![admin, bare, User::new("", "")]
    })
}

/// Mappings (JSON or the text form) and a user (JSON, the last line): the
/// compiled program resolves the user as the reference interpreter does,
/// through `resolve` and through `flatten` + `evaluate_claims` alike, and
/// both resolve the user as a realm holds it (`AuthenticatedUser::model`)
/// the same.
pub fn program_matches_reference(data: &[u8]) {
    let Ok(source) = std::str::from_utf8(data) else { return };
    let (mappings, user) = match source.rsplit_once('\n') {
        Some((mappings, user)) => (mappings, User::from_json(user).ok()),
        None => (source, None),
    };
    let options = options(Validation::Stored);
    let Ok(rules) =
        RuleSet::from_json(mappings, "m", &options).or_else(|_| RuleSet::from_text(mappings, "m", &options))
    else {
        return;
    };
    let program = match Program::compile(&rules) {
        Ok(program) => program,
        Err(errors) => panic!("checked mappings compile: {errors}"),
    };
    let reference = Reference::new(&rules);
    let mut scratch = Scratch::default();
    for user in user.iter().chain(fixed_users()) {
        let Ok(model) = Model::new(user) else { continue };
        let expected = reference.resolve(&model).map_err(|e| e.to_string());
        let compiled = program.resolve(&model).map_err(|e| e.to_string());
        assert!(
            compiled == expected,
            "program {compiled:?} and reference {expected:?} agree\n{program}\nuser {user:?}"
        );
        let split = program
            .flatten(&model, &mut scratch)
            .and_then(|claims| program.evaluate_claims(&claims, &mut scratch).map(|roles| roles.to_resolution()))
            .map_err(|e| e.to_string());
        assert!(
            split == expected,
            "flatten + evaluate_claims {split:?} agrees with resolve {expected:?}\nuser {user:?}"
        );
        // The same user as a realm hands it out: its model reads the
        // metadata in place, unsorted.
        let authenticated = crate::jwt::AuthenticatedUser {
            realm: user.realm.clone(),
            principal: user.username.clone(),
            groups: user.groups.clone(),
            dn: user.dn.clone(),
            email: None,
            full_name: None,
            metadata: user.metadata.iter().map(|(k, v)| (k, v.clone())).collect(),
            roles: Vec::new(),
        };
        let realm_model = match authenticated.model() {
            Ok(model) => model,
            Err(e) => panic!("a user with a model has one as a realm holds it: {e}"),
        };
        for (engine, outcome) in
            [("program", program.resolve(&realm_model)), ("reference", reference.resolve(&realm_model))]
        {
            let outcome = outcome.map_err(|e| e.to_string());
            assert!(
                outcome == expected,
                "the {engine} gives {outcome:?} for a realm's user, {expected:?} for the user\nuser {user:?}"
            );
        }
    }
}

/// The fixed clock of `token_validate`: the fixtures' `now`.
const TOKEN_NOW: u64 = 1_750_000_000;
const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/jwt");
const PKC_JWKSET: &str = include_str!("../tests/fixtures/jwt/keys/pkc.jwkset.json");
const HMAC_JWKSET: &str = include_str!("../tests/fixtures/jwt/keys/hmac.jwkset.json");
const HMAC_SECRETS: [&str; 3] = [
    include_str!("../tests/fixtures/jwt/keys/hs256.secret.txt"),
    include_str!("../tests/fixtures/jwt/keys/hs384.secret.txt"),
    include_str!("../tests/fixtures/jwt/keys/hs512.secret.txt"),
];
/// The client secret of the second realm.
pub const TOKEN_CLIENT_SECRET: &str = "fuzz-client-shared-secret";

/// Two realms over the fixture keys: every algorithm with the JWK sets, and
/// HS256 with a text key behind a client shared secret. Caches are off so
/// that each input is judged on its own.
fn token_realms() -> &'static Result<Realms, String> {
    static REALMS: OnceLock<Result<Realms, String>> = OnceLock::new();
    REALMS.get_or_init(|| {
        let all = json!({
            "order": 1, "token_type": "id_token", "allowed_issuer": "https://issuer.example.com/",
            "allowed_audiences": ["es02"],
            "allowed_signature_algorithms": ["HS256", "HS384", "HS512", "RS256", "RS384", "RS512",
                "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"],
            "pkc_jwkset_path": "keys/pkc.jwkset.json", "hmac_jwkset": HMAC_JWKSET,
            "claims.principal": "sub", "claims.groups": "groups", "claims.mail": "email", "claims.name": "name",
            "client_authentication.type": "none", "jwt.cache.size": 0
        });
        let shared = json!({
            "order": 2, "token_type": "id_token", "allowed_issuer": "https://issuer.example.com/",
            "allowed_audiences": ["es02", "other"], "allowed_signature_algorithms": ["HS256"],
            "hmac_key": HMAC_SECRETS[0], "claims.principal": "sub", "claims.groups": "groups",
            "client_authentication.type": "shared_secret",
            "client_authentication.shared_secret": TOKEN_CLIENT_SECRET, "jwt.cache.size": 0
        });
        let dir = Path::new(FIXTURES);
        let mut realms = Vec::new();
        for (name, flat) in [("all", all), ("shared", shared)] {
            let flat = flat.as_object().cloned().unwrap_or_default();
            realms.push(settings::from_flat(name, &flat, dir).map_err(|e| e.to_string())?);
        }
        let mappings = include_str!("../examples/mappings.json");
        let program = Program::from_json(mappings).map_err(|e| e.to_string())?;
        Realms::new(&realms, Arc::new(program)).map_err(|e| e.to_string())
    })
}

/// A bearer token (the first line) and more headers (`Name: value` lines)
/// against the fixture realms at the fixtures' `now`: authentication never
/// panics, and a token it accepts carries a signature that verifies, checked
/// here with aws-lc-rs directly against the fixture keys.
pub fn token_validate(data: &[u8]) {
    token_accepted(data);
}

/// [`token_validate`], saying whether the realms accepted the token, so that
/// the tests can show the property is not vacuous.
pub fn token_accepted(data: &[u8]) -> bool {
    let realms = match token_realms() {
        Ok(realms) => realms,
        Err(e) => panic!("the fixture realms build: {e}"),
    };
    let input = String::from_utf8_lossy(data);
    let mut lines = input.split('\n');
    let token = lines.next().unwrap_or_default();
    let bearer = format!("Bearer {token}");
    let mut headers = vec![("Authorization", bearer.as_str())];
    headers.extend(lines.take(8).filter_map(|line| line.split_once(':')).map(|(n, v)| (n, v.trim_start())));
    let now = UNIX_EPOCH + Duration::from_secs(TOKEN_NOW);
    if let Ok(user) = realms.authenticate(headers.iter().copied(), now) {
        // Java's trim, as the realm applies it to the bearer value.
        let token = token.trim_matches(|c: char| c <= ' ');
        assert!(signature_verifies(token), "accepted a token whose signature does not verify: {token:?} as {user:?}");
        return true;
    }
    false
}

/// Whether `token`'s signature verifies with one of the fixture keys for the
/// algorithm its header names: an implementation independent of the realm's.
fn signature_verifies(token: &str) -> bool {
    use aws_lc_rs::{hmac, signature};
    // Base64url as leniently as any reader could take it: no padding rules,
    // trailing bits allowed; the question is only which bytes were signed.
    const LENIENT: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::URL_SAFE,
        GeneralPurposeConfig::new()
            .with_decode_padding_mode(DecodePaddingMode::Indifferent)
            .with_decode_allow_trailing_bits(true),
    );
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) = (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    let signed = &token.as_bytes()[..header.len() + 1 + payload.len()];
    let Ok(signature) = LENIENT.decode(signature) else { return false };
    let Some(header) = LENIENT.decode(header).ok().and_then(|h| serde_json::from_slice::<Value>(&h).ok()) else {
        return false;
    };
    let Some(alg) = header.get("alg").and_then(Value::as_str) else { return false };
    let keys: Vec<Value> = serde_json::from_str::<Value>(PKC_JWKSET)
        .ok()
        .and_then(|set| set.get("keys").and_then(Value::as_array).cloned())
        .unwrap_or_default();
    let field = |key: &Value, name: &str| -> Vec<u8> {
        key.get(name).and_then(Value::as_str).and_then(|v| URL_SAFE_NO_PAD.decode(v).ok()).unwrap_or_default()
    };
    let of_type = |kty: &'static str, crv: Option<&'static str>| {
        keys.iter()
            .filter(move |k| k.get("kty").and_then(Value::as_str) == Some(kty))
            .filter(move |k| crv.is_none() || k.get("crv").and_then(Value::as_str) == crv)
    };
    let hmac = |algorithm: hmac::Algorithm| {
        HMAC_SECRETS
            .iter()
            .any(|secret| hmac::verify(&hmac::Key::new(algorithm, secret.as_bytes()), signed, &signature).is_ok())
    };
    let rsa = |params: &'static signature::RsaParameters| {
        of_type("RSA", None).any(|key| {
            let (n, e) = (field(key, "n"), field(key, "e"));
            signature::RsaPublicKeyComponents { n: &n, e: &e }.verify(params, signed, &signature).is_ok()
        })
    };
    let ec = |crv: &'static str, params: &'static signature::EcdsaVerificationAlgorithm| {
        of_type("EC", Some(crv)).any(|key| {
            let point = [&[4u8][..], &field(key, "x"), &field(key, "y")].concat();
            signature::UnparsedPublicKey::new(params, &point).verify(signed, &signature).is_ok()
        })
    };
    match alg {
        "HS256" => hmac(hmac::HMAC_SHA256),
        "HS384" => hmac(hmac::HMAC_SHA384),
        "HS512" => hmac(hmac::HMAC_SHA512),
        "RS256" => rsa(&signature::RSA_PKCS1_2048_8192_SHA256),
        "RS384" => rsa(&signature::RSA_PKCS1_2048_8192_SHA384),
        "RS512" => rsa(&signature::RSA_PKCS1_2048_8192_SHA512),
        "PS256" => rsa(&signature::RSA_PSS_2048_8192_SHA256),
        "PS384" => rsa(&signature::RSA_PSS_2048_8192_SHA384),
        "PS512" => rsa(&signature::RSA_PSS_2048_8192_SHA512),
        "ES256" => ec("P-256", &signature::ECDSA_P256_SHA256_FIXED),
        "ES384" => ec("P-384", &signature::ECDSA_P384_SHA384_FIXED),
        "ES512" => ec("P-521", &signature::ECDSA_P521_SHA512_FIXED),
        _ => false,
    }
}

#[cfg(test)]
mod replay;
