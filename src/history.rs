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
    /// Other sessions at work on the branch, as [`History::newest`] finds
    /// them (empty from a plain walk).
    pub sessions: Vec<Session>,
}

/// Another session's newest checkpoint on the branch: one that wrote
/// without seeing this one's state (its checkpoints were rebased under
/// this one's), whose state is merged into the newest's, or one whose
/// state the newest already carries, at work recently.
#[derive(Clone, Debug)]
pub struct Session {
    pub checkpoint: ObjectId,
    pub time: gix::date::Time,
    pub agent: Option<String>,
    pub agent_session: Option<String>,
    pub summary: String,
    pub reason: String,
    /// Its state was merged in: the newest checkpoint's line never saw it.
    pub merged: bool,
}

impl Session {
    fn of(cp: &Checkpoint, merged: bool) -> Session {
        Session {
            checkpoint: cp.id,
            time: cp.time,
            agent: cp.state.agent.clone(),
            agent_session: cp.state.agent_session.clone(),
            summary: cp.state.summary.clone(),
            reason: cp.state.reason.clone(),
            merged,
        }
    }
}

/// How many checkpoints before the newest are looked at for other
/// sessions still at work beside it (whose state it carries already).
const RECENT: usize = 10;

/// Reasons after which a session is no longer at work.
fn ended(reason: &str) -> bool {
    matches!(reason, "session-end" | "pre-cancel" | "finish" | "pause")
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
                sessions: Vec::new(),
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

    /// The commit `spec` names: `#N`, the N-th checkpoint back from `tip`
    /// on first-parent history as `git session log` lists them (`#1` the
    /// newest), or any revision `git rev-parse` takes.
    pub fn resolve(&mut self, spec: &str, tip: Option<ObjectId>) -> anyhow::Result<ObjectId> {
        let Some(n) = spec.strip_prefix('#') else {
            return Ok(crate::repo::resolve_commit(self.repo, spec)?);
        };
        let n: usize = n
            .parse()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| crate::error::Error::UnknownRev(spec.to_string()))?;
        let Some(tip) = tip else {
            return Err(crate::error::Error::NoCheckpoint("HEAD".into()).into());
        };
        let mut seen = 0;
        let mut found = None;
        self.walk(tip, |cp| {
            seen += 1;
            if seen == n {
                found = Some(cp.id);
            }
            seen < n
        })?;
        found.ok_or_else(|| {
            crate::error::Error::NoSuchCheckpoint {
                spec: spec.to_string(),
                count: seen,
            }
            .into()
        })
    }

    /// The newest checkpoint at or before `tip` on first-parent history,
    /// with the states of sessions that worked beside it merged in (see
    /// [`History::with_sessions`]).
    pub fn newest(&mut self, tip: ObjectId) -> anyhow::Result<Option<Checkpoint>> {
        let mut found = None;
        self.walk(tip, |cp| {
            found = Some(cp);
            false
        })?;
        found.map(|cp| self.with_sessions(cp)).transpose()
    }

    /// `newest` with the other sessions on its branch: their states merged
    /// into its own where its line of checkpoints never saw them, and
    /// listed in [`Checkpoint::sessions`].
    ///
    /// Each checkpoint's `sequence` is its parent state's plus one, so on a
    /// line of checkpoints that inherited each other the numbers fall by
    /// one per checkpoint walking back. When two sessions wrote without
    /// seeing each other (two clones, one rebased over the other), the walk
    /// meets the other's checkpoints where this line expects an older
    /// number of its own: that line's newest checkpoint is merged in
    /// ([`State::merge_from`]), with the checkpoint where all lines meet
    /// again as the common base. Checkpoints once merged are recorded in
    /// [`State::merged`] by the next checkpoint, and not merged again.
    ///
    /// Only a rewritten line can hide such checkpoints: when the checkpoint
    /// before `newest` is the one it inherited ([`State::previous`]), the
    /// walk reads just the [`RECENT`] checkpoints before it, for the
    /// sessions list. Otherwise it reads commit messages only (the
    /// `Session-Sequence` and `Session-Branch` trailers) back to the
    /// session's start or base, a checkpoint of another branch, or where
    /// the lines met; the states it merges are then read in full.
    pub fn with_sessions(&mut self, mut newest: Checkpoint) -> anyhow::Result<Checkpoint> {
        let sequence = newest.state.sequence;
        // A start (or a state without a sequence): nothing before it is
        // this session's. On the shallow boundary: nothing before it here.
        if sequence <= 1 || self.is_shallow(newest.id) {
            return Ok(newest);
        }
        let Some(parent) = self
            .repo
            .find_commit(newest.id)?
            .parent_ids()
            .next()
            .map(|id| id.detach())
        else {
            return Ok(newest);
        };
        let branch = newest.state.branch.clone();
        let stop = newest
            .state
            .base
            .as_deref()
            .and_then(|hex| ObjectId::from_hex(hex.as_bytes()).ok());
        // The sequence each open line's next checkpoint has if that line
        // inherited it.
        let mut lines = vec![sequence - 1];
        let mut unseen: Vec<(ObjectId, String)> = Vec::new();
        let mut base = None;
        let mut recent: Vec<(ObjectId, Lineage)> = Vec::new();
        let previous = newest
            .state
            .previous
            .as_deref()
            .and_then(|hex| ObjectId::from_hex(hex.as_bytes()).ok());
        // Whether the line is as written: the checkpoint before `newest` is
        // the one it inherited. Only a rewritten line (a rebase, an amend)
        // can hide another session's checkpoints; a state from before
        // `previous` was recorded is taken as written.
        let mut intact = None;
        self.walk_lineage(parent, stop, |id, lineage| {
            let number = lineage.sequence;
            if lineage.branch != branch || number == 0 {
                return false;
            }
            if *intact.get_or_insert(previous.is_none_or(|p| p == id)) {
                recent.push((id, lineage));
                return recent.len() < RECENT && number > 1;
            }
            let inherited = lines.iter().filter(|l| **l == number).count();
            if !unseen.is_empty() && inherited == lines.len() {
                base = Some(id);
                return false;
            }
            // A line merged once (and recorded so) is seen from then on.
            if inherited == 0 && !newest.state.merged.contains(&lineage.key) {
                unseen.push((id, lineage.key.clone()));
            }
            lines.retain(|l| *l != number);
            lines.push(number - 1);
            lines.retain(|l| *l > 0);
            if recent.len() < RECENT {
                recent.push((id, lineage));
            }
            !lines.is_empty()
        })?;
        let base = match base {
            Some(id) => self.checkpoint_at(id)?.map(|cp| cp.state),
            None => None,
        };
        let mut sessions = Vec::new();
        for (id, key) in unseen {
            if let Some(other) = self.checkpoint_at(id)? {
                newest.state.merge_from(&other.state, base.as_ref());
                newest.state.merged.push(key);
                sessions.push(Session::of(&other, true));
            }
        }
        // Newest first: a session's first checkpoint met is its newest.
        let mut known: Vec<String> = newest.state.agent_session.iter().cloned().collect();
        known.extend(sessions.iter().filter_map(|s| s.agent_session.clone()));
        for (id, lineage) in recent {
            let Some(session) = lineage.agent_session else {
                continue;
            };
            if known.contains(&session) {
                continue;
            }
            known.push(session);
            if ended(&lineage.reason) {
                continue;
            }
            if let Some(cp) = self.checkpoint_at(id)? {
                sessions.push(Session::of(&cp, false));
            }
        }
        newest.sessions = sessions;
        Ok(newest)
    }

    /// A cheap first-parent walk for [`History::with_sessions`]: each
    /// checkpoint's place in its line, read from the commit's trailers
    /// alone (no note, no TOML), until `visit` returns false, the walk
    /// reaches `stop` or the shallow boundary, or it has passed
    /// `session.searchDepth` commits in a row without a checkpoint.
    fn walk_lineage(
        &mut self,
        tip: ObjectId,
        stop: Option<ObjectId>,
        mut visit: impl FnMut(ObjectId, Lineage) -> bool,
    ) -> anyhow::Result<()> {
        let mut next = Some(tip);
        let mut without = 0;
        while let Some(id) = next.filter(|id| Some(*id) != stop) {
            let commit = self
                .repo
                .find_commit(id)
                .with_context(|| format!("could not read commit {id}"))?;
            let author = commit.author().map(|a| a.time()).ok().and_then(Result::ok);
            match Lineage::of(commit.message_raw_sloppy(), author.unwrap_or_default()) {
                Some(lineage) => {
                    without = 0;
                    if !visit(id, lineage) {
                        break;
                    }
                }
                None => {
                    without += 1;
                    if without >= self.depth {
                        break;
                    }
                }
            }
            if self.is_shallow(id) {
                break;
            }
            next = commit.parent_ids().next().map(|p| p.detach());
        }
        Ok(())
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

/// Where a checkpoint stands in its line, from its trailers.
struct Lineage {
    sequence: u32,
    branch: String,
    agent_session: Option<String>,
    reason: String,
    /// `SEQUENCE AUTHOR-TIME`: what [`State::merged`] records of it, the
    /// same after a rebase (which keeps the author's time).
    key: String,
}

impl Lineage {
    /// `None` for a commit that is no checkpoint by its trailers.
    fn of(message: &gix::bstr::BStr, author: gix::date::Time) -> Option<Lineage> {
        if !message.contains_str("Session-Schema:") {
            return None;
        }
        let text = message.to_str_lossy();
        let mut lineage = Lineage {
            sequence: 0,
            branch: String::new(),
            agent_session: None,
            reason: String::new(),
            key: String::new(),
        };
        let mut is_checkpoint = false;
        for (key, value) in crate::state::parse_trailers(&text) {
            match key.to_ascii_lowercase().as_str() {
                "session-schema" => is_checkpoint = true,
                "session-sequence" => lineage.sequence = value.trim().parse().unwrap_or(0),
                "session-branch" => lineage.branch = crate::state::unescape(&value),
                "session-agent-session" => {
                    lineage.agent_session = Some(crate::state::unescape(&value))
                }
                "session-reason" => lineage.reason = crate::state::unescape(&value),
                _ => {}
            }
        }
        lineage.key = format!("{} {}", lineage.sequence, rfc3339(author));
        is_checkpoint.then_some(lineage)
    }
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
