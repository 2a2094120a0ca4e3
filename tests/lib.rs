//! The integration tests, built as one binary.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "tests fail by panicking")]

mod common;

mod cli;
mod conformance;
mod differential;
mod errors;
mod hostile;
#[cfg(feature = "https")]
mod https;
mod jwt;
mod library;
mod limits;
mod load;
mod lucene;
mod reload;
mod robustness;
mod text;
