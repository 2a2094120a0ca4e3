//! The JWT pipeline against its floors, timed alternately.
//!
//! criterion measures one benchmark after another, minutes apart, and the
//! floor alone moves by some 5% between runs on a machine that shares its
//! hardware: as much as the differences the ratio is meant to show. Here
//! every round times a batch of each contender back to back, in an order
//! that changes from round to round, so that all of them see the same
//! machine, and each ratio is taken within a round. The contenders are the ones of the `jwt`
//! bench: authenticate and map (cache off, 1 000 mappings), jsonwebtoken's
//! decode, and aws-lc-rs's bare verification of the signature.
//!
//! `cargo bench --bench jwt_ratio` prints, per token, the median time of
//! each and the median, lowest and highest per-round ratio of the pipeline
//! to each of the others; `cargo bench --bench jwt_ratio -- RS256` runs the
//! tokens whose name holds the argument. Run without `--bench` (as `cargo
//! test --benches` does), it calls each contender once and stops.

#![expect(clippy::unwrap_used, reason = "fixed, valid input: a failure should stop the bench at once")]

#[allow(dead_code, reason = "this bench uses part of the setup")]
mod jwt_setup;

use jwt_setup::{Setup, TOKENS};
use serde_json::Value;
use std::hint::black_box;
use std::time::{Duration, Instant};

/// Rounds per token (odd, for a median).
const ROUNDS: usize = 31;
/// About how long one contender's batch takes.
const BATCH: Duration = Duration::from_millis(10);
/// How long each contender runs before the rounds.
const WARM_UP: Duration = Duration::from_millis(300);

/// Something timed: its name and one call.
type Contender<'a> = (&'static str, Box<dyn FnMut() -> usize + 'a>);

fn main() {
    // `cargo bench` passes `--bench`; anything else not an option filters.
    let measure = std::env::args().any(|a| a == "--bench");
    let filter = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let setup = Setup::new();
    if let Some(filter) = &filter
        && !TOKENS.iter().any(|(alg, _)| alg.contains(filter.as_str()))
    {
        println!("no token's name holds `{filter}` (tokens: HS256, RS256, ES256, ES512)");
    }
    if measure {
        println!("{ROUNDS} rounds per token, each a batch of about {} ms per contender\n", BATCH.as_millis());
        let header = ["token", "pipeline", "jsonwebtoken", "backend", "pipeline / backend", "pipeline / jsonwebtoken"];
        println!(
            "{:<7}{:>14}{:>14}{:>14}   {:<30}{}",
            header[0], header[1], header[2], header[3], header[4], header[5]
        );
    }
    for (alg, kid) in TOKENS {
        if filter.as_deref().is_some_and(|f| !alg.contains(f)) {
            continue;
        }
        let token = setup.token(alg);
        let bearer = format!("Bearer {token}");
        let (realms, now) = (&setup.realms, setup.now);
        let mut contenders: Vec<Contender<'_>> = vec![(
            "pipeline",
            Box::new(|| realms.authenticate([("Authorization", black_box(bearer.as_str()))], now).unwrap().roles.len()),
        )];
        if let Some((key, validation)) = setup.jsonwebtoken(alg, kid) {
            let token = token.clone();
            contenders.push((
                "jsonwebtoken",
                Box::new(move || {
                    jsonwebtoken::decode::<Value>(black_box(&token), &key, &validation)
                        .unwrap()
                        .claims
                        .as_object()
                        .unwrap()
                        .len()
                }),
            ));
        }
        if let Some(kid) = kid {
            let floor = setup.backend(alg, kid, &token);
            contenders.push(("backend", Box::new(move || usize::from(floor.verify()))));
        }
        if !measure {
            for (_, call) in &mut contenders {
                call();
            }
            continue;
        }
        let times = rounds(&mut contenders);
        let median_of = |name: &str| {
            let i = contenders.iter().position(|(n, _)| *n == name)?;
            Some(median(times.iter().map(|round| round[i]).collect()))
        };
        let ratio_to = |name: &str| {
            let i = contenders.iter().position(|(n, _)| *n == name)?;
            let pipeline = contenders.iter().position(|(n, _)| *n == "pipeline")?;
            let mut ratios: Vec<f64> = times.iter().map(|round| round[pipeline] / round[i]).collect();
            ratios.sort_by(f64::total_cmp);
            let (low, middle, high) = (ratios[0], ratios[ratios.len() / 2], ratios[ratios.len() - 1]);
            Some(format!("{middle:.3}× ({low:.3}–{high:.3})"))
        };
        let shown = |ns: Option<f64>| ns.map_or_else(|| "—".to_owned(), |ns| format!("{:.2} µs", ns / 1000.0));
        println!(
            "{alg:<7}{:>14}{:>14}{:>14}   {:<30}{}",
            shown(median_of("pipeline")),
            shown(median_of("jsonwebtoken")),
            shown(median_of("backend")),
            ratio_to("backend").unwrap_or_else(|| "—".into()),
            ratio_to("jsonwebtoken").unwrap_or_else(|| "—".into()),
        );
    }
}

/// Warms each contender up, sizes its batch, then runs the rounds: the
/// time per call of each contender (in the order given) in each round.
fn rounds(contenders: &mut [Contender<'_>]) -> Vec<Vec<f64>> {
    let batches: Vec<u32> = contenders
        .iter_mut()
        .map(|(_, call)| {
            let (start, mut calls) = (Instant::now(), 0u32);
            while start.elapsed() < WARM_UP {
                black_box(call());
                calls += 1;
            }
            let per_call = start.elapsed() / calls;
            (BATCH.as_nanos() / per_call.as_nanos().max(1)).clamp(1, u128::from(u32::MAX)) as u32
        })
        .collect();
    (0..ROUNDS)
        .map(|round| {
            let n = contenders.len();
            let mut times = vec![0.0; n];
            // Rotated from round to round, and reversed for every other n
            // rounds: over 2n rounds, every order of two or three
            // contenders comes as often as any other.
            let order = (0..n).map(|k| (k + round) % n);
            let order: Vec<usize> = if (round / n).is_multiple_of(2) { order.collect() } else { order.rev().collect() };
            for i in order {
                let call = &mut contenders[i].1;
                let start = Instant::now();
                for _ in 0..batches[i] {
                    black_box(call());
                }
                times[i] = start.elapsed().as_nanos() as f64 / f64::from(batches[i]);
            }
            times
        })
        .collect()
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}
