//! Compile and evaluate a synthetic mapping set: mapping `i` grants `role-i`
//! to members of `team-i` in realm `jwt1` unless the user is `blocked-i`;
//! every tenth mapping matches a username suffix instead of a group.

#![expect(clippy::unwrap_used, reason = "fixed, valid input: a failure should stop the bench at once")]
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use rolemap::{Model, Options, Program, Reference, RuleSet, Scratch, User};
use serde_json::{Map, Value, json};
use std::hint::black_box;

fn mappings(n: usize) -> String {
    let mut doc = Map::new();
    for i in 0..n {
        let anchor = if i % 10 == 0 {
            json!({"field": {"username": format!("*@dept{i}.example.com")}})
        } else {
            json!({"field": {"groups": format!("team-{i}")}})
        };
        let rules = json!({"all": [anchor, {"field": {"realm.name": "jwt1"}},
            {"except": {"field": {"username": format!("blocked-{i}")}}}]});
        doc.insert(format!("m{i}"), json!({"enabled": true, "roles": [format!("role-{i}")], "rules": rules}));
    }
    Value::Object(doc).to_string()
}

fn user(n: usize, groups: usize) -> User {
    let mut user = User::new(format!("user@dept{}.example.com", (n / 2) / 10 * 10), "jwt1");
    user.groups = (0..groups).map(|g| format!("team-{}", (g * 7919) % n.max(1))).collect();
    user.metadata.insert("level".into(), 3.into());
    user
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("compile");
    for n in [100, 1_000, 10_000] {
        let text = mappings(n);
        group.bench_with_input(BenchmarkId::from_parameter(n), &text, |b, text| {
            b.iter(|| {
                let rules = RuleSet::from_json(text, "m", &Options::default()).unwrap();
                Program::compile(&rules).unwrap()
            })
        });
    }
    group.finish();

    let mut group = c.benchmark_group("evaluate");
    for n in [100, 1_000, 10_000] {
        let rules = RuleSet::from_json(&mappings(n), "m", &Options::default()).unwrap();
        let program = Program::compile(&rules).unwrap();
        for groups in [1, 20, 200] {
            let model = Model::new(&user(n, groups)).unwrap();
            let mut scratch = Scratch::default();
            group.bench_function(BenchmarkId::new(format!("{n}_mappings"), format!("{groups}_groups")), |b| {
                b.iter(|| program.evaluate(black_box(&model), &mut scratch).unwrap().is_empty())
            });
        }
    }
    group.finish();

    let mut group = c.benchmark_group("reference");
    for n in [100, 1_000] {
        let rules = RuleSet::from_json(&mappings(n), "m", &Options::default()).unwrap();
        let model = Model::new(&user(n, 20)).unwrap();
        group.bench_function(BenchmarkId::from_parameter(n), |b| {
            b.iter(|| Reference::new(&rules).resolve(black_box(&model)).unwrap())
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
