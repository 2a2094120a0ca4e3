//! Compile and evaluate the synthetic workload of `rolemap::workload` (the
//! one `rolemap bench` runs), at several sizes, against users with 1, 20
//! and 200 groups.

#![expect(clippy::unwrap_used, reason = "fixed, valid input: a failure should stop the bench at once")]

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use rolemap::{Model, Options, Program, RuleSet, Scratch, User, workload};
use std::hint::black_box;
use std::time::Duration;

/// The workload's first user, with its groups cut to or padded to `groups`.
fn user(n: usize, groups: usize) -> User {
    let mut user = workload::users(n).swap_remove(0);
    user.groups.truncate(groups);
    let extra = groups.saturating_sub(user.groups.len());
    user.groups.extend((0..extra).map(|k| format!("unrelated-{k}")));
    user
}

fn compile(c: &mut Criterion) {
    let mut group = c.benchmark_group("compile");
    group.sample_size(10).measurement_time(Duration::from_secs(5));
    for n in [10, 100, 1_000, 10_000, 100_000] {
        let text = workload::mappings(n);
        group.bench_with_input(BenchmarkId::from_parameter(n), &text, |b, text| {
            b.iter(|| Program::compile(&RuleSet::from_json(text, "workload", &Options::default()).unwrap()).unwrap())
        });
    }
    group.finish();
}

fn evaluate(c: &mut Criterion) {
    let mut group = c.benchmark_group("evaluate");
    for n in [10, 100, 1_000, 10_000, 100_000] {
        let rules = RuleSet::from_json(&workload::mappings(n), "workload", &Options::default()).unwrap();
        let program = Program::compile(&rules).unwrap();
        for groups in [1, 20, 200] {
            let user = user(n, groups);
            let model = Model::new(&user).unwrap();
            let mut scratch = Scratch::default();
            // Evaluation proper, of a user flattened against the program.
            let claims = program.flatten(&model, &mut scratch).unwrap();
            group.bench_function(BenchmarkId::new(format!("{n}_mappings"), format!("{groups}_groups")), |b| {
                b.iter(|| program.evaluate_claims(black_box(&claims), &mut scratch).unwrap().is_empty())
            });
            // Flattening included.
            group.bench_function(
                BenchmarkId::new(format!("{n}_mappings"), format!("{groups}_groups_from_model")),
                |b| b.iter(|| program.evaluate(black_box(&model), &mut scratch).unwrap().is_empty()),
            );
        }
        // From a parsed user to role names: building the model included.
        let user = user(n, 20);
        let mut scratch = Scratch::default();
        group.bench_function(BenchmarkId::new(format!("{n}_mappings"), "end_to_end"), |b| {
            b.iter(|| {
                let model = Model::new(black_box(&user)).unwrap();
                let roles = program.evaluate(&model, &mut scratch).unwrap();
                roles.names().map(str::len).sum::<usize>()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, compile, evaluate);
criterion_main!(benches);
