//! The one integration-test binary: every test runs the real `git-session`
//! binary and real `git` in an isolated temporary repository, and where git can
//! answer the same question, asks git and compares.

mod after_squash;
mod agents;
// Unix only: uses the differential work-tree snapshot.
#[cfg(unix)]
mod bad_input;
mod cache_tree;
mod cli_conventions;
mod cli_output;
mod config;
mod continue_anywhere;
// Unix only: the random trees have symlinks and exec bits, read with unix metadata.
#[cfg(unix)]
mod differential;
mod finish;
mod fuzz;
mod hardening;
mod hooks;
// Unix only: non-UTF-8 file names and read-only object directories (chmod).
#[cfg(unix)]
mod hostile;
mod notes;
mod platforms;
// Unix only: signals: SIGKILL, SIGINT and SIGTERM sent with kill.
#[cfg(unix)]
mod reliability;
// Unix only: chmod, symlinks, umask.
#[cfg(unix)]
mod repo_shapes;
mod restore;
mod resume;
mod state_cli;
mod support;
mod sync;
mod templates;
mod terminal;
mod transcripts;
// Unix only: symlinks and FIFOs.
#[cfg(unix)]
mod trust;
// Unix only: symlinks and exec bits, and the hostile helpers.
#[cfg(unix)]
#[cfg(unix)]
mod untracked_cache;
mod unusual;
