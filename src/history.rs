//! Walking first-parent history to find checkpoints and their state.
//!
//! A commit is a checkpoint when it has a session note or a
//! `Session-Schema` trailer. The note wins when both exist; a note that is
//! not valid TOML is reported and the trailers serve instead, and so do
//! they, with a warning, for a note with a newer schema than this build's.

use anyhow::Context as _;
use gix::bstr::ByteSlice;
use gix::ObjectId;

use crate::config::Config;
use crate::notes::Notes;
use crate::state::{State, SCHEMA};
use crate::time::{rfc3339, short};

/// Where a checkpoint's state was read from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    Note,
    Trailers,
}

/// One checkpoint commit and its state.
#[derive(Clone, Debug)]
pub struct Checkpoint {
    pub id: ObjectId,
    pub state: State,
    pub source: Source,
    /// Committer time of the commit.
    pub time: gix::date::Time,
    /// The commit's tree.
    pub tree: ObjectId,
}

/// Reads checkpoints, collecting warnings (corrupt notes) for the caller to
/// print.
pub struct History<'repo> {
    repo: &'repo gix::Repository,
    notes: Notes<'repo>,
    /// Commits in a row without a checkpoint a walk passes before it stops
    /// (`session.searchDepth`).
    depth: usize,
    /// Problems worth telling the user, such as a note that is not TOML.
    pub warnings: Vec<String>,
    /// Whether a newer state schema was reported (once is enough).
    warned_newer: bool,
    /// The shallow boundary (`.git/shallow`), sorted: commits whose parents
    /// this repository does not have. A walk stops there, as git's does.
    shallow: Vec<ObjectId>,
}

impl<'repo> History<'repo> {
    /// Read `repo`'s checkpoints with the notes ref and search depth of
    /// `config`.
    pub fn new(repo: &'repo gix::Repository, config: &Config) -> anyhow::Result<Self> {
        Ok(History {
            repo,
            notes: Notes::open(repo, &config.notes_ref)?,
            depth: config.search_depth,
            warnings: Vec::new(),
            warned_newer: false,
            shallow: shallow_boundary(repo)?,
        })
    }

    /// Whether `id` is on the shallow boundary: its parents were never
    /// fetched.
    pub fn is_shallow(&self, id: ObjectId) -> bool {
        self.shallow.binary_search(&id).is_ok()
    }

    /// The notes accessor, for writing.
    pub fn notes(&mut self) -> &mut Notes<'repo> {
        &mut self.notes
    }

    /// The checkpoint at `id`, or `None` when that commit is not one.
    pub fn checkpoint_at(&mut self, id: ObjectId) -> anyhow::Result<Option<Checkpoint>> {
        let commit = self
            .repo
            .find_commit(id)
            .with_context(|| format!("could not read commit {id}"))?;
        self.checkpoint_of(&commit)
    }

    /// Like [`History::checkpoint_at`], for a commit already read (a walk
    /// reads each commit once, for its state and its parent).
    pub fn checkpoint_of(
        &mut self,
        commit: &gix::Commit<'_>,
    ) -> anyhow::Result<Option<Checkpoint>> {
        let id = commit.id;
        let note = match self.notes.read(id) {
            Ok(note) => note,
            Err(err) => {
                self.warnings
                    .push(format!("could not read the note of {}: {err:#}", short(id)));
                None
            }
        };
        let time = commit.time().unwrap_or_default();
        let tree = commit.tree_id()?.detach();
        let message = commit.message_raw_sloppy();
        let text = message.to_str_lossy();
        let found = |mut state: State, source: Source| {
            fill_from_commit(&mut state, text.as_ref(), time);
            Some(Checkpoint {
                id,
                state,
                source,
                time,
                tree,
            })
        };
        let trailers = || {
            message
                .contains_str("Session-Schema:")
                .then(|| State::from_trailers(&text))
                .flatten()
        };

        if let Some(bytes) = note {
            match std::str::from_utf8(&bytes)
                .map_err(|e| e.to_string())
                .and_then(|text| State::from_toml(text).map_err(|e| e.to_string()))
            {
                Ok(mut state) => {
                    if state.schema == 0 {
                        state.schema = 1;
                    }
                    if state.schema <= SCHEMA {
                        return Ok(found(state, Source::Note));
                    }
                    // A newer git-session wrote it: what this one reads of
                    // it may be wrong, and the trailers say the same in a
                    // form that changes less.
                    let schema = state.schema;
                    return Ok(match trailers() {
                        Some(older) if older.schema <= SCHEMA => {
                            self.warn_newer(id, schema, "reading its commit trailers instead of its note");
                            found(older, Source::Trailers)
                        }
                        _ => {
                            self.warn_newer(id, schema, "reading what this version understands of its note");
                            found(state, Source::Note)
                        }
                    });
                }
                Err(err) => self.warnings.push(format!(
                    "the note on {} in {} is not valid TOML, reading the commit trailers instead: {}",
                    short(id),
                    self.notes.name(),
                    err.lines().next().unwrap_or_default()
                )),
            }
        }
        let Some(state) = trailers() else {
            return Ok(None);
        };
        if state.schema > SCHEMA {
            self.warn_newer(
                id,
                state.schema,
                "reading what this version understands of its trailers",
            );
        }
        Ok(found(state, Source::Trailers))
    }

    /// Say once per walk that a checkpoint has a newer state schema than
    /// this build reads ([`SCHEMA`]), and what is read instead.
    fn warn_newer(&mut self, id: ObjectId, schema: u32, instead: &str) {
        if self.warned_newer {
            return;
        }
        self.warned_newer = true;
        self.warnings.push(format!(
            "checkpoint {} was written by a newer git-session (state schema {schema}; this one reads up to {SCHEMA}): {instead}; upgrade git-session to read all of it",
            short(id)
        ));
    }

    /// The newest checkpoint at or before `tip` on first-parent history.
    pub fn newest(&mut self, tip: ObjectId) -> anyhow::Result<Option<Checkpoint>> {
        let mut found = None;
        self.walk(tip, |cp| {
            found = Some(cp);
            false
        })?;
        Ok(found)
    }

    /// Visit checkpoints from `tip` backwards along first parents, newest
    /// first, until `visit` returns false.
    pub fn walk(
        &mut self,
        tip: ObjectId,
        visit: impl FnMut(Checkpoint) -> bool,
    ) -> anyhow::Result<()> {
        self.walk_until(tip, None, visit)
    }

    /// Like [`History::walk`], stopping before `stop` (the session's base).
    pub fn walk_until(
        &mut self,
        tip: ObjectId,
        stop: Option<ObjectId>,
        mut visit: impl FnMut(Checkpoint) -> bool,
    ) -> anyhow::Result<()> {
        self.walk_commits(tip, stop, |_, cp| cp.is_none_or(&mut visit))
    }

    /// The one first-parent walk: visit every commit from `tip` backwards,
    /// with its checkpoint when it is one, until `visit` returns false,
    /// the walk reaches `stop` or the shallow boundary, or it has passed
    /// `session.searchDepth` commits in a row without a checkpoint.
    pub fn walk_commits(
        &mut self,
        tip: ObjectId,
        stop: Option<ObjectId>,
        mut visit: impl FnMut(&gix::Commit<'_>, Option<Checkpoint>) -> bool,
    ) -> anyhow::Result<()> {
        let mut next = Some(tip);
        let mut without = 0;
        while let Some(id) = next.filter(|id| Some(*id) != stop) {
            let commit = self
                .repo
                .find_commit(id)
                .with_context(|| format!("could not read commit {id}"))?;
            let cp = self.checkpoint_of(&commit)?;
            if cp.is_some() {
                without = 0;
            } else {
                without += 1;
            }
            if !visit(&commit, cp) || without >= self.depth || self.is_shallow(id) {
                break;
            }
            next = commit.parent_ids().next().map(|p| p.detach());
        }
        Ok(())
    }
}

/// The commits `.git/shallow` lists, sorted; empty when the repository is
/// not shallow.
pub fn shallow_boundary(repo: &gix::Repository) -> anyhow::Result<Vec<ObjectId>> {
    let mut ids: Vec<ObjectId> = repo
        .shallow_commits()
        .context("could not read the shallow boundary ('.git/shallow')")?
        .map(|ids| ids.iter().copied().collect())
        .unwrap_or_default();
    ids.sort_unstable();
    Ok(ids)
}

/// `summary` and `created_at` come from the commit when the state lacks
/// them (always so for trailers).
fn fill_from_commit(state: &mut State, message: &str, time: gix::date::Time) {
    if state.summary.is_empty() {
        let subject = message.lines().next().unwrap_or_default();
        state.summary = subject
            .split_once(": ")
            .map_or(subject, |(_, rest)| rest)
            .trim()
            .to_string();
    }
    if state.created_at.is_empty() {
        state.created_at = rfc3339(time);
    }
}
