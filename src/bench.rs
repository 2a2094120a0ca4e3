//! `rolemap bench`: compile and evaluate the synthetic workload of
//! `rolemap::workload` at several sizes, timing the program against the
//! reference interpreter in the same run.

use crate::Object;
use rolemap::workload;
use rolemap::{Model, Options, Program, Reference, RuleSet, Scratch};
use serde_json::json;
use std::hint::black_box;
use std::time::{Duration, Instant};

/// One size's measurements.
pub struct Row {
    /// Throughput with two threads over throughput with one, when measured.
    scaling: Option<f64>,
    mappings: usize,
    compile_ms: f64,
    program_bytes: usize,
    eval_ns: f64,
    end_to_end_ns: f64,
    reference_ns: f64,
    roles_per_user: f64,
    agree: bool,
}

impl Row {
    pub fn to_json(&self) -> Object<'static> {
        let mut row = Object(vec![
            ("mappings", json!(self.mappings)),
            ("compile_ms", json!(round(self.compile_ms, 2))),
            ("program_bytes", json!(self.program_bytes)),
            ("eval_ns", json!(round(self.eval_ns, 1))),
            ("end_to_end_ns", json!(round(self.end_to_end_ns, 1))),
            ("reference_ns", json!(round(self.reference_ns, 1))),
            ("speedup", json!(round(self.reference_ns / self.end_to_end_ns, 1))),
            ("roles_per_user", json!(self.roles_per_user)),
            ("agree", json!(self.agree)),
        ]);
        if let Some(scaling) = self.scaling {
            row.0.push(("two_thread_scaling", json!(round(scaling, 2))));
        }
        row
    }

    pub fn to_line(&self) -> String {
        format!(
            "{:>8} {:>11.2} {:>14} {:>9.0} {:>12.0} {:>14.0} {:>9.0}x {:>7.2} {:>6}",
            self.mappings,
            self.compile_ms,
            self.program_bytes,
            self.eval_ns,
            self.end_to_end_ns,
            self.reference_ns,
            self.reference_ns / self.end_to_end_ns,
            self.roles_per_user,
            if self.agree { "yes" } else { "NO" }
        ) + &self.scaling.map_or(String::new(), |s| format!("  (2 threads: {s:.2}x the throughput of 1)"))
    }

    pub const HEADER: &str =
        "mappings  compile ms  program bytes   eval ns  end-to-end ns  reference ns   speedup   roles  agree";
}

fn round(x: f64, digits: i32) -> f64 {
    let scale = 10f64.powi(digits);
    (x * scale).round() / scale
}

/// The median, over samples, of the time one call of `f` takes, in
/// nanoseconds; `f` runs `per_call` evaluations, so the result is divided
/// by it. Each sample repeats `f` for at least `target` so that timer
/// resolution does not matter.
fn median_ns(mut f: impl FnMut(), per_call: usize, samples: usize, target: Duration) -> f64 {
    f(); // warm up caches and scratch
    let start = Instant::now();
    f();
    let once = start.elapsed().max(Duration::from_nanos(1));
    let repeat = (target.as_nanos() / once.as_nanos()).clamp(1, 1_000_000) as usize;
    let mut times: Vec<f64> = (0..samples)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..repeat {
                f();
            }
            start.elapsed().as_nanos() as f64 / (repeat * per_call) as f64
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

/// Evaluations per second of `threads` threads resolving the users at once,
/// each with its own scratch, for a fixed time.
fn throughput(program: &Program, models: &[Model<'_>], threads: usize) -> f64 {
    let duration = Duration::from_millis(600);
    let counts: Vec<usize> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(move || {
                    let mut scratch = Scratch::default();
                    let start = Instant::now();
                    let mut count = 0;
                    while start.elapsed() < duration {
                        for model in models {
                            black_box(program.evaluate(black_box(model), &mut scratch).map(|r| r.is_empty()).ok());
                        }
                        count += models.len();
                    }
                    count
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap_or(0)).collect()
    });
    counts.iter().sum::<usize>() as f64 / duration.as_secs_f64()
}

/// Measures one workload size (and, with `scaling`, one thread against two).
pub fn measure(n: usize, scaling: bool) -> Result<Row, String> {
    let text = workload::mappings(n);
    let users = workload::users(n);
    let started = Instant::now();
    let rules = RuleSet::from_json(&text, "workload", &Options::default()).map_err(|e| e.to_string())?;
    let program = Program::compile(&rules).map_err(|e| e.to_string())?;
    let compile_ms = started.elapsed().as_secs_f64() * 1000.0;
    // Compile once more and keep the faster: the first run pays for page faults.
    let started = Instant::now();
    let again =
        Program::compile(&RuleSet::from_json(&text, "workload", &Options::default()).map_err(|e| e.to_string())?)
            .map_err(|e| e.to_string())?;
    let compile_ms = compile_ms.min(started.elapsed().as_secs_f64() * 1000.0);
    drop(again);

    let models: Vec<Model> = users.iter().map(Model::new).collect::<Result<_, _>>().map_err(|e| e.to_string())?;
    let reference = Reference::new(&rules);
    let mut agree = true;
    let mut roles = 0usize;
    for model in &models {
        let expected = reference.resolve(model).map_err(|e| e.to_string())?;
        let got = program.resolve(model).map_err(|e| e.to_string())?;
        agree &= expected == got;
        roles += got.roles.len();
    }

    let mut scratch = Scratch::default();
    // Evaluation proper: users already flattened against the program.
    let claims = models.iter().map(|m| program.flatten(m, &mut scratch)).collect::<Result<Vec<_>, _>>();
    let claims = claims.map_err(|e| e.to_string())?;
    let eval_ns = median_ns(
        || {
            for claims in &claims {
                let roles = program.evaluate_claims(black_box(claims), &mut scratch);
                black_box(roles.map(|r| r.is_empty()).ok());
            }
        },
        models.len(),
        31,
        Duration::from_millis(20),
    );
    let end_to_end_ns = median_ns(
        || {
            for user in &users {
                let Ok(model) = Model::new(black_box(user)) else { continue };
                if let Ok(roles) = program.evaluate(&model, &mut scratch) {
                    let names: Vec<&str> = roles.names().collect();
                    black_box(names);
                }
            }
        },
        users.len(),
        31,
        Duration::from_millis(20),
    );
    let samples = if n >= 100_000 { 3 } else { 7 };
    let reference_ns = median_ns(
        || {
            for model in &models {
                black_box(reference.resolve(black_box(model)).ok());
            }
        },
        models.len(),
        samples,
        Duration::from_millis(50),
    );
    let scaling = scaling.then(|| throughput(&program, &models, 2) / throughput(&program, &models, 1));
    Ok(Row {
        scaling,
        mappings: n,
        compile_ms,
        program_bytes: program.memory_bytes(),
        eval_ns,
        end_to_end_ns,
        reference_ns,
        roles_per_user: roles as f64 / models.len() as f64,
        agree,
    })
}
