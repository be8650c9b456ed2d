//! The checkpoint: snapshot the work tree, commit it with the session state,
//! attach the note, bring the index in line.
//!
//! Write order, so that a kill at any moment loses nothing: take the locks,
//! write objects, move the branch with compare-and-swap (with a reflog
//! entry), move the notes ref with compare-and-swap, then write the index.
//! The work tree is never written.

use std::sync::atomic::AtomicBool;

use anyhow::Context as _;
use gix::ObjectId;
use serde::Serialize;

use crate::commit::{self, NewCommit};
use crate::config::Config;
use crate::error::Error;
use crate::history::{Checkpoint, History};
use crate::sessions::Lifecycle;
use crate::snapshot::{self, ChangeKind, Skip};
use crate::state::{self, Edits, State, SCHEMA};
use crate::time::{rfc3339, short};

/// What the caller asks of one checkpoint.
#[derive(Clone, Debug, Default)]
pub struct Request {
    /// `-m`: the one-line summary; generated from the change when absent.
    pub summary: Option<String>,
    /// Edits to the inherited state.
    pub edits: Edits,
    /// Why: `manual`, `start`, `stop`, …
    pub reason: String,
    /// Replaces the inherited `base` (used by `start`).
    pub base: Option<Option<ObjectId>>,
    /// Agent details to record, when known.
    pub agent: Option<String>,
    pub agent_session: Option<String>,
    pub model: Option<String>,
    /// Start from an empty state instead of the inherited one (`start`).
    pub fresh: bool,
    /// An agent's todo list, merged before `edits` (see
    /// [`State::merge_todos`]).
    pub todos: Vec<(String, crate::state::TodoStatus)>,
    /// Items the agent's list no longer has: removed from doing and todo
    /// before `todos` is merged.
    pub dropped_todos: Vec<String>,
    /// The task, used only when the state has none.
    pub task_if_empty: Option<String>,
    /// Where the `commit` template may be overridden.
    pub templates: crate::render::Dirs,
    /// Paths `git add` refuses: refused (a person's checkpoint, the
    /// default) or left out and reported (hooks).
    pub refusals: snapshot::Refusals,
    /// The agent's own account of the turn (its last message), recorded as
    /// the state's `report` after [`state::report_text`].
    pub report: Option<String>,
    /// The branch whose session this checkpoint continues (`continue`).
    pub continues: Option<String>,
    /// Start from this state instead of the newest checkpoint's
    /// (`continue`, whose state is another branch's).
    pub from_state: Option<State>,
}

/// What a checkpoint did.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// The checkpoint commit: the new one, or the existing one when nothing
    /// changed.
    pub commit: ObjectId,
    /// Short branch name, `None` on a detached HEAD.
    pub branch: Option<String>,
    /// False when nothing changed and nothing was written.
    pub created: bool,
    /// HEAD before the checkpoint; when nothing was written and it is not
    /// `commit`, commits came after the newest checkpoint.
    pub head: Option<ObjectId>,
    /// Paths that differ from the parent commit.
    pub changes: Vec<snapshot::Change>,
    /// Paths left out.
    pub skipped: Vec<Skip>,
    /// What the previous checkpoint recorded as left out: a path already
    /// there with the same reason was warned about then.
    pub previous_skipped: Vec<crate::state::Skipped>,
    /// The state recorded (or the unchanged inherited one).
    pub state: State,
    /// Problems that did not stop the checkpoint.
    pub warnings: Vec<String>,
    /// Nothing else changed, but the agent's report did: it went into the
    /// newest checkpoint's note (not its trailers) without a new commit.
    pub reported: bool,
}

impl Outcome {
    /// Paths left out this time that the previous checkpoint did not leave
    /// out, or left out for another reason: worth a warning.
    pub fn new_skips(&self) -> impl Iterator<Item = &Skip> {
        self.skipped.iter().filter(|skip| {
            !self
                .previous_skipped
                .iter()
                .any(|old| old.path == skip.path && old.reason == skip.reason)
        })
    }

    /// The warnings a person should see: the problems, then one line per
    /// newly skipped path; and how many paths are left out as before (a
    /// count line at most, not a warning each time).
    pub fn skip_report(&self) -> (Vec<String>, usize) {
        let new: Vec<String> = self
            .new_skips()
            .map(|skip| format!("skipped {}: {}", skip.path, skip.detail))
            .collect();
        let known = self.skipped.len() - new.len();
        (new, known)
    }
}

/// The line for paths left out as before, at most once per checkpoint.
pub fn still_skipped_line(count: usize) -> Option<String> {
    (count > 0).then(|| {
        format!(
            "{count} path{s} still left out as before ('git session status' lists {them})",
            s = if count == 1 { "" } else { "s" },
            them = if count == 1 { "it" } else { "them" }
        )
    })
}

/// Take a checkpoint of the repository's work tree.
pub fn checkpoint(
    repo: &mut gix::Repository,
    config: &Config,
    request: &Request,
    interrupt: &AtomicBool,
) -> anyhow::Result<Outcome> {
    let warnings: Vec<String> = crate::repo::prepare_to_commit(repo)?.into_iter().collect();
    let repo = &*repo;
    let mut locked = commit::lock_head(repo)?;
    let mut prepared = prepare(repo, config, request, &locked, interrupt)?;
    prepared.warnings.splice(0..0, warnings);
    let unchanged = prepared.unchanged();
    let Written {
        mut outcome,
        index,
        cache_tree,
        index_changed,
    } = write(repo, config, request, &mut locked.locks, prepared)?;
    if unchanged {
        if index_changed {
            write_index(repo, locked.locks, index, &cache_tree)?;
        }
    } else {
        if let Err(err) = write_index(repo, locked.locks, index, &cache_tree) {
            outcome.warnings.push(format!(
                "the checkpoint {} stands, but the index could not be updated ({err:#}): run 'git reset -q' to resync it",
                short(outcome.commit)
            ));
        }
        // After the locks are gone, so git's gc finds nothing of ours held.
        crate::maintenance::start_gc_if_due(repo);
    }
    Ok(outcome)
}

/// A checkpoint worked out under the locks but not written yet: the
/// snapshot and the state it would record. `restore` looks at it before
/// deciding to write it.
pub struct Prepared<'repo> {
    history: History<'repo>,
    previous: Option<Checkpoint>,
    head: Option<ObjectId>,
    branch: Option<String>,
    /// The work tree as a tree, and the index to match it.
    pub snap: snapshot::Snapshot,
    /// The state the checkpoint would record (its bookkeeping is filled in
    /// when it is written).
    pub state: State,
    /// Problems that did not stop it.
    pub warnings: Vec<String>,
    /// The checkpoint pauses a session the newest checkpoint left running:
    /// news even when nothing else changed, as `list` reads a session's
    /// status from its newest checkpoint, from trailers alone.
    pausing: bool,
    /// HEAD's tree (or the empty tree).
    base_tree: ObjectId,
}

impl Prepared<'_> {
    /// True when the work tree is HEAD's, the state is the newest
    /// checkpoint's, and it does not pause the session: writing it would
    /// make no commit.
    pub fn unchanged(&self) -> bool {
        // Also when commits (the user's, the agent's own) came after the
        // newest checkpoint: the walk finds its state behind them, and
        // resume lists them as commits after it; a commit saying only
        // "update session state" after each of them would double the
        // history.
        self.previous.as_ref().is_some_and(|cp| {
            self.snap.tree == self.base_tree && cp.state.same_content(&self.state) && !self.pausing
        })
    }

    /// The newest checkpoint at or before HEAD, unless `fresh` was asked.
    pub fn previous(&self) -> Option<&Checkpoint> {
        self.previous.as_ref()
    }
}

/// What [`write`] did, and the index to write once the caller is done.
pub struct Written {
    pub outcome: Outcome,
    /// The index matching the checkpoint's tree, with fresh stat data.
    pub index: gix::index::File,
    pub cache_tree: gix::index::extension::Tree,
    /// Whether `index` differs from the index on disk.
    pub index_changed: bool,
}

/// Snapshot the work tree and work out the state, under `locked`. Nothing
/// is written but objects.
pub fn prepare<'repo>(
    repo: &'repo gix::Repository,
    config: &Config,
    request: &Request,
    locked: &commit::LockedHead,
    interrupt: &AtomicBool,
) -> anyhow::Result<Prepared<'repo>> {
    let (head_id, base_tree) = (locked.head, locked.tree);
    let mut warnings = Vec::new();

    // Everything below is read while both locks are held.
    let head_name = repo.head_name()?;
    let branch = head_name.as_ref().map(|name| name.shorten().to_string());
    let index = crate::index_file::read(repo)?;

    let mut history = History::new(repo, config)?;
    let previous = match head_id {
        Some(id) if !request.fresh => history.newest(id)?,
        _ => None,
    };
    warnings.append(&mut history.warnings);

    let snap = snapshot::snapshot(
        repo,
        index,
        base_tree,
        &snapshot::Options {
            refusals: request.refusals,
            ..snapshot::Options::from_config(config)
        },
        interrupt,
    )?;
    warnings.extend(snap.warnings.iter().cloned());

    let mut state = match (&request.from_state, &previous) {
        (Some(state), _) => state.clone(),
        (None, Some(cp)) => cp.state.clone(),
        (None, None) => State::default(),
    };
    state.schema = SCHEMA;
    // Only the restore checkpoint itself says what it restored.
    state.restored_from = None;
    let inherited = state.clone();
    for dropped in &request.dropped_todos {
        state.todo.retain(|item| item != dropped.trim());
        state.doing.retain(|item| item != dropped.trim());
    }
    state.merge_todos(request.todos.iter().map(|(c, s)| (c.as_str(), *s)));
    // The agent's list moved items: they keep their numbers.
    state.renumber_from(&inherited);
    if state.task.is_empty() {
        if let Some(task) = &request.task_if_empty {
            state.task = task.trim().to_string();
        }
    }
    let edited = state.apply(&request.edits).map_err(|e| Error::BadItem {
        hint: e.hint(),
        reason: e.to_string(),
    })?;
    warnings.extend(edited);
    state.branch = branch.clone().unwrap_or_default();
    match request.base {
        Some(base) => state.base = base.map(|id| id.to_string()),
        None if state.base.is_none() => {
            state.base = default_base(repo, head_id).map(|id| id.to_string())
        }
        None => {}
    }
    if let Some(report) = request.report.as_deref().map(state::report_text) {
        if !report.is_empty() {
            state.report = report;
        }
    }
    for (field, value) in [
        (&mut state.agent, &request.agent),
        (&mut state.agent_session, &request.agent_session),
        (&mut state.model, &request.model),
        (&mut state.continues, &request.continues),
    ] {
        if value.is_some() {
            field.clone_from(value);
        }
    }
    let pausing = previous.as_ref().is_some_and(|cp| {
        Lifecycle::pauses(&request.reason) && !Lifecycle::pauses(&cp.state.reason)
    });
    Ok(Prepared {
        history,
        previous,
        head: head_id,
        branch,
        snap,
        state,
        warnings,
        pausing,
        base_tree,
    })
}

/// Commit `prepared` (unless it is [unchanged](Prepared::unchanged)) and
/// attach its note, with the locks held; the index is left to the caller.
pub fn write(
    repo: &gix::Repository,
    config: &Config,
    request: &Request,
    locks: &mut crate::lock::Locks,
    prepared: Prepared<'_>,
) -> anyhow::Result<Written> {
    let unchanged = prepared.unchanged();
    let Prepared {
        mut history,
        previous,
        head: head_id,
        branch,
        snap,
        mut state,
        mut warnings,
        ..
    } = prepared;
    if unchanged {
        let mut cp = previous.expect("unchanged means there is a previous checkpoint");
        // The agent's words of a turn that changed nothing else: kept in
        // the note of the checkpoint they follow, not worth a commit.
        let reported = state.report != cp.state.report;
        if reported {
            cp.state.report = state.report;
            cp.state.created_at = rfc3339(crate::repo::signatures(repo)?.1.time);
            match cp.state.to_toml() {
                Ok(note) => write_note(
                    repo,
                    config,
                    locks,
                    &mut history,
                    cp.id,
                    &note,
                    &mut warnings,
                ),
                Err(err) => warnings.push(format!(
                    "the agent's report could not be added to the note of {}: {err}",
                    short(cp.id)
                )),
            }
        }
        return Ok(Written {
            outcome: Outcome {
                commit: cp.id,
                branch,
                created: false,
                head: head_id,
                changes: Vec::new(),
                skipped: snap.skipped,
                previous_skipped: cp.state.skipped.clone(),
                state: cp.state,
                warnings,
                reported,
            },
            index: snap.index,
            cache_tree: snap.cache_tree,
            index_changed: snap.index_changed,
        });
    }

    state.reason = if request.reason.is_empty() {
        "manual".into()
    } else {
        request.reason.clone()
    };
    state.summary = request
        .summary
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(first_line)
        .unwrap_or_else(|| {
            if snap.changes.is_empty() && Lifecycle::pauses(&state.reason) {
                "pause the session".into()
            } else {
                generated_summary(&snap.changes, previous.is_none())
            }
        });
    state.skipped = snap.skipped.iter().map(Skip::to_state).collect();
    state.sequence = previous.as_ref().map_or(0, |cp| cp.state.sequence) + 1;
    state.previous = previous.as_ref().map(|cp| cp.id.to_string());

    let mut commit = NewCommit::new(repo, snap.tree, head_id.into_iter().collect())?;
    state.created_at = rfc3339(commit.committer.time);
    commit.message = commit_message(
        config,
        &request.templates,
        &state,
        &snap.changes,
        &mut warnings,
    )?;
    // Before anything is written: a state that cannot be a note fails the
    // checkpoint with the repository untouched.
    let note = state
        .to_toml()
        .context("could not write the session state as TOML for its note")?;
    let log_message = format!("git-session: {}", state.summary);
    let commit_id = commit::commit_and_move(
        repo,
        locks,
        &commit,
        "the checkpoint commit",
        |id| {
            Ok(vec![commit::update(
                "HEAD",
                commit::expect_at(head_id),
                id,
                log_message,
            )?])
        },
        |err| {
            commit::head_moved_or(
                repo,
                head_id,
                err,
                "could not move HEAD to the checkpoint".into(),
            )
        },
    )?;
    warnings.extend(crate::repo::once_notices(repo));
    if branch.is_none() {
        warnings.push(format!(
            "HEAD is detached: checkpoint {} is on no branch, and switching away leaves it behind; keep it with 'git switch -c NAME'",
            short(commit_id)
        ));
    }
    write_note(
        repo,
        config,
        locks,
        &mut history,
        commit_id,
        &note,
        &mut warnings,
    );

    Ok(Written {
        outcome: Outcome {
            commit: commit_id,
            branch,
            created: true,
            head: head_id,
            changes: snap.changes,
            skipped: snap.skipped,
            previous_skipped: previous.map(|cp| cp.state.skipped).unwrap_or_default(),
            state,
            warnings,
            reported: false,
        },
        index: snap.index,
        cache_tree: snap.cache_tree,
        index_changed: true,
    })
}

/// Attach `note` (a state as TOML) as the note of `commit_id`; a failure
/// is a warning, since the commit's trailers carry the state too.
pub fn write_note(
    repo: &gix::Repository,
    config: &Config,
    locks: &mut crate::lock::Locks,
    history: &mut History<'_>,
    commit_id: ObjectId,
    note: &str,
    warnings: &mut Vec<String>,
) {
    let noted = locks
        .announce_refs(repo, &[&config.notes_ref])
        .and_then(|_announced| {
            history.notes().write(
                commit_id,
                note,
                &format!("git-session: note for {}", short(commit_id)),
            )
        });
    if let Err(err) = noted {
        warnings.push(format!(
            "the checkpoint {} stands, but its note could not be written ({err:#}); its trailers carry the state",
            short(commit_id)
        ));
    }
}

/// Write `index` through the held `index.lock` and commit it; this also
/// releases the locks.
pub fn write_index(
    repo: &gix::Repository,
    mut locks: crate::lock::Locks,
    mut index: gix::index::File,
    cache_tree: &gix::index::extension::Tree,
) -> anyhow::Result<()> {
    // Right before writing, so nothing can change a file unseen between
    // this look and the index's own time stamp.
    if let Some(taken) = locks.taken {
        snapshot::smudge_racily_clean(repo, &mut index, taken)?;
    }
    crate::index_file::write(&index, cache_tree, &mut locks.index)?;
    let crate::lock::Locks { index: lock, .. } = locks;
    lock.commit()
        .map_err(|e| anyhow::anyhow!("could not replace the index: {}", e.error))?;
    Ok(())
}

/// Where the session's work began when nothing says otherwise: the
/// merge-base with the remote's default branch, else HEAD itself.
fn default_base(repo: &gix::Repository, head: Option<ObjectId>) -> Option<ObjectId> {
    let head = head?;
    let upstream = [
        "refs/remotes/origin/HEAD",
        "refs/remotes/origin/main",
        "refs/remotes/origin/master",
    ]
    .iter()
    .find_map(|name| {
        repo.try_find_reference(*name)
            .ok()
            .flatten()
            .and_then(|mut r| r.peel_to_id().ok())
            .map(|id| id.detach())
    });
    match upstream {
        Some(upstream) if upstream != head => repo
            .merge_base(head, upstream)
            .ok()
            .flatten()
            .map(|id| id.detach())
            .or(Some(head)),
        _ => Some(head),
    }
}

fn first_line(text: &str) -> String {
    text.lines().next().unwrap_or_default().trim().to_string()
}

/// A summary from the change itself: `update 3 files in src/`.
fn generated_summary(changes: &[snapshot::Change], first: bool) -> String {
    if changes.is_empty() {
        return if first {
            "start of session".into()
        } else {
            "update session state".into()
        };
    }
    let verb = if changes.iter().all(|c| c.kind == ChangeKind::Added) {
        "add"
    } else if changes.iter().all(|c| c.kind == ChangeKind::Deleted) {
        "delete"
    } else {
        "update"
    };
    if let [one] = changes {
        return format!("{verb} {}", one.path);
    }
    let dirs: Vec<&str> = changes
        .iter()
        .map(|c| c.path.rsplit_once('/').map_or("", |(dir, _)| dir))
        .collect();
    let common = dirs.iter().skip(1).fold(dirs[0].to_string(), |acc, dir| {
        common_dir(&acc, dir).to_string()
    });
    let files = format!("{verb} {} files", changes.len());
    if common.is_empty() {
        files
    } else {
        format!("{files} in {common}/")
    }
}

/// The longest common directory prefix of two `/`-separated directories.
fn common_dir<'a>(a: &'a str, b: &str) -> &'a str {
    let mut end = 0;
    let (mut ai, mut bi) = (a.split('/'), b.split('/'));
    let mut first = true;
    loop {
        match (ai.next(), bi.next()) {
            (Some(x), Some(y)) if x == y => {
                end += x.len() + usize::from(!first);
                first = false;
            }
            _ => break,
        }
    }
    &a[..end]
}

#[derive(Serialize)]
struct FileLine<'a> {
    status: &'static str,
    path: &'a str,
}

#[derive(Serialize)]
struct CommitContext<'a> {
    task: &'a str,
    files: Vec<FileLine<'a>>,
    open: Vec<&'a String>,
    state: &'a State,
}

/// Subject, rendered body, then the trailer paragraph (written by code so
/// that a template can never break the machine-readable part).
pub(crate) fn commit_message(
    config: &Config,
    templates: &crate::render::Dirs,
    state: &State,
    changes: &[snapshot::Change],
    warnings: &mut Vec<String>,
) -> anyhow::Result<String> {
    let context = CommitContext {
        task: &state.task,
        files: changes
            .iter()
            .map(|c| FileLine {
                status: match c.kind {
                    ChangeKind::Added => "A",
                    ChangeKind::Modified => "M",
                    ChangeKind::Deleted => "D",
                },
                path: &c.path,
            })
            .collect(),
        open: state.open_items().collect(),
        state,
    };
    // A refused or broken override must not stop checkpoints (hooks run
    // them after every turn): the built-in stands in, with a warning.
    let body = crate::render::render("commit", templates, &context, warnings)?;
    let mut message = format!("{}: {}\n", config.subject_prefix, state.summary);
    let body = body.trim();
    if !body.is_empty() {
        message.push('\n');
        for line in body.lines() {
            // git's trailer parser takes a line starting with `---` and a
            // blank for the start of a patch and ignores all below it, our
            // trailers included; user text in the body must not do that.
            if line.starts_with("---") {
                message.push(' ');
            }
            message.push_str(line);
            message.push('\n');
        }
    }
    message.push('\n');
    message.push_str(&state::format_trailers(&state.to_trailers()));
    Ok(message)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(path: &str, kind: ChangeKind) -> snapshot::Change {
        snapshot::Change {
            path: path.into(),
            kind,
        }
    }

    #[test]
    fn summaries_name_the_change() {
        use ChangeKind::*;
        assert_eq!(generated_summary(&[], true), "start of session");
        assert_eq!(
            generated_summary(&[change("src/a.rs", Modified)], false),
            "update src/a.rs"
        );
        assert_eq!(
            generated_summary(
                &[change("src/x/a.rs", Added), change("src/x/b/c.rs", Added)],
                false
            ),
            "add 2 files in src/x/"
        );
        assert_eq!(
            generated_summary(&[change("a", Deleted), change("src/b", Modified)], false),
            "update 2 files"
        );
    }

    #[test]
    fn common_dir_stops_at_components() {
        assert_eq!(common_dir("src/ab", "src/abc"), "src");
        assert_eq!(common_dir("src/a/b", "src/a"), "src/a");
        assert_eq!(common_dir("", "src"), "");
    }
}
