//! binscape's integration tests, one crate (one link, one binary) with shared generators in
//! `common`.
mod cli_bad_input;
mod cli_end_to_end;
mod common;
mod faults;
mod graph;
mod gui;
mod markov;
mod refine;
mod trainer;
