//! git-session: keep an AI coding session's work and context in git.
//!
//! The modules, from the data up to the command line:
//!
//! - [`state`]: the session state and its two codecs (TOML note, trailers).
//! - [`config`]: defaults, `.git-session.toml`, git config `session.*`.
//! - [`repo`]: opening the repository, refusals, locks, identity.
//! - [`snapshot`]: work tree → tree with `git add -A` semantics, and the index.
//! - [`notes`]: the only module that reads or writes git notes.
//! - [`history`]: first-parent walks that find checkpoints.
//! - [`checkpoint`]: snapshot + commit + note + index, in a crash-safe order.
//! - [`render`]: minijinja templates shipped in `templates/`.
//! - [`remote`]: the one place that runs the `git` binary (push, fetch,
//!   config writes); [`sync`] decides what to push and fetch;
//!   [`notes_merge`] merges a remote's notes into the local ones.
//! - [`finish`]: folding a session's commits into one, keeping the old
//!   chain under `refs/session/archive/`.
//! - [`commands`]: one module per subcommand; [`cli`] parses; [`color`]
//!   and [`progress`] are how output looks on a terminal; [`terminal`]
//!   keeps control sequences in repository data off it.

pub mod agents;
pub mod checkpoint;
pub mod cli;
pub mod color;
pub mod commands;
pub mod config;
pub mod error;
pub mod finish;
pub mod history;
pub mod index_file;
pub mod notes;
pub mod notes_merge;
pub mod progress;
pub mod redact;
pub mod remote;
pub mod render;
pub mod repo;
pub mod rescue;
pub mod resume;
pub mod snapshot;
pub mod state;
pub mod sync;
pub mod terminal;
pub mod time;
