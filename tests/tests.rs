//! guard's integration tests: real repositories in temp dirs, real commits,
//! real hooks. Modules follow the contract's sections.
#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::print_stderr)]

mod common;

mod approvers;
mod audit;
mod bounded;
mod check;
mod ci_recipes;
mod coordinate;
mod demo;
mod diff_oracle;
mod drift;
mod fuzz_seeds;
mod graph;
mod hooks;
mod index;
mod layout;
mod listing_oracle;
mod manifest;
mod manifest_quick;
mod merges;
mod objects;
mod precommit_framework;
mod property;
mod replay;
mod server;
mod signatures;
mod signoffs;
mod touch;
mod trailers_oracle;
mod walks;
mod work;
