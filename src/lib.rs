//! git-session: keep an AI coding session's work and context in git.
//!
//! The modules, from the data up to the command line (one concern each):
//!
//! - [`state`]: the session state and its two codecs (TOML note, trailers).
//! - [`config`]: defaults, `.git-session.toml`, git config `session.*`;
//!   [`error`]: the errors a user can act on, with their hints.
//! - [`repo`]: opening the repository, refusals, identity; [`lock`]: the
//!   locks a checkpoint holds, and clearing those a dead run left.
//! - [`snapshot`]: work tree → tree with `git add -A` semantics, and the
//!   index; [`untracked`]: its walk for untracked files, with a cache of
//!   unchanged directories; [`index_file`] writes the index as git does;
//!   [`secrets`]: the untracked files it never commits.
//! - [`notes`]: the only module that reads or writes git notes, and
//!   [`notes::merge`], a remote's notes merged into the local ones.
//! - [`history`]: the first-parent walk that finds checkpoints.
//! - [`commit`]: writing a commit and moving refs to it under the locks,
//!   the pipeline [`checkpoint`], [`rescue`] and [`finish`] share.
//! - [`checkpoint`]: snapshot + commit + note + index, in a crash-safe
//!   order; [`rescue`]: the work tree saved beside the branch when it
//!   cannot take one; [`finish`]: folding a session's commits into one,
//!   keeping the old chain under `refs/session/archive/`.
//! - [`sessions`]: where each branch's session stands, and the list of
//!   them across branches; [`continuation`]: another branch's session
//!   brought onto this one.
//! - [`resume`]: the context the next session needs; [`render`]: the
//!   minijinja templates shipped in `templates/`.
//! - [`remote`]: the one place that runs the `git` binary (push, fetch,
//!   config writes, signing, its version); [`sync`] decides what to push
//!   and fetch, and what `init` configures; [`maintenance`]: `git gc
//!   --auto` after a checkpoint, as after a commit.
//! - [`agents`]: one file per agent (hook input, settings files,
//!   transcript) behind one trait; what runs on every hook event, and the
//!   one-time settings install.
//! - [`platform`]: what differs between systems (home, `PATH`).
//! - [`commands`]: one module per subcommand, and the [`commands::Workspace`]
//!   they start from; [`cli`] parses; [`color`] and [`progress`] are how
//!   output looks on a terminal; [`terminal`] keeps control sequences in
//!   repository data off it; [`time`] writes times and ids.
//! - [`transcripts`]: the agent's own conversation, stored redacted under
//!   refs of our own (opt-in), for `resume --native`.

pub mod agents;
pub mod checkpoint;
pub mod cli;
pub mod color;
pub mod commands;
pub mod commit;
pub mod config;
pub mod continuation;
pub mod error;
pub mod finish;
pub mod history;
pub mod index_file;
pub mod lock;
pub mod maintenance;
pub mod notes;
pub mod platform;
pub mod progress;
pub mod redact;
pub mod remote;
pub mod render;
pub mod repo;
pub mod rescue;
pub mod restore;
pub mod resume;
pub mod secrets;
pub mod sessions;
pub mod snapshot;
pub mod state;
pub mod sync;
pub mod terminal;
pub mod time;
pub mod transcripts;
pub mod untracked;
pub mod worktree;
