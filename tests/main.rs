//! The one integration-test binary: every test runs the real `git-session`
//! binary and real `git` in an isolated temporary repository, and where git can
//! answer the same question, asks git and compares.

mod bad_input;
mod cache_tree;
mod cli_conventions;
mod cli_output;
mod config;
mod differential;
mod finish;
mod fuzz;
mod hooks;
mod hostile;
mod notes;
mod reliability;
mod repo_shapes;
mod resume;
mod state_cli;
mod support;
mod sync;
mod templates;
mod terminal;
mod trust;
mod unusual;
